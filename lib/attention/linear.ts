/**
 * Linear attention through a feature map φ (Katharopoulos et al. 2020, eq. 4–6 and 16–20):
 * out_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / φ(q_i)ᵀ Σ_j φ(k_j). Reordering the product costs O(T·M·Dv)
 * instead of O(T²·D). Causal: the sums run over j ≤ i — as prefix sums (parallel form) or as an RNN
 * with state S_i = S_{i−1} + φ(k_i) v_iᵀ, z_i = z_{i−1} + φ(k_i) (recurrent form); both are here.
 * Shapes: q, k [..., T, D]; v [..., T, Dv]; features M = D for elu+1 and ReLU.
 *
 * Performer attention (Choromanski et al. 2021): `featureMap: "favor+"` with `features`, a [D, M] projection
 * from `favorFeatures()` (./favor.ts), uses positive random features whose dot products estimate
 * exp(qᵀk·scale), so the output estimates softmax attention; M is then the number of random features.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { checkQkv } from "./_check.ts";
import { favorFeatureMap } from "./favor.ts";

/** An elementwise feature map φ (see {@linkcode LinearOptions.featureMap} for "favor+"). */
export type FeatureMap = "elu+1" | "relu";

/** Options for {@linkcode linearAttention}. */
export interface LinearOptions {
  /** Sum only over j ≤ i. */
  causal?: boolean;
  /**
   * φ (default "elu+1", positive everywhere). "favor+" is Performer attention: positive random features
   * (./favor.ts) drawn as `features`, estimating softmax attention with scores qᵀk·scale.
   */
  featureMap?: FeatureMap | "favor+";
  /** "favor+" only, and required there: the [D, M] projection Ω from `favorFeatures(D, M, rng)`. */
  features?: tf.Tensor;
  /** "favor+" only: the softmax scale the features estimate, exp(qᵀk·scale) (default 1/√D). */
  scale?: number;
  /**
   * Added to the normaliser to avoid 0/0 (default 1e-6; ReLU features can all be 0). For "favor+" the default is 0:
   * its features are positive, and after the stabilisers the normaliser's scale is arbitrary (it can be far below
   * 1e-6 for early causal rows), so an absolute eps would bias the output; a normaliser that underflows to 0
   * gives an output of 0 there instead of NaN.
   */
  eps?: number;
}

/** φ(x) applied elementwise. */
export function applyFeatureMap(x: tf.Tensor, map: FeatureMap = "elu+1"): tf.Tensor {
  if (map === "elu+1") return tf.tidy(() => tf.add(tf.elu(x), 1));
  if (map === "relu") return tf.relu(x);
  throw new RangeError(`Cannot apply a feature map: expected "elu+1" or "relu", got "${map}"`);
}

/**
 * φ(q), φ(k) for the chosen map. For "favor+" the queries get a per-row stabiliser and the keys one per [S, M]
 * slice (see favorFeatureMap), both cancel in the normalised output; features of q and k use √scale each.
 */
function features(q: tf.Tensor, k: tf.Tensor, options: LinearOptions): [tf.Tensor, tf.Tensor] {
  const { featureMap = "elu+1", features: omega } = options;
  if (featureMap !== "favor+") {
    return tf.tidy(() => [applyFeatureMap(q, featureMap), applyFeatureMap(k, featureMap)]);
  }
  const s = Math.sqrt(options.scale ?? 1 / Math.sqrt(q.shape[q.rank - 1]));
  return tf.tidy(() => [
    favorFeatureMap(q, omega!, { isQuery: true, scale: s }), // [..., T, M]
    favorFeatureMap(k, omega!, { scale: s }), // [..., S, M]
  ]);
}

/** num / (den + eps); see {@linkcode LinearOptions.eps} for "favor+". */
function normalise(num: tf.Tensor, den: tf.Tensor, options: LinearOptions): tf.Tensor {
  if (options.featureMap === "favor+") return tf.divNoNan(num, tf.add(den, options.eps ?? 0));
  return tf.div(num, tf.add(den, options.eps ?? 1e-6));
}

function checkMap(options: LinearOptions): void {
  const { featureMap = "elu+1", features: omega, scale } = options;
  if (featureMap === "favor+") {
    if (!(omega instanceof tf.Tensor)) {
      throw new TypeError(
        `Cannot compute linear attention: featureMap "favor+" needs options.features, a [D, M] tensor from favorFeatures(), got ${typeof omega}`,
      );
    }
    if (scale !== undefined && !(Number.isFinite(scale) && scale > 0)) {
      throw new RangeError(`Cannot compute linear attention: scale must be a positive finite number, got ${scale}`);
    }
    return;
  }
  for (const [name, value] of [["features", omega], ["scale", scale]] as const) {
    if (value !== undefined) {
      throw new TypeError(
        `Cannot compute linear attention: options.${name} is used only by featureMap "favor+", got featureMap "${featureMap}"`,
      );
    }
  }
}

