/**
 * Multi-head attention (Vaswani et al. 2017, §3.2.2):
 * MultiHead(X) = Concat(head_1, …, head_H)·W_O, head_h = Attention(X·W_Q^h, X_kv·W_K^h, X_kv·W_V^h),
 * with the row convention (tokens are rows, so a projection is X·W). The H heads are the column
 * blocks of W_Q, W_K, W_V; each head runs {@linkcode attention} on its own D = d/H features.
 *
 * With G < H key–value heads (`kvHeads`), W_K and W_V have only G column blocks and query head h uses
 * key–value head ⌊h·G/H⌋: grouped-query attention (Ainslie et al. 2023), and for G = 1 multi-query
 * attention (Shazeer 2019). The KV cache then holds G instead of H heads' keys and values.
 *
 * Shape alphabet (lib/README.md): B batch, H heads, T query tokens, S key tokens, d model width,
 * D features per head; Dv is the per-head value width (D unless a narrower value map is asked for);
 * G the key–value heads (H unless grouped).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Cost } from "../costs.ts";
import type { Rng } from "../random.ts";
import { attention } from "./scaled_dot_product.ts";

/**
 * The four projections of a multi-head attention layer, and its head count. (A type alias, not an
 * interface, so `tf.dispose(weights)` type-checks.)
 */
export type MultiHeadWeights = {
  /** H, the number of (query) heads; it divides d. */
  heads: number;
  /**
   * G, the number of key–value heads (default H): G < H is grouped-query attention, G = 1 multi-query
   * attention. G divides H; query head h uses key–value head ⌊h·G/H⌋.
   */
  kvHeads?: number;
  /** [d, d] queries: column block h (D = d/H columns) is head h's W_Q. */
  wq: tf.Tensor2D;
  /** [d, G·D] keys: column block g (D columns) is key–value head g's W_K ([d, d] when G = H). */
  wk: tf.Tensor2D;
  /** [d, G·Dv] values: column block g (Dv columns) is key–value head g's W_V. */
  wv: tf.Tensor2D;
  /** [H·Dv, d] output map applied to the concatenated heads. */
  wo: tf.Tensor2D;
};

/** Options for {@linkcode initMultiHead}. */
export interface MultiHeadInitOptions {
  /** Dv, the value width per head (default D = d/H); smaller values give a low-rank value map. */
  dv?: number;
  /** G, the key–value heads (default H); a divisor of H. G < H gives grouped-query attention, G = 1 multi-query. */
  kvHeads?: number;
}

/** Options for {@linkcode multiHeadAttention}. */
export interface MultiHeadOptions {
  /** Mask out keys after the query (j > i; with S > T the queries are the last T positions). */
  causal?: boolean;
  /**
   * Which keys each query may see, as for {@linkcode attention}: boolean (true = keep) or additive
   * (0 = keep, -Infinity = drop), broadcastable to [B?, H, T, S] — e.g. [T, S] for every head and
   * sequence, or [B, 1, T, S] for one mask per sequence.
   */
  mask?: tf.Tensor;
  /** Cross-attention: the keys and values come from this [B?, S, d] source instead of x. */
  kv?: tf.Tensor;
  /** Also return the attention weights [B?, H, T, S] (default false). */
  returnWeights?: boolean;
}

/** What {@linkcode multiHeadAttention} returns (the caller owns and disposes the tensors). */
export type MultiHeadResult = {
  /** [B?, T, d] the layer's output. */
  output: tf.Tensor;
  /** [B?, H, T, S] each head's attention weights, present when `returnWeights` is true. */
  weights?: tf.Tensor;
};

/** Options for {@linkcode multiHeadCost}. */
export interface MultiHeadCostOptions {
  /** Dv, the value width per head (default d/H). */
  dv?: number | bigint;
  /** S, the number of keys (default T: self-attention). */
  S?: number | bigint;
  /** G, the key–value heads (default H): W_K and W_V shrink to [d, G·D] and [d, G·Dv]. */
  kvHeads?: number | bigint;
}

function isPositiveInteger(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 1;
}

