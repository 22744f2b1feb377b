import { initBackend } from "../backend.ts";
import * as tf from "@tensorflow/tfjs";
import { selectiveCopyTask } from "../../datasets/selective_copy.ts";
import { assert, assertEquals, assertRejects } from "../_testing.ts";
import { type LraConfig, lraConfig, lraResults, type LraTask, runLra } from "./run.ts";
import { paretoFront, summarizeLra } from "./summary.ts";

await initBackend({ backend: "wasm", print: false });

/** A run small enough for a unit test: two kernels, one short length, a few steps. */
function tiny(): LraConfig {
  return {
    ...lraConfig("quick"),
    kernels: ["softmax", "window"],
    trainLengths: [16],
    sweepLengths: [16],
    seeds: [1, 2],
    steps: 4,
    batch: 4,
    d: 16,
    trainSize: 64,
    testSize: 16,
    reps: 1,
  };
}

/** The selective-copy task, counting how often it is asked for examples. */
function counted(): LraTask & { calls: number } {
  const task = selectiveCopyTask();
  const c = {
    ...task,
    calls: 0,
    examples: (seed: string, n: number, T: number) => (c.calls++, task.examples(seed, n, T)),
  };
  return c;
}

Deno.test("runLra() is reproducible: the same configuration gives the same accuracies and losses, no tensor left", async () => {
  const before = tf.memory().numTensors;
  const [a, b] = [
    await runLra(tiny(), selectiveCopyTask(), { progress: false }),
    await runLra(tiny(), selectiveCopyTask(), { progress: false }),
  ];
  assertEquals(tf.memory().numTensors, before, "tensors left behind");
  assertEquals(
    a.runs.map((r) => [r.kernel, r.seed, r.accuracy, r.finalLoss]),
    b.runs.map((r) => [r.kernel, r.seed, r.accuracy, r.finalLoss]),
  );
  assertEquals(a.runs.map((r) => `${r.kernel}/${r.seed}`), ["softmax/1", "softmax/2", "window/1", "window/2"]);
  // Another seed trains another model.
  assert(a.runs[0].finalLoss !== a.runs[1].finalLoss, "seeds 1 and 2 gave the same loss");
  assertEquals(a.costs.map((c) => `${c.kernel}@${c.T}`), ["softmax@16", "window@16"]);
  for (const c of a.costs) {
    assert(c.trainStepMs > 0 && c.inferMs > 0 && c.peakBytes > 0, JSON.stringify(c));
  }
  const rows = summarizeLra(a);
  assertEquals(rows.map((r) => [r.kernel, r.seeds]), [["softmax", 2], ["window", 2]]);
  assertEquals(rows[0].accuracy, (a.runs[0].accuracy + a.runs[1].accuracy) / 2);
  await assertRejects(
    () => runLra(tiny(), { ...selectiveCopyTask(), name: "other" }, { progress: false }),
    RangeError,
    'the task must be "selective copy, 8 symbols", got "other"',
  );
});

Deno.test("lraResults() caches: a second call trains nothing, another backend's results are found, retrain runs again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lra-cache-" });
  try {
    const task = counted();
    const first = await lraResults(tiny(), task, { dir, progress: false, backend: "wasm" });
    assertEquals(first.source, "fresh");
    const calls = task.calls;
    assert(calls > 0);
    const again = await lraResults(tiny(), task, { dir, progress: false, backend: "wasm" });
    assertEquals([again.source, again.path, task.calls], ["cached", first.path, calls]);
    assertEquals(again.results, JSON.parse(JSON.stringify(first.results)));
    // The Node kernel (another backend name) finds the Deno kernel's results for the same configuration.
    const other = await lraResults(tiny(), task, { dir, progress: false, backend: "tensorflow" });
    assertEquals([other.source, other.results.backend, task.calls], ["other backend", "wasm", calls]);
    // Another configuration, a damaged file or RETRAIN: trained again.
    await Deno.writeTextFile(first.path, "{ not json");
    const damaged = await lraResults(tiny(), task, { dir, progress: false, backend: "wasm" });
    assertEquals(damaged.source, "fresh");
    const retrained = await lraResults(tiny(), task, { dir, progress: false, backend: "wasm", retrain: true });
    assertEquals(retrained.source, "fresh");
    const changed = await lraResults({ ...tiny(), steps: 3 }, task, { dir, progress: false, backend: "wasm" });
    assertEquals(changed.source, "fresh");
    assert(changed.path !== first.path, "another configuration must have another key");
    // A folder that cannot be written costs the cache, not the results.
    const blocked = `${dir}/a-file`;
    await Deno.writeTextFile(blocked, "");
    const unwritable = await lraResults(tiny(), task, { dir: blocked, progress: false, backend: "wasm" });
    assertEquals([unwritable.source, unwritable.path], ["fresh", ""]);
    assert(unwritable.cacheError && unwritable.results.runs.length === 4, JSON.stringify(unwritable.cacheError));
    await Deno.remove(blocked);
    // Atomic writes: no temporary file is left behind.
    const names = Array.from(Deno.readDirSync(dir), (e) => e.name);
    assert(names.every((n) => n.endsWith(".json") && !n.startsWith(".")), names.join());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("paretoFront() keeps the points nothing beats on both speed and score, fastest first", () => {
  const pts = [
    { ms: 5, score: 0.9 }, // front (best score)
    { ms: 1, score: 0.2 }, // front (fastest)
    { ms: 2, score: 0.2 }, // dominated by the one above (slower, same score)
    { ms: 3, score: 0.6 }, // front
    { ms: 4, score: 0.5 }, // dominated by ms 3
    { ms: NaN, score: 1 }, // not measured: never on the front
  ];
  assertEquals(paretoFront(pts), [1, 3, 0]);
  assertEquals(paretoFront([{ ms: 1, score: 0.5 }, { ms: 1, score: 0.5 }]), [0, 1]); // ties beat nothing
  assertEquals(paretoFront([]), []);
});

Deno.test("runLra() does not measure a length whose predicted peak is over config.maxPeakBytes, and says why", async () => {
  const c = { ...tiny(), kernels: ["softmax" as const], trainLengths: [], sweepLengths: [8, 16, 32] };
  const free = await runLra(c, selectiveCopyTask(), { progress: false });
  assertEquals(free.costs.map((x) => x.error ?? "measured"), ["measured", "measured", "measured"]);
  // A limit between the peaks measured at T = 8 and what T = 16 is predicted to need (×4, growth T² at first).
  const at8 = free.costs[0].peakBytes;
  const capped = await runLra({ ...c, maxPeakBytes: 2 * at8 }, selectiveCopyTask(), { progress: false });
  assertEquals(capped.costs[0].peakBytes, at8);
  for (const x of capped.costs.slice(1)) {
    assert(Number.isNaN(x.trainStepMs) && Number.isNaN(x.peakBytes), JSON.stringify(x));
    assert(x.error?.startsWith("not measured: a training step would hold about"), x.error);
    assert(x.error?.includes("at T = 8") && x.error.includes("config.maxPeakBytes"), x.error);
  }
});
