import { all, type BigNumber, create } from "mathjs";
import { assert, assertEquals, assertThrows } from "../_testing.ts";
import { jlMinDim, linformerMinDim } from "./jl.ts";

// The twin: the same formulas in 50-digit decimal arithmetic (mathjs BigNumber), rounded up exactly.
const big = create(all, { number: "BigNumber", precision: 50 });
const exact = (formula: string, n: number, eps: string) =>
  big.evaluate(formula, { n: big.bignumber(n), eps: big.bignumber(eps) }) as BigNumber;
const DG = "4 * log(n) / (eps^2 / 2 - eps^3 / 3)", LINFORMER = "5 * log(n) / (eps^2 - eps^3)";

Deno.test("jlMinDim() rounds the Dasgupta–Gupta bound up: n = 512 gives 5348, 1440, 300 for ε = 0.1, 0.2, 0.5", () => {
  assertEquals([jlMinDim(512, 0.1), jlMinDim(512, 0.2), jlMinDim(512, 0.5)], [5348, 1440, 300]);
  // references.md lists 5347 / 1440 / 299: the bound rounded to the nearest integer (5347.14, 1439.61, 299.44),
  // which falls below the bound for ε = 0.1 and 0.5; the smallest integer k satisfying k ≥ bound is one more.
  assertEquals(["0.1", "0.2", "0.5"].map((e) => Math.round(exact(DG, 512, e).toNumber())), [5347, 1440, 299]);
  for (const n of [2, 10, 100, 512, 1000, 4096, 1e6]) {
    for (const eps of ["0.01", "0.05", "0.1", "0.2", "0.3", "0.5", "0.9", "0.99"]) {
      assertEquals(jlMinDim(n, Number(eps)), exact(DG, n, eps).ceil().toNumber(), `n=${n} ε=${eps}`);
    }
  }
});

Deno.test("linformerMinDim() rounds 5 ln n / (ε² − ε³) up (natural log)", () => {
  assertEquals([linformerMinDim(512, 0.1), linformerMinDim(512, 0.2), linformerMinDim(512, 0.5)], [3466, 975, 250]);
  for (const n of [2, 128, 512, 4096, 1e6]) {
    for (const eps of ["0.05", "0.1", "0.3", "0.5", "0.9"]) {
      assertEquals(linformerMinDim(n, Number(eps)), exact(LINFORMER, n, eps).ceil().toNumber(), `n=${n} ε=${eps}`);
    }
  }
  // ε² − ε³ peaks at ε = 2/3: the "bound" grows again towards ε = 1
  assert(linformerMinDim(512, 0.9) > linformerMinDim(512, 2 / 3));
});

Deno.test("the JL dimensions grow with n and shrink with ε", () => {
  for (const f of [jlMinDim, linformerMinDim]) {
    assert(f(1024, 0.2) > f(512, 0.2) && f(512, 0.2) > f(512, 0.3), f.name);
  }
  // O(log n): squaring n doubles the bound (up to rounding)
  assert(Math.abs(jlMinDim(1e6, 0.1) - 2 * jlMinDim(1e3, 0.1)) <= 1);
});

Deno.test("the JL dimensions name bad input", () => {
  for (const f of [jlMinDim, linformerMinDim]) {
    for (const eps of [0, 1, -0.1, 1.5, NaN]) {
      assertThrows(() => f(512, eps), RangeError, `eps must be in (0, 1), got ${eps}`);
    }
    for (const n of [1, 0, 2.5, NaN]) assertThrows(() => f(n, 0.1), RangeError, `n must be an integer ≥ 2, got ${n}`);
  }
  assertThrows(() => jlMinDim(1, 0.1), RangeError, "Cannot compute the Johnson–Lindenstrauss dimension: n must be");
  assertThrows(() => linformerMinDim(512, 1), RangeError, "Cannot compute the Linformer dimension: eps must be");
});
