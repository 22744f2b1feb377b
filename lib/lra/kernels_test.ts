import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import { attention } from "../attention/scaled_dot_product.ts";
import { flashAttention } from "../attention/flash.ts";
import { linformerAttention } from "../attention/linformer.ts";
import { linearAttention } from "../attention/linear.ts";
import { blockSparseAttention } from "../attention/block_sparse.ts";
import { clusteredAttention } from "../attention/clustered.ts";
import { synthesizerAttention } from "../attention/synthesizer.ts";
import { assert, assertEquals, assertThrows } from "../_testing.ts";
import { LRA_KERNELS, lraCentroids, type LraKernel, lraKind, lraModel } from "./kernels.ts";
import { lraConfig } from "./run.ts";

await initBackend({ backend: "wasm", print: false });

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

Deno.test("every LRA model has the softmax model's parameter count, to within one feed-forward unit per layer", () => {
  for (const [T, layers] of [[64, 1], [256, 2]]) {
    const d = 32, shape = { vocab: 18, length: T, d, heads: 2, layers };
    const ffns: Record<string, number> = {};
    for (const kernel of LRA_KERNELS) {
      const { model, budget, ffn } = lraModel(kernel, shape, 1);
      ffns[kernel] = ffn;
      assert(
        Math.abs(model.parameters - budget) <= layers * (d + 1),
        `${kernel} at T = ${T}: ${model.parameters} parameters against a budget of ${budget}`,
      );
      model.dispose();
    }
    // The budget does work: the kernels with weights of their own gave up feed-forward width, the Synthesizer
    // (no W_Q, W_K) too at these lengths, the stateless kernels none.
    assert(ffns.linformer < 4 * d && ffns.synthesizer < 4 * d, JSON.stringify(ffns));
    assertEquals([ffns.softmax, ffns.flash, ffns["elu+1"], ffns["favor+"], ffns.window], Array(5).fill(4 * d));
  }
  assertThrows(
    () => lraModel("linformer", { vocab: 18, length: 4096, d: 8, layers: 1 }, 1),
    RangeError,
    "linformer's own weights (131072 more than softmax's) exceed the feed-forward budget at T = 4096",
  );
  assertThrows(() => lraKind("lsh" as LraKernel), RangeError, "name must be one of softmax, flash, linformer");
});

Deno.test("each LRA kernel's layer calls its own lib kernel: equal to the direct call, unlike softmax", () => {
  const [B, H, T, D] = [2, 2, 64, 8]; // 8 blocks of 8: BigBird keeps 5 of them per query block
  const r = rng("lra/routing");
  const [q, k, v] = [r.tensor([B, H, T, D]), r.tensor([B, H, T, D]), r.tensor([B, H, T, D])];
  const h = r.tensor([B, T, H * D]); // the layer input (read by the Synthesizer only)
  const info = { layer: 0, heads: H, d: H * D, D, maxLen: T, causal: false, rng: rng("lra/routing/layer") };
  const dense = attention(q, k, v).output;
  const direct: Record<LraKernel, (vars: tf.Variable[]) => tf.Tensor> = {
    softmax: () => attention(q, k, v).output,
    flash: () => flashAttention(q, k, v, { blockQ: 32 }), // two query tiles at T = 64
    linformer: ([E, F]) => linformerAttention(q, k, v, E, F),
    "elu+1": () => linearAttention(q, k, v, { featureMap: "elu+1" }),
    "favor+": ([omega]) => linearAttention(q, k, v, { featureMap: "favor+", features: omega }),
    window: () => blockSparseAttention(q, k, v, { block: 8, window: 1 }),
    bigbird: () =>
      blockSparseAttention(q, k, v, {
        block: 8,
        window: 1,
        global: [0],
        random: { perRow: 1, rng: rng("lra/bigbird") },
      }),
    clustered: () => clusteredAttention(q, k, v, { centroids: lraCentroids(info.rng.fork("centroids"), 4, D) }).output,
    synthesizer: ([w1, b1, w2, b2]) =>
      synthesizerAttention(tf.tile(tf.expandDims(h, 1), [1, H, 1, 1]), v, {
        kind: "dense",
        w1: w1 as tf.Tensor2D,
        b1: b1 as tf.Tensor1D,
        w2: w2 as tf.Tensor2D,
        b2: b2 as tf.Tensor1D,
      }).output,
  };
  for (const kernel of LRA_KERNELS) {
    const layer = lraKind(kernel).make(info);
    const out = layer.apply(q, k, v, h);
    const ref = tf.tidy(() => direct[kernel](layer.variables));
    assertEquals(out.shape, [B, H, T, D], kernel);
    assert(maxDiff(out, ref) < 1e-5, `${kernel}: differs from its lib kernel by ${maxDiff(out, ref)}`);
    const fromSoftmax = maxDiff(out, dense);
    // Flash is exact attention; every other kernel computes something else on these inputs.
    if (kernel === "softmax" || kernel === "flash") assert(fromSoftmax < 1e-5, `${kernel}: ${fromSoftmax}`);
    else assert(fromSoftmax > 1e-2, `${kernel} gave softmax's output (differs by ${fromSoftmax})`);
    tf.dispose([out, ref, ...layer.variables]);
  }
  tf.dispose([q, k, v, h, dense]);
});

