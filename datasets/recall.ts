/**
 * Associative recall as a fixed-length classification task, the content-retrieval task of the lesson-09 capstone
 * (after Ba et al. 2016 and the one-query form in Arora et al. 2023, "Zoology"): a sequence
 *
 *     k₁ v₁ k₂ v₂ … kₙ vₙ SEP q
 *
 * of n = (T − 2)/2 key–value pairs with **distinct** keys, then a separator and a query key q equal to one of the
 * kᵢ; the label is the value that followed q (its index 0 … values − 1). Unlike `associativeRecall` in
 * `toy_tasks.ts` (one minibatch from a given random source), `makeRecall(seed, n, options)` makes a whole,
 * reproducible data set, with balanced labels, whose difficulty grows with the length T: more pairs to tell apart
 * (by default every one of the n keys appears once, so the vocabulary grows with T too) and a longer way from the
 * query back to its key. Nothing in the task can be solved by position alone: the queried pair is anywhere.
 *
 * Token ids: 0 = `PAD` (unused, kept for batching), 1 = `SEP`, 2 … 2 + keys − 1 the keys, then the values.
 *
 * @module
 */
import { rng } from "../lib/random.ts";
import { balancedLabels } from "./_labels.ts";

/** Token ids of {@linkcode makeRecall} before the keys. */
export const RECALL_TOKENS: Readonly<{ PAD: number; SEP: number; FIRST_KEY: number }> = Object.freeze({
  PAD: 0,
  SEP: 1,
  FIRST_KEY: 2,
});

/** Options of {@linkcode makeRecall}. */
export interface RecallTaskOptions {
  /** T, the sequence length: an even number ≥ 4 (default 64); n = (T − 2)/2 pairs. */
  length?: number;
  /** Distinct keys, ≥ the n pairs (default n: every key appears once in every sequence). */
  keys?: number;
  /** Distinct values, the classes (default 8). */
  values?: number;
  /** Balance the labels exactly over each block of `values` examples (default true). */
  balanced?: boolean;
}

/** One recall example. */
export interface RecallExample {
  /** The T token ids: pairs, SEP, the query key. */
  ids: number[];
  /** The value that followed the query key, 0 … values − 1 (its token id is FIRST_KEY + keys + label). */
  label: number;
  /** Which pair (0-based) the query asks for: its key sits at position 2·pair. */
  pair: number;
}

/** What a recall data set needs to be read: its sizes and vocabulary. */
export interface RecallShape {
  /** T. */
  length: number;
  /** n = (T − 2)/2. */
  pairs: number;
  keys: number;
  values: number;
  /** Token ids are 0 … vocab − 1: 2 + keys + values. */
  vocab: number;
}

/**
 * The sizes of a recall data set for the given options (defaults filled in), checked.
 *
 * @param options Length, keys, values.
 * @returns T, pairs, keys, values and the vocabulary size.
 * @throws {RangeError} If the length is not an even integer ≥ 4, or keys < pairs, or values < 2.
 * @example
 * ```ts
 * import { recallShape } from "./recall.ts";
 * const s = recallShape({ length: 10 });
 * if (s.pairs !== 4 || s.keys !== 4 || s.vocab !== 2 + 4 + 8) throw new Error(JSON.stringify(s));
 * ```
 */
export function recallShape(options: RecallTaskOptions = {}): RecallShape {
  const { length = 64, values = 8 } = options;
  if (!Number.isInteger(length) || length < 4 || length % 2 !== 0) {
    throw new RangeError(`Cannot make recall examples: options.length must be an even integer ≥ 4, got ${length}`);
  }
  const pairs = (length - 2) / 2;
  const keys = options.keys ?? pairs;
  if (!Number.isInteger(keys) || keys < pairs) {
    throw new RangeError(
      `Cannot make recall examples: options.keys must be an integer ≥ the ${pairs} pairs (distinct keys), got ${keys}`,
    );
  }
  if (!Number.isInteger(values) || values < 2) {
    throw new RangeError(`Cannot make recall examples: options.values must be an integer ≥ 2, got ${values}`);
  }
  return { length, pairs, keys, values, vocab: RECALL_TOKENS.FIRST_KEY + keys + values };
}

