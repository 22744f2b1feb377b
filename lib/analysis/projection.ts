/**
 * Random projections ℝⁿ → ℝᵏ, x ↦ P·x with P [k, n], that keep squared lengths on average: E‖P·x‖² = ‖x‖².
 * Johnson–Lindenstrauss: for N points, k = O(log N / ε²) rows keep every pairwise squared distance within a
 * factor 1 ± ε with high probability. Linformer (Wang et al. 2020) uses such [k, S] matrices E, F to shorten
 * keys and values along the sequence axis (there n = S, the key length).
 *
 * Shapes: N points, n the dimension projected from, k the dimension projected to (lib/README.md: k).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type MatrixLike, toMatrix } from "./matrix.ts";
import { Rng } from "../random.ts";

function checkSizes(k: number, n: number, r: Rng, what: string): void {
  for (const [name, v] of [["k", k], ["n", n]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`Cannot ${what}: ${name} must be an integer ≥ 1, got ${v}`);
  }
  if (!(r instanceof Rng)) {
    throw new TypeError(`Cannot ${what}: r must be an Rng (from rng(seed)), got ${r === null ? "null" : typeof r}`);
  }
}

/**
 * A Gaussian random projection: entries independent N(0, 1/k), so E‖P·x‖² = ‖x‖² and ‖P·x‖²/‖x‖² ~ χ²_k / k
 * (mean 1, variance 2/k). Every number comes from `r` (k·n normal draws, row by row).
 *
 * @param k Rows: the dimension projected to, ≥ 1.
 * @param n Columns: the dimension projected from, ≥ 1.
 * @param r The random source.
 * @returns [k, n] float32 (the caller owns it).
 * @throws {RangeError} If k or n is not a positive integer.
 * @throws {TypeError} If r is not an {@linkcode Rng}.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { rng } from "../random.ts";
 * import { gaussianProjection } from "./projection.ts";
 * await tf.setBackend("cpu");
 * const p = gaussianProjection(64, 1000, rng(1)); // [64, 1000]
 * const again = gaussianProjection(64, 1000, rng(1));
 * if (p.shape.join() !== "64,1000" || tf.max(tf.abs(tf.sub(p, again))).dataSync()[0] !== 0) {
 *   throw new Error("not reproducible");
 * }
 * tf.dispose([p, again]);
 * ```
 */
export function gaussianProjection(k: number, n: number, r: Rng): tf.Tensor2D {
  checkSizes(k, n, r, "make a Gaussian projection");
  return r.tensor([k, n], 1 / Math.sqrt(k)) as tf.Tensor2D; // [k, n]
}

/** Options for {@linkcode sparseProjection}. */
export interface SparseProjectionOptions {
  /**
   * The share d of non-zero entries, in (0, 1]. Default 1/3: Achlioptas (2003), entries ±√(3/k) with probability
   * 1/6 each. `1 / Math.sqrt(n)` gives the "very sparse" projection of Li, Hastie & Church (2006).
   */
  density?: number;
}

/**
 * A sparse random projection (Achlioptas 2003; Li, Hastie & Church 2006): each entry is +1/√(k·d) or −1/√(k·d)
 * with probability d/2 each and 0 otherwise, so E‖P·x‖² = ‖x‖². With d = 1/3 the variance of ‖P·x‖²/‖x‖² is
 * 2/k, as for Gaussian entries; smaller d adds Σxⱼ⁴/‖x‖⁴ · (1/d − 3)/k. One uniform draw from `r` per entry,
 * row by row.
 *
 * @param k Rows: the dimension projected to, ≥ 1.
 * @param n Columns: the dimension projected from, ≥ 1.
 * @param r The random source.
 * @param options The density d (default 1/3).
 * @returns [k, n] float32 (the caller owns it).
 * @throws {RangeError} If k or n is not a positive integer, or the density is not in (0, 1].
 * @throws {TypeError} If r is not an {@linkcode Rng}.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { rng } from "../random.ts";
 * import { sparseProjection } from "./projection.ts";
 * await tf.setBackend("cpu");
 * const p = sparseProjection(3, 8, rng(7)); // entries in {−1, 0, +1}
 * const values = new Set(Array.from(p.dataSync(), (x) => Math.round(x * 1e6) / 1e6));
 * if ([...values].some((x) => x !== 0 && Math.abs(Math.abs(x) - 1) > 1e-6)) throw new Error(`bad ${[...values]}`);
 * p.dispose();
 * ```
 */
