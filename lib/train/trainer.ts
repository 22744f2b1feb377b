/**
 * A seeded training loop: minibatches from a seeded generator, an optimizer step per batch, a live progress
 * line in the notebook (step, loss, steps/s, ETA), an optional metric every few steps, early stopping, and the
 * loss curve as a plot. The same seed on the same backend gives the same loss curve, bit for bit (tested), and
 * a step leaves no tensor behind (tested).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "../_gradient_fixes.ts"; // gradients of causal linear attention, Linformer, gathered masks
import { type Rng, rng as makeRng } from "../random.ts";
import { type Displayable, displayable, inNotebook, linePlot, show, update } from "../display/mod.ts";

/** What the trainer reports after each step (to `onStep`). */
export interface StepInfo {
  /** The step just done (1-based). */
  step: number;
  /** Its minibatch loss. */
  loss: number;
  /** The metric, on the steps where it was evaluated. */
  metric?: number;
  /** Seconds since training began. */
  seconds: number;
}

/** Options of {@linkcode train}. */
export interface TrainOptions<B> {
  /** The most steps (early stopping may end sooner). */
  steps: number;
  /** Seed of the minibatch stream: step s draws from `rng(seed).fork("batch/s")`. */
  seed: number | string;
  /**
   * Makes step `step`'s minibatch from its own random source. Tensors in what it returns are disposed by the
   * trainer after the step (any object or array of tensors and plain values).
   */
  batch: (r: Rng, step: number) => B;
  /** The minibatch loss, a scalar computed from the trained variables (it runs inside a gradient tape). */
  loss: (batch: B, step: number) => tf.Scalar;
  /** The optimizer (default Adam with `learningRate`); one made here is disposed at the end. */
  optimizer?: tf.Optimizer;
  /** Adam's learning rate when no optimizer is given (default 1e-3). */
  learningRate?: number;
  /** The variables to train (default: every trainable variable). */
  variables?: tf.Variable[];
  /** A metric evaluated every `every` steps and after the last (e.g. accuracy on held-out examples). */
  evaluate?: { every: number; metric: (step: number) => number | Promise<number>; name?: string };
  /**
   * Stop early: when the metric reaches `metricAtLeast`, when the loss (mean of the last `window` steps, default
   * 20) falls below `lossBelow`, or when that mean has not improved by `minDelta` (default 0) for `patience` steps.
   */
  earlyStop?: { metricAtLeast?: number; lossBelow?: number; patience?: number; minDelta?: number; window?: number };
  /** Show the live progress line (default true; outside a notebook, one summary line at the end). */
  progress?: boolean;
  /** Text before the progress line. */
  label?: string;
  /** Called after every step (after the metric, when evaluated). */
  onStep?: (info: StepInfo) => void;
}

/** Why training ended. */
export type StopReason = "steps" | "metric" | "loss" | "patience";

/** What {@linkcode train} returns. */
export interface TrainResult {
  /** The minibatch loss of every step, in order. */
  losses: number[];
  /** The metric where it was evaluated. */
  metrics: { step: number; value: number }[];
  /** Steps done. */
  steps: number;
  /** Why training ended. */
  stopped: StopReason;
  /** Wall time in seconds. */
  seconds: number;
  /** Steps per second. */
  stepsPerSecond: number;
  /** The loss curve (and its running mean) as a plot. */
  plot(options?: { title?: string; logY?: boolean }): Displayable;
}

let runCount = 0;

/**
 * Trains: for each step, draws a seeded minibatch, computes the loss under a gradient tape, and applies one
 * optimizer update to the variables.
 *
 * @param options Steps, seed, batch maker, loss, optimizer, metric, early stopping, progress display.
 * @returns The loss curve, metrics, why it stopped, and its speed.
 * @throws {RangeError} If steps is not a positive integer or an option is out of range; errors from the batch
 *   or loss functions propagate (the variables keep the updates done so far).
 * @example
 * ```ts
 * import { train } from "./trainer.ts";
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * await tf.setBackend("cpu");
 * // Fit w to minimise the squared distance to noisy samples around 3.
 * const w = tf.variable(tf.scalar(0));
 * const result = await train({
 *   steps: 300, seed: 1, learningRate: 0.1, progress: false, variables: [w],
 *   batch: (r) => tf.tensor1d([3 + 0.1 * r.normal(), 3 + 0.1 * r.normal()]),
 *   loss: (x) => tf.mean(tf.square(tf.sub(x, w))),
 *   earlyStop: { lossBelow: 0.02 },
 * });
 * if (!(Math.abs(w.dataSync()[0] - 3) < 0.2) || result.stopped !== "loss") throw new Error(`w = ${w.dataSync()[0]}`);
 * w.dispose();
 * ```
 */
