/**
 * Locked numbers of lesson 02's checks (lib/check/lesson02_cases.ts) and hidden cases
 * (tools/grading/hidden02_cases.ts), from the formulas of solutions/02-queries-keys-values.ipynb, in Float64
 * plain loops. The strongestKeys cases use the 8-feature PCA vectors of datasets/minilm_embeddings.json and
 * seeded W_Q, W_K made here. Wrong answers (the locked results of known mistakes) are computed the same way.
 * @module
 */
import data from "../../datasets/minilm_embeddings.json" with { type: "json" };
import {
  assertDivisorsDistinct,
  caseFile,
  type GeneratedFile,
  Inputs,
  matmul,
  type Matrix,
  round,
  scale,
  sig,
  softmaxColumns,
  softmaxRows,
  transpose,
} from "./_gen.ts";

const GENERATOR = "tools/cases/make_lesson02.ts";
const ABOUT = "from the formulas of solutions/02-queries-keys-values.ipynb";

const column = (v: number[]) => v.map((x) => [x]);
const flatCol = (m: Matrix) => m.map((r) => r[0]);
const vec = (v: number[]) => v.map((x) => Number(x.toPrecision(9)));

// ---------------------------------------------------------------- 1 · qkvOfToken

function qkvCase(label: string, h: number[], Wq: Matrix, Wk: Matrix, Wv: Matrix) {
  const apply = (W: Matrix) => vec(flatCol(matmul(W, column(h))));
  const square = Wq.length === Wq[0].length;
  return {
    label,
    h,
    Wq,
    Wk,
    Wv,
    q: apply(Wq),
    k: apply(Wk),
    v: apply(Wv),
    qT: square ? apply(transpose(Wq)) : undefined, // Wᵀh: runs only where W_Q is square
  };
}

// ---------------------------------------------------------------- 2 · rowQueries

function rowQueryCase(label: string, X: Matrix, Wq: Matrix) {
  const square = Wq.length === Wq[0].length;
  return {
    label,
    X,
    Wq,
    expected: sig(matmul(X, transpose(Wq))),
    noTranspose: square ? sig(matmul(X, Wq)) : undefined,
  };
}

// ---------------------------------------------------------------- 3 · columnScores

function columnScoreCase(label: string, Q: Matrix, K: Matrix) {
  const [dk, T] = [Q.length, Q[0].length];
  return {
    label,
    Q,
    K,
    expected: sig(scale(matmul(transpose(Q), K), 1 / Math.sqrt(dk))),
    // Q·Kᵀ/√d_k is [d_k, d_k]: it passes the shape only where d_k = T.
    rowFormula: dk === T ? sig(scale(matmul(Q, transpose(K)), 1 / Math.sqrt(dk))) : undefined,
  };
}

// ---------------------------------------------------------------- 4 · selfAttention

/** The divisors a student may put where √d_k belongs, by how the lesson writes them. */
function divisors(T: number, dk: number, dv: number): [string, number][] {
  const all: [string, number][] = [
    ["1 (no scaling)", 1],
    ["d_k", dk],
    ["√T", Math.sqrt(T)],
    ["T", T],
    ["√d_v", Math.sqrt(dv)],
    ["d_v", dv],
  ];
  // Keep one name per value, and none equal to the right divisor √d_k.
  const seen = new Set([Math.sqrt(dk).toPrecision(12)]);
  return all.filter(([, v]) => !seen.has(v.toPrecision(12)) && seen.add(v.toPrecision(12)));
}

