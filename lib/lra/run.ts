/**
 * The lesson-09 capstone's runner: a small Long Range Arena (after Tay et al. 2021) for the course's kernels. For
 * each kernel ({@linkcode LRA_KERNELS}) and seed it trains a tiny transformer with an equal parameter budget on
 * a classification task read at the last position (the notebook passes datasets/selective_copy.ts's
 * `selectiveCopyTask()`: lib does not import datasets/) with the lib trainer and measures held-out accuracy; then, on
 * untrained models at each length of a sweep, the milliseconds of a training step and of an inference batch and the
 * peak of `tf.memory()` bytes during a training step (`tf.profile`). Results are plain JSON, cached under
 * `.cache/lra/<key>.json` (key: a hash of the configuration and the backend), so a notebook re-opened — on Deno or
 * on Node — shows them without training again.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { train } from "../train/trainer.ts";
import { progress, type ProgressBar } from "../display/progress.ts";
import { LRA_KERNELS, type LraKernel, type LraKernelSettings, lraModel } from "./kernels.ts";
import { courseRoot, jsonFiles, readTextOrUndefined, sha256, writeTextAtomic } from "./_cache.ts";

/** Bumped when the runner's measurements change meaning, so older cached results are not reused. */
export const LRA_VERSION = 2;

/**
 * A sequence-classification task of fixed length T, answered at the last position: the model's logits there are
 * read as a distribution over token ids, and the answer is the token `answerToken(label)`.
 */
export interface LraTask {
  /** A name, part of the cache key (a change to the generator must change it). */
  name: string;
  /** The vocabulary size at length T. */
  vocab(T: number): number;
  /** n examples of length T, the same for the same seed. */
  examples(seed: string, n: number, T: number): { ids: number[]; label: number }[];
  /** The token id that answers `label`. */
  answerToken(label: number): number;
}

/** What one comparison trains and measures. */
export interface LraConfig {
  /** The task's name ({@linkcode LraTask}); runs check that the task given has it. */
  task: string;
  /** "quick" (the notebook's default, a few minutes on 2 cores) or "full" (for instructors). */
  mode: "quick" | "full";
  kernels: LraKernel[];
  /** Lengths T at which every kernel is trained (selective copy of T tokens). */
  trainLengths: number[];
  /** Lengths T at which the costs are measured. */
  sweepLengths: number[];
  /** Seeds of the weights and of the minibatch streams. */
  seeds: number[];
  /** Training steps per run. */
  steps: number;
  /** Examples per training step and per inference batch. */
  batch: number;
  learningRate: number;
  d: number;
  heads: number;
  layers: number;
  /** Training examples (a fixed pool, as LRA's fixed training sets) and held-out examples. */
  trainSize: number;
  testSize: number;
  /** Timed repetitions per cost measurement (the median is kept). */
  reps: number;
  /**
   * A length whose training step is predicted to hold more than this many bytes is not measured (default 3 GiB):
   * the prediction extends the kernel's peak at the previous length by its growth between the two lengths before
   * (T¹ to T², T² at first). The wasm and native backends keep every tensor in a WebAssembly heap of at most 4 GiB,
   * and TensorFlow.js 4.22's wasm backend does not survive running out of it: past the limit its allocations
   * overlap and every later result is wrong.
   */
  maxPeakBytes?: number;
  settings: LraKernelSettings;
}

/**
 * The two presets: `quick` trains at T = 64 (150 steps, 3 seeds, 1 layer, d = 32) and times T = 64 … 512; `full`
 * trains at T = 128 (400 steps, 3 seeds, 2 layers, d = 64, so that Linformer's E, F and the Synthesizer's T logits
 * still leave a real feed-forward block under the equal budget) and times T = 64 … 512. T = 1024 is left out: a
 * dense training step of the full model there needs about 8 GiB, twice the WebAssembly heap's 4 GiB (the runner
 * skips such lengths, see {@linkcode LraConfig.maxPeakBytes}), and training at T = 256 took 2–3 hours on 2 cores.
 *
 * @param mode "quick" or "full".
 * @returns The configuration (a fresh object: change fields to explore).
 * @example
 * ```ts
 * import { lraConfig } from "./run.ts";
 * const c = lraConfig("quick");
 * if (c.seeds.length !== 3 || c.kernels.length !== 9) throw new Error("bad preset");
 * ```
 */
