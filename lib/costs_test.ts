import { assert, assertEquals, assertThrows } from "./_testing.ts";
import { attentionLayerCost, denseLayerCost, exactRatio, formatFraction, math } from "./costs.ts";

/**
 * The plain-loop twin: run the layers' loops on shapes alone and count each
 * multiply–add as 2 FLOPs, each stored weight as 1 parameter.
 */
function countByLoops(T: number, d: number) {
  let denseFlops = 0;
  for (let out = 0; out < T * d; out++) for (let inp = 0; inp < T * d; inp++) denseFlops += 2;
  let attnFlops = 0;
  const matmul = (n: number, k: number, m: number) => { // [n, k] · [k, m]
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) for (let c = 0; c < k; c++) attnFlops += 2;
  };
  matmul(T, d, d); // Q = X W_Q
  matmul(T, d, d); // K
  matmul(T, d, d); // V
  matmul(T, d, T); // Q Kᵀ
  matmul(T, T, d); // A V
  matmul(T, d, d); // · W_O
  return { denseParams: (T * d) ** 2, denseFlops, attnParams: 4 * d * d, attnFlops };
}

Deno.test("cost formulas match operation counts of the plain loops", () => {
  for (const [T, d] of [[1, 1], [2, 3], [5, 4], [7, 2]]) {
    const loops = countByLoops(T, d);
    const dense = denseLayerCost(T, d), attn = attentionLayerCost(T, d);
    assertEquals(
      [dense.params, dense.flops, attn.params, attn.flops],
      [BigInt(loops.denseParams), BigInt(loops.denseFlops), BigInt(loops.attnParams), BigInt(loops.attnFlops)],
      `T=${T}, d=${d}`,
    );
  }
});

Deno.test("GPT-3 scale reproduces the published figures (../shared/notes/references.md)", () => {
  const dense = denseLayerCost(2048, 12288), attn = attentionLayerCost(2048, 12288);
  // (Td)² = 6.33e14, 4d² = 6.04e8, 2(Td)² = 1.27e15, 8Td² + 4T²d = 2.68e12 (three significant digits)
  assertEquals(
    [dense.params, attn.params, dense.flops, attn.flops].map((x) => Number(x).toPrecision(3)),
    ["6.33e+14", "6.04e+8", "1.27e+15", "2.68e+12"],
  );
  assertEquals(formatFraction(exactRatio(dense.params, attn.params)), "1,048,576"); // T²/4
  const flopRatio = math.number(exactRatio(dense.flops, attn.flops));
  assert(Math.abs(flopRatio - 473) < 0.5, `FLOP ratio ${flopRatio}`);
  assertEquals(formatFraction(exactRatio(dense.flops, attn.flops)), "6,144/13");
});

Deno.test("costs stay exact beyond 2^53 and reject bad sizes by name", () => {
  const huge = denseLayerCost(1_000_000n, 100_000n);
  assertEquals(huge.params, 10_000_000_000_000_000_000_000n); // (1e11)², not representable as a float
  assertThrows(
    () => denseLayerCost(0, 4),
    RangeError,
    "Cannot count a dense layer: T must be a positive integer, got 0",
  );
  assertThrows(
    () => attentionLayerCost(4, 2.5),
    RangeError,
    "Cannot count an attention layer: d must be a positive integer, got 2.5",
  );
  assertThrows(() => exactRatio(1n, 0n), RangeError, "denominator is 0");
});
