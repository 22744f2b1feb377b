import { assert, assertEquals, assertThrows, maxAbsDiff } from "../_testing.ts";
import { rng } from "../random.ts";
import type { Float64Matrix } from "./matrix.ts";
import { cumulativeSpectrum, effectiveRank, lowRankError, numericalRank, rankForMass } from "./low_rank.ts";
import { singularValues, svd } from "./svd.ts";

/** The best rank-k approximation U_k·diag(s_k)·V_kᵀ, by loops. */
function truncate(a: Float64Matrix, k: number): Float64Matrix {
  const { u, s, v } = svd(a);
  const [m, n] = a.shape, p = s.length;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      for (let c = 0; c < Math.min(k, p); c++) out[i * n + j] += u.data[i * p + c] * s[c] * v.data[j * p + c];
    }
  }
  return { data: out, shape: [m, n] };
}

const frobenius = (x: Float64Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0));

Deno.test("lowRankError() equals the measured error of the truncated SVD in both norms (Eckart–Young)", () => {
  for (const [m, n] of [[20, 12], [9, 15]]) {
    const a: Float64Matrix = { data: rng(`lowrank-${m}x${n}`).normalArray(m * n), shape: [m, n] };
    const res = svd(a), p = Math.min(m, n);
    for (let k = 0; k <= p + 1; k++) {
      const ak = truncate(a, k), diff = a.data.map((x, i) => x - ak.data[i]);
      const frob = frobenius(diff) / frobenius(a.data);
      const spectral = singularValues({ data: diff, shape: [m, n] })[0] / res.s[0];
      for (const e of [lowRankError(res, k), lowRankError(a, k)]) {
        assert(Math.abs(e.frobenius - frob) < 1e-10, `${m}×${n} k=${k}: Frobenius ${e.frobenius} vs measured ${frob}`);
        assert(Math.abs(e.spectral - spectral) < 1e-10, `${m}×${n} k=${k}: spectral ${e.spectral} vs ${spectral}`);
      }
      // any other rank-k matrix does no better: keep the first k columns of A, zero the rest
      if (k > 0 && k < p) {
        const other = a.data.map((x, i) => i % n < k ? 0 : x);
        assert(frobenius(other) / frobenius(a.data) >= frob, "a rank-k matrix beat the truncated SVD");
      }
    }
  }
});

Deno.test("lowRankError() on known spectra, k = 0, k ≥ rank and the zero matrix", () => {
  const equal = { s: [1, 1, 1, 1] };
  assert(Math.abs(lowRankError(equal, 2).frobenius - Math.SQRT1_2) < 1e-15);
  assertEquals(lowRankError(equal, 2).spectral, 1);
  assertEquals(lowRankError({ s: [3, 4] }, 0), { frobenius: 1, spectral: 1 });
  assertEquals(lowRankError({ s: [3, 4] }, 2), { frobenius: 0, spectral: 0 });
  assertEquals(lowRankError({ s: [3, 4] }, 9), { frobenius: 0, spectral: 0 });
  assertEquals(lowRankError({ s: [0, 0] }, 1), { frobenius: 0, spectral: 0 });
  assertEquals(lowRankError([[0, 0], [0, 0]], 0), { frobenius: 0, spectral: 0 });
  // geometric σᵢ = 2⁻ⁱ, i = 0…9: the rank-k Frobenius error is √(Σ_{i≥k} 4⁻ⁱ / Σᵢ 4⁻ⁱ) = 2⁻ᵏ √((1 − 4^{k−10}) / (1 − 4⁻¹⁰))
  const geometric = Array.from({ length: 10 }, (_, i) => 2 ** -i);
  for (let k = 0; k <= 10; k++) {
    const expected = 2 ** -k * Math.sqrt((1 - 4 ** (k - 10)) / (1 - 4 ** -10));
    assert(Math.abs(lowRankError({ s: geometric.toReversed() }, k).frobenius - expected) < 1e-15, `k=${k}`);
  }
});

Deno.test("cumulativeSpectrum() sorts, normalises and ends at 1; squared counts energy", () => {
  assertEquals(Array.from(cumulativeSpectrum([1, 3, 4, 2])), [0.4, 0.7, 0.9, 1]);
  assert(
    maxAbsDiff(cumulativeSpectrum({ s: [1, 3, 4, 2] }, { squared: true }), [16 / 30, 25 / 30, 29 / 30, 1]) < 1e-15,
  );
  assertEquals(Array.from(cumulativeSpectrum([0, 0, 0])), [1, 1, 1]);
  assertEquals(Array.from(cumulativeSpectrum(Float64Array.of(7))), [1]);
  // σ of a random matrix: non-decreasing, last exactly 1, first = σ₁/Σσ
  const res = svd({ data: rng("cumulative").normalArray(30 * 20), shape: [30, 20] });
  const c = cumulativeSpectrum(res);
  assert(c.every((x, i) => i === 0 || x >= c[i - 1]), "not non-decreasing");
  assertEquals(c[19], 1);
  assert(Math.abs(c[0] - res.s[0] / res.s.reduce((a, b) => a + b, 0)) < 1e-15);
  // squared mass and the Frobenius error agree: c²_k = 1 − e_F(k)²
  const c2 = cumulativeSpectrum(res, { squared: true });
  for (let k = 1; k <= 20; k++) assert(Math.abs(c2[k - 1] - (1 - lowRankError(res, k).frobenius ** 2)) < 1e-12);
});

