/**
 * The tslab kernel: its set-up carries on when npm is offline; the notebook runner turns tslab's stderr failures
 * into error outputs and paces cells after a failure (unit tests in run_notebooks_test.py, and a run on the real
 * kernel when it is registered).
 */
import { join } from "node:path";
import { assert, assertEquals } from "../lib/_testing.ts";
import { installTslab, ROOT, TSLAB_KERNEL_NAME, TSLAB_PACKAGE, VENV, venvBin } from "./setup.ts";
import { typecheckNotebooks } from "./check_notebooks.ts";
import { entryPoints, manifest } from "./build_node.ts";

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);
const python = venvBin("python");
const hasPython = await exists(python);
const hasTslab = await exists(join(VENV, "share", "jupyter", "kernels", TSLAB_KERNEL_NAME, "kernel.json"));

Deno.test("the Node package maps deno.json's bare names: exports for Node, typesVersions for tslab's TypeScript", async () => {
  const imports = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).imports;
  const entries = entryPoints(imports);
  assertEquals(entries, {
    ".": "./lib/mod.js",
    "./check": "./lib/check/mod.js",
    "./datasets": "./datasets/mod.js",
  });
  const m = manifest(entries) as { exports: Record<string, unknown>; typesVersions: unknown; types: string };
  assertEquals(m.types, "./lib/mod.d.ts");
  assertEquals(m.exports["./check"], { types: "./lib/check/mod.d.ts", default: "./lib/check/mod.js" });
  assertEquals(m.typesVersions, { "*": { check: ["lib/check/mod.d.ts"], datasets: ["datasets/mod.d.ts"] } });
});

Deno.test("the tslab set-up step says why and carries on when the npm registry is unreachable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tslab-setup-test-" });
  const saved = Object.fromEntries(
    ["npm_config_registry", "npm_config_cache", "npm_config_fetch_retries"].map((k) => [k, Deno.env.get(k)]),
  );
  try {
    const tslabDir = join(dir, "tslab"), venv = join(dir, "venv");
    await Deno.mkdir(tslabDir);
    for (const f of ["package.json", "package-lock.json", ".npmrc"]) {
      await Deno.copyFile(join(ROOT, "tools", "tslab", f), join(tslabDir, f));
    }
    // A stale kernelspec from an earlier install must not survive a failed one.
    const kernelDir = join(venv, "share", "jupyter", "kernels", TSLAB_KERNEL_NAME);
    await Deno.mkdir(kernelDir, { recursive: true });
    await Deno.writeTextFile(join(kernelDir, "kernel.json"), "{}");
    Deno.env.set("npm_config_registry", "http://127.0.0.1:9/"); // nothing listens there
    Deno.env.set("npm_config_cache", join(dir, "empty-cache"));
    Deno.env.set("npm_config_fetch_retries", "0");
    const lines: string[] = [];
    const result = await installTslab((l) => lines.push(l), { tslabDir, venv });
    assert("skipped" in result, JSON.stringify(result));
    assert(/npm ci failed|npm was not found|Node\.js was not found/.test(result.skipped), result.skipped);
    assert(lines.some((l) => l.includes("The course runs on Deno's kernel")), lines.join("\n"));
    assert(!await exists(kernelDir), "the stale kernelspec was removed");
  } finally {
    for (const [k, v] of Object.entries(saved)) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "stderr_to_error() on tslab's recorded failures (Python unit tests)",
  ignore: !hasPython,
  async fn() {
    const out = await new Deno.Command(python, {
      args: ["-m", "unittest", join(ROOT, "tools", "run_notebooks_test.py")],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, text);
    assert(/Ran [1-9]\d* tests/.test(text), text);
  },
});

Deno.test({
  name: "on the tslab kernel, every failure is an error output and every later cell runs",
  ignore: !hasTslab,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tslab-runner-test-" });
    try {
      const cells = [
        'const a: number = "not a number";',
        'console.log("before");\nthrow new TypeError("bad input x");',
        'console.log("ran after the error");',
        'console.error("a warning");\nthrow new Error("first line\\nsecond line");',
        "const t = 1 + 1;\nt",
        'throw "a string";',
        'console.log("last");',
      ];
      const nb = {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: cells.map((source, i) => ({
          cell_type: "code",
          id: `c${i}`,
          source,
          metadata: {},
          outputs: [],
          execution_count: null,
        })),
      };
      const path = join(dir, "failures.ipynb");
      await Deno.writeTextFile(path, JSON.stringify(nb));
      const out = await new Deno.Command(python, {
        args: [join(ROOT, "tools", "run_notebooks.py"), "--kernel", TSLAB_KERNEL_NAME, "--save-dir", dir, path],
        cwd: ROOT,
        env: { JUPYTER_PLATFORM_DIRS: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      const [report] = JSON.parse(new TextDecoder().decode(out.stdout));
      const errors = report.errors.map((e: { cell: number; ename: string; evalue: string }) => [
        e.cell,
        e.ename,
        e.evalue,
      ]);
      assertEquals(errors, [
        [0, "TypeScriptError", "1:7 - Type 'string' is not assignable to type 'number'."],
        [1, "TypeError", "bad input x"],
        [3, "Error", "first line\nsecond line"],
        [5, "Error", "a string"],
      ]);
      const executed = JSON.parse(await Deno.readTextFile(join(dir, path.replaceAll("/", "__"))));
      const stdout = (i: number) =>
        executed.cells[i].outputs.filter((o: { name?: string }) => o.name === "stdout")
          .map((o: { text: string | string[] }) => [o.text].flat().join("")).join("");
      assertEquals([stdout(2), stdout(4), stdout(6)], ["ran after the error\n", "2\n", "last\n"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "notebook cells are checked with tslab's TypeScript 5.0 too: what only Deno's kernel runs is reported",
  ignore: !await exists(TSLAB_PACKAGE),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tslab-typecheck-test-" });
    try {
      const cell = (source: string) => ({
        cell_type: "code",
        metadata: {},
        outputs: [],
        execution_count: null,
        source,
      });
      const nb = {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [
          cell("const xs = [1, 2, 3];\nconst total = xs.reduce((a, b) => a + b, 0);"),
          { cell_type: "markdown", metadata: {}, source: "text" },
          // ES2023's findLast: Node 20 has it, tslab's lib (es2022) does not, so tslab refuses the cell.
          cell("console.log(total);\nconst last = xs.findLast((x) => x > 1);"),
          cell("await Promise.resolve(last);"),
          // A shorthand property naming an earlier cell's binding compiles, then is a ReferenceError in tslab;
          // one naming the same cell's is fine.
          cell("const local = 1;\nconsole.log({ local, xs: xs }, { xs });"),
        ],
      };
      const path = join(dir, "probe.ipynb");
      await Deno.writeTextFile(path, JSON.stringify(nb));
      assertEquals(await typecheckNotebooks([path], "deno"), [], "Deno's TypeScript accepts it all");
      const problems = await typecheckNotebooks([path], "tslab");
      assertEquals(problems.map((p) => p.cell), [2, 4], JSON.stringify(problems));
      assert(/^line 2: TS2550: Property 'findLast' does not exist/.test(problems[0].message), problems[0].message);
      assert(/^line 2: tslab: \{ xs \} names xs of an earlier cell/.test(problems[1].message), problems[1].message);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
