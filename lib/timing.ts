/**
 * Timing for lessons, robust on a busy machine: every variant is warmed up,
 * then the variants are run in interleaved rounds (each round runs each once,
 * in a rotating order), so that a burst of load from other programs hits all
 * of them alike; each is reported by its fastest round (the least disturbed)
 * and its median. Short calls are repeated within a sample so that each sample
 * lasts a few milliseconds.
 *
 * Where TensorFlow.js computes on this process's CPU (every backend but a
 * GPU's), the clock is this process's processor time, which other programs
 * competing for the processor do not inflate (wall time on a machine shared
 * four ways is four times longer); on a GPU it is wall time.
 *
 * Lessons lead with exact counts (FLOPs, bytes) and use these timings to show
 * what a machine makes of them.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { progress, type Series } from "./display/mod.ts";

/** What {@linkcode timeIt} measured. */
export interface Timing {
  /** Median milliseconds per call. */
  ms: number;
  /** Every measured call, in milliseconds. */
  samples: number[];
}

/** Runs `fn` once; tensors it returns are read back (so the backend has really finished) and disposed. */
async function runOnce(fn: () => unknown): Promise<void> {
  const out = await fn();
  if (out instanceof tf.Tensor) {
    await out.data();
    out.dispose();
  } else if (Array.isArray(out) && out.every((t) => t instanceof tf.Tensor)) {
    for (const t of out as tf.Tensor[]) await t.data();
    tf.dispose(out as tf.Tensor[]);
  }
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Times `fn` (sync or async) by its median over `repeats` runs after one
 * warm-up run. Tensors that `fn` returns are read back and disposed. To compare
 * variants, prefer {@linkcode timeInterleaved}, which is robust to other load.
 *
 * @param fn The work to time.
 * @param repeats Measured runs (default 5).
 * @returns The median and all samples.
 * @example
 * ```ts
 * import { timeIt } from "./timing.ts";
 * const { ms } = await timeIt(() => Array.from({ length: 1000 }, (_, i) => i * i), 3);
 * if (!(ms >= 0)) throw new Error("a time is never negative");
 * ```
 */
export async function timeIt(fn: () => unknown, repeats = 5): Promise<Timing> {
  if (!Number.isInteger(repeats) || repeats < 1) {
    throw new RangeError(`Cannot time: repeats must be a positive integer, got ${repeats}`);
  }
  const once = async () => {
    const t0 = performance.now();
    await runOnce(fn);
    return performance.now() - t0;
  };
  await once();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) samples.push(await once());
  return { ms: medianOf(samples), samples };
}

/** Which clock a timing used: this process's processor time (user + system) or wall time. */
export type Clock = "cpu" | "wall";

interface CpuUsage {
  user: number;
  system: number;
}
const cpuUsage = (globalThis as { process?: { cpuUsage?: () => CpuUsage } }).process?.cpuUsage;

/**
 * The clock {@linkcode timeInterleaved} uses by default: `"cpu"` when TensorFlow.js computes on this process's
 * CPU (every backend but a GPU's: cpu, wasm, native, tensorflow) and the runtime reports processor time, else
 * `"wall"`. A multi-threaded backend's processor time sums its threads: still proportional to the work done.
 *
 * @returns The clock.
 * @example
 * ```ts
 * import { defaultClock } from "./timing.ts";
 * if (!["cpu", "wall"].includes(defaultClock())) throw new Error("one of two clocks");
 * ```
 */
export function defaultClock(): Clock {
  return cpuUsage && !["webgpu", "webgl"].includes(tf.getBackend()) ? "cpu" : "wall";
}

/**
 * How to name a clock in a caption or an axis title.
 *
 * @param clock `"cpu"` or `"wall"`.
 * @returns `"processor time"` or `"wall time"`.
 * @example
 * ```ts
 * import { clockLabel } from "./timing.ts";
 * if (clockLabel("cpu") !== "processor time") throw new Error("the cpu clock measures processor time");
 * ```
 */
export function clockLabel(clock: Clock): string {
  return clock === "cpu" ? "processor time" : "wall time";
}

/** Milliseconds on `clock` since an arbitrary start. */
function now(clock: Clock): number {
  if (clock === "wall") return performance.now();
  const { user, system } = cpuUsage!.call((globalThis as { process?: unknown }).process);
  return (user + system) / 1000; // microseconds → ms
}

