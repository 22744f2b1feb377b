/**
 * The planted set of issue 10: realistic student mistakes in the exercises of lessons 01–04 (here) and 05–09
 * (planted_late.ts), each with the cause its check should name, and correct solutions written differently from
 * the reference (chained tensor methods, tf.einsum, loops, other reshapes), as the function declarations a
 * student would type into the exercise notebook (lesson 09 too, in planted_late.ts). tools/cases/planted_test.ts runs every entry through the
 * notebook's checks and through the grader. `deno run -A tools/cases/planted.ts [lesson …]` prints the tally of
 * the notebook's checks, one line per entry.
 * @module
 */
import { join } from "node:path";
import { type CheckResult, runCheck } from "../../lib/check/core.ts";
import { exercisesByLesson } from "../../lib/check/mod.ts";
import { extractSubmission } from "../grading/program.ts";
import { type Notebook, readNotebook, sourceOf, toSourceLines, writeNotebook } from "../notebook.ts";
import { ROOT } from "../setup.ts";
import { bug, correct, type Planted } from "./_planted.ts";
import { LESSON05, LESSON06, LESSON07, LESSON08, LESSON09 } from "./planted_late.ts";

export type { Planted } from "./_planted.ts";

// ---------------------------------------------------------------- lesson 01

const dense = (body: string) => `function denseParamCount(T: number, d: number): number {\n${body}\n}`;
const heads = (body: string) => `function multiHeadParamCount(d: number, heads: number): number {\n${body}\n}`;
const causal = (body: string) => `function causalAttentionFlops(T: number, d: number): number {\n${body}\n}`;
const effective = (body: string) =>
  `function effectiveWeights(A: tf.Tensor2D, Wv: tf.Tensor2D): tf.Tensor2D {\n${body}\n}`;
const weights = (body: string) =>
  `function attentionWeights(Q: tf.Tensor2D, K: tf.Tensor2D, causal: boolean): tf.Tensor2D {\n${body}\n}`;
/** An attention-weights body with its scores line and mask swapped in. */
const weightsWith = (
  scores: string,
  masked = "tf.where(keep, s, tf.fill([T, T], -Infinity))",
  softmax = "tf.softmax(x)",
) =>
  weights(`  const [T, d] = Q.shape;
  return tf.tidy(() => {
    const s = ${scores};
    const keep = tf.cast(tf.linalg.bandPart(tf.ones([T, T]), -1, 0), "bool");
    const x = causal ? ${masked} : s;
    return ${softmax} as tf.Tensor2D;
  });`);
const SCORES = "tf.div(tf.matMul(Q, tf.transpose(K)), Math.sqrt(d))";

