/**
 * Grades one notebook: runs it in the sandbox (sandbox.ts) in attempts, and judges what it reports.
 *
 * An item is one exercise's visible cases, or its hidden cases (tools/grading/hidden.ts). All visible items run
 * before any hidden one, and hidden items run only for exercises whose visible cases all passed (the sandbox
 * asks, sandbox.ts `chooseHidden`): so no feedback computed from visible records can depend on hidden inputs,
 * and anything that goes wrong in a hidden item is reported only as "not the hidden cases".
 *
 * When a sandbox stops (timeout, memory, `self.close()`, a crash…) during an item that was not the first of its
 * process, that item runs again first in a fresh process and is charged only if it stops there too: a stop is
 * charged to the item whose own run causes it, whatever an earlier item left behind (a timer, say). Items
 * already reported are kept. A stop while the cells run (before any item) costs every exercise, detected once.
 *
 * Verdicts: lib/check's runCheck on the records (protocol.ts `replayer`), on the same pinned backend.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  type CheckResult,
  type Exercise,
  OpaqueValue,
  type PriorResults,
  refersTo,
  runCheck,
} from "../../lib/check/core.ts";
import { exercisesByLesson } from "../../lib/check/mod.ts";
import { join } from "node:path";
import { type Notebook, readNotebook } from "../notebook.ts";
import { ROOT } from "../setup.ts";
import { type CallRecord, type Item, WALL_FACTOR, type Wire } from "./frames.ts";
import { hiddenCases } from "./hidden.ts";
import { functionSource, notebookProgram, type Program } from "./program.ts";
import { fromWire, replayer, toWire } from "./protocol.ts";
import type { ExerciseGrade, SubmissionGrade } from "./report.ts";
import { type Limits, MAX_CACHE_GROWTH, runSandbox, type SandboxDirs, type Stop } from "./sandbox.ts";
import type { Submission } from "./submissions.ts";

const MAX_NOTEBOOK_BYTES = 50 << 20;
/** Limits on what the grader transpiles for one notebook (~0.5 ms per cell, ~1 s per MiB here). */
const MAX_CODE_CELLS = 2000;
const MAX_CODE_CHARS = 4 << 20;

/** How to grade. */
export interface GradeOptions {
  limits: Limits;
  backend: string;
  dirs: SandboxDirs;
  /** Turns absolute paths in messages into paths relative to the submissions (or the course). */
  relativize: (text: string) => string;
}

export function errorGrade(exercise: Exercise, message: string): ExerciseGrade {
  return {
    exercise: exercise.id,
    name: exercise.name,
    points: 0,
    maxPoints: exercise.points,
    status: "error",
    message,
  };
}

/** What a stop says about the submission, for the student (visible items only). */
function stopText(stop: Stop, limits: Limits): string {
  switch (stop.reason) {
    case "timeout":
      return `did not finish within ${limits.timeoutS} s of computing (an infinite loop?)`;
    case "stalled":
      return `did not finish within ${
        WALL_FACTOR * limits.timeoutS
      } s (an infinite loop, or a Promise that never settles?)`;
    case "memory":
      return `used more than ${limits.memoryMb} MiB of memory`;
    case "close":
      return "called self.close(), which stops the notebook's code";
    case "exit":
      return "called Deno.exit(), which stops the notebook's code";
    case "uncaught":
      return "threw an error that stopped the notebook's code";
    case "broken":
      return "broke the grader's harness (e.g. replaced a built-in function it uses)";
    case "output":
      return `printed more than ${limits.maxOutputBytes >> 20} MiB of output`;
    case "disk":
      return `made Deno write more than ${MAX_CACHE_GROWTH >> 20} MiB to its cache folder (by importing many ` +
        "generated modules, or through the Cache API)";
    case "crash":
      return stop.oom
        ? `ran out of memory (more than ${limits.memoryMb} MiB of JavaScript objects)`
        : stop.stuck
        ? "awaited a Promise that never settles"
        : "crashed the sandbox process";
  }
}

