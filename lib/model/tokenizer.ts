/**
 * BERT's WordPiece tokenizer (Devlin et al. 2019, §3; Wu et al. 2016 for WordPiece), read from a Hugging Face
 * `tokenizer.json`, giving the same ids as the `tokenizers` package (tested on locked cases made by
 * tools/cases/make_minilm_tokens.py).
 *
 * The pipeline, in the order the `tokenizers` package runs it:
 * 1. special tokens (`[CLS]`, `[SEP]`, `[MASK]`, … written in the text) are cut out of the raw text first;
 * 2. normalise: drop NUL, U+FFFD and control, format, private-use and surrogate characters (unassigned code
 *    points stay, and a word holding one becomes `[UNK]`), turn whitespace into spaces, put spaces around CJK
 *    ideographs, strip accents (NFD, then drop nonspacing marks, Mn), lower-case;
 * 3. pre-tokenise: split on whitespace, and make every punctuation character a word of its own;
 * 4. WordPiece: each word becomes the longest vocabulary piece from its start, then the longest `##` piece from
 *    there, and so on; a word with no such split, or longer than `max_input_chars_per_word` characters, becomes
 *    `[UNK]`;
 * 5. wrap in `[CLS] … [SEP]`.
 *
 * @module
 */

/** A text split into tokens: what {@linkcode WordPieceTokenizer.encode} returns. */
export interface Tokenized {
  /** Vocabulary ids, [CLS] first and [SEP] last (unless `specialTokens: false`). */
  ids: number[];
  /** The token strings ("##" marks a piece that continues a word). */
  tokens: string[];
  /** For each token, the index of the word it came from (words as pre-tokenised); null for the added [CLS], [SEP]. */
  words: (number | null)[];
}

/** Options for {@linkcode WordPieceTokenizer.encode}. */
export interface EncodeTextOptions {
  /** Add [CLS] and [SEP] (default true). */
  specialTokens?: boolean;
}

/** The settings read from tokenizer.json. */
export interface WordPieceSettings {
  vocab: ReadonlyMap<string, number>;
  unkToken: string;
  clsToken: string;
  sepToken: string;
  /** Prefix of a word's continuation pieces ("##"). */
  prefix: string;
  /** Words longer than this (in Unicode characters) become [UNK] (100). */
  maxInputCharsPerWord: number;
  cleanText: boolean;
  handleChineseChars: boolean;
  stripAccents: boolean;
  lowercase: boolean;
  /** Tokens matched verbatim in the raw text before anything else ([PAD], [UNK], [CLS], [SEP], [MASK]). */
  specialTokens: readonly string[];
}

/**
 * A WordPiece tokenizer. Make one with {@linkcode wordPieceTokenizer} from a tokenizer.json, or get the
 * model's own from `loadMiniLM()`.
 */
export class WordPieceTokenizer {
  readonly settings: WordPieceSettings;
  #idToToken: string[];
  #specialRe: RegExp | undefined;

  constructor(settings: WordPieceSettings) {
    this.settings = settings;
    this.#idToToken = [];
    for (const [token, id] of settings.vocab) this.#idToToken[id] = token;
    for (const t of [settings.unkToken, settings.clsToken, settings.sepToken]) {
      if (!settings.vocab.has(t)) {
        throw new RangeError(
          `Cannot make a WordPiece tokenizer: the vocabulary must contain "${t}", got no such entry`,
        );
      }
    }
    const specials = [...settings.specialTokens].sort((a, b) => b.length - a.length); // leftmost-longest
    this.#specialRe = specials.length ? new RegExp(specials.map(escapeRegExp).join("|"), "gu") : undefined;
  }

  /** Number of entries in the vocabulary. */
  get vocabSize(): number {
    return this.settings.vocab.size;
  }

  /** The id of a token string, or undefined when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined {
    return this.settings.vocab.get(token);
  }

  /** The token string of an id, or undefined when no token has it. */
  idToToken(id: number): string | undefined {
    return this.#idToToken[id];
  }