const LESSON01: Planted[] = [
  bug("01", "denseParamCount", "no-biases", "no biases", dense("  return (T * d) ** 2;")),
  bug("01", "denseParamCount", "per-token", "a d×d layer per token", dense("  return T * d * d + T * d;")),
  bug("01", "denseParamCount", "bias-per-token", "one bias per token", dense("  return (T * d) ** 2 + T;")),
  bug(
    "01",
    "multiHeadParamCount",
    "every-head-full",
    "every head full d×d",
    heads(`  if (d % heads !== 0) throw new RangeError("heads must divide d");
  return heads * 4 * d * d; // W_Q, W_K, W_V, W_O for every head`),
  ),
  bug(
    "01",
    "multiHeadParamCount",
    "no-output",
    "left out the output map W_O",
    heads(`  if (d % heads !== 0) throw new RangeError("heads must divide d");
  return heads * 3 * d * (d / heads);`),
  ),
  bug(
    "01",
    "multiHeadParamCount",
    "no-range-error",
    "throw a RangeError",
    heads("  return heads * 3 * d * (d / heads) + d * d;"),
  ),
  bug(
    "01",
    "multiHeadParamCount",
    "plain-error",
    "a RangeError says",
    heads(`  if (d % heads !== 0) throw new Error("heads must divide d");
  return 4 * d * d;`),
  ),
  bug("01", "causalAttentionFlops", "non-causal", "all T² pairs", causal("  return 8 * T * d * d + 4 * T * T * d;")),
  bug(
    "01",
    "causalAttentionFlops",
    "half-square",
    "T²/2 pairs",
    causal("  return 8 * T * d * d + 2 * 2 * d * (T * T / 2);"),
  ),
  bug(
    "01",
    "causalAttentionFlops",
    "three-projections",
    "three projections",
    causal(`  const pairs = T * (T + 1) / 2;
  return 3 * 2 * T * d * d + 4 * d * pairs;`),
  ),
  bug(
    "01",
    "causalAttentionFlops",
    "no-diagonal",
    "left out the diagonal",
    causal(`  const pairs = T * (T - 1) / 2;
  return 8 * T * d * d + 4 * d * pairs;`),
  ),
  bug(
    "01",
    "causalAttentionFlops",
    "2d-per-pair",
    "QKᵀ alone at 2 FLOPs per multiply–add, or QKᵀ and A·V at 1 each",
    causal("  return 8 * T * d * d + T * (T + 1) * d;"),
  ),
  bug(
    "01",
    "effectiveWeights",
    "wv-untransposed",
    "you used W_V[c, a]",
    effective(`  const [T, d] = [A.shape[0], Wv.shape[0]];
  return tf.tidy(() => tf.reshape(tf.mul(tf.reshape(A, [T, 1, T, 1]), tf.reshape(Wv, [1, d, 1, d])), [T * d, T * d]) as tf.Tensor2D);`),
  ),
  bug(
    "01",
    "effectiveWeights",
    "kron-swapped",
    "flattened feature-major",
    effective(`  const [T, d] = [A.shape[0], Wv.shape[0]];
  return tf.tidy(() => tf.reshape(tf.mul(tf.reshape(tf.transpose(Wv), [d, 1, d, 1]), tf.reshape(A, [1, T, 1, T])), [T * d, T * d]) as tf.Tensor2D);`),
  ),
  bug(
    "01",
    "effectiveWeights",
    "a-transposed",
    "you used A[j, i]",
    effective(`  const [T, d] = [A.shape[0], Wv.shape[0]];
  return tf.tidy(() => tf.reshape(tf.mul(tf.reshape(tf.transpose(A), [T, 1, T, 1]), tf.reshape(tf.transpose(Wv), [1, d, 1, d])), [T * d, T * d]) as tf.Tensor2D);`),
  ),
  bug(
    "01",
    "attentionWeights",
    "no-scale",
    "you did not scale the scores",
    weightsWith("tf.matMul(Q, tf.transpose(K))"),
  ),
  bug(
    "01",
    "attentionWeights",
    "divide-by-d",
    "divided the scores by d = 5",
    weightsWith("tf.div(tf.matMul(Q, tf.transpose(K)), d)"),
  ),
  bug(
    "01",
    "attentionWeights",
    "divide-by-sqrt-T",
    "divided the scores by √T",
    weightsWith("tf.div(tf.matMul(Q, tf.transpose(K)), Math.sqrt(T))"),
  ),
  bug(
    "01",
    "attentionWeights",
    "keys-untransposed",
    "you multiplied Q·K",
    weightsWith("tf.div(tf.matMul(Q, K), Math.sqrt(d))"),
  ),
  bug(
    "01",
    "attentionWeights",
    "softmax-axis-0",
    "softmax along axis 0",
    weightsWith(SCORES, undefined, "tf.softmax(x, 0)"),
  ),
  bug(
    "01",
    "attentionWeights",
    "mask-after",
    "after the softmax",
    weightsWith(SCORES, "s", "causal ? tf.mul(tf.softmax(x), tf.cast(keep, 'float32')) : tf.softmax(x)"),
  ),
  bug(
    "01",
    "attentionWeights",
    "upper-triangle",
    "you kept the keys after each query",
    weightsWith(
      SCORES,
      "tf.where(tf.cast(tf.linalg.bandPart(tf.ones([T, T]), 0, -1), 'bool'), s, tf.fill([T, T], -Infinity))",
    ),
  ),
  bug(
    "01",
    "attentionWeights",
    "mask-times-infinity",
    "0/1 mask by −Infinity",
    weightsWith(
      SCORES,
      "tf.add(s, tf.mul(tf.sub(1, tf.cast(keep, 'float32')), -Infinity))",
    ),
  ),
  bug(
    "01",
    "attentionWeights",
    "diagonal-masked",
    "you masked the diagonal too",
    weightsWith(
      SCORES,
      "tf.where(tf.cast(tf.linalg.bandPart(tf.ones([T, T]), -1, 0).sub(tf.eye(T)), 'bool'), s, tf.fill([T, T], -Infinity))",
    ),
  ),
  correct("01", "denseParamCount", "bigint", dense("  return Number((BigInt(T) * BigInt(d)) ** 2n + BigInt(T * d));")),
  correct(
    "01",
    "multiHeadParamCount",
    "loop-over-heads",
    heads(`  if (d % heads !== 0) throw new RangeError("heads must divide d");
  let total = 0;
  for (let h = 0; h < heads; h++) total += 3 * d * (d / heads); // W_Q, W_K, W_V of head h
  return total + d * d; // W_O`),
  ),
  correct(
    "01",
    "causalAttentionFlops",
    "bigint-loop",
    causal(`  let pairs = 0n;
  for (let i = 1; i <= T; i++) pairs += BigInt(i);
  return Number(8n * BigInt(T) * BigInt(d) ** 2n + 4n * BigInt(d) * pairs);`),
  ),
  correct(
    "01",
    "effectiveWeights",
    "einsum-chained",
    effective(`  const [T, d] = [A.shape[0], Wv.shape[0]];
  return tf.tidy(() => tf.einsum("ij,ac->icja", A, Wv).reshape([T * d, T * d]) as tf.Tensor2D);`),
  ),
  correct(
    "01",
    "attentionWeights",
    "chained-methods",
    weights(`  const [T, d] = Q.shape;
  return tf.tidy(() => {
    let s = Q.matMul(K.transpose()).div(Math.sqrt(d));
    if (causal) s = s.add(tf.linalg.bandPart(tf.ones([T, T]), 0, -1).sub(tf.eye(T)).mul(-1e9));
    return s.softmax() as tf.Tensor2D;
  });`),
  ),
  correct(
    "01",
    "attentionWeights",
    "plain-loops",
    weights(`  const [q, k] = [Q.arraySync(), K.arraySync()];
  const d = q[0].length;
  return tf.tensor2d(q.map((qi, i) => {
    const s = k.map((kj, j) => (causal && j > i ? -Infinity : qi.reduce((a, x, c) => a + x * kj[c], 0) / Math.sqrt(d)));
    const top = Math.max(...s);
    const e = s.map((x) => Math.exp(x - top));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / z);
  }));`),
  ),
  bug(
    "01",
    "attentionWeights",
    "mask-with-zero",
    "you put 0 at the masked scores",
    weightsWith(SCORES, "tf.where(keep, s, tf.zerosLike(s))"),
  ),
  bug(
    "01",
    "denseParamCount",
    "bias-per-feature",
    "one bias per feature",
    dense("  return (T * d) ** 2 + d;"),
  ),
];

// ---------------------------------------------------------------- lesson 02

const qkv = (body: string) =>
  `function qkvOfToken(h: number[], Wq: number[][], Wk: number[][], Wv: number[][]): number[][] {\n${body}\n}`;
