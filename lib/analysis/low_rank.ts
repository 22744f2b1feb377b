/**
 * How low-rank is a matrix? Everything here follows from the singular values σ₁ ≥ σ₂ ≥ … ≥ σ_p ≥ 0:
 * the best rank-k approximation A_k = Σ_{i≤k} σᵢ uᵢ vᵢᵀ (Eckart–Young–Mirsky 1936) has
 * ‖A − A_k‖_F = √(Σ_{i>k} σᵢ²) and ‖A − A_k‖₂ = σ_{k+1}; Linformer's Fig. 1 (Wang et al. 2020) plots the
 * normalised cumulative singular values Σ_{i≤k} σᵢ / Σᵢ σᵢ of attention matrices.
 * @module
 */
import type { MatrixLike } from "./matrix.ts";
import { singularValues } from "./svd.ts";

/** Singular values, or anything that carries them as `s` (the result of `svd` does). */
export type Spectrum = ArrayLike<number> | { s: ArrayLike<number> };

/** Options for {@linkcode cumulativeSpectrum} and {@linkcode rankForMass}. */
export interface MassOptions {
  /** Count mass as σᵢ² (energy, as the Frobenius norm does) instead of σᵢ (Linformer Fig. 1). Default false. */
  squared?: boolean;
}

/** The relative errors of the best rank-k approximation A_k. */
export interface LowRankError {
  /** ‖A − A_k‖_F / ‖A‖_F = √(Σ_{i>k} σᵢ² / Σᵢ σᵢ²). */
  frobenius: number;
  /** ‖A − A_k‖₂ / ‖A‖₂ = σ_{k+1} / σ₁. */
  spectral: number;
}

/** A validated copy of the singular values, sorted descending. */
function spectrumOf(s: Spectrum, what: string): Float64Array {
  const values = s !== null && typeof s === "object" && "s" in s ? s.s : s;
  if (values === null || typeof values !== "object" || typeof values.length !== "number") {
    throw new TypeError(`Cannot ${what}: expected singular values (an array, or an object with s), got ${typeof s}`);
  }
  if (values.length === 0) throw new TypeError(`Cannot ${what}: the singular values must not be empty`);
  const out = Float64Array.from(values);
  for (let i = 0; i < out.length; i++) {
    if (!(out[i] >= 0 && out[i] < Infinity)) {
      throw new RangeError(`Cannot ${what}: singular values must be finite and ≥ 0, got ${values[i]} at ${i}`);
    }
  }
  return out.sort().reverse();
}

/**
 * The relative error of the best rank-k approximation (Eckart–Young), in the Frobenius and spectral norms,
 * from the singular values alone. Both are 0 when k ≥ rank (and for the zero matrix).
 *
 * @param a A matrix (its singular values are computed with {@linkcode singularValues}) or an object with the
 *   singular values as `s`, e.g. the result of `svd` — pass that to avoid recomputing for every k.
 * @param k The rank kept: an integer ≥ 0 (k = 0 gives errors 1 and 1; k ≥ min(m, n) gives 0 and 0).
 * @returns `{ frobenius, spectral }`, each in [0, 1].
 * @throws {TypeError} If `a` is neither a matrix nor carries singular values.
 * @throws {RangeError} If k is not a non-negative integer, or a singular value is negative or not finite.
 * @example
 * ```ts
 * import { lowRankError } from "./low_rank.ts";
 * // σ = 4, 3: keeping one leaves √(9/25) = 0.6 of the Frobenius norm and 3/4 of the spectral norm
 * const e = lowRankError([[4, 0], [0, 3]], 1);
 * if (Math.abs(e.frobenius - 0.6) > 1e-12 || Math.abs(e.spectral - 0.75) > 1e-12) throw new Error("bad error");
 * ```
 */
export function lowRankError(a: MatrixLike | { s: ArrayLike<number> }, k: number): LowRankError {
  const what = "compute the low-rank error";
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`Cannot ${what}: k must be an integer ≥ 0, got ${k}`);
  const s = a !== null && typeof a === "object" && !Array.isArray(a) && "s" in a
    ? spectrumOf(a, what)
    : singularValues(a as MatrixLike);
  let tail = 0, total = 0; // sums of σᵢ², smallest first (fewer rounding errors)
  for (let i = s.length - 1; i >= 0; i--) {
    if (i >= k) tail += s[i] * s[i];
    total += s[i] * s[i];
  }
  if (s[0] === 0 || k >= s.length) return { frobenius: 0, spectral: 0 };
  return { frobenius: Math.sqrt(tail / total), spectral: s[k] / s[0] };
}

/**
 * The normalised cumulative singular values c_k = Σ_{i≤k} σᵢ / Σᵢ σᵢ, k = 1…p (Linformer Fig. 1), or of σᵢ²
 * with `squared`. The singular values are sorted descending first. All ones for the zero matrix.
 *
 * @param s The singular values (any order), or an object with them as `s`.
 * @param options `squared`: accumulate σᵢ² instead of σᵢ.
 * @returns [p] non-decreasing, ending at exactly 1; entry k − 1 is the mass of the top k.
 * @throws {TypeError} If `s` is not an array of numbers (or an object with one as `s`), or is empty.
 * @throws {RangeError} If a singular value is negative or not finite.
 * @example
 * ```ts
 * import { cumulativeSpectrum } from "./low_rank.ts";
 * const c = cumulativeSpectrum([1, 3, 4, 2]);
 * if (c.join() !== [0.4, 0.7, 0.9, 1].join()) throw new Error(`bad spectrum ${c}`);
 * ```
 */
