/**
 * `deno task grade <submissions> --out <dir> [--jobs N] [--timeout S] [--memory MB] [--backend B]`
 *
 * Grades every exercise notebook `<submissions>/<student>/NN-*.ipynb` (which ones: submissions.ts).
 *
 * Each notebook runs, cell by cell as the Jupyter kernel runs it (program.ts), in a sandbox process
 * (sandbox.ts → sandbox_main.ts → sandbox_worker.ts) that can read only the course's lib/, datasets/ and
 * node_modules/, with limits on time, memory and output. The sandbox only records what the student's functions
 * return; every verdict is recomputed here from those records by the same checks the notebook runs
 * (protocol.ts). The grading backend is pinned (`--backend`, default wasm) in the sandbox and here.
 *
 * An item is one exercise's visible cases, or its hidden cases (tools/grading/hidden.ts); all visible items run
 * before any hidden one, so no feedback computed from visible records can depend on hidden inputs, and anything
 * that goes wrong in a hidden item is reported only as "not the hidden cases". When a sandbox stops (timeout,
 * memory, `self.close()`, a crash…) during an item that was not the first of its process, that item is run again
 * first in a fresh process and charged only if it stops there too: a stop is charged to the item whose own run
 * causes it, whatever a previous item left behind. Items already reported are kept.
 *
 * Writes, atomically, while holding a lock on <out> (a second grader into the same <out> waits):
 * <out>/gradebook.csv, <out>/gradebook-canvas.csv, <out>/feedback/<student>.md, <out>/skipped.txt and
 * <out>/state/<student>/<lesson>.json (each result with the hash of its notebook, of the grading code and of
 * the limits and backend: a re-run skips what has not changed, and killing the grader loses nothing written).
 * @module
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { BACKENDS, initBackend } from "../../lib/backend.ts";
import { type CheckResult, type Exercise, type PriorResults, runCheck } from "../../lib/check/core.ts";
import { exercisesByLesson } from "../../lib/check/mod.ts";
import { listNotebooks, type Notebook } from "../notebook.ts";
import { ROOT, writeAtomic } from "../setup.ts";
import type { CallRecord, Item, Wire } from "./frames.ts";
import { hiddenCases } from "./hidden.ts";
import { notebookProgram } from "./program.ts";
import { fromWire, replayer, toWire } from "./protocol.ts";
import {
  canvasCsv,
  type ExerciseGrade,
  feedbackMarkdown,
  gradebookCsv,
  skippedText,
  type SubmissionGrade,
} from "./report.ts";
import { type Limits, runSandbox, type SandboxDirs, type Stop } from "./sandbox.ts";
import { fileSafe, findSubmissions, printable, type Skipped, type Submission } from "./submissions.ts";

export type { ExerciseGrade, Limits, SubmissionGrade };

export const DEFAULT_LIMITS: Limits = { timeoutS: 60, memoryMb: 1536, maxOutputBytes: 4 << 20 };
/**
 * The default grading backend: what `initBackend()` picks on a machine without a GPU, so most students saw
 * these numbers; `ATTN_BACKEND=wasm` shows them on any machine.
 */
export const DEFAULT_BACKEND = "wasm";
/** Backends the sandbox can run (native and tensorflow need FFI, which the sandbox does not get). */
export const GRADING_BACKENDS = BACKENDS.filter((b) => b !== "tensorflow" && b !== "native");
const MAX_NOTEBOOK_BYTES = 50 << 20;

/** How to grade. */
export interface GradeOptions {
  limits: Limits;
  backend: string;
  dirs: SandboxDirs;
  /** Turns absolute paths in messages into paths relative to the submissions (or the course). */
  relativize: (text: string) => string;
}

/** The course's notebook name of each lesson with exercises ("01" → "01-weighted-sums.ipynb"). */
export async function courseNotebooks(): Promise<Record<string, string>> {
  const names: Record<string, string> = {};
  for (const path of await listNotebooks(join(ROOT, "exercises"))) {
    const name = path.slice(path.lastIndexOf("/") + 1);
    const lesson = name.slice(0, 2);
    if (exercisesByLesson[lesson]) names[lesson] = name;
  }
  return names;
}