/** Grades one notebook; never throws because of the submission. */
export async function gradeSubmission(sub: Submission, options: GradeOptions, hash = ""): Promise<SubmissionGrade> {
  const t0 = performance.now();
  let sandboxes = 0;
  const exercises = exercisesByLesson[sub.lesson] ?? {};
  const names = Object.keys(exercises);
  const result = (grades: ExerciseGrade[], notes: string[] = []): SubmissionGrade => ({
    student: sub.student,
    lesson: sub.lesson,
    notebook: sub.notebook,
    hash,
    grades,
    notes,
    seconds: (performance.now() - t0) / 1000,
    sandboxes,
  });
  const allZero = (message: string) => result(names.map((n) => errorGrade(exercises[n], message)));

  let nb: Notebook;
  try {
    const info = await Deno.lstat(sub.path);
    if (!info.isFile) return allZero("the notebook is not a regular file");
    if (info.size > MAX_NOTEBOOK_BYTES) return allZero(`the notebook is larger than ${MAX_NOTEBOOK_BYTES >> 20} MiB`);
    nb = parseNotebook(await Deno.readTextFile(sub.path));
  } catch (err) {
    return allZero(
      `the notebook could not be read: ${options.relativize(err instanceof Error ? err.message : String(err))}`,
    );
  }
  // The grader prepares every cell (TypeScript's transpiler) in its own process, outside any sandbox's limits.
  const code = nb.cells.filter((c) => c.cell_type === "code").map((c) => String(c.source));
  if (code.length > MAX_CODE_CELLS) return allZero(`the notebook has more than ${MAX_CODE_CELLS} code cells`);
  const codeChars = code.reduce((n, s) => n + s.length, 0);
  if (codeChars > MAX_CODE_CHARS) return allZero(`the notebook has more than ${MAX_CODE_CHARS >> 20} MiB of code`);
  const program = notebookProgram(nb);

  // Items: every exercise's visible cases, then every exercise's hidden cases (their arguments only).
  const hidden = hiddenCases[sub.lesson] ?? {};
  const items: Item[] = [
    ...names.map((exercise) => ({ exercise, phase: "visible" as const })),
    ...names.filter((n) => hidden[n]?.length).map((exercise) => ({ exercise, phase: "hidden" as const })),
  ];
  tf.engine().startScope();
  const hiddenArgs = items.map((it) =>
    it.phase === "hidden" ? (hidden[it.exercise] ?? []).map((c) => (c.args() as unknown[]).map((a) => toWire(a))) : null
  );
  tf.engine().endScope();

  // Attempts: a stop is charged to its item only when that item was the first of a fresh process.
  const reports = new Map<number, { records: CallRecord[]; notFunction?: Wire }>();
  const charged = new Map<number, Stop>();
  const visible = new Map<string, { grade: ExerciseGrade; result: CheckResult }>(); // by exercise
  const visibleGrade = async (name: string): Promise<ExerciseGrade | undefined> => {
    const i = items.findIndex((it) => it.exercise === name && it.phase === "visible");
    if (!visible.has(name) && reports.has(i)) {
      // The results of the exercises this one may call, for its note (core.ts's `uses`).
      const prior = new Map<string, CheckResult>();
      for (const used of exercises[name].uses ?? []) {
        if (used !== name && (await visibleGrade(used))) prior.set(used, visible.get(used)!.result);
      }
      const source = functionSource(program, name);
      visible.set(name, await replayVisible(exercises[name], reports.get(i)!, prior, options, source));
    }
    return visible.get(name)?.grade;
  };
  // Hidden cases run only for exercises whose visible cases all passed.
  const worthHidden = async (i: number) => (await visibleGrade(items[i].exercise))?.status === "passed";
  let cellErrors: { cell: number; error: string }[] | undefined;
  let remaining = items.map((_, i) => i);
  let loadStop: Stop | undefined;
  for (let attempt = 0; remaining.length && attempt <= 2 * items.length; attempt++) {
    if (!remaining.some((i) => items[i].phase === "visible")) {
      const worth = await Promise.all(remaining.map(worthHidden));
      remaining = remaining.filter((_, k) => worth[k]);
      if (!remaining.length) break;
    }
    const request = remaining;
    sandboxes++;
    const outcome = await runSandbox(
      {
        lesson: sub.lesson,
        backend: options.backend,
        cells: program.cells,
        items: request.map((i) => items[i]),
        hiddenArgs: request.map((i) => hiddenArgs[i]),
        chooseHidden: async (done) => {
          for (const [k, report] of done) reports.set(request[k], report);
          const worth = await Promise.all(request.map((i) => items[i].phase === "hidden" && worthHidden(i)));
          return request.flatMap((_, k) => (worth[k] ? [k] : []));
        },
      },
      options.limits,
      options.dirs,
    );
    if (attempt === 0) cellErrors = outcome.cellErrors; // before any item ran
    for (const [k, report] of outcome.done) reports.set(request[k], report);
    let first: number | undefined;
    if (outcome.stop?.item === null) {
      loadStop = outcome.stop; // the cells themselves did not finish: nothing can be graded
      for (const i of request) if (!reports.has(i)) charged.set(i, outcome.stop);
    } else if (outcome.stop) {
      const i = request[outcome.stop.item];
      if (outcome.stop.item === 0) charged.set(i, outcome.stop);
      else first = i;
    }
    // What is left: items not reported, not charged, and (hidden ones) still worth running.
    remaining = request.filter((i) => !reports.has(i) && !charged.has(i) && i !== first);
    if (first !== undefined) remaining.unshift(first);
    if (!outcome.stop) {
      // It ran to the end: the hidden items it skipped were not worth running, and a visible item it did not
      // report means the submission interfered with the sandbox's messages.
      for (const i of remaining) if (items[i].phase === "visible") charged.set(i, { item: i, reason: "broken" });
      remaining = [];
    }
  }
  for (const i of remaining) charged.set(i, { item: i, reason: "crash" }); // cannot happen: bounded attempts

  // A mistake is charged once, and every exercise is judged: one that failed while an exercise it may call
  // (`uses`) has not passed is graded again with the course's own version of that one (see withCourseVersions).
  const regraded = new Map<string, ExerciseGrade>();
  const regradeNotes: string[] = [];
  const visibleIndex = (n: string) => items.findIndex((it) => it.exercise === n && it.phase === "visible");
  for (const name of names) {
    if (charged.has(visibleIndex(name)) || (await visibleGrade(name))?.status !== "failed") continue;
    const source = functionSource(program, name);
    const broken: string[] = [];
    for (const u of exercises[name].uses ?? []) {
      if (u === name || !exercises[u] || refersTo(source, u) === false) continue;
      if (charged.has(visibleIndex(u)) || (await visibleGrade(u))?.status !== "passed") broken.push(u);
    }
    if (!broken.length) continue;
    const versions = await courseVersions(sub.lesson, names, broken).catch((err: Error) => err);
    if (versions instanceof Error) {
      // An installation without solutions/ (a problem of the grader, not the submission): the notebook's rule.
      regradeNotes.push(options.relativize(
        `${name} was not graded again with the course's own ${broken.join(" and ")}, so the notebook's rule ` +
          `applies to it (the grader's installation lacks it: ${versions.message})`,
      ));
      continue;
    }
    sandboxes++;
    regraded.set(name, await withCourseVersions(sub.lesson, name, broken, versions, program.cells, options));
  }

  const grades: ExerciseGrade[] = [];
  for (const name of names) {
    const exercise = exercises[name];
    const vis = items.findIndex((it) => it.exercise === name && it.phase === "visible");
    const hid = items.findIndex((it) => it.exercise === name && it.phase === "hidden");
    if (regraded.has(name)) {
      grades.push(regraded.get(name)!);
      continue;
    }
    const stop = charged.get(vis);
    if (stop) {
      grades.push(errorGrade(
        exercise,
        stop === loadStop
          ? `the notebook's cells ${stopText(stop, options.limits)}${stop.cell ? ` in code cell ${stop.cell}` : ""}, ` +
            "so nothing could be checked"
          : `the submission ${stopText(stop, options.limits)} while ${name} was checked`,
      ));
      continue;
    }
    const grade = (await visibleGrade(name))!;
    if (grade.status === "passed" && hid >= 0) {
      const report = reports.get(hid);
      const passed = report && !charged.has(hid) &&
        (await replayCases({ ...exercise, cases: hidden[name] ?? [], after: undefined }, report)).status === "passed";
      if (!passed) {
        // Hidden cases say pass or fail only: nothing the submission did after seeing their inputs is echoed.
        grades.push({
          ...grade,
          points: 0,
          status: "failed",
          message: `passed the visible cases but not the hidden cases`,
          hidden: "failed",
        });
        continue;
      }
      grades.push({ ...grade, hidden: "passed" });
      continue;
    }
    grades.push(grade);
  }
  const notes: string[] = [...regradeNotes];
  const problems = [...program.unparsable, ...(cellErrors ?? [])].sort((a, b) => a.cell - b.cell);
  if (problems.length && !loadStop) {
    notes.push(
      "Code cells that failed when the grader ran the notebook (each costs nothing by itself, but what it would " +
        "have defined is missing): " +
        problems.slice(0, 10).map((p) => `cell ${p.cell}: ${options.relativize(p.error).slice(0, 200)}`).join("; ") +
        (problems.length > 10 ? `; and ${problems.length - 10} more` : ""),
    );
  }
  return result(grades, notes);
}

