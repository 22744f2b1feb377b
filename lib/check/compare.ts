/**
 * What every check module shares: reading a student's answer (`read*`),
 * comparing it with a locked value (`expect*`), and recognising the common
 * wrong answers that are not a single locked value (a wrong scale, a float
 * count past 2^53). Each returns a value or a failing {@linkcode Verdict};
 * none throws on a student's value.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { describe, type Verdict } from "./core.ts";

/** A failing verdict. */
export type Failure = Extract<Verdict, { ok: false }>;

/** A known wrong answer and what it says about the misconception behind it ("you did X; the rule is Y"). */
export type Misconception = [value: bigint, cause: string];

// ---------------------------------------------------------------- printing

/**
 * A number for a message: integers exactly (also past 2^53), others to 6 significant digits.
 *
 * @param x The number (or bigint).
 * @returns Its text.
 * @example
 * ```ts
 * import { fmt } from "./compare.ts";
 * if (fmt(30406719389564928) !== "30406719389564928") throw new Error("integers print exactly");
 * if (fmt(1 / 3) !== "0.333333") throw new Error("6 significant digits");
 * ```
 */
export function fmt(x: number | bigint): string {
  if (typeof x === "bigint") return String(x);
  if (Number.isInteger(x)) return Number.isSafeInteger(x) ? String(x) : String(BigInt(x));
  return Number.isFinite(x) ? String(Number(x.toPrecision(6))) : String(x);
}

/** A vector for a message: `[0.25, 0.75]`. */
export function list(v: ArrayLike<number>): string {
  return `[${Array.from(v, fmt).join(", ")}]`;
}

// ---------------------------------------------------------------- reading answers

/**
 * The shape of a tensor, typed array or nested array; undefined for anything else.
 *
 * @param x A student's value.
 * @returns Its shape (the first element's, for nested arrays), or undefined.
 */
