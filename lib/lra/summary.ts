/**
 * Reading the capstone's results: per-kernel means and spreads over seeds, the Pareto front of score against
 * speed, and the Long-Range-Arena-style bubble chart (score against speed, bubble area = memory).
 * @module
 */
import type { LraCost, LraResults } from "./run.ts";
import type { LraKernel } from "./kernels.ts";
import { type Displayable } from "../display/bundle.ts";
import { plot, type Trace } from "../display/plot.ts";

/** One kernel at one training length, over its seeds. */
export interface LraSummary {
  kernel: LraKernel;
  T: number;
  /** Mean held-out accuracy over the seeds. */
  accuracy: number;
  /** Sample standard deviation over the seeds (0 for one seed). */
  accuracyStd: number;
  /** Lowest and highest accuracy over the seeds. */
  accuracyRange: [number, number];
  seeds: number;
  /** Median over seeds of the median ms per training step. */
  stepMs: number;
  /** The cost sweep at this T (undefined if T was not swept). */
  cost?: LraCost;
  parameters: number;
  budget: number;
}

/**
 * Per kernel and training length: accuracy mean ± standard deviation over seeds, step time, and the cost sweep at
 * that length.
 *
 * @param results What {@linkcode runLra} returned (or the cache held).
 * @returns One row per kernel and training length, in the configuration's kernel order.
 * @example
 * ```ts
 * import { summarizeLra } from "./summary.ts";
 * const run = (seed: number, accuracy: number) =>
 *   ({ kernel: "softmax", T: 8, seed, accuracy, finalLoss: 0, stepMs: 2, parameters: 10, budget: 10, ffn: 4 });
 * const rows = summarizeLra({ config: { kernels: ["softmax"], trainLengths: [8] }, runs: [run(1, 0.5), run(2, 0.7)],
 *   costs: [] } as never);
 * if (Math.abs(rows[0].accuracy - 0.6) > 1e-12 || rows[0].accuracyRange.join() !== "0.5,0.7") throw new Error("bad");
 * ```
 */
export function summarizeLra(results: LraResults): LraSummary[] {
  const out: LraSummary[] = [];
  for (const T of results.config.trainLengths) {
    for (const kernel of results.config.kernels) {
      const runs = results.runs.filter((r) => r.kernel === kernel && r.T === T);
      if (runs.length === 0) continue;
      const acc = runs.map((r) => r.accuracy);
      const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
      const std = acc.length > 1 ? Math.sqrt(acc.reduce((s, a) => s + (a - mean) ** 2, 0) / (acc.length - 1)) : 0;
      const steps = runs.map((r) => r.stepMs).sort((a, b) => a - b);
      out.push({
        kernel,
        T,
        accuracy: mean,
        accuracyStd: std,
        accuracyRange: [Math.min(...acc), Math.max(...acc)],
        seeds: runs.length,
        stepMs: steps[steps.length >> 1],
        cost: results.costs.find((c) => c.kernel === kernel && c.T === T),
        parameters: runs[0].parameters,
        budget: runs[0].budget,
      });
    }
  }
  return out;
}

/**
 * The Pareto front of points to be made fast (small `ms`) and accurate (large `score`): the indices of the points no
 * other point beats on both (at least as fast and at least as accurate, better on one), sorted by `ms`.
 *
 * @param points Time and score of each point.
 * @returns Indices of the front, fastest first.
 * @example
 * ```ts
 * import { paretoFront } from "./summary.ts";
 * // b is slower and worse than a: dominated. c is slowest but best: on the front.
 * const front = paretoFront([{ ms: 1, score: 0.5 }, { ms: 2, score: 0.4 }, { ms: 3, score: 0.9 }]);
 * if (front.join() !== "0,2") throw new Error(`got ${front}`);
 * ```
 */
export function paretoFront(points: { ms: number; score: number }[]): number[] {
  const ok = (p: { ms: number; score: number }) => Number.isFinite(p.ms) && Number.isFinite(p.score);
  const front = points.map((p, i) => ({ p, i })).filter(({ p, i }) =>
    ok(p) &&
    !points.some((o, j) => j !== i && ok(o) && o.ms <= p.ms && o.score >= p.score && (o.ms < p.ms || o.score > p.score))
  );
  return front.sort((a, b) => a.p.ms - b.p.ms || b.p.score - a.p.score).map(({ i }) => i);
}

