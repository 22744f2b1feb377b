/**
 * Causal masks built on the host. (On wasm, `tf.greater` of a broadcast [T, 1] and [1, S] range costs ~120 ms at
 * T = S = 1024; writing the same T·S bytes from a typed array costs ~2 ms.) Private to lib/attention/.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** [T, S] bool: true where key j is in query i's future, j > i + offset. */
export function futureMask(T: number, S: number, offset: number): tf.Tensor2D {
  const m = new Uint8Array(T * S);
  for (let i = 0; i < T; i++) m.fill(1, i * S + Math.max(0, Math.min(S, i + offset + 1)), (i + 1) * S);
  return tf.tensor2d(m, [T, S], "bool");
}

/** [T, S] float32: −∞ where j > i + offset, 0 elsewhere (an additive mask). */
export function futureAdditive(T: number, S: number, offset: number): tf.Tensor2D {
  const m = new Float32Array(T * S);
  for (let i = 0; i < T; i++) m.fill(-Infinity, i * S + Math.max(0, Math.min(S, i + offset + 1)), (i + 1) * S);
  return tf.tensor2d(m, [T, S]);
}
