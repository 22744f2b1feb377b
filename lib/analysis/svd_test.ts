import * as tf from "@tensorflow/tfjs";
import { eigs, multiply, transpose } from "mathjs";
import { assert, assertEquals, assertThrows, maxAbsDiff, TEST_BACKENDS } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import type { Float64Matrix } from "./matrix.ts";
import { singularValues, svd } from "./svd.ts";

/** A seeded m×n Gaussian matrix. */
function gaussian(m: number, n: number, seed: string): Float64Matrix {
  return { data: rng(seed).normalArray(m * n), shape: [m, n] };
}

/** C = A·B by loops. */
function matmul(a: Float64Matrix, b: Float64Matrix, transposeA = false): Float64Matrix {
  const [ar, ac] = a.shape, [br, bc] = b.shape;
  const m = transposeA ? ac : ar, inner = transposeA ? ar : ac;
  assertEquals(inner, br);
  const out = new Float64Array(m * bc);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < bc; j++) {
      let sum = 0;
      for (let c = 0; c < inner; c++) {
        sum += (transposeA ? a.data[c * ac + i] : a.data[i * ac + c]) * b.data[c * bc + j];
      }
      out[i * bc + j] = sum;
    }
  }
  return { data: out, shape: [m, bc] };
}

/** U·diag(s)·Vᵀ by loops. */
function reconstruct(u: Float64Matrix, s: Float64Array, v: Float64Matrix): Float64Matrix {
  const [m, p] = u.shape, n = v.shape[0];
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let c = 0; c < p; c++) sum += u.data[i * p + c] * s[c] * v.data[j * p + c];
      out[i * n + j] = sum;
    }
  }
  return { data: out, shape: [m, n] };
}

/** max |XᵀX − I|: 0 for orthonormal columns. */
function orthonormalityError(x: Float64Matrix): number {
  const g = matmul(x, x, true), p = x.shape[1];
  let worst = 0;
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) worst = Math.max(worst, Math.abs(g.data[i * p + j] - +(i === j)));
  }
  return worst;
}

/** A random orthogonal n×n matrix: a product of Householder reflections I − 2wwᵀ/wᵀw. */
function orthogonal(n: number, seed: string): Float64Matrix {
  const r = rng(seed);
  let q: Float64Matrix = { data: new Float64Array(n * n), shape: [n, n] };
  for (let i = 0; i < n; i++) q.data[i * n + i] = 1;
  for (let h = 0; h < Math.max(n, 2); h++) {
    const w = r.normalArray(n), ww = w.reduce((a, b) => a + b * b, 0);
    const hm = Float64Array.from(
      { length: n * n },
      (_, k) => +(k % (n + 1) === 0) - (2 * w[Math.floor(k / n)] * w[k % n]) / ww,
    );
    q = matmul(q, { data: hm, shape: [n, n] });
  }
  return q;
}

/** Q₁·diag(σ)·Q₂ᵀ (m×n) with known singular values σ (length ≤ min(m, n)). */
function withSpectrum(m: number, n: number, sigma: number[], seed: string): Float64Matrix {
  const q1 = orthogonal(m, `${seed}/1`), q2 = orthogonal(n, `${seed}/2`);
  const d = new Float64Array(m * n);
  sigma.forEach((x, i) => d[i * n + i] = x);
  const q2t: Float64Matrix = { data: new Float64Array(n * n), shape: [n, n] };
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) q2t.data[i * n + j] = q2.data[j * n + i];
  return matmul(matmul(q1, { data: d, shape: [m, n] }), q2t);
}

/** The largest singular value by power iteration on AᵀA (the independent twin for large matrices). */
function powerSigma(a: Float64Matrix, iterations: number): number {
  const [m, n] = a.shape;
  let x: Float64Array = new Float64Array(n).fill(1 / Math.sqrt(n));
  let sigma = 0;
  for (let it = 0; it < iterations; it++) {
    const y = new Float64Array(m);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) y[i] += a.data[i * n + j] * x[j];
    const z = new Float64Array(n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) z[j] += a.data[i * n + j] * y[i];
    const norm = Math.sqrt(z.reduce((s, v) => s + v * v, 0));
    sigma = Math.sqrt(norm); // ‖AᵀA·x‖ → σ₁² for unit x along v₁
    x = z.map((v) => v / norm);
  }
  return sigma;
}

function checkSvd(a: Float64Matrix, label: string) {
  const [m, n] = a.shape, p = Math.min(m, n);
  const { u, s, v } = svd(a);
  assertEquals(u.shape, [m, p], `${label}: U shape`);
  assertEquals(v.shape, [n, p], `${label}: V shape`);
  assertEquals(s.length, p);
  for (let i = 0; i < p; i++) assert(s[i] >= 0 && (i === 0 || s[i] <= s[i - 1]), `${label}: s not descending: ${s}`);
  const err = maxAbsDiff(reconstruct(u, s, v).data, a.data);
  assert(err < 1e-10, `${label}: ‖A − U·diag(s)·Vᵀ‖max = ${err}`);
  assert(orthonormalityError(u) < 1e-10, `${label}: UᵀU ≠ I by ${orthonormalityError(u)}`);
  assert(orthonormalityError(v) < 1e-10, `${label}: VᵀV ≠ I by ${orthonormalityError(v)}`);
  const only = singularValues(a);
  assert(maxAbsDiff(only, s) < 1e-12 * Math.max(1, s[0]), `${label}: singularValues() differs from svd().s`);
  return { u, s, v };
}

