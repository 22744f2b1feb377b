/**
 * Checks for the exercises of lesson 02 (queries, keys and values). Every
 * expectation is a locked number computed offline in float64 (Python/numpy)
 * from the formulas in the exercise text; the misconceptions are diagnosed
 * from locked wrong answers computed the same way. No reference solution is
 * shipped. The last exercise runs on the real tokens of datasets/ (queries and
 * keys made offline from their 8-feature PCA vectors with seeded matrices).
 *
 * Catalogue of diagnosed misconceptions:
 * - qkvOfToken: W applied transposed (Wᵀh, the row convention's weights); q, k, v from the wrong matrix;
 *   a vector of the wrong length (not one entry per row of W).
 * - rowQueries: X·W_Q without the transpose; Q returned in the column convention ([d_k, T], i.e. W_Q·Xᵀ).
 * - columnScores: Q·Kᵀ (the row-convention formula on column-convention matrices); KᵀQ (keys as rows);
 *   missing 1/√d_k.
 * - selfAttention: the weights returned instead of the outputs; keys used as values; softmax over the wrong
 *   axis; weights transposed (αᵀV); missing 1/√d_k; no softmax.
 * - strongestKeys: indices instead of tokens; column instead of row (the query that looks most at each key);
 *   softmax over the wrong axis; the weakest key instead of the strongest.
 * - every exercise: inputs mutated (lib/check/core.ts).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type Case, check, describe, type Exercise, type Verdict } from "./core.ts";
import { allClose, expectClose, readMatrix } from "./compare.ts";

/** A failing verdict. */
type Failure = Extract<Verdict, { ok: false }>;

/** Largest allowed absolute error: float32 arithmetic on numbers of size ~1–10. */
const TOL = 1e-4;

// ---------------------------------------------------------------- reading answers

/** The shape of a tensor or nested array, or undefined when it is neither. */
function shapeOf(x: unknown): number[] | undefined {
  if (x instanceof tf.Tensor) return x.isDisposed ? undefined : [...x.shape];
  if (ArrayBuffer.isView(x)) return [(x as unknown as ArrayLike<number>).length];
  if (Array.isArray(x)) {
    const inner = x.length > 0 ? shapeOf(x[0]) : [];
    return inner === undefined ? [x.length] : [x.length, ...inner];
  }
  return undefined;
}

/** Reads a vector from number[], a typed array or a 1-D tensor; a verdict when it cannot. */
function readVector(actual: unknown, n: number, name: string): Float64Array | Failure {
  let values: ArrayLike<unknown>;
  if (actual instanceof tf.Tensor) {
    if (actual.isDisposed) return { ok: false, message: `${name} is a disposed tensor` };
    if (actual.rank !== 1) {
      return { ok: false, message: `${name} must be a vector`, expected: `[${n}]`, actual: `shape [${actual.shape}]` };
    }
    values = actual.dataSync() as Float32Array;
  } else if (Array.isArray(actual) || ArrayBuffer.isView(actual)) {
    values = actual as unknown as ArrayLike<unknown>;
  } else {
    return { ok: false, message: `expected ${name} as an array of ${n} numbers, got ${describe(actual)}` };
  }
  if (values.length !== n) {
    return {
      ok: false,
      message: `${name} has the wrong length`,
      expected: `${n} entries`,
      actual: `${values.length} entries`,
    };
  }
  if (Array.from(values).some((x) => typeof x !== "number")) {
    return { ok: false, message: `expected ${name} as an array of numbers, found a non-number entry` };
  }
  return Float64Array.from(values as ArrayLike<number>);
}

const flat = (m: number[][]) => Float64Array.from(m.flat());
const transposed = (m: number[][]) => m[0].map((_, c) => m.map((row) => row[c]));
const closeTo = (got: Float64Array, want: number[][] | number[] | undefined) =>
  want !== undefined && allClose(got, Float64Array.from((want as number[][]).flat()), TOL);

/** Checks a matrix answer against the expectation; on failure, names the first locked wrong answer it matches. */
function verifyMatrix(
  actual: unknown,
  expected: number[][],
  suspects: [number[][] | undefined, string][],
  shapeHint?: (shape: number[] | undefined) => string | undefined,
): Verdict {
  const rows = expected.length, cols = expected[0].length;
  const M = readMatrix(actual, rows, cols);
  if (!(M instanceof Float64Array)) {
    const diagnosis = shapeHint?.(shapeOf(actual));
    return diagnosis ? { ...(M as Failure), diagnosis } : M;
  }
  const verdict = expectClose(M, flat(expected), cols, TOL);
  if (verdict.ok) return verdict;
  return { ...verdict, diagnosis: suspects.find(([wrong]) => closeTo(M, wrong))?.[1] };
}