  /**
   * Splits a text into WordPiece tokens.
   *
   * @param text Any string.
   * @param options `specialTokens: false` leaves out [CLS] and [SEP].
   * @returns Ids, token strings and the word each token came from.
   * @example
   * ```ts
   * import { wordPieceTokenizer } from "./tokenizer.ts";
   * const tok = wordPieceTokenizer({
   *   normalizer: { type: "BertNormalizer", lowercase: true },
   *   pre_tokenizer: { type: "BertPreTokenizer" },
   *   model: {
   *     type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100,
   *     vocab: { "[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "play": 3, "##ing": 4, "cafe": 5, "!": 6 },
   *   },
   * });
   * const { ids, tokens, words } = tok.encode("Playing CAFÉ!? ok");
   * if (tokens.join(" ") !== "[CLS] play ##ing cafe ! [UNK] [UNK] [SEP]") throw new Error(tokens.join(" "));
   * if (ids.join() !== "1,3,4,5,6,0,0,2" || words.join() !== ",0,0,1,2,3,4,") throw new Error("bad ids");
   * ```
   */
  encode(text: string, options: EncodeTextOptions = {}): Tokenized {
    if (typeof text !== "string") {
      throw new TypeError(`Cannot tokenize: text must be a string, got ${text === null ? "null" : typeof text}`);
    }
    const { specialTokens = true } = options;
    const s = this.settings;
    const out: Tokenized = { ids: [], tokens: [], words: [] };
    const push = (token: string, word: number | null) => {
      out.tokens.push(token);
      out.ids.push(s.vocab.get(token)!);
      out.words.push(word);
    };
    if (specialTokens) push(s.clsToken, null);
    let word = 0;
    for (const part of this.#splitSpecial(text)) {
      if (part.special) {
        push(part.text, word++); // a special token written in the text counts as a word, as in `tokenizers`
        continue;
      }
      for (const w of this.preTokenize(this.normalize(part.text))) {
        for (const piece of this.wordPiece(w)) push(piece, word);
        word++;
      }
    }
    if (specialTokens) push(s.sepToken, null);
    return out;
  }

  /**
   * BERT's normalisation of a text (step 2 of the pipeline).
   *
   * @param text Any string.
   * @returns The cleaned, CJK-spaced, accent-stripped, lower-cased text.
   * @example
   * ```ts
   * import { wordPieceTokenizer } from "./tokenizer.ts";
   * const tok = wordPieceTokenizer({
   *   normalizer: { type: "BertNormalizer", lowercase: true },
   *   pre_tokenizer: { type: "BertPreTokenizer" },
   *   model: { type: "WordPiece", unk_token: "[UNK]", vocab: { "[UNK]": 0, "[CLS]": 1, "[SEP]": 2 } },
   * });
   * if (tok.normalize("Crème\tBRÛLÉE\u0000中文") !== "creme brulee 中  文 ") throw new Error("bad normalisation");
   * ```
   */
  normalize(text: string): string {
    const s = this.settings;
    let out = "";
    for (const c of text) {
      const cp = c.codePointAt(0)!;
      if (s.cleanText) {
        if (cp === 0 || cp === 0xfffd || isControl(c)) continue;
        if (isWhitespace(c)) {
          out += " ";
          continue;
        }
      }
      out += s.handleChineseChars && isChineseChar(cp) ? ` ${c} ` : c;
    }
    if (s.stripAccents) out = out.normalize("NFD").replace(NONSPACING_MARK, "");
    if (s.lowercase) {
      let lower = "";
      for (const c of out) lower += c.toLowerCase(); // one character at a time: no context rules (final sigma)
      out = lower;
    }
    return out;
  }

  /**
   * BERT's pre-tokenisation (step 3): split on whitespace, each punctuation character a word of its own.
   *
   * @param text A normalised text.
   * @returns The words.
   * @example
   * ```ts
   * import { wordPieceTokenizer } from "./tokenizer.ts";
   * const tok = wordPieceTokenizer({
   *   model: { type: "WordPiece", unk_token: "[UNK]", vocab: { "[UNK]": 0, "[CLS]": 1, "[SEP]": 2 } },
   * });
   * if (tok.preTokenize("it's  $5.00, ok").join("|") !== "it|'|s|$|5|.|00|,|ok") throw new Error("bad split");
   * ```
   */
  preTokenize(text: string): string[] {
    const words: string[] = [];
    let current = "";
    for (const c of text) {
      if (isWhitespace(c)) {
        if (current) words.push(current);
        current = "";
      } else if (isPunctuation(c)) {
        if (current) words.push(current);
        words.push(c);
        current = "";
      } else {
        current += c;
      }
    }
    if (current) words.push(current);
    return words;
  }

