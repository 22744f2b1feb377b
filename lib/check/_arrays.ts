/**
 * Reading answers of any rank (lessons 05 and 06): a tf.Tensor, or nested arrays whose innermost level may be
 * typed arrays. Private to lib/check/.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { describe } from "./core.ts";
import { type Failure, shapeOf } from "./compare.ts";

/**
 * Reads an array of a given shape, row-major, into Float64.
 *
 * @param actual What the student returned.
 * @param shape The expected shape, e.g. [H, T, d_h].
 * @param name What the array is, for messages.
 * @returns The values, or a failure naming the expected and actual shape.
 * @example
 * ```ts
 * import { readArray } from "./_arrays.ts";
 * const v = readArray([[[1, 2]], [[3, 4]]], [2, 1, 2]);
 * if (!(v instanceof Float64Array) || v.join() !== "1,2,3,4") throw new Error("expected the values back");
 * if (readArray([[1, 2]], [2, 1]) instanceof Float64Array) throw new Error("a wrong shape is a failure");
 * ```
 */
export function readArray(actual: unknown, shape: readonly number[], name = "the result"): Float64Array | Failure {
  const want = `${name} of shape [${shape.join(", ")}] (a tf.Tensor or nested number arrays)`;
  if (actual instanceof tf.Tensor) {
    if (actual.isDisposed) {
      return {
        ok: false,
        message: `expected ${want}, got a disposed tensor — return it from tf.tidy, do not dispose it`,
      };
    }
    if (actual.shape.join() !== shape.join()) {
      return { ok: false, message: `${name} has the wrong shape`, expected: `[${shape}]`, actual: `[${actual.shape}]` };
    }
    return Float64Array.from(actual.dataSync() as Float32Array);
  }
  const got = shapeOf(actual);
  if (got === undefined || !Array.isArray(actual)) {
    return { ok: false, message: `expected ${want}, got ${describe(actual)}` };
  }
  const out = new Float64Array(shape.reduce((a, b) => a * b, 1));
  let at = 0;
  let problem: Failure | undefined;
  const walk = (x: unknown, depth: number, path: number[]): void => {
    if (problem) return;
    if (depth === shape.length) {
      if (typeof x !== "number") {
        problem = { ok: false, message: `expected ${want}: entry [${path}] is ${describe(x)}` };
      } else out[at++] = x;
      return;
    }
    const isList = Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
    const length = isList ? (x as ArrayLike<unknown>).length : -1;
    if (length !== shape[depth]) {
      problem = {
        ok: false,
        message: `${name} has the wrong shape`,
        expected: `[${shape}]`,
        actual: `[${shapeOf(actual) ?? "?"}]` + (depth > 0 ? ` (at [${path}]: ${isList ? length : describe(x)})` : ""),
      };
      return;
    }
    for (let i = 0; i < length; i++) walk((x as ArrayLike<unknown>)[i], depth + 1, [...path, i]);
  };
  walk(actual, 0, []);
  return problem ?? out;
}