function errorGrade(exercise: Exercise, message: string): ExerciseGrade {
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
      return `ran longer than ${limits.timeoutS} s (an infinite loop, or a Promise that never settles?)`;
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
      visible.set(name, await replayVisible(exercises[name], reports.get(i)!, prior, options));
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

  const grades: ExerciseGrade[] = [];
  for (const name of names) {
    const exercise = exercises[name];
    const vis = items.findIndex((it) => it.exercise === name && it.phase === "visible");
    const hid = items.findIndex((it) => it.exercise === name && it.phase === "hidden");
    const stop = charged.get(vis);
    if (stop) {
      grades.push(errorGrade(
        exercise,
        stop === loadStop
          ? `the notebook's cells did not finish: ${stopText(stop, options.limits)}` +
            `${stop.cell ? ` in code cell ${stop.cell}` : ""}, so nothing could be checked`
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
        });
        continue;
      }
    }
    grades.push(grade);
  }
  const notes: string[] = [];
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

async function replayCases(
  exercise: Exercise,
  report: { records: CallRecord[]; notFunction?: Wire },
  prior?: PriorResults,
): Promise<CheckResult> {
  tf.engine().startScope();
  try {
    const fn = report.notFunction !== undefined ? fromWire(report.notFunction) : replayer(report.records);
    return await runCheck(exercise, fn, prior);
  } finally {
    tf.engine().endScope();
  }
}

