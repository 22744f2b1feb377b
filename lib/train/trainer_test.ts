import * as tf from "@tensorflow/tfjs";
import { train, type TrainOptions } from "./trainer.ts";
import { maskedCrossEntropy, tinyTransformer } from "../model/tiny_transformer.ts";
import { initBackend } from "../backend.ts";
import { bundleOf, PLOTLY_MIME } from "../display/mod.ts";
import { copyTask, type ToyBatch } from "../../datasets/toy_tasks.ts";
import { assert, assertEquals, assertNotEqual, assertRejects } from "../_testing.ts";

/** A small training run of the tiny transformer on the copy task, from scratch. */
async function run(seed: number, modelSeed = 1, extra: Partial<TrainOptions<ToyBatch>> = {}) {
  const probe = copyTask({ int: () => 0 }, { batch: 1, n: 4 });
  const model = tinyTransformer({
    vocab: probe.vocab,
    maxLen: probe.length,
    d: 16,
    heads: 2,
    layers: 1,
    causal: true,
    seed: modelSeed,
  });
  try {
    return await train({
      steps: 12,
      seed,
      learningRate: 1e-2,
      progress: false,
      batch: (r) => copyTask(r, { batch: 8, n: 4 }),
      loss: (b) => tf.tidy(() => maskedCrossEntropy(model.forward(b.inputs), b.targets, b.mask)),
      ...extra,
    });
  } finally {
    model.dispose();
  }
}

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`train() gives a bit-identical loss curve on a rerun with the same seed on ${backend}`, async () => {
    await initBackend({ backend, print: false });
    const a = await run(5), b = await run(5), c = await run(6);
    assertEquals(a.losses.length, 12);
    assertEquals(a.losses, b.losses); // exact: every float equal
    assertNotEqual(a.losses, c.losses, "another batch seed gives another curve");
    assert(a.losses.at(-1)! < a.losses[0], `the loss falls: ${a.losses[0]} → ${a.losses.at(-1)}`);
  });

  Deno.test(`a training step leaves no tensor behind on ${backend}`, async () => {
    await initBackend({ backend, print: false });
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    await run(1, 1, { onStep: () => counts.push(tf.memory().numTensors) });
    // Step 1 makes Adam's moment slots; from then on every step ends with the same tensors alive.
    assert(counts.slice(1).every((n) => n === counts[1]), `tensors after each step: ${counts}`);
    assertEquals(tf.memory().numTensors, before, "the model and the optimizer made here are gone afterwards");
  });
}

Deno.test("train() stops early on a metric, on a loss threshold, and on patience", async () => {
  await initBackend({ backend: "cpu", print: false });
  const byMetric = await run(1, 1, {
    steps: 50,
    evaluate: { every: 3, metric: (step) => step / 10 },
    earlyStop: { metricAtLeast: 0.6 },
  });
  assertEquals([byMetric.stopped, byMetric.steps], ["metric", 6]);
  assertEquals(byMetric.metrics.map((m) => m.step), [3, 6]);
  const byLoss = await run(1, 1, { steps: 50, earlyStop: { lossBelow: 100, window: 4 } });
  assertEquals([byLoss.stopped, byLoss.steps], ["loss", 4]);
  const w = tf.variable(tf.scalar(1));
  const flat = await train({
    steps: 100,
    seed: 0,
    progress: false,
    variables: [w],
    batch: () => null,
    loss: () => tf.mul(tf.scalar(0), w) as tf.Scalar, // constant loss: never improves after step 1
    earlyStop: { patience: 5, window: 1 },
  });
  assertEquals([flat.stopped, flat.steps], ["patience", 6]);
  w.dispose();
});

Deno.test("train() plots its loss curve, prints one line outside a notebook, and rejects bad options", async () => {
  await initBackend({ backend: "cpu", print: false });
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: string) => lines.push(s);
  let result;
  try {
    result = await run(2, 1, { progress: true, label: "copy" });
  } finally {
    console.log = log;
  }
  assertEquals(lines.length, 1);
  assert(/^copy: step 12\/12 · loss [\d.]+ · [\d.]+ steps\/s · [\d.]+ s$/.test(lines[0]), lines[0]);
  const bundle = bundleOf(result.plot());
  assert(
    PLOTLY_MIME in bundle && String(bundle["text/plain"]).includes("step"),
    "a plotly figure with a text fallback",
  );
  const bad = (o: Partial<TrainOptions<null>>) =>
    train({ steps: 1, seed: 0, progress: false, batch: () => null, loss: () => tf.scalar(0), ...o });
  await assertRejects(() => bad({ steps: 0 }), RangeError, "Cannot train: steps must be a positive integer, got 0");
  await assertRejects(() => bad({ learningRate: -1 }), RangeError, "learningRate must be a positive number, got -1");
  await assertRejects(
    () => bad({ evaluate: { every: 0, metric: () => 0 } }),
    RangeError,
    "evaluate.every must be a positive integer, got 0",
  );
});
