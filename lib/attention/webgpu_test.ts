/**
 * Every attention kernel on the webgpu backend computes what it computes on cpu. In CI the adapter is Mesa's
 * lavapipe (Vulkan on the CPU; .ci/run installs mesa-vulkan-drivers): slow, but it runs the same WGSL shaders a
 * real GPU runs. Without any adapter the tests are ignored — except under CI=true, where that is a failure.
 */
import * as tf from "@tensorflow/tfjs";
import { assert } from "../_testing.ts";
import { initBackend, webgpuAdapter } from "../backend.ts";
import { rng } from "../random.ts";
import { attention } from "./scaled_dot_product.ts";
import { flashAttention } from "./flash.ts";
import { linearAttention, linearAttentionRecurrent } from "./linear.ts";
import { favorFeatures } from "./favor.ts";
import { initMultiHead, multiHeadAttention } from "./multi_head.ts";
import { linformerAttention, linformerProjections } from "./linformer.ts";
import { sparseAttention } from "./sparse.ts";
import { clusteredAttention } from "./clustered.ts";
import { blockSparseAttention } from "./block_sparse.ts";
import { initSynthesizer, synthesizerAttention } from "./synthesizer.ts";

const TOL = 1e-4; // float32 on two backends with different summation orders

const adapter = await webgpuAdapter();
const inCI = (() => {
  try {
    return Deno.env.get("CI") === "true";
  } catch {
    return false;
  }
})();

Deno.test({
  name: "a WebGPU adapter exists in CI (lavapipe from mesa-vulkan-drivers)",
  ignore: !inCI,
  fn() {
    assert(adapter, "CI=true but no WebGPU adapter: is mesa-vulkan-drivers installed (see .ci/run)?");
  },
});