  /**
   * WordPiece on one word (step 4): greedy longest match from the left, `##` on continuation pieces.
   *
   * @param word One pre-tokenised word.
   * @returns Its pieces, or [`[UNK]`] when it cannot be split or is too long.
   * @example
   * ```ts
   * import { wordPieceTokenizer } from "./tokenizer.ts";
   * const tok = wordPieceTokenizer({
   *   model: {
   *     type: "WordPiece", unk_token: "[UNK]",
   *     vocab: { "[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "un": 3, "una": 4, "##aff": 5, "##able": 6, "##ffable": 7 },
   *   },
   * });
   * // Longest first: "una" + "##ffable", not "un" + "##aff" + "##able".
   * if (tok.wordPiece("unaffable").join(" ") !== "una ##ffable") throw new Error("not greedy");
   * if (tok.wordPiece("unx").join() !== "[UNK]") throw new Error("expected [UNK]");
   * ```
   */
  wordPiece(word: string): string[] {
    const s = this.settings;
    const chars = [...word];
    if (chars.length > s.maxInputCharsPerWord) return [s.unkToken];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: string | undefined;
      while (start < end) {
        const sub = (start > 0 ? s.prefix : "") + chars.slice(start, end).join("");
        if (s.vocab.has(sub)) {
          found = sub;
          break;
        }
        end--;
      }
      if (found === undefined) return [s.unkToken];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }

  *#splitSpecial(text: string): Generator<{ text: string; special: boolean }> {
    if (!this.#specialRe) {
      yield { text, special: false };
      return;
    }
    let at = 0;
    for (const m of text.matchAll(this.#specialRe)) {
      if (m.index > at) yield { text: text.slice(at, m.index), special: false };
      yield { text: m[0], special: true };
      at = m.index + m[0].length;
    }
    if (at < text.length) yield { text: text.slice(at), special: false };
  }
}

/**
 * A WordPiece tokenizer from the contents of a Hugging Face `tokenizer.json` (a BERT-style one: a
 * `WordPiece` model, optionally a `BertNormalizer`, a `BertPreTokenizer` and special `added_tokens`).
 *
 * @param json The parsed JSON (or its text).
 * @returns The tokenizer.
 * @throws {TypeError} If the JSON is not a BERT-style WordPiece tokenizer, naming the part that is not.
 * @example
 * ```ts
 * import { wordPieceTokenizer } from "./tokenizer.ts";
 * const tok = wordPieceTokenizer(JSON.stringify({
 *   added_tokens: [{ content: "[MASK]", special: true }],
 *   normalizer: { type: "BertNormalizer", lowercase: true },
 *   pre_tokenizer: { type: "BertPreTokenizer" },
 *   model: { type: "WordPiece", unk_token: "[UNK]", vocab: { "[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[MASK]": 3, "a": 4 } },
 * }));
 * if (tok.encode("A [MASK]").ids.join() !== "1,4,3,2") throw new Error("bad ids");
 * ```
 */
