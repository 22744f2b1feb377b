/**
 * Grouped bar charts with titles and axis labels.
 * @module
 */
import type { Displayable } from "./bundle.ts";
import { plot } from "./plot.ts";
import { checkLabel, readNumbers } from "./_checks.ts";

/** One group of bars (one colour) in a {@linkcode barChart}. */
export interface Bars {
  /** Legend entry. */
  name: string;
  /** Categories, one per bar (shared by every group). */
  x: readonly (string | number)[];
  /** Bar heights. */
  y: ArrayLike<number>;
  /** A CSS colour. */
  color?: string;
}

/** Options of {@linkcode barChart}. */
export interface BarChartOptions {
  /** The figure's title. */
  title: string;
  /** x axis title. */
  xTitle: string;
  /** y axis title, with the unit. */
  yTitle: string;
  /** Logarithmic y axis. */
  logY?: boolean;
  /** Figure height in pixels (default 380). */
  height?: number;
}

/**
 * Bars side by side per category, one colour per group.
 *
 * @param groups The groups of bars.
 * @param options Title and axis titles (required).
 * @returns A {@linkcode Displayable} plotly figure.
 * @example
 * ```ts
 * import { barChart, bundleOf } from "./mod.ts";
 * const fig = barChart([{ name: "τ = 1", x: ["mat", "sofa"], y: [1200, 800] }], {
 *   title: "Words drawn", xTitle: "word", yTitle: "count (of 2,000 draws)",
 * });
 * if (!(bundleOf(fig)["text/plain"] as string).includes("τ = 1: bar, 2 points")) throw new Error("one group");
 * ```
 */
export function barChart(groups: Bars[], options: BarChartOptions): Displayable {
  const action = "draw a bar chart";
  const title = checkLabel(action, "title", options?.title);
  const xTitle = checkLabel(action, "xTitle", options.xTitle);
  const yTitle = checkLabel(action, "yTitle", options.yTitle);
  if (!Array.isArray(groups) || groups.length === 0) {
    throw new TypeError(`Cannot ${action}: groups must be a non-empty array, got ${typeof groups}`);
  }
  const data = groups.map((g, k) => {
    const name = checkLabel(action, `groups[${k}].name`, g?.name);
    if (!Array.isArray(g.x)) throw new TypeError(`Cannot ${action}: the x of "${name}" must be an array`);
    const seen = new Set<string>();
    for (const c of g.x.map(String)) {
      if (seen.has(c)) {
        throw new TypeError(
          `Cannot ${action}: the x of "${name}" must not repeat a category (plotly would merge the bars), got ` +
            `"${c}" twice`,
        );
      }
      seen.add(c);
    }
    const y = readNumbers(action, `the y of "${name}"`, g.y, g.x.length);
    return { type: "bar", name, x: g.x.map(String), y, ...(g.color ? { marker: { color: g.color } } : {}) };
  });
  return plot({
    data,
    layout: {
      title: { text: title },
      // Categories stay in the given order, even when they look like numbers.
      xaxis: { title: { text: xTitle }, type: "category" },
      yaxis: { title: { text: yTitle }, ...(options.logY ? { type: "log", exponentformat: "power" } : {}) },
      barmode: "group",
      height: options.height ?? 380,
    },
  });
}