// ---------------------------------------------------------------- exercise 1: q, k, v of one token

/** A case of {@linkcode qkvOfToken}: h [d], W [d_k][d]; q = W_Q h, k = W_K h, v = W_V h. */
export interface QkvCase {
  label: string;
  h: number[];
  Wq: number[][];
  Wk: number[][];
  Wv: number[][];
  q: number[];
  k: number[];
  v: number[];
  /** W_Qᵀh (only where W_Q is square). */
  qT?: number[];
}
type QkvArgs = [h: number[], Wq: number[][], Wk: number[][], Wv: number[][]];

/**
 * Judges a [q, k, v] answer.
 *
 * @param actual What the student's function returned.
 * @param c The case, with its locked expectations.
 * @returns A pass, or the first wrong vector with its likely cause.
 * @example
 * ```ts
 * import { verifyQkv } from "./lesson02.ts";
 * const c = { label: "d=1", h: [2], Wq: [[3]], Wk: [[4]], Wv: [[5]], q: [6], k: [8], v: [10] };
 * if (!verifyQkv([[6], [8], [10]], c).ok) throw new Error("the right answer must pass");
 * const swapped = verifyQkv([[8], [8], [10]], c);
 * if (swapped.ok || !swapped.diagnosis?.includes("equals the expected k")) throw new Error("diagnosis missing");
 * ```
 */
export function verifyQkv(actual: unknown, c: QkvCase): Verdict {
  const want = "an array of three vectors [q, k, v]";
  if (!Array.isArray(actual)) {
    const object = actual !== null && typeof actual === "object" && !(actual instanceof tf.Tensor) &&
      "q" in (actual as object);
    return {
      ok: false,
      message: `expected ${want}, got ${describe(actual)}`,
      diagnosis: object ? "return the three vectors in an array, [q, k, v], not as an object" : undefined,
    };
  }
  if (actual.length !== 3) {
    return { ok: false, message: `expected ${want}`, expected: "3 vectors", actual: `${actual.length} entries` };
  }
  const got = { q: actual[0], k: actual[1], v: actual[2] } as Record<string, unknown>;
  for (const name of ["q", "k", "v"] as const) {
    const W = name === "q" ? c.Wq : name === "k" ? c.Wk : c.Wv;
    const rows = W.length; // d_k for q and k, d_v for v
    const vec = readVector(got[name], rows, name);
    if (!(vec instanceof Float64Array)) {
      const wrongLength = /wrong length/.test(vec.message);
      return {
        ...vec,
        diagnosis: wrongLength
          ? `${name} has one entry per row of W_${name.toUpperCase()} (${rows}): entry r is row r of the matrix dotted with h`
          : undefined,
      };
    }
    const want = Float64Array.from(c[name]);
    const raw = expectClose(vec, want, rows, TOL);
    if (raw.ok) continue;
    // expectClose names positions as [row, col]; a vector has entries.
    const entry = (text?: string) => text?.replace(/\[0, (\d+)\]/g, "entry $1");
    const verdict = { ...raw, message: entry(raw.message)!, expected: entry(raw.expected), actual: entry(raw.actual) };
    const others = (["q", "k", "v"] as const).filter((o) => o !== name && closeTo(vec, c[o]));
    const diagnosis = name === "q" && closeTo(vec, c.qT)
      ? "you multiplied by W_Qᵀ (summing down a column of W): in the lecture's convention W_Q is [d_k, d] and q = W_Q h, row r of W_Q dotted with h"
      : others.length
      ? `your ${name} equals the expected ${
        others[0]
      }: each vector has its own matrix, ${name} = W_${name.toUpperCase()} h`
      : undefined;
    return { ...verdict, message: `${name}: ${verdict.message}`, diagnosis };
  }
  return { ok: true };
}

/**
 * The case as a checker case (fresh arguments on every run).
 *
 * @param c The case's inputs and locked expectations.
 * @returns A case for the checker (`runCheck`).
 */
export function qkvCase(c: QkvCase): Case<QkvArgs> {
  return {
    label: c.label,
    args: (): QkvArgs => [[...c.h], c.Wq.map((r) => [...r]), c.Wk.map((r) => [...r]), c.Wv.map((r) => [...r])],
    verify: (actual: unknown) => verifyQkv(actual, c),
  };
}

// ---------------------------------------------------------------- exercise 2: queries in the row convention

/** A case of {@linkcode rowQueries}: X [T, d], W_Q [d_k, d]; Q = X W_Qᵀ [T, d_k]. */
export interface RowQueryCase {
  label: string;
  X: number[][];
  Wq: number[][];
  expected: number[][];
  /** X·W_Q (only where W_Q is square). */
  noTranspose?: number[][];
}
type RowQueryArgs = [X: tf.Tensor2D, Wq: tf.Tensor2D];

