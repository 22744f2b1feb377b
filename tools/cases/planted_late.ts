/**
 * The planted set of lessons 05–09 (see planted.ts): realistic mistakes in each exercise, with the cause its check
 * should name, and correct solutions written differently from the reference, as a student types them into the
 * exercise notebook (whose set-up cell imports attention, numericalRank, singularValues, rng and tf).
 * @module
 */
import { bug, correct, type Planted } from "./_planted.ts";

// ---------------------------------------------------------------- lesson 05

const split = (body: string) =>
  `function splitHeads(X: number[][], heads: number): number[][][] | tf.Tensor {\n${body}\n}`;
const GUARD = '  if (X[0].length % heads !== 0) throw new RangeError("heads must divide d");\n';
const counts = (body: string) =>
  `function layerCounts(T: number, d: number, heads: number): (number | bigint)[] {\n${body}\n}`;
/** A layerCounts body in bigint with one of its three lines swapped. */
const countsWith = (
  { params = "h * 3n * dd * dh + dd * dd", flops = "8n * t * dd * dd + h * 4n * t * t * dh", weights = "h * t * t" } =
    {},
) =>
  counts(`  const [t, dd, h] = [BigInt(T), BigInt(d), BigInt(heads)];
  const dh = dd / h;
  return [${params}, ${flops}, ${weights}];`);
const layer = (body: string) =>
  `function multiHeadLayer(X: tf.Tensor2D, W: tf.Tensor2D[], heads: number): tf.Tensor | number[][] {\n${body}\n}`;
/** A multi-head layer written out by hand: split, scaled scores, softmax, weighted sum, merge, W_O. */
const layerWith = (
  {
    splitHead = "tf.transpose(tf.reshape(m, [T, heads, dh]), [1, 0, 2])",
    scale = "Math.sqrt(dh)",
    merge = "",
    out = "",
  } = {},
) =>
  layer(`  const [Wq, Wk, Wv, Wo] = W;
  const [T, d] = X.shape;
  const dh = d / heads;
  return tf.tidy(() => {
    const split = (W: tf.Tensor2D) => { const m = tf.matMul(X, W); return ${splitHead}; };
    const [q, k, v] = [split(Wq), split(Wk), split(Wv)];
    const weights = tf.softmax(tf.div(tf.matMul(q, k, false, true), ${scale}));
    const heads3 = tf.matMul(weights, v);
    const merged = ${merge || "tf.reshape(tf.transpose(heads3, [1, 0, 2]), [T, d])"};
    return ${out || "tf.matMul(merged, Wo)"};
  });`);
const cache = (body: string) =>
  `function kvCacheBytes(layers: number, T: number, heads: number, kvHeads: number, dHead: number, bytesPerNumber: number): number | bigint {\n${body}\n}`;
const cacheWith = (formula: string, guard = true) =>
  cache(
    `${
      guard ? '  if (heads % kvHeads !== 0) throw new RangeError("kvHeads must divide heads");\n' : ""
    }  const [L, t, H, g, dh, b] = [layers, T, heads, kvHeads, dHead, bytesPerNumber].map(BigInt);
  return ${formula};`,
  );

export const LESSON05: Planted[] = [
  bug(
    "05",
    "splitHeads",
    "reshape-only",
    "you reshaped [T, d] straight to [H, T, d_h]",
    split(`${GUARD}  return tf.reshape(tf.tensor2d(X), [heads, X.length, X[0].length / heads]);`),
  ),
  bug(
    "05",
    "splitHeads",
    "round-robin",
    "round-robin",
    split(
      `${GUARD}  return Array.from({ length: heads }, (_, h) => X.map((row) => row.filter((_, f) => f % heads === h)));`,
    ),
  ),
  bug(
    "05",
    "splitHeads",
    "no-transpose",
    "you stopped at [T, H, d_h]",
    split(`${GUARD}  const dh = X[0].length / heads;
  return X.map((row) => Array.from({ length: heads }, (_, h) => row.slice(h * dh, (h + 1) * dh)));`),
  ),
  bug(
    "05",
    "splitHeads",
    "split-tokens",
    "you split the tokens",
    split(`${GUARD}  const per = Math.ceil(X.length / heads);
  return Array.from({ length: heads }, (_, h) => X.slice(h * per, (h + 1) * per));`),
  ),
  bug(
    "05",
    "splitHeads",
    "no-range-error",
    "H must divide d",
    split(`  const dh = Math.floor(X[0].length / heads);
  return Array.from({ length: heads }, (_, h) => X.map((row) => row.slice(h * dh, (h + 1) * dh)));`),
  ),
  bug(
    "05",
    "layerCounts",
    "every-head-full",
    "you gave every head its own d×d W_Q, W_K, W_V",
    countsWith({ params: "h * 3n * dd * dd + dd * dd" }),
  ),
  bug(
    "05",
    "layerCounts",
    "width-d",
    "at width d",
    countsWith({ flops: "8n * t * dd * dd + h * 4n * t * t * dd" }),
  ),
  bug(
    "05",
    "layerCounts",
    "no-output-flops",
    "you left out the output map concat·W_O",
    countsWith({ flops: "6n * t * dd * dd + h * 4n * t * t * dh" }),
  ),
  bug("05", "layerCounts", "one-matrix", "you counted one T×T matrix", countsWith({ weights: "t * t" })),
  bug(
    "05",
    "layerCounts",
    "multiply-add-once",
    "you counted a multiply–add as 1 FLOP",
    countsWith({ flops: "4n * t * dd * dd + h * 2n * t * t * dh" }),
  ),
  bug(
    "05",
    "multiHeadLayer",
    "sqrt-d-model",
    "you divided each head's scores by √d (the model width)",
    layerWith({ scale: "Math.sqrt(d)" }),
  ),
  bug(
    "05",
    "multiHeadLayer",
    "no-output-map",
    "you returned the concatenated heads",
    layerWith({ out: "merged" }),
  ),
  bug(
    "05",
    "multiHeadLayer",
    "reshape-alone",
    "with a reshape alone",
    layerWith({ splitHead: "tf.reshape(m, [heads, T, dh])", merge: "tf.reshape(heads3, [T, d])" }),
  ),
  bug(
    "05",
    "multiHeadLayer",
    "one-head",
    "you ran one head over all d features",
    layer(`  const [Wq, Wk, Wv, Wo] = W;
  return tf.tidy(() => tf.matMul(attention(tf.matMul(X, Wq), tf.matMul(X, Wk), tf.matMul(X, Wv)).output, Wo));`),
  ),
  bug(
    "05",
    "multiHeadLayer",
    "returns-heads",
    "you returned the heads",
    layerWith({ out: "heads3" }),
  ),
  bug(
    "05",
    "multiHeadLayer",
    "no-scale",
    "you did not scale the scores",
    layerWith({ scale: "1" }),
  ),
  bug(
    "05",
    "kvCacheBytes",
    "per-query-head",
    "a key and a value per query head",
    cacheWith("2n * L * t * H * dh * b"),
  ),
  bug("05", "kvCacheBytes", "keys-only", "you cached the keys only", cacheWith("L * t * g * dh * b")),
  bug("05", "kvCacheBytes", "one-layer", "you counted one layer", cacheWith("2n * t * g * dh * b")),
  bug("05", "kvCacheBytes", "group-size", "you multiplied by H/G", cacheWith("2n * L * t * (H / g) * dh * b")),
  bug("05", "kvCacheBytes", "bits", "you counted bits", cacheWith("2n * L * t * g * dh * b * 8n")),
  bug(
    "05",
    "kvCacheBytes",
    "no-range-error",
    "each key–value head serves",
    cacheWith("2n * L * t * g * dh * b", false),
  ),
  bug(
    "05",
    "multiHeadLayer",
    "calls-broken-split",
    "calls splitHeads (exercise 1), which fails its own check",
    layer(`  const [Wq, Wk, Wv, Wo] = W;
  const [T, d] = X.shape;
  return tf.tidy(() => {
    const heads3 = (m: tf.Tensor2D) => tf.tensor3d(splitHeads(tf.matMul(X, m).arraySync() as number[][], heads) as number[][][]);
    const { output } = attention(heads3(Wq), heads3(Wk), heads3(Wv));
    return tf.matMul(tf.reshape(tf.transpose(output, [1, 0, 2]), [T, d]), Wo);
  });`),
    {
      also: {
        splitHeads: split(`${GUARD}  const dh = X[0].length / heads;
  return X.map((row) => Array.from({ length: heads }, (_, h) => row.slice(h * dh, (h + 1) * dh)));`),
      },
      chargedOnce: true,
    },
  ),
  bug(
    "05",
    "multiHeadLayer",
    "merge-reshape-only",
    "with a reshape alone",
    layerWith({ merge: "tf.reshape(heads3, [T, d])" }),
  ),
  correct(
    "05",
    "splitHeads",
    "chained-reshape",
    split(`${GUARD}  return tf.tensor2d(X).reshape([X.length, heads, X[0].length / heads]).transpose([1, 0, 2]);`),
  ),
  correct(
    "05",
    "layerCounts",
    "loop-over-heads",
    counts(`  const dh = BigInt(d / heads), [t, dd] = [BigInt(T), BigInt(d)];
  let params = dd * dd, flops = 2n * t * dd * dd, weights = 0n;
  for (let h = 0; h < heads; h++) {
    params += 3n * dd * dh;
    flops += 3n * 2n * t * dd * dh + 2n * 2n * t * t * dh;
    weights += t * t;
  }
  return [params, flops, weights];`),
  ),
  correct(
    "05",
    "multiHeadLayer",
    "slices-einsum",
    layer(`  const [Wq, Wk, Wv, Wo] = W;
  const [T, d] = X.shape;
  const dh = d / heads;
  return tf.tidy(() => {
    const [Q, K, V] = [Wq, Wk, Wv].map((w) => X.matMul(w));
    const outs = [];
    for (let h = 0; h < heads; h++) {
      const part = (m: tf.Tensor2D) => m.slice([0, h * dh], [T, dh]);
      const a = tf.einsum("id,jd->ij", part(Q), part(K)).div(Math.sqrt(dh)).softmax();
      outs.push(tf.einsum("ij,jd->id", a, part(V)));
    }
    return tf.concat(outs, 1).matMul(Wo);
  });`),
  ),
  correct(
    "05",
    "kvCacheBytes",
    "number",
    cache(`  if (heads % kvHeads !== 0) throw new RangeError("kvHeads must divide heads");
  const total = 2 * layers * T * kvHeads * dHead * bytesPerNumber;
  return Number.isSafeInteger(total) ? total : 2n * BigInt(layers) * BigInt(T) * BigInt(kvHeads) * BigInt(dHead) * BigInt(bytesPerNumber);`),
  ),
];

