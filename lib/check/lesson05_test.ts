import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { attention } from "../attention/scaled_dot_product.ts";
import { expectDiagnosis, expectPass, failureOf, runHidden } from "./_testing.ts";
import { lesson05Exercises as ex } from "./lesson05.ts";
import { hidden05 } from "../../tools/grading/hidden.ts";

// Reference answers live only in tests (lib/ tests are not part of the student bundle).

/** X [T, d] → [H, T, d_h] by index arithmetic; `bug` plants one known mistake. */
function split(X: number[][], H: number, bug = "none"): number[][][] {
  const [T, d] = [X.length, X[0].length], dh = d / H;
  if (d % H !== 0 && bug !== "noThrow") throw new RangeError("heads must divide d");
  const flat = X.flat();
  if (bug === "reshapeOnly") {
    return Array.from(
      { length: H },
      (_, h) => Array.from({ length: T }, (_, t) => flat.slice((h * T + t) * dh, (h * T + t + 1) * dh)),
    );
  }
  if (bug === "interleaved") {
    return Array.from({ length: H }, (_, h) => X.map((row) => row.filter((_, f) => f % H === h)));
  }
  if (bug === "noTranspose") {
    return X.map((row) => Array.from({ length: H }, (_, h) => row.slice(h * dh, (h + 1) * dh)));
  }
  if (bug === "tokens") {
    return Array.from({ length: H }, (_, h) => X.slice(h * Math.ceil(T / H), (h + 1) * Math.ceil(T / H)));
  }
  return Array.from({ length: H }, (_, h) => X.map((row) => row.slice(h * dh, (h + 1) * dh)));
}

/** The three counts in bigint; `bug` plants a known mistake. */
function counts(T: number, d: number, H: number, bug = "none") {
  const [t, dd, h] = [BigInt(T), BigInt(d), BigInt(H)];
  const dh = dd / h;
  const params = bug === "paramsPerHead" ? 3n * h * dd * dd + dd * dd : 4n * dd * dd;
  const perHead = bug === "scoresAtD" ? 4n * t * t * dd : 4n * t * t * dh;
  const heads = bug === "oneHead" ? 1n : h;
  let flops = 8n * t * dd * dd + heads * perHead;
  if (bug === "flopsTimesHeads") flops *= h;
  if (bug === "macs") flops /= 2n;
  if (bug === "noWo") flops -= 2n * t * dd * dd;
  const weightEntries = bug === "oneMatrix" ? t * t : bug === "causal" ? h * t * (t + 1n) / 2n : h * t * t;
  return [params, flops, weightEntries];
}

/** The multi-head layer with tf; `bug` plants a known mistake. */
function layer(bug = "none") {
  return (X: tf.Tensor2D, W: tf.Tensor2D[], H: number) =>
    tf.tidy(() => {
      const [Wq, Wk, Wv, Wo] = W;
      const [T, d] = X.shape;
      const heads = bug === "oneHead" ? 1 : H;
      const dh = d / heads;
      const split = (m: tf.Tensor2D) => {
        const p = tf.matMul(X, m);
        return bug === "reshapeOnly" || bug === "splitReshape"
          ? tf.reshape(p, [heads, T, dh])
          : tf.transpose(tf.reshape(p, [T, heads, dh]), [1, 0, 2]);
      };
      const [q, k, v] = [split(Wq), split(Wk), split(Wv)];
      const scale = bug === "sqrtD" ? 1 / Math.sqrt(d) : bug === "noScale" ? 1 : 1 / Math.sqrt(dh);
      let out: tf.Tensor;
      if (bug === "columns") {
        const s = tf.mul(tf.matMul(q, tf.transpose(k, [0, 2, 1])), scale); // [H, T, T]
        out = tf.matMul(tf.transpose(tf.softmax(tf.transpose(s, [0, 2, 1])), [0, 2, 1]), v);
      } else {
        out = attention(q, k, v, { scale }).output; // [H, T, d_h]
      }
      const merged = bug === "reshapeOnly" || bug === "mergeReshape"
        ? tf.reshape(out, [T, d])
        : tf.reshape(tf.transpose(out, [1, 0, 2]), [T, d]);
      return bug === "noWo" ? merged : tf.matMul(merged, Wo);
    });
}