/**
 * Judges the queries in the row convention.
 *
 * @param actual What the student's function returned.
 * @param c The case, with its locked expectations.
 * @returns A pass, or the first failure with its likely cause.
 */
export function verifyRowQueries(actual: unknown, c: RowQueryCase): Verdict {
  const T = c.X.length, dk = c.Wq.length;
  const columnConvention = "you returned the column convention's Q = W_Q Xᵀ ([d_k, T], one token per column): " +
    "in the row convention each token is a row, Q = X W_Qᵀ";
  return verifyMatrix(
    actual,
    c.expected,
    [
      [
        c.noTranspose,
        "W_Q is stored the lecture's way, [d_k, d]: in the row convention multiply by its transpose, X W_Qᵀ",
      ],
      [T === dk ? transposed(c.expected) : undefined, columnConvention],
    ],
    (shape) => shape?.length === 2 && shape[0] === dk && shape[1] === T ? columnConvention : undefined,
  );
}

/**
 * The case as a checker case (fresh arguments on every run).
 *
 * @param c The case's inputs and locked expectations.
 * @returns A case for the checker (`runCheck`).
 */
export function rowQueryCase(c: RowQueryCase): Case<RowQueryArgs> {
  return {
    label: c.label,
    args: (): RowQueryArgs => [tf.tensor2d(c.X), tf.tensor2d(c.Wq)],
    verify: (actual: unknown) => verifyRowQueries(actual, c),
  };
}

// ---------------------------------------------------------------- exercise 3: scores in the column convention

/** A case of {@linkcode columnScores}: Q, K [d_k, T]; E = QᵀK / √d_k [T, T]. */
export interface ColumnScoreCase {
  label: string;
  Q: number[][];
  K: number[][];
  expected: number[][];
  /** QᵀK without the scale. */
  unscaled?: number[][];
  /** Q·Kᵀ / √d_k (only where d_k = T, so the mistake runs). */
  rowFormula?: number[][];
}
type ColumnScoreArgs = [Q: tf.Tensor2D, K: tf.Tensor2D];

/**
 * Judges the score matrix.
 *
 * @param actual What the student's function returned.
 * @param c The case, with its locked expectations.
 * @returns A pass, or the first failure with its likely cause.
 */
export function verifyColumnScores(actual: unknown, c: ColumnScoreCase): Verdict {
  const dk = c.Q.length, T = c.Q[0].length;
  const rowFormula = "Q·Kᵀ is the row convention's formula: here each token is a column, so the scores are QᵀK";
  return verifyMatrix(
    actual,
    c.expected,
    [
      [c.rowFormula, rowFormula],
      [
        T > 1 ? transposed(c.expected) : undefined,
        "your matrix is transposed (KᵀQ): row i must hold query i's scores against every key, E = QᵀK",
      ],
      [c.unscaled, "missing 1/√d_k: the scores are QᵀK / √d_k (lesson 04 shows why)"],
    ],
    (shape) => shape?.length === 2 && shape[0] === dk && shape[1] === dk ? rowFormula : undefined,
  );
}

/**
 * The case as a checker case (fresh arguments on every run).
 *
 * @param c The case's inputs and locked expectations.
 * @returns A case for the checker (`runCheck`).
 */
export function columnScoreCase(c: ColumnScoreCase): Case<ColumnScoreArgs> {
  return {
    label: c.label,
    args: (): ColumnScoreArgs => [tf.tensor2d(c.Q), tf.tensor2d(c.K)],
    verify: (actual: unknown) => verifyColumnScores(actual, c),
  };
}

// ---------------------------------------------------------------- exercise 4: self-attention outputs

/** A case of {@linkcode selfAttention}: Q, K [T, d_k], V [T, d_v]; Z = softmax(QKᵀ/√d_k) V [T, d_v]. */
export interface SelfAttentionCase {
  label: string;
  Q: number[][];
  K: number[][];
  V: number[][];
  expected: number[][];
  /** The weights α themselves (a known wrong answer). */
  weights?: number[][];
  wrongAxis?: number[][];
  transposedWeights?: number[][];
  unscaled?: number[][];
  noSoftmax?: number[][];
  /** α·K (only where d_k = d_v). */
  keysAsValues?: number[][];
}
type SelfAttentionArgs = [Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D];

/**
 * Judges the outputs z_i.
 *
 * @param actual What the student's function returned.
 * @param c The case, with its locked expectations.
 * @returns A pass, or the first failure with its likely cause.
 */