export function shapeOf(x: unknown): number[] | undefined {
  try {
    if (x instanceof tf.Tensor) return x.isDisposed ? undefined : [...x.shape];
    if (ArrayBuffer.isView(x)) return [(x as unknown as ArrayLike<number>).length];
    if (Array.isArray(x)) {
      const inner = x.length > 0 ? shapeOf(x[0]) : [];
      return inner === undefined ? [x.length] : [x.length, ...inner];
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Reads one number: a plain number or a tensor with one element.
 *
 * @param actual What the student returned.
 * @returns The number, or a failure saying what came instead.
 */
export function readScalar(actual: unknown): number | Failure {
  if (typeof actual === "number") return actual;
  if (actual instanceof tf.Tensor && !actual.isDisposed && actual.size === 1) return actual.dataSync()[0];
  return { ok: false, message: `expected a number, got ${describe(actual)}` };
}

/**
 * Reads a vector from a number array, a typed array, or a tensor of shape [n] or [1, n].
 *
 * @param actual What the student returned.
 * @param n The expected length.
 * @param name What the vector is, for messages ("q", "the weights").
 * @returns The values in Float64, or a failure saying what was wrong.
 * @example
 * ```ts
 * import { readVector } from "./compare.ts";
 * const v = readVector([0.25, 0.75], 2);
 * if (!(v instanceof Float64Array) || v[1] !== 0.75) throw new Error("expected the values back");
 * if (readVector([1, 2, 3], 2) instanceof Float64Array) throw new Error("expected a failure for a wrong length");
 * ```
 */
export function readVector(actual: unknown, n: number, name = "the result"): Float64Array | Failure {
  const want = `${name} as ${n} numbers (number[] or a rank-1 tf.Tensor)`;
  if (actual instanceof tf.Tensor) {
    if (actual.isDisposed) {
      return {
        ok: false,
        message: `expected ${want}, got a disposed tensor — return it from tf.tidy, do not dispose it`,
      };
    }
    if (actual.size !== n || actual.rank > 2 || (actual.rank === 2 && actual.shape[0] !== 1)) {
      return { ok: false, message: `${name} has the wrong shape`, expected: `[${n}]`, actual: `[${actual.shape}]` };
    }
    return Float64Array.from(actual.dataSync() as Float32Array);
  }
  if (Array.isArray(actual) || (ArrayBuffer.isView(actual) && !(actual instanceof DataView))) {
    const arr = actual as ArrayLike<unknown>;
    if (arr.length !== n) {
      return {
        ok: false,
        message: `${name} has the wrong length`,
        expected: `${n} entries`,
        actual: `${arr.length} entries`,
      };
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

/**
 * Reads a matrix from a tf.Tensor or a nested number array.
 *
 * @param actual What the student returned.
 * @param rows Expected rows.
 * @param cols Expected columns.
 * @returns The values row-major in Float64, or a failure saying what was wrong.
 */
export function readMatrix(actual: unknown, rows: number, cols: number): Float64Array | Failure {
  const want = `a [${rows}, ${cols}] matrix (tf.Tensor or number[][])`;
  if (actual instanceof tf.Tensor) {
    if (actual.isDisposed) {
      return {
        ok: false,
        message: `expected ${want}, got a disposed tensor — return it from tf.tidy, do not dispose it`,
      };
    }
    if (actual.rank !== 2 || actual.shape[0] !== rows || actual.shape[1] !== cols) {
      return { ok: false, message: "wrong shape", expected: `[${rows}, ${cols}]`, actual: `[${actual.shape}]` };
    }
    return Float64Array.from(actual.dataSync() as Float32Array);
  }
  if (Array.isArray(actual)) {
    const rowOk = (r: unknown) =>
      (Array.isArray(r) || ArrayBuffer.isView(r)) && (r as unknown as ArrayLike<unknown>).length === cols;
    if (actual.length !== rows || !actual.every(rowOk)) {
      const shape = shapeOf(actual) ?? [actual.length];
      return { ok: false, message: "wrong shape", expected: `[${rows}, ${cols}]`, actual: `[${shape}]` };
    }
    const out = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const x = (actual[i] as ArrayLike<unknown>)[j];
        if (typeof x !== "number") {
          return { ok: false, message: `expected ${want} of numbers, entry [${i}, ${j}] is ${describe(x)}` };
        }
        out[i * cols + j] = x;
      }
    }
    return out;
  }
  return { ok: false, message: `expected ${want}, got ${describe(actual)}` };
}

/** The rows of a row-major matrix, as arrays. */
export function rowsOf(m: ArrayLike<number>, cols: number): number[][] {
  return Array.from({ length: m.length / cols }, (_, i) => Array.from({ length: cols }, (_, j) => m[i * cols + j]));
}

// ---------------------------------------------------------------- comparing with locked values

const TWO_53 = 2n ** 53n;

/**
 * Compares an integer answer (number or bigint) with the locked count. Integers print exactly; a count past
 * 2^53 computed in floating point is named as such.
 *
 * @param actual What the student returned.
 * @param expected The right count.
 * @param known Wrong counts that point to a misconception; a cause is named only when exactly one matches.
 * @returns A pass, or the failure with expected vs actual and the likely cause.
 * @example
 * ```ts
 * import { expectCount } from "./compare.ts";
 * const v = expectCount(2 ** 60 + 1, 2n ** 60n + 1n);
 * if (v.ok || !v.message.includes("beyond 2^53")) throw new Error("an unsafe number fails and says why");
 * ```
 */
export function expectCount(actual: unknown, expected: bigint, known: Misconception[] = []): Verdict {
  let value: bigint;
  if (typeof actual === "bigint") value = actual;
  else if (typeof actual === "number" && Number.isInteger(actual)) {
    value = BigInt(actual);
    if (!Number.isSafeInteger(actual)) {
      const off = value - expected;
      return {
        ok: false,
        message: `you returned the number ${value}, beyond 2^53 where a number cannot hold every integer` +
          (off === 0n ? " (exact here by luck)" : ` (off by ${off})`) + ": return a bigint",
        expected: `${expected}`,
        actual: `${value}`,
        diagnosis: "you returned a floating-point number; the rule for counts past 2^53 = 9007199254740992 is " +
          "bigint arithmetic from the start: BigInt(T) * BigInt(d) …",
      };
    }
  } else {
    return {
      ok: false,
      message: `expected a whole number (number or bigint), got ${describe(actual)}`,
      expected: `${expected}`,
    };
  }
  if (value === expected) return { ok: true };
  const causes = [...new Set(known.filter(([v]) => v === value && v !== expected).map(([, cause]) => cause))];
  const off = value - expected;
  const floatRounding = expected > TWO_53 && (off < 0n ? -off : off) * 2n ** 40n < expected;
  return {
    ok: false,
    message: `wrong count (off by ${off})`,
    expected: `${expected}`,
    actual: `${value}`,
    diagnosis: causes.length === 1
      ? causes[0]
      : floatRounding && causes.length === 0
      ? `you computed in floating point and converted to bigint at the end; past 2^53 a number cannot hold ` +
        `every integer, so the count came out off by ${off}: the rule is to convert the inputs first ` +
        `(BigInt(P), …) and compute in bigint`
      : undefined,
  };
}

/**
 * A locked count: the arguments, the right count, and the counts of known mistakes by name (absent on a
 * degenerate case, where different formulas give the same number and no cause can be told apart).
 */
export interface CountCase<K extends string = never, A extends unknown[] = [number, number]> {
  args: A;
  expected: bigint;
  wrong?: Partial<Record<K, bigint>>;
}

/**
 * Judges a count against its locked case, naming the mistake whose count it equals.
 *
 * @param actual What the student returned.
 * @param c The locked case.
 * @param causes The cause of each named mistake ("you did X; the rule is Y").
 * @returns A pass, or the failure with the likely cause.
 */
export function verifyCount<K extends string, A extends unknown[]>(
  actual: unknown,
  c: CountCase<K, A>,
  causes: Record<K, string>,
): Verdict {
  const known = Object.entries(c.wrong ?? {}).map(([k, v]): Misconception => [v as bigint, causes[k as K]]);
  return expectCount(actual, c.expected, known);
}

/** A locked real number, with the values of known mistakes by name (as {@linkcode CountCase}). */
export interface NumberCase<K extends string = never, A extends unknown[] = number[]> {
  args: A;
  expected: number;
  wrong?: Partial<Record<K, number>>;
}

/**
 * Judges a number against its locked case within a relative tolerance, naming the mistake whose value it equals.
 *
 * @param actual What the student returned.
 * @param c The locked case.
 * @param rel Largest allowed relative error.
 * @param causes The cause of each named mistake.
 * @returns A pass, or the failure with the likely cause.
 */
export function verifyNumber<K extends string, A extends unknown[]>(
  actual: unknown,
  c: NumberCase<K, A>,
  rel: number,
  causes: Record<K, string>,
): Verdict {
  const known = Object.entries(c.wrong ?? {}).map(([k, v]): [number, string] => [v as number, causes[k as K]]);
  return expectNumber(actual, c.expected, rel, known);
}

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
      : `relative error ${(Math.abs(x - expected) / Math.abs(expected)).toExponential(2)} (tolerance ${rel})`,
    expected: fmt(expected),
    actual: fmt(x),
    diagnosis: match?.[1],
  };
}

/** Whether `a` is within `rel` of `b`, relatively. */
export function relClose(a: number, b: number, rel: number): boolean {
  return Math.abs(a - b) <= rel * Math.max(Math.abs(b), 1e-300);
}

/**
 * Compares two arrays of the same layout within `tol`; names the worst entry.
 *
 * @param actual Student values, row-major.
 * @param expected Expected values, row-major.
 * @param cols Columns, to report the worst entry as [row, col] (1 for a vector: entries are named [i]).
 * @param tol Largest allowed absolute difference.
 * @returns A pass, or the failure with the worst entry.
 */
export function expectClose(actual: Float64Array, expected: ArrayLike<number>, cols: number, tol: number): Verdict {
  let worst = -1, err = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    const same = actual[i] === expected[i]; // also ±∞ where ∞ is expected
    if (same) continue;
    if (Number.isNaN(d)) {
      worst = i;
      err = NaN;
      break;
    }
    if (d > err) [worst, err] = [i, d];
  }
  if (worst < 0 || (!(err > tol) && !Number.isNaN(err))) return { ok: true };
  const at = cols === 1 ? `[${worst}]` : `[${Math.floor(worst / cols)}, ${worst % cols}]`;
  return {
    ok: false,
    message: Number.isNaN(err) ? `NaN at ${at}` : `max abs error ${err.toExponential(2)} at ${at} (tolerance ${tol})`,
    expected: `${fmt(expected[worst])} at ${at}`,
    actual: `${fmt(actual[worst])} at ${at}`,
  };
}

/** Whether two arrays agree within `tol` everywhere. */
export function allClose(a: ArrayLike<number>, b: ArrayLike<number> | undefined, tol: number): boolean {
  if (b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tol) && a[i] !== b[i]) return false;
  return true;
}

