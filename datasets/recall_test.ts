import { assert, assertEquals, assertThrows } from "../lib/_testing.ts";
import { makeRecall, RECALL_TOKENS, recallAnswer, recallShape } from "./recall.ts";

Deno.test("recallAnswer() reads the value after the query key, worked by hand", () => {
  // T = 8: 3 pairs, keys ids 2–4, values ids 5–12 (value 0 = id 5).
  assertEquals(recallAnswer([2, 9, 4, 5, 3, 12, 1, 4]), 0); // query 4 → id 5 → value 0
  assertEquals(recallAnswer([2, 9, 4, 5, 3, 12, 1, 3]), 7); // query 3 → id 12 → value 7
  assertEquals(recallAnswer([2, 9, 4, 5, 3, 12, 1, 2]), 4);
});

Deno.test("recallAnswer() rejects what is not pairs, SEP and a query held by exactly one pair", () => {
  assertThrows(() => recallAnswer([2, 9, 4, 5, 3, 12, 0, 4]), TypeError, "token 0 where SEP (1) belongs");
  assertThrows(() => recallAnswer([2, 9, 2, 5, 3, 12, 1, 2]), TypeError, "the query key 2 at both 0 and 2");
  assertThrows(() => recallAnswer([2, 9, 4, 5, 4, 12, 1, 3]), TypeError, "a query key 3 that no pair holds");
  assertThrows(() => recallAnswer([2, 9, 9, 5, 3, 12, 1, 3]), TypeError, "no key–value pair at positions 2, 3");
  assertThrows(() => recallAnswer([2, 9, 4, 5, 3, 12, 1, 9]), TypeError, "a query 9 that is not a key");
});

Deno.test("makeRecall() makes T tokens of distinct keys, SEP and a query; the evaluator agrees with every label", () => {
  for (const length of [4, 16, 64, 256]) {
    const shape = recallShape({ length });
    const examples = makeRecall(`t${length}`, 200, { length });
    for (const [i, ex] of examples.entries()) {
      assertEquals(ex.ids.length, length, `T = ${length}, example ${i}`);
      assertEquals(recallAnswer(ex.ids), ex.label, `T = ${length}, example ${i}`);
      const keys = ex.ids.slice(0, length - 2).filter((_, p) => p % 2 === 0);
      assertEquals(new Set(keys).size, shape.pairs, `T = ${length}, example ${i}: keys repeat`);
      assertEquals(ex.ids[2 * ex.pair], ex.ids[length - 1], `T = ${length}, example ${i}: pair`);
      assert(ex.ids.every((t) => t >= RECALL_TOKENS.SEP && t < shape.vocab), `example ${i}: a token out of range`);
    }
    // The queried pair is anywhere: no position alone gives the answer.
    const where = new Set(examples.map((e) => e.pair));
    assert(where.size >= Math.min(shape.pairs, 20), `T = ${length}: the query asked for only ${where.size} pairs`);
  }
});

Deno.test("makeRecall() balances the labels exactly and is reproducible; another seed gives other examples", () => {
  const a = makeRecall(5, 800, { length: 32 });
  const counts = Array(8).fill(0);
  for (const ex of a) counts[ex.label]++;
  assertEquals(counts, Array(8).fill(100));
  assertEquals(makeRecall(5, 800, { length: 32 }), a);
  const b = makeRecall(6, 20, { length: 32 });
  assert(b.some((ex, i) => ex.ids.join() !== a[i].ids.join()), "seeds 5 and 6 gave the same examples");
  // Unbalanced, the counts vary (the balancing is doing work); the labels are still right.
  const raw = Array(8).fill(0);
  for (const ex of makeRecall(5, 800, { length: 32, balanced: false })) raw[ex.label]++;
  assert(raw.some((c) => c !== 100), `unbalanced counts ${raw}`);
  assertEquals(raw.reduce((s, c) => s + c, 0), 800);
  // More keys than pairs: keys are drawn from the larger set, still distinct, and the answer still agrees.
  for (const ex of makeRecall(7, 100, { length: 10, keys: 50, values: 3 })) {
    assertEquals(recallAnswer(ex.ids, { keys: 50, values: 3 }), ex.label);
  }
});

Deno.test("makeRecall() rejects bad sizes with what was expected", () => {
  assertThrows(() => makeRecall(1, -1), RangeError, "n must be an integer ≥ 0, got -1");
  assertThrows(() => makeRecall(1, 1, { length: 7 }), RangeError, "options.length must be an even integer ≥ 4, got 7");
  assertThrows(
    () => makeRecall(1, 1, { length: 10, keys: 3 }),
    RangeError,
    "integer ≥ the 4 pairs (distinct keys), got 3",
  );
  assertThrows(() => makeRecall(1, 1, { values: 1 }), RangeError, "options.values must be an integer ≥ 2, got 1");
});
