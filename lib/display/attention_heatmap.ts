/**
 * Attention matrices as heatmaps, in the course's one colour convention: weights on a sequential scale
 * fixed at 0…1 ({@linkcode WEIGHT_COLORSCALE}), scores and other signed matrices on a diverging scale centred
 * at 0 ({@linkcode SIGNED_COLORSCALE}), masked (−∞) scores in grey. Query i runs down, key j across; tokens
 * label the axes by position, so a repeated word keeps its own row and column.
 * @module
 */
import type { Displayable } from "./bundle.ts";
import { MASKED_COLOR, plot, SIGNED_COLORSCALE, type Trace, WEIGHT_COLORSCALE } from "./plot.ts";
import { checkLabel, type MatrixInput, readMatrix } from "./_checks.ts";

/** Which colour convention a heatmap uses. */
export type HeatmapKind = "weights" | "signed";

/** One matrix of a row of heatmaps drawn by {@linkcode attentionHeatmaps}. */
export interface HeatmapPanel {
  /** The matrix: rows of numbers or a rank-2 tensor. */
  matrix: MatrixInput;
  /**
   * `"weights"` (default): entries in 0…1, sequential scale fixed at 0…1. `"signed"`: scores or any signed
   * matrix, diverging scale centred at 0; −∞ entries are drawn grey, as masked.
   */
  kind?: HeatmapKind;
  /** A title above this panel. */
  title?: string;
  /** Signed panels only: colours span −range…range (default: the largest finite |entry|). */
  range?: number;
  /** Title of the colour bar (default "weight" or "score"). */
  colorbarTitle?: string;
}

/** Options shared by the heatmap helpers. */
export interface HeatmapOptions {
  /** The figure's title. */
  title: string;
  /** Labels of the rows (query tokens); also of the columns unless `keys` is given. */
  tokens?: readonly string[];
  /** Labels of the columns (key tokens), when they differ from the rows'. */
  keys?: readonly string[];
  /** Column axis title (default "key token j"). */
  xTitle?: string;
  /** Row axis title (default "query token i"). */
  yTitle?: string;
  /** Figure height in pixels (default: from the number of rows). */
  height?: number;
}

/** Options of {@linkcode attentionHeatmap}: the shared ones plus one panel's settings. */
export interface AttentionHeatmapOptions extends HeatmapOptions {
  /** `"weights"` (default) or `"signed"`; see {@linkcode HeatmapPanel}. */
  kind?: HeatmapKind;
  /** Signed only: colours span −range…range. */
  range?: number;
  /** Title of the colour bar. */
  colorbarTitle?: string;
}

const ACTION = "draw a heatmap";
const MAX_TICK_LABELS = 40; // more labels than this overlap; the axis then shows positions

/**
 * Attention weights (or, with `kind: "signed"`, scores) as a heatmap: query i down, key j across, a darker
 * green for a larger weight on the fixed scale 0…1.
 *
 * @param matrix [T, S] rows of a softmax (weights), or any signed matrix with `kind: "signed"`.
 * @param options Title (required), token labels, axis titles, kind.
 * @returns A {@linkcode Displayable} plotly figure with a text summary.
 * @example
 * ```ts
 * import { attentionHeatmap, bundleOf, PLOTLY_MIME } from "./mod.ts";
 * const fig = attentionHeatmap([[1, 0], [0.3, 0.7]], { tokens: ["the", "cat"], title: "One head's weights" });
 * const trace = (bundleOf(fig)[PLOTLY_MIME] as { data: { zmin: number; zmax: number }[] }).data[0];
 * if (trace.zmin !== 0 || trace.zmax !== 1) throw new Error("weights always span the fixed scale 0…1");
 * ```
 */
export function attentionHeatmap(matrix: MatrixInput, options: AttentionHeatmapOptions): Displayable {
  const { kind, range, colorbarTitle, ...shared } = options ?? ({} as AttentionHeatmapOptions);
  return attentionHeatmaps([{ matrix, kind, range, colorbarTitle }], shared);
}

/**
 * Attention scores (or any signed matrix) as a heatmap on the diverging scale centred at 0; −∞ (masked)
 * entries in grey. The same as {@linkcode attentionHeatmap} with `kind: "signed"`.
 *
 * @param matrix [T, S] scores, −∞ where masked.
 * @param options Title (required), token labels, axis titles, colour range.
 * @returns A {@linkcode Displayable} plotly figure.
 * @example
 * ```ts
 * import { bundleOf, PLOTLY_MIME, scoreHeatmap } from "./mod.ts";
 * const fig = scoreHeatmap([[0.5, -Infinity], [-2, 1]], { title: "Masked scores" });
 * const trace = (bundleOf(fig)[PLOTLY_MIME] as { data: { z: (number | null)[][]; zmin: number; zmax: number }[] })
 *   .data[0];
 * if (trace.z[0][1] !== null) throw new Error("a masked score is left blank (drawn grey)");
 * if (trace.zmin !== -2 || trace.zmax !== 2) throw new Error("the diverging scale is centred at 0");
 * ```
 */
