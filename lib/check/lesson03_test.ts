import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { type Case, type Exercise, runCheck } from "./core.ts";
import * as checkHelpers from "./_testing.ts";
import { lesson03Exercises as ex } from "./lesson03.ts";
import { hiddenCases } from "../../tools/grading/hidden.ts";

// Reference answers live only in this test (lib/ tests are not part of the student bundle).

/** The additive causal mask [T, S], queries aligned to the last T keys; `keep` plants a wrong rule. */
const maskWith = (keep: (i: number, j: number, o: number) => boolean, drop = -Infinity) => (T: number, S: number) => {
  if (T > S) throw new RangeError(`Cannot build a causal mask: T (${T}) must not exceed S (${S})`);
  return tf.tensor2d(
    Array.from({ length: T }, (_, i) => Array.from({ length: S }, (_, j) => keep(i, j, S - T) ? 0 : drop)),
    [T, S],
  );
};
const mask = maskWith((i, j, o) => j <= i + o);

const maxContext = (budget: number, heads: number, bytes: number) => Math.floor(Math.sqrt(budget / (heads * bytes)));

type Step = (x: tf.Tensor2D, cache: tf.Tensor2D[], W: tf.Tensor2D[]) => tf.Tensor2D[];

/** One decode step; `bug` plants one mistake at a time. */
function decodeWith(
  bug:
    | "none"
    | "allOutputs"
    | "noGrow"
    | "featureAxis"
    | "prepend"
    | "embedding"
    | "query"
    | "swapped"
    | "oldChanged"
    | "noSelf"
    | "unscaled",
): Step {
  return (x, [K, V], [Wq, Wk, Wv]) =>
    tf.tidy(() => {
      const d = x.shape[1];
      const q = tf.matMul(x, Wq);
      const k = bug === "embedding" ? x : bug === "query" ? q : tf.matMul(x, Wk);
      const v = bug === "embedding" ? x : bug === "query" ? q : tf.matMul(x, Wv);
      const grow = (C: tf.Tensor2D, row: tf.Tensor): tf.Tensor =>
        bug === "noGrow"
          ? C
          : bug === "featureAxis"
          ? tf.concat([C, row], 1)
          : bug === "prepend"
          ? tf.concat([row, C], 0)
          : bug === "oldChanged"
          ? tf.concat([tf.mul(C, 2), row], 0)
          : tf.concat([C, row], 0);
      const [K2, V2] = [grow(K, k), grow(V, v)];
      // (A cache grown along the features cannot be attended over; this planted bug attends over the right one.)
      const [Ka, Va] = bug === "noSelf"
        ? [K, V]
        : bug === "featureAxis"
        ? [tf.concat([K, k]), tf.concat([V, v])]
        : [K2, V2];
      const scale = bug === "unscaled" ? 1 : 1 / Math.sqrt(d);
      const queries = bug === "allOutputs" ? tf.concat([tf.matMul(K, tf.zeros([d, d])), q], 0) : q;
      const y = Ka.shape[0] === 0
        ? tf.zeros([1, d])
        : tf.matMul(tf.softmax(tf.mul(tf.matMul(queries, tf.transpose(Ka)), scale)), Va);
      return (bug === "swapped" ? [y, V2, K2] : [y, K2, V2]) as tf.Tensor2D[];
    });
}

/** FLOPs of generating N tokens after a P-token prompt (see the exercise text). */
function flops(P: number, N: number, d: number, cached: boolean): bigint {
  const [p, n, dd] = [BigInt(P), BigInt(N), BigInt(d)];
  const s = n * p + n * (n + 1n) / 2n; // Σ_{t=1..N} (P + t)
  return cached ? 6n * n * dd * dd + 4n * dd * s : 2n * n * dd * dd + (4n * dd * dd + 4n * dd) * s;
}

const refs: Record<keyof typeof ex, unknown> = {
  causalMask: mask,
  maxContext,
  decodeStep: decodeWith("none"),
  generationFlops: flops,
};

const failureOf = (exercise: keyof typeof ex, fn: unknown) =>
  checkHelpers.failureOf(ex as unknown as Record<string, Exercise<never>>, exercise, fn);
const expectDiagnosis = (exercise: keyof typeof ex, fn: unknown, cause: string, what = cause) =>
  checkHelpers.expectDiagnosis(ex as unknown as Record<string, Exercise<never>>, exercise, fn, cause, what);

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`lesson 03 checks pass correct answers without leaking tensors (${backend})`, async () => {
    await initBackend({ backend, print: false });
    for (const name of Object.keys(ex) as (keyof typeof ex)[]) {
      const before = tf.memory().numTensors;
      const r = await runCheck(ex[name] as never, refs[name]);
      assertEquals([r.status, r.points], ["passed", ex[name].points], `${name}: ${JSON.stringify(r.failure)}`);
      assertEquals(tf.memory().numTensors, before, `${name}: the check leaked tensors`);
    }
  });
}