export function wordPieceTokenizer(json: unknown): WordPieceTokenizer {
  const fn = "Cannot read a tokenizer.json";
  const root = typeof json === "string" ? parseJson(json, fn) : json;
  if (!isObject(root)) throw new TypeError(`${fn}: it must be a JSON object, got ${typeName(root)}`);
  const model = root.model;
  if (!isObject(model) || model.type !== "WordPiece") {
    throw new TypeError(`${fn}: model.type must be "WordPiece", got ${isObject(model) ? model.type : typeName(model)}`);
  }
  if (!isObject(model.vocab)) throw new TypeError(`${fn}: model.vocab must be an object of token ids`);
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(model.vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new TypeError(`${fn}: model.vocab ids must be non-negative integers, got "${token}": ${id}`);
    }
    vocab.set(token, id as number);
  }
  const norm = root.normalizer ?? null;
  if (norm !== null && !(isObject(norm) && norm.type === "BertNormalizer")) {
    throw new TypeError(
      `${fn}: normalizer must be a BertNormalizer or null, got ${isObject(norm) ? norm.type : typeName(norm)}`,
    );
  }
  const pre = root.pre_tokenizer ?? null;
  if (pre !== null && !(isObject(pre) && pre.type === "BertPreTokenizer")) {
    throw new TypeError(
      `${fn}: pre_tokenizer must be a BertPreTokenizer or null, got ${isObject(pre) ? pre.type : typeName(pre)}`,
    );
  }
  const lowercase = norm ? norm.lowercase !== false : false;
  const added = Array.isArray(root.added_tokens) ? root.added_tokens : [];
  const specialTokens = added.filter((t): t is { content: string } => isObject(t) && typeof t.content === "string")
    .map((t) => t.content);
  const { cls, sep } = specialPair(root.post_processor);
  return new WordPieceTokenizer({
    vocab,
    unkToken: typeof model.unk_token === "string" ? model.unk_token : "[UNK]",
    clsToken: cls,
    sepToken: sep,
    prefix: typeof model.continuing_subword_prefix === "string" ? model.continuing_subword_prefix : "##",
    maxInputCharsPerWord: Number.isInteger(model.max_input_chars_per_word)
      ? model.max_input_chars_per_word as number
      : 100,
    cleanText: norm ? norm.clean_text !== false : false,
    handleChineseChars: norm ? norm.handle_chinese_chars !== false : false,
    // `strip_accents: null` means "follow lowercase", as in the tokenizers package.
    stripAccents: norm ? (typeof norm.strip_accents === "boolean" ? norm.strip_accents : lowercase) : false,
    lowercase,
    specialTokens,
  });
}

/** [CLS]/[SEP] from a TemplateProcessing or BertProcessing post-processor (default "[CLS]", "[SEP]"). */
function specialPair(post: unknown): { cls: string; sep: string } {
  if (isObject(post) && post.type === "BertProcessing" && Array.isArray(post.cls) && Array.isArray(post.sep)) {
    return { cls: String(post.cls[0]), sep: String(post.sep[0]) };
  }
  if (isObject(post) && post.type === "TemplateProcessing" && Array.isArray(post.single)) {
    const ids = post.single.filter(isObject).map((p) => p.SpecialToken).filter(isObject).map((t) => String(t.id));
    if (ids.length === 2) return { cls: ids[0], sep: ids[1] };
  }
  return { cls: "[CLS]", sep: "[SEP]" };
}

// ---------------------------------------------------------------- character classes (as BERT defines them)

const NONSPACING_MARK = /\p{Mn}/gu;
const WHITESPACE = /^\p{White_Space}$/u;
const CONTROL = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
const PUNCTUATION = /^\p{P}$/u;

/** Tab, newline and carriage return count as whitespace, as does every White_Space character. */
function isWhitespace(c: string): boolean {
  return c === "\t" || c === "\n" || c === "\r" || WHITESPACE.test(c);
}

/**
 * Control, format, private-use and surrogate characters, but not tab, newline and carriage return, and not
 * unassigned code points (Cn), which the tokenizers package keeps.
 */
function isControl(c: string): boolean {
  return c !== "\t" && c !== "\n" && c !== "\r" && CONTROL.test(c);
}

/** Unicode punctuation (P*), and all non-alphanumeric printable ASCII ($, +, <, =, >, ^, `, |, ~ too). */
function isPunctuation(c: string): boolean {
  const cp = c.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  return PUNCTUATION.test(c);
}

/** The CJK Unified Ideographs blocks and their extensions and compatibility ideographs. */
function isChineseChar(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

function typeName(x: unknown): string {
  return x === null ? "null" : Array.isArray(x) ? "an array" : typeof x;
}

function parseJson(text: string, fn: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TypeError(`${fn}: it must be JSON, got ${err instanceof Error ? err.message : err}`);
  }
}
