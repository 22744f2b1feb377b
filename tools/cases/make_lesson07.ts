/**
 * Locked numbers of lesson 07's checks (lib/check/lesson07_cases.ts) and hidden cases
 * (tools/grading/hidden07_cases.ts), from the formulas of solutions/07-linear-attention.ipynb: the crossover of the
 * two groupings of QKᵀV in exact integers; linear attention with φ = elu + 1 (all rows, causal prefix sums, one RNN
 * step) and FAVOR+ positive features in Float64 plain loops — with the answers of the named mistakes, computed the
 * same way. Orthogonal random features are judged by invariants (lib/check/lesson07.ts), so their cases hold only
 * sizes and seeds.
 * @module
 */
import { caseFile, distinctWrong, type GeneratedFile, Inputs, type Matrix, sig, sigNum } from "./_gen.ts";

const GENERATOR = "tools/cases/make_lesson07.ts";
const ABOUT = "from the formulas of solutions/07-linear-attention.ipynb";

// ---------------------------------------------------------------- Float64 helpers (plain loops)

const elu1 = (x: number) => (x > 0 ? x + 1 : Math.exp(x)); // elu(x) + 1
const elu = (x: number) => (x > 0 ? x : Math.exp(x) - 1);
const dot = (a: number[], b: number[]) => a.reduce((s, x, c) => s + x * b[c], 0);

/**
 * Kernel attention out_i = Σ_j κ_ij v_j / Σ_j κ_ij with κ_ij = φq(q_i)·φk(k_j), over the keys `keep(i, j)` allows;
 * `normalise: false` leaves out the denominator, `den` replaces the keys the denominator sums over.
 */
function kernelAttention(
  q: Matrix,
  k: Matrix,
  v: Matrix,
  options: {
    phiQ?: (x: number) => number;
    phiK?: (x: number) => number;
    keep?: (i: number, j: number) => boolean;
    den?: (i: number, j: number) => boolean;
    normalise?: boolean;
  } = {},
): Matrix {
  const { phiQ = elu1, phiK = elu1, keep = () => true, normalise = true } = options;
  const den = options.den ?? keep;
  const fq = q.map((row) => row.map(phiQ)), fk = k.map((row) => row.map(phiK));
  return fq.map((qi, i) => {
    const kappa = fk.map((kj) => dot(qi, kj));
    const total = kappa.reduce((s, x, j) => s + (den(i, j) ? x : 0), 0);
    return v[0].map((_, c) =>
      kappa.reduce((s, x, j) => s + (keep(i, j) ? x * v[j][c] : 0), 0) / (normalise ? total : 1)
    );
  });
}

/** softmax(QKᵀ/√d)V over the allowed keys, Float64. */
function softmaxAttention(q: Matrix, k: Matrix, v: Matrix, keep: (i: number, j: number) => boolean = () => true) {
  const d = q[0].length;
  return q.map((qi, i) => {
    const scores = k.map((kj, j) => (keep(i, j) ? dot(qi, kj) / Math.sqrt(d) : -Infinity));
    const top = Math.max(...scores);
    const w = scores.map((s) => (s === -Infinity ? 0 : Math.exp(s - top)));
    const total = w.reduce((a, b) => a + b, 0);
    return v[0].map((_, c) => w.reduce((s, x, j) => s + x * v[j][c], 0) / total);
  });
}

const same = (a: Matrix, b: Matrix) => a.every((row, i) => row.every((x, j) => Math.abs(x - b[i][j]) < 1e-6));
/** The wrong answers that differ from the right one and from each other (NaN-free, at 1e-6). */
function keepDistinct(what: string, right: Matrix, wrong: Record<string, Matrix>, strict: boolean) {
  const out: Record<string, Matrix> = {};
  const entries = Object.entries(wrong);
  for (const [name, m] of entries) {
    const clash = same(m, right) ? "the right answer" : entries.find(([n, o]) => n !== name && same(m, o))?.[0];
    if (clash) {
      if (strict) throw new Error(`${what}: the wrong answer "${name}" equals ${clash}; pick another case`);
      continue;
    }
    out[name] = sig(m, 10);
  }
  return out;
}

