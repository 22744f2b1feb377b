import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertRejects } from "./_testing.ts";
import { describeBackend, initBackend, webgpuAdapter } from "./backend.ts";
import { attention } from "./attention/scaled_dot_product.ts";
import { rng } from "./random.ts";

const adapter = await webgpuAdapter();

Deno.test("initBackend() honours a forced backend and says so in its line", async () => {
  const info = await initBackend({ backend: "cpu", print: false });
  assertEquals([info.name, info.forced, tf.getBackend()], ["cpu", true, "cpu"]);
  assert(describeBackend(info).startsWith(`TensorFlow.js ${tf.version_core} backend: cpu (plain JavaScript) [forced`));
});

Deno.test("initBackend() rejects unknown names and unavailable backends with what was expected", async () => {
  await assertRejects(
    // deno-lint-ignore no-explicit-any
    () => initBackend({ backend: "gpu" as any, print: false }),
    RangeError,
    'ATTN_BACKEND must be one of auto, webgpu, native, tensorflow, wasm, cpu, got "gpu"',
  );
  // This file asked for a WebGPU adapter above: where that loaded Mesa's LLVM, tensorflow is refused, not a crash.
  const tensorflow = await initBackend({ backend: "tensorflow", print: false }).then(
    (info) => info.name as string,
    (err: Error) => err.message,
  );
  assert(
    tensorflow === "tensorflow" ||
      /^Cannot use the tensorflow backend that ATTN_BACKEND asks for: (libtensorflow would crash beside \S*libLLVM|@tensorflow\/tfjs-node has no native addon)/
        .test(tensorflow),
    tensorflow,
  );
  await initBackend({ backend: "cpu", print: false });
});

Deno.test("auto selection never settles on a software GPU adapter, and explains what it skipped", async () => {
  const info = await initBackend({ backend: "auto", print: false });
  assert(!info.forced);
  if (info.name === "webgpu") assert(!info.detail.startsWith("software adapter"), info.detail);
  else assert(info.skipped.some((s) => s.startsWith("no webgpu")), JSON.stringify(info.skipped));
  if (info.name === "wasm") assert(info.detail.includes("SIMD"), info.detail);
});

Deno.test({
  name: `forced webgpu computes attention like cpu (adapter: ${adapter?.description ?? "none"})`,
  ignore: !adapter, // no WebGPU adapter at all on this machine: shown as "ignored"
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const r = rng("webgpu-vs-cpu");
    const [qa, ka, va] = [r.normalArray(6 * 8), r.normalArray(6 * 8), r.normalArray(6 * 4)];
    const run = async (backend: "cpu" | "webgpu") => {
      await initBackend({ backend, print: false });
      const t = (a: Float64Array, d: number) => tf.tensor2d(Float32Array.from(a), [6, d]);
      const [q, k, v] = [t(qa, 8), t(ka, 8), t(va, 4)];
      const { output, weights } = attention(q, k, v, { causal: true });
      const out = Array.from(await output.data());
      tf.dispose([q, k, v, output, weights]);
      return out;
    };
    const cpu = await run("cpu"), gpu = await run("webgpu");
    const err = Math.max(...cpu.map((c, i) => Math.abs(c - gpu[i])));
    assert(err < 1e-4, `webgpu differs from cpu by ${err}`);
    await initBackend({ backend: "cpu", print: false });
  },
});

Deno.test("lib's tf has gradients, optimizers and chained methods on cpu and wasm", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend({ backend, print: false });
    const x = tf.tensor1d([1, -2, 3]);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.square(t)))(x); // d/dx Σx² = 2x
    assertEquals(Array.from(dx.dataSync()), [2, -4, 6], backend);
    const chained = x.square().sum().div(tf.scalar(2)); // methods need tfjs's chained-op registrations
    assertEquals(chained.dataSync()[0], 7, backend);
    const w = tf.variable(tf.scalar(4));
    const opt = tf.train.adam(0.5);
    for (let i = 0; i < 20; i++) opt.minimize(() => tf.square(w) as tf.Scalar);
    assert(Math.abs(w.dataSync()[0]) < 4, `${backend}: adam did not move w towards 0`);
    tf.dispose([x, dx, chained, w]);
    opt.dispose();
  }
});
