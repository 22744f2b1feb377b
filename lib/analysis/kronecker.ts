/**
 * Kronecker structure: how many Kronecker products does a matrix need? A matrix M of size (m₁m₂)×(n₁n₂) is a sum
 * of r Kronecker products M = Σ_{t≤r} A_t ⊗ B_t (A_t m₁×n₁, B_t m₂×n₂) exactly when its Van Loan–Pitsianis
 * rearrangement R(M) — one row per m₂×n₂ block of M, holding that block's entries — has rank ≤ r, because
 * R(A ⊗ B) = vec(A)·vec(B)ᵀ (Van Loan & Pitsianis 1993). So the Kronecker rank of M is the rank of R(M), and the
 * SVD of R(M) gives the best approximation by r Kronecker products.
 *
 * Lesson 01's effective matrix of an attention layer, M = A ⊗ W_Vᵀ (block (i, j) is A_ij·W_Vᵀ), has Kronecker
 * rank 1; with H heads and the output map it becomes Σ_h A_h ⊗ (W_V^h W_O^h)ᵀ, of Kronecker rank ≤ H.
 *
 * Convention: row-major throughout. Block (i, j) of M (i < m₁, j < n₁) becomes row i·n₁ + j of R(M), and entry
 * (a, b) of that block becomes column a·n₂ + b. (Van Loan & Pitsianis stack the blocks column by column and
 * flatten them column-major; the two R(M) differ by a permutation of rows and of columns, so their singular
 * values — and the rank — are the same.)
 * @module
 */
import { type Float64Matrix, type MatrixLike, toMatrix } from "./matrix.ts";
import { singularValues } from "./svd.ts";
import { numericalRank } from "./low_rank.ts";

/** Options for {@linkcode kroneckerRank}. */
export interface KroneckerRankOptions {
  /** Relative tolerance: singular values of R(M) above rtol·σ₁ count (default 1e-10; see `numericalRank`). */
  rtol?: number;
}

function checkShape(name: string, s: unknown, what: string): [number, number] {
  if (
    !Array.isArray(s) || s.length !== 2 || !s.every((x) => Number.isInteger(x) && x >= 1)
  ) {
    throw new TypeError(
      `Cannot ${what}: ${name} must be [rows, columns] of positive integers, got ${JSON.stringify(s)}`,
    );
  }
  return [s[0], s[1]];
}

/**
 * The Van Loan–Pitsianis rearrangement R(M): for M = Σ_t A_t ⊗ B_t with A_t of shape `outer` = [m₁, n₁] and
 * B_t of shape `inner` = [m₂, n₂], R(M) = Σ_t vec(A_t)·vec(B_t)ᵀ (vec row-major), an (m₁n₁)×(m₂n₂) matrix.
 *
 * @param m The matrix, (m₁·m₂)×(n₁·n₂).
 * @param outer [m₁, n₁]: the grid of blocks (the shape of the A factors).
 * @param inner [m₂, n₂]: the shape of one block (the shape of the B factors).
 * @returns R(M), [m₁·n₁, m₂·n₂], row i·n₁ + j holding block (i, j) row by row.
 * @throws {TypeError} If `m` is not a matrix, a shape is not two positive integers, or the shapes do not
 *   multiply to the size of `m`.
 * @throws {RangeError} If an entry of `m` is not finite.
 * @example
 * ```ts
 * import { kroneckerRearrange } from "./kronecker.ts";
 * // [[1, 2], [3, 4]] ⊗ [[0, 1]] = [[0, 1, 0, 2], [0, 3, 0, 4]]: R is the outer product [1, 2, 3, 4]ᵀ·[0, 1]
 * const r = kroneckerRearrange([[0, 1, 0, 2], [0, 3, 0, 4]], [2, 2], [1, 2]);
 * if (r.shape.join() !== "4,2" || Array.from(r.data).join() !== "0,1,0,2,0,3,0,4") throw new Error("bad R");
 * ```
 */
export function kroneckerRearrange(
  m: MatrixLike,
  outer: readonly [number, number],
  inner: readonly [number, number],
): Float64Matrix {
  const what = "rearrange a matrix into Kronecker factors";
  const M = toMatrix(m, what);
  const [m1, n1] = checkShape("outer", outer, what), [m2, n2] = checkShape("inner", inner, what);
  const [rows, cols] = M.shape;
  if (rows !== m1 * m2 || cols !== n1 * n2) {
    throw new TypeError(
      `Cannot ${what}: the matrix must be (m₁·m₂)×(n₁·n₂) = ${m1 * m2}×${n1 * n2} for outer [${m1},${n1}] and ` +
        `inner [${m2},${n2}], got shape [${rows},${cols}]`,
    );
  }
  const out = new Float64Array(m1 * n1 * m2 * n2); // [m₁·n₁, m₂·n₂]
  for (let i = 0; i < m1; i++) {
    for (let j = 0; j < n1; j++) {
      const row = (i * n1 + j) * m2 * n2;
      for (let a = 0; a < m2; a++) {
        for (let b = 0; b < n2; b++) out[row + a * n2 + b] = M.data[(i * m2 + a) * cols + j * n2 + b];
      }
    }
  }
  return { data: out, shape: [m1 * n1, m2 * n2] };
}

/**
 * The Kronecker rank of M for the given factor shapes: the fewest products A_t ⊗ B_t that sum to M, computed as
 * the numerical rank of {@linkcode kroneckerRearrange}(M).
 *
 * @param m The matrix, (m₁·m₂)×(n₁·n₂).
 * @param outer [m₁, n₁], the shape of the A factors.
 * @param inner [m₂, n₂], the shape of the B factors.
 * @param options `rtol`, the relative tolerance (default 1e-10: right for Float64 arithmetic on float32 inputs).
 * @returns The rank, 0 … min(m₁n₁, m₂n₂).
 * @throws {TypeError} As {@linkcode kroneckerRearrange}.
 * @throws {RangeError} If an entry is not finite or rtol is not in [0, 1).
 * @example
 * ```ts
 * import { kroneckerRank } from "./kronecker.ts";
 * // I₂ ⊗ [[1, 2], [3, 4]] + [[0, 1], [1, 0]] ⊗ I₂: two products whose factors are independent
 * const m = [[1, 2, 1, 0], [3, 4, 0, 1], [1, 0, 1, 2], [0, 1, 3, 4]];
 * if (kroneckerRank(m, [2, 2], [2, 2]) !== 2) throw new Error("expected Kronecker rank 2");
 * ```
 */
export function kroneckerRank(
  m: MatrixLike,
  outer: readonly [number, number],
  inner: readonly [number, number],
  options: KroneckerRankOptions = {},
): number {
  return numericalRank(singularValues(kroneckerRearrange(m, outer, inner)), { rtol: options.rtol });
}