/**
 * Linear attention, parallel form (causal via prefix sums of φ(k_j) v_jᵀ).
 *
 * @param q [..., T, D] queries.
 * @param k [..., S, D] keys (S = T when causal).
 * @param v [..., S, Dv] values.
 * @param options Causal flag, feature map (with `features` and `scale` for "favor+"), eps.
 * @returns [..., T, Dv] (the caller owns it).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { linearAttention } from "./linear.ts";
 * import { favorFeatures } from "./favor.ts";
 * import { rng } from "../random.ts";
 * await tf.setBackend("cpu");
 * const x = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
 * const out = linearAttention(x, x, x, { causal: true });
 * if (out.shape.join() !== "3,2") throw new Error("bad shape");
 * // Performer: 256 random features estimate softmax attention; the first causal row sees only itself.
 * const features = favorFeatures(2, 256, rng(0));
 * const perf = linearAttention(x, x, x, { causal: true, featureMap: "favor+", features });
 * if (Math.abs(perf.dataSync()[0] - 1) > 1e-5) throw new Error("bad Performer output");
 * tf.dispose([x, out, features, perf]);
 * ```
 */
export function linearAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, options: LinearOptions = {}): tf.Tensor {
  checkQkv("linear attention", q, k, v);
  checkMap(options);
  const { causal = false } = options;
  const r = q.rank;
  if (causal && q.shape[r - 2] !== k.shape[r - 2]) {
    throw new RangeError(
      `Cannot compute causal linear attention: queries and keys must have the same length, got T=${q.shape[r - 2]}, S=${
        k.shape[r - 2]
      }`,
    );
  }
  return tf.tidy(() => {
    const [fq, fk] = features(q, k, options); // [..., T, M], [..., S, M]
    const perm = [...Array(r - 2).keys(), r - 1, r - 2];
    if (!causal) {
      const kv = tf.matMul(tf.transpose(fk, perm), v); // [..., M, Dv]
      const z = tf.sum(fk, r - 2, true); // [..., 1, M]
      const num = tf.matMul(fq, kv); // [..., T, Dv]
      const den = tf.sum(tf.mul(fq, z), -1, true); // [..., T, 1]
      return normalise(num, den, options);
    }
    // Prefix sums over tokens of the outer products φ(k_j) v_jᵀ: memory O(T·M·Dv).
    const outer = tf.mul(tf.expandDims(fk, -1), tf.expandDims(v, -2)); // [..., T, M, Dv]
    const S = tf.cumsum(outer, r - 2); // [..., T, M, Dv]
    const Z = tf.cumsum(fk, r - 2); // [..., T, M]
    const num = tf.squeeze(tf.matMul(tf.expandDims(fq, -2), S), [r - 1]); // [..., T, Dv]
    const den = tf.sum(tf.mul(fq, Z), -1, true); // [..., T, 1]
    return normalise(num, den, options);
  });
}

/**
 * Causal linear attention as an RNN: one token at a time with state S [M, Dv] and z [M].
 * Equal to `linearAttention(q, k, v, { causal: true, ...options })`; O(M·Dv) memory, sequential.
 * With "favor+" the keys' stabiliser is the max over all T keys (as in the parallel form, so both agree): it
 * cancels in every output, but a streaming RNN that cannot see future keys would need a running max instead.
 *
 * @param q [T, D] queries. @param k [T, D] keys. @param v [T, Dv] values.
 * @returns [T, Dv] (the caller owns it).
 */
export function linearAttentionRecurrent(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  options: Omit<LinearOptions, "causal"> = {},
): tf.Tensor2D {
  checkQkv("linear attention", q, k, v);
  if (q.rank !== 2) {
    throw new TypeError(`Cannot run the recurrent form: expected [T, D] inputs, got shape [${q.shape}]`);
  }
  checkMap(options);
  if (k.shape[0] !== q.shape[0]) {
    throw new RangeError(
      `Cannot run the recurrent form: queries and keys must have the same length, got T=${q.shape[0]}, S=${k.shape[0]}`,
    );
  }
  const T = q.shape[0], Dv = v.shape[1];
  return tf.tidy(() => {
    const [fq, fk] = features(q, k, options); // [T, M] each
    const M = (fq.shape as number[])[1];
    let state: tf.Tensor = tf.zeros([M, Dv]); // S_i = Σ_{j≤i} φ(k_j) v_jᵀ
    let z: tf.Tensor = tf.zeros([1, M]); // z_i = Σ_{j≤i} φ(k_j)
    const outs: tf.Tensor[] = [];
    for (let i = 0; i < T; i++) {
      const ki = tf.slice(fk, [i, 0], [1, M]), qi = tf.slice(fq, [i, 0], [1, M]), vi = tf.slice(v, [i, 0], [1, Dv]);
      state = tf.add(state, tf.matMul(ki, vi, true, false)); // [M, Dv]
      z = tf.add(z, ki);
      outs.push(normalise(tf.matMul(qi, state), tf.sum(tf.mul(qi, z)), options)); // [1, Dv]
    }
    return tf.concat(outs, 0) as tf.Tensor2D;
  });
}