export function lraConfig(mode: "quick" | "full"): LraConfig {
  if (mode !== "quick" && mode !== "full") {
    throw new RangeError(`Cannot make an LRA configuration: mode must be "quick" or "full", got "${mode}"`);
  }
  const quick = mode === "quick";
  return {
    task: "selective copy, 8 symbols",
    mode,
    kernels: [...LRA_KERNELS],
    trainLengths: quick ? [64] : [128],
    sweepLengths: [64, 128, 256, 512],
    seeds: [1, 2, 3],
    steps: quick ? 150 : 400,
    batch: 32,
    learningRate: 3e-3,
    d: quick ? 32 : 64,
    heads: 2,
    layers: quick ? 1 : 2,
    trainSize: 4096,
    testSize: 512,
    reps: quick ? 3 : 5,
    settings: { linformerK: 16, block: 8, clusters: 4, flashTile: 32 },
  };
}

/** One training run. */
export interface LraRun {
  kernel: LraKernel;
  T: number;
  seed: number;
  /** Held-out accuracy at the end. */
  accuracy: number;
  /** Mean loss of the last 20 steps. */
  finalLoss: number;
  /** Median milliseconds per training step during the run (batch of `config.batch`). */
  stepMs: number;
  parameters: number;
  budget: number;
  ffn: number;
}

/** Costs of one kernel at one length (untrained weights; time does not depend on them). */
export interface LraCost {
  kernel: LraKernel;
  T: number;
  /** Median ms of one training step (forward, backward, Adam) on a batch of `config.batch`. */
  trainStepMs: number;
  /** Median ms of one forward pass on a batch of `config.batch`, its logits read back. */
  inferMs: number;
  /** The most bytes `tf.memory()` held during one training step, above what it held before. */
  peakBytes: number;
  /** False where the kernel's own weights outgrew the budget and the model kept the softmax model's widths. */
  budgetMatched: boolean;
  /** Or why it could not be measured (e.g. out of memory). */
  error?: string;
}

/** Everything one comparison produced: plain JSON, what the cache stores. */
export interface LraResults {
  version: number;
  /** Hash of the configuration alone (the same on every backend). */
  configKey: string;
  /** Hash of the configuration and the backend: the cache file's name. */
  key: string;
  backend: string;
  config: LraConfig;
  runs: LraRun[];
  costs: LraCost[];
  /** Wall seconds of the whole run. */
  seconds: number;
  /** ISO time it finished. */
  finished: string;
}

/** The two cache keys of a configuration on a backend. */
export async function lraKeys(config: LraConfig, backend: string): Promise<{ configKey: string; key: string }> {
  const configKey = (await sha256(JSON.stringify({ version: LRA_VERSION, config }))).slice(0, 16);
  const key = (await sha256(JSON.stringify({ configKey, backend }))).slice(0, 16);
  return { configKey, key };
}

/** Held-out examples and the training pool of one length, as ids and answer-token targets. */
function taskData(config: LraConfig, task: LraTask, T: number) {
  const toXY = (ex: { ids: number[]; label: number }[]) => ({
    ids: ex.map((e) => e.ids),
    y: ex.map((e) => task.answerToken(e.label)),
  });
  return {
    vocab: task.vocab(T),
    pool: toXY(task.examples(`lra/train/T${T}`, config.trainSize, T)),
    test: toXY(task.examples(`lra/test/T${T}`, config.testSize, T)),
  };
}

/** Logits at the last position (the QUERY token), [B, vocab]. */
function lastLogits(logits: tf.Tensor3D): tf.Tensor2D {
  const [B, T, V] = logits.shape;
  return tf.reshape(tf.slice(logits, [0, T - 1, 0], [B, 1, V]), [B, V]);
}