/**
 * The exercises of `lesson` whose course versions a regrade may run (those some exercise `uses`): the autograder
 * zip ships their cells of the solution notebook, and only those (tools/gradescope.ts).
 */
export function regradeNames(lesson: string): string[] {
  const exercises = exercisesByLesson[lesson] ?? {};
  const used = Object.values(exercises).flatMap((e) => e.uses ?? []);
  return [...new Set(used)].filter((u) => exercises[u]).sort();
}

/** The course's solution notebook of each lesson, prepared as the sandbox runs it. */
const solutionPrograms = new Map<string, Promise<Program>>();

/** The folder of the course's solution notebooks (the autograder ships the lesson's own). */
export const SOLUTIONS_DIR = "solutions";

/**
 * The cells of the course's solution notebook that define `names` (the last cell that declares each), to run
 * after a submission's cells: in the kernel's REPL mode they replace the submission's functions of those names.
 * Rejects when the course's files lack them (an installation problem, not the submission's).
 */
async function courseVersions(lesson: string, exercises: string[], names: string[]): Promise<Program["cells"]> {
  if (!solutionPrograms.has(lesson)) {
    solutionPrograms.set(
      lesson,
      (async () => {
        const dir = join(ROOT, SOLUTIONS_DIR);
        for await (const e of Deno.readDir(dir)) {
          if (e.name.startsWith(`${lesson}-`) && e.name.endsWith(".ipynb")) {
            return notebookProgram(await readNotebook(join(dir, e.name)));
          }
        }
        throw new Error(`no solution notebook of lesson ${lesson} in ${dir}`);
      })(),
    );
  }
  const program = await solutionPrograms.get(lesson)!;
  const declares = (js: string, n: string) => new RegExp(`(?<![\\w$])function\\s+${n}\\s*\\(`).test(js);
  const cells: Program["cells"] = [];
  for (const name of names) {
    const cell = program.cells.findLast((c) => declares(c.js, name));
    if (!cell) throw new Error(`the solution notebook of lesson ${lesson} does not define ${name}`);
    // The course's cell must replace only what it is run for: never the exercise being judged, nor another.
    const others = exercises.filter((n) => !names.includes(n) && declares(cell.js, n));
    if (others.length) {
      throw new Error(`the solution cell that defines ${name} (lesson ${lesson}) also defines ${others.join(", ")}`);
    }
    cells.push({ cell: 100_000 + cell.cell, js: cell.js });
  }
  return cells;
}

