import { assert, assertEquals, assertThrows } from "../lib/_testing.ts";
import { makeSelectiveCopy, SELECTIVE_COPY_TOKENS, selectiveCopyAnswer, selectiveCopyVocab } from "./selective_copy.ts";

Deno.test("selectiveCopyAnswer() reads the one marked symbol, worked by hand", () => {
  // values 8: plain symbols ids 2–9, marked 10–17, QUERY 1.
  assertEquals(selectiveCopyAnswer([10, 3, 4, 1]), 0);
  assertEquals(selectiveCopyAnswer([3, 4, 17, 1]), 7);
  assertEquals(selectiveCopyAnswer([3, 5, 1], { values: 2 }), 1); // values 2: plain 2–3, marked 4–5: 5 is symbol 1
});

Deno.test("selectiveCopyAnswer() rejects a sequence without exactly one marked token and a final QUERY", () => {
  assertThrows(() => selectiveCopyAnswer([10, 3, 4]), TypeError, "no QUERY (1) at the end");
  assertThrows(() => selectiveCopyAnswer([10, 12, 4, 1]), TypeError, "a second marked token at 1");
  assertThrows(() => selectiveCopyAnswer([3, 4, 1]), TypeError, "no marked token");
  assertThrows(() => selectiveCopyAnswer([3, 18, 1]), TypeError, "token 18 at 1, not a symbol");
});

Deno.test("makeSelectiveCopy() makes T tokens with one marked anywhere; the evaluator agrees with every label", () => {
  for (const length of [2, 16, 64, 512]) {
    const examples = makeSelectiveCopy(`t${length}`, 200, { length });
    for (const [i, ex] of examples.entries()) {
      assertEquals(ex.ids.length, length, `T = ${length}, example ${i}`);
      assertEquals(selectiveCopyAnswer(ex.ids), ex.label, `T = ${length}, example ${i}`);
      assertEquals(ex.ids[ex.at], SELECTIVE_COPY_TOKENS.FIRST_SYMBOL + 8 + ex.label, `T = ${length}, example ${i}`);
      assert(ex.ids.every((t) => t >= 1 && t < selectiveCopyVocab()), `example ${i}: a token out of range`);
    }
    const where = new Set(examples.map((e) => e.at));
    assert(where.size >= Math.min(length - 1, 50), `T = ${length}: the marked token sat at only ${where.size} places`);
    // The plain symbols are the label's symbols too: identity alone does not give the answer.
    if (length >= 64) {
      const plainHasLabel = examples.filter((e) => e.ids.includes(SELECTIVE_COPY_TOKENS.FIRST_SYMBOL + e.label));
      assert(plainHasLabel.length > 150, `T = ${length}: the label's plain symbol appears in ${plainHasLabel.length}`);
    }
  }
});

Deno.test("makeSelectiveCopy() balances the labels exactly and is reproducible; another seed gives other examples", () => {
  const a = makeSelectiveCopy(5, 800, { length: 32 });
  const counts = Array(8).fill(0);
  for (const ex of a) counts[ex.label]++;
  assertEquals(counts, Array(8).fill(100));
  assertEquals(makeSelectiveCopy(5, 800, { length: 32 }), a);
  const b = makeSelectiveCopy(6, 20, { length: 32 });
  assert(b.some((ex, i) => ex.ids.join() !== a[i].ids.join()), "seeds 5 and 6 gave the same examples");
  const raw = Array(8).fill(0);
  for (const ex of makeSelectiveCopy(5, 800, { length: 32, balanced: false })) raw[ex.label]++;
  assert(raw.some((c) => c !== 100), `unbalanced counts ${raw}`);
  const three = makeSelectiveCopy(9, 30, { length: 8, values: 3 });
  assertEquals(three.map((e) => selectiveCopyAnswer(e.ids, { values: 3 })), three.map((e) => e.label));
});

Deno.test("makeSelectiveCopy() rejects bad sizes with what was expected", () => {
  assertThrows(() => makeSelectiveCopy(1, 1.5), RangeError, "n must be an integer ≥ 0, got 1.5");
  assertThrows(
    () => makeSelectiveCopy(1, 1, { length: 1 }),
    RangeError,
    "options.length must be an integer ≥ 2, got 1",
  );
  assertThrows(
    () => makeSelectiveCopy(1, 1, { values: 1 }),
    RangeError,
    "options.values must be an integer ≥ 2, got 1",
  );
});
