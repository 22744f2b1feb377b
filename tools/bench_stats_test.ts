import { assert, assertEquals, assertThrows } from "../lib/_testing.ts";
import { crossover, type Entry, exponent, minMedian } from "./bench_stats.ts";

const entry = (kernel: string, T: number, ms: number): Entry => ({
  kernel,
  backend: "test",
  T,
  d: 64,
  ms,
  gflops: 0,
  peakBytes: null,
});

Deno.test("exponent() recovers the power of a power law", () => {
  for (const p of [1, 2, 1.5]) {
    const slope = exponent([256, 1024, 4096, 16384].map((T) => ({ T, ms: 3e-4 * T ** p })));
    assert(Math.abs(slope - p) < 1e-9, `expected ${p}, got ${slope}`);
  }
});

Deno.test("crossover() interpolates where linear (∝ T) meets exact (∝ T²) on log-log axes", () => {
  // linear: 100·T ms, exact: T² ms → equal at T = 100.
  const Ts = [16, 32, 64, 128, 256];
  const linear = Ts.map((T) => entry("linear", T, 100 * T)), exact = Ts.map((T) => entry("flash", T, T * T));
  const { T, note } = crossover(linear, exact);
  assertEquals(T, 100);
  assertEquals(note, "between T=64 and T=128");
  assertEquals(crossover(linear.slice(0, 3), exact.slice(0, 3)).T, null);
  assert(crossover(linear.slice(0, 3), exact.slice(0, 3)).note.includes("slower at every T measured (up to 64)"));
  assert(crossover(linear.slice(3), exact.slice(3)).note.includes("already faster at the smallest T measured (128)"));
});

Deno.test("minMedian() gives the fastest and the middle timing, averaging the two middle ones", () => {
  assertEquals(minMedian([5, 1, 3]), { min: 1, median: 3 });
  assertEquals(minMedian([4, 1, 3, 2]), { min: 1, median: 2.5 });
  assertThrows(() => minMedian([]), RangeError, "samples must not be empty");
});