export function verifySelfAttention(actual: unknown, c: SelfAttentionCase): Verdict {
  const T = c.Q.length, dv = c.V[0].length;
  return verifyMatrix(
    actual,
    c.expected,
    [
      [c.weights, "you returned the weights α; the outputs are α·V, one row of d_v features per token"],
      [c.keysAsValues, "the outputs mix the values, not the keys: z_i = Σ_j α_ij v_j (keys only score)"],
      [
        c.wrongAxis,
        "softmax over the wrong axis: each query's weights over the keys (a row of the scores) must sum to 1",
      ],
      [c.transposedWeights, "the weights are transposed: output i uses row i of α, Z = αV, not αᵀV"],
      [c.unscaled, "missing 1/√d_k: the scores are QKᵀ / √d_k"],
      [c.noSoftmax, "no softmax: the scores must become weights (softmax of each row) before they mix the values"],
    ],
    (shape) =>
      shape?.length === 2 && shape[0] === T && shape[1] === T && T !== dv
        ? "you returned the weights α ([T, T]); the outputs are α·V, one row of d_v features per token"
        : undefined,
  );
}

/**
 * The case as a checker case (fresh arguments on every run).
 *
 * @param c The case's inputs and locked expectations.
 * @returns A case for the checker (`runCheck`).
 */
export function selfAttentionCase(c: SelfAttentionCase): Case<SelfAttentionArgs> {
  return {
    label: c.label,
    args: (): SelfAttentionArgs => [tf.tensor2d(c.Q), tf.tensor2d(c.K), tf.tensor2d(c.V)],
    verify: (actual: unknown) => verifySelfAttention(actual, c),
  };
}

// ---------------------------------------------------------------- exercise 5: which key wins

/** A case of {@linkcode strongestKeys}: for each query token, the key token with the largest weight. */
export interface StrongestKeyCase {
  label: string;
  tokens: string[];
  Q: number[][];
  K: number[][];
  expected: string[];
  /** For each key, the query with the largest score (a column-wise argmax). */
  byColumn?: string[];
  /** Row-wise argmax after a softmax over the wrong axis. */
  wrongAxis?: string[];
  /** The smallest weight instead of the largest. */
  weakest?: string[];
}
type StrongestKeyArgs = [Q: tf.Tensor2D, K: tf.Tensor2D, tokens: string[]];

/**
 * Judges the list of strongest keys.
 *
 * @param actual What the student's function returned.
 * @param c The case, with its locked expectations.
 * @returns A pass, or the first failure with its likely cause.
 */
export function verifyStrongestKeys(actual: unknown, c: StrongestKeyCase): Verdict {
  const T = c.tokens.length;
  const want = `an array of ${T} tokens (strings)`;
  if (!Array.isArray(actual)) return { ok: false, message: `expected ${want}, got ${describe(actual)}` };
  if (actual.length !== T) {
    return { ok: false, message: "wrong length: one token per query", expected: `${T}`, actual: `${actual.length}` };
  }
  if (actual.every((x) => typeof x === "number")) {
    const asTokens = actual.map((j) => c.tokens[j as number]);
    return {
      ok: false,
      message: `expected ${want}, got numbers`,
      diagnosis: asTokens.every((t, i) => t === c.expected[i])
        ? "your indices are right: return the tokens themselves, tokens[j]"
        : "return the tokens themselves (tokens[j]), not indices",
    };
  }
  if (!actual.every((x) => typeof x === "string")) return { ok: false, message: `expected ${want}` };
  const i = actual.findIndex((t, k) => t !== c.expected[k]);
  if (i < 0) return { ok: true };
  const same = (wrong?: string[]) => wrong !== undefined && wrong.every((t, k) => t === actual[k]);
  const diagnosis = same(c.byColumn)
    ? "you took the largest entry of each column: that is the query that looks most at key j; row i of the weights belongs to query i"
    : same(c.wrongAxis)
    ? "softmax over the wrong axis changes which key wins: each query's weights are one row of the scores"
    : same(c.weakest)
    ? "you picked the smallest weight: the key query i attends to most has the largest score"
    : undefined;
  return {
    ok: false,
    message: `wrong key for query ${i} (${JSON.stringify(c.tokens[i])})`,
    expected: JSON.stringify(c.expected[i]),
    actual: JSON.stringify(actual[i]),
    diagnosis,
  };
}

/**
 * The case as a checker case (fresh arguments on every run).
 *
 * @param c The case's inputs and locked expectations.
 * @returns A case for the checker (`runCheck`).
 */
