/**
 * A notebook's cells as the grader runs them (program.ts + the sandbox) against Deno's Jupyter kernel running the
 * same notebook: re-declared functions, `let`/`const`/`class` in two cells, cells that throw, half-run cells, odd
 * imports. The kernel's behaviour is observed here, not written down.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../../lib/_testing.ts";
import { type Notebook, serializeNotebook } from "../notebook.ts";
import { KERNEL_NAME, ROOT, venvBin } from "../setup.ts";
import { notebookProgram } from "./program.ts";
import { runSandbox } from "./sandbox.ts";

const code = (source: string) => ({
  cell_type: "code" as const,
  metadata: {},
  source,
  outputs: [],
  execution_count: null,
});
const notebook = (...cells: string[]): Notebook => ({
  cells: cells.map(code),
  metadata: {},
  nbformat: 4,
  nbformat_minor: 5,
});

Deno.test("program: imports become awaited imports, types and exports go, check calls go in any layout", () => {
  const { cells, unparsable } = notebookProgram(notebook(
    'import { initBackend, tf } from "attention-course";\nimport { check01 as c1, NotImplementedError } from "attention-course/check";\nimport type { Exercise } from "attention-course/check";\nimport * as lib from "../lib/mod.ts";',
    "export function f(x: number): number {\n  return x;\n}\nawait c1.denseParamCount(\n  f,\n);\nc1.other(f)\nconsole.log(c1);",
    "let broken = = 1;",
    'const m = await import("../datasets/mod.ts");\ninterface P { x: number }\nenum E { A }',
  ));
  assertEquals(cells.map((c) => c.cell), [1, 2, 4]);
  assertEquals(unparsable.map((u) => u.cell), [3]);
  const [imports, fn, dynamic] = cells.map((c) => c.js);
  assert(imports.includes('const { initBackend, tf } = await import("attention-course");'), imports);
  assert(
    imports.includes('const { "check01": c1, NotImplementedError } = await import("attention-course/check");'),
    imports,
  );
  assert(!imports.includes("Exercise"), imports);
  assert(imports.includes(`const lib = await import("file://${ROOT}/lib/mod.ts");`), imports);
  assert(/^\s*function f\(x\) \{/m.test(fn) && !fn.includes("export"), fn);
  assert(!fn.includes("denseParamCount") && !fn.includes("c1.other"), `check calls are removed:\n${fn}`);
  assert(fn.includes("console.log(c1)"), "other uses of the check module stay");
  assert(dynamic.includes(`import("file://${ROOT}/datasets/mod.ts")`), dynamic);
  assert(dynamic.includes("var E;"), dynamic);
});

/** Cells that exercise the kernel's REPL semantics; each records what it saw in `obs`. */
const PATTERNS = [
  "const obs: unknown[] = [];",
  "function f() { return 1; }",
  'function f() { return 2; }\nobs.push(["function re-declared", f()]);',
  "let x = 1;",
  'let x = 2;\nobs.push(["let re-declared", x]);',
  "const y = 1;",
  'const y = 2;\nobs.push(["const re-declared", y]);',
  "class C { v = 1 }",
  'class C { v = 2 }\nobs.push(["class re-declared", new C().v]);',
  'throw new Error("scratch");',
  'obs.push(["after a throwing cell", f(), x]);',
  'const z = 5;\nobs.push(["half-run cell"]);\n(null as unknown as { foo: number }).foo;\nconst w = 6;\nfunction hoisted() { return "h"; }',
  'obs.push(["before the throw", typeof z, typeof hoisted]);\ntry { obs.push(["after the throw", w]); } catch (e) { obs.push(["after the throw", (e as Error).name]); }',
  "let r = 1;\nfunction readR() { return r; }",
  'let r = 2;\nobs.push(["closure sees the new binding", readR()]);',
  "function late() { return laterVar; }",
  'const laterVar = 7;\nobs.push(["defined later", late()]);',
  'const { a, b } = { a: 1, b: 2 };\nawait Promise.resolve();\nobs.push(["destructuring, await", a + b]);',
  "enum E { A, B }",
  'enum E { A, B, C }\nobs.push(["enum re-declared", E.C]);',
  'import { nonexistentThing } from "attention-course";\nobs.push(["missing export", typeof nonexistentThing]);',
  'import type { Exercise } from "attention-course/check";\nconst ex: Exercise<[]> | null = null;\nobs.push(["type import", ex]);',
  'import { nope } from "./no-such-module.ts";\nobs.push(["after a bad import", typeof nope]);',
  'export function exported() { return "exp"; }',
  'obs.push(["export", exported()]);',
  "const cc = 1;",
  "cc = 2;",
  'obs.push(["const assigned", cc]);',
  "var v1 = 1;",
  "let v1 = 2;",
  'obs.push(["var then let", v1]);',
  "let = = 3;",
  'obs.push(["after a cell that does not parse"]);',
  'import { tf } from "attention-course";\nobs.push(["import", typeof tf.add]);',
  "const sq = (n: number) => n * n;",
  'const sq = (n: number) => n * n * n;\nobs.push(["arrow re-declared", sq(2)]);',
  "function denseParamCount(_T: number, _d: number): string { return JSON.stringify(obs); }",
  'console.log("OBS " + denseParamCount(1, 1));',
];

