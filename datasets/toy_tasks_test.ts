import { associativeRecall, copyTask, TOY_TOKENS } from "./toy_tasks.ts";
import { rng } from "../lib/random.ts";
import { assert, assertEquals, assertNotEqual, assertThrows } from "../lib/_testing.ts";

const { PAD, SEP, MASK, FIRST_SYMBOL } = TOY_TOKENS;

Deno.test("copyTask() is seeded and lays out x SEP x with the copied half scored (next-token and masked)", () => {
  assertEquals(copyTask(rng(3), { batch: 4, n: 5 }), copyTask(rng(3), { batch: 4, n: 5 }));
  assertNotEqual(copyTask(rng(3), { batch: 4, n: 5 }), copyTask(rng(4), { batch: 4, n: 5 }));
  for (const mode of ["next-token", "masked"] as const) {
    const b = copyTask(rng("copy"), { batch: 50, n: 5, symbols: 4, mode });
    assertEquals([b.length, b.vocab, b.inputs.length], [11, FIRST_SYMBOL + 4, 50]);
    for (let e = 0; e < 50; e++) {
      const [x, y, m] = [b.inputs[e], b.targets[e], b.mask[e]];
      const xs = x.slice(0, 5);
      assert(xs.every((t) => t >= FIRST_SYMBOL && t < FIRST_SYMBOL + 4));
      assertEquals(x[5], SEP);
      assertEquals([x.length, y.length, m.length], [11, 11, 11]);
      const scored = y.filter((_, i) => m[i] === 1);
      assertEquals(scored, xs, "the scored targets are the copied symbols, in order");
      assert(y.every((t, i) => m[i] === 1 || t === PAD), "unscored targets are PAD");
      if (mode === "next-token") {
        assertEquals(x.slice(6), xs, "the input repeats the symbols after SEP");
        for (let i = 0; i < 10; i++) if (m[i]) assertEquals(y[i], x[i + 1], "next-token targets are the next input");
      } else {
        assertEquals(x.slice(6), Array(5).fill(MASK));
        assertEquals(m.map((v, i) => v ? i : -1).filter((i) => i >= 0), [6, 7, 8, 9, 10]);
      }
    }
  }
});

Deno.test("associativeRecall() draws distinct keys and asks for the value of one of them", () => {
  assertEquals(associativeRecall(rng(1), { batch: 3, pairs: 4 }), associativeRecall(rng(1), { batch: 3, pairs: 4 }));
  const b = associativeRecall(rng("recall"), { batch: 200, pairs: 5, keys: 5, values: 3 });
  assertEquals([b.length, b.vocab], [12, FIRST_SYMBOL + 8]);
  const asked = new Set<number>();
  for (let e = 0; e < 200; e++) {
    const x = b.inputs[e];
    const keys = x.filter((_, i) => i < 10 && i % 2 === 0), values = x.filter((_, i) => i < 10 && i % 2 === 1);
    assertEquals(new Set(keys).size, 5, "keys are distinct");
    assert(keys.every((k) => k >= FIRST_SYMBOL && k < FIRST_SYMBOL + 5));
    assert(values.every((v) => v >= FIRST_SYMBOL + 5 && v < FIRST_SYMBOL + 8));
    assertEquals(x[10], SEP);
    const at = keys.indexOf(x[11]);
    assert(at >= 0, "the query is one of the keys");
    asked.add(at);
    assertEquals(b.targets[e][11], values[at]);
    assertEquals(b.mask[e], [...Array(11).fill(0), 1]);
  }
  assertEquals(asked.size, 5, "every pair position gets asked");
});

Deno.test("the toy tasks reject bad sizes with clear errors", () => {
  assertThrows(
    () => copyTask(rng(0), { batch: 0, n: 3 }),
    RangeError,
    "Cannot make a copy-task batch: batch must be a positive integer, got 0",
  );
  assertThrows(
    () => copyTask(rng(0), { batch: 1, n: 3, mode: "reverse" as "masked" }),
    RangeError,
    'mode must be "next-token" or "masked", got "reverse"',
  );
  assertThrows(
    () => associativeRecall(rng(0), { batch: 1, pairs: 6, keys: 5 }),
    RangeError,
    "keys must be ≥ pairs (6)",
  );
});
