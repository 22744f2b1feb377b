/**
 * Checks for the exercises of lesson 03 (the T×T matrix: the causal mask, its
 * memory, the KV cache and the cost of generation). Every expectation is a
 * locked number or pattern: mask patterns written out by hand, byte budgets
 * and FLOP counts computed offline with exact integers (Python), decode-step
 * values computed offline in float64 (Python, numpy). No reference solution
 * is shipped; wrong answers are diagnosed from invariants (which entries are
 * −∞, which cache rows are the caller's) and from the known wrong formulas.
 *
 * Catalogue of diagnosed misconceptions:
 * - causalMask: keep-mask of 0/1 (or booleans) instead of 0/−∞; NaN from 0·(−∞); a large finite negative
 *   number instead of −∞; diagonal masked; key i + 1 visible; past and future swapped; nothing masked;
 *   mask aligned to the first keys instead of the last (S > T, a cache before the queries); [S, T] instead
 *   of [T, S]; no RangeError for T > S.
 * - maxContext: elements instead of bytes; heads ignored; rounding up; "<" at an exact fit; a causal mask
 *   assumed to halve the memory; memory linear in T.
 * - decodeStep: y for all tokens instead of the new one; cache not grown; appended along the feature
 *   axis; new key prepended; embedding (or query) cached instead of the key; keys and values swapped;
 *   earlier cache rows changed; the new token not attending to itself; missing 1/√d.
 * - generationFlops: Σ(P + t) counted as N² (T² instead of T(T+1)/2) or N²/2; the prompt left out of the
 *   attention span; every query recomputed; the attention products left out; a multiply–add as 1 FLOP;
 *   cached and uncached swapped; the prompt's prefill counted.
 * - every exercise: inputs mutated (lib/check/core.ts).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { check, describe, type Exercise, type Verdict } from "./core.ts";
import { expectClose, expectCount, type Misconception, readMatrix } from "./compare.ts";

// ---------------------------------------------------------------- causal mask

type MaskArgs = [T: number, S: number];

/** A locked mask pattern: one string per query row, "0" = keep (add 0), "-" = drop (add −∞). */
export interface MaskCase {
  T: number;
  S: number;
  rows: string[];
}

// Written out by hand from the rule "query i is token S − T + i and sees keys j ≤ S − T + i".
const MASK_CASES: MaskCase[] = [
  { T: 1, S: 1, rows: ["0"] },
  { T: 3, S: 6, rows: ["0000--", "00000-", "000000"] },
  { T: 2, S: 5, rows: ["0000-", "00000"] },
  { T: 4, S: 4, rows: ["0---", "00--", "000-", "0000"] },
  { T: 1, S: 4, rows: ["0000"] },
];

type Failure = Extract<Verdict, { ok: false }>;

/** A failing verdict from readMatrix (which only ever returns failures). */
function failed(v: Verdict): Failure {
  return v.ok ? { ok: false, message: "the result could not be read" } : v;
}

/** The shape of a tensor or nested array, or null. */
function shapeOf(x: unknown): number[] | null {
  if (x instanceof tf.Tensor) return [...x.shape];
  if (Array.isArray(x)) {
    const inner = Array.isArray(x[0]) ? x[0].length : null;
    return inner === null ? [x.length] : [x.length, inner];
  }
  return null;
}

/** Keep patterns of the usual wrong masks, named by their cause (only those that differ from the right one). */
function maskSuspects(T: number, S: number): [string, (i: number, j: number) => boolean][] {
  const o = S - T;
  return [
    [
      `the mask is aligned to the first keys: with S − T = ${o} earlier (cached) keys before the T queries, query i ` +
      "is token S − T + i and sees keys j ≤ S − T + i",
      (i, j) => j <= i,
    ],
    ["off-by-one causal mask: the diagonal is masked, but each query must see its own key", (i, j) => j < i + o],
    [
      "off-by-one causal mask: query i also sees the next key; keep only keys up to its own position",
      (i, j) => j <= i + o + 1,
    ],
    [
      "past and future swapped: a query keeps the keys up to its own position (lower left) and drops the later ones",
      (i, j) => j >= i + o,
    ],
  ];
}

/**
 * Verifies a causal mask against a locked pattern.
 *
 * @param actual What the student returned.
 * @param c The locked pattern.
 * @returns Pass, or the first wrong entry with the likely cause.
 */
