/**
 * The grading protocol: wire values and their validation, frames, and the record/replay invariant (sandbox and
 * grader call the student's function in the same order, so replaying the records gives the verdict the function
 * itself gets) on every exercise of every lesson, for correct and planted-wrong functions.
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows } from "../../lib/_testing.ts";
import { initBackend } from "../../lib/backend.ts";
import {
  type CheckResult,
  type Exercise,
  NotImplementedError,
  PromiseTimeout,
  runCheck,
} from "../../lib/check/core.ts";
import { exercisesByLesson } from "../../lib/check/mod.ts";
import { readNotebook } from "../notebook.ts";
import { ROOT } from "../setup.ts";
import {
  type CallRecord,
  encodeFrame,
  type Frame,
  FrameReader,
  MAX_LINE_BYTES,
  parseFrame,
  parseRecords,
  parseWire,
  ProtocolError,
} from "./frames.ts";
import { notebookProgram } from "./program.ts";
import { callsOnly, fromWire, recorder, replayer, toWire } from "./protocol.ts";
import { hiddenCases } from "./hidden.ts";

await initBackend({ backend: "cpu", print: false });

Deno.test("toWire/fromWire round-trip numbers, bigints, arrays, typed arrays and tensors", () => {
  const values: unknown[] = [
    0,
    -1.5,
    NaN,
    Infinity,
    -Infinity,
    12345678901234567890n,
    "text",
    true,
    null,
    undefined,
    [1, [2, NaN], []],
    new Float32Array([1.5, 2]),
    new BigInt64Array([3n]),
  ];
  for (const v of values) {
    const back = fromWire(parseWire(JSON.parse(JSON.stringify(toWire(v)))));
    assertEquals(back, v, `round trip of ${String(v)}`);
  }
  tf.tidy(() => {
    const t = tf.tensor2d([[1, 2], [3, 4]]);
    const back = fromWire(parseWire(JSON.parse(JSON.stringify(toWire(t))))) as tf.Tensor;
    assertEquals([back.shape, back.dtype, Array.from(back.dataSync())], [[2, 2], "float32", [1, 2, 3, 4]]);
  });
  assertEquals(toWire(() => 1), { opaque: "a function (anonymous)" });
  assertEquals(toWire({ a: 1 }), { opaque: "an object (Object)" });
});

Deno.test("toWire never throws on hostile values (getters, proxies, Symbol.toStringTag)", () => {
  const throwing = new Proxy({}, {
    get() {
      throw new Error("trap");
    },
    getPrototypeOf() {
      throw new Error("trap");
    },
  });
  for (
    const v of [throwing, {
      get then() {
        throw new Error("x");
      },
    }, Object.create(null)]
  ) {
    const w = toWire(v);
    assert(typeof w === "object" && w !== null && "opaque" in w, JSON.stringify(w));
  }
  // A typed array that claims another kind is recorded by what it is.
  const spoof = new Float64Array([1]);
  Object.defineProperty(spoof, Symbol.toStringTag, { value: "Math" });
  const w = toWire(spoof);
  assert("opaque" in (w as object) || (w as { typed: string }).typed === "Float64Array", JSON.stringify(w));
});

Deno.test("parseWire accepts only the documented shapes", () => {
  const bad: [string, unknown, string][] = [
    ["unknown typed array (the 'Ctor is not a constructor' crash)", { typed: "Math", v: [1] }, "unknown typed array"],
    ["constructor name", { typed: "constructor", v: [] }, "unknown typed array"],
    ["extra field", { arr: [], extra: 1 }, 'unexpected field "extra"'],
    ["__proto__ key from JSON", JSON.parse('{"__proto__": {"x": 1}, "arr": []}'), "unknown value tag"],
    ["tensor size mismatch", { tensor: { shape: [2, 2], dtype: "float32", v: [1] } }, "does not match its shape"],
    ["unknown dtype", { tensor: { shape: [1], dtype: "evil", v: [1] } }, "unknown tensor dtype"],
    ["negative shape", { tensor: { shape: [-1], dtype: "float32", v: [] } }, "tensor shape"],
    ["bad bigint", { big: "12a" }, "bad bigint"],
    ["bad num", { num: "42" }, "bad non-finite"],
    ["function", () => 1, "must be null"],
    ["class instance", new Date(), "must be null"],
    ["too deep", JSON.parse('{"arr":['.repeat(40) + "]}".repeat(40)), "nested too deeply"],
  ];
  for (const [what, value, message] of bad) {
    try {
      parseWire(value);
    } catch (err) {
      assert(err instanceof ProtocolError && err.message.includes(message), `${what}: ${err}`);
      continue;
    }
    throw new Error(`${what}: accepted`);
  }
  assertThrows(() => parseWire({ arr: new Array(3_000_000).fill(0) }), ProtocolError, "too large");
  assertEquals(parseWire({ opaque: "x".repeat(500) }), { opaque: "x".repeat(200) });
});

Deno.test("parseRecords and parseFrame reject anything but the protocol", () => {
  assertThrows(() => parseRecords([{ ok: 1, threw: { name: "E", message: "" } }]), ProtocolError, "exactly one");
  assertThrows(() => parseRecords([{ ok: 1, mutated: { arg: 1 } }]), ProtocolError, "missing field");
  assertThrows(() => parseRecords({ length: 1 }), ProtocolError, "must be an array");
  const ok = parseRecords([{ threw: { name: "x".repeat(500), message: "m" }, async: true }]);
  assertEquals((ok[0] as { threw: { name: string } }).threw.name.length, 100);
  const frames: [string, unknown, string][] = [
    ["unknown kind", { kind: "bogus" }, "unknown frame kind"],
    ["kind renamed by a toJSON", { kind: "constructor", item: 0 }, "unknown frame kind"],
    ["item out of range", { kind: "start", item: 5 }, "bad item index"],
    ["item not a count", { kind: "start", item: "0" }, "bad item index"],
    ["unknown stop reason", { kind: "stopped", item: null, reason: "exit code 20" }, "unknown stop reason"],
    ["extra field", { kind: "end", message: "leak" }, 'unexpected field "message"'],
  ];
  for (const [, value, message] of frames) assertThrows(() => parseFrame(value, 2), ProtocolError, message);
  assertEquals(parseFrame({ kind: "stopped", item: 1, reason: "memory", mib: 900 }, 2), {
    kind: "stopped",
    item: 1,
    reason: "memory",
    mib: 900,
  });
});

Deno.test("frames survive output interleaved between their lines and cannot be forged without the nonce", () => {
  const nonce = crypto.randomUUID();
  const big: Frame = {
    kind: "done",
    item: 0,
    records: [{ ok: { arr: Array.from({ length: 3000 }, (_, i) => i / 7) } }],
  };
  const lines = encodeFrame(nonce, 0, big).concat(encodeFrame(nonce, 1, { kind: "end" }));
  assert(lines.length > 3, "a large frame is cut into several lines");
  for (const l of lines) assert(l.length <= MAX_LINE_BYTES, `line of ${l.length} bytes`);
  const text = new TextDecoder();
  const stream: string[] = [];
  for (const l of lines) {
    stream.push(...text.decode(l).split("\n").filter(Boolean));
    stream.push("student output", `@@grade ${crypto.randomUUID()} 0 1/1 {"kind":"end"}`); // a forgery
  }
  const reader = new FrameReader(nonce);
  const got: unknown[] = [];
  let output = 0;
  for (const line of stream) {
    const r = reader.push(line);
    if (r === "output") output++;
    else got.push(...r);
  }
  assertEquals(got, [big, { kind: "end" }]);
  assertEquals(output, 2 * lines.length);
  // A replayed or reordered part is a protocol error, not a frame.
  const again = new FrameReader(nonce);
  const first = text.decode(encodeFrame(nonce, 0, { kind: "end" })[0]).trim();
  again.push(first);
  assertThrows(() => again.push(first), ProtocolError, "out of order");
});

Deno.test("replayer answers calls in order: values, throws, async results, timeouts, then runs out", async () => {
  const records: CallRecord[] = [
    { ok: 1 },
    { threw: { name: "RangeError", message: "bad" } },
    { ok: 2, async: true },
    { threw: { name: "NotImplementedError", message: "todo" }, async: true },
    { pending: true, async: true },
  ];
  const fn = replayer(records);
  assertEquals(fn(), 1);
  assertThrows(() => fn(), RangeError, "bad");
  assertEquals(await fn(), 2);
  const err = await (fn() as Promise<unknown>).catch((e: Error) => e) as Error;
  assertEquals([err.name, err.message], ["NotImplementedError", "todo"]);
  assert(await (fn() as Promise<unknown>).catch((e) => e) instanceof PromiseTimeout);
  assertThrows(() => fn(), Error, "no result was recorded");
});

Deno.test("a call that changed its argument is replayed by writing the recorded values back", () => {
  const records: CallRecord[] = [];
  const push = recorder((a: unknown) => (a as number[]).push(7), records);
  push([1, 2]);
  const fill = recorder((a: unknown) => (a as Float32Array).fill(0), records);
  fill(new Float32Array([1, 2]));
  const bump = recorder((t: unknown) => ((t as tf.Tensor).dataSync()[0] = 9, 0), records); // cpu: in place
  tf.tidy(() => void bump(tf.tensor1d([1, 2])));
  assertEquals(records.map((r) => r.mutated?.arg), [0, 0, 0]);
  const replay = replayer(parseRecords(JSON.parse(JSON.stringify(records))));
  const a = [1, 2], b = new Float32Array([1, 2]);
  replay(a);
  replay(b);
  assertEquals([a, Array.from(b)], [[1, 2, 7], [0, 0]]);
  tf.tidy(() => {
    const t = tf.tensor1d([1, 2]);
    replay(t);
    assertEquals(Array.from(t.dataSync()), [9, 2]);
  });
});

/** What a check says, for comparing a direct run with a replay. */
function verdict(r: CheckResult) {
  return { status: r.status, points: r.points, casesPassed: r.casesPassed, failure: r.failure };
}

