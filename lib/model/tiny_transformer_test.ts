import * as tf from "@tensorflow/tfjs";
import {
  type AttentionKind,
  blockSparseKind,
  kernelKind,
  linearKind,
  linformerKind,
  maskedAccuracy,
  maskedCrossEntropy,
  softmaxKind,
  synthesizerKind,
  tinyTransformer,
} from "./tiny_transformer.ts";
import { train } from "../train/trainer.ts";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import { copyTask } from "../../datasets/toy_tasks.ts";
import { clusteredAttention } from "../attention/clustered.ts";
import { assert, assertEquals, assertThrows } from "../_testing.ts";

await initBackend({ backend: "wasm", print: false });

/** Trains a tiny transformer on the copy task; returns the held-out accuracy after training. */
async function learnCopy(kind: AttentionKind, causal: boolean, steps: number, seed = 1) {
  const opts = { n: 6, symbols: 8, mode: causal ? "next-token" as const : "masked" as const };
  const probe = copyTask(rng(0), { batch: 1, ...opts });
  const model = tinyTransformer({
    vocab: probe.vocab,
    maxLen: probe.length,
    d: 32,
    heads: 4,
    layers: 2,
    causal,
    attention: kind,
    seed,
  });
  const held = copyTask(rng("held-out"), { batch: 200, ...opts });
  const accuracy = async () => {
    const logits = model.forward(held.inputs);
    const a = await maskedAccuracy(logits, held.targets, held.mask);
    logits.dispose();
    return a;
  };
  const result = await train({
    steps,
    seed,
    learningRate: 3e-3,
    progress: false,
    variables: model.variables.filter((v) => v.trainable),
    batch: (r) => copyTask(r, { batch: 32, ...opts }),
    loss: (b) => tf.tidy(() => maskedCrossEntropy(model.forward(b.inputs), b.targets, b.mask)),
    evaluate: { every: 25, metric: accuracy, name: "accuracy" },
    earlyStop: { metricAtLeast: 0.99 },
  });
  model.dispose();
  return { result, accuracy: result.metrics.at(-1)!.value };
}

Deno.test("a 2-layer causal tiny transformer learns the copy task to ≥ 99% held-out accuracy", async () => {
  const { result, accuracy } = await learnCopy(softmaxKind(), true, 600);
  assert(accuracy >= 0.99, `accuracy ${accuracy} after ${result.steps} steps`);
  assertEquals(result.stopped, "metric");
  assert(result.losses.at(-1)! < result.losses[0] / 4, `loss ${result.losses[0]} → ${result.losses.at(-1)}`);
});

Deno.test("a non-causal tiny transformer with learned Linformer E, F learns the masked copy task", async () => {
  const { result, accuracy } = await learnCopy(linformerKind(8), false, 800);
  assert(accuracy >= 0.99, `accuracy ${accuracy} after ${result.steps} steps`);
});

const CENTROIDS = [[1, 0, 0, 0, 0, 0, 0, 0], [-1, 0, 0, 0, 0, 0, 0, 0]]; // D = 16 / 2 heads = 8
const KINDS: [AttentionKind, boolean][] = [
  [softmaxKind(), true],
  [linearKind(), true],
  [linearKind({ featureMap: "favor+", features: 16 }), true],
  [blockSparseKind({ block: 4, window: 1 }), true],
  [synthesizerKind("dense"), true],
  [synthesizerKind("random"), true],
  [linformerKind(4), false],
  [
    // Fixed centroids (Roy et al. keep learned ones); k-means on every call works too, but slowly for a test.
    kernelKind("clustered", (q, k, v) => clusteredAttention(q, k, v, { centroids: CENTROIDS }).output),
    false,
  ],
];

for (const [kind, causal] of KINDS) {
  Deno.test(`tiny transformer with ${kind.name} attention${causal ? " (causal)" : ""}: gradients reach every weight, loss falls`, () => {
    const b = copyTask(rng("kinds"), { batch: 8, n: 4, mode: causal ? "next-token" : "masked" });
    const model = tinyTransformer({
      vocab: b.vocab,
      maxLen: b.length,
      d: 16,
      heads: 2,
      layers: 1,
      causal,
      attention: kind,
      seed: 3,
    });
    const trainable = model.variables.filter((v) => v.trainable);
    const loss = () => maskedCrossEntropy(model.forward(b.inputs), b.targets, b.mask);
    const { value, grads } = tf.variableGrads(loss, trainable);
    const silent = trainable.filter((v) => tf.tidy(() => tf.max(tf.abs(grads[v.name])).dataSync()[0]) === 0);
    assertEquals(silent.map((v) => v.shape), [], "every trainable weight gets a gradient");
    const first = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    const opt = tf.train.adam(1e-2);
    for (let i = 0; i < 3; i++) opt.minimize(loss, false, trainable);
    const after = tf.tidy(() => loss().dataSync()[0]);
    assert(after < first, `loss ${first} → ${after}`);
    if (causal) {
      // Changing the last token must not change any earlier position's logits.
      const x = b.inputs.map((r) => [...r]);
      const y = x.map((r) => [...r.slice(0, -1), (r.at(-1)! + 1) % b.vocab]);
      const [lx, ly] = [model.forward(x), model.forward(y)];
      const diff = tf.tidy(() =>
        tf.max(
          tf.abs(
            tf.sub(tf.slice(lx, [0, 0, 0], [-1, b.length - 1, -1]), tf.slice(ly, [0, 0, 0], [-1, b.length - 1, -1])),
          ),
        )
          .dataSync()[0]
      );
      assert(diff < 1e-5, `${kind.name}: earlier logits moved by ${diff} when the last token changed`);
      tf.dispose([lx, ly]);
    }
    opt.dispose();
    model.dispose();
  });
}

Deno.test("tinyTransformer() is reproducible from its seed, frees its weights, and rejects bad sizes", () => {
  const before = tf.memory().numTensors;
  const make = (seed: number) => tinyTransformer({ vocab: 7, maxLen: 5, d: 8, heads: 2, layers: 2, seed });
  const [a, b, c] = [make(1), make(1), make(2)];
  const out = [a, b, c].map((m) => Array.from(m.forward([[1, 2, 3]]).dataSync()));
  assertEquals(out[0], out[1]);
  assert(out[0].join() !== out[2].join(), "another seed gives other weights");
  assertEquals(a.parameters, 2 * (4 * 64 + 2 * 8 * 32 + 32 + 8 + 4 * 8) + 7 * 8 + 5 * 8 + 2 * 8 + 8 * 7 + 7);
  [a, b, c].forEach((m) => m.dispose());
  assert(tf.memory().numTensors <= before + 3, "only the three un-disposed logits remain");
  const m = make(1);
  assertThrows(() => m.forward([[1, 2, 3, 4, 5, 6]]), RangeError, "T must be in [1, 5], got 6");
  m.dispose();
  assertThrows(
    () => tinyTransformer({ vocab: 7, maxLen: 5, d: 10, heads: 4, seed: 0 }),
    RangeError,
    "heads (4) must divide d (10)",
  );
  assertThrows(
    () => tinyTransformer({ vocab: 0, maxLen: 5, seed: 0 }),
    RangeError,
    "vocab must be a positive integer, got 0",
  );
  assertThrows(
    () => tinyTransformer({ vocab: 7, maxLen: 5, causal: true, attention: linformerKind(2), seed: 0 }),
    RangeError,
    "Cannot make Linformer attention: the model must be non-causal",
  );
});