function selfAttentionCase(label: string, Q: Matrix, K: Matrix, V: Matrix) {
  const [T, dk, dv] = [Q.length, Q[0].length, V[0].length];
  const scores = matmul(Q, transpose(K));
  const alpha = softmaxRows(scale(scores, 1 / Math.sqrt(dk)));
  return {
    label,
    Q,
    K,
    V,
    expected: sig(matmul(alpha, V)),
    // Known mistakes, each only where it has the right shape (elsewhere the shape names it).
    weights: T === dv ? sig(alpha) : undefined,
    keysAsValues: dk === dv ? sig(matmul(alpha, K)) : undefined,
    keysNotTransposed: T === dk ? sig(matmul(softmaxRows(scale(matmul(Q, K), 1 / Math.sqrt(dk))), V)) : undefined,
    wrongAxis: sig(matmul(softmaxColumns(scale(scores, 1 / Math.sqrt(dk))), V)),
    transposedWeights: sig(matmul(transpose(alpha), V)),
    noSoftmax: sig(matmul(scale(scores, 1 / Math.sqrt(dk)), V)),
    wrongScale: divisors(T, dk, dv).map(([divisor, value]) => ({
      divisor,
      value,
      Z: sig(matmul(softmaxRows(scale(scores, 1 / value)), V)),
    })),
  };
}

// ---------------------------------------------------------------- 5 · strongestKeys

/**
 * For each row, the index of its largest entry (the first on a tie, as tf.argMax). For the right answer
 * (`strict`), a near-tie is an error: float32 could pick the other key.
 */