/**
 * The first suspect that the answer matches, as a cause.
 *
 * @param got The student's values.
 * @param suspects Locked wrong answers (undefined where a case has none) and their causes.
 * @param tol The tolerance of a match.
 * @returns The cause of the first match, or undefined.
 */
export function firstMatch(
  got: ArrayLike<number>,
  suspects: [ArrayLike<number> | undefined, string][],
  tol: number,
): string | undefined {
  return suspects.find(([wrong]) => allClose(got, wrong, tol))?.[1];
}

// ---------------------------------------------------------------- thrown messages

/**
 * The message of a matMul whose inner sizes differ: TensorFlow.js's (shapes print as "4,2"), or the native
 * backend's (lib/native, "[4,2]"), which the notebooks use where it loads.
 */
export const MATMUL_ERROR = new RegExp(
  String.raw`Error in matMul: inner shapes \((\d+)\) and \((\d+)\) of Tensors with shapes ([\d,]*) and ([\d,]*) and ` +
    String.raw`transposeA=(\w+) and transposeB=(\w+)` +
    String.raw`|Cannot multiply on the native backend: the inner dimensions must match, got shapes \[([\d,]*)\] and ` +
    String.raw`\[([\d,]*)\] with transposeA=(\w+), transposeB=(\w+)`,
);

