import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { bundleOf } from "../display/mod.ts";
import {
  type Case,
  CHECK_MIME,
  checkCalls,
  type CheckResult,
  describe,
  type Exercise,
  type ExerciseSpec,
  lesson,
  NotImplementedError,
  PROMISE_TIMEOUT_MS,
  refersTo,
  renderResult,
  runCheck,
} from "./core.ts";
import { readMatrix } from "./compare.ts";
import type { HiddenFor } from "../../tools/grading/hidden.ts";

/** A toy lesson: one exercise that doubles a [2, 2] matrix, one that counts, one that uses another. */
type DoubleArgs = [m: tf.Tensor2D];
const double: ExerciseSpec<DoubleArgs, tf.Tensor | number[][]> = {
  points: 2,
  cases: [1, 2].map((k): Case<DoubleArgs> => ({
    label: `k=${k}`,
    args: () => [tf.tensor2d([[k, 0], [0, -k]])],
    verify: (actual) => {
      const m = readMatrix(actual, 2, 2);
      if (!(m instanceof Float64Array)) return m;
      return m.every((x, i) => x === [2 * k, 0, 0, -2 * k][i]) ? { ok: true } : { ok: false, message: "not doubled" };
    },
  })),
};
const count: ExerciseSpec<[n: number], number> = {
  points: 1,
  cases: [{ label: "n=3", args: () => [3], verify: (a) => (a === 6 ? { ok: true } : { ok: false, message: "no" }) }],
};
const toy = lesson("99", {
  double,
  count,
  usesCount: { ...count, uses: ["count"] } as ExerciseSpec<[n: number], number>,
});
const doubled = (m: tf.Tensor2D) => tf.mul(m, 2);

Deno.test("lesson() numbers exercises in order and checkCalls types each check call by the student's signature", () => {
  assertEquals([toy.double.id, toy.double.name, toy.double.number], ["99.double", "double", 1]);
  assertEquals(toy.usesCount.number, 3);
  const calls = checkCalls(toy);
  assertEquals(Object.keys(calls), ["double", "count", "usesCount"]);
  // Type-level checks: these lines must not compile (deno check runs on this file).
  // @ts-expect-error: a wrong argument type is a compile error
  const _wrongArg = () => calls.count((n: string) => n.length);
  // @ts-expect-error: a wrong return type is a compile error
  const _wrongReturn = () => calls.count((n: number) => String(n));
  const _right = () => calls.double((m: tf.Tensor2D) => m.mul(2)); // chained methods type-check
  // @ts-expect-error: a hidden case for an exercise that does not exist
  const _wrongKey: HiddenFor<typeof toy> = { dubble: [] };
  const badCase: Case<[n: string]> = { label: "x", args: () => ["3"], verify: () => ({ ok: true }) };
  // @ts-expect-error: hidden cases whose arguments do not match the exercise's
  const _wrongCase: HiddenFor<typeof toy> = { count: [badCase] };
  const _ok: HiddenFor<typeof toy> = { count: [{ label: "x", args: () => [4], verify: () => ({ ok: true }) }] };
});

Deno.test("the checker never throws and never leaks a tensor, whatever the function does", async () => {
  await initBackend({ backend: "cpu", print: false });
  const hostile = new Proxy({}, {
    get() {
      throw new Error("trap");
    },
    getPrototypeOf() {
      throw new Error("trap");
    },
  });
  const odd: [unknown, string][] = [
    [() => undefined, "did you forget to return?"],
    [() => "42", 'got "42"'],
    [() => NaN, "expected a [2, 2] matrix"],
    [() => hostile, "trap"],
    [() => [[1, 2], [3]], "wrong shape"],
    [() => [[1, "2"], [3, 4]], 'entry [0, 1] is "2"'],
    [() => tf.zeros([3, 3]), "wrong shape"],
    [(m: tf.Tensor2D) => {
      const out = doubled(m);
      out.dispose();
      return out;
    }, "disposed"],
    [() => {
      tf.ones([100]); // made and never disposed
      throw new TypeError("boom");
    }, "threw TypeError: boom"],
    [() => {
      throw "a string";
    }, "threw a non-Error value"],
    [() => {
      throw hostile;
    }, "threw"],
    [async () => await Promise.reject(new Error("async boom")), "threw Error: async boom"],
    [42, "expected the function double itself"],
  ];
  for (const [fn, text] of odd) {
    const before = tf.memory().numTensors;
    const r = await runCheck(toy.double, fn);
    assertEquals(r.status, "failed", String(fn));
    assert(r.failure!.message.includes(text), `expected "${text}" in: ${r.failure!.message}`);
    assertEquals(tf.memory().numTensors, before, `leaked tensors: ${String(fn)}`);
    renderResult(r); // renders too
  }
  const before = tf.memory().numTensors;
  const ok = await runCheck(toy.double, (m: tf.Tensor2D) => {
    tf.ones([10]); // a stray tensor: the case's scope disposes it
    return doubled(m);
  });
  assertEquals(ok.status, "passed");
  assertEquals(tf.memory().numTensors, before, "a passing check leaked tensors");
});

