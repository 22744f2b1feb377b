/**
 * Locked numbers of lesson 06's checks (lib/check/lesson06_cases.ts) and hidden cases
 * (tools/grading/hidden06_cases.ts), from the formulas of solutions/06-rank-decay-jl-linformer.ipynb, in Float64
 * plain loops: numerical ranks from the eigenvalues of Gram matrices (cyclic Jacobi, written here — the lib's
 * SVD is what the students call), spectra from eigenvalues, Johnson–Lindenstrauss dimensions, projections,
 * Linformer outputs and mean-pooling matrices, with the answers of the known mistakes.
 * @module
 */
import {
  assertDistinct,
  caseFile,
  distinctWrong,
  type GeneratedFile,
  Inputs,
  matmul,
  type Matrix,
  scale,
  sig,
  sigNum,
  softmaxColumns,
  softmaxRows,
  transpose,
} from "./_gen.ts";

const GENERATOR = "tools/cases/make_lesson06.ts";
const ABOUT = "from the formulas of solutions/06-rank-decay-jl-linformer.ipynb";

// ---------------------------------------------------------------- Float64 eigenvalues (cyclic Jacobi)

/** The eigenvalues of a symmetric matrix, descending, by cyclic Jacobi rotations in Float64. */
function symmetricEigenvalues(a: Matrix): number[] {
  const n = a.length;
  const m = a.map((row) => [...row]);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p][q] ** 2;
    if (off < 1e-30 * Math.max(1e-300, m.reduce((s, row, i) => s + row[i] ** 2, 0))) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (m[p][q] === 0) continue;
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) { // rotate columns p, q
          const [mkp, mkq] = [m[k][p], m[k][q]];
          m[k][p] = c * mkp - s * mkq;
          m[k][q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) { // rotate rows p, q
          const [mpk, mqk] = [m[p][k], m[q][k]];
          m[p][k] = c * mpk - s * mqk;
          m[q][k] = s * mpk + c * mqk;
        }
      }
    }
  }
  return m.map((row, i) => row[i]).sort((x, y) => y - x);
}

/** Singular values of A (descending) from the eigenvalues of its smaller Gram matrix: σ = √max(λ, 0). */
function singularValuesOf(a: Matrix): number[] {
  const gram = a.length < a[0].length ? matmul(a, transpose(a)) : matmul(transpose(a), a);
  return symmetricEigenvalues(gram).map((l) => Math.sqrt(Math.max(l, 0)));
}

// ---------------------------------------------------------------- 1 · scoreAndWeightRanks

function rankCase(label: string, inputs: Inputs, n: number, d: number) {
  const Q = inputs.matrix(n, d), K = inputs.matrix(n, d);
  const S = scale(matmul(Q, transpose(K)), 1 / Math.sqrt(d));
  const P = softmaxRows(S);
  const [sS, sP] = [singularValuesOf(S), singularValuesOf(P)];
  // The ranks are d and n by construction (generic Q, K); make sure these inputs leave a wide margin on both sides
  // of 1e-10·σ₁ (σ from eigenvalues of the Gram matrix lose digits below ~1e-8·σ₁, which is still far from 1e-10).
  if (!(sS[d - 1] / sS[0] > 1e-4)) throw new Error(`${label}: σ_d/σ₁ of the scores is only ${sS[d - 1] / sS[0]}`);
  if (!(sP[n - 1] / sP[0] > 1e-6)) throw new Error(`${label}: σ_n/σ₁ of the weights is only ${sP[n - 1] / sP[0]}`);
  return { label, Q, K, expected: [d, n] };
}

// ---------------------------------------------------------------- 2 · spectrumFromGram

/** The mass and effective rank of singular values σ (any order, non-negative). */
function summary(sigma: number[], k: number): [number, number] {
  const s = [...sigma].sort((a, b) => b - a);
  const total = s.reduce((a, b) => a + b, 0);
  const mass = s.slice(0, k).reduce((a, b) => a + b, 0) / total;
  const h = -s.reduce((acc, x) => (x > 0 ? acc + (x / total) * Math.log(x / total) : acc), 0);
  return [mass, Math.exp(h)];
}

