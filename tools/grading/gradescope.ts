/**
 * The grader on Gradescope: what `run_autograder` runs for each submission, inside the autograder that
 * `deno task gradescope` writes (tools/gradescope.ts). It grades the submitted notebook exactly as `deno task
 * grade` grades one (grade_notebook.ts: the same sandbox, permissions, limits and pinned backend) and writes
 * Gradescope's results.json (its autograder specification: a score, and per test a name, number, score,
 * max_score, status, output and visibility).
 *
 *   deno run --allow-read --allow-write --allow-run --allow-env tools/grading/gradescope.ts \
 *     --config <autograder.json> --submission <dir> --results <results.json> [--sandbox <dir>]
 *   … tools/grading/gradescope.ts --config <autograder.json> --self-check
 *
 * Tests, per exercise: "visible cases" (always visible: the first failing case, as the feedback file shows it)
 * and, for an exercise with hidden cases, "hidden cases" with the config's visibility (default after_published),
 * which carries the exercise's points: as in `deno task grade`, they need the visible and the hidden cases to
 * pass, and until the hidden test is shown a student learns nothing about the hidden cases. An exercise without
 * hidden cases has its points on its visible test. The total is the sum of the tests' scores, which is the
 * points `deno task grade` gives the same notebook. The submission's output is never shown (stdout_visibility
 * hidden: run_autograder's own log is for the instructor).
 *
 * `--self-check` grades the course's own exercise notebook (every exercise must come back "not implemented"):
 * setup.sh runs it when Gradescope builds the image, which checks the image and fills the module caches.
 * @module
 */
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { initBackend } from "../../lib/backend.ts";
import { exercisesByLesson } from "../../lib/check/mod.ts";
import { ROOT, writeAtomic } from "../setup.ts";
import { GRADING_BACKENDS, preflight, relativizer } from "./grade.ts";
import { type GradeOptions, gradeSubmission } from "./grade_notebook.ts";
import { hiddenCases } from "./hidden.ts";
import type { SubmissionGrade } from "./report.ts";
import { type Limits, runsDir, type SandboxDirs } from "./sandbox.ts";
import { printable } from "./submissions.ts";

/** Gradescope's visibility values (autograder specification: "Controlling Test Case Visibility"). */
export const VISIBILITIES = ["hidden", "after_due_date", "after_published", "visible"] as const;
export type Visibility = typeof VISIBILITIES[number];

/** What one autograder grades, written by `deno task gradescope` as autograder.json. */
export interface AutograderConfig {
  lesson: string;
  /** The course's notebook name of the lesson, e.g. "01-weighted-sums.ipynb". */
  notebook: string;
  backend: string;
  limits: Limits;
  /** When students see the hidden-case tests (and so their total score). */
  hiddenVisibility: Visibility;
}

/** One test of results.json. */
export interface GradescopeTest {
  name: string;
  number: string;
  score: number;
  max_score: number;
  status: "passed" | "failed";
  output: string;
  visibility: Visibility;
  tags: string[];
}

/** results.json. */
export interface GradescopeResults {
  score: number;
  execution_time: number;
  output: string;
  output_format: "text";
  test_output_format: "text";
  test_name_format: "text";
  stdout_visibility: Visibility;
  tests: GradescopeTest[];
  extra_data: { lesson: string; notebook: string | null; backend: string };
}

/** Checks a config read from autograder.json (it is the instructor's, but a wrong one should say what is wrong). */
export function checkConfig(value: unknown): AutograderConfig {
  const c = value as Partial<AutograderConfig> | null;
  const bad = (what: string) => {
    throw new Error(`autograder.json: ${what}`);
  };
  if (!c || typeof c !== "object") bad("not a JSON object");
  if (typeof c!.lesson !== "string" || !exercisesByLesson[c!.lesson]) {
    bad(`"lesson" must be a lesson with exercises (${Object.keys(exercisesByLesson).join(", ")})`);
  }
  if (typeof c!.notebook !== "string" || !c!.notebook.endsWith(".ipynb")) bad(`"notebook" must name an .ipynb file`);
  if (!(GRADING_BACKENDS as readonly string[]).includes(c!.backend as string)) {
    bad(`"backend" must be one of ${GRADING_BACKENDS.join(", ")}`);
  }
  const l = c!.limits as Partial<Limits> | undefined;
  for (const k of ["timeoutS", "memoryMb", "maxOutputBytes"] as const) {
    if (!l || !Number.isInteger(l[k]) || l[k]! < 1) bad(`"limits.${k}" must be a positive integer`);
  }
  if (!(VISIBILITIES as readonly string[]).includes(c!.hiddenVisibility as string)) {
    bad(`"hiddenVisibility" must be one of ${VISIBILITIES.join(", ")}`);
  }
  return c as AutograderConfig;
}

