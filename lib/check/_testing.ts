/**
 * Helpers for the planted-bug tests of every lesson's checks (lib/check/lessonNN_test.ts). Private to lib/check/.
 * @module
 */
import { assert, assertEquals } from "../_testing.ts";
import { type CheckResult, type Exercise, runCheck } from "./core.ts";

type Failure = NonNullable<CheckResult["failure"]>;

/** Runs `fn` through exercise `name` of `exercises`, asserts that it fails, and returns the failure. */
export async function failureOf(
  exercises: Record<string, Exercise<never>>,
  name: string,
  fn: unknown,
): Promise<Failure> {
  const r = await runCheck(exercises[name], fn);
  assertEquals(r.status, "failed", `expected the planted bug to fail ${name}`);
  return r.failure!;
}

/** Like {@linkcode failureOf}, and asserts that the diagnosis names `cause` (`what` labels the planted bug). */
export async function expectDiagnosis(
  exercises: Record<string, Exercise<never>>,
  name: string,
  fn: unknown,
  cause: string,
  what = cause,
): Promise<Failure> {
  const f = await failureOf(exercises, name, fn);
  assert(
    f.diagnosis?.includes(cause),
    `${name} (${what}): expected a diagnosis containing "${cause}", got ${JSON.stringify(f)}`,
  );
  return f;
}