/**
 * Names the two operands of a failed matMul by their shapes: each is the first entry of `named` with that shape
 * (a `ᵀ` is added where matMul was asked to transpose it).
 *
 * @param m A match of {@linkcode MATMUL_ERROR}.
 * @param named Candidate operands and their shapes, e.g. [["Q", [4, 2]], ["K", [4, 2]]].
 * @returns The names ("?" where no shape matches).
 */
export function matMulOperands(m: RegExpExecArray, named: [string, readonly number[]][]): [string, string] {
  const [shapeA, shapeB, tA, tB] = m[3] !== undefined ? [m[3], m[4], m[5], m[6]] : [m[7], m[8], m[9], m[10]];
  const name = (shape: string, transposed: string, skip?: string) => {
    const hits = named.filter(([, s]) => s.join(",") === shape).map(([n]) => n);
    const n = hits.find((h) => h !== skip) ?? hits[0] ?? "?";
    return transposed === "true" ? `${n}ᵀ` : n;
  };
  const a = name(shapeA, tA);
  return [a, name(shapeB, tB, a)];
}

// ---------------------------------------------------------------- wrong scale factors

/**
 * The factor r with actual ≈ r · expected, when one factor explains every entry; else undefined.
 *
 * @param actual The student's values.
 * @param expected The right values.
 * @param tol Absolute tolerance of the fit.
 * @returns r, or undefined when no single factor fits (or the values are all 0).
 */
