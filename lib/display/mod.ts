/**
 * Rich output for notebooks: plotly figures in the course's conventions (attention heatmaps, log–log scaling
 * plots, line and bar charts), Markdown, HTML tables, TeX and a progress bar that updates in place.
 *
 * Each helper returns a {@linkcode Displayable}: as the last expression of a cell it renders by itself;
 * anywhere else, `await show(x)` renders it now (the lessons always write `await show(x)`: under JupyterLab's Run
 * All, Deno's kernel sometimes delivers a last-expression result after the next cell has started, and it is then
 * shown under that cell). Every bundle carries a `text/plain` fallback.
 *
 * One colour convention for the whole course: attention weights on a sequential scale fixed at 0…1
 * ({@linkcode WEIGHT_COLORSCALE}, white to dark green), scores and every other signed matrix on a diverging
 * scale centred at 0 ({@linkcode SIGNED_COLORSCALE}, blue–white–red), masked scores in grey.
 *
 * @example
 * ```ts
 * import { attentionHeatmap, bundleOf, PLOTLY_MIME } from "./mod.ts";
 * const fig = attentionHeatmap([[1, 0], [0.3, 0.7]], { tokens: ["the", "cat"], title: "One head's weights" });
 * if (!(PLOTLY_MIME in bundleOf(fig))) throw new Error("no plotly data");
 * ```
 * @module
 */
export {
  bundleOf,
  type Displayable,
  displayable,
  inNotebook,
  markdown,
  type MimeBundle,
  show,
  tex,
  update,
} from "./bundle.ts";
export {
  type Figure,
  MASKED_COLOR,
  plot,
  PLOTLY_MIME,
  SIGNED_COLORSCALE,
  type Trace,
  WEIGHT_COLORSCALE,
} from "./plot.ts";
export { type Cell, formatNumber, table, type TableOptions } from "./table.ts";
export { progress, type ProgressBar } from "./progress.ts";
export {
  attentionHeatmap,
  type AttentionHeatmapOptions,
  attentionHeatmaps,
  type HeatmapKind,
  type HeatmapOptions,
  type HeatmapPanel,
  scoreHeatmap,
} from "./attention_heatmap.ts";
export {
  linePlot,
  type LinePlotOptions,
  logLogSlope,
  type Reference,
  scalingPlot,
  type ScalingPlotOptions,
  type Series,
} from "./line_plot.ts";
export { barChart, type BarChartOptions, type Bars } from "./bar_chart.ts";
export type { ArrayLikeTensor, MatrixInput } from "./_checks.ts";