function gramCase(eigenvalues: number[], k: number, first: boolean) {
  const sigma = eigenvalues.map((l) => Math.sqrt(Math.max(l, 0)));
  const [mass, erank] = summary(sigma, k);
  const total = sigma.reduce((a, b) => a + b, 0);
  const asGiven = sigma.slice(0, k).reduce((a, b) => a + b, 0) / total; // the first k, unsorted
  const lambdas = eigenvalues.map((l) => Math.max(l, 0));
  const wrong = {
    eigenvaluesAsSingular: summary(lambdas, k),
    firstK: [asGiven, erank],
    kPlusOne: [summary(sigma, k + 1)[0], erank],
    entropyNotExponentiated: [mass, Math.log(erank)],
  };
  const rounded = Object.fromEntries(Object.entries(wrong).map(([key, v]) => [key, v.map((x) => sigNum(x, 12))]));
  const what = `spectrumFromGram([${eigenvalues}], ${k})`;
  return {
    eigenvalues,
    k,
    expected: [sigNum(mass, 12), sigNum(erank, 12)],
    wrong: distinctWrong(what, [sigNum(mass, 12), sigNum(erank, 12)], rounded, first),
  };
}

// ---------------------------------------------------------------- 3 · jlDimension

/** n points in D dimensions of rank r: integer combinations of r random directions (rows distinct). */
function pointsOfRank(inputs: Inputs, n: number, D: number, r: number): Matrix {
  const A = inputs.matrix(n, r, 2, 0), B = inputs.matrix(r, D, 2, 0);
  const points = matmul(A, B);
  const s = singularValuesOf(points);
  const rank = s.filter((x) => x > 1e-6 * s[0]).length; // σ from eigenvalues: rounding shows near 1e-8·σ₁
  if (rank !== Math.min(r, n, D)) throw new Error(`pointsOfRank(${n}, ${D}, ${r}): the points have rank ${rank}`);
  return points;
}

function jlCase(label: string, points: Matrix, eps: number, rank: number, first: boolean) {
  const [n, D] = [points.length, points[0].length];
  const den = eps ** 2 / 2 - eps ** 3 / 3;
  const bound = (ln: number) => (4 * ln) / den;
  const expected = Math.ceil(bound(Math.log(n)));
  const wrong = {
    log10: Math.ceil(bound(Math.log10(n))),
    log2: Math.ceil(bound(Math.log2(n))),
    dimension: Math.ceil(bound(Math.log(D))),
    rank: Math.ceil(bound(Math.log(rank))),
    pairs: Math.ceil(bound(Math.log((n * (n - 1)) / 2))),
    noCubic: Math.ceil((4 * Math.log(n)) / (eps ** 2 / 2)),
    roundedDown: Math.floor(bound(Math.log(n))),
  };
  return { label, points, eps, rank, expected, wrong: distinctWrong(`jlDimension ${label}`, expected, wrong, first) };
}

// ---------------------------------------------------------------- 4 · jlProject

function projectCase(label: string, inputs: Inputs, N: number, D: number, k: number) {
  const X = inputs.matrix(N, D), Z = inputs.matrix(k, D, 1, 2);
  return { label, X, Z, expected: sig(scale(matmul(X, transpose(Z)), 1 / Math.sqrt(k))) };
}

// ---------------------------------------------------------------- 5 · linformer

function linformerOut(
  Q: Matrix,
  K: Matrix,
  V: Matrix,
  E: Matrix,
  F: Matrix,
  o: { divisor?: number; columns?: boolean } = {},
) {
  const d = Q[0].length;
  const s = scale(matmul(Q, transpose(matmul(E, K))), 1 / (o.divisor ?? Math.sqrt(d))); // [n, k]
  return matmul(o.columns ? softmaxColumns(s) : softmaxRows(s), matmul(F, V)); // [n, d_v]
}

