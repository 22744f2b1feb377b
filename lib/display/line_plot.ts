/**
 * Line plots with titles and axis labels (units included), and the log–log scaling plot the lessons use for
 * counts, memory and timings against a size.
 * @module
 */
import type { Displayable } from "./bundle.ts";
import { plot, type Trace } from "./plot.ts";
import { formatNumber } from "./table.ts";
import { checkLabel, readNumbers } from "./_checks.ts";

/** One line of a {@linkcode linePlot} or {@linkcode scalingPlot}. */
export interface Series {
  /** Legend entry. */
  name: string;
  /** Positions along the x axis. */
  x: ArrayLike<number>;
  /** Values, one per x. */
  y: ArrayLike<number>;
  /** Line style (default solid). */
  dash?: "solid" | "dot" | "dash" | "dashdot";
  /** Lines, markers or both (default both). */
  mode?: "lines" | "markers" | "lines+markers";
  /** Error bars: ± this much around each y. */
  error?: ArrayLike<number>;
  /** A CSS colour, to keep one meaning per colour across figures. */
  color?: string;
}

/** A horizontal reference line across the plot, e.g. a memory limit. */
export interface Reference {
  /** Legend entry. */
  name: string;
  /** Height of the line. */
  y: number;
}

/** Options of {@linkcode linePlot}. */
export interface LinePlotOptions {
  /** The figure's title. */
  title: string;
  /** x axis title, with the unit (e.g. "sequence length T (tokens)"). */
  xTitle: string;
  /** y axis title, with the unit (e.g. "time per pass (ms)"). */
  yTitle: string;
  /** Logarithmic x axis. */
  logX?: boolean;
  /** Logarithmic y axis. */
  logY?: boolean;
  /** y axis range [low, high], in data units (also on a log axis). */
  yRange?: [number, number];
  /** Horizontal reference lines. */
  references?: Reference[];
  /** Figure height in pixels (default 420). */
  height?: number;
}

const ACTION = "draw a line plot";

/**
 * Lines (with markers) of y against x, titled and labelled.
 *
 * @param series The lines.
 * @param options Title and axis titles (required), log axes, range, reference lines.
 * @returns A {@linkcode Displayable} plotly figure.
 * @example
 * ```ts
 * import { bundleOf, linePlot } from "./mod.ts";
 * const fig = linePlot([{ name: "entropy", x: [0.5, 1, 2], y: [0.2, 0.9, 1.6] }], {
 *   title: "Entropy against temperature", xTitle: "temperature τ", yTitle: "entropy (nats)", logX: true,
 * });
 * if (!(bundleOf(fig)["text/plain"] as string).includes("x = temperature τ")) throw new Error("axis titles");
 * ```
 */
export function linePlot(series: Series[], options: LinePlotOptions): Displayable {
  return lines(ACTION, series, options);
}

/** Options of {@linkcode scalingPlot}: those of {@linkcode linePlot} except the axes, which are both log. */
export interface ScalingPlotOptions extends Omit<LinePlotOptions, "logX" | "logY"> {
  /**
   * Fit each series' slope on the log–log axes over the points with x ≥ slopeFrom, and show it in the legend
   * ("∝ T^1.98", named after the x axis's variable: the last one-letter word of `xTitle`, before any unit in
   * parentheses; "x" when it has none): the exponent of the power law the series follows there.
   */
  slopeFrom?: number;
}

/**
 * A log–log plot of counts, bytes or times against a size: a power law y ∝ xᵖ is a straight line of slope p.
 *
 * @param series The lines; every x and y must be positive.
 * @param options Title and axis titles (required), reference lines, and `slopeFrom` to print fitted slopes.
 * @returns A {@linkcode Displayable} plotly figure.
 * @example
 * ```ts
 * import { bundleOf, scalingPlot } from "./mod.ts";
 * const T = [64, 128, 256, 512];
 * const fig = scalingPlot([{ name: "T²", x: T, y: T.map((t) => t * t) }], {
 *   title: "Pairs against length", xTitle: "sequence length T (tokens)", yTitle: "query–key pairs", slopeFrom: 64,
 * });
 * if (!(bundleOf(fig)["text/plain"] as string).includes("T² (∝ T^2.00)")) throw new Error("the slope of T² is 2");
 * ```
 */
export function scalingPlot(series: Series[], options: ScalingPlotOptions): Displayable {
  const action = "draw a scaling plot";
  const { slopeFrom, ...rest } = options ?? ({} as ScalingPlotOptions);
  if (slopeFrom !== undefined && !(slopeFrom > 0)) {
    throw new RangeError(`Cannot ${action}: slopeFrom must be a positive number, got ${slopeFrom}`);
  }
  const variable = axisVariable(rest.xTitle);
  const named = Array.isArray(series) && slopeFrom !== undefined
    ? series.map((s) => ({ ...s, name: `${s.name} (∝ ${variable}^${logLogSlope(s?.x, s?.y, slopeFrom).toFixed(2)})` }))
    : series;
  return lines(action, named, { ...rest, logX: true, logY: true });
}

/** The variable an x-axis title names: its last one-letter word ("sequence length T (tokens)" → "T"), else "x". */
function axisVariable(title: unknown): string {
  const match = typeof title === "string" ? title.match(/(?:^|\s)(\p{L})(?:\s+\([^)]*\))?\s*$/u) : null;
  return match ? match[1] : "x";
}

