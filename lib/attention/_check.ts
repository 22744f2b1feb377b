/**
 * Input checks shared by the attention kernels. Private to lib/attention/.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Throws a TypeError naming the kernel (`what`) unless q [..., T, D], k [..., S, D] and v [..., S, Dv] are tensors
 * of rank ≥ 2 with matching D, S and batch dimensions; and a RangeError for a non-finite `scale`.
 */
export function checkQkv(what: string, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, scale?: number): void {
  for (const [name, t] of [["queries", q], ["keys", k], ["values", v]] as const) {
    if (!(t instanceof tf.Tensor) || t.rank < 2) {
      throw new TypeError(
        `Cannot compute ${what}: ${name} must be a tf.Tensor of rank 2 or more ([..., T, D]), got ${
          t instanceof tf.Tensor ? `shape [${t.shape}]` : typeof t
        }`,
      );
    }
  }
  const D = q.shape[q.rank - 1];
  if (k.shape[k.rank - 1] !== D) {
    throw new TypeError(
      `Cannot compute ${what}: keys must have the same last dimension as queries (${D}), got shape [${k.shape}]`,
    );
  }
  if (v.shape[v.rank - 2] !== k.shape[k.rank - 2]) {
    throw new TypeError(
      `Cannot compute ${what}: values must have as many rows as keys (${k.shape[k.rank - 2]}), got shape [${v.shape}]`,
    );
  }
  const batch = (t: tf.Tensor) => t.shape.slice(0, -2).join(",");
  if (batch(q) !== batch(k) || batch(k) !== batch(v)) {
    throw new TypeError(
      `Cannot compute ${what}: queries, keys and values must share batch dimensions, got [${q.shape}], [${k.shape}], [${v.shape}]`,
    );
  }
  if (scale !== undefined && !Number.isFinite(scale)) {
    throw new RangeError(`Cannot compute ${what}: scale must be a finite number, got ${scale}`);
  }
}
