/**
 * A tiny trainable transformer (Vaswani et al. 2017, with the pre-LayerNorm placement of Xiong et al. 2020,
 * which trains without a warm-up): token and learned position embeddings, 1–2 layers of multi-head attention
 * and a ReLU feed-forward block, each on a residual stream, then a LayerNorm and a linear read-out to token
 * logits. Every weight is a `tf.Variable` drawn from a seeded source, so the same seed gives the same model.
 *
 * The attention inside each layer is pluggable: an {@linkcode AttentionKind} makes one layer's attention,
 * with its own trainable variables if it has any (Linformer's E and F, Synthesizer's weights). Kinds for
 * softmax, linear (elu+1, ReLU, FAVOR+), Linformer, block-sparse and Synthesizer attention are here, and
 * {@linkcode kernelKind} wraps any stateless lib kernel.
 *
 * One layer, x [B, T, d]:
 *
 *     h = LN₁(x);  q, k, v = h·W_Q, h·W_K, h·W_V      split into heads [B, H, T, D]
 *     x = x + merge(attend(q, k, v, h))·W_O
 *     x = x + ReLU(LN₂(x)·W₁ + b₁)·W₂ + b₂
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "../_gradient_fixes.ts"; // gradients of causal linear attention, Linformer, gathered masks
import { type Rng, rng as makeRng } from "../random.ts";
import { attention } from "../attention/scaled_dot_product.ts";
import { type FeatureMap, linearAttention } from "../attention/linear.ts";
import { favorFeatures } from "../attention/favor.ts";
import { linformerAttention } from "../attention/linformer.ts";
import { type BlockPattern, blockSparseAttention } from "../attention/block_sparse.ts";
import { synthesizerAttention } from "../attention/synthesizer.ts";

/** A variable holding `init`'s values; `init` itself is disposed (tf.variable keeps its own handle). */
function variableFrom(init: tf.Tensor, trainable = true): tf.Variable {
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}

/** What an attention kind is told when it makes one layer's attention. */
export interface LayerInfo {
  /** The layer (0-based). */
  layer: number;
  /** H, heads. */
  heads: number;
  /** d, the model width. */
  d: number;
  /** D = d / H, features per head. */
  D: number;
  /** The longest sequence the model takes. */
  maxLen: number;
  /** Whether position i may see only j ≤ i. */
  causal: boolean;
  /** A seeded source for this layer's own weights. */
  rng: Rng;
}

/**
 * One layer's attention: q, k, v [B, H, T, D] and the layer's normalised input h [B, T, d] → [B, H, T, D].
 * q and k are null for a kind that does not use them (`queriesKeys: false`).
 */
export interface AttentionLayer {
  /** Its trainable weights (empty for a plain kernel). */
  variables: tf.Variable[];
  apply(q: tf.Tensor | null, k: tf.Tensor | null, v: tf.Tensor, h: tf.Tensor): tf.Tensor;
}

/** A kind of attention: makes one {@linkcode AttentionLayer} per layer. */
export interface AttentionKind {
  /** A short name for tables and plots ("softmax", "linformer k=8", …). */
  name: string;
  /** Whether it reads queries and keys (default true); if not, the layer has no W_Q, W_K (e.g. Synthesizer). */
  queriesKeys?: boolean;
  make(info: LayerInfo): AttentionLayer;
}

/**
 * Wraps any stateless kernel (q, k, v [B, H, T, D] → [B, H, T, D]) as an {@linkcode AttentionKind}.
 *
 * @param name A short name.
 * @param kernel The kernel; it is told whether the model is causal.
 * @returns The kind.
 * @example
 * ```ts
 * import { kernelKind, tinyTransformer } from "./tiny_transformer.ts";
 * import { flashAttention } from "../attention/flash.ts";
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * await tf.setBackend("cpu");
 * const kind = kernelKind("flash", (q, k, v, { causal }) => flashAttention(q, k, v, { causal }));
 * const model = tinyTransformer({ vocab: 5, maxLen: 4, d: 8, heads: 2, layers: 1, causal: true, attention: kind, seed: 0 });
 * const logits = model.forward([[1, 2, 3, 4]]);
 * if (logits.shape.join() !== "1,4,5") throw new Error("bad shape");
 * tf.dispose(logits);
 * model.dispose();
 * ```
 */
export function kernelKind(
  name: string,
  kernel: (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, info: LayerInfo) => tf.Tensor,
): AttentionKind {
  return { name, make: (info) => ({ variables: [], apply: (q, k, v) => kernel(q!, k!, v, info) }) };
}

