/**
 * Synthesizer attention (Tay et al. 2021, "Synthesizer: Rethinking Self-Attention in Transformer
 * Models"): the attention weights are not made from query–key dot products.
 * - Dense: each token x_i alone gives its row of logits, B_i = W₂·ReLU(W₁·x_i + b₁) + b₂ ∈ ℝ^T,
 *   and out = softmax(B)·V.
 * - Random: one input-independent logit matrix R ∈ ℝ^{T×T} (learned or kept fixed), out = softmax(R)·V.
 * The length T is fixed when the weights are made: W₂ and R have one column per position.
 *
 * Shape alphabet (lib/README.md): T tokens (S = T), d model width, D features per head.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random.ts";

/** The two Synthesizer variants implemented. */
export type SynthesizerKind = "dense" | "random";

/** A Synthesizer's weights; dispose them with `tf.dispose(weights)`. */
export type SynthesizerWeights =
  | {
    kind: "dense";
    /** [d, hidden] first layer. */
    w1: tf.Tensor2D;
    /** [hidden] first bias. */
    b1: tf.Tensor1D;
    /** [hidden, T] second layer: one logit per position. */
    w2: tf.Tensor2D;
    /** [T] second bias. */
    b2: tf.Tensor1D;
  }
  | {
    kind: "random";
    /** [T, T] the logits R. */
    r: tf.Tensor2D;
  };

/** Options for {@linkcode initSynthesizer}. */
export interface SynthesizerInitOptions {
  /** "dense" (a 2-layer MLP per token) or "random" (a fixed logit matrix). */
  kind: SynthesizerKind;
  /** Width of the dense MLP's hidden layer (default d). */
  hidden?: number;
}

/**
 * Seeded weights for {@linkcode synthesizerAttention}.
 *
 * Dense: W₁ ~ N(0, 1/d), W₂ ~ N(0, 1/hidden) (std 1/√fan-in), biases 0. Random: R ~ N(0, 1).
 * Everything is drawn from `r`, in the order W₁, W₂ (dense) or R (random).
 *
 * @param d Model width (features per token).
 * @param T Sequence length the weights serve.
 * @param r The random source (it advances).
 * @param options Kind and hidden width.
 * @returns The weights (the caller owns them).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { initSynthesizer } from "./synthesizer.ts";
 * import { rng } from "../random.ts";
 * await tf.setBackend("cpu");
 * const w = initSynthesizer(8, 5, rng(0), { kind: "dense", hidden: 16 });
 * if (w.kind !== "dense" || w.w2.shape.join() !== "16,5") throw new Error("bad shapes");
 * tf.dispose(w);
 * ```
 */
