/**
 * Checks for the exercises of lesson 01 (weighted sums and the linear layer).
 * Counts are locked numbers computed from the lesson's formulas by hand; the
 * effective-weight check tests the defining invariant M·vec(X) = vec(A·X·W_V)
 * on seeded matrices, so no reference construction of M is shipped.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { rng } from "../random.ts";
import { check, describe, type Exercise, type Verdict } from "./core.ts";
import { allClose, expectClose, expectCount, readMatrix } from "./compare.ts";

type CountArgs = [T: number, d: number];

const denseParamCount: Exercise<CountArgs> = {
  id: "01.denseParamCount",
  name: "denseParamCount",
  points: 1,
  cases: ([[1, 1, 2n], [2, 3, 42n], [4, 8, 1056n], [16, 64, 1049600n], [2048, 12288, 633318722764800n]] as const).map(
    ([T, d, expected]) => ({
      label: `T=${T}, d=${d}`,
      args: (): CountArgs => [T, d],
      verify: (actual: unknown) => {
        const n = BigInt(T * d);
        return expectCount(actual, expected, [
          [n * n, "you counted the (T·d)² weights but not the T·d biases (one per output)"],
          [
            BigInt(T) * BigInt(d) ** 2n + BigInt(T * d),
            "that is a d×d layer applied to each token; the dense layer maps all T·d inputs to all T·d outputs",
          ],
          [
            BigInt(d) ** 2n + BigInt(d),
            "that is one d×d layer for a single token; the dense layer maps all T·d inputs to all T·d outputs",
          ],
          [n * n + 1n, "there is one bias per output (T·d of them), not one in total"],
        ]);
      },
    }),
  ),
};

type HeadArgs = [d: number, heads: number];

const multiHeadParamCount: Exercise<HeadArgs> = {
  id: "01.multiHeadParamCount",
  name: "multiHeadParamCount",
  points: 1,
  cases: ([[1, 1, 4n], [8, 2, 256n], [64, 8, 16384n], [12288, 96, 603979776n]] as const).map(([d, h, expected]) => ({
    label: `d=${d}, heads=${h}`,
    args: (): HeadArgs => [d, h],
    verify: (actual: unknown) => {
      const dd = BigInt(d) ** 2n, hh = BigInt(h);
      return expectCount(actual, expected, [
        [4n * dd * hh, "each head's W_Q, W_K, W_V has d × d/heads entries, not d × d: the heads split d"],
        [3n * dd, "you left out the output map W_O (d × d)"],
        [3n * dd * hh, "you left out W_O, and each head's maps are d × d/heads, not d × d"],
        ...(h > 1
          ? [
            [4n * dd / hh, "the heads together cover all d columns: W_Q, W_K, W_V are each d × d in total"] as [
              bigint,
              string,
            ],
          ]
          : []),
      ]);
    },
  })),
  after: (fn) => {
    try {
      const got = fn(10, 3);
      return {
        ok: false,
        message: "heads=3 does not divide d=10, so the heads cannot split d evenly: throw a RangeError",
        actual: `returned ${describe(got)}`,
      };
    } catch (err) {
      return err instanceof RangeError ? { ok: true } : {
        ok: false,
        message: `threw ${(err as Error)?.name ?? typeof err}; a RangeError says the value is out of range`,
      };
    }
  },
};

const causalAttentionFlops: Exercise<CountArgs> = {
  id: "01.causalAttentionFlops",
  name: "causalAttentionFlops",
  points: 2,
  cases: ([[1, 1, 12n], [4, 2, 208n], [16, 64, 559104n], [2048, 12288, 2577030709248n]] as const).map(
    ([T, d, expected]) => ({
      label: `T=${T}, d=${d}`,
      args: (): CountArgs => [T, d],
      verify: (actual: unknown) => {
        const t = BigInt(T), dd = BigInt(d), proj = 8n * t * dd * dd;
        return expectCount(actual, expected, [
          [
            proj + 4n * t * t * dd,
            "that is the full (non-causal) count: with the mask, only pairs j ≤ i need QKᵀ and A·V",
          ],
          [proj + 2n * t * t * dd, "T²/2 pairs misses half the diagonal: there are T(T+1)/2 pairs with j ≤ i"],
          [proj + 2n * t * (t - 1n) * dd, "you left out the diagonal: a token attends to itself (j = i)"],
          [expected / 2n, "you counted a multiply–add as 1 FLOP; the course counts 2"],
          [2n * t * (t + 1n) * dd, "you left out the four projections (W_Q, W_K, W_V, W_O: 8·T·d² FLOPs)"],
        ]);
      },
    }),
  ),
};

type WeightArgs = [A: tf.Tensor2D, Wv: tf.Tensor2D];

/** Attention weights: rows of a softmax, so the check uses realistic A. */
export function softmaxRows(T: number, seed: string): tf.Tensor2D {
  return tf.softmax(rng(seed).tensor([T, T], 1.5)) as tf.Tensor2D;
}

