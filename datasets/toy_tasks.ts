/**
 * Seeded toy tasks for training small transformers: copying and associative recall. Each call draws a
 * minibatch from the random source it is given, as plain arrays (no tensors), so the same seed gives the same
 * examples on every machine and backend.
 *
 * Token ids: 0 = `PAD` (unused by these tasks, kept for batching), 1 = `SEP`, 2 = `MASK`, 3 … vocab − 1 the
 * task's symbols. A batch holds `inputs` and `targets` of the same length and a `mask` of the positions that are
 * scored (1) or not (0).
 *
 * - Copy (the "copying" task of Graves et al. 2014, as a sequence): `x₁ … xₙ SEP x₁ … xₙ`. With
 *   `mode: "next-token"` (causal models) the targets are the inputs shifted by one and only the copied half is
 *   scored; with `mode: "masked"` (either kind of model) the second half of the input is `MASK` and its positions
 *   must be filled with x₁ … xₙ. Solved by attending n + 1 positions back: a positional pattern.
 * - Associative recall (Ba et al. 2016; the multi-query form of Arora et al. 2023, "Zoology", in its one-query
 *   version): `k₁ v₁ k₂ v₂ … kₙ vₙ SEP q` with distinct keys; the target at the last position is the value that
 *   followed q. Solved by matching content: q must find its key, then read the token after it.
 *
 * @module
 */

/** The random source a task draws from: lib's `Rng` (`rng(seed)`), or anything with `int(n)`. */
export interface IntSource {
  /** An integer uniform in [0, n). */
  int(n: number): number;
}

/** Token ids shared by the toy tasks. */
export const TOY_TOKENS: Readonly<{ PAD: number; SEP: number; MASK: number; FIRST_SYMBOL: number }> = Object.freeze({
  PAD: 0,
  SEP: 1,
  MASK: 2,
  FIRST_SYMBOL: 3,
});

/** A minibatch of a toy task. */
export interface ToyBatch {
  /** [B][T] input token ids. */
  inputs: number[][];
  /** [B][T] target token ids (PAD where not scored). */
  targets: number[][];
  /** [B][T] 1 where the target is scored, else 0. */
  mask: number[][];
  /** Vocabulary size the model needs (ids 0 … vocab − 1). */
  vocab: number;
  /** Sequence length T. */
  length: number;
}

/** Options of {@linkcode copyTask}. */
export interface CopyOptions {
  /** Examples per batch. */
  batch: number;
  /** n, the symbols to copy (T = 2n + 1 for next-token, 2n + 1 for masked). */
  n: number;
  /** Distinct symbols (default 8). */
  symbols?: number;
  /** "next-token" (default; for causal models) or "masked" (for any model). */
  mode?: "next-token" | "masked";
}

/**
 * A minibatch of the copy task.
 *
 * @param r The random source (e.g. `rng(seed)` from lib).
 * @param options Batch size, length n, symbols and mode.
 * @returns Inputs, targets and the scored positions.
 * @throws {RangeError} If a size is not a positive integer.
 * @example
 * ```ts
 * import { copyTask, TOY_TOKENS } from "./toy_tasks.ts";
 * import { rng } from "../lib/random.ts";
 * const b = copyTask(rng(1), { batch: 2, n: 3, mode: "masked" });
 * const [x, y, m] = [b.inputs[0], b.targets[0], b.mask[0]];
 * // inputs: a b c SEP MASK MASK MASK; targets at the MASKs: a b c.
 * if (x[3] !== TOY_TOKENS.SEP || x[4] !== TOY_TOKENS.MASK || y[4] !== x[0] || y[6] !== x[2]) throw new Error("bad copy");
 * if (m.join("") !== "0000111" || b.length !== 7) throw new Error("bad mask");
 * ```
 */
