/**
 * The checker behind every exercise: runs a student's function on seeded
 * cases and reports a verdict — one line when it passes, or the first failing
 * case with expected vs actual and, when the failure matches a known
 * misconception, its likely cause ("you did X; the rule is Y"). It never
 * crashes on whatever the function does (throws, returns undefined, a Promise
 * that never settles, a disposed tensor, NaN …) and disposes every tensor a
 * case makes.
 *
 * Checks test invariants and locked expectations (numbers stored in the
 * generated case tables lib/check/lessonNN_cases.ts), so the student bundle
 * ships no reference solution. How to add an exercise: lib/check/README.md.
 *
 * The grader (tools/grading/) runs {@linkcode runCheck} twice: in its sandbox
 * on the student's function, recording every call, and outside on a replayer
 * that answers the n-th call with the n-th record. So a check must call the
 * student's function in the same order every time: no case may branch on
 * timing, on the backend, or on anything but the function's answers.
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
  verify(actual: unknown, args: A): Verdict | Promise<Verdict>;
}

/** A thrown message a student's function is known to produce, and what it says about the mistake. */
export interface ErrorCause {
  /** Matched against `"<name>: <message>"` of the thrown error. */
  pattern: RegExp;
  /** The likely cause, phrased "you did X; the rule is Y" (a function gets the match and the case's arguments). */
  cause: string | ((match: RegExpExecArray, args: readonly unknown[]) => string | undefined);
}

/**
 * An exercise: an id, points, and its cases in order. `A` is the student's argument list (a named tuple, e.g.
 * `[T: number, d: number]`), `R` what the function may return; together they type the notebook's check call.
 */
export interface Exercise<A extends unknown[] = unknown[], R = unknown> {
  /** Stable id: lesson number and function name, e.g. "01.denseParamCount". */
  id: string;
  /** The function's name, as the student writes it. */
  name: string;
  /** Its number in the exercise notebook (1, 2, …), as the notebook's headings say "Exercise 2". */
  number: number;
  points: number;
  cases: Case<A>[];
  /** Runs after all cases pass, e.g. to check that invalid input throws. */
  after?(fn: (...args: A) => unknown): Verdict | Promise<Verdict>;
  /** Thrown messages of this exercise that point to a mistake (checked before the course-wide ones). */
  errors?: ErrorCause[];
  /** Earlier exercises of the lesson (their function names) whose functions this one may call. */
  uses?: string[];
  /** Type only: what the student's function may return (types the check call; never set). */
  readonly returns?: R;
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
  /** When the function may call another exercise's function that is not done: which, and what to do. */
  note?: string;
}

/** Earlier results of the same notebook or submission, by function name (for {@linkcode Exercise.uses}). */
export type PriorResults = ReadonlyMap<string, CheckResult>;

/** How long a Promise returned by the student's function may take to settle. */
export const PROMISE_TIMEOUT_MS = 5_000;

/**
 * Runs an exercise's cases against `fn` without displaying anything.
 *
 * @param exercise The exercise and its cases.
 * @param fn The student's function.
 * @param prior Earlier results of the same notebook, to name an unfinished exercise this one may depend on.
 * @param source The function's source text, where `fn` is not the student's own function (the grader's replayer):
 *   whether it calls an earlier exercise's function decides who is charged for a failure (see `withNote`).
 * @returns The result; never throws because of `fn`.
 */
