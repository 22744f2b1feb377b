/**
 * Plotly figures for notebooks, and the course's colour convention.
 *
 * Plots use plotly's MIME type `application/vnd.plotly.v1+json`, which
 * JupyterLab renders through the plotly extension installed with the course
 * and VS Code renders natively. The saved output holds only the figure's
 * JSON (kilobytes), never the plotly.js bundle, and renders again when the
 * notebook is reopened.
 * @module
 */
import { type Displayable, displayable } from "./bundle.ts";

/** The plotly MIME type that JupyterLab's plotly extension and VS Code render. */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** A plotly trace: plain JSON (see plotly's figure reference). */
export type Trace = Record<string, unknown> & { type?: string; name?: string };
/** A plotly figure: traces, a layout and a config. */
export interface Figure {
  data: Trace[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/**
 * The course's one colour convention for signed matrices (attention scores, and any matrix whose sign matters):
 * diverging and centred at 0, blue below 0, white at 0, red above (ColorBrewer RdBu, 11 classes).
 */
export const SIGNED_COLORSCALE: [number, string][] = [
  "rgb(5,48,97)",
  "rgb(33,102,172)",
  "rgb(67,147,195)",
  "rgb(146,197,222)",
  "rgb(209,229,240)",
  "rgb(247,247,247)",
  "rgb(253,219,199)",
  "rgb(244,165,130)",
  "rgb(214,96,77)",
  "rgb(178,24,43)",
  "rgb(103,0,31)",
].map((c, i) => [i / 10, c]);

/**
 * The course's one colour convention for attention weights (and any quantity in 0…1): sequential, white at 0
 * to dark green at 1, always over the fixed range 0…1 (ColorBrewer Greens), so that a shade means the same
 * weight in every figure and never looks like a signed score.
 */
export const WEIGHT_COLORSCALE: [number, string][] = [
  "rgb(247,252,245)",
  "rgb(229,245,224)",
  "rgb(199,233,192)",
  "rgb(161,217,155)",
  "rgb(116,196,118)",
  "rgb(65,171,93)",
  "rgb(35,139,69)",
  "rgb(0,109,44)",
  "rgb(0,68,27)",
].map((c, i) => [i / 8, c]);

/** Cells masked out (scores of −∞) are drawn in this grey, which neither colour scale uses. */
export const MASKED_COLOR = "rgb(150,150,150)";

/**
 * A plotly figure, rendered in JupyterLab and VS Code, with a text summary as fallback.
 *
 * Lessons rarely call it directly: {@linkcode attentionHeatmap}, {@linkcode linePlot},
 * {@linkcode scalingPlot} and {@linkcode barChart} build the course's figures with titles, units and colours.
 *
 * @param figure Plotly traces and layout (JSON only: no functions, no typed arrays).
 * @returns A {@linkcode Displayable} figure.
 * @example
 * ```ts
 * import { bundleOf } from "./bundle.ts";
 * import { plot, PLOTLY_MIME } from "./plot.ts";
 * const fig = plot({ data: [{ type: "scatter", x: [1, 2], y: [3, 4], name: "line" }] });
 * if (!(PLOTLY_MIME in bundleOf(fig))) throw new Error("no plotly data");
 * ```
 */
export function plot(figure: Figure): Displayable {
  if (!figure || !Array.isArray(figure.data)) {
    throw new TypeError("Cannot plot: figure must be an object with a data array of traces");
  }
  // JSON round trip: typed arrays become plain arrays, and the figure is
  // detached from later changes of the caller's objects.
  const json = JSON.parse(JSON.stringify(figure, (_k, v) => ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v));
  json.layout = { template: "plotly_white", ...json.layout };
  json.config = { responsive: true, displaylogo: false, ...json.config };
  return displayable({ [PLOTLY_MIME]: json, "text/plain": describeFigure(json) });
}

function describeFigure(figure: Figure): string {
  const layout = figure.layout ?? {};
  const title = titleText(layout.title);
  const axis = (key: string) => titleText((layout[key] as { title?: unknown } | undefined)?.title);
  const lines = [
    `Plot${title ? `: ${title}` : ""} (${figure.data.length} trace${figure.data.length === 1 ? "" : "s"})`,
  ];
  const x = axis("xaxis"), y = axis("yaxis");
  if (x || y) lines.push(`  axes: x = ${x || "?"}, y = ${y || "?"}`);
  for (const t of figure.data) {
    let size: string;
    if (Array.isArray(t.z) && Array.isArray(t.z[0])) {
      size = `${t.z.length}×${(t.z[0] as unknown[]).length}`;
    } else {
      const n = Array.isArray(t.y) ? t.y.length : Array.isArray(t.z) ? t.z.length : Array.isArray(t.x) ? t.x.length : 0;
      size = `${n} point${n === 1 ? "" : "s"}`;
    }
    lines.push(`  - ${t.name ?? "(unnamed)"}: ${t.type ?? "scatter"}, ${size}`);
  }
  return lines.join("\n");
}

function titleText(title: unknown): string {
  if (typeof title === "string") return title;
  if (title && typeof title === "object" && typeof (title as { text?: unknown }).text === "string") {
    return (title as { text: string }).text;
  }
  return "";
}
