/**
 * A reader for the safetensors format (the format of Hugging Face model weights): an 8-byte little-endian
 * unsigned header length N, then N bytes of a UTF-8 JSON header naming each tensor's `dtype`, `shape` and
 * `data_offsets` [begin, end) into the byte buffer that follows (optionally a `__metadata__` map of strings),
 * then the little-endian tensor data, packed without holes.
 *
 * Everything is checked before any value is read, so a truncated or corrupt file is an error naming what is
 * wrong, never a tensor of garbage. Values come out as float32 (F32 as stored, F16 and BF16 widened exactly).
 *
 * @module
 */
import { readBytes } from "./_fs.ts";

/** Bytes per element of each safetensors dtype. */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

/** The dtypes {@linkcode Safetensors.tensor} converts to float32. */
export const FLOAT_DTYPES = ["F32", "F16", "BF16"] as const;

/** A dtype {@linkcode Safetensors.tensor} can read. */
export type FloatDtype = typeof FLOAT_DTYPES[number];

/** The largest header the reader accepts (the format's own limit): 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor's entry in the header. */
export interface TensorInfo {
  /** The stored element type, e.g. "F32". */
  dtype: string;
  /** The tensor's shape ([] for a scalar). */
  shape: number[];
  /** [begin, end) byte offsets into the data buffer (after the header). */
  dataOffsets: [number, number];
}

/** One tensor's values, widened to float32. */
export interface FloatTensor {
  /** The stored element type. */
  dtype: FloatDtype;
  /** The shape. */
  shape: number[];
  /** Row-major values. */
  data: Float32Array;
}

/** A parsed safetensors file: made by {@linkcode parseSafetensors} or {@linkcode readSafetensors}. */
export interface Safetensors {
  /** The tensors' names, in header order. */
  readonly names: string[];
  /** The `__metadata__` strings (empty when the file has none). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The header entry of one tensor; throws a RangeError naming the tensor when it is missing. */
  info(name: string): TensorInfo;
  /** One tensor's values as float32; throws for a missing tensor or a dtype other than F32, F16, BF16. */
  tensor(name: string): FloatTensor;
}

/**
 * Parses a safetensors file held in memory.
 *
 * @param bytes The whole file.
 * @param source A name for the file in error messages (default "safetensors file").
 * @returns The tensors, read lazily: the bytes are kept, not copied.
 * @throws {RangeError} If the file is truncated, the header length is impossible, the header is not a JSON
 *   object, an entry's offsets do not match its shape and dtype, or the data has holes or overlaps.
 * @throws {TypeError} If `bytes` is not a Uint8Array, or an entry's dtype or shape is malformed.
 * @example
 * ```ts
 * import { parseSafetensors } from "./safetensors.ts";
 * // A file holding one F32 tensor "x" of shape [2]: [1.5, -2].
 * const header = new TextEncoder().encode('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}');
 * const bytes = new Uint8Array(8 + header.length + 8);
 * const view = new DataView(bytes.buffer);
 * view.setBigUint64(0, BigInt(header.length), true);
 * bytes.set(header, 8);
 * view.setFloat32(8 + header.length, 1.5, true);
 * view.setFloat32(8 + header.length + 4, -2, true);
 * const x = parseSafetensors(bytes).tensor("x");
 * if (x.data.join() !== "1.5,-2" || x.shape.join() !== "2") throw new Error("bad tensor");
 * ```
 */
