/**
 * Locked numbers of lesson 01's checks (lib/check/lesson01_cases.ts) and hidden cases
 * (tools/grading/hidden01_cases.ts), from the formulas of solutions/01-weighted-sums.ipynb: counts in exact
 * bigint arithmetic, attention weights in Float64 plain loops. Every wrong count is the formula of one named
 * mistake; on a case's first (non-degenerate) rows they must all differ, which this generator asserts.
 * @module
 */
import {
  assertDistinct,
  assertDivisorsDistinct,
  caseFile,
  type GeneratedFile,
  Inputs,
  masked,
  matmul,
  type Matrix,
  scale,
  sig,
  softmaxRows,
  transpose,
} from "./_gen.ts";

const GENERATOR = "tools/cases/make_lesson01.ts";
const ABOUT = "from the formulas of solutions/01-weighted-sums.ipynb";

// ---------------------------------------------------------------- counts

/** (T·d)² weights + T·d biases, and the wrong counts of known mistakes. */
function dense([T, d]: [number, number], degenerate: boolean) {
  const [t, dd] = [BigInt(T), BigInt(d)], n = t * dd;
  const expected = n * n + n;
  const wrong = {
    noBiases: n * n,
    perToken: t * dd * dd + n,
    oneToken: dd * dd + dd,
    oneBias: n * n + 1n,
    biasPerToken: n * n + t,
    biasPerFeature: n * n + dd,
  };
  if (!degenerate) assertDistinct(`denseParamCount(${T}, ${d})`, expected, wrong);
  return { args: [T, d], expected, ...(degenerate ? {} : { wrong }) };
}

/** 4d² (W_Q, W_K, W_V split among the heads, plus W_O), and the wrong counts. */
function heads([d, h]: [number, number], degenerate: boolean) {
  const [dd, hh] = [BigInt(d), BigInt(h)];
  const expected = 4n * dd * dd;
  const wrong = {
    everyHeadFull: 4n * dd * dd * hh,
    noOutput: 3n * dd * dd,
    everyHeadFullNoOutput: 3n * dd * dd * hh,
    headsDivide: (4n * dd * dd) / hh,
    oneHead: (3n * dd * dd) / hh + dd * dd,
    withBiases: 4n * dd * dd + 4n * dd,
  };
  if (!degenerate) assertDistinct(`multiHeadParamCount(${d}, ${h})`, expected, wrong);
  return { args: [d, h], expected, ...(degenerate ? {} : { wrong }) };
}

/** 8Td² + 2·2d·T(T+1)/2: four projections and the pairs j ≤ i of QKᵀ and A·V; and the wrong counts. */
function causalFlops([T, d]: [number, number], degenerate: boolean) {
  const [t, dd] = [BigInt(T), BigInt(d)];
  const proj = 8n * t * dd * dd, pairs = (t * (t + 1n)) / 2n;
  const expected = proj + 4n * dd * pairs;
  const wrong = {
    nonCausal: proj + 4n * t * t * dd,
    halfSquare: proj + 2n * t * t * dd,
    noDiagonal: proj + 2n * t * (t - 1n) * dd,
    multiplyAddAsOne: expected / 2n,
    noProjections: 4n * dd * pairs,
    threeProjections: 6n * t * dd * dd + 4n * dd * pairs,
    projectionsOnce: 4n * t * dd * dd + 4n * dd * pairs,
    scoresOnly: proj + 2n * dd * pairs,
  };
  if (!degenerate) assertDistinct(`causalAttentionFlops(${T}, ${d})`, expected, wrong);
  return { args: [T, d], expected, ...(degenerate ? {} : { wrong }) };
}

type Pair = [number, number];
const counts = <C>(f: (a: Pair, degenerate: boolean) => C, cases: Pair[], degenerate: Pair[] = []) => [
  ...cases.map((a) => f(a, false)),
  ...degenerate.map((a) => f(a, true)),
];

// ---------------------------------------------------------------- attention weights

/** softmax(QKᵀ/√d) row by row, masked to j ≤ i when causal. */
function weights(Q: Matrix, K: Matrix, causal: boolean, factor = 1 / Math.sqrt(Q[0].length)): Matrix {
  const s = scale(matmul(Q, transpose(K)), factor);
  return softmaxRows(causal ? masked(s, (i, j) => j <= i) : s);
}

function attentionCase(label: string, Q: Matrix, K: Matrix, causal: boolean) {
  const square = Q.length === Q[0].length;
  return {
    label,
    Q,
    K,
    causal,
    expected: sig(weights(Q, K, causal)),
    // Q·K instead of Q·Kᵀ runs only where T = d.
    keysNotTransposed: square ? sig(weights(Q, transpose(K), causal)) : undefined,
  };
}

const Q4 = [[1.2, -0.3, 0.8, -1.5], [0.4, 1.1, -0.9, 0.2], [-1.3, 0.6, 0.5, 1.0], [0.9, -1.4, 0.3, 0.7]];
const K4 = [[-0.6, 1.3, 0.2, -0.8], [1.5, -0.2, -1.1, 0.4], [0.3, 0.9, 1.2, -0.5], [-1.0, -0.7, 0.6, 1.4]];
const Q3 = [[0.5, -1.2], [1.1, 0.3], [-0.7, 0.8]];
const K3 = [[1.0, 0.2], [-0.4, 0.9], [0.6, -1.1]];

