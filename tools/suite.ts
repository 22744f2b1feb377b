/**
 * `deno task test`: sets the course up (as `deno task lab` does) and runs every
 * check: format, lint, type-check, unit and doc tests, exercise drift,
 * notebooks committed without outputs, notebook type-check (Deno's TypeScript
 * and tslab's), headless execution of every notebook on both kernels, Deno's
 * then tslab's (with the same check validation), JupyterLab in headless
 * Chromium running lesson 01 on each kernel, and the course site (tools/site.ts) rendered from the executed
 * lessons and opened in headless Chromium. Ends with a summary and a closing line "N passed, N failed".
 *
 * Environment: ATTN_BACKEND forces the TensorFlow.js backend everywhere;
 * CI=true makes a missing Chromium or tslab kernel a failure instead of a visible skip.
 * @module
 */
import { dirname, join } from "node:path";
import { KERNEL_NAME, ROOT, setup, SetupError, TSLAB_KERNEL_NAME, venvBin } from "./setup.ts";
import { findOutputs, findUnformatted, type NotebookProblem, typecheckNotebooks } from "./check_notebooks.ts";
import { drift } from "./exercises.ts";
import { listNotebooks } from "./notebook.ts";
import { browserTest } from "./browser_check.ts";
import { buildSite } from "./site.ts";
import { checkSite } from "./site_check.ts";
import { buildNodePackage, NodeBuildError } from "./build_node.ts";

interface StepResult {
  ok: boolean;
  /** One line for the summary. */
  detail: string;
  /** Printed when the step fails. */
  output?: string;
  skipped?: boolean;
}

interface NotebookReport {
  path: string;
  cells: number;
  seconds: number;
  backend: string | null;
  errors: { cell: number | null; ename: string; evalue: string; traceback: string }[];
  /** Cells that showed a value as an execute_result (their last expression). */
  results?: number[];
  checks: {
    cell: number;
    name: string;
    status: string;
    points: number;
    maxPoints: number;
    failure?: { message: string };
  }[];
}

const CI = Deno.env.get("CI") === "true";
const decoder = new TextDecoder();
const results: { name: string; seconds: number; result: StepResult }[] = [];
type Kernel = "deno" | "tslab";
const KERNELS: Record<Kernel, { name: string; label: string }> = {
  deno: { name: KERNEL_NAME, label: "Deno" },
  tslab: { name: TSLAB_KERNEL_NAME, label: "tslab" },
};
const notebookReports: Record<Kernel, NotebookReport[]> = { deno: [], tslab: [] };

async function sh(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", JUPYTER_PLATFORM_DIRS: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = decoder.decode(out.stdout);
  return { code: out.code, stdout, text: (stdout + decoder.decode(out.stderr)).trim() };
}

const deno = (args: string[]) => sh(Deno.execPath(), args);
const lastLine = (text: string) => text.split("\n").filter((l) => l.trim()).at(-1) ?? "";

async function step(name: string, fn: () => Promise<StepResult>): Promise<StepResult> {
  console.log(`\n▶ ${name}`);
  const t0 = performance.now();
  let result: StepResult;
  try {
    result = await fn();
  } catch (err) {
    result = { ok: false, detail: "crashed", output: err instanceof Error ? err.stack ?? err.message : String(err) };
  }
  const seconds = (performance.now() - t0) / 1000;
  results.push({ name, seconds, result });
  const mark = result.skipped ? "○" : result.ok ? "✔" : "✘";
  console.log(`${mark} ${name}: ${result.detail} (${seconds.toFixed(1)} s)`);
  if (!result.ok && result.output) console.log(indent(result.output));
  return result;
}

function indent(text: string): string {
  return text.split("\n").map((l) => `    ${l}`).join("\n");
}

function problemsText(problems: NotebookProblem[]): string {
  return problems.map((p) => `${p.notebook}${p.cell === null ? "" : `, cell ${p.cell}`}: ${p.message}`).join("\n");
}

