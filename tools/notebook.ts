/**
 * Reading and writing .ipynb files the way Jupyter does (nbformat 4: sorted
 * keys, one-space indent, trailing newline), so files the tools write are
 * byte-identical to what JupyterLab saves.
 * @module
 */
import { writeAtomic } from "./setup.ts";

/** A notebook cell (the fields the tools use). */
export interface Cell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  metadata: { tags?: string[]; [key: string]: unknown };
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}

/** A notebook (the fields the tools use). */
export interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** A cell's source as one string. */
export function sourceOf(cell: Cell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** Splits source into Jupyter's list-of-lines form. */
export function toSourceLines(text: string): string[] {
  return text.split(/(?<=\n)/).filter((line) => line.length > 0);
}

/** Reads and minimally validates a notebook. */
export async function readNotebook(path: string): Promise<Notebook> {
  let nb: Notebook;
  try {
    nb = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    throw new Error(`Cannot read notebook ${path}: ${err instanceof Error ? err.message : err}`);
  }
  if (!nb || !Array.isArray(nb.cells) || nb.nbformat !== 4) {
    throw new Error(`Cannot read notebook ${path}: expected nbformat 4 JSON with a cells array`);
  }
  return nb;
}

/** Serialises like nbformat: keys sorted, indent 1, non-ASCII kept, newline at the end. */
export function serializeNotebook(nb: Notebook): string {
  const sort = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sort);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sort((value as Record<string, unknown>)[k])]));
    }
    return value;
  };
  return JSON.stringify(sort(nb), null, 1) + "\n";
}

/** Writes a notebook atomically. */
export async function writeNotebook(path: string, nb: Notebook): Promise<void> {
  await writeAtomic(path, serializeNotebook(nb));
}

/** The .ipynb files directly in a folder, sorted by name. */
export async function listNotebooks(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".ipynb") && !entry.name.startsWith(".")) names.push(entry.name);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names.sort().map((n) => `${dir}/${n}`);
}