export function verifyCausalMask(actual: unknown, c: MaskCase): Verdict {
  const { T, S } = c;
  if (actual instanceof tf.Tensor && actual.dtype === "bool") {
    return {
      ok: false,
      message: "expected a float32 additive mask, got a bool tensor",
      diagnosis: "that is a keep-mask: the additive mask holds 0 (keep) and −Infinity (drop), added to the scores " +
        "before the softmax",
    };
  }
  const m = readMatrix(actual, T, S);
  if (!(m instanceof Float64Array)) {
    const shape = shapeOf(actual);
    if (T !== S && shape?.length === 2 && shape[0] === S && shape[1] === T) {
      return {
        ...failed(m),
        diagnosis: "rows are the T queries and columns the S keys: the mask is [T, S], not [S, T]",
      };
    }
    return m;
  }
  const expected = (i: number, j: number) => c.rows[i][j] === "0" ? 0 : -Infinity;
  let first = -1;
  for (let k = 0; k < m.length; k++) {
    if (m[k] !== expected(Math.floor(k / S), k % S)) {
      first = k;
      break;
    }
  }
  if (first < 0) return { ok: true };
  const [fi, fj] = [Math.floor(first / S), first % S];
  const verdict = {
    ok: false as const,
    message: `wrong entry at [${fi}, ${fj}] (query ${fi}, key ${fj})`,
    expected: String(expected(fi, fj)),
    actual: String(m[first]),
  };
  const values = new Set(m);
  const at = (i: number, j: number) => m[i * S + j];
  const grid = (f: (i: number, j: number) => boolean) =>
    Array.from({ length: T * S }, (_, k) => f(Math.floor(k / S), k % S));
  const keepExpected = grid((i, j) => c.rows[i][j] === "0");
  if (m.some(Number.isNaN)) {
    return {
      ...verdict,
      diagnosis: "NaN in the mask: 0 · (−∞) is NaN, so multiplying a 0/1 mask by −Infinity fails — choose 0 or " +
        "−Infinity per entry (tf.where, or a loop)",
    };
  }
  if (values.size === 1 && values.has(0)) {
    return { ...verdict, diagnosis: "nothing is masked: the keys after each query's position must get −∞" };
  }
  if ([...values].every((v) => v === 0 || v === 1)) {
    return {
      ...verdict,
      diagnosis: "a 0/1 flag mask: the additive mask holds 0 (keep) and −Infinity (drop), added to the scores " +
        "before the softmax",
    };
  }
  const dropped = grid((i, j) => at(i, j) !== 0);
  const finiteDrops = m.filter((v) => v !== 0 && Number.isFinite(v));
  if (finiteDrops.length && finiteDrops.every((v) => v <= -1e4) && dropped.every((d, k) => d === !keepExpected[k])) {
    return {
      ...verdict,
      diagnosis: "a large finite number instead of −Infinity: exp(−∞) is exactly 0, while a finite penalty leaves a " +
        "tiny weight (and stops masking once scores are that large)",
    };
  }
  if ([...values].every((v) => v === 0 || v === -Infinity)) {
    for (const [cause, keep] of maskSuspects(T, S)) {
      const pattern = grid(keep);
      if (pattern.some((p, k) => p !== keepExpected[k]) && pattern.every((p, k) => p === !dropped[k])) {
        return { ...verdict, diagnosis: cause };
      }
    }
  }
  return verdict;
}

const causalMask: Exercise<MaskArgs> = {
  id: "03.causalMask",
  name: "causalMask",
  points: 2,
  cases: MASK_CASES.map((c) => ({
    label: `T=${c.T}, S=${c.S}`,
    args: (): MaskArgs => [c.T, c.S],
    verify: (actual: unknown) => verifyCausalMask(actual, c),
  })),
  after: (fn) => {
    try {
      const got = fn(3, 2);
      const described = describe(got);
      if (got instanceof tf.Tensor) got.dispose();
      return {
        ok: false,
        message: "T=3 queries with only S=2 keys cannot be causal (the first query would see no key): throw a " +
          "RangeError",
        actual: `returned ${described}`,
      };
    } catch (err) {
      return err instanceof RangeError ? { ok: true } : {
        ok: false,
        message: `threw ${
          (err as Error)?.name ?? typeof err
        } for T=3, S=2; a RangeError says the value is out of range`,
      };
    }
  },
};

// ---------------------------------------------------------------- memory

type MemoryArgs = [budgetBytes: number, heads: number, bytesPerElement: number];

const GiB = 2 ** 30;

