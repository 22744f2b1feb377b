/**
 * Checks for the exercises of lesson 04 (scaling by √d, softmax saturation,
 * temperature). Every expected value is a locked number computed offline in
 * float64 (Python) from the formulas in the exercise text; the diagnoses come
 * from invariants of the answer (rows that sum to 1, a symmetric Jacobian whose
 * rows sum to 0, NaN where exp overflowed) and from locked wrong variants. No
 * reference solution is shipped.
 *
 * Catalogue of diagnosed misconceptions:
 * - dotProductStd: the variance instead of the standard deviation; √ missing on d; the components'
 *   variances instead of their standard deviations; σ_q, σ_k ignored; the scale 1/√d instead of the std.
 * - softmaxWithTemperature: temperature multiplying instead of dividing; τ ignored; no max subtraction
 *   (overflow to Infinity with logits near 1000 or z/τ large, underflow 0/0 with logits near −1000);
 *   τ = 0 not handled (NaN); ties at τ = 0 given to one logit; τ = ∞ not uniform; weights not
 *   normalised; no RangeError for τ < 0 or NaN.
 * - rowEntropy: log base 2 (bits) or 10; the minus sign missing; 0·log 0 giving NaN; log p unweighted.
 * - softmaxJacobian: the outer product −y yᵀ missing (diagonal only: diag(y) or diag(y(1−y)));
 *   diag(y) missing; the sign flipped; the Jacobian of log softmax; not symmetric; rows not summing to 0.
 * - temperatureForMaxWeight: temperature multiplying instead of dividing (returns 1/τ); a
 *   non-positive or non-finite τ; no RangeError for unreachable targets (≤ 1/n or ≥ 1).
 * - every exercise: inputs mutated (lib/check/core.ts).
 * (A transposed Jacobian is not a distinct mistake: diag(y) − y yᵀ is symmetric.)
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { check, describe, type Exercise, type Verdict } from "./core.ts";
import { allClose, expectClose, readMatrix } from "./compare.ts";

// ---------------------------------------------------------------- helpers

/**
 * Reads a vector from a number array, a typed array or a rank-1 tf.Tensor.
 *
 * @param actual What the student returned.
 * @param n The expected length.
 * @returns The values in Float64, or a verdict saying what was wrong.
 * @example
 * ```ts
 * import { readVector } from "./lesson04.ts";
 * const v = readVector([0.25, 0.75], 2);
 * if (!(v instanceof Float64Array) || v[1] !== 0.75) throw new Error("expected the values back");
 * if (readVector([1, 2, 3], 2) instanceof Float64Array) throw new Error("expected a verdict for a wrong length");
 * ```
 */
export function readVector(actual: unknown, n: number): Float64Array | Verdict {
  const want = `an array of ${n} numbers (number[] or a rank-1 tf.Tensor)`;
  if (actual instanceof tf.Tensor) {
    if (actual.isDisposed) {
      return {
        ok: false,
        message: `expected ${want}, got a disposed tensor — return it from tf.tidy, do not dispose it`,
      };
    }
    if (actual.size !== n || actual.rank > 2 || (actual.rank === 2 && actual.shape[0] !== 1)) {
      return { ok: false, message: "wrong shape", expected: `[${n}]`, actual: `[${actual.shape}]` };
    }
    return Float64Array.from(actual.dataSync() as Float32Array);
  }
  if (Array.isArray(actual) || (ArrayBuffer.isView(actual) && !(actual instanceof DataView))) {
    const arr = actual as ArrayLike<unknown>;
    if (arr.length !== n) {
      return { ok: false, message: "wrong length", expected: String(n), actual: String(arr.length) };
    }
    for (let i = 0; i < n; i++) {
      if (typeof arr[i] !== "number") {
        return { ok: false, message: `expected ${want}, entry ${i} is ${describe(arr[i])}` };
      }
    }
    return Float64Array.from(arr as ArrayLike<number>);
  }
  return { ok: false, message: `expected ${want}, got ${describe(actual)}` };
}

/** Reads one number (a plain number or a tensor with one element). */
function readScalar(actual: unknown): number | { ok: false; message: string } {
  if (typeof actual === "number") return actual;
  if (actual instanceof tf.Tensor && !actual.isDisposed && actual.size === 1) return actual.dataSync()[0];
  return { ok: false, message: `expected a number, got ${describe(actual)}` };
}