/** The notebook chosen in a submission folder, or why none was. */
export type Pick = { path: string; name: string; ignored: string[] } | { message: string; ignored: string[] };

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_DEPTH = 4;

/**
 * The notebook to grade in a Gradescope submission folder. Students upload files (kept under their names) or a
 * repository (its tree), so notebooks are looked for up to four folders deep; hidden entries (`.git`,
 * `.ipynb_checkpoints`), `node_modules`, symbolic links and names with control characters are not followed.
 * Another lesson's notebook (`NN-…` with another NN) is never graded. Chosen: the notebook with the course's name
 * nearest the top (one per depth, or none is chosen); else the only `NN-…` notebook of this lesson; else the only
 * notebook. Anything else: nothing is graded, and the message says why.
 */
export async function pickNotebook(dir: string, lesson: string, courseName: string): Promise<Pick> {
  const found: { path: string; name: string; depth: number }[] = [];
  const ignored: string[] = [];
  const walk = async (d: string, depth: number) => {
    const entries: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(d)) entries.push(e);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = join(d, e.name);
      const rel = relative(dir, path);
      if (CONTROL.test(e.name) || e.name.startsWith(".") || e.name === "node_modules" || e.isSymlink) {
        if (e.name.endsWith(".ipynb") || e.isSymlink) ignored.push(`${printable(rel)} (not followed)`);
        continue;
      }
      if (e.isDirectory && depth < MAX_DEPTH) await walk(path, depth + 1);
      else if (e.isFile && e.name.endsWith(".ipynb")) {
        const other = /^(\d\d)-/.exec(e.name)?.[1];
        if (other && other !== lesson) ignored.push(`${printable(rel)} (lesson ${other}'s notebook)`);
        else found.push({ path, name: rel, depth });
      }
    }
  };
  await walk(dir, 0);
  const named = found.filter((f) => f.name.split("/").at(-1) === courseName);
  const top = named.filter((f) => f.depth === Math.min(...named.map((n) => n.depth)));
  const ofLesson = found.filter((f) => f.name.split("/").at(-1)!.startsWith(`${lesson}-`));
  const chosen = top.length === 1
    ? top[0]
    : !named.length && ofLesson.length === 1
    ? ofLesson[0]
    : !named.length && found.length === 1
    ? found[0]
    : undefined;
  const list = (xs: { name: string }[]) => xs.map((f) => printable(f.name)).join(", ");
  if (chosen) {
    return {
      path: chosen.path,
      name: chosen.name,
      ignored: [...ignored, ...found.filter((f) => f !== chosen).map((f) => `${printable(f.name)} (not graded)`)],
    };
  }
  return {
    message: found.length
      ? `${found.length} notebooks were submitted (${list(found)}) and none can be told apart as the one to grade: ` +
        `submit one notebook, named ${courseName}`
      : `no notebook for this lesson was submitted: submit ${courseName}`,
    ignored,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * results.json for one graded notebook (`grade`), or for a submission with nothing to grade (`grade` null, `why`
 * says why). `ignored` lists what else was submitted.
 */
export function gradescopeResults(
  config: AutograderConfig,
  grade: SubmissionGrade | null,
  why: string,
  ignored: string[],
  seconds: number,
): GradescopeResults {
  const exercises = Object.values(exercisesByLesson[config.lesson]);
  const hidden = hiddenCases[config.lesson] ?? {};
  const tests: GradescopeTest[] = [];
  for (const e of exercises) {
    const g = grade?.grades.find((x) => x.exercise === e.id);
    const hasHidden = (hidden[e.name]?.length ?? 0) > 0;
    const visiblePassed = g?.status === "passed" || g?.hidden === "failed";
    const points = g?.points ?? 0;
    const visibleOutput = !g
      ? why
      : visiblePassed
      ? "Passed every visible case." + (g.status === "passed" && g.message ? ` ${g.message}` : "")
      : g.status === "not-implemented"
      ? "Not implemented: replace the `throw new NotImplementedError(…)` with your code."
      : g.message ?? "Failed.";
    tests.push({
      name: `Exercise ${e.number}: ${e.name}${hasHidden ? " (visible cases)" : ""}`,
      number: `${e.number}.1`,
      score: hasHidden ? 0 : points,
      max_score: hasHidden ? 0 : e.points,
      status: visiblePassed ? "passed" : "failed",
      output: visibleOutput,
      visibility: "visible",
      tags: [e.id],
    });
    if (hasHidden) {
      const passed = g?.hidden === "passed" && g.status === "passed";
      tests.push({
        name: `Exercise ${e.number}: ${e.name} (hidden cases)`,
        number: `${e.number}.2`,
        score: points,
        max_score: e.points,
        status: passed ? "passed" : "failed",
        output: passed
          ? "Passed the visible and the hidden cases."
          : g?.hidden === "failed"
          ? "Passed the visible cases but not the hidden cases."
          : "Not run: the points need the visible cases to pass first, then the hidden cases.",
        visibility: config.hiddenVisibility,
        tags: [e.id, "hidden"],
      });
    }
  }
  const lines = grade
    ? [`Graded ${printable(grade.notebook)} on the ${config.backend} backend.`, ...grade.notes]
    : [`Nothing was graded: ${why}.`];
  if (ignored.length) lines.push(`Not graded: ${ignored.join("; ")}.`);
  return {
    score: round(tests.reduce((a, t) => a + t.score, 0)),
    execution_time: Math.max(0, Math.round(seconds)),
    output: lines.join("\n\n"),
    output_format: "text",
    test_output_format: "text",
    test_name_format: "text",
    stdout_visibility: "hidden",
    tests,
    extra_data: { lesson: config.lesson, notebook: grade?.notebook ?? null, backend: config.backend },
  };
}

/** Grades what is in `submission` into results.json; returns the results. */
export async function runAutograder(
  config: AutograderConfig,
  submission: string,
  resultsPath: string,
  sandboxDir: string,
  log: (line: string) => void = console.log,
): Promise<GradescopeResults> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  let results: GradescopeResults;
  const home = await Deno.makeTempDir({ prefix: "gradescope-home-" });
  try {
    const picked = await pickNotebook(submission, config.lesson, config.notebook);
    for (const i of picked.ignored) log(`not graded: ${i}`);
    if ("message" in picked) {
      results = gradescopeResults(config, null, picked.message, picked.ignored, seconds());
    } else {
      log(`grading ${picked.name} (lesson ${config.lesson}, ${config.backend} backend)`);
      await initBackend({ backend: config.backend as "cpu", print: false });
      // As gradeAll: the sandboxes' warm DENO_DIR (filled by setup.sh's self-check), less what a killed run left.
      const dirs: SandboxDirs = { home, denoDir: join(sandboxDir, "deno") };
      for (const d of [runsDir(dirs), join(dirs.denoDir, "location_data")]) {
        await Deno.remove(d, { recursive: true }).catch(() => {});
      }
      await Deno.mkdir(dirs.denoDir, { recursive: true });
      const options: GradeOptions = {
        limits: config.limits,
        backend: config.backend,
        dirs,
        relativize: relativizer(submission, sandboxDir),
      };
      await preflight(options);
      const grade = await gradeSubmission(
        { student: "submission", lesson: config.lesson, notebook: picked.name, path: picked.path },
        options,
      );
      for (const g of grade.grades) log(`${g.exercise}: ${g.points}/${g.maxPoints} ${g.status}`);
      results = gradescopeResults(config, grade, "", picked.ignored, seconds());
    }
  } catch (err) {
    // The grader's own failure (its set-up, a bug): the instructor sees the stack in the log, the student a note.
    log(`grader error: ${err instanceof Error ? err.stack : err}`);
    results = gradescopeResults(
      config,
      null,
      "the autograder failed on this submission (not because of it): ask your instructor to look at its log",
      [],
      seconds(),
    );
  } finally {
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
  await writeAtomic(resultsPath, JSON.stringify(results, null, 1) + "\n");
  log(`wrote ${resultsPath}: ${results.score} points`);
  return results;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      config: { type: "string" },
      submission: { type: "string" },
      results: { type: "string" },
      sandbox: { type: "string" },
      "self-check": { type: "boolean" },
    },
  });
  if (!values.config) {
    console.error(
      "usage: gradescope.ts --config <autograder.json> (--submission <dir> --results <file> | --self-check)",
    );
    Deno.exit(2);
  }
  const config = checkConfig(JSON.parse(await Deno.readTextFile(values.config)));
  const sandbox = values.sandbox ?? join(ROOT, ".sandbox");
  if (values["self-check"]) {
    // The course's own exercise notebook: every exercise must be reported "not implemented", none fail to run.
    const tmp = await Deno.makeTempDir({ prefix: "gradescope-self-check-" });
    let ok = false;
    try {
      await Deno.mkdir(join(tmp, "submission"));
      await Deno.copyFile(join(ROOT, "exercises", config.notebook), join(tmp, "submission", config.notebook));
      const r = await runAutograder(config, join(tmp, "submission"), join(tmp, "results.json"), sandbox);
      const visible = r.tests.filter((t) => t.visibility === "visible");
      ok = r.score === 0 && visible.length > 0 && visible.every((t) => t.output.startsWith("Not implemented"));
      console.log(ok ? "self-check passed" : `self-check FAILED:\n${JSON.stringify(r, null, 1)}`);
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
    Deno.exit(ok ? 0 : 1);
  }
  if (!values.submission || !values.results) {
    console.error("error: --submission and --results are required");
    Deno.exit(2);
  }
  await runAutograder(config, values.submission, values.results, sandbox);
}