/**
 * The least-squares slope of log y against log x over the points with x ≥ from: the exponent p of y ∝ xᵖ.
 *
 * @param x Sizes (positive).
 * @param y Values (positive), one per size.
 * @param from Use only points with x ≥ from (default: all).
 * @returns The slope.
 * @example
 * ```ts
 * import { logLogSlope } from "./mod.ts";
 * if (Math.abs(logLogSlope([1, 2, 4, 8], [3, 12, 48, 192]) - 2) > 1e-12) throw new Error("3x² has slope 2");
 * ```
 */
export function logLogSlope(x: ArrayLike<number>, y: ArrayLike<number>, from = -Infinity): number {
  const action = "fit a log–log slope";
  const xs = readNumbers(action, "x", x);
  const ys = readNumbers(action, "y", y, xs.length);
  const pts = xs.map((v, i) => [v, ys[i]]).filter(([v]) => v >= from);
  if (pts.length < 2) {
    throw new RangeError(`Cannot ${action}: need at least 2 points with x ≥ ${from}, got ${pts.length}`);
  }
  if (pts.some(([a, b]) => !(a > 0) || !(b > 0))) {
    throw new RangeError(`Cannot ${action}: every x and y must be positive, got ${JSON.stringify(pts)}`);
  }
  const lx = pts.map(([a]) => Math.log(a)), ly = pts.map(([, b]) => Math.log(b));
  const mx = lx.reduce((s, v) => s + v, 0) / lx.length, my = ly.reduce((s, v) => s + v, 0) / ly.length;
  const sxx = lx.reduce((s, v) => s + (v - mx) ** 2, 0);
  if (sxx === 0) throw new RangeError(`Cannot ${action}: the points need at least two different x`);
  return lx.reduce((s, v, i) => s + (v - mx) * (ly[i] - my), 0) / sxx;
}

function lines(action: string, series: Series[], options: LinePlotOptions): Displayable {
  const title = checkLabel(action, "title", options?.title);
  const xTitle = checkLabel(action, "xTitle", options.xTitle);
  const yTitle = checkLabel(action, "yTitle", options.yTitle);
  if (!Array.isArray(series) || series.length === 0) {
    throw new TypeError(`Cannot ${action}: series must be a non-empty array, got ${typeof series}`);
  }
  const data: Trace[] = series.map((s, k) => {
    const name = checkLabel(action, `series[${k}].name`, s?.name);
    const x = readNumbers(action, `the x of "${name}"`, s.x);
    const y = readNumbers(action, `the y of "${name}"`, s.y, x.length);
    for (const [axis, values, log] of [["x", x, options.logX], ["y", y, options.logY]] as const) {
      const bad = values.findIndex((v) => !Number.isFinite(v) || (log && v <= 0));
      if (bad >= 0) {
        throw new RangeError(
          `Cannot ${action}: the ${axis} of "${name}" must be ${log ? "positive (log axis)" : "finite"}, got ` +
            `${values[bad]} at index ${bad}`,
        );
      }
    }
    return {
      type: "scatter",
      mode: s.mode ?? "lines+markers",
      name,
      x,
      y,
      line: { dash: s.dash ?? "solid", ...(s.color ? { color: s.color } : {}) },
      ...(s.color ? { marker: { color: s.color } } : {}),
      ...(s.error
        ? { error_y: { type: "data", array: readNumbers(action, "error", s.error, x.length), visible: true } }
        : {}),
    };
  });
  const allX = data.flatMap((t) => t.x as number[]);
  for (const [k, ref] of (options.references ?? []).entries()) {
    const name = checkLabel(action, `references[${k}].name`, ref?.name);
    if (!Number.isFinite(ref.y) || (options.logY && !(ref.y > 0))) {
      throw new RangeError(
        `Cannot ${action}: the reference "${name}" must be at a finite (positive on a log axis) y, got ${ref.y}`,
      );
    }
    data.push({
      type: "scatter",
      mode: "lines",
      name,
      x: [Math.min(...allX), Math.max(...allX)],
      y: [ref.y, ref.y],
      line: { dash: k % 2 ? "dot" : "dash", color: "rgb(110,110,110)" },
    });
  }
  const range = options.yRange ? options.logY ? options.yRange.map(Math.log10) : options.yRange : undefined;
  return plot({
    data,
    layout: {
      title: { text: title },
      xaxis: { title: { text: xTitle }, ...(options.logX ? { type: "log", ...logTicks(allX) } : {}) },
      yaxis: {
        title: { text: yTitle },
        ...(options.logY ? { type: "log", exponentformat: "power" } : {}),
        ...(range ? { range } : {}),
      },
      height: options.height ?? 420,
    },
  });
}

/** On a log x axis with few distinct sizes (e.g. powers of two), a tick at each size, labelled in full. */
function logTicks(xs: number[]): Record<string, unknown> {
  const distinct = [...new Set(xs)].sort((a, b) => a - b);
  if (distinct.length > 16) return {};
  return { tickmode: "array", tickvals: distinct, ticktext: distinct.map(formatNumber) };
}