export function cumulativeSpectrum(s: Spectrum, options: MassOptions = {}): Float64Array {
  const sorted = spectrumOf(s, "compute the cumulative spectrum");
  const mass = options.squared ? sorted.map((x) => x * x) : sorted;
  let total = 0;
  for (let i = mass.length - 1; i >= 0; i--) total += mass[i];
  const out = new Float64Array(mass.length);
  let sum = 0;
  for (let i = 0; i < mass.length; i++) {
    sum += mass[i];
    out[i] = total === 0 ? 1 : Math.min(1, sum / total);
  }
  out[out.length - 1] = 1;
  return out;
}

/**
 * The rank needed for a share of the spectrum: the smallest k whose top-k singular values hold at least a fraction
 * `p` of Σσᵢ (or of Σσᵢ² with `squared`, i.e. rank-k relative Frobenius error ≤ √(1 − p)).
 * Compares with a slack of 1e-12, so that rounding in the sums never adds a rank.
 *
 * @param s The singular values (any order), or an object with them as `s`.
 * @param p The share, in (0, 1].
 * @param options `squared`: count σᵢ² instead of σᵢ.
 * @returns k in 1…p (0 for the zero matrix).
 * @throws {TypeError} If `s` is not an array of numbers (or an object with one as `s`), or is empty.
 * @throws {RangeError} If p is not in (0, 1], or a singular value is negative or not finite.
 * @example
 * ```ts
 * import { rankForMass } from "./low_rank.ts";
 * // σ = 4, 3, 2, 1 (sum 10): the top two hold 70%, the top three 90%
 * if (rankForMass([4, 3, 2, 1], 0.7) !== 2 || rankForMass([4, 3, 2, 1], 0.75) !== 3) throw new Error("bad rank");
 * ```
 */
export function rankForMass(s: Spectrum, p: number, options: MassOptions = {}): number {
  if (!(p > 0 && p <= 1)) throw new RangeError(`Cannot find the rank for a mass: p must be in (0, 1], got ${p}`);
  const sorted = spectrumOf(s, "find the rank for a mass");
  if (sorted[0] === 0) return 0;
  const c = cumulativeSpectrum(sorted, options);
  const k = c.findIndex((x) => x >= p - 1e-12);
  return k + 1;
}

/**
 * The effective rank of Roy & Vetterli (2007): exp of the Shannon entropy of the normalised singular values,
 * exp(−Σᵢ qᵢ ln qᵢ) with qᵢ = σᵢ / Σⱼ σⱼ. Equals r for r equal non-zero singular values; between 1 and p.
 *
 * @param s The singular values (any order), or an object with them as `s`.
 * @returns The effective rank (0 for the zero matrix).
 * @throws {TypeError} If `s` is not an array of numbers (or an object with one as `s`), or is empty.
 * @throws {RangeError} If a singular value is negative or not finite.
 * @example
 * ```ts
 * import { effectiveRank } from "./low_rank.ts";
 * if (Math.abs(effectiveRank([2, 2, 2, 0]) - 3) > 1e-12) throw new Error("three equal values: rank 3");
 * ```
 */
export function effectiveRank(s: Spectrum): number {
  const sorted = spectrumOf(s, "compute the effective rank");
  let total = 0;
  for (let i = sorted.length - 1; i >= 0; i--) total += sorted[i];
  if (total === 0) return 0;
  let h = 0;
  for (const x of sorted) if (x > 0) h -= (x / total) * Math.log(x / total);
  return Math.exp(h);
}

/** Options for {@linkcode numericalRank}. */
export interface RankOptions {
  /** Count σᵢ > rtol·σ₁ (default 1e-10), in [0, 1). */
  rtol?: number;
}

/**
 * The numerical rank: how many singular values exceed rtol·σ₁. Exact ranks are rounding-sensitive (a rank-d
 * product of float32 numbers has tiny but non-zero singular values beyond d), so a relative threshold decides.
 * The default 1e-10 suits Float64 arithmetic, whose rounding leaves σᵢ/σ₁ near 1e-16 for matrices of a few hundred
 * rows; use about 1e-5 for float32 arithmetic.
 *
 * @param s The singular values (any order), or an object with them as `s`.
 * @param options `rtol`, the relative threshold.
 * @returns The count of σᵢ > rtol·σ₁ (0 for the zero matrix).
 * @throws {TypeError} If `s` is not an array of numbers (or an object with one as `s`), or is empty.
 * @throws {RangeError} If rtol is not in [0, 1), or a singular value is negative or not finite.
 * @example
 * ```ts
 * import { numericalRank } from "./low_rank.ts";
 * if (numericalRank([3, 1, 1e-14]) !== 2 || numericalRank([3, 1, 1e-14], { rtol: 0 }) !== 3) throw new Error("bad");
 * ```
 */
export function numericalRank(s: Spectrum, options: RankOptions = {}): number {
  const { rtol = 1e-10 } = options;
  if (!(rtol >= 0 && rtol < 1)) {
    throw new RangeError(`Cannot compute the numerical rank: rtol must be in [0, 1), got ${rtol}`);
  }
  const sorted = spectrumOf(s, "compute the numerical rank");
  return sorted.filter((x) => x > rtol * sorted[0]).length;
}