Deno.test({
  name: "program: the sandbox runs cells as Deno's Jupyter kernel does (observed on the kernel)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const python = venvBin("python");
    if (!(await Deno.stat(python).then(() => true, () => false))) {
      if (Deno.env.get("CI") === "true") throw new Error("the course's .venv is missing: run deno task setup");
      console.log("skipped: no .venv (run deno task setup)");
      return;
    }
    const nb = notebook(...PATTERNS);
    const dir = await Deno.makeTempDir({ dir: join(ROOT, ".cache"), prefix: "repl-" }); // under deno.json
    try {
      const path = join(dir, "patterns.ipynb");
      await Deno.writeTextFile(path, serializeNotebook(nb));
      const run = await new Deno.Command(python, {
        args: [join(ROOT, "tools", "run_notebooks.py"), "--kernel", KERNEL_NAME, "--save-dir", dir, path],
        env: { NO_COLOR: "1", JUPYTER_PLATFORM_DIRS: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(run.code, 0, new TextDecoder().decode(run.stderr));
      const report = JSON.parse(new TextDecoder().decode(run.stdout))[0];
      const saved: Notebook = JSON.parse(
        await Deno.readTextFile(join(dir, path.replaceAll("/", "__"))),
      );
      const printed = saved.cells.flatMap((c) => (c.outputs ?? []) as { text?: string | string[] }[])
        .map((o) => (Array.isArray(o.text) ? o.text.join("") : o.text ?? "")).join("");
      const kernel = /OBS (.*)/.exec(printed)?.[1];
      assert(kernel, `the kernel printed no observations:\n${printed}`);
      const kernelErrors = (report.errors as { cell: number | null }[]).map((e) => e.cell! + 1);

      const program = notebookProgram(nb);
      const home = join(dir, "home"), denoDir = join(dir, "deno");
      await Deno.mkdir(home);
      await Deno.mkdir(denoDir);
      const outcome = await runSandbox(
        {
          lesson: "01",
          backend: "cpu",
          cells: program.cells,
          items: [{ exercise: "denseParamCount", phase: "visible" }],
          hiddenArgs: [null],
        },
        { timeoutS: 60, memoryMb: 1536, maxOutputBytes: 1 << 20 },
        { home, denoDir },
      );
      assertEquals(outcome.stop, undefined);
      const record = outcome.done.get(0)!.records[0] as { ok: string };
      assertEquals(JSON.parse(record.ok), JSON.parse(kernel), "what the cells saw, in the sandbox and in the kernel");
      // The same cells fail (a cell that does not parse shows nothing in the kernel; the grader notes it).
      const sandboxErrors = outcome.cellErrors!.map((e) => e.cell);
      assertEquals(sandboxErrors, kernelErrors, JSON.stringify(outcome.cellErrors));
      assertEquals(program.unparsable.map((u) => u.cell), [PATTERNS.indexOf("let = = 3;") + 1]);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
