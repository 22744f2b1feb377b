import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { bundleOf } from "../display/mod.ts";
import { CHECK_MIME, NotImplementedError, renderResult, runCheck } from "./core.ts";
import { lesson01Exercises as ex } from "./lesson01.ts";

// Reference answers live only in this test (lib/ tests are not part of the student bundle).
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

async function failureOf(exercise: keyof typeof ex, fn: unknown) {
  const r = await runCheck(ex[exercise] as never, fn);
  assertEquals(r.status, "failed", `expected the planted bug to fail ${exercise}`);
  return r.failure!;
}

Deno.test("lesson 01 checks pass correct answers, as numbers and as bigints", async () => {
  await initBackend({ backend: "cpu", print: false });
  for (
    const [name, fn] of [["denseParamCount", dense], ["multiHeadParamCount", heads], [
      "causalAttentionFlops",
      causal,
    ]] as const
  ) {
    const r = await runCheck(ex[name] as never, fn);
    assertEquals([r.status, r.points], ["passed", ex[name].points], JSON.stringify(r.failure));
  }
  const big = await runCheck(
    ex.denseParamCount,
    (T: number, d: number) => (BigInt(T) * BigInt(d)) ** 2n + BigInt(T * d),
  );
  assertEquals(big.status, "passed");
  const before = tf.memory().numTensors;
  const r = await runCheck(ex.effectiveWeights, effective);
  assertEquals(r.status, "passed", JSON.stringify(r.failure));
  assertEquals(tf.memory().numTensors, before, "the check leaked tensors");
  const arrays = await runCheck(ex.effectiveWeights, (A: tf.Tensor2D, W: tf.Tensor2D) => effective(A, W).arraySync());
  assertEquals(arrays.status, "passed", "number[][] answers are accepted too");
});

Deno.test("lesson 01 checks name the misconception behind a planted wrong count", async () => {
  const cases: [keyof typeof ex, unknown, string][] = [
    ["denseParamCount", (T: number, d: number) => (T * d) ** 2, "not the T·d biases"],
    ["denseParamCount", (T: number, d: number) => T * d * d + T * d, "a d×d layer applied to each token"],
    ["multiHeadParamCount", (d: number, h: number) => 4 * d * d * h, "the heads split d"],
    ["multiHeadParamCount", (d: number) => 3 * d * d, "left out the output map W_O"],
    ["causalAttentionFlops", (T: number, d: number) => 8 * T * d * d + 4 * T * T * d, "full (non-causal) count"],
    ["causalAttentionFlops", (T: number, d: number) => 8 * T * d * d + 2 * T * (T - 1) * d, "left out the diagonal"],
    [
      "causalAttentionFlops",
      (T: number, d: number) => (8 * T * d * d + 2 * d * T * (T + 1)) / 2,
      "multiply–add as 1 FLOP",
    ],
  ];
  for (const [name, fn, cause] of cases) {
    const f = await failureOf(name, fn);
    assert(
      f.diagnosis?.includes(cause),
      `${name}: expected a diagnosis containing "${cause}", got ${JSON.stringify(f)}`,
    );
  }
});

Deno.test("multiHeadParamCount must reject heads that do not divide d", async () => {
  const f = await failureOf("multiHeadParamCount", (d: number) => 4 * d * d);
  assertEquals(f.case, "input validation");
  assert(f.message.includes("throw a RangeError"), f.message);
  // The summary line does not number the validation as a case after the last one.
  const result = await runCheck(ex.multiHeadParamCount, (d: number) => 4 * d * d);
  const text = String(bundleOf(renderResult(result))["text/plain"]);
  assert(text.includes("failed on input validation, after passing all 4 cases"), text);
});

Deno.test("effectiveWeights check diagnoses transposes, a missing A and feature-major flattening", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [string, (A: tf.Tensor2D, W: tf.Tensor2D) => tf.Tensor2D, string][] = [
    ["W_V not transposed", (A, W) => effective(A, tf.transpose(W)), "W_V is transposed"],
    ["A transposed", (A, W) => effective(tf.transpose(A), W), "A is transposed"],
    ["M transposed", (A, W) => tf.transpose(effective(A, W)), "you built the transpose"],
    ["A ignored", (A, W) => effective(tf.eye(A.shape[0]) as tf.Tensor2D, W), "A is missing"],
    ["feature-major", (A, W) => {
      const [T, d] = [A.shape[0], W.shape[0]];
      const m = tf.mul(tf.reshape(tf.transpose(W), [d, 1, d, 1]), tf.reshape(A, [1, T, 1, T]));
      return tf.reshape(m, [T * d, T * d]) as tf.Tensor2D;
    }, "flattened feature-major"],
  ];
  for (const [what, fn, cause] of planted) {
    const f = await failureOf("effectiveWeights", fn);
    assert(f.diagnosis?.includes(cause), `${what}: expected "${cause}", got ${JSON.stringify(f)}`);
    assert(
      f.message.includes("max abs error") && f.message.includes("at ["),
      `${what}: message names the error and where`,
    );
  }
  const mutating = await failureOf("effectiveWeights", (A: tf.Tensor2D, W: tf.Tensor2D) => {
    const out = effective(A, W);
    (A.dataSync() as Float32Array).fill(0); // writes through to the backend's buffer on cpu
    return out;
  });
  assert(mutating.message.includes("changed its input (argument 1)"), mutating.message);
  assert(mutating.diagnosis?.includes("inputs mutated"));
});