/** What {@linkcode timeInterleaved} measured for one variant. */
export interface CaseTiming {
  /** Milliseconds per call in the fastest round: the estimate least disturbed by other programs. */
  min: number;
  /** Median over the rounds, milliseconds per call. */
  median: number;
  /** Milliseconds per call in each round. */
  samples: number[];
  /** Calls per round (short calls are repeated so that a round's sample lasts about `minSampleMs`). */
  calls: number;
  /** The clock: processor time of this process, or wall time. */
  clock: Clock;
}

/** Options of {@linkcode timeInterleaved} and {@linkcode timeSweep}. */
export interface InterleaveOptions {
  /** Rounds; each runs every variant once (default 7). */
  rounds?: number;
  /** Repeat a short call within a sample until the sample lasts about this long (default 5 ms). */
  minSampleMs?: number;
  /** Show a progress bar with this label while timing. */
  label?: string;
  /** The clock (default {@linkcode defaultClock}). */
  clock?: Clock;
}

function checkOptions(
  action: string,
  options: InterleaveOptions,
): { rounds: number; minSampleMs: number; clock: Clock } {
  const { rounds = 7, minSampleMs = 5, clock = defaultClock() } = options;
  if (clock !== "cpu" && clock !== "wall") {
    throw new RangeError(`Cannot ${action}: clock must be "cpu" or "wall", got ${JSON.stringify(clock)}`);
  }
  if (clock === "cpu" && !cpuUsage) {
    throw new RangeError(
      `Cannot ${action}: this runtime does not report processor time (process.cpuUsage); use "wall"`,
    );
  }
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`Cannot ${action}: rounds must be a positive integer, got ${rounds}`);
  }
  if (!(minSampleMs >= 0) || !Number.isFinite(minSampleMs)) {
    throw new RangeError(`Cannot ${action}: minSampleMs must be a finite number ≥ 0, got ${minSampleMs}`);
  }
  return { rounds, minSampleMs, clock };
}

/**
 * Times several variants of a computation against each other, interleaved: a warm-up call of each, then
 * `rounds` rounds in which each variant runs once (the order rotates from round to round). Each variant is
 * reported by its fastest round and its median. Tensors a variant returns are read back and disposed.
 *
 * @param cases Variant name → the work to time (sync or async).
 * @param options Rounds, minimum sample length, progress label.
 * @returns Variant name → its {@linkcode CaseTiming}.
 * @example
 * ```ts
 * import { timeInterleaved } from "./timing.ts";
 * const sum = (n: number) => () => { let s = 0; for (let i = 0; i < n; i++) s += i; return s; };
 * const t = await timeInterleaved({ short: sum(1e4), long: sum(1e6) }, { rounds: 3, minSampleMs: 1 });
 * if (!(t.long.min > t.short.min)) throw new Error("100× the work takes longer");
 * if (t.short.samples.length !== 3 || t.short.calls < 1) throw new Error("one sample per round");
 * ```
 */
export async function timeInterleaved<K extends string>(
  cases: Record<K, () => unknown>,
  options: InterleaveOptions = {},
): Promise<Record<K, CaseTiming>> {
  const action = "time variants";
  const { rounds, minSampleMs, clock } = checkOptions(action, options);
  const names = Object.keys(cases ?? {}) as K[];
  if (names.length === 0) throw new TypeError(`Cannot ${action}: cases must name at least one variant`);
  for (const name of names) {
    if (typeof cases[name] !== "function") {
      throw new TypeError(`Cannot ${action}: the variant "${name}" must be a function, got ${typeof cases[name]}`);
    }
  }
  const bar = options.label ? await progress(rounds + 1, options.label) : undefined;
  const calls = {} as Record<K, number>;
  for (const name of names) {
    await runOnce(cases[name]); // warm-up: compile kernels, allocate
    const t0 = now(clock);
    await runOnce(cases[name]);
    const once = Math.max(now(clock) - t0, 1e-3);
    calls[name] = Math.min(10_000, Math.max(1, Math.ceil(minSampleMs / once)));
  }
  await bar?.update(1);
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length]; // rotate: no variant always runs first
      const t0 = now(clock);
      for (let c = 0; c < calls[name]; c++) await runOnce(cases[name]);
      samples[name].push((now(clock) - t0) / calls[name]);
    }
    await bar?.update(r + 2);
  }
  await bar?.finish();
  const timing = (n: K): CaseTiming => ({
    min: Math.min(...samples[n]),
    median: medianOf(samples[n]),
    samples: samples[n],
    calls: calls[n],
    clock,
  });
  return Object.fromEntries(names.map((n) => [n, timing(n)])) as Record<K, CaseTiming>;
}