// ---------------------------------------------------------------- lesson 06

const ranks = (body: string) => `function scoreAndWeightRanks(Q: number[][], K: number[][]): number[] {\n${body}\n}`;
/** Scores and weights in Float64 loops, then a return line. */
const ranksWith = (ret: string, scores = "q.reduce((s, qc, c) => s + qc * k[c], 0) / Math.sqrt(d)") =>
  ranks(`  const d = Q[0].length;
  const S = Q.map((q) => K.map((k) => ${scores}));
  const P = S.map((row) => {
    const top = Math.max(...row);
    const e = row.map((x) => Math.exp(x - top));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / sum);
  });
  ${ret}`);
const RANK_S = "numericalRank(singularValues(S))", RANK_P = "numericalRank(singularValues(P))";
const spectrum = (body: string) =>
  `function spectrumFromGram(eigenvalues: number[], k: number): number[] {\n${body}\n}`;
const spectrumWith = (
  { sigma = "eigenvalues.map((l) => Math.sqrt(Math.max(l, 0))).sort((a, b) => b - a)", top = "k", exp = true } = {},
) =>
  spectrum(`  const sigma = ${sigma};
  const total = sigma.reduce((a, b) => a + b, 0);
  const mass = sigma.slice(0, ${top}).reduce((a, b) => a + b, 0) / total;
  const h = -sigma.reduce((acc, s) => (s > 0 ? acc + (s / total) * Math.log(s / total) : acc), 0);
  return [mass, ${exp ? "Math.exp(h)" : "h"}];`);
const jl = (body: string) => `function jlDimension(points: number[][], eps: number): number {\n${body}\n}`;
const JL_GUARD = `  if (!(eps > 0 && eps < 1)) throw new RangeError("eps must be in (0, 1)");
  if (points.length < 2) throw new RangeError("need two points");
`;
const jlWith = (
  n = "points.length",
  log = "Math.log",
  denominator = "eps ** 2 / 2 - eps ** 3 / 3",
  round = "Math.ceil",
) => jl(`${JL_GUARD}  return ${round}((4 * ${log}(${n})) / (${denominator}));`);
const project = (body: string) =>
  `function jlProject(X: tf.Tensor2D, Z: tf.Tensor2D): tf.Tensor | number[][] {\n${body}\n}`;
const lin = (body: string) =>
  `function linformer(Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D, E: tf.Tensor2D, F: tf.Tensor2D, causal: boolean): tf.Tensor | number[][] {\n${body}\n}`;
const LIN_GUARD = `  if (causal) throw new RangeError("Linformer cannot be causal");
  if (K.shape[0] !== E.shape[1]) throw new RangeError("E is made for another length");
`;
const linWith = (body: string, guard = LIN_GUARD) => lin(`${guard}  return tf.tidy(() => {\n${body}\n  });`);
const pool = (body: string) => `function poolingProjection(n: number, k: number): number[][] | tf.Tensor {\n${body}\n}`;
const POOL_GUARD = '  if (n % k !== 0) throw new RangeError("k must divide n");\n';

