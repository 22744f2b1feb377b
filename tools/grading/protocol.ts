/**
 * Record and replay: how the grader judges a student's function that only ever ran in the sandbox.
 *
 * In the sandbox, {@linkcode recorder} wraps the student's function and keeps, for every call, what it returned
 * or threw and how it changed its arguments, as plain JSON ({@linkcode Wire} values, see frames.ts). The grader
 * trusts none of it as a verdict: it runs lib/check's `runCheck` itself with {@linkcode replayer} in place of the
 * function, which answers each call from the records.
 *
 * **The invariant.** The replayer answers the n-th call with the n-th record, so the sandbox and the grader must
 * call the student's function in the same order with the same arguments:
 * - both run `runCheck` over the same case table, and build the arguments on the same pinned TensorFlow.js
 *   backend (grade.ts `--backend`);
 * - the sandbox runs it through {@linkcode callsOnly}, which makes every verdict a pass, so it makes every call
 *   the grader can make; the grader stops at the first failing case and so reads a prefix of the records;
 * - an exercise's `after` hook counts as calls too, and no case, verdict or hook may depend on anything but the
 *   values the function gives back (no timing, no unseeded randomness);
 * - a call that changed its arguments is replayed by writing the recorded values back into the grader's
 *   arguments, so `runCheck` sees the same change in both places.
 * protocol_test.ts checks `runCheck(ex, replayer(records)) ≡ runCheck(ex, fn)` on planted functions for every
 * exercise of every lesson.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type Exercise, OpaqueValue, PromiseTimeout } from "../../lib/check/core.ts";
import { type CallRecord, MAX_ELEMENTS, TYPED_ARRAYS, type TypedArrayName, type Wire } from "./frames.ts";

export type { CallRecord, Wire };

function num(x: number): Wire {
  return Number.isFinite(x) ? x : { num: String(x) as "NaN" | "Infinity" | "-Infinity" };
}

function typedName(x: ArrayBufferView): TypedArrayName | undefined {
  const tag = Object.prototype.toString.call(x).slice(8, -1);
  return (TYPED_ARRAYS as readonly string[]).includes(tag) ? tag as TypedArrayName : undefined;
}

/** Serialises any value (never throws); values beyond the element budget become opaque. */
export function toWire(x: unknown, budget = { left: MAX_ELEMENTS / 4 }): Wire {
  try {
    if (x === undefined) return { undef: true };
    if (x === null || typeof x === "boolean") return x;
    if (typeof x === "string") return x.length <= 100_000 ? x : { opaque: `a string of length ${x.length}` };
    if (typeof x === "number") return num(x);
    if (typeof x === "bigint") return { big: x.toString() };
    if (x instanceof tf.Tensor) {
      if (x.isDisposed) {
        const shape = [...x.shape];
        return shape.reduce((a, b) => a * b, 1) <= MAX_ELEMENTS
          ? { disposed: { shape, dtype: x.dtype } }
          : { opaque: `a disposed tensor of shape [${shape}] (too large to record)` };
      }
      if ((budget.left -= x.size) < 0) return { opaque: `a tensor of shape [${x.shape}] (too large to record)` };
      const values = Array.from(x.dataSync() as ArrayLike<number | string>, (v) => typeof v === "number" ? num(v) : v);
      return { tensor: { shape: [...x.shape], dtype: x.dtype, v: values } };
    }
    if (ArrayBuffer.isView(x) && !(x instanceof DataView)) {
      const name = typedName(x);
      const arr = x as unknown as ArrayLike<number | bigint>;
      if (!name) return { opaque: "a typed array of an unknown kind" };
      if ((budget.left -= arr.length) < 0) return { opaque: `a ${name} (too large to record)` };
      return { typed: name, v: Array.from(arr, (v) => typeof v === "bigint" ? { big: String(v) } : num(v)) };
    }
    if (Array.isArray(x)) {
      if ((budget.left -= x.length) < 0) return { opaque: "an array (too large to record)" };
      return { arr: Array.from(x, (v) => toWire(v, budget)) };
    }
    if (typeof x === "function") return { opaque: `a function (${String(x.name).slice(0, 60) || "anonymous"})` };
    return { opaque: `an object (${Object.prototype.toString.call(x).slice(8, -1).slice(0, 60)})` };
  } catch {
    return { opaque: "a value that cannot be read" };
  }
}

const TYPED_CTORS: Record<TypedArrayName, new (v: ArrayLike<number | bigint>) => ArrayBufferView> = {
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint8ClampedArray,
  Uint16Array,
  Uint32Array,
  BigInt64Array: BigInt64Array as never,
  BigUint64Array: BigUint64Array as never,
};

/**
 * Rebuilds a value that `parseWire` accepted (tensors are made on the current backend; the caller's tensor
 * scope owns them).
 */