export async function runCheck<A extends unknown[]>(
  exercise: Exercise<A>,
  fn: unknown,
  prior: PriorResults = new Map(),
  source?: string,
): Promise<CheckResult> {
  const base = { exercise: exercise.id, name: exercise.name, maxPoints: exercise.points, cases: exercise.cases.length };
  const text = source ?? (typeof fn === "function" ? sourceText(fn) : undefined);
  const fail = (casesPassed: number, failure: CheckResult["failure"]): CheckResult =>
    withNote({ ...base, status: "failed", points: 0, casesPassed, failure }, exercise, prior, text);
  if (typeof fn !== "function") {
    return fail(0, {
      case: "(none)",
      message: `expected the function ${exercise.name} itself, got ${describe(fn)}` +
        (fn === undefined ? "" : ` — pass the function, e.g. check(${exercise.name}), not its result`),
    });
  }
  let passed = 0;
  for (const c of exercise.cases) {
    const verdict = await runCase(exercise, c, fn as (...args: A) => unknown);
    if (typeof verdict === "string") {
      // A stub threw NotImplementedError: this exercise's own, or that of a function it calls.
      if (verdict === exercise.name || !verdict) {
        return { ...base, status: "not-implemented", points: 0, casesPassed: 0 };
      }
      return {
        ...base,
        status: "not-implemented",
        points: 0,
        casesPassed: 0,
        note: `${exercise.name} calls ${sibling(exercise, verdict)}, which is not implemented yet: finish that ` +
          "one first",
      };
    }
    if (!verdict.ok) {
      const { ok: _ok, ...rest } = verdict;
      return fail(passed, { case: c.label, ...rest });
    }
    passed++;
  }
  if (exercise.after) {
    const verdict = await safely(exercise, () => exercise.after!(fn as (...args: A) => unknown));
    if (!verdict.ok) {
      const { ok: _ok, ...rest } = verdict;
      return fail(passed, { case: "input validation", ...rest });
    }
  }
  return { ...base, status: "passed", points: exercise.points, casesPassed: passed };
}

/** A function's source text, or undefined where it cannot be read. */
function sourceText(fn: unknown): string | undefined {
  try {
    return Function.prototype.toString.call(fn);
  } catch {
    return undefined;
  }
}

/**
 * Whether a function's source refers to `name` (a call, or the function passed on), or undefined when the source
 * is unknown. Comments and strings are not told apart: a mention there counts.
 *
 * @param source The function's source text, or undefined.
 * @param name Another function's name.
 */
export function refersTo(source: string | undefined, name: string): boolean | undefined {
  if (source === undefined) return undefined;
  // Not part of a longer name, not a property (x.name, x?.name); a spread (...name) counts.
  return new RegExp(`(?<![\\w$])(?<![^.]\\.)${name.replace(/\$/g, "\\$")}(?![\\w$])`).test(source);
}

/**
 * When the exercise failed and a function it may call has not passed its own check. A function that calls one
 * that fails its own check is not charged again: the mistake is charged once, there, and this exercise keeps its
 * points — at most as many as the other one lost, so that breaking the other never pays — its status stays
 * "failed" and the note says it could not be judged. One whose source does not refer to the other is judged on
 * its own; where the source is unknown, the note says both possibilities.
 */
function withNote<A extends unknown[]>(
  result: CheckResult,
  exercise: Exercise<A>,
  prior: PriorResults,
  source: string | undefined,
): CheckResult {
  for (const name of exercise.uses ?? []) {
    const p = prior.get(name);
    if (!p || p.status === "passed") continue;
    const calls = refersTo(source, name);
    if (calls === false) continue;
    const why = p.status === "not-implemented"
      ? "is not implemented yet"
      : `fails its own check (${p.failure?.message})`;
    const local = result.failure?.diagnosis;
    if (calls && p.status === "failed") {
      const kept = Math.min(exercise.points, p.maxPoints - p.points);
      const of = kept === exercise.points ? "its" : `${kept} of its`;
      return {
        ...result,
        points: kept,
        failure: result.failure && { ...result.failure, diagnosis: undefined },
        note: `${exercise.name} calls ${sibling(exercise, name)}, which ${why}: that mistake is named and charged ` +
          `there, once, so ${exercise.name} keeps ${of} ${exercise.points} point${exercise.points === 1 ? "" : "s"} ` +
          `for now${kept < exercise.points ? ` (no more than ${name} lost)` : ""} — fix ${name}, then run this ` +
          `check again to see whether ${exercise.name} itself is right` +
          (local ? ` (if the failure is its own: ${local})` : ""),
      };
    }
    return {
      ...result,
      failure: result.failure && { ...result.failure, diagnosis: undefined },
      note: `${exercise.name} may call ${sibling(exercise, name)}, which ${why}: if it does, fix that one first — ` +
        `its mistake is named and charged there${local ? `; if it does not: ${local}` : ""}`,
    };
  }
  return result;
}