/** The sandbox's half: every call of `fn` through the checks with every verdict forced to pass. */
async function record(exercise: Exercise, fn: (...a: unknown[]) => unknown): Promise<CallRecord[]> {
  const records: CallRecord[] = [];
  await runCheck(callsOnly(exercise), recorder(fn, records));
  return parseRecords(JSON.parse(JSON.stringify(records))); // as it crosses the boundary
}

/** The solution notebook's functions, evaluated here (its cells concatenated into one async function). */
async function solutionFunctions(
  lesson: string,
  names: string[],
): Promise<Record<string, (...a: unknown[]) => unknown>> {
  const file = (await Array.fromAsync(Deno.readDir(`${ROOT}/solutions`))).find((e) => e.name.startsWith(`${lesson}-`))!;
  const { cells } = notebookProgram(await readNotebook(`${ROOT}/solutions/${file.name}`));
  const body = cells.map((c) => c.js).join("\n") + `\nreturn { ${names.join(", ")} };`;
  const AsyncFunction = (async () => {}).constructor as new (body: string) => () => Promise<unknown>;
  const saved = Deno.env.get("ATTN_BACKEND");
  Deno.env.set("ATTN_BACKEND", "cpu"); // the notebook's own initBackend() keeps the test's backend
  try {
    return await new AsyncFunction(body)() as Record<string, (...a: unknown[]) => unknown>;
  } finally {
    if (saved === undefined) Deno.env.delete("ATTN_BACKEND");
    else Deno.env.set("ATTN_BACKEND", saved);
  }
}

