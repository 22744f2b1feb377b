/**
 * Selective copy as a fixed-length classification task: the content-retrieval task that lesson 09's capstone
 * trains on (a one-target form of the selective-copying task of Gu & Dao 2023, "Mamba", §3.1). A sequence
 *
 *     x₁ x₂ … x_{T−1} QUERY
 *
 * holds T − 1 symbols drawn uniformly from `values` symbols, exactly one of which is **marked** (a symbol s written
 * with its marked id); the label is the marked symbol s. The unmarked symbols are the same symbols, so the answer is
 * in no symbol's identity alone and at no fixed position: a model must find the one marked token, wherever it is,
 * and copy what it holds. The longer the sequence, the more distractors share the attention with the marked token
 * (softmax must sharpen; linear attention dilutes), and the farther it may sit from the query (a window does not
 * reach it).
 *
 * Token ids: 0 = `PAD` (unused, kept for batching), 1 = `QUERY`, 2 … 2 + values − 1 the plain symbols, then the
 * marked symbols (s marked is 2 + values + s). A model reads its answer at the last position (QUERY).
 *
 * One layer of softmax attention solves it (the query puts its weight on the marked token); see the tests of
 * lib/lra for what each kernel learns.
 *
 * @module
 */
import { rng } from "../lib/random.ts";
import { balancedLabels } from "./_labels.ts";

/** Token ids of {@linkcode makeSelectiveCopy} before the symbols. */
export const SELECTIVE_COPY_TOKENS: Readonly<{ PAD: number; QUERY: number; FIRST_SYMBOL: number }> = Object.freeze({
  PAD: 0,
  QUERY: 1,
  FIRST_SYMBOL: 2,
});

/** Options of {@linkcode makeSelectiveCopy}. */
export interface SelectiveCopyOptions {
  /** T, the sequence length, QUERY included: an integer ≥ 2 (default 64). */
  length?: number;
  /** Distinct symbols, the classes (default 8). */
  values?: number;
  /** Balance the labels exactly over each block of `values` examples (default true). */
  balanced?: boolean;
}

/** One selective-copy example. */
export interface SelectiveCopyExample {
  /** The T token ids: T − 1 symbols (one marked), then QUERY. */
  ids: number[];
  /** The marked symbol, 0 … values − 1. */
  label: number;
  /** Where the marked token is (0 … T − 2). */
  at: number;
}

/**
 * The vocabulary size of a selective-copy data set: PAD, QUERY, the plain and the marked symbols.
 *
 * @param options The values (default 8).
 * @returns 2 + 2·values.
 * @example
 * ```ts
 * import { selectiveCopyVocab } from "./selective_copy.ts";
 * if (selectiveCopyVocab({ values: 8 }) !== 18) throw new Error("expected 18");
 * ```
 */
export function selectiveCopyVocab(options: SelectiveCopyOptions = {}): number {
  return SELECTIVE_COPY_TOKENS.FIRST_SYMBOL + 2 * checkOptions(options).values;
}

/**
 * Makes `n` selective-copy examples, the same ones for the same seed and options on every machine.
 *
 * @param seed Any number or string.
 * @param n How many examples.
 * @param options Length T, values, label balance.
 * @returns The examples, in order.
 * @throws {RangeError} If n or an option is out of range.
 * @example
 * ```ts
 * import { makeSelectiveCopy, selectiveCopyAnswer } from "./selective_copy.ts";
 * const [ex] = makeSelectiveCopy(1, 1, { length: 12 });
 * if (ex.ids.length !== 12 || selectiveCopyAnswer(ex.ids) !== ex.label) throw new Error("bad example");
 * ```
 */