/** Every exercise defined with {@linkcode lesson}, by id ("04.softmaxWithTemperature"). */
const registry = new Map<string, Exercise>();

/** "softmaxWithTemperature (exercise 2)": another function of the same lesson, with its exercise number. */
function sibling<A extends unknown[]>(exercise: Exercise<A>, name: string): string {
  const other = registry.get(`${exercise.id.split(".")[0]}.${name}`);
  return other ? `${name} (exercise ${other.number})` : name;
}

/** An exercise as written in its check module: id, name and number come from {@linkcode lesson}. */
export type ExerciseSpec<A extends unknown[], R = unknown> = Omit<Exercise<A, R>, "id" | "name" | "number">;

/**
 * A lesson's exercises, in notebook order: each spec gets its id (`"01.denseParamCount"`), name (its key) and
 * number (its position, from 1).
 *
 * @param lessonNumber The lesson, two digits ("01").
 * @param specs The exercises by function name, in the order of the exercise notebook.
 * @returns The exercises, for the check calls, the tests and the grader.
 */
export function lesson<E extends Record<string, ExerciseSpec<unknown[]>>>(
  lessonNumber: string,
  specs: E,
): { [K in keyof E]: E[K] & { id: string; name: string; number: number } } {
  const out = Object.fromEntries(
    Object.entries(specs).map(([name, spec], i) => {
      const exercise = { ...spec, id: `${lessonNumber}.${name}`, name, number: i + 1 } as Exercise;
      registry.set(exercise.id, exercise);
      return [name, exercise];
    }),
  );
  return out as { [K in keyof E]: E[K] & { id: string; name: string; number: number } };
}

/** Runs one case; a string is the name of the function whose stub threw NotImplementedError. */
async function runCase<A extends unknown[]>(
  exercise: Exercise<A>,
  c: Case<A>,
  fn: (...args: A) => unknown,
): Promise<Verdict | string> {
  tf.engine().startScope();
  try {
    const args = c.args();
    const snapshots = args.map(snapshot);
    let actual: unknown;
    try {
      actual = fn(...args);
      if (isThenable(actual)) actual = await withTimeout(actual);
    } catch (err) {
      const stub = notImplemented(err);
      if (stub !== undefined) return stub;
      if (isTimeout(err)) {
        return { ok: false, message: `returned a Promise that did not settle within ${PROMISE_TIMEOUT_MS / 1000} s` };
      }
      const line = errorLine(err);
      return { ok: false, message: `threw ${line}`, diagnosis: causeOfError(exercise, line, args) };
    }
    const changed = args.findIndex((a, i) => snapshots[i] !== undefined && snapshot(a) !== snapshots[i]);
    if (changed >= 0) {
      return {
        ok: false,
        message: `your function changed its input (argument ${changed + 1})`,
        diagnosis: "you modified an argument in place; the rule is to compute a new value and leave the caller's " +
          "data as it was (the caller may still need it, e.g. the attention weights)",
      };
    }
    return await safely(exercise, () => c.verify(actual, args));
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
      return JSON.stringify(x, (_k, v) => snapshotValue(v));
    }
  } catch {
    return "unreadable";
  }
  return undefined;
}

function snapshotValue(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, String);
  if (v instanceof tf.Tensor) {
    return v.isDisposed ? "disposed" : `${v.shape}|${Array.from(v.dataSync() as Float32Array)}`;
  }
  if (typeof v === "number" && !Number.isFinite(v)) return String(v); // JSON would write null for ±∞ and NaN
  if (typeof v === "bigint") return `${v}n`;
  return v;
}