// ---------------------------------------------------------------- the steps

const t0 = performance.now();
let tslabMissing: string | undefined = "the set-up did not run";
const setupStep = await step("set-up (npm packages, .venv, kernels)", async () => {
  try {
    const installed = await setup((line) => console.log(`  ${line}`));
    tslabMissing = "skipped" in installed.tslab ? installed.tslab.skipped : undefined;
    const tslab = "kernelName" in installed.tslab
      ? `, "${installed.tslab.kernelName}"`
      : `; no tslab kernel: ${installed.tslab.skipped}`;
    return { ok: true, detail: `kernels "${installed.kernelName}"${tslab} in .venv` };
  } catch (err) {
    if (err instanceof SetupError) return { ok: false, detail: err.message };
    throw err;
  }
});
if (!setupStep.ok) finish();

const notebooks = [
  ...await listNotebooks(join(ROOT, "notebooks")),
  ...await listNotebooks(join(ROOT, "solutions")),
  ...await listNotebooks(join(ROOT, "exercises")),
];
const rel = (p: string) => p.slice(ROOT.length + 1);

await step("deno fmt --check (notebooks through deno fmt's stdin mode)", async () => {
  const r = await deno(["fmt", "--check", "--ignore=notebooks,solutions,exercises"]);
  const problems = await findUnformatted(notebooks);
  return {
    ok: r.code === 0 && problems.length === 0,
    detail: `${lastLine(r.text)}; ${notebooks.length} notebooks, ${problems.length} unformatted`,
    output: [r.code === 0 ? "" : r.text, problemsText(problems)].filter(Boolean).join("\n"),
  };
});

await step("deno lint", async () => {
  const r = await deno(["lint"]);
  return { ok: r.code === 0, detail: lastLine(r.text), output: r.text };
});

await step("deno check lib/ tools/ datasets/", async () => {
  const r = await deno(["check", "--quiet", "lib/", "tools/", "datasets/"]);
  return { ok: r.code === 0, detail: r.code === 0 ? "no type errors" : "type errors", output: r.text };
});

await step("lib compiles for Node (node_modules/attention-course) and loads there, as tslab uses it", async () => {
  let built;
  try {
    built = await buildNodePackage();
  } catch (err) {
    if (err instanceof NodeBuildError) return { ok: false, detail: "tsc failed", output: err.message };
    throw err;
  }
  let node;
  try {
    node = await sh("node", [join(ROOT, "tools", "node_smoke.mjs"), ROOT]);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    return { ok: !CI, skipped: !CI, detail: "skipped: Node.js not found" };
  }
  return {
    ok: node.code === 0,
    detail: `${built.built ? "built; " : "up to date; "}${lastLine(node.text)}`,
    output: node.text,
  };
});

let unitSummary = "";
await step("unit and doc tests (deno test lib/ tools/ datasets/)", async () => {
  const r = await deno(["test", "--allow-all", "--doc", "lib/", "tools/", "datasets/"]);
  unitSummary = r.text.split("\n").find((l) => /^(ok|FAILED) \|/.test(l)) ?? lastLine(r.text);
  return { ok: r.code === 0, detail: unitSummary, output: r.text };
});