export function copyTask(r: IntSource, options: CopyOptions): ToyBatch {
  const { batch, n, symbols = 8, mode = "next-token" } = options;
  checkSizes("make a copy-task batch", { batch, n, symbols });
  if (mode !== "next-token" && mode !== "masked") {
    throw new RangeError(`Cannot make a copy-task batch: mode must be "next-token" or "masked", got "${mode}"`);
  }
  const { SEP, MASK, FIRST_SYMBOL, PAD } = TOY_TOKENS;
  const out: ToyBatch = { inputs: [], targets: [], mask: [], vocab: FIRST_SYMBOL + symbols, length: 2 * n + 1 };
  for (let b = 0; b < batch; b++) {
    const xs = Array.from({ length: n }, () => FIRST_SYMBOL + r.int(symbols));
    if (mode === "next-token") {
      const seq = [...xs, SEP, ...xs, PAD]; // the last PAD is only the target of the last input
      out.inputs.push(seq.slice(0, 2 * n + 1));
      out.targets.push(seq.slice(1, 2 * n + 2).map((t, i) => (i >= n ? t : PAD)));
      out.mask.push(Array.from({ length: 2 * n + 1 }, (_, i) => (i >= n && i < 2 * n ? 1 : 0)));
    } else {
      out.inputs.push([...xs, SEP, ...xs.map(() => MASK)]);
      out.targets.push([...xs.map(() => PAD), PAD, ...xs]);
      out.mask.push(Array.from({ length: 2 * n + 1 }, (_, i) => (i > n ? 1 : 0)));
    }
  }
  return out;
}

/** Options of {@linkcode associativeRecall}. */
export interface RecallOptions {
  /** Examples per batch. */
  batch: number;
  /** n, the key–value pairs (T = 2n + 2). */
  pairs: number;
  /** Distinct keys (≥ pairs; default 16). */
  keys?: number;
  /** Distinct values (default 16). */
  values?: number;
}

/**
 * A minibatch of associative recall: `k₁ v₁ … kₙ vₙ SEP q`, target the value after q (at the last position).
 * Keys are ids 3 … 3 + keys − 1, values the next `values` ids.
 *
 * @param r The random source (e.g. `rng(seed)` from lib).
 * @param options Batch size, pairs, and how many keys and values there are.
 * @returns Inputs, targets and the scored positions (the last one only).
 * @throws {RangeError} If a size is not a positive integer or there are fewer keys than pairs.
 * @example
 * ```ts
 * import { associativeRecall } from "./toy_tasks.ts";
 * import { rng } from "../lib/random.ts";
 * const b = associativeRecall(rng(2), { batch: 1, pairs: 4 });
 * const x = b.inputs[0], T = b.length;
 * const at = x.slice(0, 8).findIndex((t, i) => i % 2 === 0 && t === x[T - 1]); // where the query's key is
 * if (b.targets[0][T - 1] !== x[at + 1] || b.mask[0][T - 1] !== 1 || T !== 10) throw new Error("bad recall");
 * ```
 */
export function associativeRecall(r: IntSource, options: RecallOptions): ToyBatch {
  const { batch, pairs, keys = 16, values = 16 } = options;
  checkSizes("make an associative-recall batch", { batch, pairs, keys, values });
  if (keys < pairs) {
    throw new RangeError(
      `Cannot make an associative-recall batch: keys must be ≥ pairs (${pairs}) so that keys are distinct, got ${keys}`,
    );
  }
  const { SEP, FIRST_SYMBOL, PAD } = TOY_TOKENS;
  const T = 2 * pairs + 2;
  const out: ToyBatch = { inputs: [], targets: [], mask: [], vocab: FIRST_SYMBOL + keys + values, length: T };
  for (let b = 0; b < batch; b++) {
    const pool = Array.from({ length: keys }, (_, i) => i);
    const seq: number[] = [];
    const chosen: [number, number][] = [];
    for (let p = 0; p < pairs; p++) {
      const j = p + r.int(keys - p); // partial Fisher–Yates: distinct keys
      [pool[p], pool[j]] = [pool[j], pool[p]];
      const key = FIRST_SYMBOL + pool[p], value = FIRST_SYMBOL + keys + r.int(values);
      chosen.push([key, value]);
      seq.push(key, value);
    }
    const [qKey, qValue] = chosen[r.int(pairs)];
    out.inputs.push([...seq, SEP, qKey]);
    out.targets.push([...Array(T - 1).fill(PAD), qValue]);
    out.mask.push([...Array(T - 1).fill(0), 1]);
  }
  return out;
}

function checkSizes(action: string, sizes: Record<string, number>): void {
  for (const [name, n] of Object.entries(sizes)) {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cannot ${action}: ${name} must be a positive integer, got ${n}`);
    }
  }
}