export function fromWire(w: Wire): unknown {
  if (w === null || typeof w !== "object") return w;
  if ("num" in w) return Number(w.num);
  if ("big" in w) return BigInt(w.big);
  if ("undef" in w) return undefined;
  if ("arr" in w) return w.arr.map(fromWire);
  if ("typed" in w) return new TYPED_CTORS[w.typed](w.v.map(fromWire) as number[]);
  if ("tensor" in w) {
    const { shape, dtype, v } = w.tensor;
    return tf.tensor(v.map(fromWire) as number[], shape, dtype as tf.DataType);
  }
  if ("disposed" in w) {
    const t = tf.zeros(w.disposed.shape, w.disposed.dtype as tf.DataType);
    t.dispose();
    return t;
  }
  return new OpaqueValue(w.opaque);
}

/** The exercise with every verdict a pass: the sandbox runs it so as to make every call the grader may make. */
export function callsOnly<A extends unknown[]>(exercise: Exercise<A>): Exercise<A> {
  return { ...exercise, cases: exercise.cases.map((c) => ({ ...c, verify: () => ({ ok: true as const }) })) };
}

/** Wraps a student's function so that every call is recorded in `records`. */
export function recorder(
  fn: (...args: unknown[]) => unknown,
  records: CallRecord[],
  budget = { left: MAX_ELEMENTS },
) {
  return (...args: unknown[]): unknown => {
    const before = args.map((a) => JSON.stringify(toWire(a)));
    const mutated = () => {
      for (let k = 0; k < args.length; k++) {
        if (JSON.stringify(toWire(args[k])) !== before[k]) {
          return { mutated: { arg: k, after: toWire(args[k], budget) } };
        }
      }
      return {};
    };
    let result: unknown;
    try {
      result = fn(...args);
    } catch (err) {
      records.push({ threw: errorInfo(err), ...mutated() });
      throw err;
    }
    if (isThenable(result)) {
      const index = records.push({ pending: true, async: true }) - 1;
      return handled(
        Promise.resolve(result).then(
          (v) => (records[index] = { ok: toWire(v, budget), async: true, ...mutated() }, v),
          (err) => {
            records[index] = { threw: errorInfo(err), async: true, ...mutated() };
            throw err;
          },
        ),
      );
    }
    records.push({ ok: toWire(result, budget), ...mutated() });
    return result;
  };
}

/**
 * Whether runCheck awaits the value (as lib/check/core.ts decides: a `then` getter that throws, as a hostile
 * Proxy's does, makes it a plain value, recorded as such, not an error of the recorder's).
 */
function isThenable(x: unknown): boolean {
  try {
    return x !== null && (typeof x === "object" || typeof x === "function") &&
      typeof (x as { then?: unknown }).then === "function";
  } catch {
    return false;
  }
}

function errorInfo(err: unknown): { name: string; message: string } {
  try {
    if (err instanceof Error) {
      return { name: String(err.name).slice(0, 100), message: String(err.message).slice(0, 2000) };
    }
    return { name: "non-Error", message: String(err).slice(0, 2000) };
  } catch {
    return { name: "non-Error", message: "a value that cannot be read" };
  }
}

/** A function that answers each call with the next record, as the student's function did in the sandbox. */
export function replayer(records: readonly CallRecord[]) {
  let next = 0;
  return (...args: unknown[]): unknown => {
    const rec = records[next++];
    if (!rec) throw new Error("no result was recorded for this call (the submission stopped before it)");
    if (rec.mutated) writeBack(args[rec.mutated.arg], fromWire(rec.mutated.after));
    if ("pending" in rec) return rejected(new PromiseTimeout());
    if ("threw" in rec) {
      const Ctor = rec.threw.name === "TypeError" ? TypeError : rec.threw.name === "RangeError" ? RangeError : Error;
      const err = new Ctor(rec.threw.message);
      err.name = rec.threw.name;
      if (rec.async) return rejected(err);
      throw err;
    }
    const value = fromWire(rec.ok);
    return rec.async ? Promise.resolve(value) : value;
  };
}

/** Marks a Promise handled: a check that ignores a rejection (an `after` hook may) must not stop the process. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

function rejected(err: Error): Promise<never> {
  return handled(Promise.reject(err));
}

/** Makes `arg` hold `after`, as the student's call left it in the sandbox. */
function writeBack(arg: unknown, after: unknown): void {
  try {
    if (arg instanceof tf.Tensor && after instanceof tf.Tensor && !arg.isDisposed && arg.size === after.size) {
      // On the cpu backend dataSync() is the tensor's own buffer (the only backend where a call can change a
      // tensor in place this way); elsewhere this writes a copy, as the student's write did.
      (arg.dataSync() as Float32Array).set(after.dataSync() as Float32Array);
      after.dispose();
    } else if (Array.isArray(arg) && Array.isArray(after)) {
      arg.splice(0, arg.length, ...after);
    } else if (ArrayBuffer.isView(arg) && ArrayBuffer.isView(after)) {
      const a = arg as unknown as { set(v: ArrayLike<unknown>): void; length: number };
      const b = after as unknown as ArrayLike<unknown>;
      if (a.length === b.length) a.set(b);
    }
  } catch {
    // A change that cannot be reproduced is not reported; the verdict is then judged on the unchanged input.
  }
}