await step("kernel tests on the native and tensorflow backends (lib/native, tfjs-node)", async () => {
  const available: string[] = [], missing: string[] = [];
  for (const backend of ["native", "tensorflow"]) {
    const probe = await deno([
      "eval",
      `import { initBackend } from "${join(ROOT, "lib", "backend.ts")}";` +
      `await initBackend({ backend: "${backend}", print: false })` +
      `.then(() => console.log("backend-ok"), (e) => console.log("backend-missing:", e.message));`,
    ]);
    // libtensorflow writes notes on stderr: look for the line, not at the last one.
    const lines = probe.text.split("\n");
    if (lines.includes("backend-ok")) available.push(backend);
    else {
      const why = lines.find((l) => l.startsWith("backend-missing: "))?.slice(17) ?? lastLine(probe.text);
      missing.push(`${backend}: ${why}`);
    }
  }
  if (!available.length) {
    return { ok: !CI, skipped: !CI, detail: `skipped: ${missing.join("; ")}` };
  }
  const r = await sh(Deno.execPath(), [
    "test",
    "--allow-all",
    `--filter=/\\((${available.join("|")})\\)/`,
    "lib/attention/",
    "lib/analysis/",
  ], { ATTN_TEST_BACKENDS: available.join(",") });
  const summary = r.text.split("\n").find((l) => /^(ok|FAILED) \|/.test(l)) ?? lastLine(r.text);
  return {
    ok: r.code === 0 && (!CI || missing.length === 0),
    detail: `${available.join(" and ")}: ${summary}${missing.length ? `; missing ${missing.join("; ")}` : ""}`,
    output: [missing.length && CI ? `CI needs both backends: ${missing.join("; ")}` : "", r.code ? r.text : ""]
      .filter(Boolean).join("\n"),
  };
});

await step("exercises/ generated from solutions/ (no drift)", async () => {
  const problems = await drift();
  return {
    ok: problems.length === 0,
    detail: problems.length ? `${problems.length} problem(s)` : "in sync",
    output: problems.join("\n"),
  };
});

await step("committed notebooks carry no outputs", async () => {
  const problems = await findOutputs(notebooks);
  return {
    ok: problems.length === 0,
    detail: `${notebooks.length} notebooks, ${problems.length} with outputs`,
    output: problemsText(problems),
  };
});

/** A step that needs the tslab kernel: skipped visibly when the set-up could not install it (a failure under CI). */
function needsTslab(): StepResult | undefined {
  if (!tslabMissing) return undefined;
  const detail = `no tslab kernel: ${tslabMissing}`;
  return CI ? { ok: false, detail: `tslab is required under CI: ${detail}` } : { ok: true, skipped: true, detail };
}

for (const kernel of ["deno", "tslab"] as const) {
  const compiler = kernel === "deno" ? "Deno's TypeScript" : "tslab's TypeScript 5.0, its options";
  await step(`type-check notebook code cells (${compiler})`, async () => {
    const missing = kernel === "tslab" ? needsTslab() : undefined;
    if (missing) return missing;
    const problems = await typecheckNotebooks(notebooks, kernel);
    return {
      ok: problems.length === 0,
      detail: `${notebooks.length} notebooks, ${problems.length} type error(s)`,
      output: problemsText(problems),
    };
  });
}

/** Where each kernel's executed copies go (the course site renders Deno's). */
const executedDirs: Record<Kernel, string> = {
  deno: join(ROOT, ".cache", "executed"),
  tslab: join(ROOT, ".cache", "executed-tslab"),
};
const executedDir = executedDirs.deno;

