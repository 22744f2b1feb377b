import * as tf from "@tensorflow/tfjs";
import { assert } from "./_testing.ts";
import { initBackend } from "./backend.ts";
import { rng } from "./random.ts";

/** The plain-loop product, from values read back to JavaScript. */
function naiveMatMul(a: tf.Tensor2D, b: tf.Tensor2D): number[] {
  const A = a.arraySync(), B = b.arraySync();
  return A.flatMap((row) => B[0].map((_, j) => row.reduce((s, v, k) => s + v * B[k][j], 0)));
}

function maxErr(t: tf.Tensor, want: number[]): number {
  const got = t.dataSync();
  return Math.max(...want.map((w, i) => Math.abs(w - got[i])));
}

Deno.test("on wasm, matMul with a reshaped B matches the naive loop (tfjs-wasm operator-cache bug)", async () => {
  await initBackend({ backend: "wasm", print: false });
  const r = rng("wasm-matmul-fix");
  const X = r.tensor([4, 3]) as tf.Tensor2D, A = r.tensor([4, 4]) as tf.Tensor2D, M = r.tensor([12, 12]) as tf.Tensor2D;
  // Use X as B with its own shape first: XNNPACK caches an operator under X's buffer id.
  assert(maxErr(tf.matMul(A, X), naiveMatMul(A, X)) < 1e-5);
  // The same buffer as B with another shape: before the fix, garbage or an abort.
  const view = tf.reshape(X, [12, 1]) as tf.Tensor2D;
  assert(maxErr(tf.matMul(M, view), naiveMatMul(M, view)) < 1e-5);
  // The view outlives its source: still right.
  X.dispose();
  assert(maxErr(tf.matMul(M, view), naiveMatMul(M, view)) < 1e-5);
  // And the original shape keeps working, repeatedly.
  const Y = r.tensor([4, 3]) as tf.Tensor2D;
  for (let i = 0; i < 3; i++) assert(maxErr(tf.matMul(A, Y), naiveMatMul(A, Y)) < 1e-5);
  tf.disposeVariables();
});