const fmt = (x: number) => Number.isFinite(x) ? String(Number(x.toPrecision(6))) : String(x);
const list = (v: ArrayLike<number>) => `[${Array.from(v, fmt).join(", ")}]`;
const relClose = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(b), 1e-300);

/**
 * Compares a number with a locked expectation within a relative tolerance; names a known wrong value.
 *
 * @param actual What the student returned.
 * @param expected The right value.
 * @param rel Largest allowed relative error.
 * @param known Wrong values that point to a misconception: [value, cause].
 * @returns A pass, or the failure with expected vs actual and the matching cause.
 */
export function expectNumber(actual: unknown, expected: number, rel: number, known: [number, string][] = []): Verdict {
  const x = readScalar(actual);
  if (typeof x !== "number") return { ...x, expected: fmt(expected) };
  if (relClose(x, expected, rel)) return { ok: true };
  const match = known.find(([v]) => Number.isFinite(v) && relClose(x, v, 1e-6));
  return {
    ok: false,
    message: Number.isNaN(x)
      ? "NaN"
      : `relative error ${(Math.abs(x - expected) / Math.abs(expected)).toExponential(2)} ` +
        `(tolerance ${rel})`,
    expected: fmt(expected),
    actual: fmt(x),
    diagnosis: match?.[1],
  };
}

// ---------------------------------------------------------------- 1 · the std of q·k

type StdArgs = [d: number, sigmaQ: number, sigmaK: number];

// Locked: √d · σ_q · σ_k, computed in float64 (Python).
const STD_CASES: [d: number, sq: number, sk: number, std: number][] = [
  [64, 1, 1, 8],
  [128, 1, 1, 11.3137084989848],
  [1, 1, 1, 1],
  [16, 2, 1.5, 12],
  [100, 0.1, 3, 3],
  [9, 2, 3, 18],
];

/** Misconceptions of the std of q·k, as values for one case. */
function stdMisconceptions(d: number, sq: number, sk: number): [number, string][] {
  return [
    [d * sq * sq * sk * sk, "that is the variance d·σ_q²·σ_k²; the standard deviation is its square root"],
    [d * sq * sk, "√ missing on d: the variance grows like d, so the standard deviation grows like √d"],
    [
      Math.sqrt(d) * sq * sq * sk * sk,
      "σ_q², σ_k² are the components' variances; the std of q·k has σ_q·σ_k (std · std) in it",
    ],
    [Math.sqrt(d), "σ_q and σ_k ignored: scaling q by σ_q scales every q·k by σ_q"],
    [1 / Math.sqrt(d), "1/√d is the factor that undoes the growth, not the standard deviation itself"],
  ];
}

const dotProductStd: Exercise<StdArgs> = {
  id: "04.dotProductStd",
  name: "dotProductStd",
  points: 1,
  cases: STD_CASES.map(([d, sq, sk, std]) => ({
    label: `d=${d}, σ_q=${sq}, σ_k=${sk}`,
    args: (): StdArgs => [d, sq, sk],
    verify: (actual: unknown) => expectNumber(actual, std, 1e-6, stdMisconceptions(d, sq, sk)),
  })),
};

// ---------------------------------------------------------------- 2 · softmax with temperature

type SoftmaxArgs = [logits: number[], tau: number];

/** One locked softmax-with-temperature case. */
export interface SoftmaxCase {
  logits: number[];
  tau: number;
  /** softmax(z/τ), or its limit at τ = 0 (split evenly among ties) and τ = ∞ (uniform). */
  expected: number[];
  /** softmax(z·τ): the temperature multiplied instead of divided (where that differs). */
  multiplied?: number[];
  /** softmax(z): the temperature ignored (where that differs). */
  ignored?: number[];
}

