import { assertEquals } from "../../lib/_testing.ts";
import { caseDrift } from "./main.ts";
import { isqrt, literal } from "./_gen.ts";

Deno.test("every locked case table equals its generator's output (run `deno task cases` after changing one)", async () => {
  assertEquals(await caseDrift(), []);
});

Deno.test("isqrt is the exact integer square root, also past 2^53", () => {
  for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, 2n ** 64n - 1n, 2n ** 64n, (2n ** 40n + 3n) ** 2n - 1n]) {
    const r = isqrt(n);
    assertEquals(r * r <= n && (r + 1n) * (r + 1n) > n, true, `isqrt(${n}) = ${r}`);
  }
});

Deno.test("tables are written as readable TypeScript literals", () => {
  assertEquals(
    literal({ args: [2, 3], expected: 42n, big: -Infinity, s: 'a"b' }),
    '{ args: [2, 3], expected: 42n, big: -Infinity, s: "a\\"b" }',
  );
  assertEquals(literal([[1, 2], [3, 4]], "", 8), "[\n  [1, 2],\n  [3, 4],\n]");
});
