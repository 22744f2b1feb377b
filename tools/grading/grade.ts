/**
 * `deno task grade <submissions> --out <dir> [--jobs N] [--timeout S] [--memory MB]`
 *
 * Grades every submitted exercise notebook: <submissions>/<student>/NN-*.ipynb.
 * Each submission's code runs in its own Deno subprocess (tools/grading/harness.ts)
 * that may read only lib/, datasets/, node_modules/ and its own work folder — no writes,
 * network, environment or subprocesses — under a wall-clock timeout, a V8 heap
 * cap and a resident-memory watchdog; submissions run in parallel (default: all
 * cores). Verdicts are recomputed here from the recorded calls, so nothing the
 * submission prints or patches can award points.
 *
 * Writes, atomically: <out>/gradebook.csv (a row per student, a column per
 * exercise, and the total), <out>/gradebook-canvas.csv (Canvas's import
 * layout), <out>/feedback/<student>.md, and <out>/state/ (one
 * result per submission with its content hash: a re-run skips unchanged
 * submissions, and killing the grader loses nothing already written).
 * @module
 */
import { parseArgs } from "node:util";
import { basename, join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { initBackend } from "../../lib/backend.ts";
import { type Case, type CheckResult, type Exercise, runCheck } from "../../lib/check/core.ts";
import { exercisesByLesson } from "../../lib/check/mod.ts";
import * as tf from "@tensorflow/tfjs";
import { type CallRecord, fromWire, replayer, toWire, type Wire } from "./protocol.ts";
import { hiddenCases } from "./hidden.ts";
import { readNotebook, sourceOf } from "../notebook.ts";
import { ROOT, writeAtomic } from "../setup.ts";

/** Grading limits. */
export interface Limits {
  /** Wall-clock seconds for one sandbox process. */
  timeoutS: number;
  /** Resident memory cap of one sandbox process, in MiB (the V8 heap gets half). */
  memoryMb: number;
  /** Bytes of output a sandbox may print before it is stopped. */
  maxOutputBytes: number;
}

export const DEFAULT_LIMITS: Limits = { timeoutS: 60, memoryMb: 1536, maxOutputBytes: 4 << 20 };

/** The result of one exercise of one submission. */
export interface ExerciseGrade {
  exercise: string;
  name: string;
  points: number;
  maxPoints: number;
  status: CheckResult["status"] | "error";
  /** For the student: the first failing visible case, or why the code could not be graded. */
  message?: string;
}

/** One graded submission, as stored in <out>/state/. */
export interface SubmissionGrade {
  student: string;
  notebook: string;
  hash: string;
  grades: ExerciseGrade[];
  seconds: number;
}

const HARNESS = join(ROOT, "tools", "grading", "harness.ts");
const CHECK_CALL = /^\s*await\s+check\d*\.\w+\([^;]*\);?\s*$/;

/**
 * The TypeScript module the sandbox runs: the notebook's code cells, lib/ and datasets/ imports pinned to the
 * course's folders (the sandbox may read both), check calls removed.
 */
export async function extractSubmission(notebookPath: string, names: string[]): Promise<string> {
  const nb = await readNotebook(notebookPath);
  const lib = pathToUrl(join(ROOT, "lib")) + "/", datasets = pathToUrl(join(ROOT, "datasets")) + "/";
  const code = nb.cells
    .filter((c) => c.cell_type === "code")
    .map((c, i) =>
      `// cell ${i}\n` +
      sourceOf(c).split("\n").map((line) => CHECK_CALL.test(line) ? "" : line).join("\n")
        .replaceAll(/(["'])\.\.\/lib\//g, `$1${lib}`)
        .replaceAll(/(["'])\.\.\/datasets\//g, `$1${datasets}`)
    ).join("\n");
  const exports = names.map((n) => `  ${JSON.stringify(n)}: typeof ${n} === "undefined" ? undefined : ${n},`).join(
    "\n",
  );
  return `${code}\n\n// Added by the grader:\nexport const __functions = {\n${exports}\n};\n`;
}

function pathToUrl(p: string): string {
  return new URL(`file://${resolve(p)}`).href;
}

interface SandboxOutcome {
  messages: Record<string, unknown>[];
  failure?: string;
}

/** Runs the harness once; returns the frames it printed and why it stopped early, if it did. */
async function runSandbox(
  workDir: string,
  lesson: string,
  names: string[],
  limits: Limits,
  hiddenArgs: Record<string, Wire[][]>,
): Promise<SandboxOutcome> {
  const nonce = crypto.randomUUID();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      `--config=${join(ROOT, "deno.json")}`,
      `--allow-read=${join(ROOT, "lib")},${join(ROOT, "datasets")},${join(ROOT, "node_modules")},${workDir}`,
      `--v8-flags=--max-old-space-size=${Math.floor(limits.memoryMb / 2)}`,
      HARNESS,
      join(workDir, "submission.ts"),
      lesson,
      ...names,
    ],
    cwd: workDir,
    clearEnv: true,
    env: {
      NO_COLOR: "1",
      ...(Deno.env.get("HOME") ? { HOME: Deno.env.get("HOME")! } : {}),
      ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stopped: string | undefined;
  const kill = (why: string) => {
    stopped ??= why;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  };
  const timer = setTimeout(
    () => kill(`ran longer than ${limits.timeoutS} s (an infinite loop?)`),
    limits.timeoutS * 1000,
  );
  const watchdog = setInterval(async () => {
    const status = await Deno.readTextFile(`/proc/${child.pid}/status`).catch(() => "");
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    if (kb > limits.memoryMb * 1024) kill(`used more than ${limits.memoryMb} MiB of memory`);
  }, 200);
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(nonce + "\n" + JSON.stringify(hiddenArgs))).catch(() => {});
  await writer.close().catch(() => {});

  const collect = async (stream: ReadableStream<Uint8Array>, keep: "all" | "tail") => {
    const parts: string[] = [];
    let bytes = 0;
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      bytes += chunk.length;
      if (keep === "all" && bytes > limits.maxOutputBytes) {
        kill(`printed more than ${limits.maxOutputBytes >> 20} MiB of output`);
        break;
      }
      parts.push(decoder.decode(chunk, { stream: true }));
      if (keep === "tail" && parts.length > 64) parts.splice(0, parts.length - 64);
    }
    return parts.join("");
  };
  const [stdout, stderr] = await Promise.all([collect(child.stdout, "all"), collect(child.stderr, "tail")]);
  const status = await child.status;
  clearTimeout(timer);
  clearInterval(watchdog);

  const prefix = `@@grade ${nonce} `;
  const messages = stdout.split("\n").filter((l) => l.startsWith(prefix)).map((l) => {
    try {
      return JSON.parse(l.slice(prefix.length));
    } catch {
      return { kind: "garbled" };
    }
  });
  const ended = messages.some((m) => m.kind === "end" || m.kind === "load-error");
  if (ended && !stopped) return { messages };
  const oom = /heap out of memory|Allocation failed|out of memory/i.test(stderr);
  const why = stopped ??
    (oom
      ? `ran out of memory (heap cap ${Math.floor(limits.memoryMb / 2)} MiB)`
      : `stopped early (exit code ${status.code})`);
  return { messages, failure: why };
}

/** Grades one notebook; never throws because of the submission. */
export async function gradeSubmission(
  student: string,
  notebookPath: string,
  limits: Limits = DEFAULT_LIMITS,
): Promise<SubmissionGrade> {
  const t0 = performance.now();
  const lesson = /^(\d\d)-/.exec(basename(notebookPath))?.[1] ?? "";
  const exercises = exercisesByLesson[lesson] ?? {};
  const names = Object.keys(exercises);
  const text = await Deno.readTextFile(notebookPath);
  const hash = await sha256(text + await graderVersion());
  const grades = new Map<string, ExerciseGrade>();
  const errorGrade = (name: string, message: string): ExerciseGrade => ({
    exercise: exercises[name].id,
    name,
    points: 0,
    maxPoints: exercises[name].points,
    status: "error",
    message,
  });

  const workDir = await Deno.makeTempDir({ dir: tmpdir(), prefix: "attention-grade-" });
  try {
    try {
      await Deno.writeTextFile(join(workDir, "submission.ts"), await extractSubmission(notebookPath, names));
    } catch (err) {
      for (const n of names) grades.set(n, errorGrade(n, `the notebook could not be read: ${(err as Error).message}`));
    }
    // The hidden cases' arguments, serialised (their expected values stay here).
    const hiddenArgs: Record<string, Wire[][]> = {};
    tf.engine().startScope();
    for (const n of names) {
      hiddenArgs[n] = (hiddenCases[lesson]?.[n] ?? []).map((c) => (c.args() as unknown[]).map((a) => toWire(a)));
    }
    tf.engine().endScope();
    // Earlier exercises' replayed results, so a failure can name an unfinished exercise it depends on.
    const prior = new Map<string, CheckResult>();
    // Run the exercises still ungraded; after a crash or timeout, the one in progress scores 0 and the rest run again.
    for (let attempt = 0; attempt < names.length + 1; attempt++) {
      const todo = names.filter((n) => !grades.has(n));
      if (!todo.length) break;
      const outcome = await runSandbox(workDir, lesson, todo, limits, hiddenArgs);
      let current: string | undefined;
      for (const m of outcome.messages) {
        if (m.kind === "load-error") {
          for (const n of todo) {
            grades.set(n, errorGrade(n, `the notebook's code failed to load: ${String(m.message).slice(0, 500)}`));
          }
        } else if (m.kind === "start") current = String(m.name);
        else if (m.kind === "done" && typeof m.name === "string" && exercises[m.name]) {
          grades.set(m.name, await replay(m.name, m as never, exercises, hiddenCases[lesson]?.[m.name] ?? [], prior));
          current = undefined;
        }
      }
      if (outcome.failure) {
        const culprit = current ?? todo.find((n) => !grades.has(n));
        if (culprit) {
          grades.set(culprit, errorGrade(culprit, `the submission ${outcome.failure} while checking ${culprit}`));
        }
      }
    }
  } finally {
    await Deno.remove(workDir, { recursive: true }).catch(() => {});
  }
  return {
    student,
    notebook: basename(notebookPath),
    hash,
    grades: names.map((n) => grades.get(n) ?? errorGrade(n, "not graded")),
    seconds: (performance.now() - t0) / 1000,
  };
}

async function replay(
  name: string,
  m: { records: CallRecord[]; hiddenRecords?: CallRecord[]; notFunction?: Wire },
  exercises: Record<string, Exercise>,
  hidden: Case<unknown[]>[],
  prior: Map<string, CheckResult>,
): Promise<ExerciseGrade> {
  const exercise = exercises[name];
  const fn = m.notFunction !== undefined ? fromWire(m.notFunction) : replayer(m.records ?? []);
  const result = await runCheck(exercise, fn, prior);
  prior.set(name, result);
  const f = result.failure;
  if (result.status === "passed" && hidden.length) {
    const h = await runCheck({ ...exercise, cases: hidden, after: undefined }, replayer(m.hiddenRecords ?? []));
    if (h.status !== "passed") {
      // Hidden cases report pass/fail only: no inputs, no expected values.
      return {
        exercise: exercise.id,
        name,
        points: 0,
        maxPoints: exercise.points,
        status: "failed",
        message: `passed the ${result.cases} visible cases but failed hidden case ${h.casesPassed + 1} of ${h.cases}`,
      };
    }
  }
  return {
    exercise: exercise.id,
    name,
    points: result.points,
    maxPoints: result.maxPoints,
    status: result.status,
    message: result.status === "passed"
      ? undefined
      : result.status === "not-implemented"
      ? `not implemented${result.note ? ` (${result.note})` : ""}`
      : [
        `case ${f!.case}: ${f!.message}`,
        f!.expected && `expected ${f!.expected}`,
        f!.actual && `got ${f!.actual}`,
        f!.diagnosis && `likely cause: ${f!.diagnosis}`,
      ]
        .filter(Boolean).join("; ") + (result.note ? `; note: ${result.note}` : ""),
  };
}

let versionHash: Promise<string> | undefined;
/** A hash of the grading code: a change re-grades everything. */
function graderVersion(): Promise<string> {
  return versionHash ??= (async () => {
    const files: string[] = [];
    for (const dir of ["tools/grading", "lib/check"]) {
      for await (const e of Deno.readDir(join(ROOT, dir))) {
        if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) files.push(`${dir}/${e.name}`);
      }
    }
    const texts = await Promise.all(files.sort().map((f) => Deno.readTextFile(join(ROOT, f))));
    return sha256(texts.join("\0"));
  })();
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Every <student>/NN-*.ipynb under `dir` whose lesson has exercises. */
export async function findSubmissions(dir: string): Promise<{ student: string; path: string }[]> {
  const found: { student: string; path: string }[] = [];
  for await (const s of Deno.readDir(dir)) {
    if (!s.isDirectory || s.name.startsWith(".")) continue;
    for await (const f of Deno.readDir(join(dir, s.name))) {
      const lesson = /^(\d\d)-.*\.ipynb$/.exec(f.name)?.[1];
      if (f.isFile && lesson && exercisesByLesson[lesson]) {
        found.push({ student: s.name, path: join(dir, s.name, f.name) });
      }
    }
  }
  return found.sort((a, b) => (a.student + a.path).localeCompare(b.student + b.path));
}

function csvCell(value: string | number): string {
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The gradebook: a row per student, a column per exercise (points), then the total. */
export function gradebookCsv(results: SubmissionGrade[]): string {
  const columns = [...new Set(results.flatMap((r) => r.grades.map((g) => g.exercise)))].sort();
  const students = [...new Set(results.map((r) => r.student))].sort();
  const rows = [["student", ...columns, "total"]];
  for (const s of students) {
    const points = new Map(
      results.filter((r) => r.student === s).flatMap((r) => r.grades.map((g) => [g.exercise, g.points])),
    );
    const total = [...points.values()].reduce((a, b) => a + b, 0);
    rows.push([s, ...columns.map((c) => String(points.get(c) ?? 0)), String(total)]);
  }
  return rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

/**
 * The gradebook in Canvas's import layout: Student, ID, SIS User ID, SIS Login ID, Section, then one
 * column per exercise notebook (its total points; Canvas makes one assignment per new column). The
 * student folder name goes into Student and SIS Login ID; name the folders by SIS Login ID to match.
 */
export function canvasCsv(results: SubmissionGrade[]): string {
  const notebooks = [...new Set(results.map((r) => r.notebook))].sort();
  const max = (nb: string) => results.find((r) => r.notebook === nb)!.grades.reduce((a, g) => a + g.maxPoints, 0);
  const header = [
    "Student",
    "ID",
    "SIS User ID",
    "SIS Login ID",
    "Section",
    ...notebooks.map((nb) => `${nb.replace(/\.ipynb$/, "")} (${max(nb)})`),
  ];
  const rows = [header];
  for (const s of [...new Set(results.map((r) => r.student))].sort()) {
    const total = (nb: string) =>
      results.find((r) => r.student === s && r.notebook === nb)?.grades.reduce((a, g) => a + g.points, 0);
    rows.push([s, "", "", s, "", ...notebooks.map((nb) => String(total(nb) ?? ""))]);
  }
  return rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

/** The feedback file of one student. */
export function feedbackMarkdown(student: string, results: SubmissionGrade[]): string {
  const lines = [`# Feedback for ${student}`, ""];
  for (const r of results) {
    const got = r.grades.reduce((a, g) => a + g.points, 0), max = r.grades.reduce((a, g) => a + g.maxPoints, 0);
    lines.push(`## ${r.notebook}: ${got}/${max} points`, "");
    for (const g of r.grades) {
      const mark = g.status === "passed" ? "✔" : g.status === "not-implemented" ? "…" : "✘";
      lines.push(`- ${mark} **${g.name}** ${g.points}/${g.maxPoints}${g.message ? ` — ${g.message}` : ""}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

/** Grades a folder of submissions into `out`. */
export async function gradeAll(
  submissionsDir: string,
  out: string,
  options: { jobs?: number; limits?: Limits; onProgress?: (done: number, total: number, skipped: number) => void } = {},
): Promise<{ results: SubmissionGrade[]; graded: number; skipped: number }> {
  await initBackend({ backend: "cpu", print: false }); // replays rebuild tensors here
  const submissions = await findSubmissions(submissionsDir);
  for (const d of ["state", "feedback"]) await Deno.mkdir(join(out, d), { recursive: true });
  const results: SubmissionGrade[] = [];
  let next = 0, done = 0, skipped = 0;
  const worker = async () => {
    while (next < submissions.length) {
      const { student, path } = submissions[next++];
      const statePath = join(out, "state", `${student}__${basename(path)}.json`);
      const hash = await sha256(await Deno.readTextFile(path) + await graderVersion());
      const previous = await Deno.readTextFile(statePath).then(
        (t) => JSON.parse(t) as SubmissionGrade,
        () => undefined,
      );
      let result: SubmissionGrade;
      if (previous?.hash === hash) {
        result = previous;
        skipped++;
      } else {
        result = await gradeSubmission(student, path, options.limits ?? DEFAULT_LIMITS);
        await writeAtomic(statePath, JSON.stringify(result, null, 1) + "\n");
      }
      results.push(result);
      options.onProgress?.(++done, submissions.length, skipped);
    }
  };
  const jobs = Math.max(1, options.jobs ?? navigator.hardwareConcurrency ?? 2);
  await Promise.all(Array.from({ length: Math.min(jobs, submissions.length || 1) }, worker));
  await writeAtomic(join(out, "gradebook.csv"), gradebookCsv(results));
  await writeAtomic(join(out, "gradebook-canvas.csv"), canvasCsv(results));
  for (const student of new Set(results.map((r) => r.student))) {
    await writeAtomic(
      join(out, "feedback", `${student}.md`),
      feedbackMarkdown(student, results.filter((r) => r.student === student)),
    );
  }
  return { results, graded: submissions.length - skipped, skipped };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      jobs: { type: "string" },
      timeout: { type: "string" },
      memory: { type: "string" },
    },
  });
  const [dir] = positionals;
  const bad = (msg: string) => {
    console.error(
      `error: ${msg}\nusage: deno task grade <submissions dir> --out <dir> [--jobs N] [--timeout S] [--memory MB]`,
    );
    Deno.exit(2);
  };
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
  const jobs = int("jobs", values.jobs, navigator.hardwareConcurrency ?? 2);
  if (!await Deno.stat(dir!).then((s) => s.isDirectory, () => false)) bad(`${dir} is not a folder`);
  const t0 = performance.now();
  const { results, graded, skipped } = await gradeAll(dir!, values.out!, {
    jobs,
    limits,
    onProgress: (d, total, s) => {
      const width = 30, filled = Math.round((d / total) * width);
      Deno.stderr.writeSync(new TextEncoder().encode(
        `\r${"█".repeat(filled).padEnd(width, "░")} ${d}/${total} submissions (${s} unchanged)`,
      ));
    },
  });
  const secs = (performance.now() - t0) / 1000;
  console.error("");
  console.log(
    `graded ${graded} submission(s), ${skipped} unchanged, in ${secs.toFixed(1)} s with ${jobs} job(s)` +
      (graded ? ` (${(graded / secs * 60).toFixed(1)} per minute)` : ""),
  );
  console.log(
    `wrote ${join(values.out!, "gradebook.csv")} and ${new Set(results.map((r) => r.student)).size} feedback file(s)`,
  );
}