export function ratioOf(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): number | undefined {
  let num = 0, den = 0;
  for (let i = 0; i < expected.length; i++) {
    if (!Number.isFinite(actual[i])) return undefined;
    num += actual[i] * expected[i];
    den += expected[i] * expected[i];
  }
  if (!(den > 0)) return undefined;
  const r = num / den;
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i] - r * expected[i]) > tol * Math.max(1, Math.abs(r))) return undefined;
  }
  return r;
}

/**
 * For softmax weights: the factor r with actual = softmax(r · s) where expected = softmax(s), row by row.
 * In any row, log(a_ij / a_ik) = r · log(e_ij / e_ik); r is read off the best-conditioned pairs and must
 * explain them all.
 *
 * @param actual The student's weights, row-major.
 * @param expected The right weights, row-major.
 * @param cols Columns (keys).
 * @returns r, or undefined when the answer is not a rescaled softmax of the same scores.
 */
export function softmaxScaleOf(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  cols: number,
): number | undefined {
  const ratios: number[] = [];
  for (let i = 0; i < expected.length / cols; i++) {
    const row = (m: ArrayLike<number>, j: number) => m[i * cols + j];
    let k = 0; // the key with the largest expected weight in this row
    for (let j = 1; j < cols; j++) if (row(expected, j) > row(expected, k)) k = j;
    for (let j = 0; j < cols; j++) {
      const [a, ak, e, ek] = [row(actual, j), row(actual, k), row(expected, j), row(expected, k)];
      if (e === 0 && a === 0) continue; // masked in both
      if (!(a > 1e-6 && ak > 1e-6 && e > 1e-6)) return undefined;
      const le = Math.log(e / ek);
      if (Math.abs(le) < 0.05) continue; // too close to read a factor from
      ratios.push(Math.log(a / ak) / le);
    }
  }
  if (!ratios.length) return undefined;
  const r = ratios.reduce((s, x) => s + x, 0) / ratios.length;
  return ratios.every((x) => Math.abs(x - r) <= 0.02 * Math.max(1, Math.abs(r))) ? r : undefined;
}

/**
 * Names the divisor a student used instead of the right one, from the factor r = (their scale)/(the right
 * scale). Candidates are written as [text, value], e.g. ["√T", Math.sqrt(T)].
 *
 * @param r The factor their scores carry relative to the right ones.
 * @param right The right divisor, as [text, value] (e.g. ["√d", 2]).
 * @param candidates Other divisors a student may have used.
 * @returns "you divided the scores by √T = 1.73; the rule is …", or undefined when r is 1.
 * @example
 * ```ts
 * import { nameDivisor } from "./compare.ts";
 * const cause = nameDivisor(2, ["√d", 2], [["1 (no scaling)", 1], ["d", 4]]);
 * if (!cause?.startsWith("you did not scale the scores")) throw new Error(cause);
 * ```
 */
export function nameDivisor(
  r: number,
  right: [text: string, value: number],
  candidates: [text: string, value: number][],
): string | undefined {
  if (!(Number.isFinite(r) && r > 0) || Math.abs(r - 1) < 1e-3) return undefined;
  const used = right[1] / r;
  const rule = `the rule is to divide by ${right[0]} = ${fmt(right[1])}`;
  const named = candidates.find(([, v]) => Math.abs(v - used) <= 2e-3 * v && Math.abs(v - right[1]) > 1e-9);
  if (named) {
    const [text, value] = named;
    return value === 1
      ? `you did not scale the scores; ${rule}`
      : `you divided the scores by ${text} = ${fmt(value)}; ${rule}`;
  }
  return used < 1 && Math.abs(used * right[1] - 1) <= 2e-3
    ? `you multiplied the scores by ${right[0]} instead of dividing; ${rule}`
    : `your scores carry a factor 1/${fmt(used)} instead of 1/${fmt(right[1])}; ${rule}`;
}