/**
 * Random weights for a multi-head attention layer, drawn from `r` (which advances, so two calls
 * with one `r` give two different layers). Every entry is N(0, 1/fan-in): variance 1/d for W_Q,
 * W_K and W_V, and 1/(H·Dv) for W_O — that is N(0, 1/d) throughout when Dv = d/H (the default).
 * Unit-variance tokens then give unit-variance projections. Drawn in the order W_Q, W_K, W_V, W_O
 * (with G key–value heads, W_K is [d, G·D] and W_V [d, G·Dv]; G = H draws what it always drew).
 *
 * @param d Model width.
 * @param heads H, a positive integer that divides d.
 * @param r The seeded random source.
 * @param options `dv`, the value width per head (default d/H); `kvHeads`, G (default H).
 * @returns The weights; the caller owns the tensors (`tf.dispose(weights)`).
 * @throws {RangeError} If d, heads, dv or kvHeads is not a positive integer, heads does not divide d, or
 *   kvHeads does not divide heads.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { rng } from "../random.ts";
 * import { initMultiHead } from "./multi_head.ts";
 * await tf.setBackend("cpu");
 * const w = initMultiHead(8, 2, rng(0), { dv: 3 });
 * if (w.wv.shape.join() !== "8,6" || w.wo.shape.join() !== "6,8") throw new Error("bad shapes");
 * tf.dispose(w);
 * ```
 */
export function initMultiHead(d: number, heads: number, r: Rng, options: MultiHeadInitOptions = {}): MultiHeadWeights {
  const fn = "Cannot initialise multi-head attention";
  if (!isPositiveInteger(d)) throw new RangeError(`${fn}: d must be a positive integer, got ${d}`);
  if (!isPositiveInteger(heads)) throw new RangeError(`${fn}: heads must be a positive integer, got ${heads}`);
  if (d % heads !== 0) throw new RangeError(`${fn}: heads must divide d (${d}), got ${heads}`);
  const dv = options.dv ?? d / heads;
  if (!isPositiveInteger(dv)) throw new RangeError(`${fn}: dv must be a positive integer, got ${dv}`);
  const G = options.kvHeads ?? heads;
  if (!isPositiveInteger(G)) throw new RangeError(`${fn}: kvHeads must be a positive integer, got ${G}`);
  if (heads % G !== 0) throw new RangeError(`${fn}: kvHeads must divide heads (${heads}), got ${G}`);
  if (typeof r?.tensor !== "function") {
    throw new TypeError(`${fn}: r must be an Rng (from rng(seed)), got ${r === null ? "null" : typeof r}`);
  }
  const std = 1 / Math.sqrt(d);
  const D = d / heads;
  return {
    heads,
    ...(options.kvHeads === undefined ? {} : { kvHeads: G }),
    wq: r.tensor([d, d], std) as tf.Tensor2D, // [d, d]
    wk: r.tensor([d, G * D], std) as tf.Tensor2D, // [d, G·D]
    wv: r.tensor([d, G * dv], std) as tf.Tensor2D, // [d, G·Dv]
    wo: r.tensor([heads * dv, d], 1 / Math.sqrt(heads * dv)) as tf.Tensor2D, // [H·Dv, d]
  };
}

/**
 * Splits the last axis into H heads and moves the head axis before the tokens:
 * [..., T, d] → [..., H, T, D] with D = d/H; head h holds features h·D … (h+1)·D − 1.
 *
 * @param x [..., T, d] tokens (rank 2 or more).
 * @param heads H, a positive integer that divides d.
 * @returns [..., H, T, D] (the caller owns it).
 * @throws {TypeError} If x is not a tensor of rank 2 or more.
 * @throws {RangeError} If heads is not a positive integer that divides d.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { splitHeads } from "./multi_head.ts";
 * await tf.setBackend("cpu");
 * const x = tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8]]); // [T=2, d=4]
 * const h = splitHeads(x, 2); // [H=2, T=2, D=2]
 * if (JSON.stringify(h.arraySync()) !== "[[[1,2],[5,6]],[[3,4],[7,8]]]") throw new Error("bad split");
 * tf.dispose([x, h]);
 * ```
 */
