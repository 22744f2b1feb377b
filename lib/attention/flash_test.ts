import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows, f32, maxAbsDiff, naiveAttention, TEST_BACKENDS } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import { attention } from "./scaled_dot_product.ts";
import { flashAttention } from "./flash.ts";

const TOL = 1e-5;

for (const backend of TEST_BACKENDS) {
  Deno.test(`flashAttention() matches the naive loop for every tiling (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("flash-test");
    for (
      const [T, S, D, Dv, causal] of [[1, 1, 4, 4, false], [7, 7, 8, 5, true], [5, 9, 4, 3, true], [
        6,
        10,
        8,
        8,
        false,
      ]] as const
    ) {
      const [qa, ka, va] = [r.normalArray(T * D), r.normalArray(S * D), r.normalArray(S * Dv)];
      const twin = naiveAttention(qa, ka, va, T, S, D, Dv, (i, j) => !causal || j <= i + S - T).out;
      const [q, k, v] = [f32(qa, [T, D]), f32(ka, [S, D]), f32(va, [S, Dv])];
      // Small tiles run the online recurrence; a key tile holding every visible key runs the fused-softmax path.
      for (const [blockQ, blockK] of [[1, 1], [2, 3], [3, 2], [2, 4], [3, 5], [2, 128], [128, 128]]) {
        const before = tf.memory().numTensors;
        const out = flashAttention(q, k, v, { causal, blockQ, blockK });
        const err = maxAbsDiff(out.dataSync(), twin);
        assert(err < TOL, `T=${T} S=${S} causal=${causal} tiles ${blockQ}×${blockK}: error ${err}`);
        out.dispose();
        assertEquals(tf.memory().numTensors, before, "flashAttention() leaked tensors");
      }
      tf.dispose([q, k, v]);
    }
  });
}

for (const backend of TEST_BACKENDS) {
  Deno.test(`flashAttention() with its default tiles matches the naive loop across tile edges (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("flash-default-tiles");
    // Default query tiles: 512 rows at S = 600 (two tiles, the second of 88), 256 at S = 3000 (12 tiles, the last
    // of 184 rows); causal with S > T reads K in rows on the BLAS backends and as Kᵀ elsewhere.
    for (const [T, S, D, causal] of [[600, 600, 8, true], [600, 600, 8, false], [700, 3000, 4, true]] as const) {
      const [qa, ka, va] = [r.normalArray(T * D), r.normalArray(S * D), r.normalArray(S * D)];
      const twin = naiveAttention(qa, ka, va, T, S, D, D, (i, j) => !causal || j <= i + S - T).out;
      const [q, k, v] = [f32(qa, [T, D]), f32(ka, [S, D]), f32(va, [S, D])];
      const before = tf.memory().numTensors;
      const out = flashAttention(q, k, v, { causal });
      const err = maxAbsDiff(out.dataSync(), twin);
      assert(err < TOL, `T=${T} S=${S} causal=${causal} default tiles: error ${err}`);
      out.dispose();
      assertEquals(tf.memory().numTensors, before, "flashAttention() leaked tensors");
      tf.dispose([q, k, v]);
    }
  });
}

Deno.test("flashAttention() equals attention() on batches, huge logits, NaN and fully masked rows", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = rng("flash-edge");
  const q = r.tensor([2, 3, 9, 8]), k = r.tensor([2, 3, 9, 8]), v = r.tensor([2, 3, 9, 4]);
  const ref = attention(q, k, v, { causal: true });
  const out = flashAttention(q, k, v, { causal: true, blockQ: 4, blockK: 2 });
  const diff = tf.max(tf.abs(tf.sub(ref.output, out))).dataSync()[0];
  assert(diff < TOL, `batched difference ${diff}`);
  // Huge logits: the online softmax rescales instead of overflowing.
  const big = tf.tensor2d([[1000, 0], [-1000, 0]]),
    keys = tf.tensor2d([[1, 0], [2, 0], [-1, 0]]),
    vals = tf.tensor2d([[1], [5], [7]]);
  assertEquals(Array.from(flashAttention(big, keys, vals, { scale: 1, blockK: 1 }).dataSync()), [5, 7]);
  // NaN in one query stays in that row.
  const nanOut = flashAttention(tf.tensor2d([[NaN, 0], [1, 0]]), keys, vals, { blockK: 2 }).dataSync();
  assert(Number.isNaN(nanOut[0]) && Number.isFinite(nanOut[1]));
  // T > S is rejected for causal; bad tiles are named.
  assertThrows(
    () => flashAttention(keys, big, big, { causal: true }),
    RangeError,
    "needs at least as many keys as queries",
  );
  assertThrows(() => flashAttention(q, k, v, { blockQ: 0 }), RangeError, "blockQ must be a positive integer, got 0");
  assertThrows(
    () => flashAttention(q, r.tensor([2, 3, 9, 5]), v),
    TypeError,
    "keys must have the same last dimension as queries (8), got shape [2,3,9,5]",
  );
  tf.disposeVariables();
});
