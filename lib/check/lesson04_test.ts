import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { bundleOf } from "../display/mod.ts";
import { type CheckResult, NotImplementedError, renderResult, runCheck } from "./core.ts";
import { expectDiagnosis, expectPass, failureOf, runHidden } from "./_testing.ts";
import { lesson04Exercises as ex } from "./lesson04.ts";
import { hidden04 } from "../../tools/grading/hidden.ts";

// Reference answers live only in tests (lib/ tests are not part of the student bundle).
const std = (d: number, sq: number, sk: number) => Math.sqrt(d) * sq * sk;

/** softmax(z/τ) in float64 with the τ → 0 and τ → ∞ limits, and a planted mistake when asked. */
function softmaxT(z: number[], tau: number, bug = "none"): number[] {
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

/** τ with max softmax(z/τ) = target, by bisection on log τ in [lo, hi]; `softmax` is the one it calls. */
function temperatureWith(softmax = softmaxT, [lo0, hi0] = [-30, 30], steps = 200) {
  return (z: number[], target: number) => {
    if (!(target > 1 / z.length && target < 1)) throw new RangeError(`target out of reach: ${target}`);
    let [lo, hi] = [lo0, hi0];
    for (let i = 0; i < steps; i++) {
      const mid = (lo + hi) / 2;
      if (Math.max(...softmax(z, Math.exp(mid))) > target) lo = mid;
      else hi = mid;
    }
    return Math.exp((lo + hi) / 2);
  };
}
const temperature = temperatureWith();
/** temperatureForMaxWeight as a student writes it, calling exercise 2 by its name (the check reads the source). */
function temperatureCalling(softmaxWithTemperature: (z: number[], tau: number) => number[]) {
  return (z: number[], target: number) => {
    if (!(target > 1 / z.length && target < 1)) throw new RangeError(`target out of reach: ${target}`);
    let [lo, hi] = [-30, 30];
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      if (Math.max(...softmaxWithTemperature(z, Math.exp(mid))) > target) lo = mid;
      else hi = mid;
    }
    return Math.exp((lo + hi) / 2);
  };
}

const REFERENCE = {
  dotProductStd: std,
  softmaxWithTemperature: softmaxT,
  rowEntropy: entropy,
  softmaxJacobian: jacobian,
  temperatureForMaxWeight: temperature,
};

Deno.test("lesson 04: the references pass every visible and hidden case, and alternatives pass too", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend({ backend, print: false });
    for (const [name, fn] of Object.entries(REFERENCE) as [keyof typeof ex, unknown][]) {
      await expectPass(ex, name, fn);
      const hidden = await runHidden(ex[name], hidden04[name], fn);
      assertEquals(hidden.status, "passed", `${name} hidden: ${JSON.stringify(hidden.failure)}`);
    }
    await expectPass(
      ex,
      "softmaxWithTemperature",
      (z: number[], t: number) => Float64Array.from(softmaxT(z, t)),
      "typed array",
    );
    await expectPass(ex, "softmaxJacobian", (y: number[]) => tf.tensor2d(jacobian(y)), "a tensor");
    await expectPass(ex, "softmaxJacobian", (y: number[]) => {
      const v = tf.tensor1d(y);
      return tf.diag(v).sub(v.reshape([-1, 1]).matMul(v.reshape([1, -1])));
    }, "chained tensor methods");
    await expectPass(ex, "temperatureForMaxWeight", (z: number[], target: number) => {
      // Newton on log τ of the max weight computed directly (no softmaxWithTemperature at all).
      if (!(target > 1 / z.length && target < 1)) throw new RangeError("unreachable");
      const top = Math.max(...z);
      const f = (u: number) => 1 / z.reduce((s, x) => s + Math.exp((x - top) / Math.exp(u)), 0) - target;
      let [lo, hi] = [-20, 20];
      for (let i = 0; i < 80; i++) [lo, hi] = f((lo + hi) / 2) > 0 ? [(lo + hi) / 2, hi] : [lo, (lo + hi) / 2];
      return Math.exp((lo + hi) / 2);
    }, "direct formula");
  }
  await initBackend({ backend: "cpu", print: false });
  await expectPass(ex, "softmaxWithTemperature", (z: number[], t: number) => {
    if (!(t >= 0)) throw new RangeError("tau");
    if (t === 0 || t === Infinity) return softmaxT(z, t);
    return tf.tidy(() => tf.softmax(tf.div(tf.tensor1d(z), t))); // float32 tf.softmax
  }, "tf.softmax");
});