// ---------------------------------------------------------------- 1 · reorderCrossover

function crossoverCase(d: number, dv: number, first: boolean, degenerate = false) {
  const smallest = (cheaper: (N: number) => boolean) => {
    let N = 1;
    while (!cheaper(N)) N++;
    return N;
  };
  // (QKᵀ)V: (d + dv)·N² multiplications; Q(KᵀV): 2·d·dv·N.
  const expected = smallest((N) => 2 * d * dv * N < (d + dv) * N * N);
  const wrong = {
    alwaysFaster: 1,
    notStrict: smallest((N) => 2 * d * dv * N <= (d + dv) * N * N),
    ignoresDv: smallest((N) => 2 * d * d * N < 2 * d * N * N),
    atD: d,
    arithmeticMean: smallest((N) => N > (d + dv) / 2),
    oneProduct: smallest((N) => d * dv * N < (d + dv) * N * N),
  };
  const big = Object.fromEntries(Object.entries(wrong).map(([k, v]) => [k, BigInt(v)]));
  const what = `reorderCrossover(${d}, ${dv})`;
  return {
    args: [d, dv],
    expected: BigInt(expected),
    ...(degenerate ? {} : { wrong: distinctWrong(what, BigInt(expected), big, first) }),
  };
}

// ---------------------------------------------------------------- 2 · linearAttention

function linearCase(label: string, q: Matrix, k: Matrix, v: Matrix, first: boolean, degenerate = false) {
  const d = q[0].length;
  const expected = kernelAttention(q, k, v);
  const wrong = {
    softmax: softmaxAttention(q, k, v),
    expFeatures: kernelAttention(q, k, v, { phiQ: Math.exp, phiK: Math.exp }),
    noNormaliser: kernelAttention(q, k, v, { normalise: false }),
    eluOnly: kernelAttention(q, k, v, { phiQ: elu, phiK: elu }),
    identity: kernelAttention(q, k, v, { phiQ: (x) => x, phiK: (x) => x }),
    queriesOnly: kernelAttention(q, k, v, { phiK: (x) => x }),
    keysOnly: kernelAttention(q, k, v, { phiQ: (x) => x }),
    scaled: kernelAttention(q.map((row) => row.map((x) => x / Math.sqrt(d))), k, v),
  };
  return {
    label,
    q,
    k,
    v,
    expected: sig(expected, 10),
    ...(degenerate ? {} : { wrong: keepDistinct(`linearAttention ${label}`, expected, wrong, first) }),
  };
}

// ---------------------------------------------------------------- 3 · causalLinearAttention

function causalCase(label: string, q: Matrix, k: Matrix, v: Matrix, first: boolean, degenerate = false) {
  const causal = (i: number, j: number) => j <= i;
  const expected = kernelAttention(q, k, v, { keep: causal });
  const wrong: Record<string, Matrix> = {
    future: kernelAttention(q, k, v),
    fullDenominator: kernelAttention(q, k, v, { keep: causal, den: () => true }),
    noNormaliser: kernelAttention(q, k, v, { keep: causal, normalise: false }),
    eluOnly: kernelAttention(q, k, v, { keep: causal, phiQ: elu, phiK: elu }),
    suffix: kernelAttention(q, k, v, { keep: (i, j) => j >= i }),
    softmax: softmaxAttention(q, k, v, causal),
  };
  // Exclusive prefix sums (j < i): row 0 sums nothing (0/0); the other rows are locked, row 0 is left out.
  const exclusive = kernelAttention(q, k, v, { keep: (i, j) => j < i }).slice(1);
  return {
    label,
    q,
    k,
    v,
    expected: sig(expected, 10),
    ...(degenerate ? {} : {
      wrong: keepDistinct(`causalLinearAttention ${label}`, expected, wrong, first),
      exclusiveAfterFirst: sig(exclusive, 10),
    }),
  };
}

// ---------------------------------------------------------------- 4 · linearAttentionStep