Deno.test("svd() reconstructs A = U·diag(s)·Vᵀ to 1e-10 with orthonormal U and V (square, tall, wide)", () => {
  for (const [m, n] of [[30, 30], [40, 25], [25, 40], [1, 6], [6, 1], [2, 2], [64, 3], [3, 64]]) {
    checkSvd(gaussian(m, n, `svd-${m}x${n}`), `${m}×${n}`);
  }
});

Deno.test("svd() singular values are the square roots of the eigenvalues of AᵀA (mathjs eigs)", () => {
  for (const [m, n] of [[8, 5], [5, 8], [6, 6], [12, 7], [3, 3]]) {
    const a = gaussian(m, n, `eigs-${m}x${n}`);
    const rows = Array.from({ length: m }, (_, i) => Array.from(a.data.subarray(i * n, (i + 1) * n)));
    const small = m >= n ? multiply(transpose(rows), rows) : multiply(rows, transpose(rows)); // the p×p Gram matrix
    const lambda = (eigs(small as number[][], { eigenvectors: false }).values as number[]).toSorted((x, y) => y - x);
    const s = singularValues(a);
    const err = maxAbsDiff(s.map((x) => x * x), lambda);
    assert(err < 1e-12 * lambda[0], `${m}×${n}: max |σ² − λ| = ${err} (λmax ${lambda[0]})`);
  }
});

Deno.test("svd() gets the known cases: diagonal, rank 1, zero, 1×1, identity", () => {
  // diagonal, unsorted, with a negative and a zero entry: σ = sorted |dᵢ|, and U·diag(s)·Vᵀ still gives the signs
  const diag = [[0, 0, 0, 0], [0, -5, 0, 0], [0, 0, 2, 0], [0, 0, 0, 3]];
  const d = checkSvd({ data: Float64Array.from(diag.flat()), shape: [4, 4] }, "diagonal");
  assert(maxAbsDiff(d.s, [5, 3, 2, 0]) < 1e-14, `diagonal: ${d.s}`);

  // rank-1 outer product x·yᵀ: σ = ‖x‖·‖y‖, u₁ = ±x/‖x‖, the rest 0
  const x = [1, -2, 2, 0, 4], y = [3, 0, 4]; // ‖x‖ = 5, ‖y‖ = 5
  const outer: Float64Matrix = { data: Float64Array.from(x.flatMap((xi) => y.map((yj) => xi * yj))), shape: [5, 3] };
  const r1 = checkSvd(outer, "rank 1");
  assert(Math.abs(r1.s[0] - 25) < 1e-12 && r1.s[1] < 1e-13 && r1.s[2] < 1e-13, `rank 1: ${r1.s}`);
  const sign = Math.sign(r1.u.data[0]);
  for (let i = 0; i < 5; i++) assert(Math.abs(r1.u.data[i * 3] - (sign * x[i]) / 5) < 1e-13, "rank 1: u₁ ≠ ±x/‖x‖");

  // zero matrix: σ = 0 and U, V still orthonormal (completed bases)
  for (const [m, n] of [[3, 3], [5, 2], [2, 5]]) {
    const z = checkSvd({ data: new Float64Array(m * n), shape: [m, n] }, `zero ${m}×${n}`);
    assert(z.s.every((v) => v === 0), "zero: σ must be 0");
  }

  // 1×1: σ = |a|, u·v = sign(a)
  const one = svd([[-3]]);
  assertEquals(Array.from(one.s), [3]);
  assertEquals(one.u.data[0] * one.v.data[0], -1);

  // identity: σ = 1, no rotation needed (one sweep)
  const eye = svd({ data: Float64Array.from({ length: 49 }, (_, k) => +(k % 8 === 0)), shape: [7, 7] });
  assert(eye.s.every((v) => v === 1), `identity: ${eye.s}`);
  assertEquals(eye.sweeps, 1);
});

Deno.test("svd() recovers a planted spectrum Q₁·diag(σ)·Q₂ᵀ, including 1e-8 and an exact 0", () => {
  const sigma = [10, 5, 5, 1, 1e-3, 1e-8, 0];
  for (const [m, n] of [[9, 7], [7, 7], [7, 12]]) {
    const a = withSpectrum(m, n, sigma, `planted-${m}x${n}`);
    const { s } = checkSvd(a, `planted ${m}×${n}`);
    assert(maxAbsDiff(s, sigma) < 1e-13 * 10, `planted ${m}×${n}: ${s} vs ${sigma}`);
  }
});

