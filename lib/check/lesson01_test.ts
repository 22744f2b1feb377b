import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { bundleOf } from "../display/mod.ts";
import { renderResult, runCheck } from "./core.ts";
import { expectDiagnosis, expectPass, failureOf } from "./_testing.ts";
import { lesson01Exercises as ex } from "./lesson01.ts";

// Reference answers live only in tests (lib/ tests are not part of the student bundle).
const dense = (T: number, d: number) => (T * d) ** 2 + T * d;
const heads = (d: number, h: number) => {
  if (d % h !== 0) throw new RangeError(`heads (${h}) must divide d (${d})`);
  return 4 * d * d;
};
const causal = (T: number, d: number) => 8 * T * d * d + 2 * d * T * (T + 1);
const effective = (A: tf.Tensor2D, Wv: tf.Tensor2D) =>
  tf.tidy(() => {
    const [T, d] = [A.shape[0], Wv.shape[0]];
    // M[(i,c),(j,a)] = A[i,j]·W_V[a,c]: broadcast [T,1,T,1]·[1,d,1,d], then flatten.
    const m = tf.mul(tf.reshape(A, [T, 1, T, 1]), tf.reshape(tf.transpose(Wv), [1, d, 1, d]));
    return tf.reshape(m, [T * d, T * d]) as tf.Tensor2D;
  });

/** Attention weights, with one planted mistake at a time. */
function weights(bug = "none", divisor?: (T: number, d: number) => number) {
  return (Q: tf.Tensor2D, K: tf.Tensor2D, causal: boolean) =>
    tf.tidy(() => {
      const [T, d] = Q.shape;
      let S = tf.matMul(Q, bug === "notTransposed" ? K : tf.transpose(K));
      S = tf.div(S, divisor ? divisor(T, d) : Math.sqrt(d));
      const keep = (i: number, j: number) =>
        !causal || bug === "noMask" ||
        (bug === "diagonalMasked" || bug === "diagonalMaskedGuarded"
          ? j < i
          : bug === "nextKey"
          ? j <= i + 1
          : bug === "swapped"
          ? j >= i
          : j <= i);
      const grid = Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => keep(i, j)));
      if (bug === "maskAfter") return tf.mul(tf.softmax(S), tf.tensor2d(grid.map((r) => r.map(Number))));
      if (bug === "zeroScores") return tf.softmax(tf.where(tf.tensor2d(grid), S, tf.zerosLike(S)));
      if (bug === "nanMask") {
        return tf.softmax(tf.add(S, tf.mul(tf.tensor2d(grid.map((r) => r.map((k) => k ? 0 : 1))), -Infinity)));
      }
      const masked = tf.add(S, tf.tensor2d(grid.map((r) => r.map((k) => k ? 0 : -Infinity))));
      if (bug === "axis0") return tf.softmax(masked, 0);
      const A = bug === "axis" ? tf.transpose(tf.softmax(tf.transpose(masked))) : tf.softmax(masked);
      return bug === "diagonalMaskedGuarded" ? tf.where(tf.isNaN(A), tf.zerosLike(A), A) : A;
    });
}

Deno.test("lesson 01 checks give correct answers full marks, however they are written", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend({ backend, print: false });
    await expectPass(ex, "denseParamCount", dense);
    await expectPass(ex, "denseParamCount", (T: number, d: number) => (BigInt(T) * BigInt(d)) ** 2n + BigInt(T * d));
    await expectPass(ex, "multiHeadParamCount", heads);
    await expectPass(ex, "causalAttentionFlops", causal);
    await expectPass(ex, "causalAttentionFlops", (T: number, d: number) => {
      let pairs = 0;
      for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) pairs++; // a loop over the pairs
      return 8 * T * d * d + 4 * d * pairs;
    }, "loop over pairs");
    await expectPass(ex, "effectiveWeights", effective);
    await expectPass(ex, "effectiveWeights", (A: tf.Tensor2D, W: tf.Tensor2D) => effective(A, W).arraySync(), "arrays");
    await expectPass(ex, "effectiveWeights", (A: tf.Tensor2D, W: tf.Tensor2D) => {
      const [T, d] = [A.shape[0], W.shape[0]];
      return tf.einsum("ij,ac->icja", A, W).reshape([T * d, T * d]); // einsum, chained reshape
    }, "einsum");
    await expectPass(ex, "effectiveWeights", (A: tf.Tensor2D, W: tf.Tensor2D) => {
      const [T, d] = [A.shape[0], W.shape[0]];
      return A.reshape([T, 1, T, 1]).mul(W.transpose().reshape([1, d, 1, d])).reshape([T * d, T * d]);
    }, "chained methods");
    await expectPass(ex, "attentionWeights", weights());
    await expectPass(ex, "attentionWeights", (Q: tf.Tensor2D, K: tf.Tensor2D, causal: boolean) => {
      const [T, d] = Q.shape;
      const s = Q.matMul(K.transpose()).div(Math.sqrt(d));
      const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0).cast("bool");
      return (causal ? tf.where(mask, s, tf.fill([T, T], -Infinity)) : s).softmax();
    }, "chained methods");
    await expectPass(ex, "attentionWeights", (Q: tf.Tensor2D, K: tf.Tensor2D, causal: boolean) => {
      const s = tf.einsum("id,jd->ij", Q, K).div(Math.sqrt(Q.shape[1]));
      const T = Q.shape[0];
      return tf.softmax(causal ? s.add(tf.linalg.bandPart(tf.ones([T, T]), 0, -1).sub(tf.eye(T)).mul(-1e9)) : s);
    }, "einsum and a −1e9 mask");
    await expectPass(ex, "attentionWeights", (Q: tf.Tensor2D, K: tf.Tensor2D, causal: boolean) => {
      const [q, k] = [Q.arraySync(), K.arraySync()];
      return q.map((qi, i) => {
        const s = k.map((kj, j) =>
          causal && j > i ? -Infinity : qi.reduce((a, x, c) => a + x * kj[c], 0) / Math.sqrt(qi.length)
        );
        const m = Math.max(...s), e = s.map((x) => Math.exp(x - m)), z = e.reduce((a, b) => a + b, 0);
        return e.map((x) => x / z);
      });
    }, "plain loops");
  }
});