export function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const fn = "Cannot split heads";
  if (!(x instanceof tf.Tensor) || x.rank < 2) {
    throw new TypeError(`${fn}: x must be a tf.Tensor of rank 2 or more ([..., T, d]), got ${describe(x)}`);
  }
  if (!isPositiveInteger(heads)) throw new RangeError(`${fn}: heads must be a positive integer, got ${heads}`);
  const d = x.shape[x.rank - 1];
  if (d % heads !== 0) throw new RangeError(`${fn}: heads must divide d (${d}), got ${heads}`);
  const lead = x.shape.slice(0, -1); // [..., T]
  return tf.tidy(() => {
    const y = tf.reshape(x, [...lead, heads, d / heads]); // [..., T, H, D]
    return tf.transpose(y, swapLastButOne(y.rank)); // [..., H, T, D]
  });
}

/**
 * The inverse of {@linkcode splitHeads}: concatenates the heads along the features,
 * [..., H, T, D] → [..., T, H·D].
 *
 * @param x [..., H, T, D] per-head tokens (rank 3 or more).
 * @returns [..., T, H·D] (the caller owns it).
 * @throws {TypeError} If x is not a tensor of rank 3 or more.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { mergeHeads } from "./multi_head.ts";
 * await tf.setBackend("cpu");
 * const h = tf.tensor3d([[[1, 2], [5, 6]], [[3, 4], [7, 8]]]); // [H=2, T=2, D=2]
 * const x = mergeHeads(h); // [T=2, d=4]
 * if (JSON.stringify(x.arraySync()) !== "[[1,2,3,4],[5,6,7,8]]") throw new Error("bad merge");
 * tf.dispose([h, x]);
 * ```
 */
export function mergeHeads(x: tf.Tensor): tf.Tensor {
  if (!(x instanceof tf.Tensor) || x.rank < 3) {
    throw new TypeError(
      `Cannot merge heads: x must be a tf.Tensor of rank 3 or more ([..., H, T, D]), got ${describe(x)}`,
    );
  }
  const [H, T, D] = x.shape.slice(-3);
  return tf.tidy(() => {
    const y = tf.transpose(x, swapLastButOne(x.rank)); // [..., T, H, D]
    return tf.reshape(y, [...x.shape.slice(0, -3), T, H * D]); // [..., T, H·D]
  });
}

/**
 * A multi-head attention layer: project, split into heads, run {@linkcode attention} on every head
 * at once, merge the heads and apply the output map. No biases. With H = 1 it is single-head
 * attention followed by W_O. With `w.kvHeads` = G < H, the G key–value heads are each shared by H/G
 * consecutive query heads (grouped-query attention; multi-query for G = 1).
 *
 * @param x [T, d] or [B, T, d] tokens (the queries' source, and the keys' and values' unless `kv`).
 * @param w The weights, e.g. from {@linkcode initMultiHead}.
 * @param options Causal flag, mask, cross-attention source `kv` ([S, d] or [B, S, d]) and `returnWeights`.
 * @returns `{ output }` [B?, T, d], plus `weights` [B?, H, T, S] when asked for; the caller owns them.
 * @throws {TypeError} If x, kv or a weight has the wrong type or shape.
 * @throws {RangeError} If the head count is bad, or a causal mask has fewer keys than queries.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { rng } from "../random.ts";
 * import { initMultiHead, multiHeadAttention } from "./multi_head.ts";
 * await tf.setBackend("cpu");
 * const r = rng("mha-example");
 * const w = initMultiHead(8, 2, r);
 * const x = r.tensor([3, 8]); // [T=3, d=8]
 * const { output, weights } = multiHeadAttention(x, w, { causal: true, returnWeights: true });
 * const a = weights!.arraySync() as number[][][]; // [H=2, T=3, S=3]
 * if (output.shape.join() !== "3,8" || a[1][0][0] !== 1 || a[1][0][2] !== 0) throw new Error("bad layer");
 * tf.dispose([w, x, output, weights!]);
 * ```
 */