const rowQ = (body: string) => `function rowQueries(X: tf.Tensor2D, Wq: tf.Tensor2D): tf.Tensor2D {\n${body}\n}`;
const colS = (body: string) => `function columnScores(Q: tf.Tensor2D, K: tf.Tensor2D): tf.Tensor2D {\n${body}\n}`;
const selfA = (body: string) =>
  `function selfAttention(Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D): tf.Tensor2D {\n${body}\n}`;
const selfWith = (line: string) =>
  selfA(`  const dk = Q.shape[1];
  return tf.tidy(() => {
${line}
  });`);
const strongest = (body: string) =>
  `function strongestKeys(Q: tf.Tensor2D, K: tf.Tensor2D, tokens: string[]): string[] {\n${body}\n}`;

const LESSON02: Planted[] = [
  bug(
    "02",
    "qkvOfToken",
    "transposed-w",
    "one per column of W_Q",
    qkv(`  const project = (W: number[][]) => W[0].map((_, c) => W.reduce((s, row, r) => s + row[c] * (h[r] ?? 0), 0));
  return [project(Wq), project(Wk), project(Wv)];`),
  ),
  bug(
    "02",
    "qkvOfToken",
    "copy-paste",
    "you computed k with W_Q",
    qkv(`  const project = (W: number[][]) => W.map((row) => row.reduce((s, w, c) => s + w * h[c], 0));
  return [project(Wq), project(Wq), project(Wv)];`),
  ),
  bug(
    "02",
    "qkvOfToken",
    "object",
    "you returned an object",
    qkv(`  const project = (W: number[][]) => W.map((row) => row.reduce((s, w, c) => s + w * h[c], 0));
  return { q: project(Wq), k: project(Wk), v: project(Wv) } as unknown as number[][];`),
  ),
  bug("02", "rowQueries", "no-transpose", "you multiplied X·W_Q", rowQ("  return tf.matMul(X, Wq);")),
  bug("02", "rowQueries", "column-convention", "column convention", rowQ("  return tf.matMul(Wq, tf.transpose(X));")),
  bug(
    "02",
    "columnScores",
    "row-formula",
    "the row convention's formula",
    colS("  return tf.div(tf.matMul(Q, tf.transpose(K)), Math.sqrt(Q.shape[0]));"),
  ),
  bug(
    "02",
    "columnScores",
    "no-scale",
    "you did not scale the scores",
    colS("  return tf.matMul(tf.transpose(Q), K);"),
  ),
  bug(
    "02",
    "columnScores",
    "divide-by-dk",
    "divided the scores by d_k = 3",
    colS("  return tf.div(tf.matMul(tf.transpose(Q), K), Q.shape[0]);"),
  ),
  bug(
    "02",
    "columnScores",
    "k-transpose-q",
    "you computed KᵀQ",
    colS("  return tf.div(tf.matMul(tf.transpose(K), Q), Math.sqrt(Q.shape[0]));"),
  ),
  bug(
    "02",
    "selfAttention",
    "returns-weights",
    "you returned the weights α",
    selfWith("    return tf.softmax(tf.div(tf.matMul(Q, tf.transpose(K)), Math.sqrt(dk)));"),
  ),
  bug(
    "02",
    "selfAttention",
    "mixes-keys",
    "you mixed the keys",
    selfWith("    return tf.matMul(tf.softmax(tf.div(tf.matMul(Q, tf.transpose(K)), Math.sqrt(dk))), K);"),
  ),
  bug(
    "02",
    "selfAttention",
    "softmax-axis-0",
    "softmax along axis 0",
    selfWith("    return tf.matMul(tf.softmax(tf.div(tf.matMul(Q, tf.transpose(K)), Math.sqrt(dk)), 0), V);"),
  ),
  bug(
    "02",
    "selfAttention",
    "divide-by-sqrt-dv",
    "√d_v",
    selfWith("    return tf.matMul(tf.softmax(tf.div(tf.matMul(Q, tf.transpose(K)), Math.sqrt(V.shape[1]))), V);"),
  ),
  bug(
    "02",
    "selfAttention",
    "weights-transposed",
    "αᵀ·V",
    selfWith(
      "    return tf.matMul(tf.transpose(tf.softmax(tf.div(tf.matMul(Q, tf.transpose(K)), Math.sqrt(dk)))), V);",
    ),
  ),
  bug(
    "02",
    "selfAttention",
    "keys-untransposed",
    "you multiplied Q·K",
    selfWith("    return tf.matMul(tf.softmax(tf.div(tf.matMul(Q, K), Math.sqrt(dk))), V);"),
  ),
  bug(
    "02",
    "selfAttention",
    "scale-after-softmax",
    "you divided by √d_k = 1.73205 after the softmax",
    selfWith("    return tf.matMul(tf.div(tf.softmax(tf.matMul(Q, tf.transpose(K))), Math.sqrt(dk)), V);"),
  ),
  bug(
    "02",
    "strongestKeys",
    "string-indices",
    "you returned the indices j as strings",
    strongest(`  const best = tf.tidy(() => tf.argMax(tf.matMul(Q, tf.transpose(K)), 1));
  return (best.arraySync() as number[]).map((j) => String(j));`),
  ),
  bug(
    "02",
    "strongestKeys",
    "column-argmax",
    "largest entry of each column",
    strongest(`  const best = tf.tidy(() => tf.argMax(tf.matMul(Q, tf.transpose(K)), 0));
  return (best.arraySync() as number[]).map((j) => tokens[j]);`),
  ),
  bug(
    "02",
    "strongestKeys",
    "indices",
    "you returned the indices",
    strongest(
      `  return tf.tidy(() => tf.argMax(tf.matMul(Q, tf.transpose(K)), 1)).arraySync() as unknown as string[];`,
    ),
  ),
  bug(
    "02",
    "strongestKeys",
    "argmin",
    "smallest weight",
    strongest(`  const best = tf.tidy(() => tf.argMin(tf.matMul(Q, tf.transpose(K)), 1));
  return (best.arraySync() as number[]).map((j) => tokens[j]);`),
  ),
  correct("02", "rowQueries", "transpose-b", rowQ("  return tf.matMul(X, Wq, false, true);")),
  correct(
    "02",
    "qkvOfToken",
    "tensors",
    qkv(`  return tf.tidy(() => {
    const x = tf.tensor2d(h, [h.length, 1]);
    return [Wq, Wk, Wv].map((W) => Array.from(tf.tensor2d(W).matMul(x).dataSync()));
  });`),
  ),
  correct("02", "columnScores", "chained", colS("  return Q.transpose().matMul(K).div(Math.sqrt(Q.shape[0]));")),
  correct(
    "02",
    "selfAttention",
    "einsum",
    selfA(`  return tf.tidy(() => {
    const alpha = tf.einsum("ik,jk->ij", Q, K).div(Math.sqrt(Q.shape[1])).softmax();
    return tf.einsum("ij,jv->iv", alpha, V) as tf.Tensor2D;
  });`),
  ),
  correct(
    "02",
    "strongestKeys",
    "loops",
    strongest(`  const [q, k] = [Q.arraySync(), K.arraySync()];
  return q.map((qi) => {
    const s = k.map((kj) => qi.reduce((a, x, c) => a + x * kj[c], 0));
    return tokens[s.indexOf(Math.max(...s))];
  });`),
  ),
  bug(
    "02",
    "rowQueries",
    "weights-first",
    "you multiplied W_Q·X",
    rowQ("  return tf.matMul(Wq, X);"),
  ),
];

