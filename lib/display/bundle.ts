/**
 * Jupyter MIME bundles: the {@linkcode Displayable} protocol, showing and
 * updating outputs, Markdown and TeX.
 *
 * Each helper of lib/display returns a {@linkcode Displayable}: as the last
 * expression of a cell it renders by itself; anywhere else, `await show(x)`
 * renders it now. The lessons use `await show(x)` even as the last statement:
 * under JupyterLab's Run All, Deno's kernel (2.9) sometimes sends a cell's
 * last-expression result after the next cell has started, and JupyterLab then
 * shows it under that next cell. Every bundle carries a `text/plain` fallback, so a notebook
 * read where a renderer is missing (or printed from a script) still says what
 * it shows.
 * @module
 */

/** A Jupyter MIME bundle: MIME type → data. */
export type MimeBundle = Record<string, unknown>;

/** Something Jupyter can display (Deno's `Symbol.for("Jupyter.display")` protocol). */
export interface Displayable {
  [key: symbol]: (...args: never[]) => unknown;
}

const DISPLAY = Symbol.for("Jupyter.display");
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * Wraps a MIME bundle so that Jupyter displays it.
 *
 * As the last expression of a cell it renders by itself on both kernels: Deno's reads the
 * `Symbol.for("Jupyter.display")` method; tslab prints the value with `console.log`, whose `util.inspect` hook
 * sends the whole bundle instead of the object's text. Printed anywhere else (`console.log(fig)` in a script),
 * it shows its `text/plain` fallback.
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
  return {
    [DISPLAY]: () => bundle,
    [INSPECT]: (depth: number, options: { depth?: number | null }) => inspected(bundle, depth, options),
  };
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
  return (make as () => MimeBundle)();
}

/** A Jupyter message that displays (or replaces) one output. */
interface DisplayContent {
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}

/** The kernel the code runs in, as far as lib/display needs it: something that sends display messages. */
export interface KernelSink {
  /** "deno" (Deno's Jupyter kernel) or "tslab" (tslab's, on Node.js). */
  kind: "deno" | "tslab";
  send(type: "display_data" | "update_display_data", content: DisplayContent): Promise<void>;
}

interface DenoJupyter {
  broadcast(type: string, content: Record<string, unknown>): Promise<void>;
}

/** tslab's module dist/jupyter.js: `lastWriteDisplayData` sends a display message for the running cell. */
interface TslabJupyter {
  lastWriteDisplayData: ((content: DisplayContent, update: boolean) => void) | null;
}

function denoJupyter(): DenoJupyter | undefined {
  const deno = (globalThis as { Deno?: { jupyter?: DenoJupyter } }).Deno;
  try {
    return deno?.jupyter; // outside a kernel, Deno throws on access
  } catch {
    return undefined;
  }
}

// In lib compiled for Node (CommonJS, tools/build_node.ts) `require` is the module's own; under Deno (ESM) it
// does not exist.
declare const require: { cache: Record<string, { exports?: unknown } | undefined> } | undefined;

const TSLAB_JUPYTER = /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/;
let tslabModule: TslabJupyter | undefined;

/**
 * tslab's jupyter module among the loaded CommonJS modules (the tslab kernel loaded it before any cell ran).
 *
 * @param cache Node's `require.cache`.
 * @returns Its exports, or undefined when no tslab kernel is running in this process.
 */
export function findTslab(cache: Record<string, { exports?: unknown } | undefined>): TslabJupyter | undefined {
  for (const [file, mod] of Object.entries(cache)) {
    const exports = mod?.exports as Partial<TslabJupyter> | undefined;
    if (TSLAB_JUPYTER.test(file) && exports && "lastWriteDisplayData" in exports) return exports as TslabJupyter;
  }
  return undefined;
}

let sinkOverride: KernelSink | null | undefined;

/**
 * The kernel this code runs in: Deno's (`Deno.jupyter`), tslab's (found among Node's loaded modules), or none.
 * Tests replace it with {@linkcode setKernelSinkForTesting}.
 */
export function kernelSink(): KernelSink | undefined {
  if (sinkOverride !== undefined) return sinkOverride ?? undefined;
  const deno = denoJupyter();
  if (deno) return { kind: "deno", send: (type, content) => deno.broadcast(type, { ...content }) };
  if (typeof require === "undefined" || !require?.cache) return undefined;
  tslabModule ??= findTslab(require.cache);
  const tslab = tslabModule;
  // lastWriteDisplayData is set when the kernel runs its first cell.
  if (!tslab?.lastWriteDisplayData) return undefined;
  return {
    kind: "tslab",
    send: (type, content) => {
      tslab.lastWriteDisplayData?.(content, type === "update_display_data");
      return Promise.resolve();
    },
  };
}

/**
 * Replaces the kernel that lib/display sends to (tests only); `undefined` restores the real one, `null` means none.
 *
 * @param sink A fake kernel, null for "no kernel", undefined to undo.
 */
export function setKernelSinkForTesting(sink: KernelSink | null | undefined): void {
  sinkOverride = sink;
}

/**
 * What `util.inspect` (Node's `console.log`) shows for a displayable. tslab prints a cell's last value with
 * `console.log(value)`: in its kernel the bundle is displayed as a rich output and the line console.log would
 * write (a lone newline) is dropped. Nested in another value, or outside tslab, it is the text fallback.
 */
function inspected(bundle: MimeBundle, depth: number, options: { depth?: number | null }): string {
  const sink = kernelSink();
  const topLevel = depth === (options?.depth ?? 2);
  if (sink?.kind !== "tslab" || !topLevel) return bundle["text/plain"] as string;
  void sink.send("display_data", { data: bundle, metadata: {}, transient: {} });
  dropNextNewline();
  return "";
}

/** The next write to stdout, if it is the lone newline `console.log("")` makes, is not written. */
function dropNextNewline(): void {
  const stdout = (globalThis as { process?: { stdout?: { write: (...args: unknown[]) => boolean } } }).process
    ?.stdout;
  if (!stdout) return;
  const write = stdout.write;
  stdout.write = function (this: unknown, ...args: unknown[]) {
    stdout.write = write;
    if (args[0] === "\n") {
      const done = args.find((a) => typeof a === "function") as (() => void) | undefined;
      done?.();
      return true;
    }
    return write.apply(this, args);
  };
}

/** Whether this code runs inside a Jupyter kernel (Deno's or tslab's). */
export function inNotebook(): boolean {
  return kernelSink() !== undefined;
}

/**
 * Displays now, as one output holding the whole MIME bundle; outside a notebook, prints the `text/plain` fallback.
 *
 * @param item What a display helper (`plot`, `table`, `attentionHeatmap`, …) returned.
 * @param displayId Give an id to replace this output later with {@linkcode update}.
 */
export async function show(item: Displayable, displayId?: string): Promise<void> {
  const data = bundleOf(item);
  const kernel = kernelSink();
  if (!kernel) {
    console.log(data["text/plain"]);
    return;
  }
  await kernel.send("display_data", {
    data,
    metadata: {},
    transient: displayId ? { display_id: displayId } : {},
  });
}

/** Replaces the output shown with `displayId`; outside a notebook, does nothing. */
export async function update(item: Displayable, displayId: string): Promise<void> {
  const data = bundleOf(item);
  await kernelSink()?.send("update_display_data", { data, metadata: {}, transient: { display_id: displayId } });
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
