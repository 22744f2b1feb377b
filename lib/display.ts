/**
 * Rich output for notebooks: plotly figures, Markdown, HTML tables, TeX and a
 * progress bar that updates in place.
 *
 * Each helper returns a {@linkcode Displayable}: as the last expression of a
 * cell it renders by itself; anywhere else, `await show(x)` renders it now.
 * Every bundle carries a `text/plain` fallback, so a notebook read where a
 * renderer is missing (or printed from a script) still says what it shows.
 *
 * Plots use plotly's MIME type `application/vnd.plotly.v1+json`, which
 * JupyterLab renders through the plotly extension installed with the course
 * and VS Code renders natively. The saved output holds only the figure's
 * JSON (kilobytes), never the plotly.js bundle, and renders again when the
 * notebook is reopened.
 *
 * @module
 */

/** A Jupyter MIME bundle: MIME type → data. */
export type MimeBundle = Record<string, unknown>;

/** Something Jupyter can display (Deno's `Symbol.for("Jupyter.display")` protocol). */
export interface Displayable {
  [key: symbol]: () => MimeBundle;
}

/** The plotly MIME type that JupyterLab's plotly extension and VS Code render. */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

const DISPLAY = Symbol.for("Jupyter.display");

/** Wraps a MIME bundle so that Jupyter displays it. */
export function displayable(bundle: MimeBundle): Displayable {
  if (typeof bundle["text/plain"] !== "string") {
    throw new TypeError("Cannot display a bundle without a text/plain fallback");
  }
  return { [DISPLAY]: () => bundle };
}

/** The MIME bundle inside a {@linkcode Displayable}. */
export function bundleOf(item: Displayable): MimeBundle {
  const make = item?.[DISPLAY];
  if (typeof make !== "function") {
    throw new TypeError("Cannot display this value: expected the result of plot(), markdown(), table() or tex()");
  }
  return make();
}

interface JupyterLike {
  broadcast(type: string, content: Record<string, unknown>): Promise<void>;
}

function jupyter(): JupyterLike | undefined {
  const deno = (globalThis as { Deno?: { jupyter?: JupyterLike } }).Deno;
  try {
    return deno?.jupyter; // outside a kernel, Deno throws on access
  } catch {
    return undefined;
  }
}

/** Whether this code runs inside a Jupyter kernel (Deno's). */
export function inNotebook(): boolean {
  return jupyter() !== undefined;
}

/**
 * Displays now; outside a notebook, prints the `text/plain` fallback.
 *
 * @param item What {@linkcode plot}, {@linkcode markdown}, {@linkcode table} or {@linkcode tex} returned.
 * @param displayId Give an id to replace this output later with {@linkcode update}.
 */
export async function show(item: Displayable, displayId?: string): Promise<void> {
  const data = bundleOf(item);
  const kernel = jupyter();
  if (!kernel) {
    console.log(data["text/plain"]);
    return;
  }
  await kernel.broadcast("display_data", {
    data,
    metadata: {},
    transient: displayId ? { display_id: displayId } : {},
  });
}

/** Replaces the output shown with `displayId`; outside a notebook, does nothing. */
export async function update(item: Displayable, displayId: string): Promise<void> {
  const data = bundleOf(item);
  await jupyter()?.broadcast("update_display_data", { data, metadata: {}, transient: { display_id: displayId } });
}

// ---------------------------------------------------------------- plotly

