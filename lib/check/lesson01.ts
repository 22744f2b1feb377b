/**
 * Checks for the exercises of lesson 01 (weighted sums and the linear layer).
 * Counts are locked numbers computed from the lesson's formulas by hand; the
 * effective-weight check tests the defining invariant M·vec(X) = vec(A·X·W_V)
 * on seeded matrices; the attention-weights check compares with matrices
 * computed offline and diagnoses mistakes from invariants (which axis sums to
 * 1, what is zero above or on the diagonal). No reference solution is shipped.
 *
 * Catalogue of diagnosed misconceptions:
 * - denseParamCount: biases missing; a per-token d×d layer; a single token's layer; one bias in total.
 * - multiHeadParamCount: every head d×d; W_O missing; both; heads dividing d²; no RangeError for heads ∤ d.
 * - causalAttentionFlops: non-causal count; T²/2 pairs; diagonal left out; multiply–add as 1 FLOP; projections left out.
 * - effectiveWeights: W_V untransposed; A transposed; A missing; M transposed; feature-major flattening.
 * - attentionWeights: missing 1/√d; softmax over the wrong axis; mask applied after softmax; keys not
 *   transposed; off-by-one causal mask (diagonal masked, first row NaN, or key i + 1 visible); mask missing.
 * - every exercise: inputs mutated (lib/check/core.ts).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
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

// ---------------------------------------------------------------- attention weights

type AttentionArgs = [Q: tf.Tensor2D, K: tf.Tensor2D, causal: boolean];

interface AttentionCase {
  label: string;
  Q: number[][];
  K: number[][];
  causal: boolean;
  /** softmax(QKᵀ/√d), masked to j ≤ i when causal. */
  expected: number[][];
  /** The same without the 1/√d scale (a known mistake). */
  unscaled: number[][];
  /** The same with Q·K instead of Q·Kᵀ (only where T = d, so that the mistake runs). */
  keysNotTransposed?: number[][];
}

// Computed offline in float64 (Python), from the formulas in the exercise text; do not edit by hand.
const ATTENTION_CASES: AttentionCase[] = [
  {
    "label": "T=4, d=4, causal",
    "Q": [[1.2, -0.3, 0.8, -1.5], [0.4, 1.1, -0.9, 0.2], [-1.3, 0.6, 0.5, 1.0], [0.9, -1.4, 0.3, 0.7]],
    "K": [[-0.6, 1.3, 0.2, -0.8], [1.5, -0.2, -1.1, 0.4], [0.3, 0.9, 1.2, -0.5], [-1.0, -0.7, 0.6, 1.4]],
    "causal": true,
    "expected": [[1.0, 0.0, 0.0, 0.0], [0.425557, 0.574443, 0.0, 0.0], [0.512425, 0.109854, 0.377721, 0.0], [
      0.0486968,
      0.448368,
      0.124663,
      0.378272,
    ]],
    "unscaled": [[1.0, 0.0, 0.0, 0.0], [0.354344, 0.645656, 0.0, 0.0], [0.629204, 0.0289177, 0.341878, 0.0], [
      0.00655013,
      0.555287,
      0.0429263,
      0.395237,
    ]],
    "keysNotTransposed": [[1.0, 0.0, 0.0, 0.0], [0.688904, 0.311096, 0.0, 0.0], [0.501173, 0.11815, 0.380677, 0.0], [
      0.031081,
      0.291955,
      0.550925,
      0.12604,
    ]],
  },
  {
    "label": "T=4, d=4",
    "Q": [[1.2, -0.3, 0.8, -1.5], [0.4, 1.1, -0.9, 0.2], [-1.3, 0.6, 0.5, 1.0], [0.9, -1.4, 0.3, 0.7]],
    "K": [[-0.6, 1.3, 0.2, -0.8], [1.5, -0.2, -1.1, 0.4], [0.3, 0.9, 1.2, -0.5], [-1.0, -0.7, 0.6, 1.4]],
    "causal": false,
    "expected": [[0.223361, 0.238362, 0.484825, 0.0534522], [0.302942, 0.408929, 0.191242, 0.0968866], [
      0.231768,
      0.0496866,
      0.170841,
      0.547704,
    ], [0.0486968, 0.448368, 0.124663, 0.378272]],
    "unscaled": [[0.144769, 0.164867, 0.682074, 0.00829073], [0.30094, 0.548348, 0.11993, 0.0307814], [
      0.139395,
      0.00640651,
      0.0757406,
      0.778458,
    ], [0.00655013, 0.555287, 0.0429263, 0.395237]],
    "keysNotTransposed": [[0.15995, 0.655147, 0.164821, 0.0200827], [0.380606, 0.171875, 0.0836604, 0.363859], [
      0.236919,
      0.0558526,
      0.179957,
      0.527272,
    ], [0.031081, 0.291955, 0.550925, 0.12604]],
  },
  {
    "label": "T=3, d=2",
    "Q": [[0.5, -1.2], [1.1, 0.3], [-0.7, 0.8]],
    "K": [[1.0, 0.2], [-0.4, 0.9], [0.6, -1.1]],
    "causal": false,
    "expected": [[0.252997, 0.0851515, 0.661852], [0.513743, 0.200591, 0.285666], [0.21952, 0.652223, 0.128258]],
    "unscaled": [[0.195673, 0.0419485, 0.762379], [0.588053, 0.155527, 0.25642], [0.163072, 0.760665, 0.0762633]],
  },
  {
    "label": "T=3, d=2, causal",
    "Q": [[0.5, -1.2], [1.1, 0.3], [-0.7, 0.8]],
    "K": [[1.0, 0.2], [-0.4, 0.9], [0.6, -1.1]],
    "causal": true,
    "expected": [[1.0, 0.0, 0.0], [0.719191, 0.280809, 0.0], [0.21952, 0.652223, 0.128258]],
    "unscaled": [[1.0, 0.0, 0.0], [0.790841, 0.209159, 0.0], [0.163072, 0.760665, 0.0762633]],
  },
  {
    "label": "T=1, d=3, causal",
    "Q": [[0.3, -0.2, 0.9]],
    "K": [[1.1, 0.4, -0.6]],
    "causal": true,
    "expected": [[1.0]],
    "unscaled": [[1.0]],
  },
];