export const LESSON06: Planted[] = [
  bug(
    "06",
    "scoreAndWeightRanks",
    "same-rank",
    "you gave softmax(QKᵀ/√d) the rank of QKᵀ",
    ranksWith(`const r = ${RANK_S};\n  return [r, Math.min(r, ${RANK_P})];`),
  ),
  bug(
    "06",
    "scoreAndWeightRanks",
    "swapped",
    "you returned [rank(P), rank(S)]",
    ranksWith(`return [${RANK_P}, ${RANK_S}];`),
  ),
  bug(
    "06",
    "scoreAndWeightRanks",
    "float32",
    "you counted rounding noise as rank",
    ranks(`  return tf.tidy(() => {
    const [q, k] = [tf.tensor2d(Q), tf.tensor2d(K)];
    const s = q.matMul(k.transpose()).div(Math.sqrt(Q[0].length));
    const S = s.arraySync() as number[][], P = s.softmax().arraySync() as number[][];
    return [numericalRank(singularValues(S)), numericalRank(singularValues(P))];
  });`),
  ),
  bug(
    "06",
    "spectrumFromGram",
    "eigenvalues-as-sigma",
    "you used the eigenvalues of AᵀA as the singular values",
    spectrumWith({ sigma: "[...eigenvalues].sort((a, b) => b - a)" }),
  ),
  bug(
    "06",
    "spectrumFromGram",
    "unsorted",
    "you summed the first k values as given",
    spectrumWith({ sigma: "eigenvalues.map((l) => Math.sqrt(Math.max(l, 0)))" }),
  ),
  bug("06", "spectrumFromGram", "k-plus-1", "you summed k + 1 singular values", spectrumWith({ top: "k + 1" })),
  bug("06", "spectrumFromGram", "entropy", "you returned the entropy", spectrumWith({ exp: false })),
  bug(
    "06",
    "spectrumFromGram",
    "sort-in-place",
    "you modified an argument in place",
    spectrumWith({ sigma: "eigenvalues.sort((a, b) => b - a).map((l) => Math.sqrt(Math.max(l, 0)))" }),
  ),
  bug(
    "06",
    "spectrumFromGram",
    "negative-eigenvalue",
    "square root of a negative eigenvalue",
    spectrumWith({ sigma: "eigenvalues.map(Math.sqrt).sort((a, b) => b - a)" }),
  ),
  bug("06", "jlDimension", "log10", "you used log10", jlWith(undefined, "Math.log10")),
  bug("06", "jlDimension", "ambient-dimension", "you used the points' dimension D", jlWith("points[0].length")),
  bug("06", "jlDimension", "floor", "you rounded down", jlWith(undefined, undefined, undefined, "Math.floor")),
  bug("06", "jlDimension", "no-cube", "you dropped the ε³/3 term", jlWith(undefined, undefined, "eps ** 2 / 2")),
  bug(
    "06",
    "jlDimension",
    "pairs",
    "you used the number of pairs",
    jlWith("(points.length * (points.length - 1)) / 2"),
  ),
  bug(
    "06",
    "jlDimension",
    "no-range-error",
    "you returned a dimension where the bound means nothing",
    jl("  return Math.ceil((4 * Math.log(points.length)) / (eps ** 2 / 2 - eps ** 3 / 3));"),
  ),
  bug(
    "06",
    "jlProject",
    "no-scale",
    "you did not scale the projection",
    project("  return tf.tidy(() => tf.matMul(X, tf.transpose(Z)));"),
  ),
  bug(
    "06",
    "jlProject",
    "divide-by-k",
    "you divided by k",
    project("  return tf.tidy(() => tf.div(tf.matMul(X, tf.transpose(Z)), Z.shape[0]));"),
  ),
  bug(
    "06",
    "jlProject",
    "k-by-n",
    "you returned [k, N]",
    project("  return tf.tidy(() => tf.div(tf.matMul(Z, tf.transpose(X)), Math.sqrt(Z.shape[0])));"),
  ),
  bug(
    "06",
    "jlProject",
    "sqrt-D",
    "√D",
    project("  return tf.tidy(() => tf.div(tf.matMul(X, tf.transpose(Z)), Math.sqrt(X.shape[1])));"),
  ),
  bug(
    "06",
    "jlProject",
    "times-sqrt-k",
    "you multiplied by √k",
    project("  return tf.tidy(() => tf.mul(tf.matMul(X, tf.transpose(Z)), Math.sqrt(Z.shape[0])));"),
  ),
  bug(
    "06",
    "linformer",
    "sqrt-k",
    "you divided the scores by √k",
    linWith(`    const [Kp, Vp] = [tf.matMul(E, K), tf.matMul(F, V)];
    return tf.matMul(tf.softmax(tf.div(tf.matMul(Q, Kp, false, true), Math.sqrt(E.shape[0]))), Vp);`),
  ),
  bug(
    "06",
    "linformer",
    "e-f-swapped",
    "you projected the keys with F and the values with E",
    linWith("    return attention(Q, tf.matMul(F, K), tf.matMul(E, V)).output;"),
  ),
  bug(
    "06",
    "linformer",
    "project-queries",
    "you projected the queries too",
    linWith("    return attention(tf.matMul(E, Q), tf.matMul(E, K), tf.matMul(F, V)).output;"),
  ),
  bug(
    "06",
    "linformer",
    "causal-allowed",
    "you returned an output for a causal Linformer",
    linWith(
      "    return attention(Q, tf.matMul(E, K), tf.matMul(F, V)).output;",
      '  if (K.shape[0] !== E.shape[1]) throw new RangeError("E is made for another length");\n',
    ),
  ),
  bug(
    "06",
    "linformer",
    "values-with-e",
    "you projected the values with E as well",
    linWith(`    const w = tf.softmax(tf.div(tf.matMul(Q, tf.matMul(E, K), false, true), Math.sqrt(Q.shape[1])));
    return tf.matMul(tf.matMul(w, E), V);`),
  ),
  bug(
    "06",
    "linformer",
    "values-unprojected",
    "you projected the keys but not the values",
    linWith("    return attention(Q, tf.matMul(E, K), V).output;"),
  ),
  bug(
    "06",
    "linformer",
    "no-length-check",
    "you did not check the input",
    linWith(
      "    return attention(Q, tf.matMul(E, K), tf.matMul(F, V)).output;",
      '  if (causal) throw new RangeError("Linformer cannot be causal");\n',
    ),
  ),
  bug(
    "06",
    "poolingProjection",
    "n-by-k",
    "you returned [n, k]",
    pool(`${POOL_GUARD}  const block = n / k;
  return Array.from({ length: n }, (_, j) => Array.from({ length: k }, (_, b) => (Math.floor(j / block) === b ? 1 / block : 0)));`),
  ),
  bug(
    "06",
    "poolingProjection",
    "blocks-of-k",
    "you made blocks of k tokens",
    pool(
      `${POOL_GUARD}  return Array.from({ length: k }, (_, b) => Array.from({ length: n }, (_, j) => (Math.floor(j / k) === b ? 1 / k : 0)));`,
    ),
  ),
  bug(
    "06",
    "poolingProjection",
    "sums",
    "you summed each block",
    pool(`${POOL_GUARD}  const block = n / k;
  return Array.from({ length: k }, (_, b) => Array.from({ length: n }, (_, j) => (Math.floor(j / block) === b ? 1 : 0)));`),
  ),
  bug(
    "06",
    "poolingProjection",
    "round-robin",
    "round-robin",
    pool(
      `${POOL_GUARD}  return Array.from({ length: k }, (_, b) => Array.from({ length: n }, (_, j) => (j % k === b ? k / n : 0)));`,
    ),
  ),
  bug(
    "06",
    "poolingProjection",
    "no-range-error",
    "you returned a pooling matrix for k ∤ n",
    pool(`  const block = Math.ceil(n / k);
  return Array.from({ length: k }, (_, b) => Array.from({ length: n }, (_, j) => (Math.floor(j / block) === b ? 1 / block : 0)));`),
  ),
  correct(
    "06",
    "scoreAndWeightRanks",
    "loops-no-shift",
    ranks(`  const n = Q.length, m = K.length, d = Q[0].length;
  const S: number[][] = [], P: number[][] = [];
  for (let i = 0; i < n; i++) {
    S.push([]);
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += Q[i][c] * K[j][c];
      S[i].push(s / Math.sqrt(d));
    }
    const top = Math.max(...S[i]);
    const z = S[i].reduce((a, x) => a + Math.exp(x - top), 0);
    P.push(S[i].map((x) => Math.exp(x - top) / z));
  }
  return [numericalRank(singularValues(S)), numericalRank(singularValues(P))];`),
  ),
  correct(
    "06",
    "spectrumFromGram",
    "ascending",
    spectrum(`  const s = eigenvalues.map((l) => (l > 0 ? Math.sqrt(l) : 0)).sort((a, b) => a - b);
  const total = s.reduce((a, b) => a + b, 0);
  let top = 0;
  for (let i = 0; i < k; i++) top += s[s.length - 1 - i];
  let h = 0;
  for (const x of s) if (x > 0) h -= (x / total) * Math.log(x / total);
  return [top / total, Math.exp(h)];`),
  ),
  correct(
    "06",
    "jlDimension",
    "search",
    jl(`${JL_GUARD}  const bound = (4 * Math.log(points.length)) / (eps * eps / 2 - (eps * eps * eps) / 3);
  let k = 1;
  while (k < bound) k++;
  return k;`),
  ),
  correct(
    "06",
    "jlProject",
    "einsum",
    project('  return tf.tidy(() => tf.einsum("nd,kd->nk", X, Z).div(Math.sqrt(Z.shape[0])));'),
  ),
  correct(
    "06",
    "linformer",
    "chained",
    linWith(`    const Kp = E.matMul(K), Vp = F.matMul(V);
    return Q.matMul(Kp.transpose()).div(Math.sqrt(Q.shape[1])).softmax().matMul(Vp);`),
  ),
  correct(
    "06",
    "poolingProjection",
    "tensor",
    pool(`${POOL_GUARD}  const block = n / k;
  return tf.tidy(() => {
    const rows = tf.range(0, k, 1, "int32").reshape([k, 1]);
    const blockOf = tf.range(0, n, 1, "int32").floorDiv(tf.scalar(block, "int32")).reshape([1, n]);
    return tf.equal(rows, blockOf).cast("float32").div(block);
  });`),
  ),
];