// ---------------------------------------------------------------- lesson 03

const mask = (body: string) => `function causalMask(T: number, S: number): tf.Tensor2D {\n${body}\n}`;
const maskRule = (keep: string, drop = "-Infinity", guard = true) =>
  mask(
    `${
      guard ? '  if (T > S) throw new RangeError("T must not exceed S");\n' : ""
    }  return tf.tensor2d(Array.from({ length: T }, (_, i) => Array.from({ length: S }, (_, j) => (${keep} ? 0 : ${drop}))), [T, S]);`,
  );
const ctx = (body: string) =>
  `function maxContext(budgetBytes: number, heads: number, bytesPerElement: number): number {\n${body}\n}`;
const step = (body: string) =>
  `function decodeStep(x: tf.Tensor2D, cache: tf.Tensor2D[], W: tf.Tensor2D[]): tf.Tensor2D[] {\n${body}\n}`;
const stepWith = (grow: string, attend: string, out = "[y, K2, V2]") =>
  step(`  const [K, V] = cache;
  const [Wq, Wk, Wv] = W;
  return tf.tidy(() => {
${grow}
${attend}
    return ${out} as tf.Tensor2D[];
  });`);
const GROW = `    const K2 = tf.concat([K, tf.matMul(x, Wk)], 0);
    const V2 = tf.concat([V, tf.matMul(x, Wv)], 0);`;
const ATTEND = "    const y = attention(tf.matMul(x, Wq), K2, V2).output;";
const flops = (body: string) =>
  `function generationFlops(P: number, N: number, d: number, cached: boolean): bigint {\n${body}\n}`;
const flopsWithSum = (sum: string) =>
  flops(`  const [p, n, dd] = [BigInt(P), BigInt(N), BigInt(d)];
  const keysSeen = ${sum};
  const attend = 4n * dd * keysSeen;
  if (cached) return n * 6n * dd * dd + attend;
  return n * 2n * dd * dd + 4n * dd * dd * keysSeen + attend;`);