export function initSynthesizer(d: number, T: number, r: Rng, options: SynthesizerInitOptions): SynthesizerWeights {
  const { kind, hidden = d } = options ?? {};
  for (const [name, n] of [["d", d], ["T", T], ["hidden", hidden]] as const) {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cannot initialise a Synthesizer: ${name} must be a positive integer, got ${n}`);
    }
  }
  if (!(r instanceof Rng)) {
    throw new TypeError(`Cannot initialise a Synthesizer: r must be an Rng (from rng(seed)), got ${typeof r}`);
  }
  if (kind === "dense") {
    return {
      kind,
      w1: r.tensor([d, hidden], 1 / Math.sqrt(d)) as tf.Tensor2D,
      b1: tf.zeros([hidden]),
      w2: r.tensor([hidden, T], 1 / Math.sqrt(hidden)) as tf.Tensor2D,
      b2: tf.zeros([T]),
    };
  }
  if (kind === "random") return { kind, r: r.tensor([T, T], 1) as tf.Tensor2D };
  throw new RangeError(`Cannot initialise a Synthesizer: kind must be "dense" or "random", got "${kind}"`);
}

/** Options for {@linkcode synthesizerAttention}. */
export interface SynthesizerOptions {
  /** Mask out positions after the token (j > i) before the softmax. */
  causal?: boolean;
}

/**
 * What {@linkcode synthesizerAttention} returns (a type alias, so that `tf.tidy` accepts it).
 */
export type SynthesizerResult = {
  /** [..., T, Dv] softmax(B)·V. */
  output: tf.Tensor;
  /** [..., T, T] the synthesized attention weights; rows sum to 1. */
  weights: tf.Tensor;
};

/**
 * Synthesizer attention: out = softmax(B)·V with B = W₂·ReLU(W₁·x + b₁) + b₂ per token (dense)
 * or B = R (random). No query–key product; cost O(T·(d·hidden + hidden·T) + T²·Dv) dense,
 * O(T²·Dv) random.
 *
 * With `causal`, position j > i gets weight 0 (B_i is computed from x_i alone, so nothing about later
 * tokens reaches out_i). Every row keeps at least j = i, so no row is empty. NaN in x propagates to
 * that token's row (dense).
 *
 * @param x [..., T, d] the tokens (random kind: used only for its shape).
 * @param v [..., T, Dv] the values V(x).
 * @param weights From {@linkcode initSynthesizer}; their T must match x's.
 * @param options Causal flag.
 * @returns The output [..., T, Dv] and the weights [..., T, T] (the caller owns both).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { initSynthesizer, synthesizerAttention } from "./synthesizer.ts";
 * import { rng } from "../random.ts";
 * await tf.setBackend("cpu");
 * const r = rng(1);
 * const x = r.tensor([4, 8]), v = r.tensor([4, 2]);
 * const w = initSynthesizer(8, 4, r, { kind: "random" });
 * const { output, weights } = synthesizerAttention(x, v, w, { causal: true });
 * const a = weights.arraySync() as number[][];
 * if (a[0][0] !== 1 || a[1][3] !== 0 || output.shape.join() !== "4,2") throw new Error("bad weights");
 * tf.dispose([x, v, output, weights, w]);
 * ```
 */
export function synthesizerAttention(
  x: tf.Tensor,
  v: tf.Tensor,
  weights: SynthesizerWeights,
  options: SynthesizerOptions = {},
): SynthesizerResult {
  const fail = (Err: typeof TypeError, what: string) => new Err(`Cannot compute Synthesizer attention: ${what}`);
  for (const [name, t] of [["x", x], ["values", v]] as const) {
    if (!(t instanceof tf.Tensor) || t.rank < 2) {
      throw fail(
        TypeError,
        `${name} must be a tf.Tensor of rank 2 or more ([..., T, d]), got ${
          t instanceof tf.Tensor ? `shape [${t.shape}]` : typeof t
        }`,
      );
    }
  }
  const batch = x.shape.slice(0, -2);
  const [T, d] = x.shape.slice(-2);
  if (v.shape.slice(0, -1).join() !== x.shape.slice(0, -1).join()) {
    throw fail(TypeError, `values must have shape [${[...batch, T, "Dv"]}] like x [${x.shape}], got [${v.shape}]`);
  }
  let length: number;
  if (weights?.kind === "dense") {
    const { w1, b1, w2, b2 } = weights;
    if (w1?.rank !== 2 || w2?.rank !== 2 || b1?.rank !== 1 || b2?.rank !== 1) {
      throw fail(TypeError, "dense weights must hold w1 [d, hidden], b1 [hidden], w2 [hidden, T], b2 [T]");
    }
    if (w1.shape[0] !== d) throw fail(TypeError, `w1 must have ${d} rows (x's width), got shape [${w1.shape}]`);
    const hidden = w1.shape[1];
    if (b1.shape[0] !== hidden || w2.shape[0] !== hidden || b2.shape[0] !== w2.shape[1]) {
      throw fail(
        TypeError,
        `dense weights do not fit together, got w1 [${w1.shape}], b1 [${b1.shape}], w2 [${w2.shape}], b2 [${b2.shape}]`,
      );
    }
    length = w2.shape[1];
  } else if (weights?.kind === "random") {
    const { r } = weights;
    if (r?.rank !== 2 || r.shape[0] !== r.shape[1]) {
      throw fail(TypeError, `random weights must hold r [T, T], got ${r ? `shape [${r.shape}]` : r}`);
    }
    length = r.shape[0];
  } else {
    throw fail(RangeError, `weights.kind must be "dense" or "random", got "${(weights as { kind?: unknown })?.kind}"`);
  }
  if (length !== T) {
    throw fail(RangeError, `the weights were made for T=${length} tokens, got x with T=${T}`);
  }
  return tf.tidy(() => {
    const B = batch.reduce((a, b) => a * b, 1);
    let logits: tf.Tensor;
    if (weights.kind === "dense") {
      const flat = tf.reshape(x, [B * T, d]); // [B·T, d]
      const h = tf.relu(tf.add(tf.matMul(flat, weights.w1), weights.b1)); // [B·T, hidden]
      logits = tf.reshape(tf.add(tf.matMul(h, weights.w2), weights.b2), [...batch, T, T]); // [..., T, T]
    } else {
      logits = tf.broadcastTo(weights.r, [...batch, T, T]); // [..., T, T]
    }
    if (options.causal) {
      const i = tf.reshape(tf.range(0, T, 1, "int32"), [T, 1]); // [T, 1]
      const j = tf.reshape(tf.range(0, T, 1, "int32"), [1, T]); // [1, T]
      logits = tf.where(tf.greater(j, i), tf.fill(logits.shape, -Infinity), logits); // [..., T, T]
    }
    const w = tf.softmax(logits); // [..., T, T], every row has j = i: no empty row
    const output = tf.matMul(w, v); // [..., T, Dv]
    return { output, weights: w };
  });
}
