/**
 * Test helpers on top of `node:assert`, and the plain-loop twins shared by kernel tests (Deno's std library comes from JSR,
 * which the course's machines cannot reach). Private to lib/ and tools/.
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";

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

/**
 * The slow twin of every exact attention kernel: plain loops in Float64 over one [T, D] slice.
 * `keep(i, j)` says whether query i may see key j; a row with no visible key gets zero weights.
 */
export function naiveAttention(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  T: number,
  S: number,
  D: number,
  Dv: number,
  keep: (i: number, j: number) => boolean,
  scale = 1 / Math.sqrt(D),
) {
  const out = new Float64Array(T * Dv), w = new Float64Array(T * S);
  for (let i = 0; i < T; i++) {
    let max = -Infinity;
    const s = new Float64Array(S);
    for (let j = 0; j < S; j++) {
      let dot = 0;
      for (let c = 0; c < D; c++) dot += q[i * D + c] * k[j * D + c];
      s[j] = keep(i, j) ? dot * scale : -Infinity;
      if (s[j] > max || Number.isNaN(s[j])) max = Number.isNaN(max) ? max : s[j];
    }
    let sum = 0;
    for (let j = 0; j < S; j++) sum += s[j] = max === -Infinity ? 0 : Math.exp(s[j] - max);
    for (let j = 0; j < S; j++) w[i * S + j] = sum === 0 ? 0 : s[j] / sum;
    for (let j = 0; j < S; j++) for (let c = 0; c < Dv; c++) out[i * Dv + c] += w[i * S + j] * v[j * Dv + c];
  }
  return { out, w };
}

/** The largest |a[i] − b[i]| (the arrays must have the same length). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertEquals(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A float32 [n, d] tensor from Float64 values (what the kernels get; the twins keep Float64). */
export function f32(values: Float64Array, shape: [number, number]): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(values), shape);
}

/**
 * The backends the kernel tests loop over: `ATTN_TEST_BACKENDS` (comma-separated), by default cpu and wasm.
 * `deno task test` runs the kernel tests a second time on the native and tensorflow backends this way.
 */
export const TEST_BACKENDS: readonly ("cpu" | "wasm" | "native" | "tensorflow")[] = testBackends();

function testBackends(): ("cpu" | "wasm" | "native" | "tensorflow")[] {
  const value = Deno.env.get("ATTN_TEST_BACKENDS")?.trim();
  if (!value) return ["cpu", "wasm"];
  const names = value.split(",").map((s) => s.trim());
  for (const name of names) {
    if (!["cpu", "wasm", "native", "tensorflow"].includes(name)) {
      throw new RangeError(
        `Cannot run the tests: ATTN_TEST_BACKENDS must list cpu, wasm, native or tensorflow, got "${name}"`,
      );
    }
  }
  return names as ("cpu" | "wasm" | "native" | "tensorflow")[];
}