Deno.test("lesson 01 counts name every planted mistake on the first (non-degenerate) case", async () => {
  const planted: [keyof typeof ex, (a: number, b: number) => number, string][] = [
    ["denseParamCount", (T, d) => (T * d) ** 2, "no biases"],
    ["denseParamCount", (T, d) => T * d * d + T * d, "a d×d layer per token"],
    ["denseParamCount", (_T, d) => d * d + d, "one token's d×d layer"],
    ["denseParamCount", (T, d) => (T * d) ** 2 + 1, "one bias in total"],
    ["denseParamCount", (T, d) => (T * d) ** 2 + T, "one bias per token"],
    ["denseParamCount", (T, d) => (T * d) ** 2 + d, "one bias per feature"],
    ["multiHeadParamCount", (d, h) => 4 * d * d * h, "every head full d×d"],
    ["multiHeadParamCount", (d) => 3 * d * d, "left out the output map W_O"],
    ["multiHeadParamCount", (d, h) => 3 * d * d * h, "gave every head d×d maps and left out W_O"],
    ["multiHeadParamCount", (d, h) => 4 * d * d / h, "divided all four maps among the heads"],
    ["multiHeadParamCount", (d, h) => 3 * d * d / h + d * d, "counted one head's"],
    ["multiHeadParamCount", (d) => 4 * d * d + 4 * d, "added biases"],
    ["causalAttentionFlops", (T, d) => 8 * T * d * d + 4 * T * T * d, "all T² pairs"],
    ["causalAttentionFlops", (T, d) => 8 * T * d * d + 2 * T * T * d, "T²/2 pairs"],
    ["causalAttentionFlops", (T, d) => 8 * T * d * d + 2 * T * (T - 1) * d, "left out the diagonal"],
    ["causalAttentionFlops", (T, d) => (8 * T * d * d + 2 * d * T * (T + 1)) / 2, "multiply–add as 1 FLOP"],
    ["causalAttentionFlops", (T, d) => 2 * d * T * (T + 1), "left out the projections"],
    ["causalAttentionFlops", (T, d) => 6 * T * d * d + 2 * d * T * (T + 1), "three projections"],
    ["causalAttentionFlops", (T, d) => 4 * T * d * d + 2 * d * T * (T + 1), "1 FLOP per multiply–add (4·T·d²)"],
    [
      "causalAttentionFlops",
      (T, d) => 8 * T * d * d + d * T * (T + 1),
      "QKᵀ alone at 2 FLOPs per multiply–add, or QKᵀ and A·V at 1 each",
    ],
  ];
  for (const [name, fn, cause] of planted) {
    const f = await expectDiagnosis(ex, name, fn, cause);
    assert(!f.case.startsWith("T=1,") && !f.case.startsWith("d=1,"), `${cause}: caught only on ${f.case}`);
  }
});

Deno.test("a cause is named only where it tells formulas apart: W_O left out is not 'half the diagonal' (class 2)", async () => {
  // At T = d = 1, 6Td² + 2dT(T+1) = 8Td² + 2T²d = 10: the old first case named the wrong cause.
  const threeProjections = (T: number, d: number) => 6 * T * d * d + 2 * d * T * (T + 1);
  const f = await failureOf(ex, "causalAttentionFlops", threeProjections);
  assertEquals(f.case, "T=6, d=4");
  assert(f.diagnosis?.includes("three projections") && !f.diagnosis.includes("T²/2"), f.diagnosis);
  // A mistake that differs only on the degenerate case gets no cause at all.
  const onlyAtOne = (T: number, d: number) => T === 1 ? 10 : causal(T, d);
  const g = await failureOf(ex, "causalAttentionFlops", onlyAtOne);
  assertEquals([g.case, g.diagnosis], ["T=1, d=1", undefined]);
});

