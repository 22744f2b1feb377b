/**
 * Locked numbers of lesson 05's checks (lib/check/lesson05_cases.ts) and hidden cases
 * (tools/grading/hidden05_cases.ts), from the formulas of solutions/05-multi-head-attention.ipynb: head splits
 * and their known wrong layouts by index arithmetic, parameter/FLOP/weight counts and KV-cache sizes in exact
 * bigint arithmetic, and multi-head layers in Float64 plain loops (with the outputs of the known mistakes).
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
  softmaxColumns,
  softmaxRows,
  transpose,
} from "./_gen.ts";

const GENERATOR = "tools/cases/make_lesson05.ts";
const ABOUT = "from the formulas of solutions/05-multi-head-attention.ipynb";

// ---------------------------------------------------------------- 1 · splitHeads

/** The right split and the known wrong layouts of X [T, d] into H heads (only those with a distinct shape or value). */
function splitCase(label: string, X: Matrix, H: number) {
  const [T, d] = [X.length, X[0].length], dh = d / H;
  const flat = X.flat();
  const expected = Array.from({ length: H }, (_, h) => X.map((row) => row.slice(h * dh, (h + 1) * dh)));
  // reshape [T, d] → [H, T, d_h] in memory order: [h][t][c] = flat[(h·T + t)·d_h + c]
  const reshapeOnly = Array.from(
    { length: H },
    (_, h) => Array.from({ length: T }, (_, t) => flat.slice((h * T + t) * dh, (h * T + t + 1) * dh)),
  );
  // features dealt out round-robin: feature f goes to head f mod H
  const interleaved = Array.from({ length: H }, (_, h) => X.map((row) => row.filter((_, f) => f % H === h)));
  // [T, H, d_h]: cut every row, never moved the head axis
  const noTranspose = X.map((row) => Array.from({ length: H }, (_, h) => row.slice(h * dh, (h + 1) * dh)));
  // the tokens split among the heads: [H, T/H, d]
  const tokensSplit = T % H === 0
    ? Array.from({ length: H }, (_, h) => X.slice(h * (T / H), (h + 1) * (T / H)))
    : undefined;
  const same = (a: unknown) => JSON.stringify(a) === JSON.stringify(expected);
  return {
    label,
    X,
    heads: H,
    expected,
    reshapeOnly: same(reshapeOnly) ? undefined : reshapeOnly,
    interleaved: same(interleaved) ? undefined : interleaved,
    noTranspose: H > 1 ? noTranspose : undefined,
    tokensSplit: H > 1 ? tokensSplit : undefined,
  };
}

// ---------------------------------------------------------------- 2 · layerCounts

function countsCase(args: [number, number, number], first: boolean, degenerate = false) {
  const [T, d, H] = args.map(BigInt);
  const dh = d / H;
  const expected = { params: 4n * d * d, flops: 8n * T * d * d + 4n * T * T * d, weightEntries: H * T * T };
  const what = `layerCounts(${args})`;
  const wrong = {
    params: {
      headsOwnFullMaps: 3n * H * d * d + d * d, // each head its own d×d W_Q, W_K, W_V
      oneHeadOnly: 3n * d * dh + d * d,
    },
    flops: {
      timesHeads: H * (8n * T * d * d + 4n * T * T * d), // the whole layer once per head
      scoresAtFullWidth: 8n * T * d * d + 4n * H * T * T * d, // each head's scores and sums at width d
      oneHeadScores: 8n * T * d * d + 4n * T * T * dh, // one head's scores and sums only
      multiplyAdds: 4n * T * d * d + 2n * T * T * d, // a multiply–add counted as 1
      noOutputMap: 6n * T * d * d + 4n * T * T * d,
    },
    weightEntries: {
      oneMatrix: T * T,
      causalHalf: H * T * (T + 1n) / 2n,
    },
  };
  if (degenerate) return { args, expected };
  return {
    args,
    expected,
    wrong: {
      params: distinctWrong(`${what}.params`, expected.params, wrong.params, first),
      flops: distinctWrong(`${what}.flops`, expected.flops, wrong.flops, first),
      weightEntries: distinctWrong(`${what}.weightEntries`, expected.weightEntries, wrong.weightEntries, first),
    },
  };
}

// ---------------------------------------------------------------- 3 · multiHeadLayer

/** Columns [from, from + n) of a matrix. */
const cols = (m: Matrix, from: number, n: number) => m.map((row) => row.slice(from, from + n));