/**
 * Makes `n` associative-recall examples, the same ones for the same seed and options on every machine.
 *
 * @param seed Any number or string.
 * @param n How many examples.
 * @param options Length T, keys, values, label balance.
 * @returns The examples, in order.
 * @throws {RangeError} If n or an option is out of range.
 * @example
 * ```ts
 * import { makeRecall, recallAnswer } from "./recall.ts";
 * const [ex] = makeRecall(1, 1, { length: 12 });
 * if (ex.ids.length !== 12 || recallAnswer(ex.ids, { length: 12 }) !== ex.label) throw new Error("bad example");
 * ```
 */
export function makeRecall(seed: number | string, n: number, options: RecallTaskOptions = {}): RecallExample[] {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`Cannot make recall examples: n must be an integer ≥ 0, got ${n}`);
  }
  const { pairs, keys, values } = recallShape(options);
  const { SEP, FIRST_KEY } = RECALL_TOKENS;
  const source = rng(seed);
  const draw = source.fork("examples");
  const targets = options.balanced === false ? undefined : balancedLabels(source.fork("labels"), n, values);
  const out: RecallExample[] = [];
  for (let e = 0; e < n; e++) {
    const pool = Array.from({ length: keys }, (_, i) => i);
    const ids: number[] = [];
    const pair = draw.int(pairs);
    let label = -1;
    for (let p = 0; p < pairs; p++) {
      const j = p + draw.int(keys - p); // partial Fisher–Yates: distinct keys
      [pool[p], pool[j]] = [pool[j], pool[p]];
      const value = p === pair && targets ? targets[e] : draw.int(values);
      if (p === pair) label = value;
      ids.push(FIRST_KEY + pool[p], FIRST_KEY + keys + value);
    }
    ids.push(SEP, FIRST_KEY + pool[pair]);
    out.push({ ids, label, pair });
  }
  return out;
}

/**
 * The answer to a recall sequence, read off its tokens (independent of the generator: the tests check every
 * label with it): the value token after the one key equal to the query.
 *
 * @param ids The T token ids.
 * @param options The options the examples were made with (for the number of keys).
 * @returns The label, 0 … values − 1.
 * @throws {TypeError} If the sequence is not pairs, SEP and a query that appears exactly once among the keys.
 * @example
 * ```ts
 * import { recallAnswer } from "./recall.ts";
 * // keys 2, 3 (ids 2 and 3), values after them (ids 4 and 5: value 0 is id 4), SEP, query id 3.
 * if (recallAnswer([2, 5, 3, 4, 1, 3], { length: 6 }) !== 0) throw new Error("expected value 0");
 * ```
 */
export function recallAnswer(ids: readonly number[], options: RecallTaskOptions = {}): number {
  const { length, keys, values } = recallShape({ ...options, length: options.length ?? ids.length });
  const { SEP, FIRST_KEY } = RECALL_TOKENS;
  const bad = (what: string) =>
    new TypeError(`Cannot answer a recall sequence: expected k v … k v SEP q of length ${length}, got ${what}`);
  if (ids.length !== length) throw bad(`${ids.length} tokens`);
  if (ids[length - 2] !== SEP) throw bad(`token ${ids[length - 2]} where SEP (${SEP}) belongs`);
  const isKey = (t: number) => t >= FIRST_KEY && t < FIRST_KEY + keys;
  const isValue = (t: number) => t >= FIRST_KEY + keys && t < FIRST_KEY + keys + values;
  const query = ids[length - 1];
  if (!isKey(query)) throw bad(`a query ${query} that is not a key`);
  let found = -1;
  for (let i = 0; i < length - 2; i += 2) {
    if (!isKey(ids[i]) || !isValue(ids[i + 1])) throw bad(`no key–value pair at positions ${i}, ${i + 1}`);
    if (ids[i] === query) {
      if (found >= 0) throw bad(`the query key ${query} at both ${found} and ${i}`);
      found = i;
    }
  }
  if (found < 0) throw bad(`a query key ${query} that no pair holds`);
  return ids[found + 1] - FIRST_KEY - keys;
}