const LESSON03: Planted[] = [
  bug("03", "causalMask", "first-keys", "aligned the mask to the first keys", maskRule("j <= i")),
  bug("03", "causalMask", "minus-1e9", "large finite number", maskRule("j <= S - T + i", "-1e9")),
  bug(
    "03",
    "causalMask",
    "band-part",
    "a 0/1 flag mask",
    mask(`  if (T > S) throw new RangeError("T must not exceed S");
  return tf.linalg.bandPart(tf.ones([S, S]), -1, 0).slice([S - T, 0], [T, S]) as tf.Tensor2D;`),
  ),
  bug(
    "03",
    "causalMask",
    "times-infinity",
    "0·(−∞) is NaN",
    mask(`  if (T > S) throw new RangeError("T must not exceed S");
  const visible = tf.linalg.bandPart(tf.ones([S, S]), -1, 0).slice([S - T, 0], [T, S]);
  return tf.mul(tf.sub(1, visible), -Infinity) as tf.Tensor2D;`),
  ),
  bug(
    "03",
    "causalMask",
    "no-range-error",
    "you returned a mask for T > S",
    maskRule("j <= S - T + i", "-Infinity", false),
  ),
  bug(
    "03",
    "maxContext",
    "elements",
    "entries, not bytes",
    ctx("  return Math.floor(Math.sqrt(budgetBytes / heads));"),
  ),
  bug(
    "03",
    "maxContext",
    "ceil",
    "you rounded up",
    ctx("  return Math.ceil(Math.sqrt(budgetBytes / (heads * bytesPerElement)));"),
  ),
  bug(
    "03",
    "maxContext",
    "heads-ignored",
    "every head stores its own",
    ctx("  return Math.floor(Math.sqrt(budgetBytes / bytesPerElement));"),
  ),
  bug(
    "03",
    "decodeStep",
    "axis-1",
    "concatenated along axis 1",
    stepWith(
      `    const K2 = tf.concat([K, tf.matMul(x, Wk)], 1);
    const V2 = tf.concat([V, tf.matMul(x, Wv)], 1);`,
      ATTEND,
    ),
  ),
  bug(
    "03",
    "decodeStep",
    "attend-before-append",
    "attended over the old cache only",
    stepWith(
      GROW,
      "    const y = K.shape[0] ? attention(tf.matMul(x, Wq), K, V).output : tf.zerosLike(x);",
    ),
  ),
  bug(
    "03",
    "decodeStep",
    "returns-weights",
    "the attention weights as y",
    stepWith(GROW, "    const y = attention(tf.matMul(x, Wq), K2, V2).weights;"),
  ),
  bug(
    "03",
    "decodeStep",
    "caches-x",
    "embedding x",
    stepWith(
      `    const K2 = tf.concat([K, x], 0);
    const V2 = tf.concat([V, x], 0);`,
      ATTEND,
    ),
  ),
  bug("03", "decodeStep", "swapped", "values in K'", stepWith(GROW, ATTEND, "[y, V2, K2]")),
  bug(
    "03",
    "decodeStep",
    "all-outputs",
    "an output for every token",
    stepWith(
      GROW,
      "    const y = attention(tf.matMul(tf.concat([K, x], 0), Wq), K2, V2, { causal: true }).output;",
    ),
  ),
  bug(
    "03",
    "generationFlops",
    "float-then-bigint",
    "floating point",
    flops(`  const keysSeen = N * P + N * (N + 1) / 2;
  const attend = 4 * d * keysSeen;
  if (cached) return BigInt(N * 6 * d * d + attend);
  return BigInt(N * 2 * d * d + 4 * d * d * keysSeen + attend);`),
  ),
  bug(
    "03",
    "generationFlops",
    "number",
    "beyond 2^53",
    flops(`  const keysSeen = N * P + N * (N + 1) / 2;
  const attend = 4 * d * keysSeen;
  if (cached) return (N * 6 * d * d + attend) as unknown as bigint;
  return (N * 2 * d * d + 4 * d * d * keysSeen + attend) as unknown as bigint;`),
  ),
  bug("03", "generationFlops", "square-sum", "N·P + N²", flopsWithSum("n * p + n * n")),
  bug("03", "generationFlops", "off-by-one", "from 0 to N − 1", flopsWithSum("n * p + n * (n - 1n) / 2n")),
  bug(
    "03",
    "generationFlops",
    "prefill",
    "prompt's keys and values",
    flops(`  const [p, n, dd] = [BigInt(P), BigInt(N), BigInt(d)];
  const keysSeen = n * p + n * (n + 1n) / 2n;
  const attend = 4n * dd * keysSeen;
  if (cached) return 4n * p * dd * dd + n * 6n * dd * dd + attend;
  return n * 2n * dd * dd + 4n * dd * dd * keysSeen + attend;`),
  ),
  correct(
    "03",
    "causalMask",
    "arrays",
    mask(`  if (T > S) throw new RangeError("T must not exceed S");
  const rows: number[][] = [];
  for (let i = 0; i < T; i++) {
    rows.push([]);
    for (let j = 0; j < S; j++) rows[i].push(j - i > S - T ? -Infinity : 0);
  }
  return rows as unknown as tf.Tensor2D;`),
  ),
  correct(
    "03",
    "generationFlops",
    "step-loop",
    flops(`  const dd = BigInt(d);
  let total = 0n;
  for (let t = 1; t <= N; t++) {
    const keys = BigInt(P + t); // the prompt and every token so far, this one included
    const projections = cached ? 6n * dd * dd : 2n * dd * dd + 4n * dd * dd * keys;
    total += projections + 4n * dd * keys;
  }
  return total;`),
  ),
  correct(
    "03",
    "maxContext",
    "bigint-search",
    ctx(`  let T = 0n;
  while ((T + 1n) ** 2n * BigInt(heads * bytesPerElement) <= BigInt(budgetBytes)) T++;
  return Number(T);`),
  ),
  correct(
    "03",
    "decodeStep",
    "chained-einsum",
    step(`  const [K, V] = cache;
  const [Wq, Wk, Wv] = W;
  return tf.tidy(() => {
    const K2 = K.concat(x.matMul(Wk)), V2 = V.concat(x.matMul(Wv));
    const weights = tf.einsum("qd,kd->qk", x.matMul(Wq), K2).div(Math.sqrt(x.shape[1])).softmax();
    return [tf.einsum("qk,kd->qd", weights, V2), K2, V2] as tf.Tensor2D[];
  });`),
  ),
  bug(
    "03",
    "maxContext",
    "no-sqrt",
    "you let memory grow like T",
    ctx("  return Math.floor(budgetBytes / (heads * bytesPerElement));"),
  ),
  bug(
    "03",
    "maxContext",
    "round",
    "or to the nearest",
    ctx("  return Math.round(Math.sqrt(budgetBytes / (heads * bytesPerElement)));"),
  ),
];

// ---------------------------------------------------------------- lesson 04

