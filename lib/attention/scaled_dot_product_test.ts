import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows, f32, maxAbsDiff, naiveAttention, TEST_BACKENDS } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import { attention } from "./scaled_dot_product.ts";

const TOL = 1e-5; // float32 kernel vs float64 twin, values of order 1

for (const backend of TEST_BACKENDS) {
  Deno.test(`attention() matches the naive loop on seeded inputs (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("sdpa-test");
    for (
      const [T, S, D, Dv, causal] of [[1, 1, 4, 4, false], [5, 7, 8, 3, false], [6, 6, 16, 16, true], [
        3,
        8,
        4,
        2,
        true,
      ]] as const
    ) {
      const qa = r.normalArray(T * D), ka = r.normalArray(S * D), va = r.normalArray(S * Dv);
      const before = tf.memory().numTensors;
      const [q, k, v] = [f32(qa, [T, D]), f32(ka, [S, D]), f32(va, [S, Dv])];
      const { output, weights } = attention(q, k, v, { causal });
      const twin = naiveAttention(qa, ka, va, T, S, D, Dv, (i, j) => !causal || j <= i + S - T);
      assert(maxAbsDiff(output.dataSync(), twin.out) < TOL, `output differs at T=${T} S=${S} causal=${causal}`);
      assert(maxAbsDiff(weights.dataSync(), twin.w) < TOL, `weights differ at T=${T} S=${S} causal=${causal}`);
      assertEquals(output.shape, [T, Dv]);
      assertEquals(weights.shape, [T, S]);
      tf.dispose([q, k, v, output, weights]);
      assertEquals(tf.memory().numTensors, before, "attention() leaked tensors");
    }
  });

  Deno.test(`attention() handles batches, masks, huge logits and NaN (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("sdpa-edge");
    // Batched [B, H, T, D] equals per-slice results.
    const q = r.tensor([2, 3, 4, 8]), k = r.tensor([2, 3, 5, 8]), v = r.tensor([2, 3, 5, 6]);
    const { output } = attention(q, k, v);
    const qa = q.arraySync() as number[][][][],
      ka = k.arraySync() as number[][][][],
      va = v.arraySync() as number[][][][];
    const oa = output.arraySync() as number[][][][];
    const twin = naiveAttention(
      Float64Array.from(qa[1][2].flat()),
      Float64Array.from(ka[1][2].flat()),
      Float64Array.from(va[1][2].flat()),
      4,
      5,
      8,
      6,
      () => true,
    );
    assert(maxAbsDiff(oa[1][2].flat(), twin.out) < TOL);

    // A fully masked row gives zero weights and zero output, not NaN; the rest are unchanged.
    const mask = tf.tensor2d([[1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [1, 0, 1, 0, 1], [0, 0, 0, 0, 1]], [4, 5], "bool");
    const masked = attention(q, k, v, { mask });
    const w = masked.weights.arraySync() as number[][][][];
    assertEquals(w[0][0][1], [0, 0, 0, 0, 0]);
    assertEquals((masked.output.arraySync() as number[][][][])[0][0][1], [0, 0, 0, 0, 0, 0]);
    assert(Math.abs(w[0][0][3][4] - 1) < 1e-7, `one visible key: weight ${w[0][0][3][4]}`); // 1 − 2⁻²⁴ on tensorflow
    assertEquals([w[0][0][2][1], w[0][0][2][3]], [0, 0]);

    // …and its gradient is finite: zero through the empty row, the unmasked rows' own elsewhere (a NaN here made
    // lesson 09's clustered kernel diverge whenever a query's cluster held no key).
    const loss = (x: tf.Tensor) => tf.sum(attention(x, k, v, { mask }).output);
    const grad = tf.grad(loss)(q).arraySync() as number[][][][];
    assert(grad.flat(3).every(Number.isFinite), "NaN or ∞ in the gradient of a masked attention");
    assertEquals(grad[0][0][1], new Array(8).fill(0));
    assert(grad[0][0][0].some((g) => g !== 0), "the unmasked row has a gradient");

    // Additive -Infinity masks equal boolean masks.
    const additive = tf.where(mask, tf.zeros([4, 5]), tf.fill([4, 5], -Infinity));
    const viaAdditive = attention(q, k, v, { mask: additive });
    assert(maxAbsDiff(viaAdditive.output.dataSync(), masked.output.dataSync()) === 0);

    // Huge logits do not overflow: the row becomes one-hot on its largest score.
    const big = tf.tensor2d([[1000, 0]]), keys = tf.tensor2d([[1, 0], [2, 0]]), vals = tf.tensor2d([[1], [5]]);
    const huge = attention(big, keys, vals, { scale: 1 });
    assertEquals(Array.from(huge.weights.dataSync()), [0, 1]);
    assertEquals(Array.from(huge.output.dataSync()), [5]);

    // NaN in one query propagates to that row only.
    const withNaN = tf.tensor2d([[NaN, 0], [1, 0]]);
    const nan = attention(withNaN, keys, vals);
    const out = nan.output.dataSync();
    assert(Number.isNaN(out[0]) && Number.isFinite(out[1]));
    tf.dispose([
      q,
      k,
      v,
      output,
      mask,
      masked.output,
      masked.weights,
      additive,
      viaAdditive.output,
      viaAdditive.weights,
    ]);
    tf.dispose([big, keys, vals, huge.output, huge.weights, withNaN, nan.output, nan.weights]);
  });
}

Deno.test("attention() names the bad argument and its shape", async () => {
  await initBackend({ backend: "cpu", print: false });
  const q = tf.zeros([2, 10, 64]), k = tf.zeros([2, 10, 32]), v = tf.zeros([2, 9, 32]);
  assertThrows(
    () => attention(q, k, k),
    TypeError,
    "Cannot compute attention: keys must have the same last dimension as queries (64), got shape [2,10,32]",
  );
  assertThrows(() => attention(k, k, v), TypeError, "values must have as many rows as keys (10), got shape [2,9,32]");
  assertThrows(() => attention(q, q, q, { scale: NaN }), RangeError, "scale must be a finite number");
  assertThrows(() => attention(tf.zeros([4]), q, q), TypeError, "queries must have rank 2 or more");
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => attention([[1]] as any, q, q),
    TypeError,
    "queries must be a tf.Tensor",
  );
  tf.dispose([q, k, v]);
});