Deno.test("multiHeadParamCount must reject heads that do not divide d", async () => {
  const f = await failureOf(ex, "multiHeadParamCount", (d: number) => 4 * d * d);
  assertEquals(f.case, "input validation");
  assert(f.message.includes("throw a RangeError"), f.message);
  const result = await runCheck(ex.multiHeadParamCount, (d: number) => 4 * d * d);
  const text = String(bundleOf(renderResult(result))["text/plain"]);
  assert(text.includes("failed on input validation, after passing all 5 cases"), text);
});

Deno.test("effectiveWeights names transposes, a missing A, feature-major flattening and a wrong reshape", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [string, (A: tf.Tensor2D, W: tf.Tensor2D) => unknown, string][] = [
    ["W_V not transposed", (A, W) => effective(A, tf.transpose(W)), "you used W_V[c, a]"],
    ["A transposed", (A, W) => effective(tf.transpose(A), W), "you used A[j, i]"],
    ["M transposed", (A, W) => tf.transpose(effective(A, W)), "you built the transpose of M"],
    ["A ignored", (A, W) => effective(tf.eye(A.shape[0]) as tf.Tensor2D, W), "you left A out"],
    ["feature-major", (A, W) => {
      const [T, d] = [A.shape[0], W.shape[0]];
      const m = tf.mul(tf.reshape(tf.transpose(W), [d, 1, d, 1]), tf.reshape(A, [1, T, 1, T]));
      return tf.reshape(m, [T * d, T * d]);
    }, "flattened feature-major"],
    [
      "reshape to [T·d, T]",
      (A, W) => tf.reshape(effective(A, W), [A.shape[0] * W.shape[0], A.shape[0]]),
      "reshaped to a size",
    ],
  ];
  for (const [what, fn, cause] of planted) await expectDiagnosis(ex, "effectiveWeights", fn, cause, what);
  const mutating = await failureOf(ex, "effectiveWeights", (A: tf.Tensor2D, W: tf.Tensor2D) => {
    const out = effective(A, W);
    (A.dataSync() as Float32Array).fill(0); // writes through to the backend's buffer on cpu
    return out;
  });
  assert(mutating.message.includes("changed its input (argument 1)"), mutating.message);
  assert(mutating.diagnosis?.startsWith("you modified an argument in place; the rule"), mutating.diagnosis);
});

Deno.test("attentionWeights names the divisor a student used, on a first case with T ≠ d (class 1)", async () => {
  await initBackend({ backend: "cpu", print: false });
  const divisors: [string, (T: number, d: number) => number, string][] = [
    ["no scale", () => 1, "you did not scale the scores"],
    ["d", (_T, d) => d, "you divided the scores by d = 5"],
    ["√T", (T) => Math.sqrt(T), "you divided the scores by √T = 1.73205"],
    ["T", (T) => T, "you divided the scores by T = 3"],
    ["×√d", (_T, d) => 1 / Math.sqrt(d), "you multiplied the scores by √d"],
    ["2√d", (_T, d) => 2 * Math.sqrt(d), "your scores carry a factor 1/4.47214"],
  ];
  for (const [what, divisor, cause] of divisors) {
    const f = await expectDiagnosis(ex, "attentionWeights", weights("none", divisor), cause, what);
    assertEquals(f.case, "T=3, d=5", `${what} must fail the first case`);
    assert(f.diagnosis!.includes("the rule is to divide by √d = 2.23607"), f.diagnosis);
  }
});

Deno.test("attentionWeights names masks, axes and thrown errors (classes 3 and 12)", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend({ backend, print: false });
    const planted: [string, string][] = [
      ["axis", "you normalised each column"],
      ["axis0", "you took the softmax along axis 0"],
      ["notTransposed", "you multiplied Q·K"],
      ["maskAfter", "you zeroed the masked weights after the softmax"],
      ["nanMask", "you multiplied a 0/1 mask by −Infinity"],
      ["diagonalMasked", "you masked the diagonal too (j < i), so query 0 sees no key"],
      ["diagonalMaskedGuarded", "you masked the diagonal (j < i)"],
      ["nextKey", "your mask lets query i see key i + 1"],
      ["noMask", "you did not apply the causal mask"],
      ["zeroScores", "you put 0 at the masked scores"],
      ["swapped", "you kept the keys after each query"],
    ];
    for (const [bug, cause] of planted) await expectDiagnosis(ex, "attentionWeights", weights(bug), cause, bug);
    const f = await failureOf(ex, "attentionWeights", weights("notTransposed"));
    assert(f.message.startsWith("threw Error: Error in matMul"), f.message); // Q·K throws at T ≠ d, and is named
  }
  await initBackend({ backend: "cpu", print: false }); // dataSync() writes through only on cpu
  const mutating = await failureOf(ex, "attentionWeights", (Q: tf.Tensor2D, K: tf.Tensor2D, causal: boolean) => {
    const A = weights()(Q, K, causal);
    (K.dataSync() as Float32Array)[0] += 1;
    return A;
  });
  assert(mutating.diagnosis?.includes("you modified an argument in place"), JSON.stringify(mutating));
});