const std = (body: string) => `function dotProductStd(d: number, sigmaQ: number, sigmaK: number): number {\n${body}\n}`;
const softmaxBody = (
  opts: { guard?: boolean; zero?: boolean; shift?: boolean; multiply?: boolean; mutate?: boolean; ties?: boolean } = {},
) => {
  const o = { guard: true, zero: true, shift: true, multiply: false, mutate: false, ties: true, ...opts };
  return `function softmaxWithTemperature(logits: number[], tau: number): number[] {
${
    o.guard
      ? "  if (!(tau >= 0)) throw new RangeError(`tau must be >= 0, got ${tau}`);\n"
      : ""
  }  const top = Math.max(...logits);
${
    o.zero
      ? o.ties
        ? "  if (tau === 0) {\n    const winners = logits.filter((z) => z === top).length;\n    return logits.map((z) => (z === top ? 1 / winners : 0));\n  }\n"
        : "  if (tau === 0) return logits.map((_, i) => (i === logits.indexOf(top) ? 1 : 0));\n"
      : ""
  }${
    o.mutate ? "  for (let i = 0; i < logits.length; i++) logits[i] -= top;\n" : ""
  }  const e = logits.map((z) => Math.exp(${
    o.multiply ? "(z - top) * tau" : o.shift && !o.mutate ? "(z - top) / tau" : "z / tau"
  }));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / total);
}`;
};
const entropyFn = (body: string) => `function rowEntropy(weights: number[]): number {\n${body}\n}`;
const jac = (body: string) => `function softmaxJacobian(y: number[]): number[][] {\n${body}\n}`;
/** The largest weight computed directly (so a planted mistake here does not depend on exercise 2). */
const DIRECT = "(tau: number) => 1 / logits.reduce((s, z) => s + Math.exp((z - Math.max(...logits)) / tau), 0)";
/** The largest weight through the student's exercise 2. */
const VIA_EX2 = "(tau: number) => Math.max(...softmaxWithTemperature(logits, tau))";
const temp = (lo: string, hi: string, steps = 100, largest = DIRECT, space: "log" | "linear" = "log") =>
  `function temperatureForMaxWeight(logits: number[], maxWeight: number): number {
  const n = logits.length;
  if (!(maxWeight > 1 / n && maxWeight < 1)) throw new RangeError("unreachable target");
  const largest = ${largest};
  let [lo, hi] = [${lo}, ${hi}];
  for (let step = 0; step < ${steps}; step++) {
    const mid = (lo + hi) / 2;
    if (largest(${space === "log" ? "Math.exp(mid)" : "mid"}) > maxWeight) lo = mid;
    else hi = mid;
  }
  return ${space === "log" ? "Math.exp((lo + hi) / 2)" : "(lo + hi) / 2"};
}`;

const LESSON04: Planted[] = [
  bug("04", "dotProductStd", "variance", "you returned the variance", std("  return d * (sigmaQ * sigmaK) ** 2;")),
  bug("04", "dotProductStd", "no-sqrt", "you multiplied by d", std("  return d * sigmaQ * sigmaK;")),
  bug(
    "04",
    "dotProductStd",
    "root-of-all",
    "you took the square root of d·σ_q·σ_k",
    std("  return Math.sqrt(d * sigmaQ * sigmaK);"),
  ),
  bug("04", "softmaxWithTemperature", "no-max", "overflows to Infinity", softmaxBody({ shift: false })),
  bug("04", "softmaxWithTemperature", "multiply", "you multiplied the logits by τ", softmaxBody({ multiply: true })),
  bug("04", "softmaxWithTemperature", "tau-zero", "you divided by τ = 0", softmaxBody({ zero: false })),
  bug("04", "softmaxWithTemperature", "first-tie", "tied largest logits", softmaxBody({ ties: false })),
  bug("04", "softmaxWithTemperature", "no-range-error", "negative or NaN temperature", softmaxBody({ guard: false })),
  bug("04", "softmaxWithTemperature", "in-place", "you modified an argument in place", softmaxBody({ mutate: true })),
  bug(
    "04",
    "rowEntropy",
    "return-at-zero",
    "stopped at the first zero weight",
    entropyFn(`  let h = 0;
  for (const p of weights) {
    if (p === 0) return h;
    h -= p * Math.log(p);
  }
  return h;`),
  ),
  bug(
    "04",
    "rowEntropy",
    "log2",
    "log base 2",
    entropyFn("  return -weights.reduce((s, p) => s + (p > 0 ? p * Math.log2(p) : 0), 0);"),
  ),
  bug(
    "04",
    "rowEntropy",
    "zero-log-zero",
    "0·log 0",
    entropyFn("  return -weights.reduce((s, p) => s + p * Math.log(p), 0);"),
  ),
  bug(
    "04",
    "softmaxJacobian",
    "diagonal-only",
    "you returned diag(y)",
    jac("  return y.map((yi, i) => y.map((_, j) => (i === j ? yi : 0)));"),
  ),
  bug(
    "04",
    "softmaxJacobian",
    "sign",
    "you flipped the sign",
    jac("  return y.map((yi, i) => y.map((yj, j) => yi * yj - (i === j ? yi : 0)));"),
  ),
  bug(
    "04",
    "temperatureForMaxWeight",
    "bracket",
    "edge of your search interval",
    temp("Math.log(0.01)", "Math.log(10)"),
  ),
  bug(
    "04",
    "temperatureForMaxWeight",
    "linear-bracket",
    "edge of your search interval",
    temp("0.01", "10", 100, undefined, "linear"),
  ),
  bug(
    "04",
    "temperatureForMaxWeight",
    "multiplied",
    "your answer is 1/τ",
    `function temperatureForMaxWeight(logits: number[], maxWeight: number): number {
  const n = logits.length;
  if (!(maxWeight > 1 / n && maxWeight < 1)) throw new RangeError("unreachable target");
  const top = Math.max(...logits);
  const largest = (tau: number) => 1 / logits.reduce((s, z) => s + Math.exp((z - top) * tau), 0); // z·τ
  let [lo, hi] = [Math.log(1e-8), Math.log(1e8)];
  for (let step = 0; step < 100; step++) {
    const mid = (lo + hi) / 2;
    if (largest(Math.exp(mid)) > maxWeight) hi = mid; // sharper as τ grows
    else lo = mid;
  }
  return Math.exp((lo + hi) / 2);
}`,
  ),
  bug(
    "04",
    "temperatureForMaxWeight",
    "few-steps",
    "you stopped the search too early",
    temp("Math.log(1e-8)", "Math.log(1e8)", 12),
  ),
  bug(
    "04",
    "temperatureForMaxWeight",
    "calls-broken-softmax",
    "calls softmaxWithTemperature (exercise 2), which fails its own check",
    temp("Math.log(1e-8)", "Math.log(1e8)", 100, VIA_EX2),
    { also: { softmaxWithTemperature: softmaxBody({ shift: false }) }, chargedOnce: true },
  ),
  correct("04", "dotProductStd", "root-of-variance", std("  return Math.sqrt(d * sigmaQ ** 2 * sigmaK ** 2);")),
  correct(
    "04",
    "rowEntropy",
    "filtered",
    entropyFn("  return -weights.filter((p) => p > 0).reduce((s, p) => s + p * Math.log(p), 0);"),
  ),
  correct(
    "04",
    "softmaxWithTemperature",
    "tf-softmax",
    `function softmaxWithTemperature(logits: number[], tau: number): number[] {
  if (!(tau >= 0)) throw new RangeError("tau must be >= 0");
  const top = Math.max(...logits);
  if (tau === 0) return logits.map((z, _i, all) => (z === top ? 1 / all.filter((x) => x === top).length : 0));
  if (tau === Infinity) return logits.map(() => 1 / logits.length);
  return tf.tidy(() => Array.from(tf.softmax(tf.tensor1d(logits).div(tau)).dataSync()));
}`,
    { prelude: 'import { tf } from "attention-course";' },
  ),
  correct(
    "04",
    "softmaxJacobian",
    "tensor-ops",
    `function softmaxJacobian(y: number[]): number[][] {
  return tf.tidy(() => {
    const v = tf.tensor1d(y);
    return tf.diag(v).sub(v.reshape([-1, 1]).matMul(v.reshape([1, -1]))).arraySync() as number[][];
  });
}`,
    { prelude: 'import { tf } from "attention-course";' },
  ),
  correct("04", "temperatureForMaxWeight", "calls-softmax", temp("Math.log(1e-8)", "Math.log(1e8)", 100, VIA_EX2)),
  bug(
    "04",
    "rowEntropy",
    "no-minus",
    "you left out the minus sign",
    entropyFn("  return weights.reduce((s, p) => s + (p > 0 ? p * Math.log(p) : 0), 0);"),
  ),
  bug(
    "04",
    "softmaxJacobian",
    "outer-only",
    "you left out diag(y)",
    jac("  return y.map((yi) => y.map((yj) => -yi * yj));"),
  ),
  bug(
    "04",
    "softmaxJacobian",
    "diagonal-y-1-y",
    "you kept only the diagonal",
    jac("  return y.map((yi, i) => y.map((_, j) => (i === j ? yi * (1 - yi) : 0)));"),
  ),
];

