/**
 * Test helpers on top of `node:assert` (Deno's std library comes from JSR,
 * which the course's machines cannot reach). Private to lib/ and tools/.
 * @module
 */
import assert from "node:assert/strict";

export { assert };

/** Deep, strict equality. */
export const assertEquals: <T>(actual: unknown, expected: T, message?: string) => asserts actual is T =
  assert.deepStrictEqual;

/** Deep, strict inequality. */
export const assertNotEqual: (actual: unknown, expected: unknown, message?: string) => void = assert.notDeepStrictEqual;

// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => Error;

function expectError(err: unknown, ErrorClass: ErrorClass, includes: string): Error {
  assert.ok(err instanceof ErrorClass, `expected ${ErrorClass.name}, got ${err}`);
  assert.ok(err.message.includes(includes), `expected the message to contain\n  ${includes}\ngot\n  ${err.message}`);
  return err;
}

/** Asserts that `fn` throws an instance of `ErrorClass` whose message contains `includes`. */
export function assertThrows(fn: () => unknown, ErrorClass: ErrorClass, includes: string): Error {
  try {
    fn();
  } catch (err) {
    return expectError(err, ErrorClass, includes);
  }
  throw new assert.AssertionError({
    message: `expected ${ErrorClass.name} containing "${includes}", nothing was thrown`,
  });
}

/** Like {@linkcode assertThrows} for a promise. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  ErrorClass: ErrorClass,
  includes: string,
): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return expectError(err, ErrorClass, includes);
  }
  throw new assert.AssertionError({
    message: `expected ${ErrorClass.name} containing "${includes}", nothing was rejected`,
  });
}