// ---------------------------------------------------------------- lesson 07

const cross = (body: string) => `function reorderCrossover(d: number, dv: number): number {\n${body}\n}`;
const linear = (body: string) =>
  `function linearAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D): tf.Tensor2D | number[][] {\n${body}\n}`;
/** Linear attention with its feature maps and normaliser swapped in. */
const linearWith = ({ phiQ = "tf.add(tf.elu(q), 1)", phiK = "tf.add(tf.elu(k), 1)", normalise = true } = {}) =>
  linear(`  return tf.tidy(() => {
    const fq = ${phiQ}, fk = ${phiK};
    const numerator = tf.matMul(fq, tf.matMul(fk, v, true, false));
    ${
    normalise
      ? "return tf.div(numerator, tf.matMul(fq, tf.sum(fk, 0, true), false, true)) as tf.Tensor2D;"
      : "return numerator as tf.Tensor2D;"
  }
  });`);
const causalLin = (body: string) =>
  `function causalLinearAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D): tf.Tensor2D | number[][] {\n${body}\n}`;
/** Causal linear attention by masked weights φ(q_i)·φ(k_j), with the mask, feature map and normaliser swapped in. */
const causalWith = (
  { keep = "j <= i", phi = "(x: tf.Tensor) => tf.add(tf.elu(x), 1)", normalise = "tf.sum(w, 1, true)" } = {},
) =>
  causalLin(`  const T = q.shape[0];
  const keep = tf.tensor2d(Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => (${keep} ? 1 : 0))));
  return tf.tidy(() => {
    const phi = ${phi};
    const w = tf.mul(tf.matMul(phi(q), phi(k), false, true), keep);
    return tf.div(tf.matMul(w, v), ${normalise}) as tf.Tensor2D;
  });`);
const stepFn = (body: string) =>
  `function linearAttentionStep(S: number[][], z: number[], q: number[], k: number[], v: number[]): [number[][], number[], number[]] {\n${body}\n}`;
const stepWith = (
  {
    phi = "(x: number) => (x > 0 ? x + 1 : Math.exp(x))",
    readS = "nextS",
    readZ = "nextZ",
    newZ = "z.map((s, a) => s + fk[a])",
    divide = true,
  } = {},
) =>
  stepFn(`  const phi = ${phi};
  const fq = q.map(phi), fk = k.map(phi);
  const nextS = S.map((row, a) => row.map((s, c) => s + fk[a] * v[c]));
  const nextZ = ${newZ};
  const den = ${divide ? `fq.reduce((sum, f, a) => sum + f * ${readZ}[a], 0)` : "1"};
  const output = v.map((_, c) => fq.reduce((sum, f, a) => sum + f * ${readS}[a][c], 0) / den);
  return [nextS, nextZ, output];`);
const prf = (body: string) =>
  `function positiveRandomFeatures(x: number[][], omega: number[][]): number[][] {\n${body}\n}`;
const prfWith = (shift = "half", norm = "Math.sqrt(m)") =>
  prf(`  const m = omega.length;
  return x.map((row) => {
    const sq = row.reduce((s, c) => s + c * c, 0);
    const half = sq / 2;
    return omega.map((w) => Math.exp(w.reduce((s, wc, c) => s + wc * row[c], 0) - ${shift}) / ${norm});
  });`);
const orf = (body: string) =>
  `function orthogonalRandomFeatures(d: number, m: number, seed: string): number[][] {\n${body}\n}`;
/** Blocks of Gram–Schmidt rows; the source of randomness, the block size and the lengths swapped in. */
const orfWith = (
  { source = "rng(seed)", draw = "Array.from(r.normalArray(d))", blockSize = "d", lengths = true } = {},
) =>
  orf(`  const r = ${source};
  const rows: number[][] = [];
  let block: number[][] = [];
  while (rows.length < m) {
    if (block.length === ${blockSize}) block = [];
    const g = ${draw};
    const length = Math.hypot(...g);
    for (const u of block) {
      const p = g.reduce((s, x, c) => s + x * u[c], 0);
      for (let c = 0; c < d; c++) g[c] -= p * u[c];
    }
    const n = Math.hypot(...g);
    const unit = g.map((x) => x / n);
    block.push(unit);
    rows.push(${lengths ? "unit.map((x) => x * length)" : "unit"});
  }
  return rows;`);

