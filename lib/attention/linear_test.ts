import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows, f32, maxAbsDiff, TEST_BACKENDS } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import { applyFeatureMap, linearAttention, linearAttentionRecurrent } from "./linear.ts";

const phi = (x: number, map: "elu+1" | "relu") => map === "relu" ? Math.max(0, x) : x > 0 ? x + 1 : Math.exp(x);

/** The slow twin: the quadratic form, weights a_ij = φ(q_i)·φ(k_j) / Σ_j φ(q_i)·φ(k_j), in Float64 loops. */
function naive(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  T: number,
  S: number,
  D: number,
  Dv: number,
  causal: boolean,
  map: "elu+1" | "relu",
) {
  const out = new Float64Array(T * Dv);
  for (let i = 0; i < T; i++) {
    const w: number[] = [];
    for (let j = 0; j < S; j++) {
      let dot = 0;
      for (let c = 0; c < D; c++) dot += phi(q[i * D + c], map) * phi(k[j * D + c], map);
      w.push(causal && j > i ? 0 : dot);
    }
    const z = w.reduce((a, b) => a + b, 0) + 1e-6;
    for (let j = 0; j < S; j++) for (let c = 0; c < Dv; c++) out[i * Dv + c] += (w[j] / z) * v[j * Dv + c];
  }
  return out;
}

for (const backend of TEST_BACKENDS) {
  Deno.test(`linearAttention() matches the quadratic loop, parallel and recurrent forms agree (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("linear-test");
    for (const map of ["elu+1", "relu"] as const) {
      for (const [T, S, D, Dv, causal] of [[1, 1, 3, 2, true], [6, 6, 4, 5, true], [5, 8, 4, 3, false]] as const) {
        const [qa, ka, va] = [r.normalArray(T * D), r.normalArray(S * D), r.normalArray(S * Dv)];
        const twin = naive(qa, ka, va, T, S, D, Dv, causal, map);
        const [q, k, v] = [f32(qa, [T, D]), f32(ka, [S, D]), f32(va, [S, Dv])];
        const before = tf.memory().numTensors;
        const out = linearAttention(q, k, v, { causal, featureMap: map });
        assert(
          maxAbsDiff(out.dataSync(), twin) < 1e-4,
          `${map} T=${T} causal=${causal}: ${maxAbsDiff(out.dataSync(), twin)}`,
        );
        if (causal) {
          const rnn = linearAttentionRecurrent(q, k, v, { featureMap: map });
          assert(maxAbsDiff(rnn.dataSync(), out.dataSync()) < 1e-5, "the RNN form differs from the parallel form");
          rnn.dispose();
        }
        out.dispose();
        assertEquals(tf.memory().numTensors, before, "linear attention leaked tensors");
        tf.dispose([q, k, v]);
      }
    }
  });
}

Deno.test("linear attention works on batches and names bad input", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = rng("linear-batch");
  const q = r.tensor([2, 3, 7, 4]), k = r.tensor([2, 3, 7, 4]), v = r.tensor([2, 3, 7, 5]);
  const out = linearAttention(q, k, v, { causal: true });
  const slice = (x: tf.Tensor) => tf.reshape(tf.slice(x, [1, 2, 0, 0], [1, 1, -1, -1]), [7, -1]) as tf.Tensor2D;
  const rnn = linearAttentionRecurrent(slice(q), slice(k), slice(v));
  assert(maxAbsDiff(slice(out).dataSync(), rnn.dataSync()) < 1e-5);
  assertThrows(
    () => linearAttention(q, r.tensor([2, 3, 6, 4]), r.tensor([2, 3, 6, 5]), { causal: true }),
    RangeError,
    "must have the same length, got T=7, S=6",
  );
  assertThrows(() => applyFeatureMap(q, "tanh" as never), RangeError, 'expected "elu+1" or "relu", got "tanh"');
  assertThrows(
    () => linearAttention(q, r.tensor([2, 3, 7, 3]), v),
    TypeError,
    "keys must have the same last dimension as queries (4)",
  );
  tf.disposeVariables();
});