Deno.test("svd() of a 256×256 attention matrix: σ₁ matches power iteration, Σσ² = ‖A‖²_F, σ₁ ≥ 1", () => {
  // A = softmax(Q·Kᵀ/√D) row by row, D = 16: non-negative, rows sum to 1 (so A·1 = 1 and σ₁ ≥ 1)
  const T = 256, D = 16, r = rng("attention-256");
  const q = r.normalArray(T * D), k = r.normalArray(T * D);
  const a: Float64Matrix = { data: new Float64Array(T * T), shape: [T, T] };
  for (let i = 0; i < T; i++) {
    let sum = 0;
    for (let j = 0; j < T; j++) {
      let dot = 0;
      for (let c = 0; c < D; c++) dot += q[i * D + c] * k[j * D + c];
      sum += a.data[i * T + j] = Math.exp(dot / Math.sqrt(D));
    }
    for (let j = 0; j < T; j++) a.data[i * T + j] /= sum;
  }
  const s = singularValues(a);
  const power = powerSigma(a, 300);
  assert(Math.abs(s[0] - power) < 1e-10 * power, `σ₁ ${s[0]} vs power iteration ${power}`);
  assert(s[0] >= 1 - 1e-12, `σ₁ = ${s[0]} < 1`);
  const frob = a.data.reduce((x, v) => x + v * v, 0), sumSq = s.reduce((x, v) => x + v * v, 0);
  assert(Math.abs(sumSq - frob) < 1e-12 * frob, `Σσ² ${sumSq} vs ‖A‖²_F ${frob}`);
});

Deno.test("svd() scales: 1e200·A and 1e-200·A give 1e±200·σ without overflow or underflow", () => {
  const a = gaussian(6, 4, "scale"), s = singularValues(a);
  for (const f of [1e200, 1e-200]) {
    const scaled = singularValues({ data: a.data.map((x) => x * f), shape: [6, 4] });
    assert(scaled.every((x, i) => Math.abs(x / f - s[i]) < 1e-13 * s[0]), `×${f}: ${scaled} vs ${s}`);
  }
});

for (const backend of TEST_BACKENDS) {
  Deno.test(`svd() takes a tensor, a flat array with a shape or rows alike, and leaks no tensor (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const a = gaussian(5, 3, "forms");
    const f32 = Float32Array.from(a.data);
    const rows = Array.from({ length: 5 }, (_, i) => Array.from(f32.subarray(i * 3, i * 3 + 3)));
    const t = tf.tensor2d(f32, [5, 3]);
    const before = tf.memory().numTensors;
    const fromTensor = svd(t), fromRows = svd(rows), fromFlat = svd({ data: f32, shape: [5, 3] });
    assertEquals(tf.memory().numTensors, before, "svd() made tensors");
    assertEquals(Array.from(fromTensor.s), Array.from(fromRows.s));
    assertEquals(Array.from(fromTensor.s), Array.from(fromFlat.s));
    assertEquals(Array.from(singularValues(t)), Array.from(fromRows.s));
    t.dispose();
  });
}

Deno.test("svd() names bad input and says when it does not converge", async () => {
  await initBackend({ backend: "cpu", print: false });
  assertThrows(
    () => svd([[1, 2], [3]]),
    TypeError,
    "Cannot compute the SVD: rows must be arrays of the same length (2), got row 1 of length 1",
  );
  assertThrows(
    () => svd([[1, NaN]]),
    RangeError,
    "Cannot compute the SVD: entries must be finite numbers, got NaN at (0, 1)",
  );
  assertThrows(
    () => singularValues([[1, Infinity]]),
    RangeError,
    "Cannot compute singular values: entries must be finite numbers, got Infinity at (0, 1)",
  );
  assertThrows(() => svd([]), TypeError, "the matrix must have at least one row and one column, got shape [0,0]");
  assertThrows(
    () => svd({ data: [1, 2, 3], shape: [2, 2] }),
    TypeError,
    "data must hold m·n = 4 numbers for shape [2,2], got 3",
  );
  const t3 = tf.tensor3d([1, 2], [1, 1, 2]);
  assertThrows(() => svd(t3 as never), TypeError, "a tensor must have rank 2 ([m, n]), got shape [1,1,2]");
  t3.dispose();
  assertThrows(
    () => svd("abc" as never),
    TypeError,
    "expected number[][], { data, shape: [m, n] } or a 2-D tf.Tensor, got string",
  );
  assertThrows(() => svd([[1]], { tol: 0 }), RangeError, "tol must be in [2^-52, 1e-4], got 0");
  assertThrows(() => svd([[1]], { maxSweeps: 0 }), RangeError, "maxSweeps must be a positive integer, got 0");
  const err = assertThrows(
    () => svd(gaussian(20, 20, "slow"), { maxSweeps: 2 }),
    Error,
    "Cannot compute the SVD: one-sided Jacobi did not converge in 2 sweeps (tolerance 4.44e-15)",
  );
  assert(/the largest \|wᵢ·wⱼ\|\/\(‖wᵢ‖‖wⱼ‖\) in the last sweep was \d\.\d\de-\d+/.test(err.message), err.message);
});