export const LESSON07: Planted[] = [
  bug("07", "reorderCrossover", "at-d", "you put the crossover at N = d", cross("  return d;")),
  bug(
    "07",
    "reorderCrossover",
    "equal-cost",
    "you returned the N where both groupings cost the same",
    cross(`  let N = 1;
  while ((d + dv) * N < 2 * d * dv) N++;
  return N;`),
  ),
  bug(
    "07",
    "reorderCrossover",
    "arithmetic-mean",
    "you used the arithmetic mean",
    cross("  return Math.floor((d + dv) / 2) + 1;"),
  ),
  bug(
    "07",
    "reorderCrossover",
    "one-product",
    "you counted only one product of the reordered form",
    cross(`  let N = 1;
  while ((d + dv) * N * N <= d * dv * N) N++;
  return N;`),
  ),
  bug("07", "reorderCrossover", "always", "you said the reordered product is always cheaper", cross("  return 1;")),
  bug(
    "07",
    "linearAttention",
    "softmax",
    "you computed softmax attention",
    linear(
      "  return tf.tidy(() => tf.matMul(tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(q.shape[1]))), v) as tf.Tensor2D);",
    ),
  ),
  bug("07", "linearAttention", "no-denominator", "you left out the denominator", linearWith({ normalise: false })),
  bug(
    "07",
    "linearAttention",
    "elu-no-plus-1",
    "you used φ(x) = elu(x)",
    linearWith({ phiQ: "tf.elu(q)", phiK: "tf.elu(k)" }),
  ),
  bug("07", "linearAttention", "phi-queries-only", "you applied φ to the queries only", linearWith({ phiK: "k" })),
  bug("07", "linearAttention", "exp", "you used φ = exp", linearWith({ phiQ: "tf.exp(q)", phiK: "tf.exp(k)" })),
  bug(
    "07",
    "linearAttention",
    "no-feature-map",
    "you normalised after the product without a feature map",
    linearWith({ phiQ: "q", phiK: "k" }),
  ),
  bug(
    "07",
    "linearAttention",
    "returns-weights",
    "you returned the weight matrix",
    linear(`  return tf.tidy(() => {
    const fq = tf.add(tf.elu(q), 1), fk = tf.add(tf.elu(k), 1);
    const w = tf.matMul(fq, fk, false, true);
    return tf.div(w, tf.sum(w, 1, true)) as tf.Tensor2D;
  });`),
  ),
  bug(
    "07",
    "linearAttention",
    "scaled-queries",
    "you divided the queries by √d before φ",
    linearWith({ phiQ: "tf.add(tf.elu(tf.div(q, Math.sqrt(q.shape[1]))), 1)" }),
  ),
  bug("07", "causalLinearAttention", "future", "include the future", causalWith({ keep: "true" })),
  bug(
    "07",
    "causalLinearAttention",
    "full-denominator",
    "your denominator sums over all keys",
    causalWith({ normalise: "tf.matMul(phi(q), tf.sum(phi(k), 0, true), false, true)" }),
  ),
  bug("07", "causalLinearAttention", "no-denominator", "you left out the denominator", causalWith({ normalise: "1" })),
  bug(
    "07",
    "causalLinearAttention",
    "elu",
    "you used φ(x) = elu(x)",
    causalWith({ phi: "(x: tf.Tensor) => tf.elu(x)" }),
  ),
  bug("07", "causalLinearAttention", "from-the-end", "you summed from the end", causalWith({ keep: "j >= i" })),
  bug(
    "07",
    "causalLinearAttention",
    "exclusive",
    "an exclusive prefix sum",
    causalLin(`  return tf.tidy(() => {
    const fq = tf.add(tf.elu(q), 1), fk = tf.add(tf.elu(k), 1);
    const S = tf.cumsum(tf.mul(tf.expandDims(fk, 2), tf.expandDims(v, 1)), 0, true);
    const z = tf.cumsum(fk, 0, true);
    const num = tf.squeeze(tf.matMul(tf.expandDims(fq, 1), S), [1]);
    return tf.div(num, tf.sum(tf.mul(fq, z), 1, true)) as tf.Tensor2D;
  });`),
  ),
  bug(
    "07",
    "causalLinearAttention",
    "calls-broken-linear",
    "calls linearAttention (exercise 2), which fails its own check",
    causalLin(`  const T = q.shape[0];
  return tf.tidy(() => {
    const rows = [];
    for (let i = 0; i < T; i++) {
      const prefix = (m: tf.Tensor2D) => tf.slice(m, [0, 0], [i + 1, -1]) as tf.Tensor2D;
      rows.push(linearAttention(tf.slice(q, [i, 0], [1, -1]) as tf.Tensor2D, prefix(k), prefix(v)) as tf.Tensor2D);
    }
    return tf.concat(rows, 0) as tf.Tensor2D;
  });`),
    { also: { linearAttention: linearWith({ phiQ: "tf.elu(q)", phiK: "tf.elu(k)" }) }, chargedOnce: true },
  ),
  correct(
    "07",
    "causalLinearAttention",
    "prefixes-via-linear",
    causalLin(`  const T = q.shape[0];
  return tf.tidy(() => {
    const rows = [];
    for (let i = 0; i < T; i++) {
      const prefix = (m: tf.Tensor2D) => tf.slice(m, [0, 0], [i + 1, -1]) as tf.Tensor2D;
      rows.push(linearAttention(tf.slice(q, [i, 0], [1, -1]) as tf.Tensor2D, prefix(k), prefix(v)) as tf.Tensor2D);
    }
    return tf.concat(rows, 0) as tf.Tensor2D;
  });`),
  ),
  bug(
    "07",
    "linearAttentionStep",
    "before-update",
    "you read the output from the state before the update",
    stepWith({ readS: "S", readZ: "z" }),
  ),
  bug("07", "linearAttentionStep", "no-denominator", "you left out the denominator", stepWith({ divide: false })),
  bug("07", "linearAttentionStep", "z-not-updated", "you updated S but not z", stepWith({ newZ: "[...z]" })),
  bug(
    "07",
    "linearAttentionStep",
    "elu",
    "you used φ(x) = elu(x)",
    stepWith({ phi: "(x: number) => (x > 0 ? x : Math.exp(x) - 1)" }),
  ),
  bug(
    "07",
    "linearAttentionStep",
    "in-place",
    "you modified an argument in place",
    stepFn(`  const phi = (x: number) => (x > 0 ? x + 1 : Math.exp(x));
  const fq = q.map(phi), fk = k.map(phi);
  for (let a = 0; a < S.length; a++) {
    for (let c = 0; c < v.length; c++) S[a][c] += fk[a] * v[c];
    z[a] += fk[a];
  }
  const den = fq.reduce((sum, f, a) => sum + f * z[a], 0);
  return [S, z, v.map((_, c) => fq.reduce((sum, f, a) => sum + f * S[a][c], 0) / den)];`),
  ),
  bug("07", "positiveRandomFeatures", "no-gaussian-factor", "you left out the factor e^{−‖x‖²/2}", prfWith("0")),
  bug("07", "positiveRandomFeatures", "full-square", "you subtracted ‖x‖² instead of ‖x‖²/2", prfWith("sq")),
  bug("07", "positiveRandomFeatures", "no-sqrt-m", "you left out the 1/√m", prfWith(undefined, "1")),
  bug("07", "positiveRandomFeatures", "divide-by-m", "you divided by m on each side", prfWith(undefined, "m")),
  bug(
    "07",
    "positiveRandomFeatures",
    "length-over-2",
    "you subtracted ‖x‖/2 (the length)",
    prfWith("Math.sqrt(sq) / 2"),
  ),
  bug(
    "07",
    "positiveRandomFeatures",
    "trig",
    "trigonometric random features",
    prf(`  const m = omega.length;
  return x.map((row) => {
    const p = omega.map((w) => w.reduce((s, wc, c) => s + wc * row[c], 0));
    const h = Math.exp(row.reduce((s, c) => s + c * c, 0) / 2);
    return [...p.map((t) => (h * Math.sin(t)) / Math.sqrt(m)), ...p.map((t) => (h * Math.cos(t)) / Math.sqrt(m))];
  });`),
  ),
  bug(
    "07",
    "orthogonalRandomFeatures",
    "iid",
    "you did not orthogonalise",
    orf("  const r = rng(seed);\n  return Array.from({ length: m }, () => Array.from(r.normalArray(d)));"),
  ),
  bug(
    "07",
    "orthogonalRandomFeatures",
    "qr-signs",
    "multiply column i of Q by the sign of R[i][i]",
    orf(`  const r = rng(seed);
  const rows: number[][] = [];
  while (rows.length < m) {
    const G = tf.tensor2d(Array.from({ length: d }, () => Array.from(r.normalArray(d))));
    const [Qm] = tf.linalg.qr(G);
    const lengths = Array.from({ length: d }, () => Math.hypot(...r.normalArray(d)));
    const units = Qm.transpose().arraySync() as number[][];
    tf.dispose([G, Qm]);
    for (let i = 0; i < d && rows.length < m; i++) rows.push(units[i].map((x) => x * lengths[i]));
  }
  return rows;`),
  ),
  bug("07", "orthogonalRandomFeatures", "unit-rows", "same length", orfWith({ lengths: false })),
  bug(
    "07",
    "orthogonalRandomFeatures",
    "math-random",
    "unseeded source",
    orfWith({
      draw:
        "Array.from({ length: d }, () => Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random()))",
    }),
  ),
  bug("07", "orthogonalRandomFeatures", "seed-ignored", "you ignored the seed", orfWith({ source: 'rng("0")' })),
  bug(
    "07",
    "orthogonalRandomFeatures",
    "one-block",
    "you orthogonalised more than d rows together",
    orfWith({ blockSize: "m" }),
  ),
  bug(
    "07",
    "orthogonalRandomFeatures",
    "uniform",
    "lean one way",
    orfWith({ draw: "Array.from({ length: d }, () => r.uniform())" }),
  ),
  correct(
    "07",
    "reorderCrossover",
    "brute-force",
    cross(`  for (let N = 1; ; N++) if (2 * d * dv * N < (d + dv) * N * N) return N;`),
  ),
  correct(
    "07",
    "linearAttention",
    "quadratic-chained",
    linear(`  return tf.tidy(() => {
    const fq = q.elu().add(1), fk = k.elu().add(1);
    const w = fq.matMul(fk.transpose());
    return w.div(w.sum(1, true)).matMul(v) as tf.Tensor2D;
  });`),
  ),
  correct("07", "causalLinearAttention", "masked-quadratic", causalWith()),
  correct(
    "07",
    "linearAttentionStep",
    "loops",
    stepFn(`  const phi = (x: number) => (x > 0 ? x + 1 : Math.exp(x));
  const fq = q.map(phi), fk = k.map(phi);
  const S2 = S.map((row) => [...row]), z2 = [...z];
  for (let a = 0; a < fk.length; a++) {
    z2[a] += fk[a];
    for (let c = 0; c < v.length; c++) S2[a][c] += fk[a] * v[c];
  }
  let den = 0;
  for (let a = 0; a < fq.length; a++) den += fq[a] * z2[a];
  const out = v.map(() => 0);
  for (let c = 0; c < v.length; c++) for (let a = 0; a < fq.length; a++) out[c] += (fq[a] * S2[a][c]) / den;
  return [S2, z2, out];`),
  ),
  correct(
    "07",
    "positiveRandomFeatures",
    "tensor",
    prf(`  return tf.tidy(() => {
    const X = tf.tensor2d(x), W = tf.tensor2d(omega);
    const half = X.square().sum(1, true).div(2);
    return X.matMul(W.transpose()).sub(half).exp().div(Math.sqrt(omega.length)).arraySync() as number[][];
  });`),
  ),
  correct(
    "07",
    "positiveRandomFeatures",
    "returns-tensor",
    prf(`  return tf.tidy(() => {
    const X = tf.tensor2d(x), W = tf.tensor2d(omega);
    return tf.exp(tf.sub(tf.matMul(X, W, false, true), tf.div(tf.sum(tf.square(X), 1, true), 2))).div(Math.sqrt(omega.length));
  }) as unknown as number[][];`),
  ),
  correct(
    "07",
    "orthogonalRandomFeatures",
    "qr",
    orf(`  const r = rng(seed);
  const rows: number[][] = [];
  while (rows.length < m) {
    const G = tf.tensor2d(Array.from({ length: d }, () => Array.from(r.normalArray(d))));
    const [Qm, Rm] = tf.linalg.qr(G);
    const signs = (Rm.arraySync() as number[][]).map((row, i) => Math.sign(row[i]) || 1);
    const lengths = Array.from({ length: d }, () => Math.hypot(...r.normalArray(d)));
    const units = Qm.transpose().arraySync() as number[][]; // row i = column i of Q
    tf.dispose([G, Qm, Rm]);
    for (let i = 0; i < d && rows.length < m; i++) rows.push(units[i].map((x) => x * signs[i] * lengths[i]));
  }
  return rows;`),
  ),
];