// Computed offline in float64 (Python), from the formulas in the exercise text; do not edit by hand.
const SOFTMAX_CASES: SoftmaxCase[] = [
  { logits: [2, 1, 0.5, -1], tau: 1, expected: [0.609460037599, 0.224207818048, 0.135988915794, 0.0303432285594] },
  {
    logits: [2, 1, 0.5, -1],
    tau: 0.5,
    expected: [0.842033572397, 0.113956852015, 0.041922383037, 0.00208719255041],
    multiplied: [0.434399699978, 0.263476736607, 0.20519588879, 0.0969276746246],
    ignored: [0.609460037599, 0.224207818048, 0.135988915794, 0.0303432285594],
  },
  {
    logits: [2, 1, 0.5, -1],
    tau: 4,
    expected: [0.340314706377, 0.265037359817, 0.233894649108, 0.160753284698],
    multiplied: [0.979623310766, 0.017942426807, 0.00242824341387, 6.01901364761e-06],
    ignored: [0.609460037599, 0.224207818048, 0.135988915794, 0.0303432285594],
  },
  {
    logits: [1000, 999, 998, 990],
    tau: 1,
    expected: [0.665220864846, 0.244721080015, 0.0900278541588, 3.02009805405e-05],
  },
  { logits: [-1000, -1001, -1002], tau: 1, expected: [0.665240955775, 0.244728471055, 0.0900305731704] },
  {
    logits: [3, -2, 0.7, 1.5, 3.2],
    tau: 1e-3,
    expected: [1.38389652674e-87, 0, 0, 0, 1],
    multiplied: [0.200343939793, 0.199344720225, 0.199883678235, 0.200043649158, 0.200384012588],
    ignored: [0.391921754413, 0.00264074800902, 0.0392936219273, 0.0874495638278, 0.478694311823],
  },
  { logits: [0.3, 1.7, -0.4], tau: 0, expected: [0, 1, 0] },
  { logits: [1, 2, 2, 0], tau: 0, expected: [0, 0.5, 0.5, 0] },
  { logits: [1.5, -0.5, 0.25], tau: Infinity, expected: [1 / 3, 1 / 3, 1 / 3] },
];

/**
 * The likely cause of a wrong softmax-with-temperature answer, from invariants and locked variants.
 *
 * @param p The student's weights.
 * @param c The locked case.
 * @returns The cause, or undefined when none is recognised.
 */
export function diagnoseSoftmax(p: Float64Array, c: SoftmaxCase): string | undefined {
  const n = c.logits.length;
  const close = (v: number[] | undefined) => v !== undefined && allClose(p, v, 1e-6);
  if (p.some((x) => !Number.isFinite(x))) {
    if (c.tau === 0) {
      return "τ = 0 not handled: z/0 is ±∞ and ∞ − ∞ = NaN; return the limit instead — all the weight on the " +
        "largest logit (split evenly among ties)";
    }
    const scaled = c.logits.map((z) => z / c.tau);
    if (Math.max(...scaled) > 80) {
      return "overflow: exp(z/τ) is Infinity for z/τ above ~709 in float64 (~88 in float32), and ∞/∞ = NaN — " +
        "subtract the largest z/τ before exp; softmax does not change when every logit moves by the same amount";
    }
    if (Math.max(...scaled) < -80) {
      return "underflow: every exp(z/τ) is 0 for logits near −1000, and 0/0 = NaN — subtract the largest z/τ " +
        "first (the largest term becomes exp(0) = 1)";
    }
    if (c.tau === Infinity) return "τ = ∞: z/∞ = 0 for every logit, so the limit is uniform (1/n each)";
    return undefined;
  }
  if (close(c.multiplied)) {
    return "temperature multiplying instead of dividing: softmax(z/τ) flattens as τ grows; you computed " +
      "softmax(z·τ), which sharpens";
  }
  if (close(c.ignored)) return "τ ignored: divide the logits by τ before the softmax";
  const sum = p.reduce((s, x) => s + x, 0);
  if (Math.abs(sum - 1) > 1e-6) return `the weights sum to ${fmt(sum)}, not 1: divide each exponential by their sum`;
  if (c.tau === 0) {
    const top = Math.max(...c.logits);
    const tied = c.logits.filter((z) => z === top).length;
    if (tied > 1 && p.some((x) => Math.abs(x - 1) < 1e-9)) {
      return `ties: ${tied} logits share the maximum, and as τ → 0 softmax(z/τ) splits the weight evenly ` +
        `among them (1/${tied} each), not all on one`;
    }
  }
  if (c.tau === Infinity && p.some((x) => Math.abs(x - 1 / n) > 1e-6)) {
    return "τ → ∞ flattens every difference: the limit is uniform, 1/n each";
  }
  return undefined;
}

/**
 * The verdict on a softmax-with-temperature answer for one locked case.
 *
 * @param actual What the student returned.
 * @param c The locked case.
 * @returns A pass, or the first failure with the whole expected row and a likely cause.
 */
