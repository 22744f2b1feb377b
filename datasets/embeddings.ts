/**
 * Real token embeddings for lesson 02: the input-embedding rows of the
 * pretrained all-MiniLM-L6-v2 (Apache-2.0) for the WordPiece tokens of two
 * sentences, in full (384 features) or reduced by PCA to 8 features. The data
 * is minilm_embeddings.json, made by make_embeddings.py (see README.md).
 *
 * Notebooks import this file as `../datasets/embeddings.ts`; it reads nothing
 * at run time (the JSON is a module import), so it works wherever the module
 * graph loads: the notebook kernel, tests and the grading sandbox alike.
 * @module
 */
import data from "./minilm_embeddings.json" with { type: "json" };

/** The sentences in the file, by key. */
export const SENTENCE_KEYS = ["enjoying", "creature"] as const;

/** A key of {@linkcode SENTENCE_KEYS}. */
export type SentenceKey = typeof SENTENCE_KEYS[number];

/** One sentence's tokens and their embedding vectors. */
export interface SentenceEmbeddings {
  /** The sentence as written. */
  text: string;
  /** Its WordPiece tokens, lower-cased, without [CLS] and [SEP] ("##" marks a word's continuation). */
  tokens: string[];
  /** The tokens' rows in the model's vocabulary. */
  ids: number[];
  /** One vector per token: [T][d]. */
  vectors: number[][];
  /** Features per vector: 384 in full, 8 reduced. */
  dims: number;
}

/** Where the numbers come from: package, model, licence, tensor and how they were reduced. */
export const EMBEDDINGS_SOURCE: Readonly<{
  package: string;
  model: string;
  licence: string;
  tensor: string;
  reduction: string;
  explainedVarianceRatio: readonly number[];
}> = Object.freeze({
  ...data.source,
  reduction: `PCA to ${data.pca.dims} features, fitted on ${data.pca.fitOn}`,
  explainedVarianceRatio: Object.freeze([...data.pca.explainedVarianceRatio]),
});

/**
 * The tokens of one example sentence and their embedding vectors (a fresh copy on every call).
 *
 * @param key "enjoying" ("I am enjoying this lecture on attention") or "creature" ("a fluffy blue
 *   creature roamed the verdant forest").
 * @param options `reduced: true` for the 8-feature PCA vectors instead of the full 384 features.
 * @returns The sentence, its tokens and one vector per token.
 * @example
 * ```ts
 * import { sentenceEmbeddings } from "./embeddings.ts";
 * const s = sentenceEmbeddings("creature", { reduced: true });
 * if (s.tokens[1] !== "fluffy" || s.vectors.length !== s.tokens.length || s.dims !== 8) {
 *   throw new Error("unexpected embeddings");
 * }
 * ```
 */
export function sentenceEmbeddings(key: SentenceKey, options: { reduced?: boolean } = {}): SentenceEmbeddings {
  const sentence = data.sentences.find((s) => s.key === key);
  if (!sentence) {
    throw new RangeError(
      `Cannot load sentence embeddings: key must be one of ${
        SENTENCE_KEYS.map((k) => JSON.stringify(k)).join(", ")
      }, got ${JSON.stringify(key)}`,
    );
  }
  const reduced = options.reduced ?? false;
  return {
    text: sentence.text,
    tokens: [...sentence.tokens],
    ids: [...sentence.ids],
    vectors: (reduced ? sentence.pca : sentence.full).map((row) => [...row]),
    dims: reduced ? data.pca.dims : data.fullDims,
  };
}