/** Cross-entropy of the last position's logits against the target tokens. */
function lastTokenLoss(logits: tf.Tensor3D, y: number[]): tf.Scalar {
  return tf.tidy(() => {
    const last = lastLogits(logits); // [B, V]
    const picked = tf.sum(tf.mul(tf.logSoftmax(last), tf.oneHot(tf.tensor1d(y, "int32"), last.shape[1])), -1); // [B]
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Options of {@linkcode runLra}. */
export interface RunLraOptions {
  /** Show one progress bar for the whole run (default true; outside a notebook, one line at the end). */
  progress?: boolean;
  /** The backend's name, recorded with the results (default `tf.getBackend()`). */
  backend?: string;
}

/**
 * Trains and measures every kernel of a configuration (no cache: see {@linkcode lraResults}).
 *
 * @param config What to train and measure ({@linkcode lraConfig}).
 * @param task The task (its name must be `config.task`).
 * @param options Progress bar, backend name.
 * @returns The results.
 */
export async function runLra(config: LraConfig, task: LraTask, options: RunLraOptions = {}): Promise<LraResults> {
  if (task.name !== config.task) {
    throw new RangeError(`Cannot run the LRA comparison: the task must be "${config.task}", got "${task.name}"`);
  }
  const backend = options.backend ?? tf.getBackend();
  const t0 = performance.now();
  const trainWork = config.kernels.length * config.trainLengths.length * config.seeds.length * config.steps;
  const sweepWork = config.kernels.length * config.sweepLengths.length * (2 * config.reps + 3);
  const bar: ProgressBar | undefined = options.progress === false
    ? undefined
    : await progress(trainWork + sweepWork, `small LRA (${config.mode})`);
  let done = 0;
  const runs: LraRun[] = [];
  for (const T of config.trainLengths) {
    const data = taskData(config, task, T);
    for (const kernel of config.kernels) {
      for (const seed of config.seeds) {
        runs.push(await trainOne(config, data, kernel, T, seed, async () => await bar?.update(++done)));
      }
    }
  }
  const costs: LraCost[] = [];
  const limit = config.maxPeakBytes ?? 3 * 2 ** 30;
  const seen = new Map<LraKernel, { T: number; bytes: number; growth: number }>(); // last measured peak, exponent
  for (const T of config.sweepLengths) {
    for (const kernel of config.kernels) {
      const last = seen.get(kernel);
      const predicted = last ? last.bytes * (T / last.T) ** last.growth : 0;
      if (predicted > limit) {
        const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
        costs.push({
          kernel,
          T,
          trainStepMs: NaN,
          inferMs: NaN,
          peakBytes: NaN,
          budgetMatched: true,
          error: `not measured: a training step would hold about ${gib(predicted)} (from ${
            (last!.bytes / 2 ** 20).toFixed(0)
          } MiB at T = ${last!.T}), above the ${gib(limit)} limit (config.maxPeakBytes)`,
        });
        done += 2 * config.reps + 3;
        await bar?.update(done);
        continue;
      }
      const cost = await measureOne(config, task, kernel, T, async () => await bar?.update(++done));
      if (Number.isFinite(cost.peakBytes) && cost.peakBytes > 0) {
        const growth = last && last.bytes > 0
          ? Math.min(2, Math.max(1, Math.log(cost.peakBytes / last.bytes) / Math.log(T / last.T)))
          : 2;
        seen.set(kernel, { T, bytes: cost.peakBytes, growth });
      }
      costs.push(cost);
    }
  }
  await bar?.finish();
  const { configKey, key } = await lraKeys(config, backend);
  return {
    version: LRA_VERSION,
    configKey,
    key,
    backend,
    config,
    runs,
    costs,
    seconds: (performance.now() - t0) / 1000,
    finished: new Date().toISOString(),
  };
}

async function trainOne(
  config: LraConfig,
  data: ReturnType<typeof taskData>,
  kernel: LraKernel,
  T: number,
  seed: number,
  tick: () => Promise<void>,
): Promise<LraRun> {
  const { model, budget, ffn } = lraModel(
    kernel,
    { vocab: data.vocab, length: T, d: config.d, heads: config.heads, layers: config.layers },
    `lra/${kernel}/${seed}`,
    config.settings,
  );
  try {
    const stamps: number[] = [];
    const result = await train({
      steps: config.steps,
      seed: `lra/batches/${seed}`,
      learningRate: config.learningRate,
      progress: false,
      batch: (r) => {
        const pick = Array.from({ length: config.batch }, () => r.int(data.pool.ids.length));
        return { ids: pick.map((i) => data.pool.ids[i]), y: pick.map((i) => data.pool.y[i]) };
      },
      loss: (b) => tf.tidy(() => lastTokenLoss(model.forward(b.ids), b.y)),
      onStep: (s) => void stamps.push(s.seconds),
    });
    for (let s = 0; s < result.steps; s++) await tick();
    const stepMs = median(stamps.slice(1).map((t, i) => 1000 * (t - stamps[i])));
    let right = 0;
    for (let start = 0; start < data.test.ids.length; start += 128) {
      const ids = data.test.ids.slice(start, start + 128);
      const pred = tf.tidy(() => tf.argMax(lastLogits(model.forward(ids)), -1));
      const p = await pred.data();
      pred.dispose();
      p.forEach((x, i) => (right += x === data.test.y[start + i] ? 1 : 0));
    }
    const tail = result.losses.slice(-20);
    return {
      kernel,
      T,
      seed,
      accuracy: right / data.test.ids.length,
      finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
      stepMs,
      parameters: model.parameters,
      budget,
      ffn,
    };
  } finally {
    model.dispose();
  }
}

async function measureOne(
  config: LraConfig,
  task: LraTask,
  kernel: LraKernel,
  T: number,
  tick: () => Promise<void>,
): Promise<LraCost> {
  const vocab = task.vocab(T);
  const ex = task.examples(`lra/sweep/T${T}`, config.batch, T);
  const ids = ex.map((e) => e.ids), y = ex.map((e) => task.answerToken(e.label));
  const shape = { vocab, length: T, d: config.d, heads: config.heads, layers: config.layers };
  // Costs need no equal budget; where a kernel's own weights outgrow it (Linformer's E, F at long T with d = 32),
  // the model keeps the softmax model's feed-forward width and the cost says so.
  let budgetMatched = true;
  let made: ReturnType<typeof lraModel>;
  try {
    made = lraModel(kernel, shape, `lra/sweep/${kernel}`, config.settings);
  } catch (err) {
    if (!(err instanceof RangeError) || !err.message.includes("feed-forward budget")) throw err;
    budgetMatched = false;
    made = lraModel(kernel, { ...shape }, `lra/sweep/${kernel}`, { ...config.settings, unmatched: true });
  }
  const { model } = made;
  const optimizer = tf.train.adam(config.learningRate);
  const trainable = model.variables.filter((v) => v.trainable);
  const step = async () => {
    const l = optimizer.minimize(() => lastTokenLoss(model.forward(ids), y), true, trainable)!;
    await l.data();
    l.dispose();
  };
  const infer = async () => {
    const logits = model.forward(ids);
    await logits.data();
    logits.dispose();
  };
  const timed = async (f: () => Promise<void>) => {
    const t = performance.now();
    await f();
    await tick();
    return performance.now() - t;
  };
  try {
    await timed(step); // warm-up: kernels compiled, Adam's slots made
    await timed(infer);
    const stepTimes: number[] = [], inferTimes: number[] = [];
    for (let r = 0; r < config.reps; r++) {
      stepTimes.push(await timed(step));
      inferTimes.push(await timed(infer));
    }
    const before = tf.memory().numBytes;
    const profile = await tf.profile(step);
    await tick();
    return {
      kernel,
      T,
      trainStepMs: median(stepTimes),
      inferMs: median(inferTimes),
      peakBytes: Math.max(0, profile.peakBytes - before),
      budgetMatched,
    };
  } catch (err) {
    return { kernel, T, trainStepMs: NaN, inferMs: NaN, peakBytes: NaN, budgetMatched, error: String(err) };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/** Options of {@linkcode lraResults}. */
export interface LraResultsOptions extends RunLraOptions {
  /** Train and measure again even when results are cached (default false). */
  retrain?: boolean;
  /** The cache folder (default `<course root>/.cache/lra`). */
  dir?: string;
}

/** What {@linkcode lraResults} returns. */
export interface CachedLraResults {
  results: LraResults;
  /** "fresh" (just run), "cached" (this backend's results), or "other backend" (the same configuration's). */
  source: "fresh" | "cached" | "other backend";
  /** The cache file ("" when it could not be written). */
  path: string;
  /** Why the results could not be cached, if they could not. */
  cacheError?: string;
}

/**
 * The results of a configuration: from the cache when it holds them (this backend's, else the same
 * configuration's from another backend, e.g. the Deno and the Node kernel), otherwise run and cached.
 *
 * @param config What to train and measure.
 * @param task The task (its name must be `config.task`).
 * @param options `retrain`, cache folder, progress bar, backend name.
 * @returns The results, where they came from, and the cache file.
 */
export async function lraResults(
  config: LraConfig,
  task: LraTask,
  options: LraResultsOptions = {},
): Promise<CachedLraResults> {
  const backend = options.backend ?? tf.getBackend();
  const dir = options.dir ?? `${await courseRoot()}/.cache/lra`;
  const { configKey, key } = await lraKeys(config, backend);
  const path = `${dir}/${key}.json`;
  if (!options.retrain) {
    const own = parseResults(await readTextOrUndefined(path), configKey);
    if (own) return { results: own, source: "cached", path };
    for (const name of await jsonFiles(dir)) {
      const other = parseResults(await readTextOrUndefined(`${dir}/${name}`), configKey);
      if (other) return { results: other, source: "other backend", path: `${dir}/${name}` };
    }
  }
  const results = await runLra(config, task, { ...options, backend });
  try {
    return { results, source: "fresh", path: await writeTextAtomic(dir, `${key}.json`, JSON.stringify(results)) };
  } catch (err) {
    // A read-only folder (or no file access at all) costs the cache, not the results.
    return { results, source: "fresh", path: "", cacheError: err instanceof Error ? err.message : String(err) };
  }
}

/** Cached results if the text is this version's results for this configuration (anything else is ignored). */
function parseResults(text: string | undefined, configKey: string): LraResults | undefined {
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as LraResults;
    const ok = r && r.version === LRA_VERSION && r.configKey === configKey && Array.isArray(r.runs) &&
      Array.isArray(r.costs);
    return ok ? r : undefined;
  } catch {
    return undefined;
  }
}