/** One attention per head on column blocks; `layout` says how the heads are cut and put back. */
function layer(
  X: Matrix,
  W: Matrix[],
  H: number,
  o: {
    divisor?: number;
    wo?: boolean;
    layout?: "right" | "reshape" | "splitReshape" | "mergeReshape";
    columnSoftmax?: boolean;
  } = {},
): Matrix {
  const [T, d] = [X.length, X[0].length], dh = d / H;
  const [Q, K, V] = W.slice(0, 3).map((w) => matmul(X, w));
  // head h as a [T, d_h] matrix; "reshape": the [T, d] numbers read in memory order as [H, T, d_h]
  const head = (M: Matrix, h: number): Matrix =>
    o.layout === "reshape" || o.layout === "splitReshape"
      ? Array.from({ length: T }, (_, t) => M.flat().slice((h * T + t) * dh, (h * T + t + 1) * dh))
      : cols(M, h * dh, dh);
  const outs = Array.from({ length: H }, (_, h) => {
    const s = scale(matmul(head(Q, h), transpose(head(K, h))), 1 / (o.divisor ?? Math.sqrt(dh)));
    return matmul(o.columnSoftmax ? softmaxColumns(s) : softmaxRows(s), head(V, h)); // [T, d_h]
  });
  // merge: "right" puts head h in columns h·d_h…; "reshape" writes the [H, T, d_h] numbers back in memory order
  const merged: Matrix = o.layout === "reshape" || o.layout === "mergeReshape"
    ? Array.from({ length: T }, (_, t) => outs.flat().flat().slice(t * d, (t + 1) * d))
    : Array.from({ length: T }, (_, t) => outs.flatMap((out) => out[t]));
  return o.wo === false ? merged : matmul(merged, W[3]);
}

function layerCase(label: string, inputs: Inputs, T: number, d: number, H: number, first: boolean) {
  const X = inputs.matrix(T, d);
  const W = [0, 1, 2, 3].map(() => inputs.matrix(d, d, 1 / Math.sqrt(d), 2));
  const dh = d / H;
  const expected = layer(X, W, H);
  const wrong: Record<string, Matrix> = {
    sqrtDModel: layer(X, W, H, { divisor: Math.sqrt(d) }),
    noScale: layer(X, W, H, { divisor: 1 }),
    noOutputMap: layer(X, W, H, { wo: false }),
    reshapeOnly: layer(X, W, H, { layout: "reshape" }),
    splitReshape: layer(X, W, H, { layout: "splitReshape" }),
    mergeReshape: layer(X, W, H, { layout: "mergeReshape" }),
    oneHead: layer(X, W, 1, { divisor: Math.sqrt(d) }),
    columnSoftmax: layer(X, W, H, { columnSoftmax: true }),
  };
  // Only wrong answers that differ from the right one and from each other by more than the check's tolerance.
  const far = (a: Matrix, b: Matrix) => Math.max(...a.flat().map((x, i) => Math.abs(x - b.flat()[i]))) > 1e-3;
  const kept = Object.fromEntries(
    Object.entries(wrong).filter(([k, v]) =>
      far(v, expected) && Object.entries(wrong).every(([k2, v2]) => k2 === k || far(v, v2))
    ),
  );
  if (first && Object.keys(kept).length !== Object.keys(wrong).length) {
    throw new Error(`multiHeadLayer ${label}: some wrong answers coincide; pick another case`);
  }
  if (first) assertDistinct(`multiHeadLayer ${label} divisors`, Math.sqrt(dh), { d: Math.sqrt(d), one: 1 });
  return {
    label,
    X,
    W,
    heads: H,
    expected: sig(expected),
    ...Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, sig(v)])),
  };
}

// ---------------------------------------------------------------- 4 · kvCacheBytes

type KvArgs = [number, number, number, number, number, number];

function kvCase(args: KvArgs, first: boolean, degenerate = false) {
  const [L, T, H, G, dh, b] = args.map(BigInt);
  const expected = 2n * L * T * G * dh * b;
  const wrong = {
    queryHeads: 2n * L * T * H * dh * b,
    keysOnly: L * T * G * dh * b,
    oneLayer: 2n * T * G * dh * b,
    groupSize: 2n * L * T * (H / G) * dh * b,
    bits: 16n * L * T * G * dh * b,
  };
  const what = `kvCacheBytes(${args})`;
  return { args, expected, ...(degenerate ? {} : { wrong: distinctWrong(what, expected, wrong, first) }) };
}

// ---------------------------------------------------------------- files

/** A T×d matrix whose entry (t, f) is 100·t + f: every number names its token and feature. */
const labelled = (T: number, d: number): Matrix =>
  Array.from({ length: T }, (_, t) => Array.from({ length: d }, (_, f) => 100 * t + f));

