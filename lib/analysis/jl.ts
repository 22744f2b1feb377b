/**
 * How many random dimensions k suffice? Worst-case sufficient conditions from the Johnson–Lindenstrauss lemma:
 * Dasgupta & Gupta (2003, Thm 2.1): for any n points, k ≥ 4 ln n / (ε²/2 − ε³/3) gives a map keeping every
 * squared distance within 1 ± ε (each draw of their random projection succeeds with probability ≥ 1/n);
 * Linformer (Wang et al. 2020, Thm 1): k = 5 log n / (ε² − ε³) for the context mapping matrix.
 * Both use the natural logarithm. These are loose: measured distortion is far smaller (see `pairwiseDistortion`);
 * the lower bound is Ω(log n / ε²) (Alon 2003; Larsen & Nelson 2017).
 * @module
 */

function check(n: number, eps: number, what: string): void {
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`Cannot ${what}: n must be an integer ≥ 2, got ${n}`);
  if (!(eps > 0 && eps < 1)) throw new RangeError(`Cannot ${what}: eps must be in (0, 1), got ${eps}`);
}

/**
 * The Dasgupta–Gupta Johnson–Lindenstrauss dimension: the smallest integer k ≥ 4 ln n / (ε²/2 − ε³/3).
 * Note that it does not depend on the original dimension, and can exceed it (n = 512, ε = 0.1 → 5348).
 *
 * @param n The number of points, an integer ≥ 2.
 * @param eps The distortion ε, in (0, 1).
 * @returns k, rounded up.
 * @throws {RangeError} If n is not an integer ≥ 2 or eps is not in (0, 1).
 * @example
 * ```ts
 * import { jlMinDim } from "./jl.ts";
 * // 4 ln 512 / (0.125 − 0.041667) = 299.44 → 300
 * if (jlMinDim(512, 0.5) !== 300) throw new Error("bad bound");
 * ```
 */
export function jlMinDim(n: number, eps: number): number {
  check(n, eps, "compute the Johnson–Lindenstrauss dimension");
  return Math.ceil((4 * Math.log(n)) / (eps ** 2 / 2 - eps ** 3 / 3));
}

/**
 * Linformer's Theorem 1 projected length: the smallest integer k ≥ 5 ln n / (ε² − ε³) (natural log; the paper
 * writes log). It grows without bound as ε → 1 as well as ε → 0 (ε² − ε³ → 0 at both ends).
 *
 * @param n The sequence length, an integer ≥ 2.
 * @param eps The distortion ε, in (0, 1).
 * @returns k, rounded up.
 * @throws {RangeError} If n is not an integer ≥ 2 or eps is not in (0, 1).
 * @example
 * ```ts
 * import { linformerMinDim } from "./jl.ts";
 * // 5 ln 512 / (0.01 − 0.001) = 3465.7 → 3466
 * if (linformerMinDim(512, 0.1) !== 3466) throw new Error("bad bound");
 * ```
 */
export function linformerMinDim(n: number, eps: number): number {
  check(n, eps, "compute the Linformer dimension");
  return Math.ceil((5 * Math.log(n)) / (eps ** 2 - eps ** 3));
}