/**
 * Softmax attention (lib's `attention`), causal when the model is.
 *
 * @returns The kind.
 * @example
 * ```ts
 * import { softmaxKind } from "./tiny_transformer.ts";
 * if (softmaxKind().name !== "softmax") throw new Error("bad name");
 * ```
 */
export function softmaxKind(): AttentionKind {
  return kernelKind("softmax", (q, k, v, { causal }) => attention(q, k, v, { causal }).output);
}

/**
 * Linear attention (Katharopoulos et al. 2020) with φ = elu+1 or ReLU, or Performer's FAVOR+ with M seeded
 * orthogonal random features per layer (fixed, not trained).
 *
 * @param options `featureMap` (default "elu+1"); `features`, M for "favor+" (default 2·D).
 * @returns The kind.
 * @example
 * ```ts
 * import { linearKind } from "./tiny_transformer.ts";
 * if (linearKind({ featureMap: "favor+", features: 16 }).name !== "favor+ M=16") throw new Error("bad name");
 * ```
 */
export function linearKind(options: { featureMap?: FeatureMap | "favor+"; features?: number } = {}): AttentionKind {
  const { featureMap = "elu+1" } = options;
  const name = featureMap === "favor+" ? `favor+ M=${options.features ?? "2D"}` : `linear ${featureMap}`;
  return {
    name,
    make(info) {
      if (featureMap !== "favor+") {
        return { variables: [], apply: (q, k, v) => linearAttention(q!, k!, v, { causal: info.causal, featureMap }) };
      }
      const omega = variableFrom(favorFeatures(info.D, options.features ?? 2 * info.D, info.rng), false); // [D, M]
      return {
        variables: [omega],
        apply: (q, k, v) => linearAttention(q!, k!, v, { causal: info.causal, featureMap, features: omega }),
      };
    },
  };
}

/**
 * Linformer attention (Wang et al. 2020) with learned projections E, F [k, maxLen] per layer (shared by the
 * heads), sliced to the first T columns for a shorter sequence. Non-causal only.
 *
 * @param k The projected length.
 * @returns The kind.
 * @throws {RangeError} From `make` when the model is causal.
 * @example
 * ```ts
 * import { linformerKind } from "./tiny_transformer.ts";
 * if (linformerKind(8).name !== "linformer k=8") throw new Error("bad name");
 * ```
 */
export function linformerKind(k: number): AttentionKind {
  return {
    name: `linformer k=${k}`,
    make(info) {
      if (info.causal) {
        throw new RangeError("Cannot make Linformer attention: the model must be non-causal, got causal: true");
      }
      const std = 1 / Math.sqrt(k); // E·K then averages ~maxLen/k keys per row at init
      const E = variableFrom(info.rng.fork("E").tensor([k, info.maxLen], std)); // [k, maxLen]
      const F = variableFrom(info.rng.fork("F").tensor([k, info.maxLen], std)); // [k, maxLen]
      return {
        variables: [E, F],
        apply(q, kk, v) {
          const T = v.shape[v.rank - 2];
          const e = T === info.maxLen ? E : tf.slice(E, [0, 0], [k, T]); // [k, T]
          const f = T === info.maxLen ? F : tf.slice(F, [0, 0], [k, T]); // [k, T]
          return linformerAttention(q!, kk!, v, e, f);
        },
      };
    },
  };
}

/**
 * Block-sparse attention (BigBird/Longformer patterns) with a fixed pattern; causal when the model is.
 *
 * @param pattern Block size, window, global blocks (random blocks are drawn from `info.rng` when `random` is set).
 * @returns The kind.
 * @example
 * ```ts
 * import { blockSparseKind } from "./tiny_transformer.ts";
 * if (blockSparseKind({ block: 4, window: 1 }).name !== "block-sparse b=4 w=1") throw new Error("bad name");
 * ```
 */
export function blockSparseKind(pattern: Omit<BlockPattern, "causal">): AttentionKind {
  return kernelKind(
    `block-sparse b=${pattern.block} w=${pattern.window ?? 0}`,
    (q, k, v, { causal }) => blockSparseAttention(q, k, v, { ...pattern, causal }),
  );
}