/** The state after the tokens `prefix` (S = Σ φ(k_j) v_jᵀ, z = Σ φ(k_j)), then one step with (q, k, v). */
function stepCase(label: string, prefixK: Matrix, prefixV: Matrix, q: number[], k: number[], v: number[]) {
  const m = k.length, dv = v.length;
  const S = Array.from(
    { length: m },
    (_, a) => Array.from({ length: dv }, (_, c) => prefixK.reduce((s, kj, j) => s + elu1(kj[a]) * prefixV[j][c], 0)),
  );
  const z = Array.from({ length: m }, (_, a) => prefixK.reduce((s, kj) => s + elu1(kj[a]), 0));
  const fk = k.map(elu1), fq = q.map(elu1);
  const newS = S.map((row, a) => row.map((s, c) => s + fk[a] * v[c]));
  const newZ = z.map((s, a) => s + fk[a]);
  const read = (SS: Matrix, zz: number[], f = fq, normalise = true) => {
    const den = dot(f, zz);
    return v.map((_, c) => f.reduce((s, x, a) => s + x * SS[a][c], 0) / (normalise ? den : 1));
  };
  const output = read(newS, newZ);
  const wrong: Record<string, number[]> = {
    oldState: read(S, z),
    noNormaliser: read(newS, newZ, fq, false),
    zNotUpdated: read(newS, z),
    eluOnly: (() => {
      const ek = k.map(elu), eq = q.map(elu);
      const S2 = S.map((row, a) => row.map((s, c) => s + ek[a] * v[c]));
      return read(S2, z.map((s, a) => s + ek[a]), eq);
    })(),
  };
  const distinct = keepDistinct(
    `linearAttentionStep ${label}`,
    [output],
    Object.fromEntries(
      Object.entries(wrong).map(([name, w]) => [name, [w]]),
    ),
    true,
  );
  return {
    label,
    S: sig(S, 12),
    z: z.map((x) => sigNum(x, 12)),
    q,
    k,
    v,
    expected: { S: sig(newS, 12), z: newZ.map((x) => sigNum(x, 12)), output: output.map((x) => sigNum(x, 10)) },
    wrong: Object.fromEntries(Object.entries(distinct).map(([name, [row]]) => [name, row])),
  };
}

/** A whole sequence for the RNN run of the after-check: tokens and their causal outputs. */
function sequenceCase(q: Matrix, k: Matrix, v: Matrix) {
  return { q, k, v, outputs: sig(kernelAttention(q, k, v, { keep: (i, j) => j <= i }), 10) };
}

// ---------------------------------------------------------------- 5 · positiveRandomFeatures

function featureCase(label: string, x: Matrix, omega: Matrix, first: boolean) {
  const m = omega.length;
  const feat = (f: (row: number[], w: number[]) => number) => x.map((row) => omega.map((w) => f(row, w)));
  const sq = (row: number[]) => dot(row, row);
  const expected = feat((row, w) => Math.exp(dot(w, row) - sq(row) / 2) / Math.sqrt(m));
  const wrong: Record<string, Matrix> = {
    noNormTerm: feat((row, w) => Math.exp(dot(w, row)) / Math.sqrt(m)),
    fullSquare: feat((row, w) => Math.exp(dot(w, row) - sq(row)) / Math.sqrt(m)),
    normNotSquared: feat((row, w) => Math.exp(dot(w, row) - Math.sqrt(sq(row)) / 2) / Math.sqrt(m)),
    noSqrtM: feat((row, w) => Math.exp(dot(w, row) - sq(row) / 2)),
    overM: feat((row, w) => Math.exp(dot(w, row) - sq(row) / 2) / m),
    stabilised: x.map((row) => {
      const p = omega.map((w) => dot(w, row));
      const top = Math.max(...p);
      return p.map((y) => Math.exp(y - top) / Math.sqrt(m));
    }),
  };
  return {
    label,
    x,
    omega,
    expected: sig(expected, 12),
    wrong: keepDistinct(`positiveRandomFeatures ${label}`, expected, wrong, first),
  };
}

// ---------------------------------------------------------------- the cases

