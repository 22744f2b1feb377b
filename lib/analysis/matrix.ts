/**
 * Dense Float64 matrices on the host, for the analysis helpers (SVD, spectra, projections).
 * A {@linkcode Float64Matrix} stores an m×n matrix row by row: entry (i, j) is `data[i * n + j]`.
 * Every analysis function accepts a {@linkcode MatrixLike}: nested arrays, a flat array with a shape,
 * or a 2-D tensor (read back with `dataSync`, float32 values widened exactly to Float64).
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** An m×n matrix of Float64 numbers, row-major: entry (i, j) is `data[i * shape[1] + j]`. */
export interface Float64Matrix {
  /** The m·n entries, row by row. */
  data: Float64Array;
  /** [m, n]: rows, columns. */
  shape: [number, number];
}

/** Anything the analysis helpers take as a matrix: rows of numbers, a flat row-major array with a shape, a 2-D tensor. */
export type MatrixLike = number[][] | { data: ArrayLike<number>; shape: readonly [number, number] } | tf.Tensor2D;

/**
 * Copies a {@linkcode MatrixLike} into a new {@linkcode Float64Matrix} (the input is never modified).
 *
 * @param a The matrix: `number[][]` (rows of equal length), `{ data, shape: [m, n] }` (row-major), or a 2-D tensor.
 * @param what What the caller is doing, for error messages ("compute the SVD").
 * @returns A fresh row-major Float64 copy.
 * @throws {TypeError} If `a` is not a matrix with at least one row and one column, rows differ in length,
 *   or `data` does not hold m·n numbers.
 * @throws {RangeError} If an entry is NaN or infinite.
 * @example
 * ```ts
 * import { toMatrix } from "./matrix.ts";
 * const m = toMatrix([[1, 2, 3], [4, 5, 6]]);
 * if (m.shape.join() !== "2,3" || m.data[4] !== 5) throw new Error("bad copy");
 * ```
 */
export function toMatrix(a: MatrixLike, what = "use the matrix"): Float64Matrix {
  let data: Float64Array, m: number, n: number;
  if (a instanceof tf.Tensor) {
    if (a.rank !== 2) {
      throw new TypeError(`Cannot ${what}: a tensor must have rank 2 ([m, n]), got shape [${a.shape}]`);
    }
    [m, n] = a.shape as [number, number];
    data = Float64Array.from(a.dataSync() as ArrayLike<number>);
  } else if (Array.isArray(a)) {
    m = a.length;
    n = m > 0 && Array.isArray(a[0]) ? a[0].length : 0;
    data = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      const row = a[i];
      if (!Array.isArray(row) || row.length !== n) {
        throw new TypeError(
          `Cannot ${what}: rows must be arrays of the same length (${n}), got row ${i} ${
            Array.isArray(row) ? `of length ${row.length}` : `of type ${typeof row}`
          }`,
        );
      }
      for (let j = 0; j < n; j++) data[i * n + j] = row[j];
    }
  } else if (a !== null && typeof a === "object" && "data" in a && "shape" in a && Array.isArray(a.shape)) {
    [m, n] = a.shape;
    if (a.shape.length !== 2 || !Number.isInteger(m) || !Number.isInteger(n) || m < 0 || n < 0) {
      throw new TypeError(`Cannot ${what}: shape must be [m, n] of non-negative integers, got [${a.shape}]`);
    }
    if (a.data?.length !== m * n) {
      throw new TypeError(
        `Cannot ${what}: data must hold m·n = ${m * n} numbers for shape [${m},${n}], got ${a.data?.length}`,
      );
    }
    data = Float64Array.from(a.data);
  } else {
    throw new TypeError(
      `Cannot ${what}: expected number[][], { data, shape: [m, n] } or a 2-D tf.Tensor, got ${
        a === null ? "null" : typeof a
      }`,
    );
  }
  if (m === 0 || n === 0) {
    throw new TypeError(`Cannot ${what}: the matrix must have at least one row and one column, got shape [${m},${n}]`);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new RangeError(
        `Cannot ${what}: entries must be finite numbers, got ${data[i]} at (${Math.floor(i / n)}, ${i % n})`,
      );
    }
  }
  return { data, shape: [m, n] };
}

/**
 * The rows of a {@linkcode Float64Matrix} as nested arrays (for printing and plotting).
 *
 * @param a A row-major Float64 matrix.
 * @returns `a` as `number[][]`, m rows of n numbers.
 * @example
 * ```ts
 * import { toRows } from "./matrix.ts";
 * const rows = toRows({ data: Float64Array.of(1, 2, 3, 4), shape: [2, 2] });
 * if (JSON.stringify(rows) !== "[[1,2],[3,4]]") throw new Error("bad rows");
 * ```
 */
export function toRows(a: Float64Matrix): number[][] {
  const [m, n] = a.shape;
  return Array.from({ length: m }, (_, i) => Array.from(a.data.subarray(i * n, (i + 1) * n)));
}