export function scoreHeatmap(
  matrix: MatrixInput,
  options: Omit<AttentionHeatmapOptions, "kind">,
): Displayable {
  return attentionHeatmap(matrix, { ...options, kind: "signed" });
}

/**
 * Several matrices side by side (e.g. the scores and the weights of one head), each panel in its own
 * colour convention, sharing the token labels.
 *
 * @param panels The matrices, left to right, all with the same shape.
 * @param options Title (required), token labels, axis titles.
 * @returns A {@linkcode Displayable} plotly figure.
 * @example
 * ```ts
 * import { attentionHeatmaps, bundleOf } from "./mod.ts";
 * const fig = attentionHeatmaps([
 *   { matrix: [[2, -1], [0, 1]], kind: "signed", title: "scores" },
 *   { matrix: [[0.95, 0.05], [0.27, 0.73]], title: "weights" },
 * ], { tokens: ["a", "b"], title: "Scores and weights" });
 * const text = bundleOf(fig)["text/plain"] as string;
 * if (!text.includes("scores: heatmap, 2×2")) throw new Error(text);
 * ```
 */
export function attentionHeatmaps(panels: HeatmapPanel[], options: HeatmapOptions): Displayable {
  if (!Array.isArray(panels) || panels.length === 0) {
    throw new TypeError(`Cannot ${ACTION}: panels must be a non-empty array, got ${JSON.stringify(panels)}`);
  }
  const title = checkLabel(ACTION, "title", options?.title);
  const xTitle = checkLabel(ACTION, "xTitle", options.xTitle ?? "key token j");
  const yTitle = checkLabel(ACTION, "yTitle", options.yTitle ?? "query token i");
  const matrices = panels.map((p, k) =>
    readMatrix(ACTION, panels.length > 1 ? `panels[${k}].matrix` : "matrix", p?.matrix)
  );
  const [rows, cols] = [matrices[0].length, matrices[0][0].length];
  matrices.forEach((m, k) => {
    if (m.length !== rows || m[0].length !== cols) {
      throw new TypeError(
        `Cannot ${ACTION}: every panel must have the shape of the first, [${rows}, ${cols}], got [${m.length}, ` +
          `${m[0].length}] in panel ${k}`,
      );
    }
  });
  const rowLabels = labels("tokens", options.tokens, rows);
  const colLabels = labels(options.keys ? "keys" : "tokens", options.keys ?? options.tokens, cols);

  const n = panels.length;
  const height = options.height ?? Math.min(700, 170 + Math.max(260, 30 * rows));
  const margin = { t: n > 1 || panels[0].title ? 90 : 60, b: 110, l: 110, r: 20 };
  // Weights share one fixed 0…1 scale: one colour bar, beside the last weights panel. A signed panel has a
  // range of its own, so its own bar.
  const kinds = panels.map((p) => p?.kind ?? "weights");
  const showBar = kinds.map((kind, k) => kind !== "weights" || !kinds.slice(k + 1).includes("weights"));
  // Room right of each panel: its colour bar (if any) and the next panel's row labels.
  const extra = showBar.map((bar, k) => (bar ? 110 : 0) + (k < n - 1 ? 70 : 0));
  const spare = extra.reduce((a, b) => a + b, 0);
  // Square cells: each panel as wide as it is high; at most ~1000 px in all.
  const side = Math.max(80, Math.min((900 - spare) / n, (height - margin.t - margin.b) * cols / rows));
  const plotWidth = n * side + spare;
  // When the panels are narrower than the height allows, drop the empty band above and below them.
  const fitted = options.height ?? Math.round(Math.min(height, margin.t + margin.b + side * rows / cols + 10));
  // Wide enough for the title too (about 8.5 px per character of plotly's 17 px title font).
  const width = Math.round(Math.max(margin.l + plotWidth + margin.r, 8.5 * title.length + 80));
  const stretch = (width - margin.l - margin.r) / plotWidth; // when the title widens the figure, panels spread out
  const left = panels.map((_, k) => k * side + extra.slice(0, k).reduce((a, b) => a + b, 0));
  const domainOf = (k: number) => [left[k] * stretch / plotWidth, (left[k] + side) * stretch / plotWidth];
  const data: Trace[] = [];
  const layout: Record<string, unknown> = {
    title: { text: title },
    height: fitted,
    width,
    annotations: [] as unknown[],
    margin,
  };
  panels.forEach((panel, k) => {
    const kind = panel.kind ?? "weights";
    if (kind !== "weights" && kind !== "signed") {
      throw new RangeError(`Cannot ${ACTION}: kind must be "weights" or "signed", got ${JSON.stringify(kind)}`);
    }
    const m = matrices[k];
    const ax = k === 0 ? "" : String(k + 1);
    const z = kind === "weights" ? checkWeights(m) : checkSigned(m);
    const scale = kind === "weights" ? undefined : colourRange(m, panel.range);
    const hover = rowLabels.map((r) => colLabels.map((c) => `${yTitle} ${r}<br>${xTitle} ${c}`));
    const masked = kind === "signed" && m.some((row) => row.some((x) => x === -Infinity));
    const cbTitle = panel.colorbarTitle ?? (kind === "weights" ? "weight" : "score");
    data.push({
      type: "heatmap",
      name: panel.title ?? (kind === "weights" ? "weights" : "scores"),
      z,
      x: [...Array(cols).keys()],
      y: [...Array(rows).keys()],
      text: hover,
      hovertemplate: "%{text}<br>value %{z:.4g}<extra></extra>",
      colorscale: kind === "weights" ? WEIGHT_COLORSCALE : SIGNED_COLORSCALE,
      zmin: kind === "weights" ? 0 : -scale!,
      zmax: kind === "weights" ? 1 : scale,
      xaxis: `x${ax}`,
      yaxis: `y${ax}`,
      showscale: showBar[k],
      colorbar: {
        title: { text: masked ? `${cbTitle}<br>grey: −∞<br>(masked)` : cbTitle },
        x: domainOf(k)[1] + 0.01,
        xanchor: "left",
        lenmode: "pixels",
        len: Math.max(side, 160), // as tall as the panel (plotly centres both)
        thickness: 12,
      },
    });
    const ticks = (labelsOf: string[]) =>
      labelsOf.length <= MAX_TICK_LABELS
        ? { tickmode: "array", tickvals: [...labelsOf.keys()], ticktext: labelsOf.map(tickText) }
        : {};
    layout[`xaxis${ax}`] = {
      ...ticks(colLabels),
      domain: domainOf(k),
      // Labels at 45°; with automargin the title's standoff counts from the labels, so the two never overlap.
      tickangle: colLabels.length <= MAX_TICK_LABELS ? -45 : "auto",
      title: { text: xTitle, standoff: 10 },
      automargin: true,
      showgrid: false,
      zeroline: false,
      constrain: "domain",
    };
    layout[`yaxis${ax}`] = {
      ...ticks(rowLabels),
      anchor: `x${ax}`,
      autorange: "reversed",
      scaleanchor: `x${ax}`,
      constrain: "domain",
      title: { text: k === 0 ? yTitle : "" },
      showgrid: false,
      zeroline: false,
    };
    if (masked) layout.plot_bgcolor = MASKED_COLOR; // null cells show the background: grey = masked
    if (panel.title) {
      (layout.annotations as unknown[]).push({
        text: panel.title,
        showarrow: false,
        xref: `x${ax} domain`,
        yref: `y${ax} domain`,
        x: 0.5,
        y: 1.02,
        yanchor: "bottom",
        font: { size: 13 },
      });
    }
  });
  return plot({ data, layout });
}

