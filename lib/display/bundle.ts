/**
 * Jupyter MIME bundles: the {@linkcode Displayable} protocol, showing and
 * updating outputs, Markdown and TeX.
 *
 * Each helper of lib/display returns a {@linkcode Displayable}: as the last
 * expression of a cell it renders by itself; anywhere else, `await show(x)`
 * renders it now. Every bundle carries a `text/plain` fallback, so a notebook
 * read where a renderer is missing (or printed from a script) still says what
 * it shows.
 * @module
 */

/** A Jupyter MIME bundle: MIME type → data. */
export type MimeBundle = Record<string, unknown>;

/** Something Jupyter can display (Deno's `Symbol.for("Jupyter.display")` protocol). */
export interface Displayable {
  [key: symbol]: () => MimeBundle;
}

const DISPLAY = Symbol.for("Jupyter.display");

/**
 * Wraps a MIME bundle so that Jupyter displays it.
 *
 * @param bundle MIME type → data; must hold a `text/plain` string.
 * @returns A {@linkcode Displayable}.
 * @example
 * ```ts
 * import { bundleOf, displayable } from "./bundle.ts";
 * const item = displayable({ "text/html": "<b>hi</b>", "text/plain": "hi" });
 * if (bundleOf(item)["text/plain"] !== "hi") throw new Error("the bundle comes back unchanged");
 * ```
 */
export function displayable(bundle: MimeBundle): Displayable {
  if (typeof bundle?.["text/plain"] !== "string") {
    throw new TypeError("Cannot display a bundle without a text/plain fallback");
  }
  return { [DISPLAY]: () => bundle };
}

/**
 * The MIME bundle inside a {@linkcode Displayable}.
 *
 * @param item What a display helper returned.
 * @returns Its MIME bundle.
 * @example
 * ```ts
 * import { bundleOf, markdown } from "./bundle.ts";
 * if (bundleOf(markdown("**a**"))["text/markdown"] !== "**a**") throw new Error("Markdown is kept as written");
 * ```
 */
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
 * @param item What a display helper (`plot`, `table`, `attentionHeatmap`, …) returned.
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