/**
 * Grades exercise `name` again, in a fresh sandbox, with the course's own versions of `broken` (exercises it may
 * call that did not pass their own checks) run after the submission's cells, so that `name` is judged by itself:
 * full points if it then passes its visible and hidden cases, else its own verdict (0 points). The notebook's
 * check keeps its points "for now" instead (core.ts): there is no course version in the student's notebook.
 *
 * Nothing computed in that sandbox is echoed: the message names the failing case and its likely cause, not what
 * the function returned or threw (it ran next to the course's code, which students must not read back).
 */
async function withCourseVersions(
  lesson: string,
  name: string,
  broken: string[],
  versions: Program["cells"],
  cells: Program["cells"],
  options: GradeOptions,
): Promise<ExerciseGrade> {
  const exercises = exercisesByLesson[lesson];
  const exercise = exercises[name];
  const named = broken.map((u) => `${u} (exercise ${exercises[u].number})`).join(" and ");
  const which = broken.length > 1 ? "do not pass their" : "does not pass its";
  const context = `graded again with the course's own ${named} in place of yours, which ${which} own check`;
  const hidden = hiddenCases[lesson]?.[name] ?? [];
  const items: Item[] = [{ exercise: name, phase: "visible" }];
  if (hidden.length) items.push({ exercise: name, phase: "hidden" });
  tf.engine().startScope();
  const hiddenArgs = [
    null,
    ...(hidden.length ? [hidden.map((c) => (c.args() as unknown[]).map((a) => toWire(a)))] : []),
  ];
  tf.engine().endScope();
  let visible: { grade: ExerciseGrade; result: CheckResult } | undefined;
  const outcome = await runSandbox(
    {
      lesson,
      backend: options.backend,
      cells: [...cells, ...versions],
      items,
      hiddenArgs,
      chooseHidden: async (done) => {
        const report = done.get(0);
        if (report && !visible) visible = await replayVisible(exercise, report, new Map(), options, undefined);
        return visible?.grade.status === "passed" && hidden.length ? [1] : [];
      },
    },
    options.limits,
    options.dirs,
  );
  const failed = (message: string, extra: Partial<ExerciseGrade> = {}): ExerciseGrade => ({
    exercise: exercise.id,
    name,
    points: 0,
    maxPoints: exercise.points,
    status: "failed",
    message: `${context}: ${message}`,
    ...extra,
  });
  if (outcome.cellErrors?.some((e) => e.cell >= 100_000)) {
    return failed(
      `the notebook's own declarations kept the course's version from replacing yours, so ${name} ` +
        "could not be judged by itself",
    );
  }
  const report = outcome.done.get(0);
  if (report && !visible) visible = await replayVisible(exercise, report, new Map(), options, undefined);
  if (!visible) {
    const stop = outcome.stop;
    return {
      ...failed(stop ? `the submission ${stopText(stop, options.limits)}` : "it was not reported"),
      status: "error",
    };
  }
  const r = visible.result;
  if (r.status !== "passed") {
    if (r.status === "not-implemented") return failed("not implemented");
    const f = r.failure!;
    const own = f.message.startsWith("threw ") || f.message.startsWith("the result could not be read")
      ? undefined
      : f.diagnosis;
    return failed(
      `${name} still fails case ${f.case}${own ? `; likely cause: ${own}` : ""} (what it returned there is not ` +
        `shown: it ran with the course's code; fix ${broken.join(" and ")}, then run the notebook's check to see it)`,
    );
  }
  if (hidden.length) {
    const report = outcome.done.get(1);
    const passed = report && (await replayCases({ ...exercise, cases: hidden, after: undefined }, report)).status ===
        "passed";
    if (!passed) return failed("passed the visible cases but not the hidden cases", { hidden: "failed" });
  }
  return {
    ...visible.grade,
    ...(hidden.length ? { hidden: "passed" as const } : {}),
    message: `${context}, and passed: that mistake is charged there, once`,
  };
}