export function multiHeadAttention(x: tf.Tensor, w: MultiHeadWeights, options: MultiHeadOptions = {}): MultiHeadResult {
  const { causal = false, mask, returnWeights = false } = options;
  const src = options.kv ?? x;
  checkLayer(x, w, options.kv);
  const project = (t: tf.Tensor, m: tf.Tensor2D) => {
    const rows = tf.reshape(t, [-1, t.shape[t.rank - 1]]); // [B·T, d_in]
    return tf.reshape(tf.matMul(rows, m), [...t.shape.slice(0, -1), m.shape[1]]); // [B?, T, d_out]
  };
  const H = w.heads, G = w.kvHeads ?? H;
  return tf.tidy(() => {
    const q = splitHeads(project(x, w.wq), H); // [B?, H, T, D]
    let k = splitHeads(project(src, w.wk), G); // [B?, G, S, D]
    let v = splitHeads(project(src, w.wv), G); // [B?, G, S, Dv]
    if (G < H) {
      // Query head h reads key–value head ⌊h·G/H⌋: repeat each of the G heads H/G times.
      const group = tf.tensor1d(Array.from({ length: H }, (_, h) => Math.floor((h * G) / H)), "int32"); // [H]
      k = tf.gather(k, group, k.rank - 3); // [B?, H, S, D]
      v = tf.gather(v, group, v.rank - 3); // [B?, H, S, Dv]
    }
    const heads = attention(q, k, v, { causal, mask }); // output [B?, H, T, Dv], weights [B?, H, T, S]
    const output = project(mergeHeads(heads.output), w.wo); // [B?, T, H·Dv] → [B?, T, d]
    return returnWeights ? { output, weights: heads.weights } : { output };
  });
}

/**
 * The exact parameter and FLOP count of one multi-head attention layer (no biases), a multiply–add
 * counted as 2 and softmax, scaling and masking not counted — the convention of `attentionLayerCost`
 * in lib/costs.ts, which this equals when Dv = d/H, S = T and G = H. With D = d/H and G key–value heads:
 * - params: W_Q (d²) + W_K (d·G·D) + W_V (d·G·Dv) + W_O (H·Dv·d); for G = H, 2d² + 2·d·H·Dv;
 * - FLOPs: Q = X·W_Q 2Td², K = X·W_K 2S·d·G·D, V 2S·d·G·Dv, scores Q·Kᵀ H·2TSD = 2TSd,
 *   weighted sums H·2TS·Dv, output map 2T·H·Dv·d. The scores and weighted sums do not shrink with G:
 *   every query head still attends over S keys.
 *
 * @param T Query tokens.
 * @param d Model width.
 * @param heads H, which divides d.
 * @param options `dv`, the value width per head (default d/H); `S`, the keys (default T); `kvHeads`, G (default H).
 * @returns `{ params, flops }` as bigints.
 * @throws {RangeError} If a size is not a positive integer, heads does not divide d, or kvHeads does not
 *   divide heads.
 * @example
 * ```ts
 * import { multiHeadCost } from "./multi_head.ts";
 * const c = multiHeadCost(2048, 12288, 96);
 * if (c.params !== 4n * 12288n ** 2n) throw new Error("4d² parameters");
 * if (multiHeadCost(10, 8, 2, { dv: 1 }).params !== 2n * 64n + 2n * 8n * 2n) throw new Error("2d² + 2dHDv");
 * // multi-query: one key head and one value head of D = 4 features
 * if (multiHeadCost(10, 8, 2, { kvHeads: 1 }).params !== 64n + 8n * 4n + 8n * 4n + 64n) throw new Error("MQA");
 * ```
 */
export function multiHeadCost(
  T: number | bigint,
  d: number | bigint,
  heads: number | bigint,
  options: MultiHeadCostOptions = {},
): Cost {
  const size = (name: string, value: number | bigint): bigint => {
    if (typeof value === "bigint" ? value < 1n : !Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(
        `Cannot count a multi-head attention layer: ${name} must be a positive integer, got ${value}`,
      );
    }
    return BigInt(value);
  };
  const t = size("T", T), dd = size("d", d), h = size("heads", heads);
  if (dd % h !== 0n) {
    throw new RangeError(`Cannot count a multi-head attention layer: heads must divide d (${dd}), got ${h}`);
  }
  const dv = size("dv", options.dv ?? dd / h), s = size("S", options.S ?? t), g = size("kvHeads", options.kvHeads ?? h);
  if (h % g !== 0n) {
    throw new RangeError(`Cannot count a multi-head attention layer: kvHeads must divide heads (${h}), got ${g}`);
  }
  const values = h * dv; // H·Dv, the width of the concatenated heads
  const kw = g * (dd / h), vw = g * dv; // G·D and G·Dv: the widths of W_K and W_V
  const params = dd * dd + dd * kw + dd * vw + values * dd;
  const projections = 2n * t * dd * dd + 2n * s * dd * kw + 2n * s * dd * vw + 2n * t * values * dd;
  const mixing = 2n * t * s * dd + 2n * t * s * values; // Q·Kᵀ and A·V over all heads
  return { params, flops: projections + mixing };
}

