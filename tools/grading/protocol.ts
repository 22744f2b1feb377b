/**
 * What crosses the grading sandbox's boundary. Inside the sandbox, each call
 * of a student's function is recorded (its result or error, serialised as
 * plain JSON); the grader outside replays the records through the same checks.
 * Verdicts are therefore computed only by the trusted grader: code in the
 * sandbox can at most change what the function appears to return.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { PromiseTimeout } from "../../lib/check/core.ts";

/** A value as JSON. */
export type Wire =
  | null
  | boolean
  | string
  | number
  | { num: string }
  | { big: string }
  | { undef: true }
  | { arr: Wire[] }
  | { typed: string; v: Wire[] }
  | { tensor: { shape: number[]; dtype: string; v: Wire[] } }
  | { disposed: { shape: number[]; dtype: string } }
  | { opaque: string };

/** One recorded call. */
export type CallRecord =
  & ({ ok: Wire } | { threw: { name: string; message: string } } | { pending: true })
  & { async?: boolean; mutated?: number };

/** Values larger than this many elements are recorded as opaque. */
const MAX_ELEMENTS = 1_000_000;

function num(x: number): Wire {
  return Number.isFinite(x) ? x : { num: String(x) };
}

/** Serialises any value (never throws). */
export function toWire(x: unknown, budget = { left: MAX_ELEMENTS }): Wire {
  try {
    if (x === undefined) return { undef: true };
    if (x === null || typeof x === "boolean" || typeof x === "string") return x;
    if (typeof x === "number") return num(x);
    if (typeof x === "bigint") return { big: x.toString() };
    if (x instanceof tf.Tensor) {
      if (x.isDisposed) return { disposed: { shape: [...x.shape], dtype: x.dtype } };
      if ((budget.left -= x.size) < 0) return { opaque: `a tensor of shape [${x.shape}] (too large to record)` };
      return { tensor: { shape: [...x.shape], dtype: x.dtype, v: Array.from(x.dataSync() as Float32Array, num) } };
    }
    if (ArrayBuffer.isView(x) && !(x instanceof DataView)) {
      const arr = x as unknown as ArrayLike<number>;
      if ((budget.left -= arr.length) < 0) return { opaque: "a typed array (too large to record)" };
      return {
        typed: x.constructor.name,
        v: Array.from(arr, (v) => typeof v === "bigint" ? { big: String(v) } : num(v)),
      };
    }
    if (Array.isArray(x)) {
      if ((budget.left -= x.length) < 0) return { opaque: "an array (too large to record)" };
      return { arr: x.map((v) => toWire(v, budget)) };
    }
    if (typeof x === "function") return { opaque: `a function (${x.name || "anonymous"})` };
    return { opaque: `an object (${Object.prototype.toString.call(x).slice(8, -1)})` };
  } catch {
    return { opaque: "a value that cannot be read" };
  }
}

/** Rebuilds a value (tensors are made on the current backend; the caller's tensor scope owns them). */
export function fromWire(w: Wire): unknown {
  if (w === null || typeof w !== "object") return w;
  if ("num" in w) return Number(w.num);
  if ("big" in w) return BigInt(w.big);
  if ("undef" in w) return undefined;
  if ("arr" in w) return w.arr.map(fromWire);
  if ("typed" in w) {
    const Ctor = (globalThis as unknown as Record<string, new (v: unknown[]) => unknown>)[w.typed] ?? Float64Array;
    return new Ctor(w.v.map(fromWire));
  }
  if ("tensor" in w) {
    return tf.tensor(w.tensor.v.map(fromWire) as number[], w.tensor.shape, w.tensor.dtype as tf.DataType);
  }
  if ("disposed" in w) {
    const t = tf.zeros(w.disposed.shape, w.disposed.dtype as tf.DataType);
    t.dispose();
    return t;
  }
  return new Opaque(w.opaque);
}

/** A value that could not be carried across; checks describe it by its text. */
export class Opaque {
  constructor(readonly description: string) {}
}

/** Wraps a student's function so that every call is recorded in `records`. */
export function recorder(fn: (...args: unknown[]) => unknown, records: CallRecord[]) {
  return (...args: unknown[]): unknown => {
    const before = args.map((a) => JSON.stringify(toWire(a)));
    const mutated = () => {
      const k = args.findIndex((a, i) => JSON.stringify(toWire(a)) !== before[i]);
      return k >= 0 ? { mutated: k } : {};
    };
    let result: unknown;
    try {
      result = fn(...args);
    } catch (err) {
      records.push({ threw: errorInfo(err), ...mutated() });
      throw err;
    }
    if (result !== null && typeof result === "object" && typeof (result as { then?: unknown }).then === "function") {
      const index = records.push({ pending: true, async: true }) - 1;
      return Promise.resolve(result).then(
        (v) => (records[index] = { ok: toWire(v), async: true, ...mutated() }, v),
        (err) => {
          records[index] = { threw: errorInfo(err), async: true, ...mutated() };
          throw err;
        },
      );
    }
    records.push({ ok: toWire(result), ...mutated() });
    return result;
  };
}

function errorInfo(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: String(err.name), message: String(err.message).slice(0, 2000) };
  return { name: "non-Error", message: String(err).slice(0, 2000) };
}

/** A function that answers each call with the next record, as the student's function did in the sandbox. */
export function replayer(records: CallRecord[]) {
  let next = 0;
  return (...args: unknown[]): unknown => {
    const rec = records[next++];
    if (!rec) throw new Error("no result was recorded for this call (the submission stopped before it)");
    if (rec.mutated !== undefined) mutate(args[rec.mutated]);
    if ("pending" in rec) return Promise.reject(new PromiseTimeout());
    if ("threw" in rec) {
      const Ctor = ({ RangeError, TypeError, Error } as Record<string, ErrorConstructor>)[rec.threw.name] ?? Error;
      const err = new Ctor(rec.threw.message);
      err.name = rec.threw.name;
      if (rec.async) return Promise.reject(err);
      throw err;
    }
    const value = fromWire(rec.ok);
    return rec.async ? Promise.resolve(value) : value;
  };
}

/** Reproduces "the function changed its argument" on the replayed argument. */
function mutate(arg: unknown): void {
  if (arg instanceof tf.Tensor && !arg.isDisposed) {
    const values = arg.dataSync() as Float32Array; // on the cpu backend, the tensor's own buffer
    values[0] = Number.isNaN(values[0]) ? 0 : values[0] + 1;
  } else if (Array.isArray(arg)) arg.push(NaN);
}