Deno.test("rankForMass() is the smallest k holding the share p (checked by brute force)", () => {
  assertEquals(rankForMass([4, 3, 2, 1], 0.7), 2);
  assertEquals(rankForMass([4, 3, 2, 1], 0.75), 3);
  assertEquals(rankForMass([4, 3, 2, 1], 1), 4);
  assertEquals(rankForMass([1, 2, 3, 4], 0.4), 1);
  assertEquals(rankForMass([5, 0, 0], 1), 1);
  assertEquals(rankForMass([0, 0], 0.5), 0);
  assertEquals(rankForMass([0.1, 0.2, 0.3, 0.4], 0.7), 2); // 0.4 + 0.3 sums to 0.7000000000000001 or 0.7: both count
  const s = Array.from(rng("mass").uniformArray(50), (x) => x ** 4);
  const sorted = s.toSorted((x, y) => y - x);
  for (const squared of [false, true]) {
    const w = sorted.map((x) => squared ? x * x : x), total = w.reduce((a, b) => a + b, 0);
    for (const p of [0.1, 0.5, 0.9, 0.99]) {
      let k = 0, sum = 0;
      while (sum < p * total) sum += w[k++];
      assertEquals(rankForMass(s, p, { squared }), k, `p=${p} squared=${squared}`);
    }
  }
});

Deno.test("effectiveRank() is exp(entropy): r for r equal values, between 1 and p otherwise", () => {
  assert(Math.abs(effectiveRank([2, 2, 2, 0]) - 3) < 1e-12);
  assertEquals(effectiveRank([5, 0, 0]), 1);
  assertEquals(effectiveRank([0, 0]), 0);
  const q = [0.5, 0.25, 0.125, 0.125]; // entropy 1.75 bits
  assert(Math.abs(effectiveRank(q.map((x) => 8 * x)) - 2 ** 1.75) < 1e-12);
  const res = svd({ data: rng("erank").normalArray(40 * 25), shape: [40, 25] });
  const r = effectiveRank(res);
  assert(r > 1 && r < 25, `effective rank ${r}`);
});

Deno.test("the spectrum helpers name bad input", () => {
  assertThrows(
    () => lowRankError({ s: [1] }, -1),
    RangeError,
    "Cannot compute the low-rank error: k must be an integer ≥ 0, got -1",
  );
  assertThrows(() => lowRankError({ s: [1] }, 1.5), RangeError, "k must be an integer ≥ 0, got 1.5");
  assertThrows(
    () => lowRankError({ s: [1, -2] }, 1),
    RangeError,
    "singular values must be finite and ≥ 0, got -2 at 1",
  );
  assertThrows(
    () => cumulativeSpectrum([]),
    TypeError,
    "Cannot compute the cumulative spectrum: the singular values must not be empty",
  );
  assertThrows(() => cumulativeSpectrum([1, NaN]), RangeError, "singular values must be finite and ≥ 0, got NaN at 1");
  assertThrows(
    () => effectiveRank(3 as never),
    TypeError,
    "Cannot compute the effective rank: expected singular values (an array, or an object with s), got number",
  );
  assertThrows(() => rankForMass([1], 0), RangeError, "Cannot find the rank for a mass: p must be in (0, 1], got 0");
  assertThrows(() => rankForMass([1], 1.5), RangeError, "p must be in (0, 1], got 1.5");
  assertThrows(() => lowRankError([[1, 2], [3]], 1), TypeError, "rows must be arrays of the same length (2)");
});

Deno.test("numericalRank() counts singular values above rtol·σ₁: d for a product of rank d in Float64", () => {
  // Q·Kᵀ with Q, K of [12, 3]: rank 3; in Float64 the other 9 singular values are rounding (≈1e-16·σ₁).
  const r = rng("numerical-rank");
  const [n, d] = [12, 3];
  const q = r.normalArray(n * d), k = r.normalArray(n * d);
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) for (let c = 0; c < d; c++) s[i * n + j] += q[i * d + c] * k[j * d + c];
  }
  const sv = singularValues({ data: s, shape: [n, n] });
  assertEquals(numericalRank(sv), d);
  assert(sv[d] / sv[0] < 1e-14, `σ_${d + 1}/σ₁ = ${sv[d] / sv[0]}`);
  assertEquals(numericalRank({ s: [5, 4, 0, 0] }), 2);
  assertEquals(numericalRank([0, 0]), 0);
  assertEquals(numericalRank([1, 0.5, 1e-3], { rtol: 1e-2 }), 2);
  assertThrows(() => numericalRank([1], { rtol: -1 }), RangeError, "rtol must be in [0, 1), got -1");
});