/**
 * Synthesizer attention (Tay et al. 2021): "dense" learns a per-token MLP d → hidden → maxLen giving each
 * token's attention logits; "random" learns one maxLen × maxLen logit matrix. Shared by the heads of a layer;
 * sequences must have length maxLen.
 *
 * @param kind "dense" or "random".
 * @param hidden Width of the dense MLP (default d).
 * @returns The kind.
 * @example
 * ```ts
 * import { synthesizerKind } from "./tiny_transformer.ts";
 * if (synthesizerKind("random").name !== "synthesizer random") throw new Error("bad name");
 * ```
 */
export function synthesizerKind(kind: "dense" | "random", hidden?: number): AttentionKind {
  return {
    name: `synthesizer ${kind}`,
    queriesKeys: false,
    make(info) {
      const { d, maxLen: T, rng: r } = info;
      const width = hidden ?? d;
      const weights = kind === "dense"
        ? {
          kind,
          w1: variableFrom(r.fork("w1").tensor([d, width], 1 / Math.sqrt(d))) as tf.Tensor2D,
          b1: variableFrom(tf.zeros([width])) as tf.Tensor1D,
          w2: variableFrom(r.fork("w2").tensor([width, T], 1 / Math.sqrt(width))) as tf.Tensor2D,
          b2: variableFrom(tf.zeros([T])) as tf.Tensor1D,
        } as const
        : { kind, r: variableFrom(r.fork("r").tensor([T, T], 0.1)) as tf.Tensor2D } as const;
      return {
        variables: Object.values(weights).filter((w): w is tf.Variable => w instanceof tf.Variable),
        apply(_q, _k, v, h) {
          const H = v.shape[1] as number;
          const x = tf.tile(tf.expandDims(h, 1), [1, H, 1, 1]); // [B, H, T, d]: the same tokens for every head
          return synthesizerAttention(x, v, weights, { causal: info.causal }).output; // [B, H, T, D]
        },
      };
    },
  };
}

/** Options of {@linkcode tinyTransformer}. */
export interface TinyTransformerConfig {
  /** Token ids are 0 … vocab − 1. */
  vocab: number;
  /** Longest sequence (learned positions). */
  maxLen: number;
  /** Model width d (default 64). */
  d?: number;
  /** Heads (default 4; divides d). */
  heads?: number;
  /** Layers (default 2). */
  layers?: number;
  /** Feed-forward width (default 4·d). */
  ffn?: number;
  /** Position i sees only j ≤ i (default false). */
  causal?: boolean;
  /** The attention of every layer (default softmax), or one kind per layer. */
  attention?: AttentionKind | AttentionKind[];
  /** Seed of the initial weights. */
  seed: number | string;
}

/** A tiny transformer made by {@linkcode tinyTransformer}. */
export interface TinyTransformer {
  /** The configuration with defaults filled in. */
  readonly config: Required<Omit<TinyTransformerConfig, "attention">> & { attention: AttentionKind[] };
  /** Every weight (trainable ones have `trainable: true`). */
  readonly variables: tf.Variable[];
  /** Trainable parameters (a count). */
  readonly parameters: number;
  /**
   * Token logits [B, T, vocab] for token ids [B, T] (T ≤ maxLen). The caller owns the result.
   */
  forward(ids: tf.Tensor | number[][]): tf.Tensor3D;
  /** Frees the weights. */
  dispose(): void;
}

/**
 * A tiny transformer with seeded weights.
 *
 * @param config Vocabulary, length, sizes, causality, attention kind(s) and seed.
 * @returns The model: `forward(ids)` gives logits; `variables` are what an optimizer trains.
 * @throws {RangeError} If a size is not a positive integer or heads does not divide d.
 * @example
 * ```ts
 * import { linformerKind, tinyTransformer } from "./tiny_transformer.ts";
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * await tf.setBackend("cpu");
 * const model = tinyTransformer({ vocab: 10, maxLen: 8, d: 16, heads: 2, layers: 1, attention: linformerKind(4), seed: 1 });
 * const logits = model.forward([[1, 2, 3, 4, 5, 6, 7, 8]]);
 * // Same seed, same weights: the logits agree exactly.
 * const again = tinyTransformer({ ...model.config, attention: linformerKind(4) });
 * const other = again.forward([[1, 2, 3, 4, 5, 6, 7, 8]]);
 * if (logits.shape.join() !== "1,8,10" || tf.max(tf.abs(tf.sub(logits, other))).dataSync()[0] !== 0) {
 *   throw new Error("not reproducible");
 * }
 * tf.dispose([logits, other]);
 * model.dispose();
 * again.dispose();
 * ```
 */