export function sparseProjection(k: number, n: number, r: Rng, options: SparseProjectionOptions = {}): tf.Tensor2D {
  checkSizes(k, n, r, "make a sparse projection");
  const { density = 1 / 3 } = options;
  if (!(density > 0 && density <= 1)) {
    throw new RangeError(`Cannot make a sparse projection: density must be in (0, 1], got ${density}`);
  }
  const value = 1 / Math.sqrt(k * density);
  const data = new Float32Array(k * n);
  for (let i = 0; i < data.length; i++) {
    const u = r.uniform();
    data[i] = u < density / 2 ? -value : u < density ? value : 0;
  }
  return tf.tensor2d(data, [k, n]); // [k, n]
}

/** How much a projection distorts squared pairwise distances; see {@linkcode pairwiseDistortion}. */
export interface Distortion {
  /** max over pairs of |ρᵢⱼ − 1|, where ρᵢⱼ = ‖P(xᵢ − xⱼ)‖² / ‖xᵢ − xⱼ‖². */
  max: number;
  /** mean over pairs of |ρᵢⱼ − 1|. */
  mean: number;
  /** The smallest ρᵢⱼ. */
  minRatio: number;
  /** The largest ρᵢⱼ. */
  maxRatio: number;
  /** Pairs i < j counted (pairs of equal points are skipped: their ratio is 0/0). */
  pairs: number;
}

/**
 * The distortion of squared pairwise distances under a projection: for all pairs i < j of rows of x,
 * ρᵢⱼ = ‖P(xᵢ − xⱼ)‖² / ‖xᵢ − xⱼ‖², and the max and mean of |ρᵢⱼ − 1|. JL's promise is max ≤ ε.
 * Computed in Float64 on the host (a tensor is read back; float32 values are widened exactly);
 * cost N·n·k + N²·(n + k)/2.
 *
 * @param x [N, n] the points, one per row (N ≥ 2).
 * @param p [k, n] the projection.
 * @returns The max and mean distortion, the extreme ratios, the pairs counted.
 * @throws {TypeError} If x or p is not a matrix, or their widths differ.
 * @throws {RangeError} If an entry is not finite, or there are fewer than two distinct points.
 * @example
 * ```ts
 * import { pairwiseDistortion } from "./projection.ts";
 * // keep the first coordinate: the pair along it is kept, the pair along the second axis vanishes (ρ = 0)
 * const d = pairwiseDistortion([[0, 0], [1, 0], [0, 1]], [[1, 0]]);
 * if (d.pairs !== 3 || d.max !== 1 || d.maxRatio !== 1 || d.minRatio !== 0) throw new Error("bad distortion");
 * ```
 */
export function pairwiseDistortion(x: MatrixLike, p: MatrixLike): Distortion {
  const what = "measure the pairwise distortion";
  const X = toMatrix(x, what), P = toMatrix(p, what);
  const [N, n] = X.shape, [k, np] = P.shape;
  if (np !== n) {
    throw new TypeError(
      `Cannot ${what}: the projection must have as many columns as the points (${n}), got [${k},${np}]`,
    );
  }
  if (N < 2) throw new RangeError(`Cannot ${what}: need at least two points (rows of x), got ${N}`);
  const Y = new Float64Array(N * k); // [N, k] = X·Pᵀ
  for (let i = 0; i < N; i++) {
    for (let a = 0; a < k; a++) {
      let sum = 0;
      for (let c = 0; c < n; c++) sum += X.data[i * n + c] * P.data[a * n + c];
      Y[i * k + a] = sum;
    }
  }
  let max = 0, total = 0, minRatio = Infinity, maxRatio = -Infinity, pairs = 0;
  for (let i = 0; i < N; i++) {
    for (let j = i + 1; j < N; j++) {
      let dx = 0, dy = 0;
      for (let c = 0; c < n; c++) dx += (X.data[i * n + c] - X.data[j * n + c]) ** 2;
      if (dx === 0) continue;
      for (let a = 0; a < k; a++) dy += (Y[i * k + a] - Y[j * k + a]) ** 2;
      const ratio = dy / dx, dist = Math.abs(ratio - 1);
      pairs++;
      total += dist;
      if (dist > max) max = dist;
      if (ratio < minRatio) minRatio = ratio;
      if (ratio > maxRatio) maxRatio = ratio;
    }
  }
  if (pairs === 0) throw new RangeError(`Cannot ${what}: all ${N} points are equal, so no distance is defined`);
  return { max, mean: total / pairs, minRatio, maxRatio, pairs };
}