export function verifySoftmax(actual: unknown, c: SoftmaxCase): Verdict {
  const p = readVector(actual, c.logits.length);
  if (!(p instanceof Float64Array)) return p;
  const verdict = expectClose(p, Float64Array.from(c.expected), c.logits.length, 1e-6);
  if (verdict.ok) return verdict;
  return {
    ...verdict,
    expected: list(c.expected),
    actual: list(p),
    message: verdict.message.replace(/at \[0, (\d+)\]/, "at [$1]"),
    diagnosis: diagnoseSoftmax(p, c),
  };
}

const softmaxWithTemperature: Exercise<SoftmaxArgs> = {
  id: "04.softmaxWithTemperature",
  name: "softmaxWithTemperature",
  points: 3,
  cases: SOFTMAX_CASES.map((c) => ({
    label: `logits [${c.logits}], τ=${c.tau}`,
    args: (): SoftmaxArgs => [[...c.logits], c.tau],
    verify: (actual: unknown) => verifySoftmax(actual, c),
  })),
  after: (fn) =>
    expectRangeErrors(
      fn,
      [[[1, 2, 3], -1], [[1, 2, 3], NaN]],
      "τ must be ≥ 0 (a temperature below 0 " +
        "reverses the order of the logits, NaN means nothing): throw a RangeError",
    ),
};

/** Calls `fn` on each argument list and demands a RangeError from every call. */
function expectRangeErrors<A extends unknown[]>(fn: (...args: A) => unknown, calls: A[], why: string): Verdict {
  for (const args of calls) {
    const shown = args.map((a) => Array.isArray(a) ? `[${a}]` : String(a)).join(", ");
    try {
      const got = fn(...args);
      return { ok: false, message: `(${shown}): ${why}`, actual: `returned ${describe(got)}` };
    } catch (err) {
      if (!(err instanceof RangeError)) {
        return {
          ok: false,
          message: `(${shown}) threw ${
            (err as Error)?.name ?? typeof err
          }; a RangeError says the value is out of range`,
        };
      }
    }
  }
  return { ok: true };
}

// ---------------------------------------------------------------- 3 · entropy of a row

type EntropyArgs = [weights: number[]];

// Locked: −Σ p log p in nats over p > 0, computed in float64 (Python).
const ENTROPY_CASES: [weights: number[], nats: number][] = [
  [[0.25, 0.25, 0.25, 0.25], 1.38629436111989],
  [[0.7, 0.2, 0.1], 0.801818552543337],
  [[0.05, 0.15, 0.6, 0.2], 1.062737568157],
  [[0.5, 0.5, 0, 0], 0.693147180559945],
  [[1, 0, 0], 0],
  [[1], 0],
];

/**
 * The verdict on an entropy answer (nats) for a row of weights.
 *
 * @param actual What the student returned.
 * @param weights The row the entropy is of.
 * @param expected The locked entropy in nats.
 * @returns A pass, or the failure with a likely cause (log base, sign, 0·log 0, unweighted logs).
 */
export function verifyEntropy(actual: unknown, weights: number[], expected: number): Verdict {
  const x = readScalar(actual);
  if (typeof x !== "number") return { ...x, expected: fmt(expected) };
  if (Math.abs(x - expected) <= 1e-6) return { ok: true };
  const near = (v: number) => Math.abs(x - v) <= 1e-6 * Math.max(1, Math.abs(v));
  const unweighted = -weights.filter((p) => p > 0).reduce((s, p) => s + Math.log(p), 0);
  const diagnosis = Number.isNaN(x) && weights.includes(0)
    ? "0·log 0: Math.log(0) is −∞ and 0·(−∞) is NaN; the limit of p·log p as p → 0 is 0, so skip zero weights"
    : expected > 0 && near(expected / Math.LN2)
    ? "log base 2 (bits): the lesson measures entropy in nats, with the natural log Math.log"
    : expected > 0 && near(expected / Math.LN10)
    ? "log base 10: the lesson measures entropy in nats, with the natural log Math.log"
    : expected > 0 && near(-expected)
    ? "the minus sign is missing: log p ≤ 0, so H = −Σ p log p ≥ 0"
    : expected > 0 && near(unweighted)
    ? "log p unweighted: each −log p_i must be weighted by its probability p_i"
    : undefined;
  return {
    ok: false,
    message: Number.isNaN(x) ? "NaN" : `off by ${(x - expected).toExponential(2)} (tolerance 1e-6)`,
    expected: fmt(expected),
    actual: fmt(x),
    diagnosis,
  };
}

const rowEntropy: Exercise<EntropyArgs> = {
  id: "04.rowEntropy",
  name: "rowEntropy",
  points: 1,
  cases: ENTROPY_CASES.map(([w, h]) => ({
    label: `weights [${w}]`,
    args: (): EntropyArgs => [[...w]],
    verify: (actual: unknown) => verifyEntropy(actual, w, h),
  })),
};

