/**
 * `deno task exercises`: regenerates the student notebooks exercises/NN-*.ipynb
 * from the master notebooks solutions/NN-*.ipynb, the only source.
 *
 * In code cells:
 * - `// BEGIN SOLUTION` … `// END SOLUTION` becomes a stub that throws
 *   NotImplementedError, at the same indentation, so signatures and types stay
 *   and the student notebook still type-checks;
 * - `// BEGIN HIDDEN` … `// END HIDDEN` is removed (cases students never see).
 * Cells tagged `solution-only` are dropped; outputs and counts are cleared.
 * Unmatched or nested markers are errors naming file, cell and line.
 *
 * `deno task exercises --check` writes nothing and fails if exercises/ differs
 * from what would be generated (the test suite runs this).
 * @module
 */
import { basename, join } from "node:path";
import { ROOT } from "./setup.ts";
import {
  type Cell,
  listNotebooks,
  type Notebook,
  readNotebook,
  serializeNotebook,
  sourceOf,
  toSourceLines,
  writeNotebook,
} from "./notebook.ts";

/** A marker problem, with where it is. */
export class MarkerError extends Error {
  override name = "MarkerError";
}

const MARKER = /^\s*\/\/\s*(BEGIN|END)\s+(SOLUTION|HIDDEN)\s*$/;

/** The student version of one code cell's source. */
export function stripCell(source: string, where: string): string {
  const lines = source.split("\n");
  const out: string[] = [];
  let open: { kind: string; line: number; indent: string; fn: string } | null = null;
  let lastFunction = "";
  lines.forEach((line, i) => {
    const fn = /\bfunction\s+([A-Za-z_$][\w$]*)\s*[(<]/.exec(line);
    if (fn) lastFunction = fn[1];
    const m = MARKER.exec(line);
    if (!m) {
      if (!open) out.push(line);
      return;
    }
    const [, edge, kind] = m;
    if (edge === "BEGIN") {
      if (open) {
        throw new MarkerError(
          `${where}, line ${
            i + 1
          }: BEGIN ${kind} inside the BEGIN ${open.kind} of line ${open.line}: markers cannot nest`,
        );
      }
      open = { kind, line: i + 1, indent: /^\s*/.exec(line)![0], fn: lastFunction };
      return;
    }
    if (!open) throw new MarkerError(`${where}, line ${i + 1}: END ${kind} without a BEGIN ${kind}`);
    if (open.kind !== kind) {
      throw new MarkerError(`${where}, line ${i + 1}: END ${kind} closes the BEGIN ${open.kind} of line ${open.line}`);
    }
    if (kind === "SOLUTION") {
      const name = open.fn ? JSON.stringify(open.fn) : "";
      out.push(`${open.indent}// Your code here.`, `${open.indent}throw new NotImplementedError(${name});`);
    }
    open = null;
  });
  if (open) {
    const o = open as { kind: string; line: number };
    throw new MarkerError(`${where}, line ${o.line}: BEGIN ${o.kind} is never closed`);
  }
  return out.join("\n");
}

/** The student notebook made from a solution notebook. */
export function studentVersion(solution: Notebook, file: string): Notebook {
  const cells: Cell[] = [];
  solution.cells.forEach((cell, index) => {
    if (cell.metadata?.tags?.includes("solution-only")) return;
    const copy: Cell = structuredClone(cell);
    if (copy.cell_type === "code") {
      copy.source = toSourceLines(stripCell(sourceOf(cell), `${file}, cell ${index}`));
      copy.outputs = [];
      copy.execution_count = null;
    } else if (MARKER.test(sourceOf(cell).split("\n").find((l) => MARKER.test(l)) ?? "")) {
      throw new MarkerError(
        `${file}, cell ${index}: solution markers belong in code cells, found one in a ${cell.cell_type} cell`,
      );
    }
    cells.push(copy);
  });
  return {
    ...structuredClone(solution),
    cells,
    metadata: {
      ...structuredClone(solution.metadata),
      "attention-course": {
        generated: `by tools/exercises.ts from solutions/${
          basename(file)
        }: edit the solution notebook, then run deno task exercises`,
      },
    },
  };
}

/** Every (exercise path, expected contents) pair. */
export async function expectedExercises(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const path of await listNotebooks(join(ROOT, "solutions"))) {
    const nb = studentVersion(await readNotebook(path), `solutions/${basename(path)}`);
    out.set(join(ROOT, "exercises", basename(path)), serializeNotebook(nb));
  }
  return out;
}

/** Files in exercises/ that differ from the generator's output, or that it would not make. */
export async function drift(): Promise<string[]> {
  const expected = await expectedExercises();
  const problems: string[] = [];
  for (const [path, text] of expected) {
    let actual: string | undefined;
    try {
      actual = await Deno.readTextFile(path);
    } catch {
      actual = undefined;
    }
    if (actual === undefined) problems.push(`exercises/${basename(path)} is missing`);
    else if (actual !== text) problems.push(`exercises/${basename(path)} differs from its solution notebook`);
  }
  for (const path of await listNotebooks(join(ROOT, "exercises"))) {
    if (!expected.has(path)) problems.push(`exercises/${basename(path)} has no solutions/${basename(path)}`);
  }
  return problems;
}

if (import.meta.main) {
  try {
    if (Deno.args.includes("--check")) {
      const problems = await drift();
      if (problems.length) {
        console.error(`exercises/ is out of date (run \`deno task exercises\`):\n  ${problems.join("\n  ")}`);
        Deno.exit(1);
      }
      console.log("exercises/ matches solutions/");
    } else {
      await Deno.mkdir(join(ROOT, "exercises"), { recursive: true });
      for (const [path, text] of await expectedExercises()) {
        await writeNotebook(path, JSON.parse(text));
        console.log(`wrote exercises/${basename(path)}`);
      }
    }
  } catch (err) {
    if (!(err instanceof MarkerError)) throw err;
    console.error(`error: ${err.message}`);
    Deno.exit(1);
  }
}