// ---------------------------------------------------------------- lesson 08

const maskFn = (body: string) =>
  `function patternMask(T: number, window: number, dilation: number, global: number[], causal: boolean): boolean[][] {\n${body}\n}`;
const maskWith = (
  {
    cut = "causal && j > i",
    globalRule = "isGlobal.has(i) || isGlobal.has(j)",
    local = "gap <= window * dilation && gap % dilation === 0",
    globalFirst = false,
  } = {},
) =>
  maskFn(`  const isGlobal = new Set(global);
  return Array.from({ length: T }, (_, i) =>
    Array.from({ length: T }, (_, j) => {
      ${
    globalFirst
      ? `if (${globalRule}) return true;\n      if (${cut}) return false;`
      : `if (${cut}) return false;\n      if (${globalRule}) return true;`
  }
      const gap = Math.abs(i - j);
      return ${local};
    }));`);
const flopsFn = (body: string) =>
  `function attentionFlops(mask: boolean[][], D: number): [bigint, bigint] {\n${body}\n}`;
const flopsWith = (masked: string, sparse: string) =>
  flopsFn(`  const T = BigInt(mask.length), d = BigInt(D);
  const kept = BigInt(mask.flat().filter(Boolean).length);
  return [${masked}, ${sparse}];`);
const reach = (body: string) => `function reachAfter(mask: boolean[][], L: number): boolean[][] {\n${body}\n}`;
const reachWith = (start = "1", stop = "L", keepShorter = false) =>
  reach(`  const T = mask.length;
  let r = mask.map((row) => [...row]);
  for (let step = ${start}; step < ${stop}; step++) {
    r = r.map((row) => Array.from({ length: T }, (_, j) => ${
    keepShorter ? "row[j] || " : ""
  }row.some((x, p) => x && mask[p][j])));
  }
  return r;`);
const lsh = (body: string) => `function lshBuckets(x: number[][], R: number[][]): number[] {\n${body}\n}`;
const lshWith = (pick: string) =>
  lsh(`  const half = R[0].length;
  return x.map((row) => {
    const proj = Array.from({ length: half }, (_, u) => row.reduce((s, xc, c) => s + xc * R[c][u], 0));
    ${pick}
  });`);
const clustered = (body: string) =>
  `function causalClusteredAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, centroids: number[][]): tf.Tensor2D | number[][] {\n${body}\n}`;
/** Clustered attention with its keep rule and its centroids swapped in. */
const clusteredWith = (
  { keep = "j <= i && qc[i] === kc[j]", centres = "centroids", scale = "Math.sqrt(q.shape[1])", empty = true } = {},
) =>
  clustered(`  const unit = (x: number[]) => { const n = Math.hypot(...x); return x.map((c) => c / n); };
  const [qs, ks] = [q.arraySync().map(unit), k.arraySync().map(unit)];
  const C = ${centres};
  const nearest = (x: number[]) => {
    const dist = C.map((c) => x.reduce((s, xc, e) => s + (xc - c[e]) ** 2, 0));
    return dist.indexOf(Math.min(...dist));
  };
  const qc = qs.map(nearest), kc = ks.map(nearest);
  const T = qc.length;
  const keep = Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => ${keep}));
  return tf.tidy(() => {
    const scores = tf.div(tf.matMul(q, k, false, true), ${scale});
    const w = tf.softmax(tf.where(tf.tensor2d(keep), scores, tf.fill([T, T], -Infinity)));
    return tf.matMul(${empty ? "tf.where(tf.isNaN(w), tf.zerosLike(w), w)" : "w"}, v) as tf.Tensor2D;
  });`);
const MEANS = `centroids.map((c) => {
    const mine = ks.filter((x) => {
      const dist = centroids.map((cc) => x.reduce((s, xc, e) => s + (xc - cc[e]) ** 2, 0));
      return centroids[dist.indexOf(Math.min(...dist))] === c;
    });
    if (!mine.length) return c;
    const mean = c.map((_, e) => mine.reduce((s, x) => s + x[e], 0) / mine.length);
    return unit(mean);
  })`;
const links = (body: string) =>
  `function randomLinks(T: number, perRow: number, seed: string): number[][] {\n${body}\n}`;

