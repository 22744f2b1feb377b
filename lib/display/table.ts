/**
 * HTML tables with an aligned plain-text twin, and the number format they use.
 * @module
 */
import { type Displayable, displayable } from "./bundle.ts";
import { escapeHtml } from "./_html.ts";

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
 * An HTML table with an aligned plain-text twin. Numbers are formatted by {@linkcode formatNumber}
 * (integers and bigints in full with thousands separators) and right-aligned.
 *
 * @param rows Arrays of cells, or objects whose keys are column names.
 * @param options Column headers and caption.
 * @returns A {@linkcode Displayable} table.
 * @example
 * ```ts
 * import { bundleOf } from "./bundle.ts";
 * import { table } from "./table.ts";
 * const text = bundleOf(table([{ T: 8, params: 4194304n }]))["text/plain"] as string;
 * if (!text.includes("params") || !text.includes("4,194,304")) throw new Error(text);
 * ```
 */
export function table(rows: Array<Cell[] | Record<string, Cell>>, options: TableOptions = {}): Displayable {
  if (!Array.isArray(rows)) throw new TypeError(`Cannot make a table: rows must be an array, got ${typeof rows}`);
  const first = rows[0];
  const columns = options.columns ??
    (first && !Array.isArray(first) ? Object.keys(first) : []);
  const cells: Cell[][] = rows.map((r) => Array.isArray(r) ? r : columns.map((c) => r[c]));
  const text = (c: Cell) =>
    c === null || c === undefined ? "" : typeof c === "number" || typeof c === "bigint" ? formatNumber(c) : String(c);
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

/**
 * Formats a number for tables and printed lines: integers (and bigints) in full with thousands separators,
 * others to 4 significant digits (exponent form below 0.001 and from 1,000,000 up).
 *
 * @param x A number or a bigint.
 * @returns The text, e.g. `"1,048,576"`, `"472.6"`, `"1.500e-5"`.
 * @example
 * ```ts
 * import { formatNumber } from "./table.ts";
 * if (formatNumber(2n ** 40n) !== "1,099,511,627,776") throw new Error("bigints keep every digit");
 * ```
 */
export function formatNumber(x: number | bigint): string {
  if (typeof x === "bigint") return x.toLocaleString("en-US");
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return x.toLocaleString("en-US");
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? x.toExponential(3) : String(Number(x.toPrecision(4)));
}