export function files(): GeneratedFile[] {
  const inputs = new Inputs("lesson05");
  const hiddenInputs = new Inputs("lesson05/hidden");
  const splitImports = [
    'import type { CountCase } from "./compare.ts";',
    "import type {",
    "  CountsCase,",
    "  KvArgs,",
    "  KvMistake,",
    "  LayerCase,",
    "  SplitCase,",
    '} from "./lesson05.ts";',
  ];
  const visible = caseFile(GENERATOR, ABOUT, splitImports, [
    {
      doc: "splitHeads(X, H): [H, T, d_h] with [h][t][c] = X[t][h·d_h + c], and the layouts of known mistakes:\n" +
        "reshapeOnly (memory order), interleaved (feature f to head f mod H), noTranspose ([T, H, d_h]),\n" +
        "tokensSplit ([H, T/H, d]). Entry (t, f) of the labelled X is 100·t + f.",
      name: "SPLIT_CASES",
      type: "SplitCase[]",
      value: [
        splitCase("T=4, d=6, H=2", labelled(4, 6), 2),
        splitCase("T=3, d=6, H=3", labelled(3, 6), 3),
        splitCase("T=5, d=8, H=4", inputs.matrix(5, 8), 4),
        splitCase("T=2, d=4, H=4", labelled(2, 4), 4),
        splitCase("T=3, d=4, H=1", labelled(3, 4), 1),
      ],
    },
    {
      doc: "layerCounts(T, d, H): params 4d², flops 8Td² + 4T²d, weightEntries H·T² (exact); `wrong`: the counts\n" +
        "of known mistakes, per field.",
      name: "COUNTS_CASES",
      type: "CountsCase[]",
      value: [
        countsCase([10, 12, 3], true),
        countsCase([2048, 12288, 96], false),
        countsCase([5, 16, 4], false),
        countsCase([7, 8, 8], false),
        countsCase([3, 4, 1], false, true),
      ],
    },
    {
      doc: "multiHeadLayer(X, [W_Q, W_K, W_V, W_O], H): concat_h softmax(Q_h K_hᵀ/√d_h) V_h · W_O in Float64\n" +
        "(9 significant digits), and the outputs of known mistakes (only where they differ by more than 1e-3).",
      name: "LAYER_CASES",
      type: "LayerCase[]",
      value: [
        layerCase("T=3, d=4, H=2", inputs, 3, 4, 2, true),
        layerCase("T=5, d=6, H=3", inputs, 5, 6, 3, false),
        layerCase("T=4, d=8, H=4", inputs, 4, 8, 4, false),
        layerCase("T=6, d=8, H=2", inputs, 6, 8, 2, false),
        layerCase("T=1, d=4, H=2", inputs, 1, 4, 2, false),
      ],
    },
    {
      doc: "kvCacheBytes(layers, T, H, G, d_h, bytes): 2·layers·T·G·d_h·bytes (exact); `wrong`: known mistakes.",
      name: "KV_CASES",
      type: "CountCase<KvMistake, KvArgs>[]",
      value: [
        kvCase([96, 2048, 96, 8, 128, 2], true),
        kvCase([2, 10, 4, 2, 3, 4], false),
        kvCase([32, 4096, 32, 1, 128, 2], false),
        kvCase([12, 512, 12, 12, 64, 4], false),
        kvCase([1, 1, 1, 1, 1, 1], false, true),
      ],
    },
  ]);
  const hidden = caseFile(GENERATOR, ABOUT, [
    'import type { CountCase } from "../../lib/check/compare.ts";',
    'import type { CountsCase, KvArgs, LayerCase, SplitCase } from "../../lib/check/lesson05.ts";',
  ], [
    {
      doc: "Hidden cases of splitHeads (graded by deno task grade only).",
      name: "HIDDEN_SPLIT_CASES",
      type: "SplitCase[]",
      value: [
        splitCase("hidden: T=6, d=6, H=2", hiddenInputs.matrix(6, 6), 2),
        splitCase("hidden: T=2, d=9, H=3", hiddenInputs.matrix(2, 9), 3),
      ].map(({ label, X, heads, expected }) => ({ label, X, heads, expected })),
    },
    {
      doc: "Hidden cases of layerCounts.",
      name: "HIDDEN_COUNTS_CASES",
      type: "CountsCase[]",
      value: [countsCase([512, 768, 12], false, true), countsCase([9, 6, 2], false, true)],
    },
    {
      doc: "Hidden cases of multiHeadLayer.",
      name: "HIDDEN_LAYER_CASES",
      type: "LayerCase[]",
      value: [
        layerCase("hidden: T=4, d=6, H=2", hiddenInputs, 4, 6, 2, false),
        layerCase("hidden: T=7, d=8, H=8", hiddenInputs, 7, 8, 8, false),
      ].map(({ label, X, W, heads, expected }) => ({ label, X, W, heads, expected })),
    },
    {
      doc: "Hidden cases of kvCacheBytes.",
      name: "HIDDEN_KV_CASES",
      type: "CountCase<never, KvArgs>[]",
      value: [kvCase([80, 8192, 64, 8, 128, 2], false, true), kvCase([3, 7, 6, 3, 5, 1], false, true)],
    },
  ]);
  return [
    { path: "lib/check/lesson05_cases.ts", text: visible },
    { path: "tools/grading/hidden05_cases.ts", text: hidden },
  ];
}
