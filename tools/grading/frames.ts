/**
 * The grading sandbox's messages, as plain data, and their validation. No TensorFlow.js here: the sandbox's main
 * thread (sandbox_main.ts) loads only this file, and the grader (sandbox.ts) validates everything it reads back
 * with it — the sandbox is untrusted, so nothing it sends is used before `parseFrame` accepts it.
 *
 * Frames travel on the sandbox's stdout mixed with whatever the student's code prints. Each frame is cut into
 * lines of at most {@linkcode MAX_LINE_BYTES} bytes, each starting `@@grade <nonce> <frame> <part>/<parts> ` and
 * written with one `write` to a pipe (POSIX writes of up to PIPE_BUF = 4096 bytes to a pipe are atomic), so
 * output printed at the same time can fall between the lines but never inside one. The nonce is known only to
 * the grader and the sandbox's main thread, which runs no student code.
 * @module
 */

/** A value as JSON: what a student's function returned or was given. */
export type Wire =
  | null
  | boolean
  | string
  | number
  | { num: "NaN" | "Infinity" | "-Infinity" }
  | { big: string }
  | { undef: true }
  | { arr: Wire[] }
  | { typed: TypedArrayName; v: Wire[] }
  | { tensor: { shape: number[]; dtype: string; v: Wire[] } }
  | { disposed: { shape: number[]; dtype: string } }
  | { opaque: string };

/** The typed arrays a wire value may name. */
export const TYPED_ARRAYS = [
  "Float32Array",
  "Float64Array",
  "Int8Array",
  "Int16Array",
  "Int32Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Uint16Array",
  "Uint32Array",
  "BigInt64Array",
  "BigUint64Array",
] as const;
export type TypedArrayName = typeof TYPED_ARRAYS[number];

/** The tensor dtypes a wire value may name. */
export const DTYPES = ["float32", "int32", "bool", "complex64", "string"] as const;

/** One recorded call of a student's function. */
export type CallRecord =
  & ({ ok: Wire } | { threw: { name: string; message: string } } | { pending: true })
  & {
    /** The function returned a Promise (`ok`/`threw` is what it settled to). */
    async?: boolean;
    /** The call changed argument `arg`; `after` is its value after the call. */
    mutated?: { arg: number; after: Wire };
  };

/** One unit of work in a sandbox: an exercise's visible cases, or its hidden ones. */
export interface Item {
  exercise: string;
  phase: "visible" | "hidden";
}

/** Why the sandbox stopped before finishing (decided by its main thread, never by student code). */
export const STOP_REASONS = ["timeout", "stalled", "memory", "close", "exit", "uncaught", "broken"] as const;
/** A phase that waits without computing is stopped after this many times its processor-time limit. */
export const WALL_FACTOR = 4;
export type StopReason = typeof STOP_REASONS[number];

/** What the sandbox's main thread reports. `item` indexes the request's items. */
export type Frame =
  | { kind: "cell"; cell: number }
  | { kind: "loaded"; cellErrors: { cell: number; error: string }[] }
  | { kind: "start"; item: number }
  | { kind: "done"; item: number; records: CallRecord[]; notFunction?: Wire }
  | { kind: "stopped"; item: number | null; reason: StopReason; mib?: number }
  /** Every visible item is reported; the grader answers on stdin with the hidden items still worth running. */
  | { kind: "await-hidden" }
  | { kind: "end" };

/** What the grader sends the sandbox's main thread, as one line on stdin. */
export interface SandboxConfig {
  nonce: string;
  lesson: string;
  backend: string;
  /** The notebook's code cells as JavaScript, run in order (see program.ts). */
  cells: { cell: number; js: string }[];
  items: Item[];
  /** Per item: the hidden cases' arguments (hidden items only). */
  hiddenArgs: (Wire[][] | null)[];
  /** Processor seconds (all threads) the loading, and each item, may use. */
  timeoutS: number;
  memoryMb: number;
  /**
   * Before the first hidden item, ask the grader (frame `await-hidden`) which hidden items to run: it answers
   * with one line on stdin, a JSON array of item indices (the exercises whose visible cases all passed).
   */
  askBeforeHidden: boolean;
}

