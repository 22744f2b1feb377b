import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { attention } from "../attention/scaled_dot_product.ts";
import { expectDiagnosis, expectPass, failureOf, runHidden } from "./_testing.ts";
import { lesson03Exercises as ex } from "./lesson03.ts";
import { hidden03 } from "../../tools/grading/hidden.ts";

// Reference answers live only in tests (lib/ tests are not part of the student bundle).

/** The additive causal mask [T, S], queries aligned to the last T keys; `keep` plants a wrong rule. */
const maskWith = (keep: (i: number, j: number, o: number) => boolean, drop = -Infinity) => (T: number, S: number) => {
  if (T > S) throw new RangeError(`Cannot build a causal mask: T (${T}) must not exceed S (${S})`);
  return tf.tensor2d(
    Array.from({ length: T }, (_, i) => Array.from({ length: S }, (_, j) => keep(i, j, S - T) ? 0 : drop)),
    [T, S],
  );
};
const mask = maskWith((i, j, o) => j <= i + o);

const maxContext = (budget: number, heads: number, bytes: number) => Math.floor(Math.sqrt(budget / (heads * bytes)));

/** One decode step; `bug` plants one mistake at a time. */
function decodeWith(bug = "none", divisor?: (d: number, n: number) => number) {
  return (x: tf.Tensor2D, [K, V]: tf.Tensor2D[], [Wq, Wk, Wv]: tf.Tensor2D[]) =>
    tf.tidy(() => {
      const d = x.shape[1], n = K.shape[0];
      const q = tf.matMul(x, Wq);
      const k = bug === "embedding" ? x : bug === "query" ? q : tf.matMul(x, Wk);
      const v = bug === "embedding" ? x : bug === "query" ? q : tf.matMul(x, Wv);
      const grow = (C: tf.Tensor2D, row: tf.Tensor): tf.Tensor2D =>
        (bug === "noGrow"
          ? C
          : bug === "featureAxis"
          ? tf.concat([C, row], 1)
          : bug === "prepend"
          ? tf.concat([row, C], 0)
          : bug === "oldChanged"
          ? tf.concat([tf.mul(C, 2), row], 0)
          : tf.concat([C, row], 0)) as tf.Tensor2D;
      const [K2, V2] = [grow(K, k), grow(V, v)];
      const [Ka, Va] = bug === "noSelf" ? [K, V] : [K2, V2];
      const scores = tf.div(
        tf.matMul(q, bug === "notTransposed" ? Ka : tf.transpose(Ka)),
        divisor ? divisor(d, n) : Math.sqrt(d),
      );
      const w = tf.softmax(scores);
      const y = bug === "weights"
        ? w
        : bug === "allOutputs"
        ? attention(tf.matMul(tf.concat([K, x], 0), Wq), K2, V2).output
        : tf.matMul(w, Va);
      return bug === "swapped" ? [y, V2, K2] : [y, K2, V2];
    });
}

/** FLOPs of generation, exactly, with a planted mistake in the sum of keys when asked. */
function flops(sum: (P: bigint, N: bigint) => bigint = (P, N) => N * P + N * (N + 1n) / 2n) {
  return (P: number, N: number, d: number, cached: boolean) => {
    const [p, n, dd] = [BigInt(P), BigInt(N), BigInt(d)];
    const s = sum(p, n);
    return cached ? 6n * n * dd * dd + 4n * dd * s : 2n * n * dd * dd + (4n * dd * dd + 4n * dd) * s;
  };
}

const REFERENCE = { causalMask: mask, maxContext, decodeStep: decodeWith(), generationFlops: flops() };