/** Marks a Promise handled (a check's `after` hook may ignore what it returns). */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** Planted functions: each exercises a different path of the protocol. */
function planted(correct: (...a: unknown[]) => unknown): Record<string, (...a: unknown[]) => unknown> {
  let calls = 0;
  return {
    correct,
    "correct, async": (...a) => handled(Promise.resolve().then(() => correct(...a))),
    "not implemented": () => {
      throw new NotImplementedError();
    },
    "throws a TypeError": () => {
      throw new TypeError("nope");
    },
    "returns undefined": () => undefined,
    "rejects": () => handled(Promise.reject(new RangeError("later"))),
    "right until the third call": (...a) => (++calls < 3 ? correct(...a) : 0),
    "changes its first argument": (...a) => {
      const x = a[0];
      if (Array.isArray(x)) x.push(NaN);
      else if (x instanceof tf.Tensor) (x.dataSync() as Float32Array)[0] += 1;
      return correct(...a);
    },
    "returns its arguments": (...a) => a,
  };
}

for (const lesson of Object.keys(exercisesByLesson)) {
  Deno.test({
    name: `lesson ${lesson}: replaying the records gives the function's own verdict (visible and hidden cases)`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const exercises = exercisesByLesson[lesson];
      const solutions = await solutionFunctions(lesson, Object.keys(exercises));
      for (const [name, exercise] of Object.entries(exercises)) {
        const hidden = hiddenCases[lesson]?.[name];
        const variants: [Exercise, string][] = [[exercise, "visible"]];
        if (hidden?.length) variants.push([{ ...exercise, cases: hidden, after: undefined }, "hidden"]);
        for (const [ex, which] of variants) {
          for (const [what, fn] of Object.entries(planted(solutions[name]))) {
            const direct = verdict(await runCheck(ex, planted(solutions[name])[what]));
            const replayed = verdict(await runCheck(ex, replayer(await record(ex, fn))));
            assertEquals(replayed, direct, `${name} (${which}), ${what}`);
            if (what === "correct") assertEquals(direct.status, "passed", `${name} (${which}): the solution passes`);
          }
        }
      }
    },
  });
}

Deno.test("recorder: a result whose `then` getter throws is a value, recorded, as runCheck takes it", () => {
  const records: CallRecord[] = [];
  const proxy = new Proxy({}, {
    get() {
      throw new Error("trap");
    },
  });
  const thenGetter = {
    get then() {
      throw new Error("getter");
    },
  };
  const fn = recorder((x: unknown) => x, records);
  assertEquals(fn(proxy), proxy);
  assertEquals(fn(thenGetter), thenGetter);
  assertEquals(records.length, 2, "both calls recorded (the grader would otherwise answer 'no result was recorded')");
  for (const r of records) assert("ok" in r && typeof r.ok === "object" && r.ok !== null && "opaque" in r.ok);
});