/** Runs every notebook on one kernel, with the same checks on both. */
async function executeAll(kernel: Kernel): Promise<StepResult> {
  const dir = executedDirs[kernel];
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  // Lesson 09 caches its training runs in .cache/lra/: Deno's run starts without them, so the suite trains and
  // measures for real once (quick mode); tslab's run after it reads them back.
  if (kernel === "deno") await Deno.remove(join(ROOT, ".cache", "lra"), { recursive: true }).catch(() => {});
  const r = await sh(venvBin("python"), [
    join(ROOT, "tools", "run_notebooks.py"),
    "--kernel",
    KERNELS[kernel].name,
    "--save-dir",
    dir,
    ...notebooks.map(rel),
  ]);
  // The report is the JSON array on stdout; stderr (progress, libtensorflow's log lines such as
  // "port.cc:153] …") is never part of it.
  const json = r.stdout.slice(r.stdout.indexOf("\n[") + 1 || r.stdout.indexOf("["));
  let reports: NotebookReport[];
  try {
    reports = JSON.parse(json.slice(0, json.lastIndexOf("]") + 1));
  } catch {
    return { ok: false, detail: "the notebook runner failed", output: r.text };
  }
  notebookReports[kernel] = reports;
  const problems: string[] = [];
  for (const nb of reports) {
    for (const e of nb.errors) {
      problems.push(
        `${nb.path}, cell ${e.cell ?? "?"}: ${e.ename}: ${e.evalue}\n${
          indent(e.traceback.split("\n").slice(0, 8).join("\n"))
        }`,
      );
    }
    if (!nb.backend) problems.push(`${nb.path}: printed no backend line (call initBackend() in its first code cell)`);
    // Deno's kernel (2.9.6) may send a cell's execute_result after the cell reports idle, and JupyterLab's Run All
    // then shows it under the next cell: lessons display figures and tables with `await show(…)` instead.
    if (kernel === "deno") {
      for (const cell of nb.results ?? []) {
        problems.push(
          `${nb.path}, cell ${cell}: shows its last expression's value (an execute_result), which JupyterLab's ` +
            "Run All can place under the next cell on Deno's kernel: display it with `await show(…)`, or end the " +
            "cell with a statement instead of a value",
        );
      }
    }
    // Validation: every check passes on solutions/ and reports "not implemented" on exercises/.
    const folder = nb.path.split("/")[0];
    for (const c of nb.checks) {
      if (folder === "solutions" && c.status !== "passed") {
        problems.push(
          `${nb.path}, cell ${c.cell}: check ${c.name} ${c.status} on the solution: ${c.failure?.message ?? ""}`,
        );
      }
      if (folder === "exercises" && c.status !== "not-implemented") {
        problems.push(`${nb.path}, cell ${c.cell}: check ${c.name} says ${c.status} on the unsolved exercise`);
      }
    }
    if ((folder === "solutions" || folder === "exercises") && nb.checks.length === 0) {
      problems.push(`${nb.path}: displayed no check results`);
    }
  }
  const cells = reports.reduce((s, n) => s + n.cells, 0);
  return {
    ok: r.code === 0 && problems.length === 0,
    detail: `${reports.length} notebooks, ${cells} code cells, ${problems.length} problem(s)`,
    output: problems.join("\n") || r.text,
  };
}

await step("execute every notebook headless (nbclient, Deno kernel)", () => executeAll("deno"));
// After Deno's run, so that what a notebook caches (e.g. .cache/lra/) is reused here.
await step(
  "execute every notebook headless (nbclient, tslab kernel on Node)",
  async () => needsTslab() ?? await executeAll("tslab"),
);

await step("course site: lessons rendered from the executed copies, two pages opened offline in Chromium", async () => {
  // The executed copies above, never a second run; errors are rendered (the step above already reports them).
  const site = await buildSite(join(ROOT, ".cache", "site"), {
    executedDirs: [executedDir],
    execute: false,
    allowErrors: true,
  });
  const lessons = site.pages.map((p) => `${p.name}.html`);
  const opened = ["index.html", lessons[0], lessons.at(-1)!];
  const r = await checkSite(site.out, opened);
  const plots = site.pages.reduce((s, p) => s + p.plots, 0);
  const built = `${site.pages.length} pages, ${plots} figures`;
  if (r.status === "skipped") {
    return CI
      ? { ok: false, detail: `${built}; Chromium is required under CI: ${r.reason}` }
      : { ok: true, skipped: true, detail: `${built}; browser check skipped: ${r.reason}` };
  }
  const seen = r.pages!.filter((p) => p.page !== "index.html")
    .map((p) => `${p.page} ${p.drawn}/${p.figures} figures drawn, ${p.formulas} formulas`);
  return {
    ok: true,
    detail: `${built}; ${r.links} links resolve; ${seen.join("; ")}; screenshots in .browser-test/site/`,
  };
});