/** A plotly trace: plain JSON (see plotly's figure reference). */
export type Trace = Record<string, unknown> & { type?: string; name?: string };
/** A plotly figure: traces, a layout and a config. */
export interface Figure {
  data: Trace[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/**
 * A plotly figure, rendered in JupyterLab and VS Code, with a text summary as fallback.
 *
 * @param figure Plotly traces and layout (JSON only: no functions, no typed arrays).
 * @returns A {@linkcode Displayable} figure.
 * @example
 * ```ts
 * import { bundleOf, plot, PLOTLY_MIME } from "./display.ts";
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
    const n = Array.isArray(t.y) ? t.y.length : Array.isArray(t.z) ? t.z.length : Array.isArray(t.x) ? t.x.length : 0;
    lines.push(`  - ${t.name ?? "(unnamed)"}: ${t.type ?? "scatter"}, ${n} point${n === 1 ? "" : "s"}`);
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

// ---------------------------------------------------------------- text

/**
 * Markdown, rendered by the notebook (with LaTeX math between `$…$`).
 *
 * @param text Markdown source.
 * @returns A {@linkcode Displayable}; the fallback is the source itself.
 */
export function markdown(text: string): Displayable {
  if (typeof text !== "string") throw new TypeError(`Cannot show Markdown: expected a string, got ${typeof text}`);
  return displayable({ "text/markdown": text, "text/plain": text });
}

/**
 * A display-mode TeX formula, typeset by the notebook's MathJax.
 *
 * @param formula TeX without surrounding `$$`, e.g. `"\\frac{a}{b}"`.
 * @returns A {@linkcode Displayable}; the fallback is the TeX source.
 */
export function tex(formula: string): Displayable {
  if (typeof formula !== "string") throw new TypeError(`Cannot show TeX: expected a string, got ${typeof formula}`);
  return displayable({ "text/latex": `$$${formula}$$`, "text/plain": formula });
}

/** A table cell: numbers are right-aligned, everything else is shown as text. */
export type Cell = string | number | bigint | boolean | null | undefined;

/** Options for {@linkcode table}. */
export interface TableOptions {
  /** Column headers; default: the keys of the first row (object rows) or none. */
  columns?: string[];
  /** A caption above the table. */
  caption?: string;
}

/**
 * An HTML table with an aligned plain-text twin.
 *
 * @param rows Arrays of cells, or objects whose keys are column names.
 * @param options Column headers and caption.
 * @returns A {@linkcode Displayable} table.
 * @example
 * ```ts
 * import { bundleOf, table } from "./display.ts";
 * const text = bundleOf(table([{ T: 8, params: 64 }])) ["text/plain"] as string;
 * if (!text.includes("params")) throw new Error("missing header");
 * ```
 */
export function table(rows: Array<Cell[] | Record<string, Cell>>, options: TableOptions = {}): Displayable {
  if (!Array.isArray(rows)) throw new TypeError(`Cannot make a table: rows must be an array, got ${typeof rows}`);
  const first = rows[0];
  const columns = options.columns ??
    (first && !Array.isArray(first) ? Object.keys(first) : []);
  const cells: Cell[][] = rows.map((r) => Array.isArray(r) ? r : columns.map((c) => r[c]));
  const text = (c: Cell) => c === null || c === undefined ? "" : typeof c === "number" ? formatNumber(c) : String(c);
  const numeric = (c: Cell) => typeof c === "number" || typeof c === "bigint";

  const head = columns.length
    ? `<thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead>`
    : "";
  const body = cells.map((r) =>
    `<tr>${
      r.map((c) => `<td style="text-align:${numeric(c) ? "right" : "left"}">${escapeHtml(text(c))}</td>`).join("")
    }</tr>`
  ).join("");
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : "";
  const html = `<table>${caption}${head}<tbody>${body}</tbody></table>`;

  const grid = [...(columns.length ? [columns] : []), ...cells.map((r) => r.map(text))];
  const widths = grid.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, String(c).length)), []);
  // A column whose cells are all numbers is right-aligned, its header too.
  const right = widths.map((_, i) => cells.length > 0 && cells.every((r) => numeric(r[i])));
  const pad = (r: string[]) =>
    r.map((c, i) => right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])).join("  ").trimEnd();
  const plain = [
    ...(options.caption ? [options.caption] : []),
    ...(columns.length ? [pad(columns), widths.map((w) => "-".repeat(w)).join("  ")] : []),
    ...cells.map((r) => pad(r.map(text))),
  ].join("\n");
  return displayable({ "text/html": html, "text/plain": plain });
}

/** Formats a number for tables: integers in full with thin grouping, others to 4 significant digits. */
export function formatNumber(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return x.toLocaleString("en-US");
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? x.toExponential(3) : String(Number(x.toPrecision(4)));
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

// ---------------------------------------------------------------- progress

/** A progress bar made by {@linkcode progress}. */
export interface ProgressBar {
  /** Sets the number of finished steps and redraws (at most ~10 times a second). */
  update(done: number): Promise<void>;
  /** Marks the bar finished and redraws it. */
  finish(): Promise<void>;
}

let progressCount = 0;

/**
 * A progress bar that updates in place in the notebook (one output, redrawn).
 * Outside a notebook it prints only when finished.
 *
 * @param total Number of steps.
 * @param label Text before the bar.
 * @returns A {@linkcode ProgressBar}; `await bar.update(i)` as work proceeds.
 */
export async function progress(total: number, label = ""): Promise<ProgressBar> {
  if (!Number.isInteger(total) || total <= 0) {
    throw new RangeError(`Cannot make a progress bar: total must be a positive integer, got ${total}`);
  }
  const id = `attention-course-progress-${Date.now()}-${++progressCount}`;
  const start = performance.now();
  let last = 0;
  const draw = (done: number) => {
    const frac = Math.min(1, Math.max(0, done / total));
    const secs = ((performance.now() - start) / 1000).toFixed(1);
    const bar = "█".repeat(Math.round(frac * 30)).padEnd(30, "░");
    const plain = `${label ? label + " " : ""}${bar} ${done}/${total} (${secs} s)`;
    return displayable({
      "text/html": `<div style="font-family:monospace">${escapeHtml(label)} <progress value="${done}" max="${total}" ` +
        `style="width:20em;vertical-align:middle"></progress> ${done}/${total} (${secs} s)</div>`,
      "text/plain": plain,
    });
  };
  if (inNotebook()) await show(draw(0), id);
  return {
    async update(done: number) {
      const now = performance.now();
      if (now - last < 100 && done < total) return;
      last = now;
      if (inNotebook()) await update(draw(done), id);
    },
    async finish() {
      if (inNotebook()) await update(draw(total), id);
      else console.log(bundleOf(draw(total))["text/plain"]);
    },
  };
}
