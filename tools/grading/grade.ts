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
 * Which notebooks are graded: submissions.ts; how one is graded (attempts, items, which stop is charged to
 * which exercise, hidden cases): grade_notebook.ts; what is written for people: report.ts.
 *
 * Writes, atomically, while holding a lock on <out> (a second grader into the same <out> waits):
 * <out>/gradebook.csv, <out>/gradebook-canvas.csv, <out>/feedback/<student>.md, <out>/skipped.txt and
 * <out>/state/<student>/<lesson>.json (each result with the hash of its notebook, of the grading code and of
 * the limits and backend: a re-run skips what has not changed, and killing the grader loses nothing written) and
 * <out>/run.json (this run's results, for `deno task grade-merge`).
 *
 * `--shard i/n` grades only the students of shard i of n (shard.ts): run the n shards on n machines (or as the
 * jobs of a batch system), then merge their output folders (merge.ts).
 * @module
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { BACKENDS, initBackend } from "../../lib/backend.ts";
import { exercisesByLesson } from "../../lib/check/mod.ts";
import { listNotebooks } from "../notebook.ts";
import { ROOT, writeAtomic } from "../setup.ts";
import { errorGrade, type GradeOptions, gradeSubmission } from "./grade_notebook.ts";
import {
  canvasCsv,
  type ExerciseGrade,
  feedbackMarkdown,
  gradebookCsv,
  skippedText,
  type SubmissionGrade,
} from "./report.ts";
import { type Limits, runSandbox, runsDir, type SandboxDirs } from "./sandbox.ts";
import { inShard, parseShard, type Shard } from "./shard.ts";
import { fileSafe, findSubmissions, type Found, printable, type Skipped } from "./submissions.ts";

export type { ExerciseGrade, GradeOptions, Limits, SubmissionGrade };
export { gradeSubmission };
export { extractSubmission } from "./program.ts";

export const DEFAULT_LIMITS: Limits = { timeoutS: 60, memoryMb: 1536, maxOutputBytes: 4 << 20 };
/**
 * The default grading backend: what `initBackend()` picks on a machine without a GPU, so most students saw
 * these numbers; `ATTN_BACKEND=wasm` shows them on any machine.
 */
export const DEFAULT_BACKEND = "wasm";
/** Backends the sandbox can run (native and tensorflow need FFI, which the sandbox does not get). */
export const GRADING_BACKENDS = BACKENDS.filter((b) => b !== "tensorflow" && b !== "native");

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

let versionHash: Promise<string> | undefined;
/** A hash of everything a grade depends on besides the notebook: a change re-grades everything. */
function graderVersion(): Promise<string> {
  return versionHash ??= (async () => {
    const files: string[] = [];
    const walk = async (dir: string) => {
      for await (const e of Deno.readDir(join(ROOT, dir))) {
        if (e.isDirectory) await walk(`${dir}/${e.name}`);
        else if (/\.(ts|json|ipynb)$/.test(e.name) && !e.name.endsWith("_test.ts")) files.push(`${dir}/${e.name}`);
      }
    };
    // solutions/: a regrade runs the course's own version of an exercise (grade_notebook.ts withCourseVersions).
    for (const dir of ["lib", "datasets", "tools/grading", "solutions"]) await walk(dir);
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
export function relativizer(submissionsDir: string, out: string): (text: string) => string {
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
export async function withLock<T>(out: string, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
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
    /** Grade only this shard's students. */
    shard?: Shard;
    log?: (line: string) => void;
    onProgress?: (done: number, total: number, unchanged: number) => void;
  } = {},
): Promise<GradeRun> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const backend = options.backend ?? DEFAULT_BACKEND;
  const log = options.log ?? (() => {});
  await Deno.mkdir(out, { recursive: true });
  return await withLock(out, log, async () => {
    // Sandboxes' own folders: an empty HOME, and the warm DENO_DIR whose per-process copies and storage are
    // cleared here too, in case a previous grader was killed before it could.
    const dirs: SandboxDirs = { home: join(out, ".sandbox", "home"), denoDir: join(out, ".sandbox", "deno") };
    for (const d of [dirs.home, runsDir(dirs), join(dirs.denoDir, "location_data")]) {
      await Deno.remove(d, { recursive: true }).catch(() => {});
    }
    for (const d of [dirs.home, dirs.denoDir, join(out, "state"), join(out, "feedback")]) {
      await Deno.mkdir(d, { recursive: true });
    }
    await initBackend({ backend: backend as "cpu", print: false }); // replays rebuild tensors here
    const lessonNames = await courseNotebooks();
    const everyone = await findSubmissions(submissionsDir, lessonNames);
    const found = options.shard ? shardOfFound(everyone, options.shard) : everyone;
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

    const record: RunRecord = {
      format: 1,
      version: await sha256(version),
      classHash: await classHash(everyone),
      shard: options.shard ?? null,
      results: results.sort((a, b) => compare(a.student, b.student) || compare(a.lesson, b.lesson)),
      skipped: found.skipped,
    };
    await writeReports(out, record, lessonNames);
    await Deno.remove(dirs.home, { recursive: true }).catch(() => {});
    return { results, graded: todo.length - unchanged, unchanged, skipped: found.skipped };
  });
}

/** What one run graded: `<out>/run.json`, which `deno task grade-merge` reads. */
export interface RunRecord {
  format: 1;
  /** A hash of the grading code, the limits and the backend: shards are merged only when it is the same. */
  version: string;
  /** A hash of every student folder name in the submissions, before sharding: the same for shards of one class. */
  classHash: string;
  shard: Shard | null;
  /** Sorted by student, then lesson. */
  results: SubmissionGrade[];
  skipped: Skipped[];
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The part of a submissions folder that one shard grades and reports. */
function shardOfFound(found: Found, shard: Shard): Found {
  return {
    submissions: found.submissions.filter((s) => inShard(s.student, shard)),
    ambiguous: found.ambiguous.filter((a) => inShard(a.student, shard)),
    skipped: found.skipped.filter((s) => inShard(s.student, shard)),
  };
}

async function classHash(found: Found): Promise<string> {
  const names = [...found.submissions, ...found.ambiguous, ...found.skipped].flatMap((x) => x.student ?? []);
  return await sha256(JSON.stringify([...new Set(names)].sort(compare)));
}

/**
 * Writes what people read — gradebook.csv, gradebook-canvas.csv, skipped.txt, feedback/<student>.md — and run.json,
 * each atomically.
 */
export async function writeReports(out: string, run: RunRecord, lessonNames: Record<string, string>): Promise<void> {
  const { results } = run;
  // In path order (a stable sort): the same order whether one run or a merge of shards found them.
  const skipped = [...run.skipped].sort((a, b) => compare(a.path, b.path));
  await Deno.mkdir(join(out, "feedback"), { recursive: true });
  await writeAtomic(join(out, "gradebook.csv"), gradebookCsv(results));
  await writeAtomic(join(out, "gradebook-canvas.csv"), canvasCsv(results, lessonNames));
  await writeAtomic(join(out, "skipped.txt"), skippedText(skipped));
  const students = [...new Set([...results.map((r) => r.student), ...skipped.flatMap((s) => s.student ?? [])])];
  for (const student of students) {
    await writeAtomic(
      join(out, "feedback", `${fileSafe(student)}.md`),
      feedbackMarkdown(
        student,
        results.filter((r) => r.student === student),
        skipped.filter((s) => s.student === student),
      ),
    );
  }
  await writeAtomic(join(out, "run.json"), JSON.stringify({ ...run, skipped }) + "\n");
}

/**
 * Starts one sandbox that loads what every notebook imports (the grader's own cells, no student's): a set-up
 * problem (backend, packages, permissions) stops the run before any grade, and the module caches every
 * sandbox's copy of DENO_DIR starts from are filled.
 */
export async function preflight(options: GradeOptions): Promise<void> {
  const cells = [{ cell: 1, js: 'await import("attention-course"); await import("attention-course/check");' }];
  const outcome = await runSandbox(
    { lesson: "01", backend: options.backend, cells, items: [], hiddenArgs: [] },
    options.limits,
    options.dirs,
    { warm: true },
  );
  if (outcome.stop || !outcome.cellErrors || outcome.cellErrors.length) {
    throw new Error(
      `Cannot grade: the sandbox did not start on the ${options.backend} backend (${
        outcome.stop?.reason ?? outcome.cellErrors?.[0]?.error ?? "no report"
      }${outcome.stderr ? `: ${outcome.stderr.trim().split("\n").slice(-3).join(" ")}` : ""}); ` +
        "run `deno task setup` and try --backend cpu",
    );
  }
}

if (import.meta.main) {
  const usage =
    "usage: deno task grade <submissions dir> --out <dir> [--jobs N] [--timeout S] [--memory MB] [--backend B] " +
    "[--shard i/n]";
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
        shard: { type: "string" },
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
  let shard: Shard | undefined;
  try {
    shard = values.shard === undefined ? undefined : parseShard(values.shard);
  } catch (err) {
    bad((err as Error).message);
  }
  if (!await Deno.stat(dir!).then((s) => s.isDirectory, () => false)) bad(`${dir} is not a folder`);
  const t0 = performance.now();
  let run: GradeRun;
  try {
    run = await gradeAll(dir!, values.out!, {
      jobs,
      limits,
      backend,
      shard,
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
      `on the ${backend} backend` + (shard ? `, shard ${shard.index}/${shard.count}` : "") +
      (run.graded ? ` (${(run.graded / secs * 60).toFixed(1)} per minute)` : ""),
  );
  console.log(
    `wrote ${join(values.out!, "gradebook.csv")}, ${new Set(run.results.map((r) => r.student)).size} feedback ` +
      `file(s) and ${join(values.out!, "skipped.txt")} (${run.skipped.length} path(s) not graded)`,
  );
}