async function safely<A extends unknown[]>(
  exercise: Exercise<A>,
  judge: () => Verdict | Promise<Verdict>,
): Promise<Verdict> {
  try {
    return await judge();
  } catch (err) {
    const stub = notImplemented(err);
    if (stub !== undefined) {
      return { ok: false, message: `calls ${stub || "a function"}, which is not implemented yet` };
    }
    const text = errorLine(err);
    const hint = /disposed/i.test(text)
      ? " — did you return a tensor that was disposed (e.g. made inside tf.tidy and not returned from it)?"
      : "";
    return {
      ok: false,
      message: `the result could not be read: ${text}${hint}`,
      diagnosis: causeOfError(exercise, text, []),
    };
  }
}

/** The function named by a NotImplementedError ("" when unnamed), or undefined for any other thrown value. */
function notImplemented(err: unknown): string | undefined {
  try {
    const isStub = err instanceof NotImplementedError || (err instanceof Error && err.name === "NotImplementedError");
    if (!isStub) return undefined;
    const what = /^(\S+) is not implemented yet/.exec(String((err as Error).message))?.[1];
    return what === undefined || what === "this" ? "" : what;
  } catch {
    return undefined; // a thrown value that cannot even be inspected
  }
}

function isTimeout(err: unknown): boolean {
  try {
    return err instanceof PromiseTimeout;
  } catch {
    return false;
  }
}

/** Course-wide thrown messages (TensorFlow.js's and lib's) that point to a mistake, after each exercise's own. */
export const KNOWN_ERRORS: ErrorCause[] = [
  {
    pattern: /Softmax along a non-last dimension is not yet supported/,
    cause: "you took the softmax along axis 0 (down the columns); the rule is one query's weights per row, " +
      "so the softmax runs along the last axis: tf.softmax(E), which TensorFlow.js also requires",
  },
  {
    pattern: /Kernel '(\w+)' not registered for backend '(\w+)'/,
    cause: (m) =>
      `you called an op whose kernel ${m[1]} the ${m[2]} backend does not have; the rule for this course: ` +
      `write it with matMul, transpose, mul and sum (or call initBackend({ backend: "cpu" }))`,
  },
  {
    pattern: /(\S+)\.(\w+) is not a function/,
    cause: (m) =>
      m[2] in tf.Tensor.prototype
        ? `you called .${m[2]}() on ${m[1]}, which is not a tf.Tensor (a plain array?); the rule: tensor methods ` +
          `need a tensor — make one with tf.tensor(${m[1]}), or use plain-array code (Math, loops, map)`
        : undefined,
  },
  {
    pattern: /Tensor is disposed/,
    cause: "you used a tensor after it was disposed (made inside an earlier tf.tidy, or disposed by hand); the " +
      "rule: return from tf.tidy every tensor you still need",
  },
  {
    pattern: /Maximum call stack size exceeded/,
    cause: "your function calls itself without end; the rule: a recursion needs a base case it always reaches",
  },
];

/** The cause a thrown message points to, from the exercise's own list, then the course-wide one. */
function causeOfError<A extends unknown[]>(
  exercise: Exercise<A>,
  line: string,
  args: readonly unknown[],
): string | undefined {
  for (const { pattern, cause } of [...(exercise.errors ?? []), ...KNOWN_ERRORS]) {
    const m = pattern.exec(line);
    if (!m) continue;
    let text: string | undefined;
    try {
      text = typeof cause === "string" ? cause : cause(m, args);
    } catch {
      text = undefined;
    }
    if (text) return text;
  }
  return undefined;
}

/**
 * A value known only by its description, e.g. "a function (f)": the grader's stand-in for a value its sandbox
 * could not carry out (tools/grading/protocol.ts). {@linkcode describe} shows the description.
 */
export class OpaqueValue {
  constructor(readonly description: string) {}
}

/** A student's Promise that did not settle in time (the grader's replay throws it too). */
export class PromiseTimeout extends Error {
  override name = "PromiseTimeout";
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  try {
    return x !== null && (typeof x === "object" || typeof x === "function") &&
      typeof (x as { then?: unknown }).then === "function";
  } catch {
    return false; // a Proxy that throws on every property
  }
}

function withTimeout<T>(p: PromiseLike<T>): Promise<T> {
  let timer: number | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PromiseTimeout()), PROMISE_TIMEOUT_MS) as unknown as number;
  });
  return Promise.race([Promise.resolve(p), timeout]).finally(() => clearTimeout(timer));
}