export function tinyTransformer(config: TinyTransformerConfig): TinyTransformer {
  const { vocab, maxLen, d = 64, heads = 4, layers = 2, causal = false, seed } = config;
  const ffn = config.ffn ?? 4 * d;
  const fn = "Cannot make a tiny transformer";
  for (const [name, n] of Object.entries({ vocab, maxLen, d, heads, layers, ffn })) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`${fn}: ${name} must be a positive integer, got ${n}`);
  }
  if (d % heads !== 0) {
    throw new RangeError(`${fn}: heads (${heads}) must divide d (${d}), got d % heads = ${d % heads}`);
  }
  const kinds = Array.isArray(config.attention)
    ? config.attention
    : Array.from({ length: layers }, () => (config.attention as AttentionKind | undefined) ?? softmaxKind());
  if (kinds.length !== layers) {
    throw new RangeError(`${fn}: attention must be one kind or one per layer (${layers}), got ${kinds.length}`);
  }
  const D = d / heads;
  const root = makeRng(seed);
  const all: tf.Variable[] = [];
  const v = (label: string, shape: number[], std: number) => {
    const x = variableFrom(root.fork(label).tensor(shape, std));
    all.push(x);
    return x;
  };
  const ones = (n: number) => (all.push(variableFrom(tf.ones([n]))), all.at(-1)!);
  const zeros = (n: number) => (all.push(variableFrom(tf.zeros([n]))), all.at(-1)!);
  const tokenEmb = v("tokens", [vocab, d], 1); // [vocab, d]
  const posEmb = v("positions", [maxLen, d], 1); // [maxLen, d]
  const blocks = kinds.map((kind, l) => {
    const p = `layer${l}/`;
    const block = {
      ln1: { g: ones(d), b: zeros(d) },
      wq: kind.queriesKeys === false ? null : v(p + "q", [d, d], 1 / Math.sqrt(d)),
      wk: kind.queriesKeys === false ? null : v(p + "k", [d, d], 1 / Math.sqrt(d)),
      wv: v(p + "v", [d, d], 1 / Math.sqrt(d)),
      wo: v(p + "o", [d, d], 1 / Math.sqrt(d) / Math.sqrt(2 * layers)),
      ln2: { g: ones(d), b: zeros(d) },
      w1: v(p + "w1", [d, ffn], 1 / Math.sqrt(d)),
      b1: zeros(ffn),
      w2: v(p + "w2", [ffn, d], 1 / Math.sqrt(ffn) / Math.sqrt(2 * layers)),
      b2: zeros(d),
      attention: kind.make({ layer: l, heads, d, D, maxLen, causal, rng: root.fork(`${p}attention`) }),
    };
    all.push(...block.attention.variables);
    return block;
  });
  const lnF = { g: ones(d), b: zeros(d) };
  const wOut = v("out", [d, vocab], 1 / Math.sqrt(d)); // [d, vocab]
  const bOut = zeros(vocab);
  const parameters = all.filter((x) => x.trainable).reduce((a, x) => a + x.size, 0);
  let disposed = false;

  const model: TinyTransformer = {
    config: { vocab, maxLen, d, heads, layers, ffn, causal, seed, attention: kinds },
    variables: all,
    parameters,
    forward(ids) {
      if (disposed) throw new RangeError("Cannot run the tiny transformer: it was disposed");
      const input = ids instanceof tf.Tensor ? ids : tf.tensor2d(ids as number[][], undefined, "int32");
      try {
        if (input.rank !== 2) {
          throw new TypeError(`Cannot run the tiny transformer: ids must have shape [B, T], got [${input.shape}]`);
        }
        const [B, T] = input.shape;
        if (T < 1 || T > maxLen) {
          throw new RangeError(`Cannot run the tiny transformer: T must be in [1, ${maxLen}], got ${T}`);
        }
        return tf.tidy(() => {
          const idsI = input.dtype === "int32" ? input : tf.cast(input, "int32");
          // Embedding lookup as one-hot · table: its gradient is a matMul (tf.gather's needs UnsortedSegmentSum,
          // which the wasm backend lacks), and for a tiny vocabulary it costs next to nothing.
          const oneHot = tf.oneHot(tf.reshape(idsI, [B * T]), vocab); // [B·T, vocab]
          const tokens = tf.reshape(tf.matMul(tf.cast(oneHot, "float32"), tokenEmb), [B, T, d]); // [B, T, d]
          let x = tf.add(tokens, tf.slice(posEmb, [0, 0], [T, d])) as tf.Tensor; // [B, T, d]
          const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, T, heads, D]), [0, 2, 1, 3]); // [B, H, T, D]
          for (const p of blocks) {
            const h = layerNorm(x, p.ln1); // [B, T, d]
            const flat = tf.reshape(h, [B * T, d]); // [B·T, d]
            const q = p.wq && split(tf.matMul(flat, p.wq));
            const k = p.wk && split(tf.matMul(flat, p.wk));
            const vv = split(tf.matMul(flat, p.wv));
            const a = p.attention.apply(q, k, vv, h); // [B, H, T, D]
            const merged = tf.reshape(tf.transpose(a, [0, 2, 1, 3]), [B * T, d]); // [B·T, d]
            x = tf.add(x, tf.reshape(tf.matMul(merged, p.wo), [B, T, d])); // [B, T, d]
            const h2 = tf.reshape(layerNorm(x, p.ln2), [B * T, d]); // [B·T, d]
            const f = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(h2, p.w1), p.b1)), p.w2), p.b2); // [B·T, d]
            x = tf.add(x, tf.reshape(f, [B, T, d])); // [B, T, d]
          }
          const out = tf.add(tf.matMul(tf.reshape(layerNorm(x, lnF), [B * T, d]), wOut), bOut); // [B·T, vocab]
          return tf.reshape(out, [B, T, vocab]) as tf.Tensor3D;
        });
      } finally {
        if (input !== ids) input.dispose();
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose(all);
    },
  };
  return model;
}