async function replayVisible(
  exercise: Exercise,
  report: { records: CallRecord[]; notFunction?: Wire },
  prior: PriorResults,
  options: GradeOptions,
): Promise<{ grade: ExerciseGrade; result: CheckResult }> {
  const r = await replayCases(exercise, report, prior);
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

let versionHash: Promise<string> | undefined;
/** A hash of everything a grade depends on besides the notebook: a change re-grades everything. */
function graderVersion(): Promise<string> {
  return versionHash ??= (async () => {
    const files: string[] = [];
    const walk = async (dir: string) => {
      for await (const e of Deno.readDir(join(ROOT, dir))) {
        if (e.isDirectory) await walk(`${dir}/${e.name}`);
        else if (/\.(ts|json)$/.test(e.name) && !e.name.endsWith("_test.ts")) files.push(`${dir}/${e.name}`);
      }
    };
    for (const dir of ["lib", "datasets", "tools/grading"]) await walk(dir);
    files.push("deno.json", "deno.lock", "tools/notebook.ts");
    const texts = await Promise.all(files.sort().map(async (f) => `${f}\0${await Deno.readTextFile(join(ROOT, f))}`));
    return sha256(texts.join("\0") + Deno.version.deno);
  })();
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Replaces the machine's absolute paths in a message with short relative ones. */
function relativizer(submissionsDir: string, out: string): (text: string) => string {
  const roots: [string, string][] = [
    [resolve(submissionsDir) + "/", ""],
    [resolve(out) + "/", "<out>/"],
    [ROOT + "/", ""],
  ];
  return (text) => {
    let t = text;
    for (const [abs, rel] of roots) t = t.replaceAll(`file://${abs}`, rel).replaceAll(abs, rel);
    return t;
  };
}

/** Holds <out>/.lock while `fn` runs; a second grader waits (the lock goes when its holder dies, even by kill -9). */
async function withLock<T>(out: string, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const file = await Deno.open(join(out, ".lock"), { read: true, write: true, create: true });
  try {
    const quick = await Promise.race([file.lock(true).then(() => true), new Promise((r) => setTimeout(r, 200, false))]);
    if (!quick) {
      log(`another grader is writing to ${out}; waiting for it to finish …`);
      await file.lock(true);
    }
    return await fn();
  } finally {
    file.close(); // releases the lock
  }
}

/** What gradeAll did. */
export interface GradeRun {
  results: SubmissionGrade[];
  graded: number;
  unchanged: number;
  skipped: Skipped[];
}

/** Grades a folder of submissions into `out`. */
export async function gradeAll(
  submissionsDir: string,
  out: string,
  options: {
    jobs?: number;
    limits?: Limits;
    backend?: string;
    log?: (line: string) => void;
    onProgress?: (done: number, total: number, unchanged: number) => void;
  } = {},
): Promise<GradeRun> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const backend = options.backend ?? DEFAULT_BACKEND;
  const log = options.log ?? (() => {});
  await Deno.mkdir(out, { recursive: true });
  return await withLock(out, log, async () => {
    // Sandboxes' own folders: an empty HOME, and a DENO_DIR whose per-process storage is cleared here too,
    // in case a previous grader was killed before it could.
    const dirs: SandboxDirs = { home: join(out, ".sandbox", "home"), denoDir: join(out, ".sandbox", "deno") };
    await Deno.remove(dirs.home, { recursive: true }).catch(() => {});
    await Deno.remove(join(dirs.denoDir, "location_data"), { recursive: true }).catch(() => {});
    for (const d of [dirs.home, dirs.denoDir, join(out, "state"), join(out, "feedback")]) {
      await Deno.mkdir(d, { recursive: true });
    }
    await initBackend({ backend: backend as "cpu", print: false }); // replays rebuild tensors here
    const lessonNames = await courseNotebooks();
    const found = await findSubmissions(submissionsDir, lessonNames);
    const grading: GradeOptions = { limits, backend, dirs, relativize: relativizer(submissionsDir, out) };
    await preflight(grading);

    const version = await graderVersion() + JSON.stringify({ limits, backend });
    const results: SubmissionGrade[] = [];
    const save = async (r: SubmissionGrade) => {
      await Deno.mkdir(join(out, "state", fileSafe(r.student)), { recursive: true });
      await writeAtomic(join(out, "state", fileSafe(r.student), `${r.lesson}.json`), JSON.stringify(r, null, 1) + "\n");
    };
    for (const a of found.ambiguous) {
      const exercises = exercisesByLesson[a.lesson];
      const r: SubmissionGrade = {
        student: a.student,
        lesson: a.lesson,
        notebook: "",
        hash: "",
        grades: Object.values(exercises).map((e) => errorGrade(e, a.message)),
        notes: [],
        seconds: 0,
      };
      await save(r);
      results.push(r);
    }
    const todo = found.submissions;
    let next = 0, done = 0, unchanged = 0;
    const worker = async () => {
      while (next < todo.length) {
        const sub = todo[next++];
        const statePath = join(out, "state", fileSafe(sub.student), `${sub.lesson}.json`);
        let result: SubmissionGrade;
        try {
          const hash = await sha256((await Deno.readTextFile(sub.path).catch(() => "")) + version);
          const previous = await Deno.readTextFile(statePath).then((t) => JSON.parse(t) as SubmissionGrade, () => null);
          if (previous?.hash === hash && previous.student === sub.student && previous.notebook === sub.notebook) {
            result = previous;
            unchanged++;
          } else {
            result = await gradeSubmission(sub, grading, hash);
            await save(result);
          }
        } catch (err) {
          // A bug of the grader's, not the student's: say so, and keep grading the class.
          log(
            `grader error on ${printable(sub.student)}/${printable(sub.notebook)}: ${
              err instanceof Error ? err.stack : err
            }`,
          );
          const exercises = exercisesByLesson[sub.lesson];
          result = {
            student: sub.student,
            lesson: sub.lesson,
            notebook: sub.notebook,
            hash: "",
            grades: Object.values(exercises).map((e) =>
              errorGrade(e, "the grader failed on this notebook: ask your instructor")
            ),
            notes: [],
            seconds: 0,
          };
        }
        results.push(result);
        options.onProgress?.(++done, todo.length, unchanged);
      }
    };
    const jobs = Math.max(1, options.jobs ?? navigator.hardwareConcurrency ?? 2);
    await Promise.all(Array.from({ length: Math.min(jobs, todo.length || 1) }, worker));

    await writeAtomic(join(out, "gradebook.csv"), gradebookCsv(results));
    await writeAtomic(join(out, "gradebook-canvas.csv"), canvasCsv(results, lessonNames));
    await writeAtomic(join(out, "skipped.txt"), skippedText(found.skipped));
    const students = [...new Set([...results.map((r) => r.student), ...found.skipped.flatMap((s) => s.student ?? [])])];
    for (const student of students) {
      await writeAtomic(
        join(out, "feedback", `${fileSafe(student)}.md`),
        feedbackMarkdown(
          student,
          results.filter((r) => r.student === student),
          found.skipped.filter((s) => s.student === student),
        ),
      );
    }
    await Deno.remove(dirs.home, { recursive: true }).catch(() => {});
    return { results, graded: todo.length - unchanged, unchanged, skipped: found.skipped };
  });
}

/** Starts one empty sandbox: a set-up problem (backend, packages, permissions) stops the run before any grade. */
async function preflight(options: GradeOptions): Promise<void> {
  const outcome = await runSandbox(
    { lesson: "01", backend: options.backend, cells: [], items: [], hiddenArgs: [] },
    options.limits,
    options.dirs,
  );
  if (outcome.stop || !outcome.cellErrors) {
    throw new Error(
      `Cannot grade: the sandbox did not start on the ${options.backend} backend (${
        outcome.stop?.reason ?? "no report"
      }${outcome.stderr ? `: ${outcome.stderr.trim().split("\n").slice(-3).join(" ")}` : ""}); ` +
        "run `deno task setup` and try --backend cpu",
    );
  }
}

if (import.meta.main) {
  const usage =
    "usage: deno task grade <submissions dir> --out <dir> [--jobs N] [--timeout S] [--memory MB] [--backend B]";
  const bad = (msg: string): never => {
    console.error(`error: ${msg}\n${usage}`);
    Deno.exit(2);
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      allowPositionals: true,
      options: {
        out: { type: "string" },
        jobs: { type: "string" },
        timeout: { type: "string" },
        memory: { type: "string" },
        backend: { type: "string" },
      },
    });
  } catch (err) {
    bad((err as Error).message);
  }
  const { values, positionals } = parsed!;
  const [dir] = positionals;
  if (!dir || !values.out) bad("a submissions folder and --out are required");
  const int = (name: string, v: string | undefined, dflt: number) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) bad(`--${name} must be a positive integer, got "${v}"`);
    return n;
  };
  const limits: Limits = {
    ...DEFAULT_LIMITS,
    timeoutS: int("timeout", values.timeout, DEFAULT_LIMITS.timeoutS),
    memoryMb: int("memory", values.memory, DEFAULT_LIMITS.memoryMb),
  };
  const backend = values.backend ?? Deno.env.get("ATTN_BACKEND") ?? DEFAULT_BACKEND;
  if (!(GRADING_BACKENDS as readonly string[]).includes(backend)) {
    bad(`--backend must be one of ${GRADING_BACKENDS.join(", ")}, got "${backend}"`);
  }
  const jobs = int("jobs", values.jobs, navigator.hardwareConcurrency ?? 2);
  if (!await Deno.stat(dir!).then((s) => s.isDirectory, () => false)) bad(`${dir} is not a folder`);
  const t0 = performance.now();
  let run: GradeRun;
  try {
    run = await gradeAll(dir!, values.out!, {
      jobs,
      limits,
      backend,
      log: (line) => console.error(line),
      onProgress: (d, total, u) => {
        const width = 30, filled = Math.round((d / total) * width);
        Deno.stderr.writeSync(new TextEncoder().encode(
          `\r${"█".repeat(filled).padEnd(width, "░")} ${d}/${total} notebooks (${u} unchanged)`,
        ));
      },
    });
  } catch (err) {
    console.error(`\nerror: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
  const secs = (performance.now() - t0) / 1000;
  console.error("");
  for (const s of run.skipped) console.log(`not graded: ${s.path}: ${s.reason}`);
  console.log(
    `graded ${run.graded} notebook(s), ${run.unchanged} unchanged, in ${secs.toFixed(1)} s with ${jobs} job(s) ` +
      `on the ${backend} backend` + (run.graded ? ` (${(run.graded / secs * 60).toFixed(1)} per minute)` : ""),
  );
  console.log(
    `wrote ${join(values.out!, "gradebook.csv")}, ${new Set(run.results.map((r) => r.student)).size} feedback ` +
      `file(s) and ${join(values.out!, "skipped.txt")} (${run.skipped.length} path(s) not graded)`,
  );
}