/** The whole planted set. */
export const PLANTED: Planted[] = [
  ...LESSON01,
  ...LESSON02,
  ...LESSON03,
  ...LESSON04,
  ...LESSON05,
  ...LESSON06,
  ...LESSON07,
  ...LESSON08,
  ...LESSON09,
];

const SOLUTIONS: Record<Planted["lesson"], string> = {
  "01": "01-weighted-sums.ipynb",
  "02": "02-queries-keys-values.ipynb",
  "03": "03-the-attention-matrix.ipynb",
  "04": "04-scaling.ipynb",
  "05": "05-multi-head-attention.ipynb",
  "06": "06-rank-decay-jl-linformer.ipynb",
  "07": "07-linear-attention.ipynb",
  "08": "08-sparse-and-learned-patterns.ipynb",
  "09": "09-long-range-arena.ipynb",
};

/** Replaces the declaration of function `name` (up to its closing brace at the start of a line) in a notebook. */
function replaceFunction(nb: Notebook, name: string, source: string): void {
  const pattern = new RegExp(`function ${name}\\([\\s\\S]*?\\n\\}\\n`);
  const cell = nb.cells.find((c) => c.cell_type === "code" && pattern.test(sourceOf(c)));
  if (!cell) throw new Error(`no function ${name} in the solution notebook`);
  cell.source = toSourceLines(sourceOf(cell).replace(pattern, () => source + "\n"));
}

/**
 * The solution notebook of a lesson with planted entries swapped in (at most one per exercise).
 *
 * @param entries The entries, all of one lesson.
 * @returns The notebook a student with these functions would submit.
 */
export async function plantedNotebook(entries: Planted[]): Promise<Notebook> {
  const nb = await readNotebook(join(ROOT, "solutions", SOLUTIONS[entries[0].lesson]));
  const preludes = new Set<string>();
  for (const e of entries) {
    replaceFunction(nb, e.name, e.source);
    for (const [name, source] of Object.entries(e.also ?? {})) replaceFunction(nb, name, source);
    if (e.prelude) preludes.add(e.prelude);
  }
  if (preludes.size) {
    nb.cells.splice(2, 0, {
      cell_type: "code",
      metadata: {},
      source: toSourceLines([...preludes].join("\n")),
      outputs: [],
      execution_count: null,
    });
  }
  return nb;
}

/**
 * Groups the entries into submissions: one lesson each, at most one entry per exercise, and an entry that
 * replaces other functions too (`also`) alone.
 */
export function submissions(entries: Planted[] = PLANTED): Planted[][] {
  // Correct alternatives go together (a whole notebook of them must score full marks), apart from the mistakes.
  const bugs = entries.filter((e) => e.kind === "bug"), good = entries.filter((e) => e.kind === "correct");
  return [...pack(good), ...pack(bugs)];
}

