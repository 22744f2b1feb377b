import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { type Exercise, runCheck } from "./core.ts";
import * as checkHelpers from "./_testing.ts";
import { lesson04Exercises as ex } from "./lesson04.ts";

// Reference answers live only in this test (lib/ tests are not part of the student bundle).
const std = (d: number, sq: number, sk: number) => Math.sqrt(d) * sq * sk;

/** softmax(z/τ) in float64 with the τ → 0 and τ → ∞ limits, and a planted mistake when asked. */
function softmaxT(
  z: number[],
  tau: number,
  bug: "none" | "multiply" | "ignore" | "noMax" | "noZero" | "firstTie" | "unnormalised" = "none",
): number[] {
  if (!(tau >= 0)) throw new RangeError(`tau must be >= 0, got ${tau}`);
  if (tau === 0 && bug !== "noZero") {
    const top = Math.max(...z);
    const first = z.indexOf(top);
    const ties = z.filter((x) => x === top).length;
    return z.map((x, i) => bug === "firstTie" ? (i === first ? 1 : 0) : x === top ? 1 / ties : 0);
  }
  const s = z.map((x) => bug === "multiply" ? x * tau : bug === "ignore" ? x : x / tau);
  const m = bug === "noMax" ? 0 : Math.max(...s);
  const e = s.map((x) => Math.exp(x - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return bug === "unnormalised" ? e : e.map((x) => x / sum);
}

const entropy = (p: number[], log = Math.log) => -p.reduce((s, x) => s + (x > 0 ? x * log(x) : 0), 0);

const jacobian = (y: number[]) => y.map((yi, i) => y.map((yj, j) => (i === j ? yi : 0) - yi * yj));

/** τ with max softmax(z/τ) = target, by bisection on log τ; `multiply` plants softmax(z·τ). */
function temperature(z: number[], target: number, multiply = false): number {
  if (!(target > 1 / z.length && target < 1)) throw new RangeError(`target out of reach: ${target}`);
  const maxWeight = (t: number) => Math.max(...softmaxT(z, t, multiply ? "multiply" : "none"));
  let [lo, hi] = [-30, 30];
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    // multiplying reverses the direction: max weight grows with the factor
    if ((maxWeight(Math.exp(mid)) > target) !== multiply) lo = mid;
    else hi = mid;
  }
  return Math.exp((lo + hi) / 2);
}

const failureOf = (exercise: keyof typeof ex, fn: unknown) =>
  checkHelpers.failureOf(ex as unknown as Record<string, Exercise<never>>, exercise, fn);
const expectDiagnosis = (exercise: keyof typeof ex, fn: unknown, cause: string, what = cause) =>
  checkHelpers.expectDiagnosis(ex as unknown as Record<string, Exercise<never>>, exercise, fn, cause, what);

Deno.test("lesson 04 checks pass correct answers, as arrays, typed arrays and tensors", async () => {
  await initBackend({ backend: "cpu", print: false });
  const answers: [keyof typeof ex, unknown][] = [
    ["dotProductStd", std],
    ["softmaxWithTemperature", softmaxT],
    ["softmaxWithTemperature", (z: number[], t: number) => Float64Array.from(softmaxT(z, t))],
    ["rowEntropy", entropy],
    ["softmaxJacobian", jacobian],
    ["softmaxJacobian", (y: number[]) => tf.tensor2d(jacobian(y))],
    ["temperatureForMaxWeight", temperature],
  ];
  for (const [name, fn] of answers) {
    const before = tf.memory().numTensors;
    const r = await runCheck(ex[name] as never, fn);
    assertEquals([r.status, r.points], ["passed", ex[name].points], `${name}: ${JSON.stringify(r.failure)}`);
    assertEquals(tf.memory().numTensors, before, `${name}: the check leaked tensors`);
  }
  const total = Object.values(ex).reduce((s, e) => s + e.points, 0);
  assertEquals(total, 10, "lesson 04 is worth 10 points");
});

Deno.test("a float32 softmax with temperature (tf.softmax) passes where the limits are handled", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = await runCheck(ex.softmaxWithTemperature, (z: number[], t: number) => {
    if (!(t >= 0)) throw new RangeError("tau");
    if (t === 0 || t === Infinity) return softmaxT(z, t);
    return tf.tidy(() => tf.softmax(tf.div(tf.tensor1d(z), t)));
  });
  assertEquals(r.status, "passed", JSON.stringify(r.failure));
});