// ---------------------------------------------------------------- 4 · the softmax Jacobian

type JacobianArgs = [y: number[]];

// Computed offline in float64 (Python): J = diag(y) − y yᵀ; do not edit by hand.
const JACOBIAN_CASES: [y: number[], J: number[][]][] = [
  [[0.5, 0.3, 0.2], [[0.25, -0.15, -0.1], [-0.15, 0.21, -0.06], [-0.1, -0.06, 0.16]]],
  [[0.25, 0.25, 0.25, 0.25], [
    [0.1875, -0.0625, -0.0625, -0.0625],
    [-0.0625, 0.1875, -0.0625, -0.0625],
    [-0.0625, -0.0625, 0.1875, -0.0625],
    [-0.0625, -0.0625, -0.0625, 0.1875],
  ]],
  [[0.1, 0.6, 0.3], [[0.09, -0.06, -0.03], [-0.06, 0.24, -0.18], [-0.03, -0.18, 0.21]]],
  [[0.998, 0.001, 0.001], [[0.001996, -0.000998, -0.000998], [-0.000998, 0.000999, -1e-06], [
    -0.000998,
    -1e-06,
    0.000999,
  ]]],
  [[1], [[0]]],
];

/**
 * The likely cause of a wrong softmax Jacobian, from invariants and the structure of known mistakes.
 *
 * @param J The student's matrix.
 * @param y The softmax output it is the Jacobian of.
 * @param expected The locked Jacobian.
 * @returns The cause, or undefined when none is recognised.
 */
export function diagnoseJacobian(J: number[][], y: number[], expected: number[][]): string | undefined {
  const n = y.length, tol = 1e-7;
  const offDiag = (f: (i: number, j: number) => number) =>
    J.every((row, i) => row.every((x, j) => i === j || Math.abs(x - f(i, j)) <= tol));
  const diag = (f: (i: number) => number) => J.every((row, i) => Math.abs(row[i] - f(i)) <= tol);
  if (n > 1 && offDiag(() => 0)) {
    if (diag((i) => y[i])) {
      return "diag(y) alone is the Jacobian of exp, not of softmax: the normalisation couples the weights, " +
        "∂y_i/∂z_j = −y_i·y_j for j ≠ i (the outer product −y yᵀ is missing)";
    }
    if (diag((i) => y[i] * (1 - y[i]))) {
      return "the outer product is missing: the diagonal y_i(1 − y_i) is right, but ∂y_i/∂z_j = −y_i·y_j for " +
        "j ≠ i — raising one score lowers every other weight";
    }
  }
  if (J.every((row, i) => row.every((x, j) => Math.abs(x + expected[i][j]) <= tol))) {
    return "the sign is flipped: J = diag(y) − y yᵀ, so the diagonal y_i(1 − y_i) is positive (raising z_i raises y_i)";
  }
  if (J.every((row, i) => row.every((x, j) => Math.abs(x - ((i === j ? 1 : 0) - y[j])) <= tol))) {
    return "that is the Jacobian of log softmax, δ_ij − y_j; softmax's own is y_i(δ_ij − y_j) = diag(y) − y yᵀ";
  }
  if (n > 1 && offDiag((i, j) => -y[i] * y[j]) && diag((i) => -y[i] * y[i])) {
    return "diag(y) is missing: ∂y_i/∂z_i = y_i − y_i² = y_i(1 − y_i)";
  }
  if (J.some((row, i) => row.some((x, j) => Math.abs(x - J[j][i]) > tol))) {
    return "not symmetric: J[i][j] = J[j][i] = −y_i·y_j off the diagonal; check which index each factor uses";
  }
  if (J.some((row) => Math.abs(row.reduce((s, x) => s + x, 0)) > tol)) {
    return "rows do not sum to 0: adding the same constant to every score leaves softmax unchanged, so " +
      "Σ_j ∂y_i/∂z_j = 0";
  }
  return undefined;
}

/**
 * The verdict on a softmax Jacobian for a locked y.
 *
 * @param actual What the student returned.
 * @param y The softmax output.
 * @param expected The locked Jacobian diag(y) − y yᵀ.
 * @returns A pass, or the worst entry and a likely cause.
 */