/** What a wrong attention-weights matrix says about its cause, from invariants first, then locked variants. */
export function diagnoseAttention(A: number[][], c: AttentionCase): string | undefined {
  const T = A.length;
  const close = (B: number[][]) => A.every((row, i) => row.every((x, j) => Math.abs(x - B[i][j]) < 1e-4));
  const rowSums = A.map((row) => row.reduce((s, x) => s + x, 0));
  const colSums = A[0].map((_, j) => A.reduce((s, row) => s + row[j], 0));
  const rowsSumToOne = rowSums.every((s) => Math.abs(s - 1) < 1e-4);
  const upper = (i: number, j: number) => j > i;
  if (c.causal && A[0].some((x) => Number.isNaN(x)) && A.slice(1).every((r) => r.every((x) => !Number.isNaN(x)))) {
    return "off-by-one causal mask: the first query sees no key at all (NaN) — keep the diagonal, j ≤ i";
  }
  if (!rowsSumToOne && colSums.every((s) => Math.abs(s - 1) < 1e-4)) {
    return "softmax over the wrong axis: each row (one query's weights over the keys) must sum to 1; yours sum to 1 down the columns";
  }
  if (c.causal && T > 1) {
    const upperZero = A.every((row, i) => row.every((x, j) => !upper(i, j) || Math.abs(x) < 1e-6));
    const onlyNextKey = A.every((row, i) => row.every((x, j) => j <= i + 1 || Math.abs(x) < 1e-6));
    const diagonalZero = A.slice(1).every((row, k) => Math.abs(row[k + 1]) < 1e-6);
    if (!upperZero && onlyNextKey && rowsSumToOne) {
      return "off-by-one causal mask: query i also sees key i + 1; keep j ≤ i";
    }
    if (!upperZero && rowsSumToOne) {
      return "the causal mask is missing: weights above the diagonal (keys after the query) must be 0";
    }
    if (upperZero && diagonalZero) {
      return "off-by-one causal mask: the diagonal is masked, but query i must see its own key (j ≤ i)";
    }
    if (upperZero && !rowsSumToOne) {
      return "mask applied after softmax: masked weights were zeroed but the rows no longer sum to 1 — mask the scores with −∞ before the softmax";
    }
  }
  if (close(c.unscaled)) return "missing 1/√d: the scores are QKᵀ / √d, not QKᵀ (lesson 04 shows why)";
  if (c.keysNotTransposed && close(c.keysNotTransposed)) {
    return "keys not transposed: the scores are Q·Kᵀ (query i with key j), not Q·K";
  }
  return undefined;
}

const attentionWeights: Exercise<AttentionArgs> = {
  id: "01.attentionWeights",
  name: "attentionWeights",
  points: 3,
  cases: ATTENTION_CASES.map((c) => ({
    label: c.label,
    args: (): AttentionArgs => [tf.tensor2d(c.Q), tf.tensor2d(c.K), c.causal],
    verify: (actual: unknown) => {
      const T = c.Q.length;
      const M = readMatrix(actual, T, T);
      if (!(M instanceof Float64Array)) return M;
      const verdict = expectClose(M, Float64Array.from(c.expected.flat()), T, 1e-4);
      if (verdict.ok) return verdict;
      const rows = Array.from({ length: T }, (_, i) => Array.from(M.subarray(i * T, (i + 1) * T)));
      return { ...verdict, diagnosis: diagnoseAttention(rows, c) };
    },
  })),
};

/** The lesson-01 exercises, for tests and the grader. */
export const lesson01Exercises = {
  denseParamCount,
  multiHeadParamCount,
  causalAttentionFlops,
  effectiveWeights,
  attentionWeights,
};

/**
 * Check calls for lesson 01's exercise notebook: `await check01.denseParamCount(denseParamCount)`.
 */
export const check01 = {
  denseParamCount: (fn: (T: number, d: number) => number | bigint) => check(denseParamCount, fn),
  multiHeadParamCount: (fn: (d: number, heads: number) => number | bigint) => check(multiHeadParamCount, fn),
  causalAttentionFlops: (fn: (T: number, d: number) => number | bigint) => check(causalAttentionFlops, fn),
  effectiveWeights: (fn: (A: tf.Tensor2D, Wv: tf.Tensor2D) => tf.Tensor2D | number[][]) => check(effectiveWeights, fn),
  attentionWeights: (fn: (Q: tf.Tensor2D, K: tf.Tensor2D, causal: boolean) => tf.Tensor2D | number[][]) =>
    check(attentionWeights, fn),
};