Deno.test("dotProductStd names every planted mistake on its first case", async () => {
  const planted: [string, (d: number, sq: number, sk: number) => number, string][] = [
    ["variance", (d, sq, sk) => d * (sq * sk) ** 2, "you returned the variance"],
    ["no sqrt", (d, sq, sk) => d * sq * sk, "you multiplied by d"],
    ["variances of the components", (d, sq, sk) => Math.sqrt(d) * sq ** 2 * sk ** 2, "(the components' variances)"],
    ["σ ignored", (d) => Math.sqrt(d), "you left out σ_q and σ_k"],
    ["1/√d", (d) => 1 / Math.sqrt(d), "you returned 1/√d"],
    ["σ added", (d, sq, sk) => Math.sqrt(d) * (sq + sk), "you added σ_q + σ_k"],
    ["√(d·σ_q·σ_k)", (d, sq, sk) => Math.sqrt(d * sq * sk), "you took the square root of d·σ_q·σ_k"],
  ];
  for (const [what, fn, cause] of planted) {
    const f = await expectDiagnosis(ex, "dotProductStd", fn, cause, what);
    assertEquals(f.case, "d=16, σ_q=2, σ_k=1.5", what);
  }
});

Deno.test("softmaxWithTemperature names each planted softmax mistake", async () => {
  const planted: [string, string][] = [
    ["multiply", "you multiplied the logits by τ"],
    ["ignore", "you left τ out"],
    ["noMax", "overflows to Infinity"],
    ["noZero", "you divided by τ = 0"],
    ["firstTie", "you gave all the weight to one of the 2 tied largest logits"],
    ["unnormalised", "your weights sum to"],
  ];
  for (const [bug, cause] of planted) {
    await expectDiagnosis(ex, "softmaxWithTemperature", (z: number[], t: number) => softmaxT(z, t, bug), cause, bug);
  }
  await expectDiagnosis(
    ex,
    "softmaxWithTemperature",
    (z: number[], t: number) => softmaxT(z, t, Math.max(...z) < -100 ? "noMax" : "none"),
    "underflow to 0",
  );
  await expectDiagnosis(
    ex,
    "softmaxWithTemperature",
    (z: number[], t: number) => (t === Infinity ? softmaxT(z, 0) : softmaxT(z, t)),
    "the limit is uniform",
  );
  const f = await failureOf(ex, "softmaxWithTemperature", (z: number[], t: number) => softmaxT(z, t, "multiply"));
  assertEquals(f.case, "logits [2,1,0.5,-1], τ=0.5", "the first case tells multiplying apart");
  assert(f.expected?.startsWith("[0.842034, 0.113957"), `the whole expected row is shown: ${f.expected}`);
  assert(/at \[\d\]/.test(f.message), `the message names the entry: ${f.message}`);
});

Deno.test("softmaxWithTemperature must reject a negative or NaN temperature", async () => {
  const lenient = (z: number[], t: number) => (t >= 0 ? softmaxT(z, t) : z.map(() => 1 / z.length));
  const f = await failureOf(ex, "softmaxWithTemperature", lenient);
  assertEquals(f.case, "input validation");
  assert(f.message.includes("throw a RangeError") && f.message.includes("-1"), f.message);
  const wrongError = await failureOf(ex, "softmaxWithTemperature", (z: number[], t: number) => {
    if (!(t >= 0)) throw new TypeError("bad tau");
    return softmaxT(z, t);
  });
  assert(wrongError.message.includes("threw TypeError; a RangeError says"), wrongError.message);
});