Deno.test("a verify that throws counts as a failure, never as a crash", async () => {
  const broken: Exercise<[n: number]> = {
    id: "99.x",
    name: "x",
    number: 9,
    points: 1,
    cases: [{ label: "x", args: () => [1], verify: () => JSON.parse("{") }],
  };
  const r = await runCheck(broken, () => 1);
  assert(r.failure?.message.startsWith("the result could not be read: SyntaxError"), JSON.stringify(r));
});

Deno.test({
  name: "a Promise that never settles fails after the timeout",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const t0 = performance.now();
    const r = await runCheck(toy.count, () => new Promise(() => {}));
    assert(r.failure?.message.includes("did not settle within 5 s"), JSON.stringify(r));
    assert(performance.now() - t0 >= PROMISE_TIMEOUT_MS - 50);
    const late = await runCheck(toy.count, () => Promise.resolve(6));
    assertEquals(late.status, "passed");
  },
});

Deno.test("mutation of an argument is detected: tensors, nested arrays, typed arrays, ±∞ and NaN entries", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = await runCheck(toy.double, (m: tf.Tensor2D) => {
    const out = doubled(m);
    (m.dataSync() as Float32Array)[0] = 99; // cpu: writes through
    return out;
  });
  assert(r.failure?.message.includes("changed its input (argument 1)"), JSON.stringify(r));
  assert(r.failure?.diagnosis?.startsWith("you modified an argument in place; the rule"), r.failure?.diagnosis);
  const arrays: [unknown[], (a: unknown[]) => void][] = [
    [[[1, 2], [3, 4]], (a) => ((a[1] as number[])[0] = 5)],
    [[Float64Array.from([1, 2])], (a) => ((a[0] as Float64Array)[1] = 7)],
    [[[Infinity, 1]], (a) => ((a[0] as number[])[0] = -Infinity)], // JSON alone would write null for both
    [[[NaN, 1]], (a) => ((a[0] as number[])[0] = Infinity)],
    [[1, 2, 3], (a) => a.sort((x, y) => (y as number) - (x as number))],
  ];
  for (const [input, mutate] of arrays) {
    const ex: Exercise<[a: unknown[]]> = {
      id: "99.x",
      name: "x",
      number: 9,
      points: 1,
      cases: [{ label: "x", args: () => [structuredClone(input)], verify: () => ({ ok: true }) }],
    };
    const m = await runCheck(ex, (a: unknown[]) => (mutate(a), 0));
    assert(m.failure?.message.includes("changed its input"), `${JSON.stringify(input)}: ${JSON.stringify(m)}`);
  }
});

Deno.test("known thrown messages are mapped to causes (class 3)", async () => {
  const messages: [() => unknown, string][] = [
    [() => tf.softmax(tf.ones([2, 2]), 0), "you took the softmax along axis 0"],
    [() => {
      throw new Error("Kernel 'Einsum' not registered for backend 'webgl'");
    }, "the webgl backend does not have"],
    [() => ([1, 2] as unknown as tf.Tensor).transpose(), "you called .transpose() on"],
    [() => {
      const t = tf.ones([2]);
      t.dispose();
      return t.add(1);
    }, "you used a tensor after it was disposed"],
  ];
  for (const [fn, cause] of messages) {
    const r = await runCheck(toy.count, fn);
    assert(r.failure?.diagnosis?.includes(cause), `${cause}: ${JSON.stringify(r)}`);
  }
  // "is not a function" for something that is not a tensor method names nothing.
  const r = await runCheck(toy.count, () => (null as unknown as { frobnicate(): void }).frobnicate());
  assertEquals(r.failure?.diagnosis, undefined);
});