const effectiveWeights: Exercise<WeightArgs> = {
  id: "01.effectiveWeights",
  name: "effectiveWeights",
  points: 3,
  cases: ([[1, 1], [2, 3], [3, 2], [4, 3]] as const).map(([T, d]) => ({
    label: `A: [${T}, ${T}], W_V: [${d}, ${d}]`,
    args:
      (): WeightArgs => [softmaxRows(T, `01.ew.A.${T}.${d}`), rng(`01.ew.W.${T}.${d}`).tensor([d, d]) as tf.Tensor2D],
    verify: (actual: unknown, [A, Wv]: WeightArgs) => verifyEffective(actual, A, Wv, T, d),
  })),
};

export function verifyEffective(actual: unknown, A: tf.Tensor2D, Wv: tf.Tensor2D, T: number, d: number): Verdict {
  const M = readMatrix(actual, T * d, T * d);
  if (!(M instanceof Float64Array)) return M;
  // The invariant: for any X [T, d], M·vec(X) = vec(A·X·W_V), vec = row-major flattening (index i·d + c).
  const X = rng(`01.ew.X.${T}.${d}`).tensor([T, d]) as tf.Tensor2D;
  const x = Float64Array.from(X.dataSync());
  const apply = (m: Float64Array, v: Float64Array, transpose = false) => {
    const n = T * d, out = new Float64Array(n);
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) out[r] += (transpose ? m[c * n + r] : m[r * n + c]) * v[c];
    return out;
  };
  const flat = (t: tf.Tensor) => Float64Array.from(t.dataSync());
  const want = flat(tf.matMul(tf.matMul(A, X), Wv));
  const got = apply(M, x);
  const verdict = expectClose(got, want, d, 1e-4);
  if (verdict.ok) return verdict;
  const colMajor = (v: Float64Array) => Float64Array.from(v, (_, k) => v[(k % T) * d + Math.floor(k / T)]);
  const suspects: [Float64Array, string][] = [
    [
      flat(tf.matMul(tf.matMul(A, X), tf.transpose(Wv))),
      "W_V is transposed: entry M[(i,c), (j,a)] needs W_V[a, c] (input feature a → output feature c)",
    ],
    [
      flat(tf.matMul(tf.matMul(tf.transpose(A), X), Wv)),
      "A is transposed: output token i mixes input tokens j with the weights in row i of A",
    ],
    [flat(tf.matMul(X, Wv)), "A is missing: each output token must mix all input tokens with the weights A[i, j]"],
  ];
  const diagnosis = suspects.find(([y]) => allClose(got, y, 1e-4))?.[1] ??
    (allClose(apply(M, x, true), want, 1e-4)
      ? "you built the transpose: rows of M are outputs (i, c), columns are inputs (j, a)"
      : allClose(apply(M, colMajor(x)), colMajor(want), 1e-4)
      ? "you flattened feature-major (index c·T + i); the lesson flattens token-major: index i·d + c"
      : undefined);
  return { ...verdict, message: `M·vec(X) ≠ vec(A·X·W_V) for a seeded X: ${verdict.message}`, diagnosis };
}

/** The lesson-01 exercises, for tests and the grader. */
export const lesson01Exercises = { denseParamCount, multiHeadParamCount, causalAttentionFlops, effectiveWeights };

/**
 * Check calls for lesson 01's exercise notebook: `await check01.denseParamCount(denseParamCount)`.
 */
export const check01 = {
  denseParamCount: (fn: (T: number, d: number) => number | bigint) => check(denseParamCount, fn),
  multiHeadParamCount: (fn: (d: number, heads: number) => number | bigint) => check(multiHeadParamCount, fn),
  causalAttentionFlops: (fn: (T: number, d: number) => number | bigint) => check(causalAttentionFlops, fn),
  effectiveWeights: (fn: (A: tf.Tensor2D, Wv: tf.Tensor2D) => tf.Tensor2D | number[][]) => check(effectiveWeights, fn),
};