export function strongestKeyCase(c: StrongestKeyCase): Case<StrongestKeyArgs> {
  return {
    label: c.label,
    args: (): StrongestKeyArgs => [tf.tensor2d(c.Q), tf.tensor2d(c.K), [...c.tokens]],
    verify: (actual: unknown) => verifyStrongestKeys(actual, c),
  };
}

// ---------------------------------------------------------------- locked cases

// Computed offline in float64 (Python/numpy) from the formulas in the exercise texts; do not edit by hand.
// The token cases use the 8-feature PCA vectors of datasets/minilm_embeddings.json and seeded W_Q, W_K.
const QKV_CASES: QkvCase[] = [
  {
    label: "d=2, d_k=2",
    h: [-0.8, 0.2],
    Wq: [[-1.9, 1.4], [0.6, -0.3]],
    Wk: [[-0.3, 0.3], [-0.3, -0.2]],
    Wv: [[0.7, 0.5], [-0.1, -0.1]],
    q: [1.8, -0.54],
    k: [0.3, 0.2],
    v: [-0.46, 0.06],
    qT: [1.64, -1.18],
  },
  {
    label: "d=3, d_k=2",
    h: [0.2, -0.6, -0.4],
    Wq: [[0.5, -0.1, -1.4], [-0.5, 0.7, -0.2]],
    Wk: [[-0.1, 0.6, 1.8], [-0.7, 1.3, -1.2]],
    Wv: [[0.2, -1.2, 1.4], [0.8, 1.1, -0.9]],
    q: [0.72, -0.44],
    k: [-1.1, -0.44],
    v: [0.2, -0.14],
  },
  {
    label: "d=4, d_k=3",
    h: [0.7, -0.5, -0.5, 0.5],
    Wq: [[0.9, 0.2, -0.6, -0.8], [1.4, 0.6, 0.7, 2.2], [-0.8, 2.6, 3.2, 1.6]],
    Wk: [[0.8, -0.7, 1.0, -0.4], [0.0, -0.3, 0.3, 1.3], [-0.6, -1.0, -1.0, -1.0]],
    Wv: [[-1.4, -0.9, 1.3, -0.6], [0.3, -1.2, 0.2, -1.7], [-0.7, 2.3, -0.6, 1.1]],
    q: [0.43, 1.43, -2.66],
    k: [0.21, 0.65, 0.08],
    v: [-1.48, -0.14, -0.79],
  },
  {
    label: "d=1, d_k=1",
    h: [0.5],
    Wq: [[-0.2]],
    Wk: [[-0.7]],
    Wv: [[1.3]],
    q: [-0.1],
    k: [-0.35],
    v: [0.65],
    qT: [-0.1],
  },
  {
    label: "d=3, d_k=2, d_v=4",
    h: [0.4, -0.6, 2.7],
    Wq: [[-1.6, 0.7, -0.1], [-0.4, 1.1, -1.8]],
    Wk: [[-1.0, -0.1, 1.7], [0.1, 0.9, -1.9]],
    Wv: [[-1.2, 1.0, -0.6], [-0.1, 0.7, -2.2], [-1.2, -0.1, -1.5], [-0.7, 0.0, -0.7]],
    q: [-1.33, -5.68],
    k: [4.25, -5.63],
    v: [-2.7, -6.4, -4.47, -2.17],
  },
];

const ROW_QUERY_CASES: RowQueryCase[] = [
  {
    label: "T=3, d=3, d_k=3",
    X: [[-0.9, 1.6, 1.5], [0.6, 0.0, 0.2], [-1.1, -0.2, -0.1]],
    Wq: [[-0.9, 0.8, -1.4], [-0.5, -2.3, 0.5], [0.7, 0.6, 2.9]],
    expected: [[-0.01, -2.48, 4.68], [-0.82, -0.2, 1.0], [0.97, 0.96, -1.18]],
    noTranspose: [[1.06, -3.5, 6.41], [-0.4, 0.6, -0.26], [1.02, -0.48, 1.15]],
  },
  {
    label: "T=4, d=3, d_k=2",
    X: [[0.9, -0.9, 2.7], [-0.9, 0.8, 0.7], [-0.9, 1.4, 0.4], [0.6, -0.7, 1.3]],
    Wq: [[-0.9, -1.8, 1.4], [-0.4, 0.0, 1.9]],
    expected: [[4.59, 4.77], [0.35, 1.69], [-1.15, 1.12], [2.54, 2.23]],
  },
  {
    label: "T=2, d=5, d_k=4",
    X: [[1.1, 0.6, 1.1, -0.7, 0.8], [1.1, 0.8, -0.2, -3.7, 0.6]],
    Wq: [[0.1, -0.4, 0.8, 0.3, 0.2], [-1.5, -1.5, 0.4, 0.1, 0.1], [0.2, 0.4, 0.0, 0.2, 0.3], [
      0.9,
      -0.5,
      0.8,
      0.6,
      0.1,
    ]],
    expected: [[0.7, -2.1, 0.56, 1.23], [-1.36, -3.24, -0.02, -1.73]],
  },
  {
    label: "T=1, d=3, d_k=2",
    X: [[-0.5, 0.4, 0.9]],
    Wq: [[-1.1, 0.1, 0.1], [-0.7, -0.6, -1.6]],
    expected: [[0.68, -1.33]],
  },
];