function linformerCase(label: string, inputs: Inputs, n: number, d: number, dv: number, k: number, first: boolean) {
  const Q = inputs.matrix(n, d), K = inputs.matrix(n, d), V = inputs.matrix(n, dv);
  const E = inputs.matrix(k, n, 1 / Math.sqrt(k), 2), F = inputs.matrix(k, n, 1 / Math.sqrt(k), 2);
  const expected = linformerOut(Q, K, V, E, F);
  const wrong: Record<string, Matrix> = {
    sqrtK: linformerOut(Q, K, V, E, F, { divisor: Math.sqrt(k) }),
    noScale: linformerOut(Q, K, V, E, F, { divisor: 1 }),
    swapped: linformerOut(Q, K, V, F, E),
    valuesWithE: linformerOut(Q, K, V, E, E),
    keysWithF: linformerOut(Q, K, V, F, F),
    columnSoftmax: linformerOut(Q, K, V, E, F, { columns: true }),
  };
  const far = (a: Matrix, b: Matrix) => Math.max(...a.flat().map((x, i) => Math.abs(x - b.flat()[i]))) > 1e-3;
  const kept = Object.fromEntries(
    Object.entries(wrong).filter(([key, v]) =>
      far(v, expected) && Object.entries(wrong).every(([k2, v2]) => k2 === key || far(v, v2))
    ),
  );
  if (first) {
    if (Object.keys(kept).length !== Object.keys(wrong).length) throw new Error(`linformer ${label}: coincidences`);
    assertDistinct(`linformer ${label} sizes`, n, { d, k, dv });
  }
  return {
    label,
    Q,
    K,
    V,
    E,
    F,
    expected: sig(expected),
    ...Object.fromEntries(Object.entries(kept).map(([key, v]) => [key, sig(v)])),
  };
}

// ---------------------------------------------------------------- 6 · poolingProjection

function poolingCase(n: number, k: number) {
  const b = n / k;
  return {
    n,
    k,
    expected: Array.from(
      { length: k },
      (_, r) => Array.from({ length: n }, (_, j) => (Math.floor(j / b) === r ? sigNum(1 / b, 15) : 0)),
    ),
  };
}

// ---------------------------------------------------------------- files

