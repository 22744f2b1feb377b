import { assert, assertEquals, assertThrows } from "../lib/_testing.ts";
import { evaluateListOps, LISTOPS_TOKENS, makeListOps } from "./listops.ts";
import { checksum, LOCKED } from "./_checksum.ts";
import { DATASET_CHECKSUMS } from "./checksums_cases.ts";

const ev = (s: string) => evaluateListOps(s.split(" "));

Deno.test("evaluateListOps() applies LRA's four operators, worked by hand", () => {
  assertEquals(ev("[MIN 4 7 2 9 ]"), 2);
  assertEquals(ev("[MAX 4 7 2 9 ]"), 9);
  assertEquals(ev("[MED 4 7 2 ]"), 4); // odd count: the middle of 2 4 7
  assertEquals(ev("[MED 1 2 8 9 ]"), 5); // even count: (2 + 8) / 2
  assertEquals(ev("[MED 1 2 7 9 ]"), 4); // even count: (2 + 7) / 2 = 4.5, rounded down
  assertEquals(ev("[SM 9 8 7 ]"), 4); // 24 mod 10
  assertEquals(ev("[SM 7 [MED 1 2 8 9 ] 9 ]"), 1); // 7 + 5 + 9 = 21
  assertEquals(ev("[MAX 4 3 [MIN 2 3 ] 1 0 ]"), 4);
  assertEquals(ev("[MIN [MAX 1 [SM 5 5 ] ] [MED 6 8 ] ]"), 1); // MAX(1, 0) = 1, MED(6, 8) = 7
  assertEquals(ev("6"), 6);
});

Deno.test("evaluateListOps() rejects what is not one well-bracketed expression, naming the fault", () => {
  assertThrows(() => ev("[MAX 1 2"), TypeError, "1 operator(s) left open at the end");
  assertThrows(() => ev("1 ]"), TypeError, "a token after the expression ended, at 1");
  assertThrows(() => ev("[MAX 1 2 ] ]"), TypeError, "a token after the expression ended, at 4");
  assertThrows(() => ev("[SM ]"), TypeError, "an operator with no arguments, closed at 1");
  assertThrows(() => ev("[SUM 1 2 ]"), TypeError, 'an unknown token at 0 ("[SUM")');
  assertThrows(() => evaluateListOps([]), TypeError, "no tokens");
});

Deno.test("makeListOps() keeps LRA's rules: lengths, depth, 2–10 arguments, labels the evaluator agrees with", () => {
  const examples = makeListOps(11, 300, { minLength: 64, maxLength: 256 });
  for (const [i, ex] of examples.entries()) {
    assert(ex.tokens.length > 64 && ex.tokens.length < 256, `example ${i}: length ${ex.tokens.length}`);
    assertEquals(evaluateListOps(ex.tokens), ex.label, `example ${i}`);
    assertEquals(ex.ids.map((id) => LISTOPS_TOKENS[id]), ex.tokens);
    // Nesting depth and argument counts, read back from the tokens alone.
    let open = 0, deepest = 0;
    const counts: number[] = [];
    for (const t of ex.tokens) {
      if (t.startsWith("[")) {
        counts.push(0);
        deepest = Math.max(deepest, ++open);
      } else if (t === "]") {
        const c = counts.pop()!;
        assert(c >= 2 && c <= 10, `example ${i}: an operator with ${c} arguments`);
        open--;
        if (counts.length) counts[counts.length - 1]++;
      } else if (counts.length) counts[counts.length - 1]++;
    }
    assertEquals(deepest, ex.depth, `example ${i}: depth`);
    assert(ex.depth <= 9, `example ${i}: depth ${ex.depth} (the root is depth 1 of at most 10, leaves included)`);
  }
});

Deno.test("makeListOps() balances the labels exactly and is reproducible; another seed gives other examples", () => {
  const a = makeListOps(5, 1000, { minLength: 32, maxLength: 128 });
  const counts = Array(10).fill(0);
  for (const ex of a) counts[ex.label]++;
  assertEquals(counts, Array(10).fill(100));
  assertEquals(makeListOps(5, 1000, { minLength: 32, maxLength: 128 }), a);
  const b = makeListOps(6, 50, { minLength: 32, maxLength: 128 });
  assert(b.some((ex, i) => ex.tokens.join() !== a[i].tokens.join()), "seeds 5 and 6 gave the same examples");
  // Unbalanced, LRA's own label distribution is lopsided (0 and 9 come up most): the balancing is doing work.
  const raw = Array(10).fill(0);
  for (const ex of makeListOps(5, 1000, { minLength: 32, maxLength: 128, balanced: false })) raw[ex.label]++;
  assert(raw[0] > 130 && raw[9] > 130, `unbalanced counts ${raw}`);
});

Deno.test("makeListOps() rejects bad options with what was expected", () => {
  assertThrows(() => makeListOps(1, -1), RangeError, "n must be an integer ≥ 0, got -1");
  assertThrows(() => makeListOps(1, 2, { maxArgs: 1 }), RangeError, "options.maxArgs must be an integer ≥ 2, got 1");
  assertThrows(
    () => makeListOps(1, 2, { minLength: 100, maxLength: 101 }),
    RangeError,
    "options.maxLength must exceed options.minLength + 1, got 100 and 101",
  );
  assertThrows(
    () => makeListOps(1, 1, { minLength: 40, maxLength: 60, maxDepth: 1 }),
    RangeError,
    "no tree with 40 < length < 60",
  );
});

Deno.test("the first 1,000 examples of every dataset generator match their locked checksums", async () => {
  assertEquals(Object.keys(DATASET_CHECKSUMS).sort(), Object.keys(LOCKED).sort());
  for (const [name, make] of Object.entries(LOCKED)) {
    assertEquals(
      await checksum(make()),
      DATASET_CHECKSUMS[name],
      `${name} (regenerate with tools/cases/make_dataset_checksums.ts only if the change is intended)`,
    );
  }
});