/** The permutation that swaps the two axes before the last: [..., a, b, c] → [..., b, a, c]. */
function swapLastButOne(rank: number): number[] {
  const perm = [...Array(rank).keys()];
  [perm[rank - 3], perm[rank - 2]] = [perm[rank - 2], perm[rank - 3]];
  return perm;
}

function describe(x: unknown): string {
  return x instanceof tf.Tensor ? `shape [${x.shape}]` : x === null ? "null" : typeof x;
}

function checkLayer(x: tf.Tensor, w: MultiHeadWeights, kv: tf.Tensor | undefined): void {
  const fn = "Cannot compute multi-head attention";
  if (!(x instanceof tf.Tensor) || (x.rank !== 2 && x.rank !== 3)) {
    throw new TypeError(`${fn}: x must be a tf.Tensor of shape [T, d] or [B, T, d], got ${describe(x)}`);
  }
  for (const name of ["wq", "wk", "wv", "wo"] as const) {
    if (!(w?.[name] instanceof tf.Tensor) || w[name].rank !== 2) {
      throw new TypeError(`${fn}: w.${name} must be a rank-2 tf.Tensor, got ${describe(w?.[name])}`);
    }
  }
  const d = w.wq.shape[0], H = w.heads, G = w.kvHeads ?? H;
  if (!isPositiveInteger(H)) throw new RangeError(`${fn}: w.heads must be a positive integer, got ${H}`);
  if (d % H !== 0) throw new RangeError(`${fn}: w.heads must divide d (${d}), got ${H}`);
  if (!isPositiveInteger(G)) throw new RangeError(`${fn}: w.kvHeads must be a positive integer, got ${G}`);
  if (H % G !== 0) throw new RangeError(`${fn}: w.kvHeads must divide w.heads (${H}), got ${G}`);
  for (const [name, t, want] of [["wq", w.wq, [d, d]], ["wk", w.wk, [d, (G * d) / H]]] as const) {
    if (t.shape.join() !== want.join()) {
      throw new TypeError(`${fn}: w.${name} must have shape [${want}], got shape [${t.shape}]`);
    }
  }
  const Gdv = w.wv.shape[1];
  if (w.wv.shape[0] !== d || Gdv % G !== 0) {
    throw new TypeError(`${fn}: w.wv must have shape [${d}, G·Dv] with G = ${G}, got shape [${w.wv.shape}]`);
  }
  const Hdv = (Gdv / G) * H;
  if (w.wo.shape.join() !== [Hdv, d].join()) {
    throw new TypeError(`${fn}: w.wo must have shape [${Hdv},${d}], got shape [${w.wo.shape}]`);
  }
  if (x.shape[x.rank - 1] !== d) {
    throw new TypeError(`${fn}: x must have d = ${d} features (the rows of w.wq), got shape [${x.shape}]`);
  }
  if (kv === undefined) return;
  if (!(kv instanceof tf.Tensor) || kv.rank !== x.rank || kv.shape[kv.rank - 1] !== d) {
    throw new TypeError(
      `${fn}: kv must have shape [${x.rank === 3 ? "B, " : ""}S, ${d}] like x ([${x.shape}]), got ${describe(kv)}`,
    );
  }
  if (x.rank === 3 && kv.shape[0] !== x.shape[0]) {
    throw new TypeError(`${fn}: kv must have the batch size of x (${x.shape[0]}), got shape [${kv.shape}]`);
  }
}
