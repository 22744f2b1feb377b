/**
 * Helpers for the planted-bug tests of every lesson's checks (lib/check/lessonNN_test.ts). Private to lib/check/.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "../_testing.ts";
import { type Case, type CheckResult, type Exercise, type PriorResults, runCheck } from "./core.ts";

type Failure = NonNullable<CheckResult["failure"]>;

/** Runs `fn` through exercise `name`, asserts that it passes with full points and leaks no tensor. */
export async function expectPass<E extends Record<string, Exercise>>(
  exercises: E,
  name: keyof E & string,
  fn: unknown,
  what: string = name,
): Promise<void> {
  const before = tf.memory().numTensors;
  const r = await runCheck(exercises[name], fn);
  assertEquals(
    [r.status, r.points],
    ["passed", exercises[name].points],
    `${what}: expected full points, got ${JSON.stringify(r.failure ?? r.note ?? r.status)}`,
  );
  assertEquals(tf.memory().numTensors, before, `${what}: the check leaked tensors`);
}

/** Runs `fn` through exercise `name`, asserts that it fails, and returns the failure. */
export async function failureOf<E extends Record<string, Exercise>>(
  exercises: E,
  name: keyof E & string,
  fn: unknown,
  prior?: PriorResults,
): Promise<Failure & { note?: string }> {
  const r = await runCheck(exercises[name], fn, prior);
  assertEquals(
    r.status,
    "failed",
    `expected the planted bug to fail ${name}, got ${r.status} (${String(fn).slice(0, 300)})`,
  );
  return { ...r.failure!, note: r.note };
}

/** Like {@linkcode failureOf}, and asserts that the diagnosis names `cause` (`what` labels the planted bug). */
export async function expectDiagnosis<E extends Record<string, Exercise>>(
  exercises: E,
  name: keyof E & string,
  fn: unknown,
  cause: string,
  what: string = cause,
): Promise<Failure> {
  const f = await failureOf(exercises, name, fn);
  assert(
    f.diagnosis?.includes(cause),
    `${name} (${what}): expected a diagnosis containing "${cause}", got ${JSON.stringify(f)}`,
  );
  assertCausePhrasing(f.diagnosis!);
  return f;
}

/** Asserts that a cause reads "you did X; the rule …" (issue 10, class 12). */
export function assertCausePhrasing(cause: string): void {
  assert(/^(you|your) [^;]+; /.test(cause), `a cause must read "you did X; the rule is Y", got: ${cause}`);
}

/** Runs `fn` through an exercise's hidden cases only (as the grader does once the visible ones pass). */
export function runHidden(exercise: Exercise, cases: Case<unknown[]>[] | undefined, fn: unknown): Promise<CheckResult> {
  return runCheck({ ...exercise, cases: cases ?? [], after: undefined }, fn);
}
