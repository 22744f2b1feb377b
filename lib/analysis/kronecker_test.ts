import { assert, assertEquals, assertThrows } from "../_testing.ts";
import { rng } from "../random.ts";
import type { Float64Matrix } from "./matrix.ts";
import { kroneckerRank, kroneckerRearrange } from "./kronecker.ts";
import { singularValues } from "./svd.ts";

/** Σ_t A_t ⊗ B_t by the definition: entry (i·m₂ + a, j·n₂ + b) = Σ_t A_t[i][j]·B_t[a][b]. */
function kroneckerSum(as: number[][][], bs: number[][][]): Float64Matrix {
  const [m1, n1, m2, n2] = [as[0].length, as[0][0].length, bs[0].length, bs[0][0].length];
  const data = new Float64Array(m1 * m2 * n1 * n2);
  as.forEach((A, t) => {
    for (let i = 0; i < m1; i++) {
      for (let j = 0; j < n1; j++) {
        for (let a = 0; a < m2; a++) {
          for (let b = 0; b < n2; b++) data[(i * m2 + a) * n1 * n2 + j * n2 + b] += A[i][j] * bs[t][a][b];
        }
      }
    }
  });
  return { data, shape: [m1 * m2, n1 * n2] };
}

const randomMatrix = (seed: string, m: number, n: number) => {
  const r = rng(seed);
  return Array.from({ length: m }, () => Array.from(r.normalArray(n)));
};

Deno.test("kroneckerRearrange() turns Σ A_t ⊗ B_t into Σ vec(A_t) vec(B_t)ᵀ, entry by entry", () => {
  const [m1, n1, m2, n2, r] = [3, 4, 2, 5, 3];
  const as = Array.from({ length: r }, (_, t) => randomMatrix(`kron-a-${t}`, m1, n1));
  const bs = Array.from({ length: r }, (_, t) => randomMatrix(`kron-b-${t}`, m2, n2));
  const R = kroneckerRearrange(kroneckerSum(as, bs), [m1, n1], [m2, n2]);
  assertEquals(R.shape, [m1 * n1, m2 * n2]);
  let worst = 0;
  for (let p = 0; p < m1 * n1; p++) {
    for (let q = 0; q < m2 * n2; q++) {
      let want = 0;
      for (let t = 0; t < r; t++) want += as[t].flat()[p] * bs[t].flat()[q];
      worst = Math.max(worst, Math.abs(R.data[p * m2 * n2 + q] - want));
    }
  }
  // The rearrangement only moves numbers; the sums of products differ in the order of additions only.
  assert(worst < 1e-14, `R(M) differs from Σ vec(A)vec(B)ᵀ by ${worst}`);
});

Deno.test("kroneckerRank() counts the products in a generic sum, and no more for dependent factors", () => {
  for (const r of [1, 2, 3, 5]) {
    const as = Array.from({ length: r }, (_, t) => randomMatrix(`rank-a-${r}-${t}`, 4, 4));
    const bs = Array.from({ length: r }, (_, t) => randomMatrix(`rank-b-${r}-${t}`, 3, 3));
    const M = kroneckerSum(as, bs);
    assertEquals(kroneckerRank(M, [4, 4], [3, 3]), r, `a generic sum of ${r} products`);
    // The singular values of R(M) beyond r are rounding only; those up to r are not.
    const s = singularValues(kroneckerRearrange(M, [4, 4], [3, 3]));
    assert(s[r - 1] / s[0] > 1e-6 && (r === s.length || s[r] / s[0] < 1e-13), `spectrum ${Array.from(s)}`);
  }
  // A₃ = A₁ + A₂ and B₃ = B₁: A₁⊗B₁ + A₂⊗B₂ + (A₁ + A₂)⊗B₁ = (2A₁ + A₂)⊗B₁ + A₂⊗B₂, rank 2.
  const [a1, a2] = [randomMatrix("dep-a1", 3, 3), randomMatrix("dep-a2", 3, 3)];
  const [b1, b2] = [randomMatrix("dep-b1", 2, 2), randomMatrix("dep-b2", 2, 2)];
  const a3 = a1.map((row, i) => row.map((x, j) => x + a2[i][j]));
  assertEquals(kroneckerRank(kroneckerSum([a1, a2, a3], [b1, b2, b1]), [3, 3], [2, 2]), 2);
  // The wrong factor shapes see a different structure: I₂ ⊗ B is not a single product of [1, 4] ⊗ [2, 1] factors.
  const eyeKronB = kroneckerSum([[[1, 0], [0, 1]]], [randomMatrix("eye-b", 2, 2)]);
  assertEquals(kroneckerRank(eyeKronB, [2, 2], [2, 2]), 1);
  assert(kroneckerRank(eyeKronB, [1, 4], [4, 1]) > 1);
  // The zero matrix has Kronecker rank 0.
  assertEquals(kroneckerRank([[0, 0], [0, 0]], [1, 1], [2, 2]), 0);
});

Deno.test("kroneckerRearrange() and kroneckerRank() name bad shapes", () => {
  const what = "Cannot rearrange a matrix into Kronecker factors";
  assertThrows(
    () => kroneckerRearrange([[1, 2, 3], [4, 5, 6]], [2, 2], [1, 2]),
    TypeError,
    `${what}: the matrix must be (m₁·m₂)×(n₁·n₂) = 2×4 for outer [2,2] and inner [1,2], got shape [2,3]`,
  );
  assertThrows(
    () => kroneckerRearrange([[1]], [1, 0] as never, [1, 1]),
    TypeError,
    `${what}: outer must be [rows, columns] of positive integers, got [1,0]`,
  );
  assertThrows(
    () => kroneckerRank([[1]], [1, 1], [1, 1], { rtol: 1 }),
    RangeError,
    "Cannot compute the numerical rank: rtol must be in [0, 1), got 1",
  );
});
