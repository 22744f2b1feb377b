import * as tf from "@tensorflow/tfjs";
import { GRADIENT_FIXES } from "./_gradient_fixes.ts";
import { initBackend } from "./backend.ts";
import { assert, assertEquals } from "./_testing.ts";

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`the corrected Cumsum gradient is the reverse cumulative sum along any axis on ${backend}`, async () => {
    await initBackend({ backend, print: false });
    assert(GRADIENT_FIXES.includes("Cumsum"));
    // y = cumsum(x, axis 1) on [2, 3, 2]; L = Σ y ⊙ w with w[b, i, c] = i + 1: ∂L/∂x[b, j, c] = Σ_{i ≥ j} (i + 1).
    const x = tf.ones([2, 3, 2]);
    const w = tf.tensor3d([[[1, 1], [2, 2], [3, 3]], [[1, 1], [2, 2], [3, 3]]]);
    for (const [reverse, expected] of [[false, [6, 5, 3]], [true, [1, 3, 6]]] as const) {
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.cumsum(t, 1, false, reverse), w)))(x);
      assertEquals(g.shape, [2, 3, 2]);
      assertEquals(Array.from(await g.data()), [0, 1].flatMap(() => expected.flatMap((e) => [e, e])));
      g.dispose();
    }
    tf.dispose([x, w]);
  });

  Deno.test(`the corrected BatchMatMul gradient sums over broadcast batch dimensions on ${backend}`, async () => {
    await initBackend({ backend, print: false });
    // L = Σ_b Σ (E·K_b): ∂L/∂E = Σ_b 1·K_bᵀ, so every entry of E's gradient is the sum of a row of Σ_b K_b.
    const E = tf.tensor2d([[1, 2], [3, 4]]); // [k=2, S=2]
    const K = tf.tensor3d([[[1, 0], [0, 1]], [[2, 0], [0, 3]]]); // [B=2, S=2, D=2]
    const [gE, gK] = tf.grads((e: tf.Tensor, k: tf.Tensor) => tf.sum(tf.matMul(e, k)))([E, K]);
    assertEquals(gE.shape, [2, 2]);
    assertEquals(Array.from(await gE.data()), [3, 4, 3, 4]); // Σ_b K_b = [[3, 0], [0, 4]], rows sum to 3 and 4
    assertEquals(gK.shape, [2, 2, 2]);
    assertEquals(Array.from(await gK.data()), [4, 4, 6, 6, 4, 4, 6, 6]); // column sums of E, per batch
    tf.dispose([E, K, gE, gK]);
  });

  Deno.test(`masks built with comparisons no longer block gradients on ${backend}`, async () => {
    await initBackend({ backend, print: false });
    const x = tf.tensor1d([-Infinity, 1, 2]);
    // where(x == −∞, 0, x)·3: gradient 3 where x is finite, 0 where it was replaced.
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.where(tf.equal(t, -Infinity), tf.zerosLike(t), t), 3)))(x);
    assertEquals(Array.from(await g.data()), [0, 3, 3]);
    tf.dispose([x, g]);
  });
}