/** Float64 loops, no tensors: an alternative reference for multiHeadLayer. */
function layerLoops(X: tf.Tensor2D, W: tf.Tensor2D[], H: number): number[][] {
  const x = X.arraySync(), [Wq, Wk, Wv, Wo] = W.map((w) => w.arraySync());
  const mm = (a: number[][], b: number[][]) =>
    a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
  const [Q, K, V] = [mm(x, Wq), mm(x, Wk), mm(x, Wv)];
  const d = x[0].length, dh = d / H;
  const concat = x.map(() => new Array<number>(d).fill(0));
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < x.length; i++) {
      const s = K.map((kj) =>
        kj.slice(h * dh, (h + 1) * dh).reduce((acc, kv, c) => acc + kv * Q[i][h * dh + c], 0) / Math.sqrt(dh)
      );
      const m = Math.max(...s), e = s.map((z) => Math.exp(z - m)), sum = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < dh; c++) {
        concat[i][h * dh + c] = e.reduce((acc, w, j) => acc + (w / sum) * V[j][h * dh + c], 0);
      }
    }
  }
  return mm(concat, Wo);
}

const kv = (L: number, T: number, H: number, G: number, dh: number, b: number) => {
  if (H % G !== 0) throw new RangeError("G must divide H");
  return 2n * BigInt(L) * BigInt(T) * BigInt(G) * BigInt(dh) * BigInt(b);
};

const REFERENCE = {
  splitHeads: (X: number[][], H: number) => split(X, H),
  layerCounts: (T: number, d: number, H: number) => counts(T, d, H),
  multiHeadLayer: layer(),
  kvCacheBytes: kv,
};

Deno.test("lesson 05: the references pass every visible and hidden case, and alternatives pass too", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend({ backend, print: false });
    for (const [name, fn] of Object.entries(REFERENCE) as [keyof typeof ex, unknown][]) {
      await expectPass(ex, name, fn);
      const hidden = await runHidden(ex[name], hidden05[name], fn);
      assertEquals(hidden.status, "passed", `${name} hidden: ${JSON.stringify(hidden.failure)}`);
    }
    await expectPass(ex, "splitHeads", (X: number[][], H: number) => {
      if (X[0].length % H !== 0) throw new RangeError("heads must divide d");
      return tf.tensor2d(X).reshape([X.length, H, X[0].length / H]).transpose([1, 0, 2]);
    }, "chained tensor methods");
    await expectPass(ex, "multiHeadLayer", layerLoops, "Float64 loops");
    await expectPass(ex, "layerCounts", (T: number, d: number, H: number) => {
      return counts(T, d, H).map(Number);
    }, "plain numbers");
    await expectPass(ex, "kvCacheBytes", (L: number, T: number, H: number, G: number, dh: number, b: number) => {
      if (H % G !== 0) throw new RangeError("G must divide H");
      return 2 * L * T * G * dh * b;
    }, "plain numbers");
  }
});

Deno.test("splitHeads names a reshape without the transpose, round-robin features, [T, H, d_h] and split tokens", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [string, string][] = [
    ["reshapeOnly", "you reshaped [T, d] straight to [H, T, d_h]"],
    ["interleaved", "you dealt the features out round-robin"],
    ["noTranspose", "you stopped at [T, H, d_h]"],
    ["tokens", "you split the tokens among the heads"],
  ];
  for (const [bug, cause] of planted) {
    const f = await expectDiagnosis(ex, "splitHeads", (X: number[][], H: number) => split(X, H, bug), cause, bug);
    assertEquals(f.case, "T=4, d=6, H=2", `${bug} is named on the first case`);
  }
  // The same mistake written with tensors: tf.reshape straight to [H, T, d_h].
  await expectDiagnosis(
    ex,
    "splitHeads",
    (X: number[][], H: number) => tf.reshape(tf.tensor2d(X), [H, X.length, X[0].length / H]),
    "you reshaped [T, d] straight to [H, T, d_h]",
    "tf.reshape only",
  );
  const lenient = await failureOf(ex, "splitHeads", (X: number[][], H: number) => split(X, H, "noThrow"));
  assertEquals(lenient.case, "input validation");
  assert(lenient.diagnosis?.startsWith("you returned heads of unequal"), lenient.diagnosis);
});

