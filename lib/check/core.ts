/**
 * The checker behind every exercise: runs a student's function on seeded
 * cases and reports one clear line — pass with points, or the first failing
 * case with expected vs actual and, when the failure matches a known
 * misconception, its likely cause. It never crashes on whatever the function
 * does (throws, returns undefined, a Promise that never settles, a disposed
 * tensor, NaN …) and disposes every tensor a case makes.
 *
 * Checks test invariants and locked expectations (numbers stored in the case
 * tables), so the student bundle ships no reference solution.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type Displayable, displayable, show } from "../display/mod.ts";

/** Thrown by exercise stubs until the student writes the function. */
export class NotImplementedError extends Error {
  override name = "NotImplementedError";
  constructor(what = "this function") {
    super(`${what} is not implemented yet: replace the \`throw\` with your code`);
  }
}

/** The MIME type of the machine-readable check result in a notebook's outputs. */
export const CHECK_MIME = "application/vnd.attention-course.check+json";

/** The outcome of one case. */
export type Verdict =
  | { ok: true }
  | { ok: false; message: string; expected?: string; actual?: string; diagnosis?: string };

/** One seeded case: fresh arguments each run, and a verdict on the result. */
export interface Case<A extends unknown[]> {
  /** Shown when the case fails, e.g. "T=4, d=8". */
  label: string;
  /** Makes the arguments (called once per run, inside a tensor scope). */
  args: () => A;
  /** Judges what the function returned. May throw: a throw counts as a failure. */
  verify: (actual: unknown, args: A) => Verdict | Promise<Verdict>;
}

/** An exercise: an id, points, and its cases in order. */
export interface Exercise<A extends unknown[]> {
  /** Stable id: lesson number and function name, e.g. "01.denseParamCount". */
  id: string;
  /** The function's name, as the student writes it. */
  name: string;
  points: number;
  cases: Case<A>[];
  /** Runs after all cases pass, e.g. to check that invalid input throws. */
  after?: (fn: (...args: A) => unknown) => Verdict | Promise<Verdict>;
}

/** What a check found; also emitted as {@linkcode CHECK_MIME}. */
export interface CheckResult {
  exercise: string;
  name: string;
  status: "passed" | "failed" | "not-implemented";
  points: number;
  maxPoints: number;
  casesPassed: number;
  cases: number;
  /** The first failing case. */
  failure?: { case: string; message: string; expected?: string; actual?: string; diagnosis?: string };
}

/** How long a Promise returned by the student's function may take to settle. */
const PROMISE_TIMEOUT_MS = 5_000;

/**
 * Runs an exercise's cases against `fn` without displaying anything.
 *
 * @param exercise The exercise and its cases.
 * @param fn The student's function.
 * @returns The result; never throws because of `fn`.
 */
export async function runCheck<A extends unknown[]>(exercise: Exercise<A>, fn: unknown): Promise<CheckResult> {
  const base = { exercise: exercise.id, name: exercise.name, maxPoints: exercise.points, cases: exercise.cases.length };
  const fail = (casesPassed: number, failure: CheckResult["failure"]): CheckResult => ({
    ...base,
    status: "failed",
    points: 0,
    casesPassed,
    failure,
  });
  if (typeof fn !== "function") {
    return fail(0, {
      case: "(none)",
      message: `expected the function ${exercise.name} itself, got ${describe(fn)}` +
        (fn === undefined ? "" : ` — pass the function, e.g. check(${exercise.name}), not its result`),
    });
  }
  let passed = 0;
  for (const c of exercise.cases) {
    const verdict = await runCase(c, fn as (...args: A) => unknown);
    if (verdict === "not-implemented") return { ...base, status: "not-implemented", points: 0, casesPassed: 0 };
    if (!verdict.ok) {
      const { ok: _ok, ...rest } = verdict;
      return fail(passed, { case: c.label, ...rest });
    }
    passed++;
  }
  if (exercise.after) {
    const verdict = await safely(() => exercise.after!(fn as (...args: A) => unknown));
    if (!verdict.ok) {
      const { ok: _ok, ...rest } = verdict;
      return fail(passed, { case: "input validation", ...rest });
    }
  }
  return { ...base, status: "passed", points: exercise.points, casesPassed: passed };
}

async function runCase<A extends unknown[]>(
  c: Case<A>,
  fn: (...args: A) => unknown,
): Promise<Verdict | "not-implemented"> {
  tf.engine().startScope();
  try {
    const args = c.args();
    const snapshots = args.map(snapshot);
    let actual: unknown;
    try {
      actual = fn(...args);
      if (isThenable(actual)) actual = await withTimeout(actual);
    } catch (err) {
      if (isNotImplemented(err)) return "not-implemented";
      if (err instanceof PromiseTimeout) {
        return { ok: false, message: `returned a Promise that did not settle within ${PROMISE_TIMEOUT_MS / 1000} s` };
      }
      return { ok: false, message: `threw ${errorLine(err)}` };
    }
    const changed = args.findIndex((a, i) => snapshots[i] !== undefined && snapshot(a) !== snapshots[i]);
    if (changed >= 0) {
      return {
        ok: false,
        message: `your function changed its input (argument ${
          changed + 1
        }); compute a new value instead of modifying it`,
        diagnosis: "inputs mutated: the caller's data (e.g. attention weights) would be corrupted",
      };
    }
    return await safely(() => c.verify(actual, args));
  } finally {
    tf.engine().endScope();
  }
}