function pack(entries: Planted[]): Planted[][] {
  const groups: Planted[][] = [];
  for (const e of entries) {
    const fits = (g: Planted[]) => g[0].lesson === e.lesson && !e.also && !g.some((x) => x.also || x.name === e.name);
    const group = groups.find(fits);
    if (group) group.push(e);
    else groups.push([e]);
  }
  return groups;
}

/** Writes the submissions folder the grader reads: <dir>/<student>/NN-….ipynb, one student per group. */
export async function writeSubmissions(dir: string, groups: Planted[][]): Promise<Map<string, Planted[]>> {
  const byStudent = new Map<string, Planted[]>();
  for (const [i, group] of groups.entries()) {
    const student = `planted${String(i + 1).padStart(2, "0")}`;
    await Deno.mkdir(join(dir, student), { recursive: true });
    await writeNotebook(join(dir, student, SOLUTIONS[group[0].lesson]), await plantedNotebook(group));
    byStudent.set(student, group);
  }
  return byStudent;
}

/** What one route said about one exercise. */
export interface Outcome {
  /** Full marks for the exercise, and passed. */
  full: boolean;
  /** Points it kept (all when passed; some when not charged for another exercise's mistake). */
  points: number;
  /** Everything the student reads about it: message, cause, note. */
  text: string;
  /** The named cause, if any (for the phrasing check). */
  diagnosis?: string;
}

/**
 * Runs a group's notebook code as a module and checks its functions in notebook order (as its cells would), each
 * with the results of the ones before it (for `uses`).
 *
 * @param group Entries of one lesson, at most one per exercise.
 * @param scratch A folder for the notebook and its module.
 * @param tag A file name stem, unique within `scratch`.
 * @returns Each exercise's outcome, by function name.
 */
export async function notebookRoute(group: Planted[], scratch: string, tag: string): Promise<Map<string, Outcome>> {
  const lesson = group[0].lesson;
  const exercises = exercisesByLesson[lesson];
  const nbPath = join(scratch, `${tag}.ipynb`);
  await writeNotebook(nbPath, await plantedNotebook(group));
  const modPath = join(scratch, `${tag}.ts`);
  await Deno.writeTextFile(modPath, await extractSubmission(nbPath, Object.keys(exercises)));
  const fns = (await import(`file://${modPath}`)).__functions as Record<string, unknown>;
  const prior = new Map<string, CheckResult>();
  const out = new Map<string, Outcome>();
  for (const [name, exercise] of Object.entries(exercises)) {
    const r = await runCheck(exercise, fns[name], prior);
    prior.set(name, r);
    const f = r.failure;
    out.set(name, {
      full: r.status === "passed" && r.points === r.maxPoints,
      points: r.points,
      text: [f?.message, f?.expected, f?.actual, f?.diagnosis, r.note].filter(Boolean).join(" | "),
      diagnosis: f?.diagnosis,
    });
  }
  return out;
}

/**
 * Whether a mistake was caught and its cause named. A mistake is caught when the exercise loses points; one in an
 * earlier exercise that this one calls (`chargedOnce`) is handled when this one keeps points (all of them, or as
 * many as the other lost) and names the other; in the grader (`route` "grader"), which judges this one again with
 * the course's own version of the other, when this one — right once the other is — gets full marks, naming it.
 */
export function judge(e: Planted, o: Outcome, route: "notebook" | "grader" = "notebook"): {
  caught: boolean;
  named: boolean;
} {
  if (e.chargedOnce) {
    const handled = route === "grader"
      ? o.full && Object.keys(e.also ?? {}).every((n) => o.text.includes(`with the course's own ${n} (exercise`))
      : o.points > 0 && o.text.includes(e.cause!);
    return { caught: handled, named: handled };
  }
  return { caught: !o.full, named: !o.full && o.text.includes(e.cause!) };
}

if (import.meta.main) {
  // deno run -A tools/cases/planted.ts [lesson …]: the notebook route only, one line per entry (the grader route
  // is planted_test.ts's).
  const lessons = Deno.args.length ? Deno.args : Object.keys(SOLUTIONS);
  const entries = PLANTED.filter((e) => lessons.includes(e.lesson));
  const scratch = await Deno.makeTempDir({ prefix: "planted" });
  try {
    let [bugs, caught, named, good, full] = [0, 0, 0, 0, 0];
    for (const [i, group] of submissions(entries).entries()) {
      const results = await notebookRoute(group, scratch, `group${i}`);
      for (const [name, o] of results) {
        const replaced = group.some((e) => e.name === name || (e.also && name in e.also));
        if (!replaced && !o.full) console.log(`COLLATERAL group ${i}: the untouched ${name} lost points: ${o.text}`);
        if (o.diagnosis && !/^(you|your) [^;]+; /.test(o.diagnosis)) console.log(`PHRASING ${name}: ${o.diagnosis}`);
      }
      for (const e of group) {
        const o = results.get(e.name)!;
        if (e.kind === "bug") {
          bugs++;
          const j = judge(e, o);
          caught += j.caught ? 1 : 0;
          named += j.named ? 1 : 0;
          console.log(`${e.id}\tcaught=${j.caught ? "y" : "n"}\tnamed=${j.named ? "y" : "n"}\t${o.text.slice(0, 400)}`);
        } else {
          good++;
          full += o.full ? 1 : 0;
          console.log(`${e.id}\tcorrect\tfull=${o.full ? "y" : "n"}\t${o.full ? "" : o.text.slice(0, 400)}`);
        }
      }
    }
    console.log(
      `caught ${caught}/${bugs}, named ${named}/${bugs}, correct alternatives with full marks ${full}/${good}`,
    );
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}