Deno.test("dotProductStd check names variance-for-std and the other planted mistakes", async () => {
  const planted: [string, (d: number, sq: number, sk: number) => number, string][] = [
    ["variance", (d, sq, sk) => d * (sq * sk) ** 2, "that is the variance"],
    ["no sqrt", (d, sq, sk) => (sq * sk === 1 ? std(d, sq, sk) : d * sq * sk), "√ missing on d"],
    ["variances of the components", (d, sq, sk) => Math.sqrt(d) * sq ** 2 * sk ** 2, "components' variances"],
    ["σ ignored", (d, sq, sk) => (sq === 1 && sk === 1 ? std(d, sq, sk) : Math.sqrt(d)), "σ_q and σ_k ignored"],
    ["1/√d", (d) => 1 / Math.sqrt(d), "1/√d is the factor"],
  ];
  for (const [what, fn, cause] of planted) {
    const f = await expectDiagnosis("dotProductStd", fn, cause, what);
    assert(f.expected !== undefined && f.actual !== undefined, `${what}: expected vs actual are shown`);
  }
});

Deno.test("softmaxWithTemperature check names each planted softmax mistake", async () => {
  const planted: [Parameters<typeof softmaxT>[2], string][] = [
    ["multiply", "temperature multiplying instead of dividing"],
    ["ignore", "τ ignored"],
    ["noMax", "overflow: exp(z/τ) is Infinity"],
    ["noZero", "τ = 0 not handled"],
    ["firstTie", "ties: 2 logits share the maximum"],
    ["unnormalised", "not 1: divide each exponential by their sum"],
  ];
  for (const [bug, cause] of planted) {
    await expectDiagnosis("softmaxWithTemperature", (z: number[], t: number) => softmaxT(z, t, bug), cause, bug);
  }
  // Max subtracted only for big positive logits: the −1000 row underflows to 0/0.
  await expectDiagnosis(
    "softmaxWithTemperature",
    (z: number[], t: number) => softmaxT(z, t, Math.max(...z) < -100 ? "noMax" : "none"),
    "underflow: every exp(z/τ) is 0",
  );
  // τ = ∞ turned into a one-hot.
  await expectDiagnosis(
    "softmaxWithTemperature",
    (z: number[], t: number) => (t === Infinity ? softmaxT(z, 0) : softmaxT(z, t)),
    "the limit is uniform",
  );
  const f = await failureOf("softmaxWithTemperature", (z: number[], t: number) => softmaxT(z, t, "multiply"));
  assertEquals(f.case, "logits [2,1,0.5,-1], τ=0.5", "the first case where multiplying differs");
  assert(f.expected?.startsWith("[0.842034, 0.113957"), `the whole expected row is shown: ${f.expected}`);
  assert(/at \[\d\]/.test(f.message), `the message names the entry: ${f.message}`);
});

Deno.test("softmaxWithTemperature must reject a negative or NaN temperature", async () => {
  const lenient = (z: number[], t: number) => (t >= 0 ? softmaxT(z, t) : z.map(() => 1 / z.length));
  const f = await failureOf("softmaxWithTemperature", lenient);
  assertEquals(f.case, "input validation");
  assert(f.message.includes("throw a RangeError") && f.message.includes("-1"), f.message);
  const wrongError = await failureOf("softmaxWithTemperature", (z: number[], t: number) => {
    if (!(t >= 0)) throw new TypeError("bad tau");
    return softmaxT(z, t);
  });
  assert(wrongError.message.includes("threw TypeError; a RangeError says"), wrongError.message);
  const nanOnly = await failureOf(
    "softmaxWithTemperature",
    (z: number[], t: number) => (Number.isNaN(t) ? z.map(() => NaN) : softmaxT(z, t)),
  );
  assert(nanOnly.message.includes("NaN"), nanOnly.message);
});

Deno.test("rowEntropy check names bits, log10, the sign, 0·log 0 and unweighted logs", async () => {
  const planted: [string, (p: number[]) => number, string][] = [
    ["bits", (p) => entropy(p, Math.log2), "log base 2 (bits)"],
    ["log10", (p) => entropy(p, Math.log10), "log base 10"],
    ["sign", (p) => -entropy(p), "the minus sign is missing"],
    ["0·log 0", (p) => -p.reduce((s, x) => s + x * Math.log(x), 0), "0·log 0"],
    ["unweighted", (p) => -p.reduce((s, x) => s + (x > 0 ? Math.log(x) : 0), 0), "log p unweighted"],
  ];
  for (const [what, fn, cause] of planted) await expectDiagnosis("rowEntropy", fn, cause, what);
});

