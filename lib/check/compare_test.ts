import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import {
  expectCount,
  fmt,
  MATMUL_ERROR,
  matMulOperands,
  nameDivisor,
  ratioOf,
  readMatrix,
  readVector,
  softmaxScaleOf,
} from "./compare.ts";

Deno.test("fmt prints integers exactly, also past 2^53, and others to 6 digits (class 10)", () => {
  assertEquals(fmt(30406719389564928), "30406719389564928"); // String() would print …930
  assertEquals(fmt(2n ** 70n), "1180591620717411303424");
  assertEquals([fmt(1 / 3), fmt(-Infinity), fmt(NaN)], ["0.333333", "-Infinity", "NaN"]);
});

Deno.test("expectCount names a float64 count past 2^53, prints both counts exactly, and stays silent when causes tie", () => {
  const expected = 30406719389564929n; // odd: no float64 holds it
  const float = BigInt(Number(expected));
  const v = expectCount(float, expected);
  assert(!v.ok && v.diagnosis?.startsWith("you computed in floating point"), JSON.stringify(v));
  assertEquals([v.ok || v.expected, v.ok || v.actual], ["30406719389564929", String(float)]);
  const unsafe = expectCount(Number(expected), expected);
  assert(
    !unsafe.ok && unsafe.message.includes(`the number ${float}`) && unsafe.message.includes("off by -1"),
    JSON.stringify(unsafe),
  );
  const tie = expectCount(5n, 6n, [[5n, "you did A; the rule is B"], [5n, "you did C; the rule is D"]]);
  assert(!tie.ok && tie.diagnosis === undefined, "two causes for one value: name none");
  const one = expectCount(5n, 6n, [[5n, "you did A; the rule is B"], [4n, "you did C; the rule is D"]]);
  assert(!one.ok && one.diagnosis === "you did A; the rule is B");
});

Deno.test("ratioOf and softmaxScaleOf read the factor of wrongly scaled scores and weights (class 1)", () => {
  assertEquals(ratioOf([2, -4, 6], [1, -2, 3], 1e-9), 2);
  assertEquals(ratioOf([2, -4, 7], [1, -2, 3], 1e-9), undefined);
  const softmax = (s: number[], c: number) => {
    const e = s.map((x) => Math.exp(c * x)), z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / z);
  };
  const scores = [0.3, -1.2, 2.0, 0.7];
  const r = softmaxScaleOf(softmax(scores, 1 / 3), softmax(scores, 1 / Math.sqrt(5)), 4);
  assert(r !== undefined && Math.abs(r - Math.sqrt(5) / 3) < 1e-6, `r = ${r}`);
  assertEquals(softmaxScaleOf([0.25, 0.25, 0.25, 0.25], softmax(scores, 1), 4), 0); // uniform: a factor of 0
  assertEquals(softmaxScaleOf([0.1, 0.2, 0.3, 0.4], softmax(scores, 1), 4), undefined);
});

Deno.test("nameDivisor names the divisor used, or the factor when it is none of the candidates", () => {
  const cands: [string, number][] = [["1 (no scaling)", 1], ["√T", Math.sqrt(3)]];
  assertEquals(
    nameDivisor(Math.sqrt(5) / Math.sqrt(3), ["√d", Math.sqrt(5)], cands),
    "you divided the scores by √T = 1.73205; the rule is to divide by √d = 2.23607",
  );
  assert(nameDivisor(Math.sqrt(5), ["√d", Math.sqrt(5)], cands)!.startsWith("you did not scale the scores"));
  assert(nameDivisor(5, ["√d", Math.sqrt(5)], cands)!.startsWith("you multiplied the scores by √d"));
  assert(nameDivisor(0.5, ["√d", 2], cands)!.startsWith("your scores carry a factor 1/4"));
  assertEquals(nameDivisor(1, ["√d", 2], cands), undefined);
});

Deno.test("read* accept tensors and arrays of the right shape and say what is wrong otherwise", async () => {
  await initBackend({ backend: "cpu", print: false });
  tf.tidy(() => {
    assertEquals(Array.from(readVector(tf.tensor2d([[1, 2]]), 2) as Float64Array), [1, 2]);
    assertEquals((readVector([1, 2, 3], 2, "q") as { message: string }).message, "q has the wrong length");
    assertEquals(Array.from(readMatrix([Float32Array.from([1, 2]), [3, 4]], 2, 2) as Float64Array), [1, 2, 3, 4]);
    assertEquals((readMatrix(tf.zeros([2, 3]), 3, 2) as { actual: string }).actual, "[2,3]");
  });
});

Deno.test("matMulOperands names the operands of TensorFlow.js's matMul error by their shapes", () => {
  const m = MATMUL_ERROR.exec(
    "Error in matMul: inner shapes (2) and (4) of Tensors with shapes 4,2 and 4,2 and transposeA=false and transposeB=false must match.",
  )!;
  assertEquals(matMulOperands(m, [["Q", [4, 2]], ["K", [4, 2]]]), ["Q", "K"]);
  assertEquals(matMulOperands(m, [["V", [3, 3]]]), ["?", "?"]);
  // The native backend's wording (lib/native), which the notebooks use where it loads.
  const native = MATMUL_ERROR.exec(
    "Cannot multiply on the native backend: the inner dimensions must match, got shapes [4,2] and [3,2] with transposeA=false, transposeB=true",
  )!;
  assertEquals(matMulOperands(native, [["Q", [4, 2]], ["K", [3, 2]]]), ["Q", "Kᵀ"]);
});