export function verifyJacobian(actual: unknown, y: number[], expected: number[][]): Verdict {
  const n = y.length;
  const M = readMatrix(actual, n, n);
  if (!(M instanceof Float64Array)) return M;
  const verdict = expectClose(M, Float64Array.from(expected.flat()), n, 1e-7);
  if (verdict.ok) return verdict;
  const rows = Array.from({ length: n }, (_, i) => Array.from(M.subarray(i * n, (i + 1) * n)));
  return { ...verdict, diagnosis: diagnoseJacobian(rows, y, expected) };
}

const softmaxJacobian: Exercise<JacobianArgs> = {
  id: "04.softmaxJacobian",
  name: "softmaxJacobian",
  points: 2,
  cases: JACOBIAN_CASES.map(([y, J]) => ({
    label: `y = [${y}]`,
    args: (): JacobianArgs => [[...y]],
    verify: (actual: unknown) => verifyJacobian(actual, y, J),
  })),
};

// ---------------------------------------------------------------- 5 · the temperature for a max weight

type TemperatureArgs = [logits: number[], maxWeight: number];

// Locked: τ with max softmax(z/τ) = target, by bisection on log τ in float64 (Python), 12 digits.
const TEMPERATURE_CASES: [logits: number[], target: number, tau: number][] = [
  [[2, 1, 0.5, -1], 0.5, 1.47474407016],
  [[2, 1, 0.5, -1], 0.9, 0.406610747825],
  [[2, 1, 0.5, -1], 0.999, 0.144145451093],
  [[2, 1, 0.5, -1], 0.26, 34.6280697481],
  [[3, 2.5, 0, -1, -2], 0.4, 2.59692442242],
  [[0.8, -0.3, 1.9, 0.1, -1.2, 0.4, 1.1, -0.7], 0.25, 2.04828104749],
];

/**
 * The verdict on a temperature answer for a locked τ.
 *
 * @param actual What the student returned.
 * @param expected The locked temperature.
 * @returns A pass, or the failure with a likely cause.
 */
export function verifyTemperature(actual: unknown, expected: number): Verdict {
  const x = readScalar(actual);
  if (typeof x !== "number") return { ...x, expected: fmt(expected) };
  if (!(x > 0 && Number.isFinite(x))) {
    return {
      ok: false,
      message: `a temperature is a positive finite number, got ${x}`,
      expected: fmt(expected),
      diagnosis: "max weight falls from 1 (τ → 0) to 1/n (τ → ∞): search τ in (0, ∞), e.g. by bisection on log τ",
    };
  }
  return expectNumber(x, expected, 1e-4, [[
    1 / expected,
    "you found τ for softmax(z·τ): temperature divides, softmax(z/τ) — your answer is 1/τ",
  ]]);
}

const temperatureForMaxWeight: Exercise<TemperatureArgs> = {
  id: "04.temperatureForMaxWeight",
  name: "temperatureForMaxWeight",
  points: 3,
  cases: TEMPERATURE_CASES.map(([z, target, tau]) => ({
    label: `logits [${z}], max weight ${target}`,
    args: (): TemperatureArgs => [[...z], target],
    verify: (actual: unknown) => verifyTemperature(actual, tau),
  })),
  after: (fn) =>
    expectRangeErrors(
      fn,
      [[[2, 1, 0.5, -1], 1], [[2, 1, 0.5, -1], 0.2]],
      "no temperature reaches a max weight of 1 or of 1/n or less (here n = 4): throw a RangeError",
    ),
};

/** The lesson-04 exercises, for tests and the grader. */
export const lesson04Exercises = {
  dotProductStd,
  softmaxWithTemperature,
  rowEntropy,
  softmaxJacobian,
  temperatureForMaxWeight,
};

/**
 * Check calls for lesson 04's exercise notebook: `await check04.dotProductStd(dotProductStd)`.
 */
export const check04 = {
  dotProductStd: (fn: (d: number, sigmaQ: number, sigmaK: number) => number) => check(dotProductStd, fn),
  softmaxWithTemperature: (fn: (logits: number[], tau: number) => number[] | Float64Array | tf.Tensor) =>
    check(softmaxWithTemperature, fn),
  rowEntropy: (fn: (weights: number[]) => number) => check(rowEntropy, fn),
  softmaxJacobian: (fn: (y: number[]) => number[][] | tf.Tensor2D) => check(softmaxJacobian, fn),
  temperatureForMaxWeight: (fn: (logits: number[], maxWeight: number) => number) => check(temperatureForMaxWeight, fn),
};