/** A sandbox message that does not have the shape this file defines. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
}

/** Limits on what `parseWire` accepts. */
const MAX_DEPTH = 32;
const MAX_STRING = 1 << 20;
/** Numbers in all the values of one frame (the sandbox records larger values as opaque). */
export const MAX_ELEMENTS = 2_000_000;

function fail(what: string): never {
  throw new ProtocolError(what);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
}

function keysAre(x: Record<string, unknown>, allowed: string[], required: string[] = allowed): void {
  const keys = Object.keys(x);
  for (const k of keys) if (!allowed.includes(k)) fail(`unexpected field "${k.slice(0, 40)}"`);
  for (const k of required) if (!Object.hasOwn(x, k)) fail(`missing field "${k}"`);
}

function isCount(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

function shapeOf(x: unknown): number[] {
  if (!Array.isArray(x) || x.length > 8 || !x.every(isCount)) fail("a tensor shape must be up to 8 counts");
  return x as number[];
}

function dtypeOf(x: unknown): string {
  if (!(DTYPES as readonly unknown[]).includes(x)) fail("unknown tensor dtype");
  return x as string;
}

/** Checks that `x` (parsed JSON from the sandbox) is a {@linkcode Wire}; throws ProtocolError otherwise. */
export function parseWire(x: unknown, budget = { left: MAX_ELEMENTS }, depth = 0): Wire {
  if (depth > MAX_DEPTH) fail("value nested too deeply");
  if (--budget.left < 0) fail("value too large");
  if (x === null || typeof x === "boolean") return x;
  if (typeof x === "number") return Number.isFinite(x) ? x : fail("non-finite number");
  if (typeof x === "string") return x.length <= MAX_STRING ? x : fail("string too long");
  if (!isPlainObject(x)) fail("a value must be null, a boolean, number, string or tagged object");
  const [tag] = Object.keys(x);
  const elements = (v: unknown) => {
    if (!Array.isArray(v)) fail("elements must be an array");
    if ((budget.left -= v.length) < 0) fail("value too large");
    return v.map((e) => {
      if (typeof e === "number" && Number.isFinite(e)) return e;
      budget.left++; // counted above
      return parseWire(e, budget, depth + 1);
    });
  };
  switch (tag) {
    case "num":
      keysAre(x, ["num"]);
      if (!["NaN", "Infinity", "-Infinity"].includes(x.num as string)) fail("bad non-finite number");
      return x as Wire;
    case "big":
      keysAre(x, ["big"]);
      if (typeof x.big !== "string" || !/^-?\d{1,10000}$/.test(x.big)) fail("bad bigint");
      return x as Wire;
    case "undef":
      keysAre(x, ["undef"]);
      return x.undef === true ? { undef: true } : fail("bad undefined");
    case "arr":
      keysAre(x, ["arr"]);
      return { arr: elements(x.arr) };
    case "typed": {
      keysAre(x, ["typed", "v"]);
      if (!(TYPED_ARRAYS as readonly unknown[]).includes(x.typed)) fail("unknown typed array");
      const v = elements(x.v);
      const big = (x.typed as string).startsWith("Big");
      for (const e of v) {
        const ok = big ? typeof e === "object" && e !== null && "big" in e : typeof e === "number" || isNum(e);
        if (!ok) fail("typed array element of the wrong kind");
      }
      return { typed: x.typed as TypedArrayName, v };
    }
    case "tensor": {
      keysAre(x, ["tensor"]);
      const t = x.tensor;
      if (!isPlainObject(t)) fail("bad tensor");
      keysAre(t, ["shape", "dtype", "v"]);
      const shape = shapeOf(t.shape), dtype = dtypeOf(t.dtype), v = elements(t.v);
      const size = shape.reduce((a, b) => a * b, 1) * (dtype === "complex64" ? 2 : 1);
      if (size !== v.length) fail("tensor size does not match its shape");
      for (const e of v) {
        if (dtype === "string" ? typeof e !== "string" : typeof e !== "number" && !isNum(e)) {
          fail("tensor element of the wrong kind");
        }
      }
      return { tensor: { shape, dtype, v } };
    }
    case "disposed": {
      keysAre(x, ["disposed"]);
      const d = x.disposed;
      if (!isPlainObject(d)) fail("bad disposed tensor");
      keysAre(d, ["shape", "dtype"]);
      const shape = shapeOf(d.shape);
      // The grader rebuilds it (protocol.ts fromWire) as a tensor of that size, then disposes it.
      if (shape.reduce((a, b) => a * b, 1) > MAX_ELEMENTS) fail("disposed tensor too large");
      return { disposed: { shape, dtype: dtypeOf(d.dtype) } };
    }
    case "opaque":
      keysAre(x, ["opaque"]);
      if (typeof x.opaque !== "string") fail("bad opaque value");
      return { opaque: x.opaque.slice(0, 200) };
    default:
      return fail("unknown value tag");
  }
}

function isNum(e: unknown): boolean {
  return e !== null && typeof e === "object" && "num" in e;
}

function parseRecord(x: unknown, budget: { left: number }): CallRecord {
  if (!isPlainObject(x)) fail("a call record must be an object");
  keysAre(x, ["ok", "threw", "pending", "async", "mutated"], []);
  const outcomes = ["ok", "threw", "pending"].filter((k) => Object.hasOwn(x, k));
  if (outcomes.length !== 1) fail("a call record needs exactly one of ok, threw, pending");
  const extra: { async?: boolean; mutated?: { arg: number; after: Wire } } = {};
  if (Object.hasOwn(x, "async")) extra.async = x.async === true ? true : fail("bad async flag");
  if (Object.hasOwn(x, "mutated")) {
    const m = x.mutated;
    if (!isPlainObject(m)) fail("bad mutation");
    keysAre(m, ["arg", "after"]);
    if (!isCount(m.arg) || m.arg > 64) fail("bad mutated argument index");
    extra.mutated = { arg: m.arg, after: parseWire(m.after, budget) };
  }
  if (outcomes[0] === "ok") return { ok: parseWire(x.ok, budget), ...extra };
  if (outcomes[0] === "pending") return x.pending === true ? { pending: true, ...extra } : fail("bad pending");
  const t = x.threw;
  if (!isPlainObject(t)) fail("bad error");
  keysAre(t, ["name", "message"]);
  if (typeof t.name !== "string" || typeof t.message !== "string") fail("bad error");
  return { threw: { name: t.name.slice(0, 100), message: t.message.slice(0, 2000) }, ...extra };
}

/** Checks a list of call records; throws ProtocolError otherwise. */
export function parseRecords(x: unknown, budget = { left: MAX_ELEMENTS }): CallRecord[] {
  if (!Array.isArray(x) || x.length > 10_000) fail("records must be an array of at most 10000 calls");
  return x.map((r) => parseRecord(r, budget));
}

/** Checks a frame against the request it answers (`items` items); throws ProtocolError otherwise. */
export function parseFrame(x: unknown, items: number): Frame {
  if (!isPlainObject(x)) fail("a frame must be an object");
  const item = (v: unknown) => (isCount(v) && v < items ? v : fail("bad item index"));
  switch (x.kind) {
    case "loaded": {
      keysAre(x, ["kind", "cellErrors"]);
      if (!Array.isArray(x.cellErrors) || x.cellErrors.length > 1000) fail("bad cell errors");
      const cellErrors = x.cellErrors.map((e) => {
        if (!isPlainObject(e)) fail("bad cell error");
        keysAre(e, ["cell", "error"]);
        if (!isCount(e.cell) || typeof e.error !== "string") fail("bad cell error");
        return { cell: e.cell, error: e.error.slice(0, 500) };
      });
      return { kind: "loaded", cellErrors };
    }
    case "start":
      keysAre(x, ["kind", "item"]);
      return { kind: "start", item: item(x.item) };
    case "cell":
      keysAre(x, ["kind", "cell"]);
      return { kind: "cell", cell: isCount(x.cell) ? x.cell : fail("bad cell") };
    case "done": {
      keysAre(x, ["kind", "item", "records", "notFunction"], ["kind", "item", "records"]);
      const frame: Frame = { kind: "done", item: item(x.item), records: parseRecords(x.records) };
      if (Object.hasOwn(x, "notFunction")) frame.notFunction = parseWire(x.notFunction);
      return frame;
    }
    case "stopped": {
      keysAre(x, ["kind", "item", "reason", "mib"], ["kind", "item", "reason"]);
      if (!(STOP_REASONS as readonly unknown[]).includes(x.reason)) fail("unknown stop reason");
      const frame: Frame = {
        kind: "stopped",
        item: x.item === null ? null : item(x.item),
        reason: x.reason as StopReason,
      };
      if (Object.hasOwn(x, "mib")) frame.mib = isCount(x.mib) ? x.mib : fail("bad mib");
      return frame;
    }
    case "end":
    case "await-hidden":
      keysAre(x, ["kind"]);
      return { kind: x.kind };
    default:
      return fail("unknown frame kind");
  }
}

/** The longest line a frame part may take, newlines included (≤ PIPE_BUF, so one write is atomic). */
export const MAX_LINE_BYTES = 4000;
const PREFIX = "@@grade";

/**
 * Encodes frame number `id` as lines ready to write, each of at most {@linkcode MAX_LINE_BYTES} bytes and
 * starting with a newline (which ends any half-printed line of student output before it).
 */
export function encodeFrame(nonce: string, id: number, frame: Frame): Uint8Array[] {
  const json = JSON.stringify(frame);
  const head = (part: number, parts: number) => `\n${PREFIX} ${nonce} ${id} ${part}/${parts} `;
  // JSON.stringify escapes nothing above U+007F, so measure bytes: split the text into chunks of bounded size.
  const budget = MAX_LINE_BYTES - new TextEncoder().encode(head(999999, 999999) + "\n").length;
  const chunks: string[] = [];
  for (let i = 0; i < json.length;) {
    let end = Math.min(json.length, i + Math.floor(budget / 3)); // ≤ 3 bytes per UTF-16 unit
    if (end < json.length && /[\uD800-\uDBFF]/.test(json[end - 1])) end--; // keep surrogate pairs whole
    chunks.push(json.slice(i, end));
    i = end;
  }
  if (!chunks.length) chunks.push("");
  const encoder = new TextEncoder();
  return chunks.map((c, k) => encoder.encode(`${head(k + 1, chunks.length)}${c}\n`));
}

/**
 * Reassembles frames from a stream of stdout lines; every other line is the student's output.
 * `push` returns the frames completed by the line (parsed JSON, not yet validated), or "output".
 */
export class FrameReader {
  #parts = new Map<number, string[]>();
  #prefix: string;
  #next = 0;
  constructor(nonce: string) {
    this.#prefix = `${PREFIX} ${nonce} `;
  }
  /** Handles one line (without its newline): a frame part, or output. Throws ProtocolError on a bad part. */
  push(line: string): unknown[] | "output" {
    if (!line.startsWith(this.#prefix)) return "output";
    const m = /^(\d{1,9}) (\d{1,6})\/(\d{1,6}) /.exec(line.slice(this.#prefix.length));
    if (!m) fail("bad frame line");
    const [id, part, parts] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (id !== this.#next || part < 1 || part > parts) fail("frame out of order");
    const got = this.#parts.get(id) ?? [];
    if (got.length !== part - 1) fail("frame part out of order");
    got.push(line.slice(this.#prefix.length + m[0].length));
    this.#parts.set(id, got);
    if (got.length < parts) return [];
    this.#parts.delete(id);
    this.#next++;
    try {
      return [JSON.parse(got.join(""))];
    } catch {
      return fail("frame is not JSON");
    }
  }
}