for (const kernel of ["deno", "tslab"] as const) {
  await step(
    `JupyterLab in headless Chromium runs lesson 01 on the ${KERNELS[kernel].label} kernel and renders its plots`,
    async () => {
      const missing = kernel === "tslab" ? needsTslab() : undefined;
      if (missing) return missing;
      const lesson = "notebooks/01-weighted-sums.ipynb";
      const executed = join(executedDirs[kernel], lesson.replaceAll("/", "__"));
      const copy = await Deno.stat(executed).then(() => executed, () => undefined);
      const r = await browserTest(lesson, copy, { kernel: KERNELS[kernel].name });
      if (r.status === "skipped") {
        return CI
          ? { ok: false, detail: `Chromium is required under CI: ${r.reason}` }
          : { ok: true, skipped: true, detail: `skipped: ${r.reason}` };
      }
      return {
        ok: true,
        detail:
          `${r.plots} plots rendered; ${r.reopenedPlots} after save and reopen; ${r.executedCopyPlots ?? "-"} in the ` +
          `nbclient-executed copy; screenshots in ${r.screenshots?.[0] ? rel(dirname(r.screenshots[0])) : "-"}/`,
      };
    },
  );
}

finish();

// ---------------------------------------------------------------- summary

function finish(): never {
  console.log("\n══ Summary ══");
  const paths = [...new Set([...notebookReports.deno, ...notebookReports.tslab].map((n) => n.path))];
  if (paths.length) {
    // One row per notebook, both kernels side by side ("-": not run on that kernel).
    const width = Math.max(...paths.map((p) => p.length));
    const find = (kernel: Kernel, path: string) => notebookReports[kernel].find((n) => n.path === path);
    const seconds = (n?: NotebookReport) => n ? n.seconds.toFixed(1) : "-";
    const checks = (n?: NotebookReport) => {
      if (!n) return "-";
      if (!n.checks.length) return n.errors.length ? `${n.errors.length} err` : "-";
      const passed = n.checks.filter((c) => c.status === "passed").length;
      return `${passed}/${n.checks.length}${n.errors.length ? ` ${n.errors.length} err` : ""}`;
    };
    const backend = (n?: NotebookReport) =>
      !n ? "-" : n.backend ? /backend: (\w+)/.exec(n.backend)?.[1] ?? "?" : "none";
    console.log(
      `${"notebook".padEnd(width)}  cells  Deno s  tslab s  Deno checks  tslab checks  Deno backend  tslab backend`,
    );
    for (const path of paths) {
      const d = find("deno", path), t = find("tslab", path);
      console.log(
        `${path.padEnd(width)}  ${String((d ?? t)!.cells).padStart(5)}  ${seconds(d).padStart(6)}  ${
          seconds(t).padStart(7)
        }  ${checks(d).padStart(11)}  ${checks(t).padStart(12)}  ${backend(d).padEnd(12)}  ${backend(t)}`,
      );
    }
    const total = (kernel: Kernel) => notebookReports[kernel].reduce((s, n) => s + n.seconds, 0);
    if (notebookReports.deno.length && notebookReports.tslab.length) {
      console.log(
        `notebook seconds: Deno ${total("deno").toFixed(1)}, tslab ${total("tslab").toFixed(1)} (tslab/Deno ${
          (total("tslab") / total("deno")).toFixed(2)
        })`,
      );
    }
    for (const kernel of ["deno", "tslab"] as const) {
      const line = notebookReports[kernel].find((n) => n.backend)?.backend;
      if (line) console.log(`backend line (${KERNELS[kernel].label}): ${line}`);
    }
  }
  if (unitSummary) console.log(`unit tests: ${unitSummary}`);
  for (const { name, seconds, result } of results) {
    console.log(
      `${result.skipped ? "○ skipped" : result.ok ? "✔ passed " : "✘ FAILED "}  ${
        seconds.toFixed(1).padStart(6)
      } s  ${name}`,
    );
  }
  const failed = results.filter((r) => !r.result.ok).length;
  const passed = results.filter((r) => r.result.ok && !r.result.skipped).length;
  const skipped = results.filter((r) => r.result.skipped).length;
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  Deno.exit(failed ? 1 : 0);
}