/**
 * Verifies a largest-context answer against its locked value.
 *
 * @param actual What the student returned.
 * @param args The budget in bytes, the number of T×T matrices, bytes per entry.
 * @param expected The locked answer.
 * @returns Pass, or the expected and actual T with the likely cause.
 */
export function verifyMaxContext(actual: unknown, [budget, heads, bytes]: MemoryArgs, expected: bigint): Verdict {
  const isqrt = (x: number) => BigInt(Math.floor(Math.sqrt(Math.floor(x))));
  const known: Misconception[] = [
    [isqrt(budget / heads), "you counted entries, not bytes: each entry takes bytesPerElement bytes"],
    [BigInt(Math.ceil(Math.sqrt(budget / (heads * bytes)))), "rounded up: that T no longer fits; round down"],
    [
      isqrt((2 * budget) / (heads * bytes)),
      "a causal mask does not halve the memory: the whole T×T matrix is stored, its zeros too",
    ],
    [BigInt(Math.floor(budget / (heads * bytes))), "the matrix has T² entries, not T: memory grows as T²"],
  ];
  if (heads > 1) {
    known.push([isqrt(budget / bytes), "every head stores its own T×T matrix: divide the budget among the heads"]);
  }
  if (BigInt(heads * bytes) * expected * expected === BigInt(budget)) {
    known.push([expected - 1n, "a matrix that fills the budget exactly still fits (≤, not <)"]);
  }
  return expectCount(actual, expected, known);
}

// Computed offline with exact integer square roots (Python math.isqrt); do not edit by hand.
const MEMORY_CASES: [MemoryArgs, bigint][] = [
  [[16 * GiB, 1, 4], 65536n],
  [[16 * GiB - 1, 1, 4], 65535n],
  [[1000, 1, 4], 15n],
  [[80e9, 96, 4], 14433n],
  [[80e9, 96, 2], 20412n],
  [[24 * GiB, 12, 4], 23170n],
  [[3, 1, 4], 0n],
];

const maxContext: Exercise<MemoryArgs> = {
  id: "03.maxContext",
  name: "maxContext",
  points: 2,
  cases: MEMORY_CASES.map(([args, expected]) => ({
    label: `budget ${args[0]} bytes, heads=${args[1]}, ${args[2]} bytes per entry`,
    args: (): MemoryArgs => args,
    verify: (actual: unknown) => verifyMaxContext(actual, args, expected),
  })),
};

// ---------------------------------------------------------------- decode step

type DecodeArgs = [x: tf.Tensor2D, cache: tf.Tensor2D[], W: tf.Tensor2D[]];

/** A locked decode step: inputs, and the new key, value and output computed offline. */
export interface DecodeCase {
  label: string;
  x: number[][];
  K: number[][];
  V: number[][];
  Wq: number[][];
  Wk: number[][];
  Wv: number[][];
  /** x·W_K */
  newKey: number[];
  /** x·W_V */
  newValue: number[];
  /** softmax(q·K'ᵀ/√d)·V' with q = x·W_Q and the grown cache. */
  y: number[];
  /** The same over the old cache only (null when it is empty). */
  withoutSelf?: number[] | null;
  /** The same without 1/√d. */
  unscaled?: number[];
}