function argmaxRows(m: Matrix, { smallest = false, strict = false } = {}): number[] {
  return m.map((row, i) => {
    const order = row.map((x, j) => [smallest ? -x : x, j]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    if (strict && order.length > 1 && order[0][0] - order[1][0] < 1e-3) {
      throw new Error(`near-tie in row ${i}: pick another seed`);
    }
    return order[0][1];
  });
}

function strongestKeyCase(label: string, tokens: string[], Q: Matrix, K: Matrix) {
  const scores = matmul(Q, transpose(K));
  const at = (idx: number[]) => idx.map((j) => tokens[j]);
  return {
    label,
    tokens,
    Q,
    K,
    expected: at(argmaxRows(scores, { strict: true })),
    byColumn: at(argmaxRows(transpose(scores))), // the query that looks most at each key
    wrongAxis: at(argmaxRows(softmaxColumns(scale(scores, 1 / Math.sqrt(Q[0].length))))),
    wrongAxisUnscaled: at(argmaxRows(softmaxColumns(scores))),
    weakest: at(argmaxRows(scores, { smallest: true })),
  };
}

/** One sentence's PCA vectors through seeded W_Q, W_K [8, dk], rounded to 3 decimals. */
function sentenceQK(key: string, dk: number, seed: string): [string[], Matrix, Matrix] {
  const s = data.sentences.find((x) => x.key === key)!;
  const r = new Inputs(seed);
  const [Wq, Wk] = [r.matrix(8, dk, 1, 3), r.matrix(8, dk, 1, 3)];
  const project = (W: Matrix) => matmul(s.pca, W).map((row) => row.map((x) => round(x, 3)));
  return [s.tokens, project(Wq), project(Wk)];
}

// ---------------------------------------------------------------- files

export function files(): GeneratedFile[] {
  const r = new Inputs("02");
  const qkv = [
    qkvCase("d=3, d_k=2, d_v=4", [0.4, -0.6, 2.7], [[-1.6, 0.7, -0.1], [-0.4, 1.1, -1.8]], [[-1.0, -0.1, 1.7], [
      0.1,
      0.9,
      -1.9,
    ]], [[-1.2, 1.0, -0.6], [-0.1, 0.7, -2.2], [-1.2, -0.1, -1.5], [-0.7, 0.0, -0.7]]),
    qkvCase("d=3, d_k=2", [0.2, -0.6, -0.4], [[0.5, -0.1, -1.4], [-0.5, 0.7, -0.2]], [[-0.1, 0.6, 1.8], [
      -0.7,
      1.3,
      -1.2,
    ]], [[0.2, -1.2, 1.4], [0.8, 1.1, -0.9]]),
    qkvCase(
      "d=4, d_k=3",
      [0.7, -0.5, -0.5, 0.5],
      [[0.9, 0.2, -0.6, -0.8], [1.4, 0.6, 0.7, 2.2], [-0.8, 2.6, 3.2, 1.6]],
      [[0.8, -0.7, 1.0, -0.4], [0.0, -0.3, 0.3, 1.3], [-0.6, -1.0, -1.0, -1.0]],
      [[-1.4, -0.9, 1.3, -0.6], [0.3, -1.2, 0.2, -1.7], [-0.7, 2.3, -0.6, 1.1]],
    ),
    qkvCase("d=2, d_k=2", [-0.8, 0.2], [[-1.9, 1.4], [0.6, -0.3]], [[-0.3, 0.3], [-0.3, -0.2]], [[0.7, 0.5], [
      -0.1,
      -0.1,
    ]]),
    qkvCase("d=1, d_k=1", [0.5], [[-0.2]], [[-0.7]], [[1.3]]),
  ];
  const rowQueries = [
    rowQueryCase("T=4, d=3, d_k=2", [[0.9, -0.9, 2.7], [-0.9, 0.8, 0.7], [-0.9, 1.4, 0.4], [0.6, -0.7, 1.3]], [[
      -0.9,
      -1.8,
      1.4,
    ], [-0.4, 0.0, 1.9]]),
    rowQueryCase(
      "T=2, d=5, d_k=4",
      [[1.1, 0.6, 1.1, -0.7, 0.8], [1.1, 0.8, -0.2, -3.7, 0.6]],
      [[0.1, -0.4, 0.8, 0.3, 0.2], [-1.5, -1.5, 0.4, 0.1, 0.1], [0.2, 0.4, 0.0, 0.2, 0.3], [0.9, -0.5, 0.8, 0.6, 0.1]],
    ),
    rowQueryCase("T=3, d=3, d_k=3", [[-0.9, 1.6, 1.5], [0.6, 0.0, 0.2], [-1.1, -0.2, -0.1]], [[-0.9, 0.8, -1.4], [
      -0.5,
      -2.3,
      0.5,
    ], [0.7, 0.6, 2.9]]),
    rowQueryCase("T=1, d=3, d_k=2", [[-0.5, 0.4, 0.9]], [[-1.1, 0.1, 0.1], [-0.7, -0.6, -1.6]]),
  ];
  const columnScores = [
    // First: d_k, √T and T all differ from each other and from √d_k.
    columnScoreCase("d_k=3, T=5", r.matrix(3, 5), r.matrix(3, 5)),
    columnScoreCase("d_k=2, T=4", [[-0.9, 0.5, -0.7, 0.9], [-0.1, 0.3, 3.0, 0.8]], [[0.3, 0.0, -1.0, 1.1], [
      1.6,
      0.1,
      1.7,
      -0.1,
    ]]),
    columnScoreCase("d_k=4, T=2", [[-1.8, -0.7], [-1.1, -0.3], [0.6, -0.9], [-0.1, 0.2]], [[-0.7, -0.9], [0.1, 0.9], [
      -0.6,
      -0.8,
    ], [-0.1, 0.3]]),
    columnScoreCase("d_k=3, T=3", [[0.5, -0.1, -0.5], [-0.2, 1.0, -1.0], [1.1, 1.5, 0.0]], [[0.3, -1.4, 2.4], [
      1.0,
      0.2,
      0.1,
    ], [0.5, -0.7, 0.3]]),
    columnScoreCase("d_k=3, T=1", [[-0.5], [-0.3], [-0.2]], [[-1.1], [-0.2], [-0.6]]),
  ];
  const selfAttention = [
    // First: T, d_k and d_v all differ, so √T, √d_v, d_k … cannot pass by accident.
    selfAttentionCase("T=5, d_k=3, d_v=2", r.matrix(5, 3), r.matrix(5, 3), r.matrix(5, 2)),
    selfAttentionCase(
      "T=4, d_k=2, d_v=3",
      [[2.0, -0.3], [1.3, -0.5], [0.5, 0.7], [0.5, 0.8]],
      [[-0.7, 1.5], [1.0, -0.7], [0.5, -1.1], [0.1, -1.2]],
      [[0.7, 3.0, 1.5], [0.7, -0.9, 0.4], [1.2, -0.1, 0.1], [-1.7, -0.9, -1.8]],
    ),
    selfAttentionCase(
      "T=3, d_k=3, d_v=3",
      [[0.3, -0.6, -0.2], [0.6, 0.6, 1.3], [-2.2, -1.6, 1.5]],
      [[0.6, 0.8, -0.3], [-0.5, 0.2, -0.9], [-1.5, -1.1, 0.1]],
      [[0.6, 1.7, 0.4], [0.5, 1.7, -0.8], [-1.0, -0.5, -0.1]],
    ),
    selfAttentionCase(
      "T=2, d_k=3, d_v=1",
      [[1.9, 0.5, 0.7], [-0.2, -1.5, 0.2]],
      [[-0.6, -1.0, 0.1], [0.1, -0.2, -0.8]],
      [[-1.0], [0.0]],
    ),
    selfAttentionCase("T=1, d_k=2, d_v=2", [[1.2, -1.6]], [[-0.7, -0.2]], [[-0.2, -0.6]]),
  ];
  const [tokensC, QC, KC] = sentenceQK("creature", 4, "02.strongestKeys.creature");
  const [tokensE, QE, KE] = sentenceQK("enjoying", 4, "02.strongestKeys.enjoying");
  const strongest = [
    strongestKeyCase('"a fluffy blue creature roamed the verdant forest"', tokensC, QC, KC),
    strongestKeyCase('"I am enjoying this lecture on attention"', tokensE, QE, KE),
    strongestKeyCase("three tokens", ["cat", "sat", "mat"], [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [[0.0, 1.0], [
      2.0,
      0.0,
    ], [0.5, 0.5]]),
  ];

  assertDivisorsDistinct("columnScores", { "√d_k": Math.sqrt(3), d_k: 3, "√T": Math.sqrt(5), T: 5, one: 1 });
  assertDivisorsDistinct("selfAttention", {
    "√d_k": Math.sqrt(3),
    d_k: 3,
    "√T": Math.sqrt(5),
    T: 5,
    "√d_v": Math.sqrt(2),
    d_v: 2,
    one: 1,
  });
  const visible = caseFile(GENERATOR, ABOUT, [
    "import type {",
    "  ColumnScoreCase,",
    "  QkvCase,",
    "  RowQueryCase,",
    "  SelfAttentionCase,",
    "  StrongestKeyCase,",
    '} from "./lesson02.ts";',
  ], [
    {
      doc: "qkvOfToken(h, Wq, Wk, Wv): q = W_Q h, k = W_K h, v = W_V h. qT: W_Qᵀh (only where W_Q is square).",
      name: "QKV_CASES",
      type: "QkvCase[]",
      value: qkv,
    },
    {
      doc: "rowQueries(X, Wq): Q = X·W_Qᵀ. noTranspose: X·W_Q (only where W_Q is square).",
      name: "ROW_QUERY_CASES",
      type: "RowQueryCase[]",
      value: rowQueries,
    },
    {
      doc: "columnScores(Q, K): E = QᵀK/√d_k. rowFormula: Q·Kᵀ/√d_k (only where d_k = T).",
      name: "COLUMN_SCORE_CASES",
      type: "ColumnScoreCase[]",
      value: columnScores,
    },
    {
      doc: "selfAttention(Q, K, V): Z = softmax(QKᵀ/√d_k)·V, and the outputs of known mistakes; wrongScale: the\n" +
        "outputs with another divisor in place of √d_k.",
      name: "SELF_ATTENTION_CASES",
      type: "SelfAttentionCase[]",
      value: selfAttention,
    },
    {
      doc: "strongestKeys(Q, K, tokens): the key token of each row's largest score. The sentences' Q, K are their\n" +
        "8-feature PCA vectors through seeded W_Q, W_K [8, 4], rounded to 3 decimals.",
      name: "STRONGEST_KEY_CASES",
      type: "StrongestKeyCase[]",
      value: strongest,
    },
  ]);

  const h = new Inputs("hidden.02");
  const [tokensHC, QHC, KHC] = sentenceQK("creature", 3, "hidden.02.strongestKeys.creature");
  const [tokensHE, QHE, KHE] = sentenceQK("enjoying", 3, "hidden.02.strongestKeys.enjoying");
  const only = <T extends { label: string }>(c: T, keys: (keyof T)[]) =>
    Object.fromEntries(Object.entries(c).filter(([k]) => k === "label" || keys.includes(k as keyof T))) as T;
  const hidden = caseFile(GENERATOR, ABOUT, [
    "import type {",
    "  ColumnScoreCase,",
    "  QkvCase,",
    "  RowQueryCase,",
    "  SelfAttentionCase,",
    "  StrongestKeyCase,",
    '} from "../../lib/check/lesson02.ts";',
  ], [
    {
      doc: "Hidden cases of qkvOfToken (graded by deno task grade only).",
      name: "HIDDEN_QKV_CASES",
      type: "QkvCase[]",
      value: [
        qkvCase("hidden", [-0.2, 1.5, -0.7], h.matrix(3, 3), h.matrix(3, 3), h.matrix(3, 3)),
        qkvCase("hidden", [1.1, -0.8, -2.3, 0.1, -0.6], h.matrix(2, 5), h.matrix(2, 5), h.matrix(2, 5)),
      ].map((c) => only(c, ["h", "Wq", "Wk", "Wv", "q", "k", "v"])),
    },
    {
      doc: "Hidden cases of rowQueries.",
      name: "HIDDEN_ROW_QUERY_CASES",
      type: "RowQueryCase[]",
      value: [
        rowQueryCase("hidden", h.matrix(5, 4), h.matrix(4, 4)),
        rowQueryCase("hidden", h.matrix(3, 2), h.matrix(6, 2)),
      ].map((c) => only(c, ["X", "Wq", "expected"])),
    },
    {
      doc: "Hidden cases of columnScores.",
      name: "HIDDEN_COLUMN_SCORE_CASES",
      type: "ColumnScoreCase[]",
      value: [
        columnScoreCase("hidden", h.matrix(2, 5), h.matrix(2, 5)),
        columnScoreCase("hidden", h.matrix(6, 3), h.matrix(6, 3)),
      ].map((c) => only(c, ["Q", "K", "expected"])),
    },
    {
      doc: "Hidden cases of selfAttention.",
      name: "HIDDEN_SELF_ATTENTION_CASES",
      type: "SelfAttentionCase[]",
      value: [
        selfAttentionCase("hidden", h.matrix(5, 4), h.matrix(5, 4), h.matrix(5, 2)),
        selfAttentionCase("hidden", h.matrix(3, 1), h.matrix(3, 1), h.matrix(3, 4)),
      ].map((c) => only(c, ["Q", "K", "V", "expected"])),
    },
    {
      doc: "Hidden cases of strongestKeys (3 features instead of 4).",
      name: "HIDDEN_STRONGEST_KEY_CASES",
      type: "StrongestKeyCase[]",
      value: [
        strongestKeyCase("hidden", tokensHC, QHC, KHC),
        strongestKeyCase("hidden", tokensHE, QHE, KHE),
      ].map((c) => only(c, ["tokens", "Q", "K", "expected"])),
    },
  ]);
  return [
    { path: "lib/check/lesson02_cases.ts", text: visible },
    { path: "tools/grading/hidden02_cases.ts", text: hidden },
  ];
}