const COLUMN_SCORE_CASES: ColumnScoreCase[] = [
  {
    label: "d_k=3, T=3",
    Q: [[0.5, -0.1, -0.5], [-0.2, 1.0, -1.0], [1.1, 1.5, 0.0]],
    K: [[0.3, -1.4, 2.4], [1.0, 0.2, 0.1], [0.5, -0.7, 0.3]],
    expected: [[0.288675, -0.871799, 0.871799], [0.993042, -0.409919, 0.178979], [-0.663953, 0.288675, -0.750555]],
    unscaled: [[0.5, -1.51, 1.51], [1.72, -0.71, 0.31], [-1.15, 0.5, -1.3]],
    rowFormula: [[-0.525389, 0.248261, 0.09815], [-2.228572, -0.057735, -0.635085], [-1.02191, 0.80829, -0.288675]],
  },
  {
    label: "d_k=2, T=4",
    Q: [[-0.9, 0.5, -0.7, 0.9], [-0.1, 0.3, 3.0, 0.8]],
    K: [[0.3, 0.0, -1.0, 1.1], [1.6, 0.1, 1.7, -0.1]],
    expected: [[-0.304056, -0.007071, 0.516188, -0.692965], [0.445477, 0.021213, 0.007071, 0.367696], [
      3.24562,
      0.212132,
      4.101219,
      -0.756604,
    ], [1.096016, 0.056569, 0.325269, 0.643467]],
    unscaled: [[-0.43, -0.01, 0.73, -0.98], [0.63, 0.03, 0.01, 0.52], [4.59, 0.3, 5.8, -1.07], [
      1.55,
      0.08,
      0.46,
      0.91,
    ]],
  },
  {
    label: "d_k=4, T=2",
    Q: [[-1.8, -0.7], [-1.1, -0.3], [0.6, -0.9], [-0.1, 0.2]],
    K: [[-0.7, -0.9], [0.1, 0.9], [-0.6, -0.8], [-0.1, 0.3]],
    expected: [[0.4, 0.06], [0.49, 0.57]],
    unscaled: [[0.8, 0.12], [0.98, 1.14]],
  },
  {
    label: "d_k=3, T=1",
    Q: [[-0.5], [-0.3], [-0.2]],
    K: [[-1.1], [-0.2], [-0.6]],
    expected: [[0.421466]],
    unscaled: [[0.73]],
  },
];