// Computed offline in float64 (Python, numpy) from the formulas in the exercise text; do not edit by hand.
const DECODE_CASES: DecodeCase[] = [
  {
    label: "n=1 cached token, d=2",
    x: [[-1.4, -1.2]],
    K: [[-1.3, -0.6]],
    V: [[1.4, -1.6]],
    Wq: [[0.8, 1.0], [-0.3, -0.6]],
    Wk: [[0.4, 1.0], [1.7, 0.7]],
    Wv: [[1.3, -0.4], [-0.7, -1.4]],
    newKey: [-2.6, -2.24],
    newValue: [-0.98, 2.24],
    y: [-0.541261, 1.53212],
    withoutSelf: [1.4, -1.6],
    unscaled: [-0.721089, 1.82226],
  },
  {
    label: "n=3 cached tokens, d=3",
    x: [[-0.7, -0.2, 1.7]],
    K: [[0.7, -1.6, 0.0], [-0.6, 0.1, -1.6], [0.2, 0.2, 1.6]],
    V: [[0.3, 0.5, -1.5], [2.3, -1.9, 1.1], [-0.3, -0.9, -0.7]],
    Wq: [[-0.5, 0.3, -0.1], [1.2, -1.5, 0.0], [-0.7, 0.6, -1.7]],
    Wk: [[-0.3, 0.2, -1.2], [0.8, 0.1, 0.8], [0.8, -0.8, -0.6]],
    Wv: [[-0.2, 0.6, 0.7], [-0.6, -0.5, -0.6], [-0.5, -0.2, -0.1]],
    newKey: [1.41, -1.52, -0.34],
    newValue: [-0.59, -0.66, -0.54],
    y: [2.23298, -1.85506, 1.0451],
    withoutSelf: [2.26915, -1.87037, 1.0654],
    unscaled: [2.29747, -1.89829, 1.09795],
  },
  {
    label: "n=4 cached tokens, d=4",
    x: [[-0.8, -1.3, -0.2, 0.4]],
    K: [[1.1, 0.1, -0.6, -0.8], [0.7, 1.6, 0.3, -1.2], [-1.0, 1.6, 0.2, -1.7], [-0.1, -1.2, -0.6, -0.5]],
    V: [[-0.7, 0.6, -0.1, -0.6], [0.4, 0.8, -1.6, -0.3], [-1.0, -0.2, -1.3, 0.0], [0.0, -0.3, -1.0, -0.4]],
    Wq: [[-0.9, -1.1, 0.2, -0.9], [0.9, 0.6, -1.6, 0.2], [-0.9, 0.0, 0.0, -1.6], [-0.2, -0.2, 0.8, -0.9]],
    Wk: [[0.6, -0.9, -0.3, -0.7], [1.2, 0.5, 1.9, 0.5], [0.7, 0.7, -0.5, -0.1], [1.1, -0.3, 0.2, 0.0]],
    Wv: [[0.5, -0.3, -0.1, 0.2], [0.1, -0.7, 0.7, -1.0], [-1.0, -1.0, 0.8, -0.3], [-0.8, -0.9, 0.3, -0.8]],
    newKey: [-1.74, -0.19, -2.05, -0.07],
    newValue: [-0.65, 0.99, -0.87, 0.88],
    y: [-0.336199, 0.260273, -1.18936, -0.191942],
    withoutSelf: [-0.32145, 0.225976, -1.20437, -0.242323],
    unscaled: [-0.345087, 0.233881, -1.32561, -0.177486],
  },
  {
    label: "n=0 (empty cache: the first token), d=3",
    x: [[1.1, 1.8, -2.6]],
    K: [],
    V: [],
    Wq: [[-0.1, 0.8, 1.1], [0.5, 1.2, 0.2], [0.4, 0.1, -0.9]],
    Wk: [[-0.7, 0.3, -0.5], [1.0, 1.0, 1.4], [0.0, 1.1, -0.7]],
    Wv: [[-0.7, 0.1, 0.2], [-1.3, -1.4, 0.3], [-0.7, 1.0, 0.3]],
    newKey: [1.03, -0.73, 3.79],
    newValue: [-1.29, -5.01, -0.02],
    y: [-1.29, -5.01, -0.02],
    withoutSelf: null,
  },
];

/**
 * The arguments of a decode-step case, as fresh tensors (the caller's tensor scope owns them).
 *
 * @param c The locked case.
 * @returns x [1, d], the cache [K, V] (each [n, d]) and the weights [W_Q, W_K, W_V] (each [d, d]).
 */
export function decodeArgs(c: DecodeCase): DecodeArgs {
  const d = c.x[0].length;
  const m = (rows: number[][]) => tf.tensor2d(rows.length ? rows : [], [rows.length, d]);
  return [m(c.x), [m(c.K), m(c.V)], [m(c.Wq), m(c.Wk), m(c.Wv)]];
}

const rowsClose = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-4) =>
  a.length === b.length && Array.from(a).every((x, i) => Math.abs(x - b[i]) <= tol);