Deno.test("the flash model never holds a T×T score matrix; the softmax model does", async () => {
  const [B, H, T, D] = [2, 2, 256, 8];
  const r = rng("lra/flash-memory");
  const [q, k, v] = [r.tensor([B, H, T, D]), r.tensor([B, H, T, D]), r.tensor([B, H, T, D])];
  const peak = async (kernel: LraKernel) => {
    const layer = lraKind(kernel).make({ layer: 0, heads: H, d: H * D, D, maxLen: T, causal: false, rng: rng(0) });
    const before = tf.memory().numBytes;
    const p = await tf.profile(() => layer.apply(q, k, v, q));
    tf.dispose(p.result as tf.Tensor);
    return p.peakBytes - before;
  };
  const scores = B * H * T * T * 4; // one float32 [B, H, T, T]
  const [soft, flash] = [await peak("softmax"), await peak("flash")];
  assert(soft >= scores, `softmax peaked at ${soft} bytes, less than one score matrix (${scores})`);
  assert(flash < scores / 2, `flash peaked at ${flash} bytes, against ${scores} for one score matrix`);
  tf.dispose([q, k, v]);
});

Deno.test("an LRA model is reproducible from its seed and another seed gives other weights", () => {
  const shape = { vocab: 18, length: 16, d: 16, heads: 2, layers: 1 };
  const ids = [[2, 3, 12, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5, 6, 7, 1]];
  for (const kernel of ["linformer", "clustered", "bigbird"] as const) {
    const [a, b, c] = [lraModel(kernel, shape, 1), lraModel(kernel, shape, 1), lraModel(kernel, shape, 2)];
    const [la, lb, lc] = [a.model.forward(ids), b.model.forward(ids), c.model.forward(ids)];
    assertEquals(maxDiff(la, lb), 0, `${kernel}: the same seed gave other logits`);
    assert(maxDiff(la, lc) > 1e-3, `${kernel}: seeds 1 and 2 gave the same logits`);
    tf.dispose([la, lb, lc]);
    [a, b, c].forEach((m) => m.model.dispose());
  }
});

Deno.test("both presets build every kernel at every length they train at, within the budget", () => {
  for (const mode of ["quick", "full"] as const) {
    const c = lraConfig(mode);
    for (const T of c.trainLengths) {
      for (const kernel of c.kernels) {
        const shape = { vocab: 18, length: T, d: c.d, heads: c.heads, layers: c.layers };
        const { model, budget, ffn } = lraModel(kernel, shape, 1, c.settings);
        assert(Math.abs(model.parameters - budget) <= c.layers * (c.d + 1), `${mode}, ${kernel}, T = ${T}`);
        // A real feed-forward block is left (at d = 32, T = 256 Linformer would have kept 2 units of 128).
        assert(ffn >= c.d, `${mode}, ${kernel}, T = ${T}: feed-forward width ${ffn}`);
        model.dispose();
      }
    }
  }
});