export function makeSelectiveCopy(
  seed: number | string,
  n: number,
  options: SelectiveCopyOptions = {},
): SelectiveCopyExample[] {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`Cannot make selective-copy examples: n must be an integer ≥ 0, got ${n}`);
  }
  const { length, values } = checkOptions(options);
  const { QUERY, FIRST_SYMBOL } = SELECTIVE_COPY_TOKENS;
  const source = rng(seed);
  const draw = source.fork("examples");
  const targets = options.balanced === false ? undefined : balancedLabels(source.fork("labels"), n, values);
  const out: SelectiveCopyExample[] = [];
  for (let e = 0; e < n; e++) {
    const ids = Array.from({ length: length - 1 }, () => FIRST_SYMBOL + draw.int(values));
    const at = draw.int(length - 1);
    const label = targets ? targets[e] : draw.int(values);
    ids[at] = FIRST_SYMBOL + values + label;
    ids.push(QUERY);
    out.push({ ids, label, at });
  }
  return out;
}

/**
 * The answer to a selective-copy sequence, read off its tokens (independent of the generator: the tests check
 * every label with it).
 *
 * @param ids The T token ids.
 * @param options The options the examples were made with (for the number of values).
 * @returns The marked symbol.
 * @throws {TypeError} If the sequence is not symbols with exactly one marked, then QUERY.
 * @example
 * ```ts
 * import { selectiveCopyAnswer } from "./selective_copy.ts";
 * // values 8: plain symbols are ids 2–9, marked ones 10–17. The marked id 13 is symbol 3.
 * if (selectiveCopyAnswer([4, 13, 2, 1]) !== 3) throw new Error("expected 3");
 * ```
 */
export function selectiveCopyAnswer(ids: readonly number[], options: SelectiveCopyOptions = {}): number {
  const { values } = checkOptions(options);
  const { QUERY, FIRST_SYMBOL } = SELECTIVE_COPY_TOKENS;
  const bad = (what: string) =>
    new TypeError(`Cannot answer a selective-copy sequence: expected symbols, one marked, then QUERY; got ${what}`);
  if (ids.length < 2 || ids[ids.length - 1] !== QUERY) throw bad(`no QUERY (${QUERY}) at the end`);
  let label = -1;
  for (const [i, t] of ids.slice(0, -1).entries()) {
    if (!Number.isInteger(t) || t < FIRST_SYMBOL || t >= FIRST_SYMBOL + 2 * values) {
      throw bad(`token ${t} at ${i}, not a symbol`);
    }
    if (t >= FIRST_SYMBOL + values) {
      if (label >= 0) throw bad(`a second marked token at ${i}`);
      label = t - FIRST_SYMBOL - values;
    }
  }
  if (label < 0) throw bad("no marked token");
  return label;
}

function checkOptions(options: SelectiveCopyOptions): { length: number; values: number } {
  const { length = 64, values = 8 } = options;
  if (!Number.isInteger(length) || length < 2) {
    throw new RangeError(`Cannot make selective-copy examples: options.length must be an integer ≥ 2, got ${length}`);
  }
  if (!Number.isInteger(values) || values < 2) {
    throw new RangeError(`Cannot make selective-copy examples: options.values must be an integer ≥ 2, got ${values}`);
  }
  return { length, values };
}

/**
 * Selective copy as the lesson-09 capstone's task (lib/lra's `LraTask`): examples of length T, answered at the last
 * position by the plain symbol's token.
 *
 * @param values Distinct symbols (default 8).
 * @returns The task.
 * @example
 * ```ts
 * import { selectiveCopyTask } from "./selective_copy.ts";
 * const task = selectiveCopyTask();
 * const [ex] = task.examples("s", 1, 16);
 * if (task.vocab(16) !== 18 || ex.ids.length !== 16 || task.answerToken(ex.label) !== 2 + ex.label) throw new Error();
 * ```
 */
export function selectiveCopyTask(values = 8): {
  name: string;
  vocab(T: number): number;
  examples(seed: string, n: number, T: number): SelectiveCopyExample[];
  answerToken(label: number): number;
} {
  checkOptions({ values });
  return {
    name: `selective copy, ${values} symbols`,
    vocab: () => selectiveCopyVocab({ values }),
    examples: (seed, n, T) => makeSelectiveCopy(seed, n, { length: T, values }),
    answerToken: (label) => SELECTIVE_COPY_TOKENS.FIRST_SYMBOL + label,
  };
}