/** Checks one grown cache (K' or V') against the old rows and the locked new row. */
function verifyCache(
  got: unknown,
  which: "K'" | "V'",
  c: DecodeCase,
  old: number[][],
  newRow: number[],
  other: [old: number[][], newRow: number[]],
): Verdict {
  const n = old.length, d = c.x[0].length;
  const m = readMatrix(got, n + 1, d);
  if (!(m instanceof Float64Array)) {
    const shape = shapeOf(got);
    const name = which === "K'" ? "key" : "value";
    const diagnosis = shape?.length === 2 && shape[0] === n && shape[1] === d
      ? `the cache did not grow: append the new token's ${name} as row ${n}`
      : shape?.length === 2 && shape[1] !== d && shape[0] * shape[1] === (n + 1) * d
      ? "appended along the feature axis: tokens are rows, so concatenate along axis 0"
      : undefined;
    return { ...failed(m), message: `${which}: ${failed(m).message}`, diagnosis };
  }
  const row = (r: number) => Array.from(m.subarray(r * d, (r + 1) * d));
  const want = Float64Array.from([...old, newRow].flat());
  const verdict = expectClose(m, want, d, 1e-4);
  if (verdict.ok) return verdict;
  const x = c.x[0], q = matVec(c.x[0], c.Wq);
  const diagnosis = rowsClose(m, [...other[0], other[1]].flat())
    ? "keys and values are swapped: K' extends the keys, V' the values"
    : rowsClose(row(n), x)
    ? `you cached the token's embedding x; the cache holds its projection x·W_${which === "K'" ? "K" : "V"}`
    : rowsClose(row(n), q)
    ? "you cached the query x·W_Q; the cache holds keys (x·W_K) and values (x·W_V)"
    : rowsClose(m, [newRow, ...old].flat())
    ? "the new row went first: append it at the end — row j of the cache is token j, in order"
    : old.some((r, i) => !rowsClose(row(i), r, 1e-6))
    ? "the earlier rows changed: a cache keeps them as they are and only appends (that is the work it saves)"
    : undefined;
  return { ...verdict, message: `${which}: ${verdict.message}`, diagnosis };
}

/** v·W for a row vector v and a matrix W (a tiny helper for diagnoses, not a solution). */
function matVec(v: number[], W: number[][]): number[] {
  return W[0].map((_, c) => v.reduce((s, vi, i) => s + vi * W[i][c], 0));
}

/**
 * Verifies a decode step `[y, K', V']` against a locked case.
 *
 * @param actual What the student returned.
 * @param c The locked case.
 * @returns Pass, or the first wrong part (K', V' or y) with the likely cause.
 */
export function verifyDecodeStep(actual: unknown, c: DecodeCase): Verdict {
  const n = c.K.length, d = c.x[0].length;
  if (!Array.isArray(actual) || actual.length !== 3) {
    return {
      ok: false,
      message: `expected [y, K', V'] (an array of three matrices: [1, ${d}], [${n + 1}, ${d}], [${n + 1}, ${d}]), got ${
        describe(actual)
      }`,
    };
  }
  const [yGot, kGot, vGot] = actual;
  const caches: [unknown, "K'" | "V'", number[][], number[], [number[][], number[]]][] = [
    [kGot, "K'", c.K, c.newKey, [c.V, c.newValue]],
    [vGot, "V'", c.V, c.newValue, [c.K, c.newKey]],
  ];
  for (const [got, which, old, newRow, other] of caches) {
    const v = verifyCache(got, which, c, old, newRow, other);
    if (!v.ok) return v;
  }
  const y = readMatrix(yGot, 1, d);
  if (!(y instanceof Float64Array)) {
    const shape = shapeOf(yGot);
    return {
      ...failed(y),
      message: `y: ${failed(y).message}`,
      diagnosis: shape?.[0] === n + 1
        ? "y is the new token's output only, one row: the earlier tokens' outputs were produced at earlier steps"
        : undefined,
    };
  }
  const verdict = expectClose(y, Float64Array.from(c.y), d, 1e-4);
  if (verdict.ok) return verdict;
  const diagnosis = c.withoutSelf === null && y.every((v) => v === 0)
    ? "the new token attends to itself too: append its key and value first, then attend over all n + 1"
    : c.withoutSelf && rowsClose(y, c.withoutSelf)
    ? "the new token attends to itself too: append its key and value first, then attend over all n + 1"
    : c.unscaled && rowsClose(y, c.unscaled)
    ? "missing 1/√d: the scores are q·K'ᵀ / √d"
    : undefined;
  return { ...verdict, message: `y: ${verdict.message}`, diagnosis };
}

const decodeStep: Exercise<DecodeArgs> = {
  id: "03.decodeStep",
  name: "decodeStep",
  points: 3,
  cases: DECODE_CASES.map((c) => ({
    label: c.label,
    args: () => decodeArgs(c),
    verify: (actual: unknown) => verifyDecodeStep(actual, c),
  })),
};

// ---------------------------------------------------------------- generation FLOPs

type FlopArgs = [P: number, N: number, d: number, cached: boolean];

/**
 * Verifies a generation FLOP count against its locked value, naming known wrong formulas.
 *
 * @param actual What the student returned.
 * @param args Prompt length, new tokens, width, cached or not.
 * @param expected The locked count.
 * @returns Pass, or the expected and actual count with the likely cause.
 */