/** The colour of each kernel in the capstone's figures (exact, low-rank, linear, sparse, routed, synthetic). */
export const LRA_COLORS: Record<LraKernel, string> = {
  softmax: "#000000",
  flash: "#7f7f7f",
  linformer: "#9467bd",
  "elu+1": "#d62728",
  "favor+": "#ff7f0e",
  window: "#1f77b4",
  bigbird: "#17becf",
  clustered: "#2ca02c",
  synthesizer: "#8c564b",
};

/**
 * The bubble chart of the Long Range Arena's Figure 3 (Tay et al. 2021), for this machine: held-out accuracy against
 * ms per training step, bubble area proportional to the peak memory of a training step, bars from the lowest to the
 * highest seed, and the Pareto front as a dashed line.
 *
 * @param rows The summary at one training length ({@linkcode summarizeLra}, filtered to one T).
 * @param options Title, and the chance accuracy drawn as a dotted line.
 * @returns The figure.
 */
export function lraBubbleChart(rows: LraSummary[], options: { title?: string; chance?: number } = {}): Displayable {
  const mib = (r: LraSummary) => (r.cost && Number.isFinite(r.cost.peakBytes) ? r.cost.peakBytes / 2 ** 20 : NaN);
  const biggest = Math.max(1e-9, ...rows.map(mib).filter(Number.isFinite));
  // Labels to the right of their bubble; of two bubbles close together, the faster one's goes to the left.
  const positions = rows.map(() => "middle right");
  rows.forEach((r, i) =>
    rows.forEach((o, j) => {
      const near = Math.abs(Math.log(o.stepMs / r.stepMs)) < 0.15 && Math.abs(o.accuracy - r.accuracy) < 0.15;
      if (i !== j && near && r.stepMs < o.stepMs) positions[i] = "middle left";
    })
  );
  const traces: Trace[] = rows.map((r, i) => ({
    type: "scatter",
    mode: "markers+text",
    name: `${r.kernel} (${Number.isFinite(mib(r)) ? mib(r).toFixed(1) : "?"} MiB)`,
    x: [r.stepMs],
    y: [r.accuracy],
    text: [r.kernel],
    textposition: positions[i],
    // The bars span the seeds' lowest to highest accuracy (always within 0…1).
    error_y: {
      type: "data",
      symmetric: false,
      array: [r.accuracyRange[1] - r.accuracy],
      arrayminus: [r.accuracy - r.accuracyRange[0]],
      visible: true,
      color: LRA_COLORS[r.kernel],
    },
    marker: {
      // Area ∝ memory: the diameter goes with its square root (6 to 36 px).
      size: [Number.isFinite(mib(r)) ? 6 + 30 * Math.sqrt(mib(r) / biggest) : 6],
      color: LRA_COLORS[r.kernel],
      opacity: 0.6,
      line: { color: "#333", width: 1 },
    },
  }));
  const front = paretoFront(rows.map((r) => ({ ms: r.stepMs, score: r.accuracy })));
  traces.push({
    type: "scatter",
    mode: "lines",
    name: "Pareto front",
    x: front.map((i) => rows[i].stepMs),
    y: front.map((i) => rows[i].accuracy),
    line: { dash: "dash", color: "#444", width: 1.5, shape: "hv" },
  });
  const xs = rows.map((r) => r.stepMs).filter((x) => x > 0);
  if (options.chance !== undefined) {
    traces.push({
      type: "scatter",
      mode: "lines",
      name: "chance",
      x: [Math.min(...xs) * 0.8, Math.max(...xs) * 1.25],
      y: [options.chance, options.chance],
      line: { dash: "dot", color: "grey", width: 1 },
    });
  }
  return plot({
    data: traces,
    layout: {
      title: { text: options.title ?? "Score against speed; bubble area = peak memory of a training step" },
      xaxis: {
        title: { text: "ms per training step (log scale; left is faster)" },
        type: "log",
        // Room for the labels right of the slowest bubble and left of the fastest.
        range: [Math.log10(Math.min(...xs) * 0.75), Math.log10(Math.max(...xs) * 1.5)],
      },
      yaxis: { title: { text: "held-out accuracy (mean; bars: lowest–highest seed)" }, range: [0, 1.1] },
      width: 860,
      height: 520,
      legend: { font: { size: 11 } },
    },
  });
}
