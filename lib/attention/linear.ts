/**
 * Linear attention through a feature map φ (Katharopoulos et al. 2020, eq. 4–6 and 16–20):
 * out_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / φ(q_i)ᵀ Σ_j φ(k_j). Reordering the product costs O(T·M·Dv)
 * instead of O(T²·D). Causal: the sums run over j ≤ i — as prefix sums (parallel form) or as an RNN
 * with state S_i = S_{i−1} + φ(k_i) v_iᵀ, z_i = z_{i−1} + φ(k_i) (recurrent form); both are here.
 * Shapes: q, k [..., T, D]; v [..., T, Dv]; features M = D for elu+1 and ReLU.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** A feature map φ. */
export type FeatureMap = "elu+1" | "relu";

/** Options for {@linkcode linearAttention}. */
export interface LinearOptions {
  /** Sum only over j ≤ i. */
  causal?: boolean;
  /** φ (default "elu+1", positive everywhere). */
  featureMap?: FeatureMap;
  /** Added to the normaliser to avoid 0/0 (default 1e-6; ReLU features can all be 0). */
  eps?: number;
}

/** φ(x) applied elementwise. */
export function applyFeatureMap(x: tf.Tensor, map: FeatureMap = "elu+1"): tf.Tensor {
  if (map === "elu+1") return tf.tidy(() => tf.add(tf.elu(x), 1));
  if (map === "relu") return tf.relu(x);
  throw new RangeError(`Cannot apply a feature map: expected "elu+1" or "relu", got "${map}"`);
}

function check(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): void {
  for (const [name, t] of [["queries", q], ["keys", k], ["values", v]] as const) {
    if (!(t instanceof tf.Tensor) || t.rank < 2) {
      throw new TypeError(
        `Cannot compute linear attention: ${name} must be a tf.Tensor of rank 2 or more ([..., T, D])`,
      );
    }
  }
  const r = q.rank;
  if (k.shape[r - 1] !== q.shape[r - 1]) {
    throw new TypeError(
      `Cannot compute linear attention: keys must have the same last dimension as queries (${
        q.shape[r - 1]
      }), got shape [${k.shape}]`,
    );
  }
  if (v.shape[r - 2] !== k.shape[r - 2]) {
    throw new TypeError(
      `Cannot compute linear attention: values must have as many rows as keys (${
        k.shape[r - 2]
      }), got shape [${v.shape}]`,
    );
  }
}

/**
 * Linear attention, parallel form (causal via prefix sums of φ(k_j) v_jᵀ).
 *
 * @param q [..., T, D] queries.
 * @param k [..., S, D] keys (S = T when causal).
 * @param v [..., S, Dv] values.
 * @param options Causal flag, feature map, eps.
 * @returns [..., T, Dv] (the caller owns it).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { linearAttention } from "./linear.ts";
 * await tf.setBackend("cpu");
 * const x = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
 * const out = linearAttention(x, x, x, { causal: true });
 * if (out.shape.join() !== "3,2") throw new Error("bad shape");
 * tf.dispose([x, out]);
 * ```
 */
export function linearAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, options: LinearOptions = {}): tf.Tensor {
  check(q, k, v);
  const { causal = false, featureMap = "elu+1", eps = 1e-6 } = options;
  const r = q.rank;
  if (causal && q.shape[r - 2] !== k.shape[r - 2]) {
    throw new RangeError(
      `Cannot compute causal linear attention: queries and keys must have the same length, got T=${q.shape[r - 2]}, S=${
        k.shape[r - 2]
      }`,
    );
  }
  return tf.tidy(() => {
    const fq = applyFeatureMap(q, featureMap); // [..., T, M]
    const fk = applyFeatureMap(k, featureMap); // [..., S, M]
    const perm = [...Array(r - 2).keys(), r - 1, r - 2];
    if (!causal) {
      const kv = tf.matMul(tf.transpose(fk, perm), v); // [..., M, Dv]
      const z = tf.sum(fk, r - 2, true); // [..., 1, M]
      const num = tf.matMul(fq, kv); // [..., T, Dv]
      const den = tf.sum(tf.mul(fq, z), -1, true); // [..., T, 1]
      return tf.div(num, tf.add(den, eps));
    }
    // Prefix sums over tokens of the outer products φ(k_j) v_jᵀ: memory O(T·M·Dv).
    const outer = tf.mul(tf.expandDims(fk, -1), tf.expandDims(v, -2)); // [..., T, M, Dv]
    const S = tf.cumsum(outer, r - 2); // [..., T, M, Dv]
    const Z = tf.cumsum(fk, r - 2); // [..., T, M]
    const num = tf.squeeze(tf.matMul(tf.expandDims(fq, -2), S), [r - 1]); // [..., T, Dv]
    const den = tf.sum(tf.mul(fq, Z), -1, true); // [..., T, 1]
    return tf.div(num, tf.add(den, eps));
  });
}

/**
 * Causal linear attention as an RNN: one token at a time with state S [M, Dv] and z [M].
 * Equal to `linearAttention(q, k, v, { causal: true })`; O(M·Dv) memory, sequential.
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
  check(q, k, v);
  if (q.rank !== 2) {
    throw new TypeError(`Cannot run the recurrent form: expected [T, D] inputs, got shape [${q.shape}]`);
  }
  const { featureMap = "elu+1", eps = 1e-6 } = options;
  const [T, D] = q.shape, Dv = v.shape[1];
  return tf.tidy(() => {
    const fq = applyFeatureMap(q, featureMap), fk = applyFeatureMap(k, featureMap);
    let state: tf.Tensor = tf.zeros([D, Dv]); // S_i = Σ_{j≤i} φ(k_j) v_jᵀ
    let z: tf.Tensor = tf.zeros([1, D]); // z_i = Σ_{j≤i} φ(k_j)
    const outs: tf.Tensor[] = [];
    for (let i = 0; i < T; i++) {
      const ki = tf.slice(fk, [i, 0], [1, D]), qi = tf.slice(fq, [i, 0], [1, D]), vi = tf.slice(v, [i, 0], [1, Dv]);
      state = tf.add(state, tf.matMul(ki, vi, true, false)); // [D, Dv]
      z = tf.add(z, ki);
      outs.push(tf.div(tf.matMul(qi, state), tf.add(tf.sum(tf.mul(qi, z)), eps))); // [1, Dv]
    }
    return tf.concat(outs, 0) as tf.Tensor2D;
  });
}
