import { assertEquals } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { futureAdditive, futureMask } from "./_masks.ts";

Deno.test("futureMask() and futureAdditive() mark j > i + offset, for every offset", async () => {
  await initBackend({ backend: "cpu", print: false });
  for (const [T, S, offset] of [[1, 1, 0], [3, 3, 0], [2, 5, 3], [4, 3, -2], [3, 2, 7]]) {
    const expected: number[] = [];
    for (let i = 0; i < T; i++) for (let j = 0; j < S; j++) expected.push(j > i + offset ? 1 : 0);
    const mask = futureMask(T, S, offset), additive = futureAdditive(T, S, offset);
    assertEquals(Array.from(mask.dataSync()), expected, `mask T=${T} S=${S} offset=${offset}`);
    assertEquals(Array.from(additive.dataSync()), expected.map((e) => e ? -Infinity : 0));
    mask.dispose();
    additive.dispose();
  }
});