const SELF_ATTENTION_CASES: SelfAttentionCase[] = [
  {
    label: "T=3, d_k=3, d_v=3",
    Q: [[0.3, -0.6, -0.2], [0.6, 0.6, 1.3], [-2.2, -1.6, 1.5]],
    K: [[0.6, 0.8, -0.3], [-0.5, 0.2, -0.9], [-1.5, -1.1, 0.1]],
    V: [[0.6, 1.7, 0.4], [0.5, 1.7, -0.8], [-1.0, -0.5, -0.1]],
    expected: [[-0.040496, 0.863781, -0.178085], [0.259596, 1.260698, 0.049213], [-0.935927, -0.407219, -0.119763]],
    weights: [[0.296537, 0.323363, 0.3801], [0.591196, 0.209122, 0.199683], [0.008132, 0.034042, 0.957827]],
    wrongAxis: [[0.395229, 1.365681, -0.213213], [0.4203, 1.298806, 0.04726], [-0.715528, 0.235514, -0.334047]],
    transposedWeights: [[0.465389, 1.50508, -0.355155], [0.264537, 0.888203, -0.041356], [
      -0.629926,
      0.506716,
      -0.103489,
    ]],
    unscaled: [[-0.096332, 0.785731, -0.184692], [0.402203, 1.445276, 0.191596], [-0.99497, -0.49266, -0.102026]],
    noSoftmax: [[-0.218816, -0.378742, -0.024826], [0.591784, -0.47054, 0.810022], [-4.229091, -5.057011, -0.741895]],
    keysAsValues: [[-0.553909, -0.116207, -0.341978], [-0.049367, 0.29513, -0.3456], [-1.448882, -1.040296, 0.062706]],
  },
  {
    label: "T=4, d_k=2, d_v=3",
    Q: [[2.0, -0.3], [1.3, -0.5], [0.5, 0.7], [0.5, 0.8]],
    K: [[-0.7, 1.5], [1.0, -0.7], [0.5, -1.1], [0.1, -1.2]],
    V: [[0.7, 3.0, 1.5], [0.7, -0.9, 0.4], [1.2, -0.1, 0.1], [-1.7, -0.9, -1.8]],
    expected: [[0.448549, -0.558581, -0.011468], [0.321187, -0.491794, -0.137291], [0.437559, 0.877059, 0.486506], [
      0.461714,
      1.031404,
      0.566706,
    ]],
    weights: [[0.029741, 0.524998, 0.281784, 0.163476], [0.041048, 0.426348, 0.310151, 0.222454], [
      0.419352,
      0.257445,
      0.176981,
      0.146221,
    ], [0.461956, 0.242743, 0.16222, 0.133081]],
    wrongAxis: [[0.282746, -0.586229, -0.294748], [0.060613, -0.452743, -0.426885], [0.259847, 0.993867, 0.418333], [
      0.296794,
      1.145104,
      0.503299,
    ]],
    transposedWeights: [[-0.23255, -0.405414, -0.728554], [0.562214, 0.947068, 0.546844], [
      0.350958,
      0.402521,
      0.272439,
    ], [0.219378, 0.155826, 0.109271]],
    unscaled: [[0.543894, -0.654263, 0.074911], [0.392361, -0.58518, -0.095914], [0.505517, 1.14541, 0.654978], [
      0.534043,
      1.365062,
      0.76245,
    ]],
    noSoftmax: [[0.633568, -5.781305, -1.955857], [0.135765, -5.120867, -2.138291], [0.859842, 2.018083, 1.714027], [
      0.950352,
      2.464974,
      1.998284,
    ]],
  },
  {
    label: "T=2, d_k=3, d_v=1",
    Q: [[1.9, 0.5, 0.7], [-0.2, -1.5, 0.2]],
    K: [[-0.6, -1.0, 0.1], [0.1, -0.2, -0.8]],
    V: [[-1.0], [0.0]],
    expected: [[-0.346358], [-0.706319]],
    weights: [[0.346358, 0.653642], [0.706319, 0.293681]],
    wrongAxis: [[-0.135487], [-0.864513]],
    transposedWeights: [[-0.346358], [-0.653642]],
    unscaled: [[-0.24974], [-0.820538]],
    noSoftmax: [[0.90644], [-0.946854]],
  },
  {
    label: "T=1, d_k=2, d_v=2",
    Q: [[1.2, -1.6]],
    K: [[-0.7, -0.2]],
    V: [[-0.2, -0.6]],
    expected: [[-0.2, -0.6]],
    weights: [[1.0]],
    wrongAxis: [[-0.2, -0.6]],
    transposedWeights: [[-0.2, -0.6]],
    unscaled: [[-0.2, -0.6]],
    noSoftmax: [[0.073539, 0.220617]],
    keysAsValues: [[-0.7, -0.2]],
  },
];