/**
 * Mean cross-entropy of the logits against target ids over the scored positions (mask 1).
 *
 * @param logits [B, T, V].
 * @param targets [B, T] token ids.
 * @param mask [B, T] 1 where scored (default: everywhere).
 * @returns A scalar (the caller owns it).
 * @example
 * ```ts
 * import { maskedCrossEntropy } from "./tiny_transformer.ts";
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * await tf.setBackend("cpu");
 * const logits = tf.tensor3d([[[0, 0], [10, -10]]]); // position 0: uniform; position 1: sure of token 0
 * const loss = maskedCrossEntropy(logits, [[1, 0]], [[1, 0]]); // only position 0 is scored: ln 2
 * if (Math.abs(loss.dataSync()[0] - Math.LN2) > 1e-6) throw new Error("bad loss");
 * tf.dispose([logits, loss]);
 * ```
 */
export function maskedCrossEntropy(
  logits: tf.Tensor,
  targets: tf.Tensor | number[][],
  mask?: tf.Tensor | number[][],
): tf.Scalar {
  return tf.tidy(() => {
    const [B, T, V] = logits.shape;
    const y = targets instanceof tf.Tensor ? tf.cast(targets, "int32") : tf.tensor2d(targets, [B, T], "int32");
    const m = mask === undefined
      ? tf.ones([B, T])
      : mask instanceof tf.Tensor
      ? tf.cast(mask, "float32")
      : tf.tensor2d(mask, [B, T]);
    const logp = tf.logSoftmax(logits); // [B, T, V]
    const picked = tf.sum(tf.mul(logp, tf.oneHot(y, V)), -1); // [B, T]
    return tf.div(tf.neg(tf.sum(tf.mul(picked, m))), tf.maximum(tf.sum(m), 1)) as tf.Scalar;
  });
}

/**
 * The fraction of scored positions (mask 1) where the most likely token is the target.
 *
 * @param logits [B, T, V].
 * @param targets [B][T] token ids.
 * @param mask [B][T] 1 where scored (default: everywhere).
 * @returns A number in [0, 1].
 * @example
 * ```ts
 * import { maskedAccuracy } from "./tiny_transformer.ts";
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * await tf.setBackend("cpu");
 * const logits = tf.tensor3d([[[1, 0], [0, 1], [1, 0]]]);
 * if (await maskedAccuracy(logits, [[0, 0, 0]], [[1, 1, 0]]) !== 0.5) throw new Error("bad accuracy");
 * logits.dispose();
 * ```
 */
export async function maskedAccuracy(logits: tf.Tensor, targets: number[][], mask?: number[][]): Promise<number> {
  const best = tf.argMax(logits, -1);
  const pred = await best.array() as number[][];
  best.dispose();
  let right = 0, total = 0;
  pred.forEach((row, b) =>
    row.forEach((p, t) => {
      if (mask && !mask[b][t]) return;
      total++;
      if (p === targets[b][t]) right++;
    })
  );
  return total === 0 ? 0 : right / total;
}

function layerNorm(x: tf.Tensor, p: { g: tf.Tensor; b: tf.Tensor }): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true); // [..., 1]
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), p.g), p.b);
}