/** Every generated file of lesson 07. */
export function files(): GeneratedFile[] {
  const r = new Inputs("07.visible"), h = new Inputs("07.hidden");
  const crossover = [
    crossoverCase(6, 12, true), // boundary 2·6·12/18 = 8, whole: every named mistake gives its own N
    crossoverCase(64, 32, false), // boundary 42.7
    crossoverCase(64, 64, false), // d′ = d: the boundary is d itself
    crossoverCase(128, 16, false),
    crossoverCase(20, 30, false), // boundary 24, whole
    crossoverCase(1, 1, false, true),
  ];
  const hiddenCrossover = [crossoverCase(96, 48, false), crossoverCase(50, 70, false), crossoverCase(256, 256, false)];

  const linear = [
    linearCase("T=4, S=6, d=3, dv=2", r.matrix(4, 3), r.matrix(6, 3), r.matrix(6, 2), true),
    linearCase("T=5, S=5, d=4, dv=3", r.matrix(5, 4), r.matrix(5, 4), r.matrix(5, 3), false),
    linearCase("T=3, S=4, d=2, dv=2, large entries", r.matrix(3, 2, 3), r.matrix(4, 2, 3), r.matrix(4, 2), false),
    linearCase("T=1, S=1, d=2, dv=3", r.matrix(1, 2), r.matrix(1, 2), r.matrix(1, 3), false, true),
  ];
  const hiddenLinear = [
    linearCase("hidden", h.matrix(6, 4), h.matrix(3, 4), h.matrix(3, 5), false),
    linearCase("hidden", h.matrix(2, 5), h.matrix(7, 5), h.matrix(7, 2), false),
  ];

  const causal = [
    causalCase("T=5, d=3, dv=2", r.matrix(5, 3), r.matrix(5, 3), r.matrix(5, 2), true),
    causalCase("T=6, d=4, dv=3", r.matrix(6, 4), r.matrix(6, 4), r.matrix(6, 3), false),
    causalCase("T=4, d=2, dv=2, large entries", r.matrix(4, 2, 3), r.matrix(4, 2, 3), r.matrix(4, 2), false),
    causalCase("T=1, d=3, dv=2", r.matrix(1, 3), r.matrix(1, 3), r.matrix(1, 2), false, true),
  ];
  const hiddenCausal = [causalCase("hidden", h.matrix(7, 3), h.matrix(7, 3), h.matrix(7, 4), false)];

  const step = [
    stepCase("after 3 tokens, m=3, dv=2", r.matrix(3, 3), r.matrix(3, 2), ...one(r, 3, 2)),
    stepCase("after 5 tokens, m=4, dv=3", r.matrix(5, 4), r.matrix(5, 3), ...one(r, 4, 3)),
    stepCase("after 1 token, m=2, dv=2", r.matrix(1, 2), r.matrix(1, 2), ...one(r, 2, 2)),
  ];
  const hiddenStep = [stepCase("hidden", h.matrix(4, 5), h.matrix(4, 2), ...one(h, 5, 2))];
  const sequence = sequenceCase(r.matrix(6, 3), r.matrix(6, 3), r.matrix(6, 2));

  const features = [
    featureCase("N=3 points, d=2, m=4", r.matrix(3, 2, 0.8), r.matrix(4, 2), true),
    featureCase("N=2 points, d=3, m=5", r.matrix(2, 3, 0.8), r.matrix(5, 3), false),
    featureCase("N=4 points, d=1, m=3", r.matrix(4, 1, 0.8), r.matrix(3, 1), false),
  ];
  const hiddenFeatures = [featureCase("hidden", h.matrix(3, 4, 0.6), h.matrix(6, 4), false)];

  const orthogonal = [
    { label: "d=4, m=4 (one block)", d: 4, m: 4, seed: "07.orthogonal.a" },
    { label: "d=3, m=7 (blocks of 3, 3, 1)", d: 3, m: 7, seed: "07.orthogonal.b" },
    { label: "d=8, m=512 (64 blocks: the lengths' spread)", d: 8, m: 512, seed: "07.orthogonal.c" },
    { label: "d=1, m=3", d: 1, m: 3, seed: "07.orthogonal.d" },
  ];
  const hiddenOrthogonal = [
    { label: "hidden", d: 5, m: 12, seed: "07.orthogonal.hidden.a" },
    { label: "hidden", d: 16, m: 640, seed: "07.orthogonal.hidden.b" },
  ];

  const imports = (from: string, sequence: boolean) => [
    `import type { CountCase } from "${from}compare.ts";`,
    `import type {`,
    `  CausalCase,`,
    `  CrossoverArgs,`,
    `  CrossoverMistake,`,
    `  FeatureCase,`,
    `  LinearCase,`,
    `  OrthogonalCase,`,
    ...(sequence ? [`  SequenceCase,`] : []),
    `  StepCase,`,
    `} from "${from}lesson07.ts";`,
  ];
  const visible = caseFile(GENERATOR, ABOUT, imports("./", true), [
    {
      doc:
        "reorderCrossover(d, dv): the smallest N with 2·d·dv·N < (d + dv)·N². `wrong`: the answers of known mistakes.",
      name: "CROSSOVER_CASES",
      type: "CountCase<CrossoverMistake, CrossoverArgs>[]",
      value: crossover,
    },
    {
      doc: "linearAttention: φ = elu + 1, Σ_j φ(q_i)·φ(k_j) v_j / Σ_j φ(q_i)·φ(k_j), Float64; `wrong` by mistake.",
      name: "LINEAR_CASES",
      type: "LinearCase[]",
      value: linear,
    },
    {
      doc: "causalLinearAttention: the same over j ≤ i; `exclusiveAfterFirst`: rows 1… of the sums over j < i.",
      name: "CAUSAL_CASES",
      type: "CausalCase[]",
      value: causal,
    },
    {
      doc: "linearAttentionStep: the state after some tokens, one new token, the new state and its output.",
      name: "STEP_CASES",
      type: "StepCase[]",
      value: step,
    },
    {
      doc: "The sequence the step is run over from the zero state (after-check), with its causal outputs.",
      name: "STEP_SEQUENCE",
      type: "SequenceCase",
      value: sequence,
    },
    {
      doc: "positiveRandomFeatures: exp(ω_iᵀx − ‖x‖²/2)/√m for every point and direction; `wrong` by mistake.",
      name: "FEATURE_CASES",
      type: "FeatureCase[]",
      value: features,
    },
    {
      doc: "orthogonalRandomFeatures: sizes and seeds only (judged by invariants).",
      name: "ORTHOGONAL_CASES",
      type: "OrthogonalCase[]",
      value: orthogonal,
    },
  ]);
  const hidden = caseFile(GENERATOR, ABOUT, imports("../../lib/check/", false), [
    {
      doc: "Hidden cases of reorderCrossover.",
      name: "HIDDEN_CROSSOVER_CASES",
      type: "CountCase<CrossoverMistake, CrossoverArgs>[]",
      value: hiddenCrossover,
    },
    { doc: "Hidden cases of linearAttention.", name: "HIDDEN_LINEAR_CASES", type: "LinearCase[]", value: hiddenLinear },
    {
      doc: "Hidden cases of causalLinearAttention.",
      name: "HIDDEN_CAUSAL_CASES",
      type: "CausalCase[]",
      value: hiddenCausal,
    },
    { doc: "Hidden cases of linearAttentionStep.", name: "HIDDEN_STEP_CASES", type: "StepCase[]", value: hiddenStep },
    {
      doc: "Hidden cases of positiveRandomFeatures.",
      name: "HIDDEN_FEATURE_CASES",
      type: "FeatureCase[]",
      value: hiddenFeatures,
    },
    {
      doc: "Hidden cases of orthogonalRandomFeatures.",
      name: "HIDDEN_ORTHOGONAL_CASES",
      type: "OrthogonalCase[]",
      value: hiddenOrthogonal,
    },
  ]);
  return [
    { path: "lib/check/lesson07_cases.ts", text: visible },
    { path: "tools/grading/hidden07_cases.ts", text: hidden },
  ];
}

/** One new token (q, k of width m; v of width dv). */
function one(r: Inputs, m: number, dv: number): [number[], number[], number[]] {
  return [r.matrix(1, m)[0], r.matrix(1, m)[0], r.matrix(1, dv)[0]];
}
