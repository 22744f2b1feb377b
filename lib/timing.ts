/**
 * Wall-clock timing for lessons: warm up, repeat, report the median.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** What {@linkcode timeIt} measured. */
export interface Timing {
  /** Median milliseconds per call. */
  ms: number;
  /** Every measured call, in milliseconds. */
  samples: number[];
}

/**
 * Times `fn` (sync or async) by its median over `repeats` runs after one
 * warm-up run. Tensors that `fn` returns are read back (so the backend has
 * really finished) and disposed.
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
    const out = await fn();
    if (out instanceof tf.Tensor) {
      await out.data();
      out.dispose();
    }
    return performance.now() - t0;
  };
  await once();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) samples.push(await once());
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return { ms: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2, samples };
}
