/**
 * Scaled dot-product attention (Vaswani et al. 2017, eq. 1):
 * softmax(Q·Kᵀ / √D + mask) · V, over the last two axes of any batch shape.
 *
 * Shape alphabet (lib/README.md): B batch, H heads, T query tokens, S key
 * tokens, D features per head.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { futureMask } from "./_masks.ts";

/** Options for {@linkcode attention}. */
export interface AttentionOptions {
  /**
   * Which keys each query may see: a boolean tensor (true = keep) or an
   * additive float tensor (0 = keep, -Infinity = drop), broadcastable to [..., T, S].
   */
  mask?: tf.Tensor;
  /** Mask out keys after the query (j > i): autoregressive attention. */
  causal?: boolean;
  /** Multiplies the scores; default 1/√D. */
  scale?: number;
}

/**
 * What {@linkcode attention} returns. (A type alias, not an interface, so that
 * `tf.tidy(() => attention(q, k, v))` type-checks: tidy accepts plain object types.)
 */
export type AttentionResult = {
  /** [..., T, Dv] the weighted sums of the values. */
  output: tf.Tensor;
  /** [..., T, S] the attention weights; rows sum to 1 (0 for a row whose keys are all masked). */
  weights: tf.Tensor;
};

/**
 * Scaled dot-product attention over the last two axes.
 *
 * A query whose keys are all masked gets all-zero weights and a zero output
 * (not NaN), so padding rows stay harmless. NaN in the inputs propagates.
 * The caller owns (and disposes) both returned tensors.
 *
 * @param q [..., T, D] queries.
 * @param k [..., S, D] keys.
 * @param v [..., S, Dv] values.
 * @param options Mask, causal flag and scale.
 * @returns The output [..., T, Dv] and the weights [..., T, S].
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { attention } from "./scaled_dot_product.ts";
 * await tf.setBackend("cpu");
 * const x = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
 * const { output, weights } = attention(x, x, x, { causal: true });
 * const w = weights.arraySync() as number[][];
 * if (w[0][1] !== 0 || Math.abs(w[2].reduce((a, b) => a + b) - 1) > 1e-6) throw new Error("bad weights");
 * tf.dispose([x, output, weights]);
 * ```
 */
export function attention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options: AttentionOptions = {},
): AttentionResult {
  checkInputs(q, k, v, options);
  const [T, D] = q.shape.slice(-2);
  const S = k.shape[k.rank - 2];
  const scale = options.scale ?? 1 / Math.sqrt(D);
  return tf.tidy(() => {
    // Transpose explicitly: on wasm, matMul(..., transposeB=true) is ~10× slower.
    const kT = tf.transpose(k, [...k.shape.keys()].map((i) => i < k.rank - 2 ? i : 2 * k.rank - 3 - i)); // [..., D, S]
    // Scale the queries, not the scores: T·D multiplications instead of T·S.
    let scores = tf.matMul(tf.mul(q, scale), kT); // [..., T, S]
    const blocked = maskToBlocked(options, T, S); // [..., T, S] true = drop
    // A row whose keys are all masked gets zero weights. Its scores stay finite (all −∞ would make softmax's
    // output NaN there, and zeroing it afterwards still lets NaN into the gradient: 0 · NaN). A causal mask alone
    // never empties a row (S ≥ T).
    const empty = options.mask ? tf.broadcastTo(tf.all(blocked!, -1, true), scores.shape) : null; // [..., T, S]
    if (blocked) {
      const drop = empty ? tf.logicalAnd(blocked, tf.logicalNot(empty)) : blocked;
      scores = tf.where(drop, tf.fill(scores.shape, -Infinity), scores);
    }
    // softmax subtracts each row's max before exp (no overflow); one fused kernel on wasm and webgpu.
    let weights = tf.softmax(scores); // [..., T, S]
    if (empty) weights = tf.where(empty, tf.zerosLike(weights), weights);
    const output = tf.matMul(weights, v); // [..., T, Dv]
    return { output, weights };
  });
}

/** The keys to drop, as a boolean tensor, or null when nothing is masked. */
function maskToBlocked(options: AttentionOptions, T: number, S: number): tf.Tensor | null {
  let blocked: tf.Tensor | null = null;
  if (options.mask) {
    blocked = options.mask.dtype === "bool" ? tf.logicalNot(options.mask) : tf.equal(options.mask, -Infinity);
  }
  if (options.causal) {
    // j > i is the future; with S > T the queries are the last T positions.
    const future = futureMask(T, S, S - T); // [T, S]
    blocked = blocked ? tf.logicalOr(blocked, future) : future;
  }
  return blocked;
}

function checkInputs(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, options: AttentionOptions): void {
  for (const [name, t] of [["queries", q], ["keys", k], ["values", v]] as const) {
    if (!(t instanceof tf.Tensor)) {
      throw new TypeError(`Cannot compute attention: ${name} must be a tf.Tensor, got ${typeof t}`);
    }
    if (t.rank < 2) {
      throw new TypeError(
        `Cannot compute attention: ${name} must have rank 2 or more ([..., T, D]), got shape [${t.shape}]`,
      );
    }
  }
  const D = q.shape[q.rank - 1];
  if (k.shape[k.rank - 1] !== D) {
    throw new TypeError(
      `Cannot compute attention: keys must have the same last dimension as queries (${D}), got shape [${k.shape}]`,
    );
  }
  if (v.shape[v.rank - 2] !== k.shape[k.rank - 2]) {
    throw new TypeError(
      `Cannot compute attention: values must have as many rows as keys (${
        k.shape[k.rank - 2]
      }), got shape [${v.shape}]`,
    );
  }
  const batch = (t: tf.Tensor) => t.shape.slice(0, -2).join(",");
  if (batch(q) !== batch(k) || batch(k) !== batch(v)) {
    throw new TypeError(
      `Cannot compute attention: queries, keys and values must share batch dimensions, got [${q.shape}], [${k.shape}], [${v.shape}]`,
    );
  }
  if (options.scale !== undefined && !Number.isFinite(options.scale)) {
    throw new RangeError(`Cannot compute attention: scale must be a finite number, got ${options.scale}`);
  }
  if (options.causal && q.shape[q.rank - 2] > k.shape[k.rank - 2]) {
    throw new RangeError(
      `Cannot compute attention: a causal mask needs at least as many keys as queries, got T=${
        q.shape[q.rank - 2]
      }, S=${k.shape[k.rank - 2]}`,
    );
  }
}
