import { wordPieceTokenizer } from "./tokenizer.ts";
import { MINILM_TOKENIZER_SHA256, readVerified } from "./files.ts";
import { IGNORE_WITHOUT_MODEL, MODEL_FILES, MODEL_NOTE } from "./_testing.ts";
import { assert, assertEquals, assertThrows } from "../_testing.ts";

interface Case {
  group: string;
  text: string;
  ids: number[];
  words: (number | null)[];
}

const lines = (await Deno.readTextFile(new URL("./testdata/minilm_tokens.jsonl", import.meta.url))).trimEnd()
  .split("\n");
const header = JSON.parse(lines[0]) as { tokenizerSha256: string; counts: Record<string, number> };
const CASES: Case[] = lines.slice(1).map((l) => JSON.parse(l));

Deno.test("the locked tokenizer cases cover ≥ 300 texts of every kind, made from the installed tokenizer.json", () => {
  assert(CASES.length >= 300, `${CASES.length} cases`);
  for (const group of ["edge", "random", "corpus-sentences", "corpus-documents"]) {
    assert(CASES.filter((c) => c.group === group).length === header.counts[group], group);
  }
  assertEquals(header.tokenizerSha256, MINILM_TOKENIZER_SHA256);
  const long = CASES.filter((c) => [...c.text].some((ch) => ch.codePointAt(0)! > 127));
  assert(long.length >= 100, `only ${long.length} cases with non-ASCII characters`);
});

Deno.test({
  name: `WordPieceTokenizer gives the tokenizers package's ids and word indices on every locked case${MODEL_NOTE}`,
  ignore: IGNORE_WITHOUT_MODEL,
  async fn() {
    if (MODEL_FILES instanceof Error) throw MODEL_FILES;
    const tok = wordPieceTokenizer(
      new TextDecoder().decode(await readVerified(MODEL_FILES.tokenizer, MINILM_TOKENIZER_SHA256)),
    );
    const failures: string[] = [];
    for (const c of CASES) {
      const got = tok.encode(c.text);
      if (got.ids.join() !== c.ids.join() || got.words.join() !== c.words.join()) {
        const at = got.ids.findIndex((id, i) => id !== c.ids[i]);
        failures.push(
          `${c.group} ${JSON.stringify(c.text.slice(0, 80))}: first difference at ${at}: got ${
            got.ids.slice(Math.max(0, at - 2), at + 3)
          } (${got.tokens.slice(Math.max(0, at - 2), at + 3)}), expected ${c.ids.slice(Math.max(0, at - 2), at + 3)}`,
        );
      }
      assertEquals(got.tokens.length, got.ids.length);
      assertEquals(got.ids.map((id) => tok.idToToken(id)), got.tokens);
    }
    assert(failures.length === 0, `${failures.length} of ${CASES.length} differ:\n${failures.slice(0, 10).join("\n")}`);
  },
});

const TINY = {
  added_tokens: [{ content: "[MASK]", special: true }],
  normalizer: { type: "BertNormalizer", lowercase: true },
  pre_tokenizer: { type: "BertPreTokenizer" },
  model: {
    type: "WordPiece",
    unk_token: "[UNK]",
    max_input_chars_per_word: 6,
    vocab: { "[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[MASK]": 3, a: 4, "##b": 5, "ab": 6, "!": 7, "中": 8 },
  },
};

Deno.test("WordPieceTokenizer applies max characters per word, specials in text, CJK and no-[CLS] mode", () => {
  const tok = wordPieceTokenizer(TINY);
  assertEquals(tok.encode("abbbb").tokens, ["[CLS]", "ab", "##b", "##b", "##b", "[SEP]"]); // 5 chars ≤ 6
  assertEquals(tok.encode("abbbbbb").tokens, ["[CLS]", "[UNK]", "[SEP]"]); // 7 chars > 6
  assertEquals(tok.encode("A[MASK]b!").tokens, ["[CLS]", "a", "[MASK]", "[UNK]", "!", "[SEP]"]);
  assertEquals(tok.encode("a[mask]").tokens, ["[CLS]", "a", "[UNK]", "[UNK]", "[UNK]", "[SEP]"]); // not special
  assertEquals(tok.encode("a中a", { specialTokens: false }).tokens, ["a", "中", "a"]);
  assertEquals(tok.encode("", { specialTokens: false }), { ids: [], tokens: [], words: [] });
  assertEquals(tok.vocabSize, 9);
  assertEquals([tok.tokenToId("##b"), tok.tokenToId("zz"), tok.idToToken(99)], [5, undefined, undefined]);
});

Deno.test("wordPieceTokenizer() names what is wrong with a tokenizer.json", () => {
  assertThrows(() => wordPieceTokenizer("{"), TypeError, "Cannot read a tokenizer.json: it must be JSON");
  assertThrows(() => wordPieceTokenizer([]), TypeError, "it must be a JSON object, got an array");
  assertThrows(
    () => wordPieceTokenizer({ ...TINY, model: { ...TINY.model, type: "BPE" } }),
    TypeError,
    'model.type must be "WordPiece", got BPE',
  );
  assertThrows(
    () => wordPieceTokenizer({ ...TINY, normalizer: { type: "NFKC" } }),
    TypeError,
    "normalizer must be a BertNormalizer or null, got NFKC",
  );
  assertThrows(
    () => wordPieceTokenizer({ ...TINY, model: { ...TINY.model, vocab: { "[UNK]": -1 } } }),
    TypeError,
    'model.vocab ids must be non-negative integers, got "[UNK]": -1',
  );
  assertThrows(
    () => wordPieceTokenizer({ model: { type: "WordPiece", vocab: { "[UNK]": 0 } } }),
    RangeError,
    'the vocabulary must contain "[CLS]"',
  );
  assertThrows(
    () => wordPieceTokenizer(TINY).encode(5 as unknown as string),
    TypeError,
    "text must be a string, got number",
  );
});