export const LESSON08: Planted[] = [
  bug(
    "08",
    "patternMask",
    "one-short",
    "your window stops one short",
    maskWith({ local: "gap < window * dilation && gap % dilation === 0" }),
  ),
  bug(
    "08",
    "patternMask",
    "gaps-not-reach",
    "you dilated the gaps but not the reach",
    maskWith({ local: "gap <= window && gap % dilation === 0" }),
  ),
  bug(
    "08",
    "patternMask",
    "no-gaps",
    "you widened the window to w·δ without the gaps",
    maskWith({ local: "gap <= window * dilation" }),
  ),
  bug(
    "08",
    "patternMask",
    "global-rows-only",
    "your global tokens see every key, but the other queries do not see them",
    maskWith({ globalRule: "isGlobal.has(i)" }),
  ),
  bug("08", "patternMask", "causal-ignored", "you ignored causal", maskWith({ cut: "false" })),
  bug(
    "08",
    "patternMask",
    "strict-causal",
    "your causal cut also drops the query itself",
    maskWith({ cut: "causal && j >= i" }),
  ),
  bug(
    "08",
    "patternMask",
    "global-first",
    "your global tokens bypass the causal cut",
    maskWith({ globalFirst: true }),
  ),
  bug(
    "08",
    "attentionFlops",
    "masked-kept",
    "you counted only the kept pairs for the masked dense kernel",
    flopsWith("4n * kept * d", "4n * kept * d"),
  ),
  bug("08", "attentionFlops", "half", "your counts are half the rule's", flopsWith("2n * T * T * d", "2n * kept * d")),
  bug(
    "08",
    "attentionFlops",
    "sparse-dense",
    "you gave the gathered kernel the dense count",
    flopsWith("4n * T * T * d", "4n * T * T * d"),
  ),
  bug(
    "08",
    "attentionFlops",
    "scores-only",
    "your counts are half the rule's",
    flopsWith("2n * T * T * d", "2n * kept * d"),
  ),
  bug(
    "08",
    "reachAfter",
    "one-layer",
    "you returned the one-layer pattern",
    reach("  return mask.map((row) => [...row]);"),
  ),
  bug("08", "reachAfter", "l-minus-1", "you took L − 1 steps", reachWith("2")),
  bug(
    "08",
    "reachAfter",
    "in-place",
    "you modified an argument in place",
    reach(`  const T = mask.length;
  const r = mask;
  for (let step = 1; step < L; step++) {
    const next = r.map((row) => Array.from({ length: T }, (_, j) => row.some((x, p) => x && mask[p][j])));
    for (let i = 0; i < T; i++) r[i] = next[i];
  }
  return r;`),
  ),
  bug("08", "reachAfter", "l-plus-1", "you took L + 1 steps", reachWith("0")),
  bug("08", "reachAfter", "shorter-paths", "you also counted paths shorter than L", reachWith("1", "L", true)),
  bug(
    "08",
    "reachAfter",
    "counts",
    "you returned counts",
    reach(`  const T = mask.length;
  const M = mask.map((row) => row.map(Number));
  let r = M;
  for (let step = 1; step < L; step++) r = r.map((row) => Array.from({ length: T }, (_, j) => row.reduce((s, x, p) => s + x * M[p][j], 0)));
  return r as unknown as boolean[][];`),
  ),
  bug(
    "08",
    "lshBuckets",
    "no-negation",
    "you took the argmax of xR alone",
    lshWith("return proj.indexOf(Math.max(...proj));"),
  ),
  bug(
    "08",
    "lshBuckets",
    "argmin",
    "you took the argmin",
    lshWith("const both = [...proj, ...proj.map((p) => -p)];\n    return both.indexOf(Math.min(...both));"),
  ),
  bug(
    "08",
    "lshBuckets",
    "abs",
    "you took the largest |xR_u|",
    lshWith("const a = proj.map(Math.abs);\n    return a.indexOf(Math.max(...a));"),
  ),
  bug(
    "08",
    "lshBuckets",
    "simhash",
    "SimHash",
    lshWith("return proj.reduce((code, p, u) => code + (p > 0 ? 2 ** u : 0), 0);"),
  ),
  bug(
    "08",
    "causalClusteredAttention",
    "no-clusters",
    "you computed causal softmax attention over every earlier key",
    clusteredWith({ keep: "j <= i" }),
  ),
  bug(
    "08",
    "causalClusteredAttention",
    "not-causal",
    "your queries also see later keys of their cluster",
    clusteredWith({ keep: "qc[i] === kc[j]" }),
  ),
  bug(
    "08",
    "causalClusteredAttention",
    "moved-centroids",
    "you moved the centroids",
    clusteredWith({ centres: MEANS }),
  ),
  bug(
    "08",
    "causalClusteredAttention",
    "no-scale",
    "you did not scale the scores",
    clusteredWith({ scale: "1" }),
  ),
  bug(
    "08",
    "causalClusteredAttention",
    "nan-rows",
    "you left NaN for a query whose cluster has no key",
    clusteredWith({ empty: false }),
  ),
  bug(
    "08",
    "randomLinks",
    "with-replacement",
    "you drew keys with replacement",
    links(`  const r = rng(seed);
  return Array.from({ length: T }, () => Array.from({ length: Math.min(perRow, T) }, () => r.int(T)));`),
  ),
  bug(
    "08",
    "randomLinks",
    "one-set",
    "you drew one set of links for all queries",
    links(`  const r = rng(seed);
  const keys = [...Array(T).keys()];
  for (let i = T - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [keys[i], keys[j]] = [keys[j], keys[i]];
  }
  return Array.from({ length: T }, () => keys.slice(0, Math.min(perRow, T)));`),
  ),
  bug(
    "08",
    "randomLinks",
    "math-random",
    "your links change from call to call",
    links(`  return Array.from({ length: T }, () => {
    const keys = [...Array(T).keys()].sort(() => Math.random() - 0.5);
    return keys.slice(0, Math.min(perRow, T));
  });`),
  ),
  bug(
    "08",
    "randomLinks",
    "seed-ignored",
    "you ignored the seed",
    links(`  const r = rng("links");
  return Array.from({ length: T }, () => {
    const keys = [...Array(T).keys()];
    for (let i = 0; i < Math.min(perRow, T); i++) {
      const j = i + r.int(T - i);
      [keys[i], keys[j]] = [keys[j], keys[i]];
    }
    return keys.slice(0, Math.min(perRow, T));
  });`),
  ),
  correct(
    "08",
    "patternMask",
    "loops",
    maskFn(`  const m: boolean[][] = [];
  for (let i = 0; i < T; i++) {
    m.push(new Array(T).fill(false));
    for (let j = 0; j < T; j++) {
      const local = Math.abs(i - j) % dilation === 0 && Math.abs(i - j) / dilation <= window;
      m[i][j] = (local || global.includes(i) || global.includes(j)) && !(causal && j > i);
    }
  }
  return m;`),
  ),
  correct(
    "08",
    "attentionFlops",
    "numbers",
    flopsFn(`  const T = mask.length, kept = mask.flat().filter(Boolean).length;
  return [4 * T * T * D, 4 * kept * D] as unknown as [bigint, bigint];`),
  ),
  correct(
    "08",
    "attentionFlops",
    "loop-number",
    flopsFn(`  let kept = 0;
  for (const row of mask) for (const x of row) if (x) kept++;
  const T = mask.length;
  return [BigInt(4 * T * T) * BigInt(D), BigInt(4 * kept) * BigInt(D)];`),
  ),
  correct(
    "08",
    "reachAfter",
    "matmul",
    reach(`  return tf.tidy(() => {
    const M = tf.tensor2d(mask.map((row) => row.map(Number)));
    let r = M;
    for (let step = 1; step < L; step++) r = tf.minimum(r.matMul(M), 1);
    return (r.greater(0).arraySync() as number[][]).map((row) => row.map(Boolean));
  });`),
  ),
  correct(
    "08",
    "lshBuckets",
    "tensor",
    lsh(`  return tf.tidy(() => {
    const p = tf.matMul(tf.tensor2d(x), tf.tensor2d(R));
    return tf.argMax(tf.concat([p, p.neg()], 1), 1).arraySync() as number[];
  });`),
  ),
  correct(
    "08",
    "lshBuckets",
    "typed-array",
    lsh(`  const p = tf.matMul(tf.tensor2d(x), tf.tensor2d(R));
  const buckets = tf.argMax(tf.concat([p, tf.neg(p)], 1), 1);
  const out = buckets.dataSync();
  tf.dispose([p, buckets]);
  return out as unknown as number[];`),
  ),
  correct(
    "08",
    "causalClusteredAttention",
    "loops",
    clustered(`  const [Q, K, V] = [q.arraySync(), k.arraySync(), v.arraySync()];
  const cluster = (x: number[]) => {
    const n = Math.hypot(...x);
    let best = 0, bestD = Infinity;
    centroids.forEach((c, i) => {
      const dist = c.reduce((s, ce, e) => s + (x[e] / n - ce) ** 2, 0);
      if (dist < bestD) [best, bestD] = [i, dist];
    });
    return best;
  };
  const qc = Q.map(cluster), kc = K.map(cluster), d = Q[0].length;
  return Q.map((qi, i) => {
    const js = K.map((_, j) => j).filter((j) => j <= i && kc[j] === qc[i]);
    if (!js.length) return V[0].map(() => 0);
    const s = js.map((j) => qi.reduce((a, x, c) => a + x * K[j][c], 0) / Math.sqrt(d));
    const top = Math.max(...s);
    const e = s.map((x) => Math.exp(x - top));
    const z = e.reduce((a, b) => a + b, 0);
    return V[0].map((_, c) => js.reduce((a, j, t) => a + (e[t] / z) * V[j][c], 0));
  });`),
  ),
  correct(
    "08",
    "randomLinks",
    "rejection",
    links(`  const r = rng(seed);
  const n = Math.min(perRow, T);
  return Array.from({ length: T }, () => {
    const chosen = new Set<number>();
    while (chosen.size < n) chosen.add(r.int(T));
    return [...chosen];
  });`),
  ),
];

// ---------------------------------------------------------------- lesson 09