function labels(name: string, given: readonly string[] | undefined, count: number): string[] {
  if (given === undefined) return [...Array(count).keys()].map(String);
  if (!Array.isArray(given) || given.length !== count || given.some((t) => typeof t !== "string")) {
    throw new TypeError(
      `Cannot ${ACTION}: ${name} must be ${count} strings, one per ${name === "keys" ? "column" : "row"}, got ` +
        `${Array.isArray(given) ? `${given.length} entries` : typeof given}`,
    );
  }
  return given.map((t, i) => `${i} ${t}`);
}

/** "3 cat" → "cat" on the axis when the token list is short; hover text keeps the position. */
function tickText(label: string): string {
  return label.replace(/^\d+ /, "") || label;
}

function checkWeights(m: number[][]): number[][] {
  const eps = 1e-6; // float32 softmax rounding
  m.forEach((row, i) =>
    row.forEach((x, j) => {
      if (!(x >= -eps && x <= 1 + eps)) {
        throw new RangeError(
          `Cannot ${ACTION}: weights must lie in 0…1 (draw scores with kind "signed" or scoreHeatmap), got ${x} ` +
            `at (${i}, ${j})`,
        );
      }
    })
  );
  return m;
}

function checkSigned(m: number[][]): (number | null)[][] {
  return m.map((row, i) =>
    row.map((x, j) => {
      if (x === -Infinity) return null; // masked: left blank, the grey background shows
      if (!Number.isFinite(x)) {
        throw new RangeError(`Cannot ${ACTION}: entries must be finite or −∞ (masked), got ${x} at (${i}, ${j})`);
      }
      return x;
    })
  );
}

function colourRange(m: number[][], range: number | undefined): number {
  if (range !== undefined) {
    if (!(range > 0) || !Number.isFinite(range)) {
      throw new RangeError(`Cannot ${ACTION}: range must be a positive finite number, got ${range}`);
    }
    return range;
  }
  const largest = Math.max(0, ...m.flat().filter(Number.isFinite).map(Math.abs));
  return largest > 0 ? largest : 1;
}
