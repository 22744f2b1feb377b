import * as tf from "@tensorflow/tfjs-core";
import { assert, assertEquals, assertThrows } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import { attention } from "./scaled_dot_product.ts";
import { flashAttention } from "./flash.ts";

/** The slow twin: plain Float64 loops over one [T, D] slice, softmax computed in one pass. */
function naive(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  T: number,
  S: number,
  D: number,
  Dv: number,
  causal: boolean,
) {
  const out = new Float64Array(T * Dv);
  for (let i = 0; i < T; i++) {
    const s: number[] = [];
    for (let j = 0; j < S; j++) {
      let dot = 0;
      for (let c = 0; c < D; c++) dot += q[i * D + c] * k[j * D + c];
      s.push(causal && j > i + S - T ? -Infinity : dot / Math.sqrt(D));
    }
    const m = Math.max(...s);
    const e = s.map((x) => m === -Infinity ? 0 : Math.exp(x - m));
    const z = e.reduce((a, b) => a + b, 0);
    for (let j = 0; j < S; j++) {
      for (let c = 0; c < Dv; c++) {
        out[i * Dv + c] += z === 0 ? 0 : (e[j] / z) * v[j * Dv + c];
      }
    }
  }
  return out;
}

const TOL = 1e-5;

for (const backend of ["cpu", "wasm"] as const) {
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
      const twin = naive(qa, ka, va, T, S, D, Dv, causal);
      const [q, k, v] = [[qa, T, D], [ka, S, D], [va, S, Dv]].map(([a, n, d]) =>
        tf.tensor2d(Float32Array.from(a as Float64Array), [n as number, d as number])
      );
      for (const [blockQ, blockK] of [[1, 1], [2, 3], [3, 2], [128, 128]]) {
        const before = tf.memory().numTensors;
        const out = flashAttention(q, k, v, { causal, blockQ, blockK });
        const got = out.dataSync();
        const err = Math.max(...Array.from(twin, (x, i) => Math.abs(x - got[i])));
        assert(err < TOL, `T=${T} S=${S} causal=${causal} tiles ${blockQ}×${blockK}: error ${err}`);
        out.dispose();
        assertEquals(tf.memory().numTensors, before, "flashAttention() leaked tensors");
      }
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