Deno.test("rowEntropy names bits, log10, the sign, 0·log 0, unweighted logs, and a return at a zero weight (class 5)", async () => {
  const planted: [string, (p: number[]) => number, string][] = [
    ["bits", (p) => entropy(p, Math.log2), "you used log base 2"],
    ["log10", (p) => entropy(p, Math.log10), "you used log base 10"],
    ["sign", (p) => -entropy(p), "you left out the minus sign"],
    ["0·log 0", (p) => -p.reduce((s, x) => s + x * Math.log(x), 0), "you computed 0·log 0"],
    ["unweighted", (p) => -p.reduce((s, x) => s + (x > 0 ? Math.log(x) : 0), 0), "you summed −log p unweighted"],
    ["return at zero", (p) => {
      let h = 0;
      for (const x of p) {
        if (x === 0) return h; // `return` where `continue` was meant
        h -= x * Math.log(x);
      }
      return h;
    }, "you stopped at the first zero weight"],
  ];
  for (const [what, fn, cause] of planted) await expectDiagnosis(ex, "rowEntropy", fn, cause, what);
});

Deno.test("softmaxJacobian names a missing outer product, a flipped sign and broken invariants", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [string, (y: number[]) => number[][] | tf.Tensor, string][] = [
    ["diag(y) only", (y) => y.map((yi, i) => y.map((_, j) => (i === j ? yi : 0))), "you returned diag(y)"],
    ["diag(y(1−y)) only", (y) => y.map((yi, i) => y.map((_, j) => (i === j ? yi * (1 - yi) : 0))), "only the diagonal"],
    ["sign", (y) => jacobian(y).map((r) => r.map((x) => -x)), "you flipped the sign"],
    ["log softmax", (y) => y.map((_, i) => y.map((yj, j) => (i === j ? 1 : 0) - yj)), "Jacobian of log softmax"],
    ["−y yᵀ only", (y) => y.map((yi) => y.map((yj) => -yi * yj)), "you left out diag(y)"],
    ["y_i twice", (y) => y.map((yi, i) => y.map((_, j) => (i === j ? yi : 0) - yi * yi)), "not symmetric"],
    ["rows off", (y) => y.map((yi, i) => y.map((yj, j) => (i === j ? yi * yi : 0) - yi * yj)), "rows do not sum to 0"],
    ["tensor, diagonal only", (y) => tf.diag(tf.tensor1d(y)), "you returned diag(y)"],
  ];
  for (const [what, fn, cause] of planted) await expectDiagnosis(ex, "softmaxJacobian", fn, cause, what);
});