Deno.test("layerCounts names counts that grow with H, scores at full width, one head, multiply–adds and one matrix", async () => {
  const planted: [string, string][] = [
    ["paramsPerHead", "you gave every head its own d×d W_Q, W_K, W_V"],
    ["flopsTimesHeads", "you counted the whole layer once per head"],
    ["scoresAtD", "you counted each head's scores and weighted sums at width d"],
    ["oneHead", "you counted the scores and weighted sums of one head"],
    ["macs", "you counted a multiply–add as 1 FLOP"],
    ["noWo", "you left out the output map"],
    ["oneMatrix", "you counted one T×T matrix"],
    ["causal", "you counted only the lower triangle"],
  ];
  for (const [bug, cause] of planted) {
    const f = await expectDiagnosis(
      ex,
      "layerCounts",
      (T: number, d: number, H: number) => counts(T, d, H, bug),
      cause,
      bug,
    );
    assertEquals(f.case, "T=10, d=12, H=3", `${bug} is named on the first case`);
  }
  const wrongType = await failureOf(ex, "layerCounts", () => ({ params: 576, flops: 16320, weightEntries: 300 }));
  assert(wrongType.message.includes("expected an array of three counts"), wrongType.message);
});

Deno.test("multiHeadLayer names √d_model, no scale, no W_O, reshape-only heads, one wide head and a column softmax", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [string, string][] = [
    ["sqrtD", "you divided each head's scores by √d (the model width)"],
    ["noScale", "you did not scale the scores"],
    ["noWo", "you returned the concatenated heads"],
    ["reshapeOnly", "you split (and merged) the heads with a reshape alone"],
    ["splitReshape", "you split the heads with a reshape alone (the merge is right)"],
    ["mergeReshape", "you merged the heads with a reshape alone (the split is right)"],
    ["oneHead", "you ran one head over all d features"],
    ["columns", "you took the softmax down the columns"],
  ];
  for (const [bug, cause] of planted) {
    const f = await expectDiagnosis(ex, "multiHeadLayer", layer(bug), cause, bug);
    assertEquals(f.case, "T=3, d=4, H=2", `${bug} is named on the first case`);
  }
  const heads = await failureOf(
    ex,
    "multiHeadLayer",
    (X: tf.Tensor2D, W: tf.Tensor2D[], H: number) =>
      tf.tidy(() => tf.transpose(tf.reshape(tf.matMul(X, W[0]), [X.shape[0], H, X.shape[1] / H]), [1, 0, 2])),
  );
  assert(heads.diagnosis?.startsWith("you returned the heads [H, T, d_h]"), JSON.stringify(heads));
  const badReshape = await failureOf(
    ex,
    "multiHeadLayer",
    (X: tf.Tensor2D, _W: tf.Tensor2D[], H: number) => tf.reshape(X, [H, X.shape[0], X.shape[1]]),
  );
  assert(
    badReshape.diagnosis?.startsWith("you reshaped to a shape with a different number"),
    JSON.stringify(badReshape),
  );
});

Deno.test("kvCacheBytes names query heads, keys only, one layer, the group size and bits", async () => {
  const planted: [string, (L: number, T: number, H: number, G: number, dh: number, b: number) => bigint, string][] = [
    ["query heads", (L, T, H, _G, dh, b) => kv(L, T, H, H, dh, b), "you counted a key and a value per query head"],
    ["keys only", (L, T, H, G, dh, b) => kv(L, T, H, G, dh, b) / 2n, "you cached the keys only"],
    ["one layer", (_L, T, H, G, dh, b) => kv(1, T, H, G, dh, b), "you counted one layer"],
    ["group size", (L, T, H, G, dh, b) => kv(L, T, H, H / G, dh, b), "you multiplied by H/G"],
    ["bits", (L, T, H, G, dh, b) => 8n * kv(L, T, H, G, dh, b), "you counted bits"],
  ];
  for (const [what, fn, cause] of planted) {
    const f = await expectDiagnosis(ex, "kvCacheBytes", fn, cause, what);
    assertEquals(f.case, "96 layers, T=2048, H=96, G=8, d_h=128, 2 bytes per number", `${what} on the first case`);
  }
  const lenient = await failureOf(
    ex,
    "kvCacheBytes",
    (L: number, T: number, _H: number, G: number, dh: number, b: number) => 2 * L * T * G * dh * b,
  );
  assertEquals(lenient.case, "input validation");
  assert(lenient.diagnosis?.includes("G must divide H"), lenient.diagnosis);
});
