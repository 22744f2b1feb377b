/**
 * Corrects three gaps in the gradients TensorFlow.js 4.22 registers, found by the finite-difference tests of
 * the attention kernels (lib/train/gradients_test.ts):
 *
 * - `Cumsum` along any axis but the last: tfjs computes the reverse cumulative sum of dy along the right axis,
 *   then transposes it as if it had moved that axis last, giving a wrongly shaped (or, for a square slice,
 *   silently wrong) gradient. Causal linear attention's prefix sums run along the token axis, not the last.
 * - `BatchMatMul` with broadcast batch dimensions (`matMul(E [k, S], K [B, S, D])`, as Linformer's shared E does):
 *   tfjs returns E's gradient with the batch dimensions still on ([B, k, S]) instead of summing over them.
 * - Comparisons (`Equal`, `Greater`, …) and logical ops have no gradient at all, so a kernel that masks with
 *   `tf.where(tf.equal(x, …), …)` cannot be differentiated ("gradient function not found for Equal"). Their
 *   gradient is zero almost everywhere (a step function), as TensorFlow and PyTorch define it.
 *
 * Registered once when this module loads; lib/backend.ts imports it, and so do lib/model and lib/train.
 * Private to lib/.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** The gradients this module registered, in order (for tests and for the curious). */
export const GRADIENT_FIXES: string[] = [];

type Attrs = Record<string, unknown>;

function register(config: tf.GradConfig): void {
  tf.registerGradient(config);
  GRADIENT_FIXES.push(config.kernelName);
}

/** Sums a broadcast gradient back to the shape of the input it belongs to. */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.shape.join() === shape.join()) return g;
  const axes = tf.backend_util.getReductionAxes(shape, g.shape);
  return tf.reshape(axes.length ? tf.sum(g, axes) : g, shape);
}

register({
  kernelName: "Cumsum",
  gradFunc: (dy, _saved, attrs) => {
    const { axis, exclusive, reverse } = attrs as Attrs as { axis: number; exclusive: boolean; reverse: boolean };
    // y_i = Σ_{j ≤ i} x_j  ⇒  ∂L/∂x_j = Σ_{i ≥ j} ∂L/∂y_i: the cumulative sum of dy in the other direction.
    return { x: () => tf.cumsum(dy as tf.Tensor, axis, exclusive, !reverse) };
  },
});

register({
  kernelName: "BatchMatMul",
  inputsToSave: ["a", "b"],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    const d = dy as tf.Tensor;
    const { transposeA, transposeB } = attrs as Attrs as { transposeA: boolean; transposeB: boolean };
    const [da, db] = !transposeA && !transposeB
      ? [() => tf.matMul(d, b, false, true), () => tf.matMul(a, d, true, false)]
      : !transposeA && transposeB
      ? [() => tf.matMul(d, b, false, false), () => tf.matMul(d, a, true, false)]
      : transposeA && !transposeB
      ? [() => tf.matMul(b, d, false, true), () => tf.matMul(a, d, false, false)]
      : [() => tf.matMul(b, d, true, true), () => tf.matMul(d, a, true, true)];
    return { a: () => reduceTo(da(), a.shape), b: () => reduceTo(db(), b.shape) };
  },
});

// Step functions: zero gradient, shaped like each input. Only where tfjs has none (never replacing one).
const BINARY = ["Equal", "NotEqual", "Greater", "GreaterEqual", "Less", "LessEqual", "LogicalAnd", "LogicalOr"];
const UNARY = ["LogicalNot", "IsNan", "IsInf", "IsFinite"];
for (const name of [...BINARY, ...UNARY]) {
  if (tf.getGradient(name)) continue;
  const inputs = BINARY.includes(name) ? ["a", "b"] : ["x"];
  register({
    kernelName: name,
    inputsToSave: inputs,
    gradFunc: (_dy, saved) => Object.fromEntries(inputs.map((n, i) => [n, () => tf.zerosLike(saved[i])])),
  });
}