Deno.test("a stub reports 'not implemented'; a stub of another function is named with its exercise (class 9)", async () => {
  const own = await runCheck(toy.usesCount, () => {
    throw new NotImplementedError("usesCount");
  });
  assertEquals([own.status, own.note], ["not-implemented", undefined]);
  const other = await runCheck(toy.usesCount, () => {
    throw new NotImplementedError("count");
  });
  assertEquals(other.status, "not-implemented");
  assertEquals(other.note, "usesCount calls count (exercise 2), which is not implemented yet: finish that one first");
  const failedPrior = await runCheck(toy.count, () => 7);
  const prior = new Map([["count", failedPrior]]);
  // Its source calls count, which fails its own check: charged once, there; this one keeps its point.
  const count = (n: number) => n + 4;
  const f = await runCheck(toy.usesCount, (n: number) => count(n), prior);
  assertEquals([f.status, f.points], ["failed", 1]);
  assert(f.note?.startsWith("usesCount calls count (exercise 2), which fails its own check (no)"), f.note);
  const shown = String(bundleOf(renderResult(f))["text/plain"]).split("\n")[0];
  assertEquals(shown, "✘ usesCount: failed on case 1 of 1 (n=3) — 1/1 points (not charged: see the note)");
  // Its source does not refer to count: judged on its own, no note.
  const alone = await runCheck(toy.usesCount, () => 7, prior);
  assertEquals([alone.points, alone.note], [0, undefined]);
  // The grader's replayer has no source of its own: the source comes from the notebook's cells.
  const replayed = await runCheck(toy.usesCount, () => 7, prior, "function usesCount(n) { return count(n) + 1; }");
  assertEquals(replayed.points, 1);
  // Keeping points is capped at what the other exercise lost: breaking a 1-point exercise cannot buy 3 points.
  const spec = { points: toy.count.points, cases: toy.count.cases } as ExerciseSpec<[n: number], number>;
  const capped = lesson("98", { count: spec, big: { ...spec, points: 3, uses: ["count"] } });
  const cap = await runCheck(capped.big, (n: number) => count(n), new Map([["count", failedPrior]]));
  assertEquals(cap.points, 1);
  assert(cap.note?.includes("keeps 1 of its 3 points for now (no more than count lost)"), cap.note);
  // refersTo: a call or a mention by name; a method of the same name or a longer name is not one.
  assertEquals(refersTo(undefined, "count"), undefined);
  const refers = ["x.count(n)", "x?.count(n)", "recount(n)", "count(n)", "f(...count(n))", "[1].map(count)"]
    .map((s) => refersTo(s, "count"));
  assertEquals(refers, [false, false, false, true, true, true]);
});

Deno.test("renderResult: one line on a pass; message, expected, actual, cause and note on a failure (class 11)", async () => {
  const pass = bundleOf(renderResult(await runCheck(toy.double, doubled)));
  assertEquals(pass["text/plain"], "✔ double: passed 2/2 cases — 2/2 points");
  assertEquals((pass[CHECK_MIME] as CheckResult).status, "passed");
  const failed: CheckResult = {
    exercise: "99.count",
    name: "count",
    status: "failed",
    points: 0,
    maxPoints: 1,
    casesPassed: 0,
    cases: 1,
    failure: { case: "n=3", message: "wrong count", expected: "6", actual: "7", diagnosis: "you did X; the rule is Y" },
    note: "a note",
  };
  assertEquals(String(bundleOf(renderResult(failed))["text/plain"]).split("\n"), [
    "✘ count: failed on case 1 of 1 (n=3) — 0/1 points",
    "  wrong count",
    "  expected: 6",
    "  actual:   7",
    "  likely cause: you did X; the rule is Y",
    "  note: a note",
  ]);
});

Deno.test("describe() prints integers past 2^53 exactly (class 10) and never throws", () => {
  assertEquals(describe(30406719389564928), "30406719389564928 (a number beyond 2^53)");
  assertEquals(describe(2n ** 60n), "1152921504606846976n");
  const trap = () => {
    throw new Error("trap");
  };
  assertEquals(typeof describe(new Proxy({}, { getPrototypeOf: trap, get: trap })), "string");
});