Deno.test("lesson 03: the references pass every visible and hidden case, and alternatives pass too", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend({ backend, print: false });
    for (const [name, fn] of Object.entries(REFERENCE) as [keyof typeof ex, unknown][]) {
      await expectPass(ex, name, fn);
      const hidden = await runHidden(ex[name], hidden03[name], fn);
      assertEquals(hidden.status, "passed", `${name} hidden: ${JSON.stringify(hidden.failure)}`);
    }
    await expectPass(ex, "causalMask", (T: number, S: number) => {
      if (T > S) throw new RangeError("T > S");
      const keep = tf.linalg.bandPart(tf.ones([S, S]), -1, 0).slice([S - T, 0], [T, S]).cast("bool");
      return tf.where(keep, tf.zeros([T, S]), tf.fill([T, S], -Infinity));
    }, "bandPart and chained slice");
    await expectPass(ex, "causalMask", (T: number, S: number) => {
      if (T > S) throw new RangeError("T > S");
      return Array.from({ length: T }, (_, i) => Array.from({ length: S }, (_, j) => j - i > S - T ? -Infinity : 0));
    }, "arrays");
    await expectPass(ex, "decodeStep", (x: tf.Tensor2D, [K, V]: tf.Tensor2D[], [Wq, Wk, Wv]: tf.Tensor2D[]) => {
      const K2 = K.concat(x.matMul(Wk)), V2 = V.concat(x.matMul(Wv));
      return [x.matMul(Wq).matMul(K2.transpose()).div(Math.sqrt(x.shape[1])).softmax().matMul(V2), K2, V2];
    }, "chained methods");
    await expectPass(ex, "decodeStep", (x: tf.Tensor2D, [K, V]: tf.Tensor2D[], [Wq, Wk, Wv]: tf.Tensor2D[]) => {
      const K2 = tf.concat([K, tf.matMul(x, Wk)]), V2 = tf.concat([V, tf.matMul(x, Wv)]);
      const s = tf.einsum("qd,kd->qk", tf.matMul(x, Wq), K2).div(Math.sqrt(x.shape[1]));
      return [tf.einsum("qk,kd->qd", s.softmax(), V2), K2, V2];
    }, "einsum");
    await expectPass(ex, "maxContext", (B: number, h: number, b: number) => {
      let T = 0n;
      while ((T + 1n) * (T + 1n) * BigInt(h * b) <= BigInt(B)) T++;
      return T;
    }, "a bigint search");
  }
});

Deno.test("causalMask names every planted mask mistake", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [string, unknown, string][] = [
    ["aligned to the first keys", maskWith((i, j) => j <= i), "you aligned the mask to the first keys"],
    ["diagonal masked", maskWith((i, j, o) => j < i + o), "you masked the diagonal too"],
    ["next key visible", maskWith((i, j, o) => j <= i + o + 1), "see the next key"],
    ["past and future swapped", maskWith((i, j, o) => j >= i + o), "you kept the later keys"],
    ["nothing masked", maskWith(() => true), "you masked nothing"],
    ["−1e9", maskWith((i, j, o) => j <= i + o, -1e9), "a large finite number instead of −Infinity"],
    ["0/1 flags", (T: number, S: number) => maskWith((i, j, o) => j <= i + o, 1)(T, S), "a 0/1 flag mask"],
    [
      "0 · −∞",
      (T: number, S: number) => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, S]), -1, S - T)), -Infinity),
      "0·(−∞) is NaN",
    ],
    ["bool keep-mask", (T: number, S: number) => tf.cast(mask(T, S), "bool"), "keep-mask"],
    [
      "boolean arrays",
      (T: number, S: number) =>
        Array.from({ length: T }, (_, i) => Array.from({ length: S }, (_, j) => j <= i + S - T)),
      "keep-mask",
    ],
    ["[S, T]", (T: number, S: number) => tf.transpose(mask(T, S)), "you returned [S, T]"],
  ];
  for (const [what, fn, cause] of planted) await expectDiagnosis(ex, "causalMask", fn, cause, what);
  const noThrow = await failureOf(ex, "causalMask", (T: number, S: number) => mask(Math.min(T, S), S));
  assertEquals(noThrow.case, "input validation");
});

Deno.test("maxContext names every planted budget mistake", async () => {
  const planted: [string, unknown, string][] = [
    ["elements", (B: number, h: number) => Math.floor(Math.sqrt(B / h)), "you counted entries, not bytes"],
    ["rounded up", (B: number, h: number, b: number) => Math.ceil(Math.sqrt(B / (h * b))), "you rounded up"],
    ["rounded", (B: number, h: number, b: number) => Math.round(Math.sqrt(B / (h * b))), "or to the nearest"],
    ["causal halves", (B: number, h: number, b: number) => Math.floor(Math.sqrt(2 * B / (h * b))), "halves the memory"],
    ["linear", (B: number, h: number, b: number) => Math.floor(B / (h * b)), "grow like T"],
    ["heads ignored", (B: number, _h: number, b: number) => Math.floor(Math.sqrt(B / b)), "every head stores its own"],
    [
      "< at an exact fit",
      (B: number, h: number, b: number) => {
        let T = 0;
        while ((T + 1) ** 2 * h * b < B) T++;
        return T;
      },
      "fills the budget exactly",
    ],
  ];
  for (const [what, fn, cause] of planted) await expectDiagnosis(ex, "maxContext", fn, cause, what);
});