export function verifyGenerationFlops(actual: unknown, [P, N, d, cached]: FlopArgs, expected: bigint): Verdict {
  const [p, n, dd] = [BigInt(P), BigInt(N), BigInt(d)];
  // s = Σ_{t=1..N} (P + t): the keys the N steps attend over, in total.
  const sums: [bigint, string][] = [
    [
      n * p + n * n,
      "step t attends over P + t keys, so Σ(P + t) = N·P + N(N+1)/2 — not N·P + N² (T² instead of T(T+1)/2)",
    ],
    [n * p + (n * n) / 2n, "Σ_{t=1..N} t is N(N+1)/2, not N²/2"],
    [(n * (n + 1n)) / 2n, "step t attends over the prompt too: P + t keys, not t"],
  ];
  const s = n * p + (n * (n + 1n)) / 2n;
  const uncached = (s: bigint) => 2n * n * dd * dd + (4n * dd * dd + 4n * dd) * s;
  const withCache = (s: bigint) => 6n * n * dd * dd + 4n * dd * s;
  const count = cached ? withCache : uncached;
  const known: Misconception[] = [
    [expected / 2n, "you counted a multiply–add as 1 FLOP; the course counts 2"],
    cached
      ? [
        uncached(s),
        "that is the count without a cache: with it, each step projects only the new token's key and value",
      ]
      : [
        withCache(s),
        "that is the count with a cache: without one, each step projects the keys and values of all P + t tokens",
      ],
    ...(cached
      ? [
        [
          6n * n * dd * dd,
          "the cache saves projections, but each step still attends over all P + t cached keys: 4·(P + t)·d FLOPs",
        ],
        [withCache(s) + 4n * p * dd * dd, "the prompt's keys and values are already cached: count only the N steps"],
      ] as Misconception[]
      : [
        [
          6n * dd * dd * s + 4n * dd * s,
          "only the newest token's query is needed: the earlier outputs were produced at earlier steps",
        ],
        [
          2n * n * dd * dd + 4n * dd * dd * s,
          "you left out attention itself: q·Kᵀ and the weighted sum cost 4·(P + t)·d per step",
        ],
      ] as Misconception[]),
    ...sums.map(([sum, cause]): Misconception => [count(sum), cause]),
  ];
  return expectCount(actual, expected, known.filter(([v]) => v !== expected));
}

// Computed offline with exact integers (Python), from the formulas in the exercise text; do not edit by hand.
const FLOP_CASES: [FlopArgs, bigint][] = [
  [[0, 1, 1, false], 10n],
  [[0, 1, 1, true], 10n],
  [[0, 4, 2, false], 272n],
  [[0, 4, 2, true], 176n],
  [[5, 4, 3, false], 1512n],
  [[5, 4, 3, true], 576n],
  [[1000, 100, 512, false], 110420480000n],
  [[1000, 100, 512, true], 372428800n],
  [[2048, 8192, 12288, false], 30406719389564928n],
  [[2048, 8192, 12288, true], 9895805976576n],
];

const generationFlops: Exercise<FlopArgs> = {
  id: "03.generationFlops",
  name: "generationFlops",
  points: 3,
  cases: FLOP_CASES.map(([args, expected]) => ({
    label: `P=${args[0]}, N=${args[1]}, d=${args[2]}, ${args[3] ? "cached" : "no cache"}`,
    args: (): FlopArgs => args,
    verify: (actual: unknown) => verifyGenerationFlops(actual, args, expected),
  })),
};

/** The lesson-03 exercises, for tests and the grader. */
export const lesson03Exercises = { causalMask, maxContext, decodeStep, generationFlops };

/**
 * Check calls for lesson 03's exercise notebook: `await check03.causalMask(causalMask)`.
 */
export const check03 = {
  causalMask: (fn: (T: number, S: number) => tf.Tensor2D | number[][]) => check(causalMask, fn),
  maxContext: (fn: (budgetBytes: number, heads: number, bytesPerElement: number) => number | bigint) =>
    check(maxContext, fn),
  decodeStep: (
    fn: (x: tf.Tensor2D, cache: tf.Tensor2D[], W: tf.Tensor2D[]) => (tf.Tensor2D | number[][])[],
  ) => check(decodeStep, fn),
  generationFlops: (fn: (P: number, N: number, d: number, cached: boolean) => number | bigint) =>
    check(generationFlops, fn),
};