Deno.test("softmaxJacobian check names a missing outer product, a flipped sign and broken invariants", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [string, (y: number[]) => number[][] | tf.Tensor2D, string][] = [
    ["diag(y) only", (y) => y.map((yi, i) => y.map((_, j) => (i === j ? yi : 0))), "diag(y) alone"],
    ["diag(y(1−y)) only", (y) => y.map((yi, i) => y.map((_, j) => (i === j ? yi * (1 - yi) : 0))), "outer product"],
    ["sign", (y) => jacobian(y).map((r) => r.map((x) => -x)), "the sign is flipped"],
    ["log softmax", (y) => y.map((_, i) => y.map((yj, j) => (i === j ? 1 : 0) - yj)), "Jacobian of log softmax"],
    ["−y yᵀ only", (y) => y.map((yi) => y.map((yj) => -yi * yj)), "diag(y) is missing"],
    ["y_i twice", (y) => y.map((yi, i) => y.map((_, j) => (i === j ? yi : 0) - yi * yi)), "not symmetric"],
    ["rows off", (y) => y.map((yi, i) => y.map((yj, j) => (i === j ? yi * yi : 0) - yi * yj)), "rows do not sum to 0"],
    ["tensor, diagonal only", (y) => tf.diag(tf.tensor1d(y)) as tf.Tensor2D, "diag(y) alone"],
  ];
  for (const [what, fn, cause] of planted) await expectDiagnosis("softmaxJacobian", fn, cause, what);
  const shape = await failureOf("softmaxJacobian", (y: number[]) => y.map((v) => v * (1 - v)));
  assertEquals(shape.message, "wrong shape", "a vector of y(1−y) is not a matrix");
});

Deno.test("temperatureForMaxWeight check names a multiplied temperature and demands RangeErrors", async () => {
  const f = await expectDiagnosis(
    "temperatureForMaxWeight",
    (z: number[], t: number) => temperature(z, t, true),
    "your answer is 1/τ",
  );
  assertEquals(f.expected, "1.47474");
  const negative = await failureOf("temperatureForMaxWeight", () => -1);
  assert(negative.message.includes("positive finite number"), negative.message);
  const lenient = await failureOf("temperatureForMaxWeight", (z: number[], t: number) => {
    try {
      return temperature(z, t);
    } catch {
      return NaN;
    }
  });
  assertEquals(lenient.case, "input validation");
  assert(lenient.message.includes("throw a RangeError"), lenient.message);
  const rough = await failureOf("temperatureForMaxWeight", (z: number[], t: number) => temperature(z, t) * 1.01);
  assert(rough.message.includes("relative error 1.00e-2"), rough.message);
});

Deno.test("lesson 04 checks survive odd return values and report mutated inputs", async () => {
  await initBackend({ backend: "cpu", print: false });
  const odd: [keyof typeof ex, unknown, string][] = [
    ["dotProductStd", () => "8", "expected a number"],
    ["dotProductStd", () => undefined, "did you forget to return?"],
    ["softmaxWithTemperature", () => [0.5, 0.5], "wrong length"],
    ["softmaxWithTemperature", (z: number[]) => z.map(() => "x"), 'entry 0 is "x"'],
    ["softmaxWithTemperature", () => tf.zeros([2, 2]), "wrong shape"],
    ["softmaxWithTemperature", () => 1, "expected an array of 4 numbers"],
    ["rowEntropy", () => [1], "expected a number, got an array"],
    ["softmaxJacobian", () => 0, "expected a [3, 3] matrix"],
    ["temperatureForMaxWeight", () => Infinity, "positive finite number"],
  ];
  for (const [name, fn, text] of odd) {
    const f = await failureOf(name, fn);
    assert(f.message.includes(text), `${name}: expected "${text}" in: ${f.message}`);
  }
  const disposed = await failureOf("softmaxWithTemperature", (z: number[], t: number) => {
    const p = tf.tensor1d(softmaxT(z, t));
    p.dispose();
    return p;
  });
  assert(disposed.message.includes("disposed"), disposed.message);
  const mutating = await failureOf("softmaxWithTemperature", (z: number[], t: number) => {
    const p = softmaxT(z, t);
    z.sort();
    return p;
  });
  assert(mutating.diagnosis?.includes("inputs mutated"), JSON.stringify(mutating));
});