/** A fingerprint of a tensor or array argument, to detect mutation; undefined for other values. */
function snapshot(x: unknown): string | undefined {
  try {
    if (x instanceof tf.Tensor) {
      return x.isDisposed ? "disposed" : `${x.shape}|${Array.from(x.dataSync() as ArrayLike<number>).join(",")}`;
    }
    if (Array.isArray(x) || ArrayBuffer.isView(x)) {
      return JSON.stringify(x, (_k, v) => ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v);
    }
  } catch {
    return "unreadable";
  }
  return undefined;
}

async function safely(judge: () => Verdict | Promise<Verdict>): Promise<Verdict> {
  try {
    return await judge();
  } catch (err) {
    if (isNotImplemented(err)) return { ok: false, message: "calls a function that is not implemented yet" };
    const text = errorLine(err);
    const hint = /disposed/i.test(text)
      ? " — did you return a tensor that was disposed (e.g. made inside tf.tidy and not returned from it)?"
      : "";
    return { ok: false, message: `the result could not be read: ${text}${hint}` };
  }
}

function isNotImplemented(err: unknown): boolean {
  return err instanceof NotImplementedError || (err instanceof Error && err.name === "NotImplementedError");
}

/** A student's Promise that did not settle in time (the grader's replay throws it too). */
export class PromiseTimeout extends Error {
  override name = "PromiseTimeout";
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === "object" || typeof x === "function") &&
    typeof (x as { then?: unknown }).then === "function";
}

function withTimeout<T>(p: PromiseLike<T>): Promise<T> {
  let timer: number | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PromiseTimeout()), PROMISE_TIMEOUT_MS) as unknown as number;
  });
  return Promise.race([Promise.resolve(p), timeout]).finally(() => clearTimeout(timer));
}

function errorLine(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message.split("\n")[0]}`;
  return `a non-Error value: ${describe(err)}`;
}

/** A short, safe description of any value, for messages. */
export function describe(x: unknown): string {
  try {
    if (x === undefined) return "undefined (did you forget to return?)";
    if (x === null) return "null";
    if (typeof x === "number" || typeof x === "boolean") return String(x);
    if (typeof x === "bigint") return `${x}n`;
    if (typeof x === "string") return JSON.stringify(x.length > 40 ? x.slice(0, 40) + "…" : x);
    if (typeof x === "function") return `a function (${x.name || "anonymous"})`;
    if (x instanceof tf.Tensor) return `a ${x.dtype} tensor of shape [${x.shape}]${x.isDisposed ? " (disposed)" : ""}`;
    if (Array.isArray(x)) return `an array of length ${x.length}`;
    if (ArrayBuffer.isView(x)) return `a ${x.constructor.name} of length ${(x as unknown as ArrayLike<number>).length}`;
    if (isThenable(x)) return "a Promise";
    // A value the grader could not carry out of its sandbox, described there.
    if (
      typeof (x as { description?: unknown }).description === "string" && (x as object).constructor?.name === "Opaque"
    ) {
      return (x as { description: string }).description;
    }
    return `an object (${Object.prototype.toString.call(x).slice(8, -1)})`;
  } catch {
    return "a value that cannot be inspected";
  }
}

/** Runs the check, displays its one-line verdict (and the machine-readable result), and returns nothing. */
export async function check<A extends unknown[]>(exercise: Exercise<A>, fn: unknown): Promise<void> {
  await show(renderResult(await runCheck(exercise, fn)));
}

/** The display bundle of a result: plain text, HTML, and {@linkcode CHECK_MIME}. */
export function renderResult(r: CheckResult): Displayable {
  const lines: string[] = [];
  if (r.status === "passed") {
    lines.push(`✔ ${r.name}: passed ${r.casesPassed}/${r.cases} cases — ${r.points}/${r.maxPoints} points`);
  } else if (r.status === "not-implemented") {
    lines.push(`… ${r.name}: not implemented yet — 0/${r.maxPoints} points (replace the \`throw\` with your code)`);
  } else {
    const f = r.failure!;
    // The input-validation check runs after every case passed: it is not one of the numbered cases.
    const where = r.casesPassed < r.cases
      ? `case ${r.casesPassed + 1} of ${r.cases} (${f.case})`
      : `${f.case}, after passing all ${r.cases} cases`;
    lines.push(`✘ ${r.name}: failed on ${where} — 0/${r.maxPoints} points`);
    lines.push(`  ${f.message}`);
    if (f.expected !== undefined) lines.push(`  expected: ${f.expected}`);
    if (f.actual !== undefined) lines.push(`  actual:   ${f.actual}`);
    if (f.diagnosis) lines.push(`  likely cause: ${f.diagnosis}`);
  }
  const colour = r.status === "passed" ? "#1a7f37" : r.status === "failed" ? "#cf222e" : "#9a6700";
  const html = `<pre style="border-left:4px solid ${colour};padding:4px 8px;margin:0;white-space:pre-wrap">${
    lines.map(escape).join("\n")
  }</pre>`;
  return displayable({ "text/plain": lines.join("\n"), "text/html": html, [CHECK_MIME]: r });
}

function escape(s: string): string {
  return s.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!);
}