function errorLine(err: unknown): string {
  try {
    if (err instanceof Error) return `${String(err.name)}: ${String(err.message).split("\n")[0]}`;
    return `a non-Error value: ${describe(err)}`;
  } catch {
    return "an error that cannot be read";
  }
}

/** A short, safe description of any value, for messages. */
export function describe(x: unknown): string {
  try {
    if (x === undefined) return "undefined (did you forget to return?)";
    if (x === null) return "null";
    if (typeof x === "number") {
      return Number.isInteger(x) && !Number.isSafeInteger(x) ? `${BigInt(x)} (a number beyond 2^53)` : String(x);
    }
    if (typeof x === "boolean") return String(x);
    if (typeof x === "bigint") return `${x}n`;
    if (typeof x === "string") return JSON.stringify(x.length > 40 ? x.slice(0, 40) + "…" : x);
    if (typeof x === "function") return `a function (${x.name || "anonymous"})`;
    if (x instanceof tf.Tensor) return `a ${x.dtype} tensor of shape [${x.shape}]${x.isDisposed ? " (disposed)" : ""}`;
    if (Array.isArray(x)) return `an array of length ${x.length}`;
    if (ArrayBuffer.isView(x)) return `a ${x.constructor.name} of length ${(x as unknown as ArrayLike<number>).length}`;
    if (isThenable(x)) return "a Promise";
    if (x instanceof OpaqueValue) return x.description;
    return `an object (${Object.prototype.toString.call(x).slice(8, -1)})`;
  } catch {
    return "a value that cannot be inspected";
  }
}

/** This notebook's results so far, by function name (a kernel runs one notebook). */
const session = new Map<string, CheckResult>();

/** Runs the check, displays its verdict (and the machine-readable result), and returns nothing. */
export async function check<A extends unknown[]>(exercise: Exercise<A>, fn: unknown): Promise<void> {
  const result = await runCheck(exercise, fn, session);
  session.set(exercise.name, result);
  await show(renderResult(result));
}

/** The check call of one exercise: typed by the student's signature. */
export type CheckCall<E> = E extends Exercise<infer A, infer R> ? (fn: (...args: A) => R) => Promise<void>
  : never;

/**
 * The typed check calls of a lesson's exercises, for its exercise notebook: `await check01.denseParamCount(fn)`.
 *
 * @param exercises The lesson's exercises by function name.
 * @returns One check call per exercise, each typed by the student's signature.
 */
export function checkCalls<E extends Record<string, Exercise>>(exercises: E): { [K in keyof E]: CheckCall<E[K]> } {
  return Object.fromEntries(
    Object.entries(exercises).map(([name, exercise]) => [name, (fn: unknown) => check(exercise, fn)]),
  ) as { [K in keyof E]: CheckCall<E[K]> };
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
    // Points kept on a failure: the mistake is another exercise's, charged there (the note says which).
    const kept = r.points > 0 ? " (not charged: see the note)" : "";
    lines.push(`✘ ${r.name}: failed on ${where} — ${r.points}/${r.maxPoints} points${kept}`);
    lines.push(`  ${f.message}`);
    if (f.expected !== undefined) lines.push(`  expected: ${f.expected}`);
    if (f.actual !== undefined) lines.push(`  actual:   ${f.actual}`);
    if (f.diagnosis) lines.push(`  likely cause: ${f.diagnosis}`);
  }
  if (r.note) lines.push(`  note: ${r.note}`);
  const colour = r.status === "passed" ? "#1a7f37" : r.status === "failed" ? "#cf222e" : "#9a6700";
  const html = `<pre style="border-left:4px solid ${colour};padding:4px 8px;margin:0;white-space:pre-wrap">${
    lines.map(escape).join("\n")
  }</pre>`;
  return displayable({ "text/plain": lines.join("\n"), "text/html": html, [CHECK_MIME]: r });
}

function escape(s: string): string {
  return s.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!);
}