const choose09 = (body: string) =>
  `function chooseKernel(
  kernels: string[],
  accuracies: number[][],
  ms: number[],
  mib: number[],
  maxMs: number,
  maxMiB: number,
): string | null {\n${body}\n}`;
/** A chooseKernel that filters with `fits`, scores with `score` and breaks ties with `tie`. */
const chooseWith = (
  { fits = "ms[i] <= maxMs && mib[i] <= maxMiB", score = "mean(accuracies[i])", tie = "ms[a] - ms[b]" } = {},
) =>
  choose09(`  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  let best: number | null = null;
  for (let i = 0; i < kernels.length; i++) {
    if (!(${fits})) continue;
    if (best === null) { best = i; continue; }
    const a = i, b = best;
    const sa = ((i: number) => ${score})(a), sb = ((i: number) => ${score})(b);
    if (sa > sb || (sa === sb && (${tie}) < 0)) best = i;
  }
  return best === null ? null : kernels[best];`);
const reach09 = (body: string) =>
  `function reachAccuracy(T: number, block: number, window: number, layers: number, values: number): number {\n${body}\n}`;
const entropy09 = (body: string) => `function linearEntropy(n: number, r: number): number {\n${body}\n}`;
const listops09 = (body: string) => `function evaluateListOps(tokens: string[]): number {\n${body}\n}`;
/** A recursive ListOps evaluator with the MED and SM rules swapped in. */
const listopsWith = (
  { med = "s.length % 2 ? s[m] : Math.floor((s[m - 1] + s[m]) / 2)", sm = "a.reduce((x, y) => x + y, 0) % 10" } = {},
) =>
  listops09(`  let at = 0;
  const value = (): number => {
    const t = tokens[at++];
    if (!t.startsWith("[")) return Number(t);
    const a: number[] = [];
    while (tokens[at] !== "]") a.push(value());
    at++; // the "]"
    const s = [...a].sort((x, y) => x - y), m = Math.floor(s.length / 2);
    switch (t) {
      case "[MIN": return Math.min(...a);
      case "[MAX": return Math.max(...a);
      case "[SM": return ${sm};
      default: return ${med};
    }
  };
  return value();`);
const crossover09 = (body: string) =>
  `function crossoverLength(alpha: number, beta: number, gamma: number): number {\n${body}\n}`;

export const LESSON09: Planted[] = [
  bug(
    "09",
    "chooseKernel",
    "best-seed",
    "you ranked the kernels by their best seed",
    chooseWith({ score: "Math.max(...accuracies[i])" }),
  ),
  bug(
    "09",
    "chooseKernel",
    "no-memory",
    "you chose a kernel over the memory budget",
    chooseWith({ fits: "ms[i] <= maxMs" }),
  ),
  bug(
    "09",
    "chooseKernel",
    "no-latency",
    "you chose a kernel over the latency budget",
    chooseWith({ fits: "mib[i] <= maxMiB" }),
  ),
  bug(
    "09",
    "chooseKernel",
    "fastest",
    "you chose the fastest kernel within the budgets",
    chooseWith({ score: "-ms[i]" }),
  ),
  bug(
    "09",
    "chooseKernel",
    "first-seed",
    "you ranked the kernels by one seed (the first)",
    chooseWith({ score: "accuracies[i][0]" }),
  ),
  correct(
    "09",
    "chooseKernel",
    "sort",
    choose09(`  const avg = accuracies.map((a) => a.reduce((s, x) => s + x) / a.length);
  const order = kernels.map((k, i) => ({ k, i })).filter(({ i }) => ms[i] <= maxMs && mib[i] <= maxMiB)
    .sort((x, y) => avg[y.i] - avg[x.i] || ms[x.i] - ms[y.i]);
  return order[0]?.k ?? null;`),
  ),
  bug(
    "09",
    "reachAccuracy",
    "no-guess",
    "you returned only the share of positions the query sees",
    reach09(`  const q = Math.floor((T - 1) / block), first = Math.max(0, q - layers * window);
  let seen = 0;
  for (let j = 0; j < T - 1; j++) if (Math.floor(j / block) >= first) seen++;
  return seen / (T - 1);`),
  ),
  bug(
    "09",
    "reachAccuracy",
    "one-layer",
    "you let the window reach as far in L layers as in one",
    reach09(`  const q = Math.floor((T - 1) / block), first = Math.max(0, q - window);
  let seen = 0;
  for (let j = 0; j < T - 1; j++) if (Math.floor(j / block) >= first) seen++;
  const p = seen / (T - 1);
  return p + (1 - p) / values;`),
  ),
  bug(
    "09",
    "reachAccuracy",
    "counts-query",
    "you counted the QUERY position as a place the mark could be",
    reach09(`  const q = Math.floor((T - 1) / block), first = Math.max(0, q - layers * window);
  let seen = 0;
  for (let j = 0; j < T; j++) if (Math.floor(j / block) >= first) seen++;
  const p = seen / T;
  return p + (1 - p) / values;`),
  ),
  bug(
    "09",
    "reachAccuracy",
    "tokens",
    "you read the window as a radius in tokens",
    reach09(`  let seen = 0;
  for (let j = 0; j < T - 1; j++) if (T - 1 - j <= layers * window) seen++;
  const p = seen / (T - 1);
  return p + (1 - p) / values;`),
  ),
  correct(
    "09",
    "reachAccuracy",
    "closed-form",
    reach09(`  const q = Math.floor((T - 1) / block);
  const first = Math.max(0, q - layers * window) * block; // first position reached
  const p = (T - 1 - first) / (T - 1);
  return p + (1 - p) / values;`),
  ),
  bug(
    "09",
    "linearEntropy",
    "bits",
    "you measured the entropy in bits",
    entropy09(`  const w = r / (r + n - 1), o = 1 / (r + n - 1);
  return -(w * Math.log2(w) + (n - 1) * o * Math.log2(o));`),
  ),
  bug(
    "09",
    "linearEntropy",
    "softmax",
    "you turned the ratio r into softmax weights",
    entropy09(`  const z = Math.exp(r) + n - 1, w = Math.exp(r) / z, o = 1 / z;
  return -(w * Math.log(w) + (n - 1) * o * Math.log(o));`),
  ),
  bug(
    "09",
    "linearEntropy",
    "others-only",
    "you summed −w·ln w over the n − 1 other keys only",
    entropy09(`  const o = 1 / (r + n - 1);
  return -(n - 1) * o * Math.log(o);`),
  ),
  correct(
    "09",
    "linearEntropy",
    "loop",
    entropy09(`  const weights = Array.from({ length: n }, (_, j) => (j === 0 ? r : 1) / (r + n - 1));
  return weights.reduce((h, w) => h - (w > 0 ? w * Math.log(w) : 0), 0);`),
  ),
  bug(
    "09",
    "evaluateListOps",
    "med-round",
    "you rounded the median of an even count to the nearest integer",
    listopsWith({ med: "s.length % 2 ? s[m] : Math.round((s[m - 1] + s[m]) / 2)" }),
  ),
  bug(
    "09",
    "evaluateListOps",
    "med-unsorted",
    "you took the middle of the arguments as written",
    listopsWith({ med: "a.length % 2 ? a[m] : Math.floor((a[m - 1] + a[m]) / 2)" }),
  ),
  bug(
    "09",
    "evaluateListOps",
    "sm-no-mod",
    "you returned the plain sum for SM",
    listopsWith({ sm: "a.reduce((x, y) => x + y, 0)" }),
  ),
  bug(
    "09",
    "evaluateListOps",
    "med-mean",
    "you took the mean of all the arguments for MED",
    listopsWith({ med: "Math.floor(a.reduce((x, y) => x + y, 0) / a.length)" }),
  ),
  correct("09", "evaluateListOps", "recursive", listopsWith()),
  bug("09", "crossoverLength", "always", "you answered T = 1", crossover09("  return 1;")),
  bug(
    "09",
    "crossoverLength",
    "no-beta",
    "you dropped dense attention's linear term",
    crossover09("  return Math.max(1, Math.floor(gamma / alpha) + 1);"),
  ),
  bug(
    "09",
    "crossoverLength",
    "not-strict",
    "you returned the length where both cost the same",
    crossover09("  return gamma < beta ? 1 : Math.max(1, Math.ceil((gamma - beta) / alpha));"),
  ),
  correct(
    "09",
    "crossoverLength",
    "search",
    crossover09("  let T = 1;\n  while (!(gamma * T < alpha * T * T + beta * T)) T++;\n  return T;"),
  ),
];