export function files(): GeneratedFile[] {
  const inputs = new Inputs("lesson06");
  const hiddenInputs = new Inputs("lesson06/hidden");
  const visible = caseFile(GENERATOR, ABOUT, [
    'import type { GramCase, JlCase, LinformerCase, PoolingCase, ProjectCase, RankCase } from "./lesson06.ts";',
  ], [
    {
      doc: "scoreAndWeightRanks(Q, K): [rank(QKᵀ/√d), rank(softmax(QKᵀ/√d))] = [d, n], asserted from the Gram\n" +
        "matrices' eigenvalues with wide margins around 1e-10·σ₁.",
      name: "RANK_CASES",
      type: "RankCase[]",
      value: [
        rankCase("n=12, d=3", inputs, 12, 3),
        rankCase("n=16, d=2", inputs, 16, 2),
        rankCase("n=20, d=4", inputs, 20, 4),
        rankCase("n=8, d=3", inputs, 8, 3),
      ],
    },
    {
      doc: "spectrumFromGram(λ, k): [Σ_{i≤k} σ_i/Σσ, exp(entropy of σ/Σσ)] with σ = √max(λ, 0) (12 significant\n" +
        "digits); `wrong`: the answers of known mistakes.",
      name: "GRAM_CASES",
      type: "GramCase[]",
      value: [
        gramCase([0.25, 9, -1e-15, 4, 0.01, 1], 2, true),
        gramCase([16, 1, 0.0625, 4], 1, false),
        gramCase([2, 0.5, 3, 0.125, -3e-17, 1, 0.02, 0.7], 3, false),
        gramCase([1, 1, 1, 1], 2, false),
      ],
    },
    {
      doc: "jlDimension(points, ε): ⌈4 ln n / (ε²/2 − ε³/3)⌉ for n points; `rank` is the points' rank; `wrong`:\n" +
        "the answers of known mistakes.",
      name: "JL_CASES",
      type: "JlCase[]",
      value: [
        jlCase("40 points in D=10 of rank 3, ε=0.3", pointsOfRank(inputs, 40, 10, 3), 0.3, 3, true),
        jlCase("6 points in D=50 of rank 2, ε=0.5", pointsOfRank(inputs, 6, 50, 2), 0.5, 2, false),
        jlCase("100 points in D=4 of rank 4, ε=0.1", pointsOfRank(inputs, 100, 4, 4), 0.1, 4, false),
        jlCase("2 points in D=3 of rank 1, ε=0.9", pointsOfRank(inputs, 2, 3, 1), 0.9, 1, false),
      ],
    },
    {
      doc: "jlProject(X, Z): X·Zᵀ/√k (9 significant digits).",
      name: "PROJECT_CASES",
      type: "ProjectCase[]",
      value: [
        projectCase("N=5, D=8, k=3", inputs, 5, 8, 3),
        projectCase("N=4, D=6, k=2", inputs, 4, 6, 2),
        projectCase("N=6, D=10, k=4", inputs, 6, 10, 4),
        projectCase("N=3, D=5, k=1", inputs, 3, 5, 1),
      ],
    },
    {
      doc: "linformer(Q, K, V, E, F, false): softmax(Q(EK)ᵀ/√d)(FV) in Float64 (9 significant digits), and the\n" +
        "outputs of known mistakes (only where they differ by more than 1e-3).",
      name: "LINFORMER_CASES",
      type: "LinformerCase[]",
      value: [
        linformerCase("n=6, d=3, d_v=2, k=4", inputs, 6, 3, 2, 4, true),
        linformerCase("n=8, d=4, d_v=5, k=2", inputs, 8, 4, 5, 2, false),
        linformerCase("n=10, d=2, d_v=3, k=5", inputs, 10, 2, 3, 5, false),
        linformerCase("n=5, d=4, d_v=4, k=5", inputs, 5, 4, 4, 5, false),
      ],
    },
    {
      doc: "poolingProjection(n, k): [k, n], row b = 1/(n/k) on tokens b·n/k … (b+1)·n/k − 1.",
      name: "POOLING_CASES",
      type: "PoolingCase[]",
      value: [poolingCase(12, 3), poolingCase(8, 4), poolingCase(10, 2), poolingCase(6, 6), poolingCase(5, 1)],
    },
  ]);
  const hidden = caseFile(GENERATOR, ABOUT, [
    'import type { GramCase, JlCase, LinformerCase, PoolingCase, ProjectCase, RankCase } from "../../lib/check/lesson06.ts";',
  ], [
    {
      doc: "Hidden cases of scoreAndWeightRanks (graded by deno task grade only).",
      name: "HIDDEN_RANK_CASES",
      type: "RankCase[]",
      value: [rankCase("hidden: n=14, d=5", hiddenInputs, 14, 5), rankCase("hidden: n=7, d=2", hiddenInputs, 7, 2)],
    },
    {
      doc: "Hidden cases of spectrumFromGram.",
      name: "HIDDEN_GRAM_CASES",
      type: "GramCase[]",
      value: [gramCase([0.3, 5, 2, -2e-16, 0.04], 2, false), gramCase([7, 7, 0.5], 1, false)].map(
        ({ eigenvalues, k, expected }) => ({ eigenvalues, k, expected }),
      ),
    },
    {
      doc: "Hidden cases of jlDimension.",
      name: "HIDDEN_JL_CASES",
      type: "JlCase[]",
      value: [
        jlCase("hidden: 30 points in D=7 of rank 2, ε=0.25", pointsOfRank(hiddenInputs, 30, 7, 2), 0.25, 2, false),
        jlCase("hidden: 3 points in D=20 of rank 3, ε=0.6", pointsOfRank(hiddenInputs, 3, 20, 3), 0.6, 3, false),
      ].map(({ label, points, eps, rank, expected }) => ({ label, points, eps, rank, expected })),
    },
    {
      doc: "Hidden cases of jlProject.",
      name: "HIDDEN_PROJECT_CASES",
      type: "ProjectCase[]",
      value: [projectCase("hidden: N=7, D=9, k=5", hiddenInputs, 7, 9, 5)],
    },
    {
      doc: "Hidden cases of linformer.",
      name: "HIDDEN_LINFORMER_CASES",
      type: "LinformerCase[]",
      value: [linformerCase("hidden: n=9, d=3, d_v=4, k=3", hiddenInputs, 9, 3, 4, 3, false)].map(
        ({ label, Q, K, V, E, F, expected }) => ({ label, Q, K, V, E, F, expected }),
      ),
    },
    {
      doc: "Hidden cases of poolingProjection.",
      name: "HIDDEN_POOLING_CASES",
      type: "PoolingCase[]",
      value: [poolingCase(16, 4), poolingCase(9, 3)],
    },
  ]);
  return [
    { path: "lib/check/lesson06_cases.ts", text: visible },
    { path: "tools/grading/hidden06_cases.ts", text: hidden },
  ];
}