export function parseSafetensors(bytes: Uint8Array, source = "safetensors file"): Safetensors {
  const fn = `Cannot read ${source}`;
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`${fn}: bytes must be a Uint8Array, got ${bytes === null ? "null" : typeof bytes}`);
  }
  if (bytes.length < 8) {
    throw new RangeError(
      `${fn}: the file must start with an 8-byte header length, got a file of ${bytes.length} bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    throw new RangeError(`${fn}: the header length must be at most ${MAX_HEADER_BYTES} bytes, got ${n64}`);
  }
  const n = Number(n64);
  if (8 + n > bytes.length) {
    throw new RangeError(
      `${fn}: the file is truncated: the header needs ${n} bytes after the length, but only ${bytes.length - 8} follow`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (err) {
    throw new RangeError(`${fn}: the header must be UTF-8 JSON, got ${err instanceof Error ? err.message : err}`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new RangeError(`${fn}: the header must be a JSON object, got ${Array.isArray(header) ? "an array" : header}`);
  }
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const entries = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = checkMetadata(raw, fn);
      continue;
    }
    entries.set(name, checkEntry(name, raw, fn));
  }
  checkCoverage(entries, dataLength, fn);

  const info = (name: string): TensorInfo => {
    const e = entries.get(name);
    if (!e) {
      const known = [...entries.keys()];
      const list = known.length <= 8 ? known.join(", ") : `${known.slice(0, 8).join(", ")}, … (${known.length})`;
      throw new RangeError(`${fn}: there is no tensor named "${name}" (the file has: ${list || "none"})`);
    }
    return { dtype: e.dtype, shape: [...e.shape], dataOffsets: [...e.dataOffsets] };
  };
  return {
    names: [...entries.keys()],
    metadata: Object.freeze({ ...metadata }),
    info,
    tensor(name: string): FloatTensor {
      const e = info(name);
      if (!(FLOAT_DTYPES as readonly string[]).includes(e.dtype)) {
        throw new TypeError(
          `${fn}: tensor "${name}" must have dtype ${FLOAT_DTYPES.join(", ")} to be read as float32, got ${e.dtype}`,
        );
      }
      const [begin, end] = e.dataOffsets;
      const raw = bytes.subarray(dataStart + begin, dataStart + end);
      return { dtype: e.dtype as FloatDtype, shape: e.shape, data: toFloat32(raw, e.dtype as FloatDtype) };
    },
  };
}

/**
 * Reads and parses a safetensors file from disk (Deno, or Node once compiled).
 *
 * @param path The file's path.
 * @returns The parsed file (see {@linkcode parseSafetensors}).
 * @throws {RangeError} As {@linkcode parseSafetensors}, naming the path; or if the file cannot be read.
 * @example
 * ```ts
 * import { readSafetensors } from "./safetensors.ts";
 * const header = new TextEncoder().encode('{"b":{"dtype":"F16","shape":[],"data_offsets":[0,2]}}');
 * const bytes = new Uint8Array(8 + header.length + 2);
 * new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
 * bytes.set(header, 8);
 * bytes.set([0x00, 0x3c], 8 + header.length); // F16 1.0, little-endian
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await Deno.writeFile(path, bytes);
 * const b = (await readSafetensors(path)).tensor("b");
 * await Deno.remove(path);
 * if (b.data[0] !== 1 || b.shape.length !== 0) throw new Error("bad scalar");
 * ```
 */
export async function readSafetensors(path: string): Promise<Safetensors> {
  return parseSafetensors(await readBytes(path, "read a safetensors file"), path);
}

function checkMetadata(raw: unknown, fn: string): Record<string, string> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new RangeError(`${fn}: __metadata__ must be an object of strings, got ${JSON.stringify(raw)}`);
  }
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== "string") {
      throw new RangeError(`${fn}: __metadata__ values must be strings, got ${k}: ${JSON.stringify(v)}`);
    }
  }
  return raw as Record<string, string>;
}

function checkEntry(name: string, raw: unknown, fn: string): TensorInfo {
  const where = `${fn}: tensor "${name}"`;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new TypeError(`${where} must be described by an object with dtype, shape and data_offsets, got ${raw}`);
  }
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) {
    throw new TypeError(
      `${where} must have a dtype among ${Object.keys(DTYPE_BYTES).join(", ")}, got ${JSON.stringify(dtype)}`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
    throw new TypeError(`${where} must have a shape of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]
  ) {
    throw new RangeError(
      `${where} must have data_offsets [begin, end] with 0 ≤ begin ≤ end, got ${JSON.stringify(offsets)}`,
    );
  }
  const expected = shape.reduce((a: number, b: number) => a * b, 1) * DTYPE_BYTES[dtype];
  if (offsets[1] - offsets[0] !== expected) {
    throw new RangeError(
      `${where} must span ${expected} bytes (shape [${shape}] of ${dtype}), got data_offsets [${offsets}] (${
        offsets[1] - offsets[0]
      } bytes)`,
    );
  }
  return { dtype, shape: [...shape], dataOffsets: [offsets[0], offsets[1]] };
}

/** The data buffer must be exactly covered: no tensor past its end, no overlap, no hole. */
function checkCoverage(entries: Map<string, TensorInfo>, dataLength: number, fn: string): void {
  const spans = [...entries].filter(([, e]) => e.dataOffsets[1] > e.dataOffsets[0])
    .sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0]);
  let at = 0;
  for (const [name, { dataOffsets: [begin, end] }] of spans) {
    if (begin < at) {
      throw new RangeError(
        `${fn}: tensor "${name}" must not overlap another tensor's data, got data_offsets [${begin},${end}]`,
      );
    }
    if (begin > at) throw new RangeError(`${fn}: the data must have no holes, got unused bytes ${at}…${begin}`);
    at = end;
  }
  if (at > dataLength) {
    const last = spans.at(-1)![0];
    throw new RangeError(
      `${fn}: the file is truncated: tensor "${last}" ends at data byte ${at}, but the data holds ${dataLength} bytes`,
    );
  }
  if (at < dataLength) {
    throw new RangeError(`${fn}: the data must have no holes, got ${dataLength - at} unused bytes at its end`);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function toFloat32(raw: Uint8Array, dtype: FloatDtype): Float32Array {
  const count = raw.length / (dtype === "F32" ? 4 : 2);
  const out = new Float32Array(count);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (dtype === "F32") {
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(raw); // a copy: aligned, and independent of the file's bytes
    else for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (dtype === "BF16") {
    const bits = new Uint32Array(out.buffer); // bfloat16 is the top half of a float32
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true) << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  }
  return out;
}

/** IEEE 754 binary16 bits → number, exactly (subnormals, ±0, ±Infinity and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero or subnormal: fraction · 2⁻¹⁴ / 2¹⁰
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