Deno.test("the checker survives whatever a student's function does", async () => {
  await initBackend({ backend: "cpu", print: false });
  const messages: [unknown, string][] = [
    [() => undefined, "did you forget to return?"],
    [() => "42", "expected a whole number"],
    [() => NaN, "expected a whole number"],
    [() => 1.5, "expected a whole number"],
    [() => 2 ** 60, "beyond 2^53"],
    [() => {
      throw new TypeError("boom");
    }, "threw TypeError: boom"],
    [() => {
      throw "a string";
    }, "threw a non-Error value"],
    [() => new Promise(() => {}), "did not settle"],
    [async () => await Promise.reject(new Error("async boom")), "threw Error: async boom"],
    [42, "expected the function denseParamCount itself"],
    [undefined, "expected the function denseParamCount itself"],
  ];
  for (const [fn, text] of messages) {
    const f = await failureOf("denseParamCount", fn);
    assert(f.message.includes(text), `expected "${text}" in: ${f.message}`);
  }
  const disposed = await failureOf("effectiveWeights", (A: tf.Tensor2D, W: tf.Tensor2D) => {
    const m = effective(A, W);
    m.dispose();
    return m;
  });
  assert(disposed.message.includes("disposed"), disposed.message);
  const wrongShape = await failureOf("effectiveWeights", () => tf.zeros([2, 2]));
  assertEquals([wrongShape.message, wrongShape.expected, wrongShape.actual], ["wrong shape", "[1, 1]", "[2,2]"]);
});

Deno.test("a stub that throws NotImplementedError reports 'not implemented', with a machine-readable result", async () => {
  const r = await runCheck(ex.denseParamCount, () => {
    throw new NotImplementedError("denseParamCount");
  });
  assertEquals([r.status, r.points, r.maxPoints], ["not-implemented", 0, 1]);
  const bundle = bundleOf(renderResult(r));
  assertEquals((bundle[CHECK_MIME] as { status: string }).status, "not-implemented");
  assert((bundle["text/plain"] as string).startsWith("… denseParamCount: not implemented yet"));
  const pass = bundleOf(renderResult(await runCheck(ex.denseParamCount, dense)));
  assertEquals(pass["text/plain"], "✔ denseParamCount: passed 5/5 cases — 1/1 points");
});

/** Attention weights with one planted mistake at a time. */
function plantedAttention(
  bug:
    | "none"
    | "unscaled"
    | "axis"
    | "maskAfter"
    | "notTransposed"
    | "diagonalMasked"
    | "diagonalMaskedGuarded"
    | "nextKey"
    | "noMask",
) {
  return (Q: tf.Tensor2D, K: tf.Tensor2D, causal: boolean) =>
    tf.tidy(() => {
      const [T, d] = Q.shape;
      let S = tf.matMul(Q, bug === "notTransposed" ? K : tf.transpose(K));
      if (bug !== "unscaled") S = tf.div(S, Math.sqrt(d));
      const keep = (i: number, j: number) =>
        !causal || bug === "noMask" ||
        (bug === "diagonalMasked" || bug === "diagonalMaskedGuarded" ? j < i : bug === "nextKey" ? j <= i + 1 : j <= i);
      const grid = Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => keep(i, j)));
      if (bug === "maskAfter") return tf.mul(tf.softmax(S), tf.tensor2d(grid.map((r) => r.map(Number)))) as tf.Tensor2D;
      const masked = tf.add(S, tf.tensor2d(grid.map((r) => r.map((k) => k ? 0 : -Infinity))));
      const A = bug === "axis" ? tf.transpose(tf.softmax(tf.transpose(masked))) : tf.softmax(masked);
      return (bug === "diagonalMaskedGuarded" ? tf.where(tf.isNaN(A), tf.zerosLike(A), A) : A) as tf.Tensor2D;
    });
}

Deno.test("attentionWeights check passes the right answer and names each planted attention bug", async () => {
  await initBackend({ backend: "cpu", print: false });
  const ok = await runCheck(ex.attentionWeights, plantedAttention("none"));
  assertEquals(ok.status, "passed", JSON.stringify(ok.failure));
  const planted: [Parameters<typeof plantedAttention>[0], string][] = [
    ["unscaled", "missing 1/√d"],
    ["axis", "softmax over the wrong axis"],
    ["maskAfter", "mask applied after softmax"],
    ["notTransposed", "keys not transposed"],
    ["diagonalMasked", "off-by-one causal mask: the first query sees no key"],
    ["diagonalMaskedGuarded", "off-by-one causal mask: the diagonal is masked"],
    ["nextKey", "off-by-one causal mask: query i also sees key i + 1"],
    ["noMask", "the causal mask is missing"],
  ];
  for (const [bug, cause] of planted) {
    const f = await failureOf("attentionWeights", plantedAttention(bug));
    assert(f.diagnosis?.includes(cause), `${bug}: expected "${cause}", got ${JSON.stringify(f)}`);
  }
  const mutating = await failureOf("attentionWeights", (Q: tf.Tensor2D, K: tf.Tensor2D, causal: boolean) => {
    const A = plantedAttention("none")(Q, K, causal);
    (K.dataSync() as Float32Array)[0] += 1;
    return A;
  });
  assert(mutating.diagnosis?.includes("inputs mutated"), JSON.stringify(mutating));
});
