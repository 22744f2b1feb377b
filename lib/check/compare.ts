/**
 * Comparisons that checks use to turn a student's value into a verdict.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { describe, type Verdict } from "./core.ts";

/** A known wrong answer and what it says about the misconception behind it. */
export type Misconception = [value: bigint, cause: string];

/**
 * Compares an integer answer (number or bigint) with the locked expectation.
 *
 * @param actual What the student returned.
 * @param expected The right count.
 * @param known Wrong counts that point to a misconception.
 */
export function expectCount(actual: unknown, expected: bigint, known: Misconception[] = []): Verdict {
  let value: bigint;
  if (typeof actual === "bigint") value = actual;
  else if (typeof actual === "number" && Number.isInteger(actual)) {
    if (!Number.isSafeInteger(actual)) {
      return {
        ok: false,
        message:
          `${actual} is beyond 2^53, where numbers stop being exact: return a bigint (e.g. BigInt(T) * BigInt(d))`,
        expected: String(expected),
      };
    }
    value = BigInt(actual);
  } else {
    return {
      ok: false,
      message: `expected a whole number (number or bigint), got ${describe(actual)}`,
      expected: String(expected),
    };
  }
  if (value === expected) return { ok: true };
  const match = known.find(([v]) => v === value);
  return {
    ok: false,
    message: "wrong count",
    expected: String(expected),
    actual: String(value),
    diagnosis: match?.[1],
  };
}

/**
 * Reads a matrix from a tf.Tensor, a nested number array or a flat typed array.
 *
 * @returns The values row-major in Float64, or a verdict saying what was wrong.
 */
export function readMatrix(actual: unknown, rows: number, cols: number): Float64Array | Verdict {
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
    if (actual.length !== rows || actual.some((r) => !Array.isArray(r) || r.length !== cols)) {
      const inner = Array.isArray(actual[0]) ? actual[0].length : "?";
      return {
        ok: false,
        message: "wrong shape",
        expected: `[${rows}, ${cols}]`,
        actual: `[${actual.length}, ${inner}]`,
      };
    }
    const out = Float64Array.from((actual as unknown[][]).flat() as number[]);
    if (out.some((_x, i) => typeof (actual as unknown[][])[Math.floor(i / cols)][i % cols] !== "number")) {
      return { ok: false, message: `expected ${want} of numbers, found a non-number entry` };
    }
    return out;
  }
  return { ok: false, message: `expected ${want}, got ${describe(actual)}` };
}

/**
 * Compares two arrays of the same layout within `tol`; names the worst entry.
 *
 * @param actual Student values, row-major.
 * @param expected Expected values, row-major.
 * @param cols Columns, to report the worst entry as [row, col].
 * @param tol Largest allowed absolute difference.
 */
export function expectClose(actual: Float64Array, expected: Float64Array, cols: number, tol: number): Verdict {
  let worst = -1, err = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (Number.isNaN(d) && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) {
      worst = i;
      err = NaN;
      break;
    }
    if (d > err) [worst, err] = [i, d];
  }
  if (!(err > tol) && !Number.isNaN(err)) return { ok: true };
  const at = `[${Math.floor(worst / cols)}, ${worst % cols}]`;
  return {
    ok: false,
    message: Number.isNaN(err) ? `NaN at ${at}` : `max abs error ${err.toExponential(2)} at ${at} (tolerance ${tol})`,
    expected: `${round(expected[worst])} at ${at}`,
    actual: `${round(actual[worst])} at ${at}`,
  };
}

/** Whether two arrays agree within `tol` everywhere. */
export function allClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tol)) return false;
  return true;
}

function round(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(6))) : String(x);
}