Deno.test("decodeStep names cache, output, scale and thrown-error mistakes (classes 1 and 3)", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend({ backend, print: false });
    const planted: [string, string][] = [
      ["allOutputs", "you returned an output for every token"],
      ["noGrow", "you returned the cache unchanged"],
      ["featureAxis", "you concatenated along axis 1"],
      ["prepend", "you put the new row first"],
      ["embedding", "you cached the token's embedding x"],
      ["query", "you cached the query x·W_Q"],
      ["swapped", "you put the values in K' and the keys in V'"],
      ["oldChanged", "you changed the earlier rows"],
      ["noSelf", "you attended over the old cache only"],
      ["weights", "you returned the attention weights as y"],
      ["notTransposed", "you multiplied q·K'"],
    ];
    for (const [bug, cause] of planted) {
      const f = await expectDiagnosis(ex, "decodeStep", decodeWith(bug), cause, bug);
      if (bug === "featureAxis") assert(f.message.includes("concat2D"), "the wrong axis throws in tf.concat");
    }
    const divisors: [string, (d: number, n: number) => number, string][] = [
      ["none", () => 1, "you did not scale the scores"],
      ["d", (d) => d, "you divided the scores by d = 3"],
      ["√(n+1)", (_d, n) => Math.sqrt(n + 1), "you divided the scores by √(n + 1) = 2.23607"],
      ["n+1", (_d, n) => n + 1, "you divided the scores by n + 1 = 5"],
    ];
    for (const [what, div, cause] of divisors) {
      await expectDiagnosis(ex, "decodeStep", decodeWith("none", div), cause, what);
    }
  }
});

Deno.test("decodeStep names the returned weights where their shape is y's, through an alternative reference (class 3)", async () => {
  await initBackend({ backend: "cpu", print: false });
  // A step that returns the weights only once the shapes agree (n + 1 = d), as in the old first case.
  const sneaky = (x: tf.Tensor2D, cache: tf.Tensor2D[], W: tf.Tensor2D[]) =>
    cache[0].shape[0] + 1 === x.shape[1] ? decodeWith("weights")(x, cache, W) : decodeWith()(x, cache, W);
  const f = await expectDiagnosis(ex, "decodeStep", sneaky, "you returned the attention weights as y");
  assertEquals(f.case, "n=1 cached token, d=2");
});

Deno.test("generationFlops names every wrong sum and count, and a float64 count past 2^53 (class 4)", async () => {
  const planted: [string, unknown, string][] = [
    ["N·P + N²", flops((P, N) => N * P + N * N), "N·P + N² (T² instead of T(T+1)/2)"],
    ["N·P + N²/2", flops((P, N) => N * P + N * N / 2n), "you summed the keys as N·P + N²/2"],
    ["no prompt", flops((_P, N) => N * (N + 1n) / 2n), "you left the prompt out"],
    ["off by one", flops((P, N) => N * P + N * (N - 1n) / 2n), "you summed t from 0 to N − 1"],
    [
      "multiply-add as 1",
      (P: number, N: number, d: number, c: boolean) => flops()(P, N, d, c) / 2n,
      "multiply–add as 1 FLOP",
    ],
    ["modes swapped", (P: number, N: number, d: number, c: boolean) => flops()(P, N, d, !c), "the other mode"],
  ];
  for (const [what, fn, cause] of planted) {
    const f = await expectDiagnosis(ex, "generationFlops", fn, cause, what);
    assert(!f.case.startsWith("P=0, N=1"), `${what}: caught only on the degenerate case`);
  }
  // Float-then-BigInt: exact below 2^53, wrong past it; named as such.
  const floatThenBigInt = (P: number, N: number, d: number, cached: boolean) => {
    const s = N * P + N * (N + 1) / 2;
    return BigInt(cached ? 6 * N * d * d + 4 * d * s : 2 * N * d * d + 4 * d * d * s + 4 * d * s);
  };
  const f = await expectDiagnosis(ex, "generationFlops", floatThenBigInt, "you computed in floating point");
  assertEquals(f.case, "P=2049, N=8191, d=12289, no cache");
  // A number past 2^53 is printed exactly (class 10), not through Number's shortest form.
  const asNumber = (P: number, N: number, d: number, c: boolean) => Number(flops()(P, N, d, c));
  const g = await failureOf(ex, "generationFlops", asNumber);
  assertEquals(g.case, "P=2048, N=8192, d=12288, no cache");
  assert(g.message.includes("30406719389564928") && !g.message.includes("30406719389564930"), g.message);
  assert(g.message.includes("exact here by luck"), g.message);
  assertEquals([g.expected, g.actual], ["30406719389564928", "30406719389564928"]);
});