Deno.test("temperatureForMaxWeight names 1/τ, an answer on a bracket's edge (class 5) and too few steps", async () => {
  await expectDiagnosis(
    ex,
    "temperatureForMaxWeight",
    (z: number[], t: number) => 1 / temperature(z, t),
    "your answer is 1/τ",
  );
  // A bracket hard-coded to τ ∈ [0.01, 10]: the case τ ≈ 34.6 lands on its upper edge.
  const bracket = temperatureWith(softmaxT, [Math.log(0.01), Math.log(10)]);
  const edge = await expectDiagnosis(
    ex,
    "temperatureForMaxWeight",
    bracket,
    "sits on the edge of your search interval",
  );
  assert(edge.diagnosis!.includes("lies above it"), edge.diagnosis);
  const linear = (z: number[], target: number) => {
    if (!(target > 1 / z.length && target < 1)) throw new RangeError("unreachable");
    let [lo, hi] = [0.01, 10]; // bisection on τ itself, in a fixed bracket
    for (let i = 0; i < 100; i++) {
      const mid = (lo + hi) / 2;
      if (Math.max(...softmaxT(z, mid)) > target) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };
  await expectDiagnosis(ex, "temperatureForMaxWeight", linear, "edge of your search interval", "a linear bracket");
  await expectDiagnosis(
    ex,
    "temperatureForMaxWeight",
    temperatureWith(softmaxT, [-30, 30], 12),
    "you stopped the search too early",
  );
  const negative = await failureOf(ex, "temperatureForMaxWeight", () => -1);
  assert(negative.message.includes("positive finite number"), negative.message);
  const lenient = await failureOf(ex, "temperatureForMaxWeight", (z: number[], t: number) => {
    try {
      return temperature(z, t);
    } catch {
      return NaN;
    }
  });
  assertEquals(lenient.case, "input validation");
});

Deno.test("a mistake in softmaxWithTemperature is charged once: temperatureForMaxWeight, which calls it, keeps its points and names it (class 9)", async () => {
  // Exercise 2 not implemented, and exercise 5 calls it: 'not implemented', naming the function and exercise.
  const stub = (_z: number[], _t: number): number[] => {
    throw new NotImplementedError("softmaxWithTemperature");
  };
  const waiting = await runCheck(ex.temperatureForMaxWeight, temperatureWith(stub));
  assertEquals(waiting.status, "not-implemented");
  assert(
    waiting.note?.includes("calls softmaxWithTemperature (exercise 2), which is not implemented yet"),
    waiting.note,
  );
  const text = String(bundleOf(renderResult(waiting))["text/plain"]);
  assert(text.includes("note: temperatureForMaxWeight calls softmaxWithTemperature (exercise 2)"), text);
  // Exercise 2 overflows (no max subtraction); exercise 5 calls it and fails: the note names exercise 2's failure,
  // and exercise 5 is not charged for it (its points stay; the failure stays shown).
  const overflowing = (z: number[], t: number) => softmaxT(z, t, "noMax");
  const ex2 = await runCheck(ex.softmaxWithTemperature, overflowing);
  assertEquals(ex2.status, "failed");
  const prior = new Map<string, CheckResult>([["softmaxWithTemperature", ex2]]);
  const once = await runCheck(ex.temperatureForMaxWeight, temperatureCalling(overflowing), prior);
  assertEquals([once.status, once.points], ["failed", 3]);
  assert(
    once.note?.startsWith(
      "temperatureForMaxWeight calls softmaxWithTemperature (exercise 2), which fails its own " +
        "check",
    ) && once.note.includes("charged there, once") && once.note.includes("keeps its 3 points"),
    JSON.stringify(once),
  );
  // One that does not call exercise 2 is judged on its own: charged, with its own cause and no note.
  const own = await runCheck(ex.temperatureForMaxWeight, (z: number[]) => 1 / z.length, prior);
  assertEquals([own.status, own.points, own.note], ["failed", 0, undefined]);
  // Exercise 2 mutates its logits: exercise 5 "changes its input" through it, and the note says where.
  const sorting = (z: number[], t: number) => {
    const p = softmaxT(z, t);
    z.sort((a, b) => b - a);
    return p;
  };
  const mutated = await runCheck(ex.softmaxWithTemperature, sorting);
  const g = await runCheck(
    ex.temperatureForMaxWeight,
    temperatureCalling(sorting),
    new Map([["softmaxWithTemperature", mutated]]),
  );
  assert(
    g.failure?.message.includes("changed its input") && g.points === 3 &&
      g.note?.includes("softmaxWithTemperature (exercise 2)"),
    JSON.stringify(g),
  );
  // With a correct exercise 2 there is no note.
  const ok = await runCheck(ex.softmaxWithTemperature, softmaxT);
  const h = await failureOf(ex, "temperatureForMaxWeight", () => 1, new Map([["softmaxWithTemperature", ok]]));
  assertEquals(h.note, undefined);
});