/** What {@linkcode timeSweep} measured: per variant, one time per size. */
export interface Sweep<K extends string> {
  /** The sizes, in the order given. */
  sizes: number[];
  /** Variant → fastest round's milliseconds per call, one per size. */
  min: Record<K, number[]>;
  /** Variant → median milliseconds per call, one per size. */
  median: Record<K, number[]>;
  /** Rounds per (size, variant). */
  rounds: number;
  /** The clock: processor time of this process, or wall time. */
  clock: Clock;
}

/**
 * Times variants of a computation over a range of sizes, every (size, variant) pair interleaved with every
 * other in each round (so a burst of load cannot bend one part of a curve), as {@linkcode timeInterleaved}.
 * All sizes' inputs are made first and disposed at the end.
 *
 * @param sizes The sizes, e.g. sequence lengths.
 * @param setup For one size: variant name → work, and optionally `dispose` for its inputs.
 * @param options Rounds, minimum sample length, progress label.
 * @returns The fastest and median times per variant and size.
 * @example
 * ```ts
 * import { timeSweep } from "./timing.ts";
 * const sweep = await timeSweep([1e4, 1e6], (n) => ({
 *   cases: { loop: () => { let s = 0; for (let i = 0; i < n; i++) s += i; return s; } },
 * }), { rounds: 3, minSampleMs: 1 });
 * if (!(sweep.min.loop[1] > sweep.min.loop[0])) throw new Error("more work takes longer");
 * ```
 */
export async function timeSweep<K extends string>(
  sizes: readonly number[],
  setup: (size: number) => { cases: Record<K, () => unknown>; dispose?: () => void },
  options: InterleaveOptions = {},
): Promise<Sweep<K>> {
  const action = "time a sweep";
  const { rounds } = checkOptions(action, options);
  if (!Array.isArray(sizes) || sizes.length === 0 || sizes.some((s) => typeof s !== "number")) {
    throw new TypeError(`Cannot ${action}: sizes must be a non-empty array of numbers, got ${JSON.stringify(sizes)}`);
  }
  const made = sizes.map((size) => setup(size));
  try {
    const names = Object.keys(made[0].cases) as K[];
    const all: Record<string, () => unknown> = {};
    made.forEach((m, s) => {
      for (const name of names) all[`${s}\u0000${name}`] = m.cases[name];
    });
    const t = await timeInterleaved(all, options);
    const pick = (key: "min" | "median") =>
      Object.fromEntries(names.map((n) => [n, sizes.map((_, s) => t[`${s}\u0000${n}`][key])])) as Record<K, number[]>;
    return {
      sizes: [...sizes],
      min: pick("min"),
      median: pick("median"),
      rounds,
      clock: t[`0\u0000${names[0]}`].clock,
    };
  } finally {
    for (const m of made) m.dispose?.();
  }
}

/**
 * The fastest times of a {@linkcode timeSweep} as {@linkcode Series} for `scalingPlot`, one per variant.
 *
 * @param sweep What timeSweep returned.
 * @param names Variant → legend name (default: the variant's key).
 * @returns One series per variant: x the sizes, y the fastest round's milliseconds.
 * @example
 * ```ts
 * import { sweepSeries } from "./timing.ts";
 * const sweep = { sizes: [1, 2], min: { a: [3, 4] }, median: { a: [3, 5] }, rounds: 3, clock: "wall" as const };
 * const s = sweepSeries(sweep, { a: "loop" });
 * if (s[0].name !== "loop" || s[0].y[1] !== 4) throw new Error("the fastest round, per size");
 * ```
 */
export function sweepSeries<K extends string>(sweep: Sweep<K>, names: Partial<Record<K, string>> = {}): Series[] {
  return (Object.keys(sweep.min) as K[]).map((k) => ({ name: names[k] ?? k, x: sweep.sizes, y: sweep.min[k] }));
}