/** Parses notebook JSON into the fields the grader uses (code cells' sources as strings). */
function parseNotebook(text: string): Notebook {
  const nb = JSON.parse(text);
  if (nb === null || typeof nb !== "object" || !Array.isArray(nb.cells)) throw new Error("not a notebook (no cells)");
  const cells = nb.cells.map((c: unknown) => {
    const cell = c as { cell_type?: unknown; source?: unknown };
    const source = Array.isArray(cell?.source) ? cell.source : [cell?.source];
    if (!source.every((s: unknown) => typeof s === "string")) throw new Error("a cell's source is not text");
    return { cell_type: cell.cell_type === "code" ? "code" : "markdown", metadata: {}, source: source.join("") };
  });
  return { cells, metadata: {}, nbformat: 4, nbformat_minor: 5 };
}

/** What the exercise's name held instead of a function, rebuilt for the check's message. */
function notFunction(w: Wire): unknown {
  try {
    return fromWire(w);
  } catch {
    return new OpaqueValue("a value that cannot be rebuilt");
  }
}

async function replayCases(
  exercise: Exercise,
  report: { records: CallRecord[]; notFunction?: Wire },
  prior?: PriorResults,
  source?: string,
): Promise<CheckResult> {
  tf.engine().startScope();
  try {
    const fn = report.notFunction !== undefined ? notFunction(report.notFunction) : replayer(report.records);
    return await runCheck(exercise, fn, prior, source);
  } finally {
    tf.engine().endScope();
  }
}

async function replayVisible(
  exercise: Exercise,
  report: { records: CallRecord[]; notFunction?: Wire },
  prior: PriorResults,
  options: GradeOptions,
  source: string | undefined,
): Promise<{ grade: ExerciseGrade; result: CheckResult }> {
  const r = await replayCases(exercise, report, prior, source);
  const f = r.failure;
  const parts = r.status === "passed" ? [] : r.status === "not-implemented" ? ["not implemented"] : [
    `case ${f!.case}: ${f!.message}`,
    f!.expected && `expected ${f!.expected}`,
    f!.actual && `got ${f!.actual}`,
    f!.diagnosis && `likely cause: ${f!.diagnosis}`,
  ];
  if (r.note) parts.push(`note: ${r.note}`);
  const message = parts.filter(Boolean).join("; ");
  return {
    result: r,
    grade: {
      exercise: exercise.id,
      name: exercise.name,
      points: r.points,
      maxPoints: r.maxPoints,
      status: r.status,
      ...(message ? { message: options.relativize(message) } : {}),
    },
  };
}