export async function train<B>(options: TrainOptions<B>): Promise<TrainResult> {
  const { steps, seed, batch, loss, evaluate, earlyStop = {}, progress = true, label = "training", onStep } = options;
  const fn = "Cannot train";
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`${fn}: steps must be a positive integer, got ${steps}`);
  }
  if (typeof batch !== "function" || typeof loss !== "function") {
    throw new TypeError(`${fn}: batch and loss must be functions, got ${typeof batch} and ${typeof loss}`);
  }
  if (evaluate && (!Number.isInteger(evaluate.every) || evaluate.every < 1)) {
    throw new RangeError(`${fn}: evaluate.every must be a positive integer, got ${evaluate.every}`);
  }
  const window = earlyStop.window ?? 20;
  if (!Number.isInteger(window) || window < 1) {
    throw new RangeError(`${fn}: earlyStop.window must be a positive integer, got ${window}`);
  }
  const lr = options.learningRate ?? 1e-3;
  if (!options.optimizer && !(lr > 0 && Number.isFinite(lr))) {
    throw new RangeError(`${fn}: learningRate must be a positive number, got ${lr}`);
  }
  const optimizer = options.optimizer ?? tf.train.adam(lr);
  const root = makeRng(seed);
  const losses: number[] = [];
  const metrics: { step: number; value: number }[] = [];
  const display = progress ? await progressLine(steps, label, evaluate?.name ?? "metric") : undefined;
  const t0 = performance.now();
  let stopped: StopReason = "steps";
  let best = Infinity, bestStep = 0;
  try {
    for (let step = 1; step <= steps; step++) {
      const b = batch(root.fork(`batch/${step}`), step);
      let value: number;
      try {
        const l = optimizer.minimize(() => loss(b, step), true, options.variables);
        if (!l) throw new TypeError(`${fn}: the loss function must return a scalar tensor`);
        value = (await l.data())[0];
        l.dispose();
      } finally {
        tf.dispose(b as tf.TensorContainer);
      }
      losses.push(value);
      const info: StepInfo = { step, loss: value, seconds: (performance.now() - t0) / 1000 };
      if (evaluate && (step % evaluate.every === 0 || step === steps)) {
        info.metric = await evaluate.metric(step);
        metrics.push({ step, value: info.metric });
      }
      onStep?.(info);
      await display?.draw(info, false);
      if (!Number.isFinite(value)) break; // NaN or ∞: nothing more to learn; the curve shows it
      const mean = runningMean(losses, window);
      if (
        info.metric !== undefined && earlyStop.metricAtLeast !== undefined && info.metric >= earlyStop.metricAtLeast
      ) {
        stopped = "metric";
        break;
      }
      if (earlyStop.lossBelow !== undefined && losses.length >= Math.min(window, steps) && mean < earlyStop.lossBelow) {
        stopped = "loss";
        break;
      }
      if (mean < best - (earlyStop.minDelta ?? 0)) [best, bestStep] = [mean, step];
      if (earlyStop.patience !== undefined && step - bestStep >= earlyStop.patience) {
        stopped = "patience";
        break;
      }
    }
  } finally {
    if (!options.optimizer) optimizer.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const result: TrainResult = {
    losses,
    metrics,
    steps: losses.length,
    stopped,
    seconds,
    stepsPerSecond: losses.length / seconds,
    plot: (o = {}) => lossPlot(losses, window, o.title ?? `${label}: loss per step`, o.logY ?? true),
  };
  await display?.draw(
    { step: losses.length, loss: losses.at(-1) ?? NaN, metric: metrics.at(-1)?.value, seconds },
    true,
    stopped,
  );
  return result;
}

function runningMean(xs: number[], window: number): number {
  const tail = xs.slice(-window);
  return tail.reduce((a, b) => a + b, 0) / tail.length;
}

function lossPlot(losses: number[], window: number, title: string, logY: boolean): Displayable {
  const x = losses.map((_, i) => i + 1);
  const mean = losses.map((_, i) => runningMean(losses.slice(0, i + 1), window));
  return linePlot([
    { name: "minibatch loss", x, y: losses, mode: "lines", color: "#9ecae1" },
    { name: `mean of the last ${window}`, x, y: mean, mode: "lines", color: "#08519c" },
  ], { title, xTitle: "step", yTitle: "loss (nats per scored token)", logY });
}

/** The live line: `step 120/1000 · loss 0.4321 · 35.2 steps/s · ETA 25 s`, redrawn at most 10 times a second. */
async function progressLine(total: number, label: string, metricName: string) {
  const id = `attention-course-train-${Date.now()}-${++runCount}`;
  const notebook = inNotebook();
  let last = 0;
  const text = (s: StepInfo, done: boolean, why?: StopReason) => {
    const rate = s.step / Math.max(s.seconds, 1e-9);
    const parts = [
      `step ${s.step}/${total}`,
      `loss ${Number.isFinite(s.loss) ? s.loss.toPrecision(4) : s.loss}`,
      ...(s.metric !== undefined ? [`${metricName} ${s.metric.toPrecision(4)}`] : []),
      `${rate.toFixed(1)} steps/s`,
      done
        ? `${s.seconds.toFixed(1)} s${why && why !== "steps" ? ` (stopped early: ${why})` : ""}`
        : `ETA ${Math.round((total - s.step) / Math.max(rate, 1e-9))} s`,
    ];
    return `${label}: ${parts.join(" · ")}`;
  };
  const bundle = (s: StepInfo, done: boolean, why?: StopReason) => {
    const line = text(s, done, why);
    return displayable({
      "text/html": `<div style="font-family:monospace"><progress value="${s.step}" max="${total}" ` +
        `style="width:14em;vertical-align:middle"></progress> ${escapeHtml(line)}</div>`,
      "text/plain": line,
    });
  };
  if (notebook) await show(bundle({ step: 0, loss: NaN, seconds: 0 }, false), id);
  return {
    async draw(s: StepInfo, done: boolean, why?: StopReason) {
      const now = performance.now();
      if (!done && now - last < 100) return;
      last = now;
      if (notebook) await update(bundle(s, done, why), id);
      else if (done) console.log(text(s, done, why));
    },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