function attentionCases() {
  const r = new Inputs("01.attentionWeights");
  return [
    // First: T ≠ d, so dividing by √T (or d, or nothing) cannot pass.
    attentionCase("T=3, d=5", r.matrix(3, 5), r.matrix(3, 5), false),
    attentionCase("T=4, d=2, causal", r.matrix(4, 2), r.matrix(4, 2), true),
    attentionCase("T=4, d=4", Q4, K4, false),
    attentionCase("T=4, d=4, causal", Q4, K4, true),
    attentionCase("T=3, d=2, causal", Q3, K3, true),
    attentionCase("T=1, d=3, causal", [[0.3, -0.2, 0.9]], [[1.1, 0.4, -0.6]], true),
  ];
}

function hiddenAttention() {
  return [
    attentionCase(
      "hidden",
      [[0.9, -0.4, 1.3], [-1.1, 0.7, 0.2]],
      [[0.3, 1.2, -0.8], [1.4, -0.5, 0.6]],
      true,
    ),
    attentionCase(
      "hidden",
      [[0.2, -1.3, 0.7], [1.6, 0.1, -0.4], [-0.8, 0.9, 1.1]],
      [[1.0, -0.6, 0.3], [-0.2, 1.4, -0.9], [0.7, 0.5, 1.2]],
      false,
    ),
    attentionCase("hidden", new Inputs("hidden.01.a").matrix(5, 3), new Inputs("hidden.01.b").matrix(5, 3), true),
  ].map(({ keysNotTransposed: _, ...c }) => c);
}

// ---------------------------------------------------------------- files

export function files(): GeneratedFile[] {
  assertDivisorsDistinct("attentionWeights", { "√d": Math.sqrt(5), d: 5, "√T": Math.sqrt(3), T: 3, one: 1 });
  const visible = caseFile(GENERATOR, ABOUT, [
    'import type { CountCase } from "./compare.ts";',
    'import type { AttentionCase, CausalFlopMistake, DenseMistake, HeadMistake } from "./lesson01.ts";',
  ], [
    {
      doc:
        "denseParamCount(T, d): (T·d)² + T·d. Non-degenerate cases first; `wrong` holds the counts of known mistakes.",
      name: "DENSE_CASES",
      type: "CountCase<DenseMistake>[]",
      value: counts(dense, [[2, 3], [4, 8], [16, 64], [2048, 12288]], [[1, 1]]),
    },
    {
      doc: "multiHeadParamCount(d, heads): 4d², whatever the number of heads.",
      name: "HEAD_CASES",
      type: "CountCase<HeadMistake>[]",
      value: counts(heads, [[8, 2], [64, 8], [12, 3], [12288, 96]], [[1, 1]]),
    },
    {
      doc: "causalAttentionFlops(T, d): 8·T·d² + 4d·T(T+1)/2.",
      name: "CAUSAL_FLOP_CASES",
      type: "CountCase<CausalFlopMistake>[]",
      value: counts(causalFlops, [[6, 4], [16, 64], [5, 7], [2048, 12288]], [[1, 1]]),
    },
    {
      doc: "attentionWeights(Q, K, causal): softmax(QKᵀ/√d) over each row, masked to j ≤ i when causal (Float64,\n" +
        "9 significant digits). keysNotTransposed: softmax(Q·K/√d), only where T = d.",
      name: "ATTENTION_CASES",
      type: "AttentionCase[]",
      value: attentionCases(),
    },
  ]);
  const hidden = caseFile(GENERATOR, ABOUT, [
    'import type { CountCase } from "../../lib/check/compare.ts";',
    'import type { AttentionCase } from "../../lib/check/lesson01.ts";',
  ], [
    {
      doc: "Hidden cases of denseParamCount (graded by deno task grade only).",
      name: "HIDDEN_DENSE_CASES",
      type: "CountCase<never>[]",
      value: counts(dense, [], [[3, 5], [100, 7], [9, 11]]),
    },
    {
      doc: "Hidden cases of multiHeadParamCount.",
      name: "HIDDEN_HEAD_CASES",
      type: "CountCase<never>[]",
      value: counts(heads, [], [[48, 6], [20, 4], [96, 12]]),
    },
    {
      doc: "Hidden cases of causalAttentionFlops.",
      name: "HIDDEN_CAUSAL_FLOP_CASES",
      type: "CountCase<never>[]",
      value: counts(causalFlops, [], [[3, 5], [100, 32], [7, 1]]),
    },
    {
      doc: "Hidden cases of attentionWeights.",
      name: "HIDDEN_ATTENTION_CASES",
      type: "AttentionCase[]",
      value: hiddenAttention(),
    },
  ]);
  return [
    { path: "lib/check/lesson01_cases.ts", text: visible },
    { path: "tools/grading/hidden01_cases.ts", text: hidden },
  ];
}
