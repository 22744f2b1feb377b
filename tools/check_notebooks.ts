/**
 * Static checks of notebooks that the kernels do not do:
 * - type-check every notebook's code cells (concatenated in order, as the
 *   kernel runs them), reporting errors by notebook, cell and line: with
 *   Deno's TypeScript (`deno check`), and with tslab's (5.0, its options:
 *   tools/tslab_check.cjs), so that code only one kernel accepts is caught;
 * - committed notebooks carry no outputs and no execution counts.
 * @module
 */
import { basename, dirname, join, relative, resolve } from "node:path";
import { ROOT, TSLAB_PACKAGE } from "./setup.ts";
import { readNotebook, sourceOf } from "./notebook.ts";

/** One problem found in a notebook. */
export interface NotebookProblem {
  notebook: string;
  cell: number | null;
  message: string;
}

interface Mapped {
  tsPath: string;
  notebook: string;
  /** For each line of the .ts file (0-based): [cell index, line in cell (1-based)]. */
  lines: [number, number][];
}

/** A temporary .ts twin of a notebook, next to it so relative imports resolve as in the kernel. */
async function writeTwin(notebookPath: string): Promise<Mapped> {
  const nb = await readNotebook(notebookPath);
  const lines: [number, number][] = [];
  const parts: string[] = [];
  nb.cells.forEach((cell, index) => {
    if (cell.cell_type !== "code") return;
    const src = sourceOf(cell).split("\n");
    parts.push(`// cell ${index}`);
    lines.push([index, 0]);
    src.forEach((line, i) => {
      parts.push(line);
      lines.push([index, i + 1]);
    });
  });
  parts.push("export {};");
  const tsPath = join(dirname(resolve(ROOT, notebookPath)), `.${basename(notebookPath, ".ipynb")}.nbcheck.ts`);
  await Deno.writeTextFile(tsPath, parts.join("\n") + "\n");
  return { tsPath, notebook: relative(ROOT, resolve(ROOT, notebookPath)), lines };
}

/**
 * Type-checks the code cells of the given notebooks with `deno check`, or with tslab's TypeScript.
 *
 * @param paths Notebooks.
 * @param kernel "deno" (default) or "tslab" (needs Node.js, tslab installed and node_modules/attention-course built:
 *   the set-up does both).
 * @returns The type errors, each mapped to its notebook, cell and line.
 */
export async function typecheckNotebooks(
  paths: string[],
  kernel: "deno" | "tslab" = "deno",
): Promise<NotebookProblem[]> {
  const twins: Mapped[] = [];
  try {
    for (const p of paths) twins.push(await writeTwin(p));
    if (!twins.length) return [];
    if (kernel === "tslab") return await tslabCheck(twins);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", ...twins.map((t) => t.tsPath)],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.code === 0) return [];
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    return parseCheckOutput(text, twins);
  } finally {
    for (const t of twins) await Deno.remove(t.tsPath).catch(() => {});
  }
}

/** tools/tslab_check.cjs on the twins: tslab's compiler and options. */
async function tslabCheck(twins: Mapped[]): Promise<NotebookProblem[]> {
  const out = await new Deno.Command("node", {
    args: [join(ROOT, "tools", "tslab_check.cjs"), TSLAB_PACKAGE, ...twins.map((t) => t.tsPath)],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) {
    return [{ notebook: "(all)", cell: null, message: (text + new TextDecoder().decode(out.stderr)).slice(0, 2000) }];
  }
  const { errors } = JSON.parse(text) as {
    errors: { file: string; line: number; code: number; message: string }[];
  };
  return errors.map((e) => {
    const twin = twins.find((t) => t.tsPath === e.file);
    const [cell, line] = twin?.lines[e.line - 1] ?? [null, 0];
    // code 0: not a compiler error but code tslab compiles and then fails to run (see tools/tslab_check.cjs).
    const what = e.code ? `TS${e.code}` : "tslab";
    return { notebook: twin?.notebook ?? e.file, cell, message: `line ${line}: ${what}: ${e.message}` };
  });
}

function parseCheckOutput(text: string, twins: Mapped[]): NotebookProblem[] {
  const problems: NotebookProblem[] = [];
  // deno check prints "TSxxxx [ERROR]: message" … "at file:///path:line:col"
  const blocks = text.split(/\n(?=TS\d+ \[ERROR\])/);
  for (const block of blocks) {
    const head = /^(TS\d+) \[ERROR\]: ([^\n]*)/m.exec(block);
    const at = /at file:\/\/(\S+?):(\d+):(\d+)/.exec(block);
    if (!head) continue;
    const twin = at ? twins.find((t) => decodeURIComponent(at[1]) === t.tsPath) : undefined;
    if (!twin || !at) {
      problems.push({ notebook: "(unknown)", cell: null, message: `${head[1]}: ${head[2]}` });
      continue;
    }
    const [cell, line] = twin.lines[Number(at[2]) - 1] ?? [null, 0];
    problems.push({ notebook: twin.notebook, cell, message: `line ${line}: ${head[1]}: ${head[2]}` });
  }
  if (!problems.length) problems.push({ notebook: "(all)", cell: null, message: text.trim().slice(0, 2000) });
  return problems;
}

/**
 * Notebooks whose code and Markdown cells `deno fmt` would change. (Deno 2.9's
 * `deno fmt --check` reports every .ipynb as unformatted on a cold cache, with
 * an empty diff; formatting through stdin is exact, so the suite uses this.)
 */
export async function findUnformatted(paths: string[]): Promise<NotebookProblem[]> {
  const problems: NotebookProblem[] = [];
  for (const p of paths) {
    const text = await Deno.readTextFile(p);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--ext", "ipynb", "-"],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
    const out = await child.output();
    const formatted = new TextDecoder().decode(out.stdout);
    if (out.code !== 0) {
      problems.push({
        notebook: relative(ROOT, resolve(ROOT, p)),
        cell: null,
        message: new TextDecoder().decode(out.stderr),
      });
    } else if (formatted !== text) {
      problems.push({ notebook: relative(ROOT, resolve(ROOT, p)), cell: null, message: "not formatted: run deno fmt" });
    }
  }
  return problems;
}

/** Committed notebooks must carry no outputs or execution counts (they are regenerated by running). */
export async function findOutputs(paths: string[]): Promise<NotebookProblem[]> {
  const problems: NotebookProblem[] = [];
  for (const p of paths) {
    const nb = await readNotebook(p);
    nb.cells.forEach((cell, index) => {
      if (cell.cell_type !== "code") return;
      if ((cell.outputs?.length ?? 0) > 0 || cell.execution_count != null) {
        problems.push({
          notebook: relative(ROOT, resolve(ROOT, p)),
          cell: index,
          message:
            "has outputs or an execution count: clear them before committing (Edit → Clear Outputs of All Cells)",
        });
      }
    });
  }
  return problems;
}