const STRONGEST_KEY_CASES: StrongestKeyCase[] = [
  {
    label: '"a fluffy blue creature roamed the verdant forest"',
    tokens: ["a", "fluffy", "blue", "creature", "roam", "##ed", "the", "ve", "##rdan", "##t", "forest"],
    Q: [
      [0.906, 0.322, 0.756, -0.984],
      [-0.726, -0.726, 0.893, -0.796],
      [3.013, 0.288, 0.781, -0.878],
      [-0.392, 0.657, 1.748, -0.983],
      [-2.238, -0.955, 0.122, 0.224],
      [-0.035, 0.081, 0.153, -0.41],
      [0.802, 0.397, 0.603, -0.959],
      [0.154, -0.709, -0.519, 1.08],
      [-0.759, -0.47, -0.427, 0.438],
      [-0.632, -0.172, 0.253, -0.549],
      [0.767, 0.864, -1.128, 1.012],
    ],
    K: [
      [0.434, -0.096, -0.23, -0.174],
      [-0.31, -0.49, 0.712, -0.436],
      [-1.578, 1.776, -1.293, 1.104],
      [0.251, 0.556, -0.645, 0.739],
      [0.285, -0.618, 0.673, -0.455],
      [0.087, -0.248, 0.429, -0.427],
      [0.363, 0.045, -0.128, -0.349],
      [0.471, -0.568, -0.749, 0.9],
      [0.019, -0.28, 0.011, -0.286],
      [0.363, -0.65, 0.564, -0.786],
      [-0.37, 2.646, -1.744, 0.571],
    ],
    expected: ["##t", "fluffy", "##t", "fluffy", "blue", "##t", "##t", "ve", "blue", "fluffy", "forest"],
    byColumn: ["blue", "fluffy", "forest", "forest", "blue", "creature", "blue", "ve", "fluffy", "blue", "forest"],
    wrongAxis: ["##t", "fluffy", "##t", "fluffy", "blue", "##rdan", "##t", "ve", "blue", "fluffy", "forest"],
    weakest: ["blue", "forest", "blue", "ve", "forest", "ve", "blue", "##t", "##t", "forest", "fluffy"],
  },
  {
    label: '"I am enjoying this lecture on attention"',
    tokens: ["i", "am", "enjoying", "this", "lecture", "on", "attention"],
    Q: [
      [0.266, -0.144, -0.465, 0.058],
      [0.68, 0.386, -0.724, -0.354],
      [-1.764, 0.014, -1.573, -0.204],
      [-0.118, -0.513, -0.081, 0.338],
      [0.217, 0.603, 0.464, -0.262],
      [-0.168, -0.321, -0.392, 0.335],
      [0.455, 0.638, 3.013, 1.171],
    ],
    K: [
      [-0.46, 0.454, -0.179, -0.176],
      [-0.256, 0.818, -0.191, -0.368],
      [0.617, -0.361, -0.952, -0.705],
      [-0.129, -0.489, -0.13, 0.009],
      [1.525, -1.33, 0.755, 0.811],
      [-0.526, -0.098, -0.398, -0.304],
      [1.075, -0.054, -1.495, -1.259],
    ],
    expected: ["attention", "attention", "on", "lecture", "am", "this", "lecture"],
    byColumn: ["enjoying", "enjoying", "am", "enjoying", "attention", "enjoying", "am"],
    wrongAxis: ["enjoying", "attention", "on", "this", "am", "this", "lecture"],
    weakest: ["am", "lecture", "lecture", "am", "this", "am", "attention"],
  },
  {
    label: "three tokens",
    tokens: ["cat", "sat", "mat"],
    Q: [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
    K: [[0.0, 1.0], [2.0, 0.0], [0.5, 0.5]],
    expected: ["sat", "cat", "sat"],
    byColumn: ["sat", "cat", "mat"],
    wrongAxis: ["sat", "cat", "sat"],
    weakest: ["cat", "sat", "cat"],
  },
];

const qkvOfToken: Exercise<QkvArgs> = {
  id: "02.qkvOfToken",
  name: "qkvOfToken",
  points: 1,
  cases: QKV_CASES.map(qkvCase),
};

const rowQueries: Exercise<RowQueryArgs> = {
  id: "02.rowQueries",
  name: "rowQueries",
  points: 2,
  cases: ROW_QUERY_CASES.map(rowQueryCase),
};

const columnScores: Exercise<ColumnScoreArgs> = {
  id: "02.columnScores",
  name: "columnScores",
  points: 2,
  cases: COLUMN_SCORE_CASES.map(columnScoreCase),
};

const selfAttention: Exercise<SelfAttentionArgs> = {
  id: "02.selfAttention",
  name: "selfAttention",
  points: 3,
  cases: SELF_ATTENTION_CASES.map(selfAttentionCase),
};

const strongestKeys: Exercise<StrongestKeyArgs> = {
  id: "02.strongestKeys",
  name: "strongestKeys",
  points: 2,
  cases: STRONGEST_KEY_CASES.map(strongestKeyCase),
};

/** The lesson-02 exercises, for tests and the grader. */
export const lesson02Exercises = { qkvOfToken, rowQueries, columnScores, selfAttention, strongestKeys };

/** A matrix answer: a tensor or nested arrays. */
type MatrixAnswer = tf.Tensor2D | number[][];

/**
 * Check calls for lesson 02's exercise notebook: `await check02.qkvOfToken(qkvOfToken)`.
 */
export const check02 = {
  qkvOfToken: (fn: (h: number[], Wq: number[][], Wk: number[][], Wv: number[][]) => number[][]) =>
    check(qkvOfToken, fn),
  rowQueries: (fn: (X: tf.Tensor2D, Wq: tf.Tensor2D) => MatrixAnswer) => check(rowQueries, fn),
  columnScores: (fn: (Q: tf.Tensor2D, K: tf.Tensor2D) => MatrixAnswer) => check(columnScores, fn),
  selfAttention: (fn: (Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D) => MatrixAnswer) => check(selfAttention, fn),
  strongestKeys: (fn: (Q: tf.Tensor2D, K: tf.Tensor2D, tokens: string[]) => string[]) => check(strongestKeys, fn),
};