Deno.test("lesson 03 checks accept other honest forms: number[][] masks and caches, bigint counts", async () => {
  await initBackend({ backend: "cpu", print: false });
  const arrays = await runCheck(ex.causalMask, (T: number, S: number) => mask(T, S).arraySync());
  assertEquals(arrays.status, "passed", JSON.stringify(arrays.failure));
  const big = await runCheck(ex.maxContext, (b: number, h: number, e: number) => BigInt(maxContext(b, h, e)));
  assertEquals(big.status, "passed", JSON.stringify(big.failure));
  const nested = await runCheck(
    ex.decodeStep,
    (x: tf.Tensor2D, c: tf.Tensor2D[], W: tf.Tensor2D[]) => decodeWith("none")(x, c, W).map((t) => t.arraySync()),
  );
  assertEquals(nested.status, "passed", JSON.stringify(nested.failure));
  const numbers = await runCheck(
    ex.generationFlops,
    (P: number, N: number, d: number, c: boolean) => {
      const f = flops(P, N, d, c);
      return f <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(f) : f;
    },
  );
  assertEquals(numbers.status, "passed", JSON.stringify(numbers.failure));
});

Deno.test("causalMask check names each planted mask bug", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [string, unknown, string][] = [
    ["top-left alignment", maskWith((i, j) => j <= i), "aligned to the first keys"],
    ["diagonal masked", maskWith((i, j, o) => j < i + o), "the diagonal is masked"],
    ["next key visible", maskWith((i, j, o) => j <= i + o + 1), "also sees the next key"],
    ["past and future swapped", maskWith((i, j, o) => j >= i + o), "past and future swapped"],
    ["no mask", maskWith(() => true), "nothing is masked"],
    ["finite drop", maskWith((i, j, o) => j <= i + o, -1e9), "a large finite number instead of −Infinity"],
    [
      "0/1 keep flags",
      (T: number, S: number) => tf.tidy(() => tf.cast(tf.equal(mask(T, S), 0), "float32")),
      "a 0/1 flag mask",
    ],
    ["bool keep mask", (T: number, S: number) => tf.tidy(() => tf.equal(mask(T, S), 0)), "that is a keep-mask"],
    [
      "0 · −∞",
      (T: number, S: number) =>
        tf.tidy(() => tf.mul(tf.cast(tf.notEqual(mask(T, S), 0), "float32"), tf.scalar(-Infinity))),
      "0 · (−∞) is NaN",
    ],
    ["[S, T]", (T: number, S: number) => tf.tidy(() => tf.transpose(mask(T, S))), "the mask is [T, S], not [S, T]"],
    [
      "transposed, square",
      (T: number, S: number) => T === S ? tf.tidy(() => tf.transpose(mask(T, S))) : mask(T, S),
      "past and future swapped",
    ],
  ];
  for (const [what, fn, cause] of planted) await expectDiagnosis("causalMask", fn, cause, what);
  const f = await failureOf("causalMask", maskWith((i, j, o) => j < i + o));
  assert(f.message.startsWith("wrong entry at [") && f.expected === "0" && f.actual === "-Infinity", JSON.stringify(f));
});

Deno.test("causalMask must reject more queries than keys", async () => {
  await initBackend({ backend: "cpu", print: false });
  const lenient = (T: number, S: number) => maskWith((i, j, o) => j <= i + o)(Math.min(T, S), S);
  const f = await failureOf("causalMask", lenient);
  assertEquals(f.case, "input validation");
  assert(f.message.includes("throw a RangeError"), f.message);
  const wrongError = await failureOf("causalMask", (T: number, S: number) => {
    if (T > S) throw new TypeError("no");
    return mask(T, S);
  });
  assert(wrongError.message.includes("threw TypeError"), wrongError.message);
});

Deno.test("maxContext check names each planted memory bug", async () => {
  const planted: [string, unknown, string][] = [
    ["elements", (b: number, h: number) => Math.floor(Math.sqrt(b / h)), "you counted entries, not bytes"],
    ["rounded up", (b: number, h: number, e: number) => Math.ceil(Math.sqrt(b / (h * e))), "rounded up"],
    ["causal halves", (b: number, h: number, e: number) => Math.floor(Math.sqrt(2 * b / (h * e))), "does not halve"],
    ["linear", (b: number, h: number, e: number) => Math.floor(b / (h * e)), "memory grows as T²"],
    ["heads ignored", (b: number, _h: number, e: number) => Math.floor(Math.sqrt(b / e)), "its own T×T matrix"],
    ["strict <", (b: number, h: number, e: number) => {
      let T = 0;
      while (h * e * (T + 1) ** 2 < b) T++;
      return T;
    }, "fills the budget exactly still fits"],
  ];
  for (const [what, fn, cause] of planted) await expectDiagnosis("maxContext", fn, cause, what);
});