/** Kernels to compare: each makes its inputs from the seed and returns the tensors to compare. */
const KERNELS: Record<string, () => tf.Tensor[]> = {
  "attention (causal, boolean mask, batched)": () => {
    const r = rng("webgpu/attention");
    const q = r.tensor([2, 3, 7, 8]), k = r.tensor([2, 3, 7, 8]), v = r.tensor([2, 3, 7, 5]);
    // Row 2 sees no key: its weights and output must be 0 on both backends.
    const mask = tf.tensor2d(
      Array.from({ length: 49 }, (_, i) => i % 3 !== 1 && Math.floor(i / 7) !== 2),
      [7, 7],
      "bool",
    );
    const a = attention(q, k, v, { causal: true }), b = attention(q, k, v, { mask });
    return [a.output, a.weights, b.output, b.weights];
  },
  "flashAttention (online recurrence and fused tiles)": () => {
    const r = rng("webgpu/flash");
    const q = r.tensor([2, 9, 8]), k = r.tensor([2, 11, 8]), v = r.tensor([2, 11, 4]);
    return [
      flashAttention(q, k, v, { blockQ: 2, blockK: 3 }),
      flashAttention(q, k, v, { causal: true, blockQ: 4, blockK: 4 }),
      flashAttention(q, k, v, { causal: true }),
    ];
  },
  "linearAttention (parallel, causal, recurrent)": () => {
    const r = rng("webgpu/linear");
    const q = r.tensor([9, 6]), k = r.tensor([9, 6]), v = r.tensor([9, 4]);
    return [
      linearAttention(q, k, v),
      linearAttention(q, k, v, { causal: true, featureMap: "relu" }),
      linearAttentionRecurrent(q as tf.Tensor2D, k as tf.Tensor2D, v as tf.Tensor2D),
    ];
  },
  "Performer (FAVOR+, parallel and causal)": () => {
    const r = rng("webgpu/favor");
    const q = r.tensor([2, 9, 8], 0.5), k = r.tensor([2, 9, 8], 0.5), v = r.tensor([2, 9, 4]);
    const features = favorFeatures(8, 32, r.fork("omega"));
    return [
      linearAttention(q, k, v, { featureMap: "favor+", features }),
      linearAttention(q, k, v, { featureMap: "favor+", features, causal: true }),
    ];
  },
  "multiHeadAttention (batched, causal, with weights)": () => {
    const r = rng("webgpu/mha");
    const w = initMultiHead(12, 3, r.fork("w"));
    const { output, weights } = multiHeadAttention(r.tensor([2, 7, 12]), w, { causal: true, returnWeights: true });
    return [output, weights!];
  },
  "linformerAttention": () => {
    const r = rng("webgpu/linformer");
    const { E, F } = linformerProjections(16, 4, r.fork("EF")).get(0, 0);
    return [linformerAttention(r.tensor([2, 5, 8]), r.tensor([2, 16, 8]), r.tensor([2, 16, 3]), E, F)];
  },
  "sparseAttention (window, global, random, causal)": () => {
    const r = rng("webgpu/sparse");
    const pattern = { local: 1, global: [0], random: { perRow: 2, rng: r.fork("pattern") }, causal: true };
    return [sparseAttention(r.tensor([2, 11, 8]), r.tensor([2, 11, 8]), r.tensor([2, 11, 4]), pattern)];
  },
  "blockSparseAttention (window, global, random; causal; ragged)": () => {
    const r = rng("webgpu/block");
    const q = r.tensor([2, 2, 24, 8]), k = r.tensor([2, 2, 24, 8]), v = r.tensor([2, 2, 24, 5]);
    const pattern = { block: 4, window: 1, global: [0], random: { perRow: 1, rng: r.fork("pattern") } };
    const x = r.tensor([11, 8]);
    return [
      blockSparseAttention(q, k, v, pattern),
      blockSparseAttention(q, k, v, { ...pattern, causal: true }),
      blockSparseAttention(x, x, x, { block: 4, window: 0, global: [1], causal: true }),
    ];
  },
  "clusteredAttention": () => {
    const r = rng("webgpu/clustered");
    const q = r.tensor([12, 6], 3), k = r.tensor([12, 6], 3), v = r.tensor([12, 4]);
    return [clusteredAttention(q, k, v, { clusters: 3, rng: r.fork("k-means") }).output];
  },
  "synthesizerAttention (dense and random)": () => {
    const r = rng("webgpu/synthesizer");
    const x = r.tensor([2, 6, 8]), v = r.tensor([2, 6, 4]);
    const dense = initSynthesizer(8, 6, r.fork("dense"), { kind: "dense" });
    const random = initSynthesizer(8, 6, r.fork("random"), { kind: "random" });
    const a = synthesizerAttention(x, v, dense, { causal: true }), b = synthesizerAttention(x, v, random);
    return [a.output, a.weights, b.output, b.weights];
  },
};

for (const [name, make] of Object.entries(KERNELS)) {
  Deno.test({
    name: `${name} on webgpu equals cpu (adapter: ${adapter?.description ?? "none"})`,
    ignore: !adapter,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const run = async (backend: "cpu" | "webgpu") => {
        await initBackend({ backend, print: false });
        const before = tf.memory().numTensors;
        const outs = tf.tidy(make);
        const values = await Promise.all(outs.map((t) => t.data()));
        tf.dispose(outs);
        assert(tf.memory().numTensors === before, `${name} leaked tensors on ${backend}`);
        return values;
      };
      const cpu = await run("cpu"), gpu = await run("webgpu");
      await initBackend({ backend: "cpu", print: false });
      cpu.forEach((c, t) => {
        let err = 0;
        for (let i = 0; i < c.length; i++) {
          // NaN must match NaN (fully masked rows are 0 on both; nothing here should be NaN).
          err = Math.max(err, Math.abs(c[i] - gpu[t][i]));
          assert(Number.isFinite(gpu[t][i]), `${name}: output ${t} has ${gpu[t][i]} at ${i}`);
        }
        assert(err < TOL, `${name}: output ${t} differs between webgpu and cpu by ${err}`);
      });
    },
  });
}