Deno.test("decodeStep check names each planted cache bug", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [Parameters<typeof decodeWith>[0], string][] = [
    ["allOutputs", "the new token's output only, one row"],
    ["noGrow", "the cache did not grow"],
    ["featureAxis", "appended along the feature axis"],
    ["prepend", "the new row went first"],
    ["embedding", "you cached the token's embedding x"],
    ["query", "you cached the query"],
    ["swapped", "keys and values are swapped"],
    ["oldChanged", "the earlier rows changed"],
    ["noSelf", "the new token attends to itself too"],
    ["unscaled", "missing 1/√d"],
  ];
  for (const [bug, cause] of planted) await expectDiagnosis("decodeStep", decodeWith(bug), cause, bug);
  const wrongType = await failureOf("decodeStep", () => tf.zeros([1, 2]));
  assert(wrongType.message.startsWith("expected [y, K', V']"), wrongType.message);
  const disposing = await failureOf("decodeStep", (x: tf.Tensor2D, c: tf.Tensor2D[], W: tf.Tensor2D[]) => {
    const out = decodeWith("none")(x, c, W);
    c[0].dispose(); // "free the old cache": the caller's tensor
    return out;
  });
  assert(disposing.message.includes("changed its input (argument 2)"), JSON.stringify(disposing));
});

Deno.test("generationFlops check names each planted counting bug", async () => {
  const wrongSum = (sum: (p: bigint, n: bigint) => bigint) => (P: number, N: number, d: number, cached: boolean) => {
    const [p, n, dd] = [BigInt(P), BigInt(N), BigInt(d)];
    const s = sum(p, n);
    return cached ? 6n * n * dd * dd + 4n * dd * s : 2n * n * dd * dd + (4n * dd * dd + 4n * dd) * s;
  };
  const only =
    (cached: boolean, wrong: (P: number, N: number, d: number) => bigint) =>
    (P: number, N: number, d: number, c: boolean) => c === cached ? wrong(P, N, d) : flops(P, N, d, c);
  const B = BigInt;
  const planted: [string, unknown, string][] = [
    ["N² pairs", wrongSum((p, n) => n * p + n * n), "T² instead of T(T+1)/2"],
    ["N²/2 pairs", wrongSum((p, n) => n * p + n * n / 2n), "is N(N+1)/2, not N²/2"],
    ["prompt left out", wrongSum((_p, n) => n * (n + 1n) / 2n), "over the prompt too"],
    ["1 FLOP per multiply–add", (P: number, N: number, d: number, c: boolean) => flops(P, N, d, c) / 2n, "1 FLOP"],
    ["cached ↔ uncached", (P: number, N: number, d: number, c: boolean) => flops(P, N, d, !c), "that is the count"],
    ["cache without attention", only(true, (_P, N, d) => 6n * B(N) * B(d) ** 2n), "still attends over all P + t"],
    [
      "prefill counted",
      only(true, (P, N, d) => flops(P, N, d, true) + 4n * B(P) * B(d) ** 2n),
      "already cached: count only the N steps",
    ],
    [
      "every query recomputed",
      only(false, (P, N, d) => {
        const s = B(N) * B(P) + B(N) * B(N + 1) / 2n;
        return 6n * B(d) ** 2n * s + 4n * B(d) * s;
      }),
      "only the newest token's query is needed",
    ],
    [
      "attention left out",
      only(false, (P, N, d) => 2n * B(N) * B(d) ** 2n + 4n * B(d) ** 2n * (B(N) * B(P) + B(N) * B(N + 1) / 2n)),
      "you left out attention itself",
    ],
  ];
  for (const [what, fn, cause] of planted) await expectDiagnosis("generationFlops", fn, cause, what);
  const unsafe = await failureOf(
    "generationFlops",
    (P: number, N: number, d: number, c: boolean) => Number(flops(P, N, d, c)),
  );
  assert(unsafe.message.includes("beyond 2^53"), unsafe.message);
});

Deno.test("lesson 03 hidden cases pass the reference answers and catch a planted bug", async () => {
  await initBackend({ backend: "cpu", print: false });
  const hidden = hiddenCases["03"];
  assertEquals(Object.keys(hidden).sort(), Object.keys(ex).sort());
  for (const name of Object.keys(ex) as (keyof typeof ex)[]) {
    const cases = hidden[name] as Case<never>[];
    assert(cases.length >= 2, `${name}: at least two hidden cases`);
    const r = await runCheck({ ...ex[name], cases, after: undefined } as never, refs[name]);
    assertEquals(r.status, "passed", `${name}: ${JSON.stringify(r.failure)}`);
  }
  const wrong: Record<keyof typeof ex, unknown> = {
    causalMask: maskWith((i, j) => j <= i),
    maxContext: (b: number, h: number) => Math.floor(Math.sqrt(b / h)),
    decodeStep: decodeWith("unscaled"),
    generationFlops: (P: number, N: number, d: number, c: boolean) => flops(P, N, d, c) + 1n,
  };
  for (const name of Object.keys(ex) as (keyof typeof ex)[]) {
    const r = await runCheck({ ...ex[name], cases: hidden[name], after: undefined } as never, wrong[name]);
    assertEquals(r.status, "failed", `${name}: the hidden cases must catch a wrong answer`);
  }
});
