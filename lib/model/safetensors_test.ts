import { FLOAT_DTYPES, MAX_HEADER_BYTES, parseSafetensors, readSafetensors } from "./safetensors.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_testing.ts";

/** A safetensors file written byte by byte: header length, JSON header (padded with spaces), then data. */
function file(header: unknown, data: Uint8Array, options: { pad?: number; length?: bigint } = {}): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(options.pad ?? 0));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, options.length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function f32(values: number[]): Uint8Array {
  const b = new Uint8Array(4 * values.length);
  const view = new DataView(b.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true)); // little-endian, whatever the host
  return b;
}

function u16(values: number[]): Uint8Array {
  const b = new Uint8Array(2 * values.length);
  values.forEach((v, i) => new DataView(b.buffer).setUint16(2 * i, v, true));
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

const TWO = {
  __metadata__: { format: "pt", made: "by hand" },
  a: { dtype: "F32", shape: [2, 3], data_offsets: [0, 24] },
  h: { dtype: "F16", shape: [8], data_offsets: [24, 40] },
  i: { dtype: "I64", shape: [1], data_offsets: [40, 48] },
  empty: { dtype: "F32", shape: [0, 4], data_offsets: [48, 48] },
};
// F16 bits: 1, -2, 0.5, 65504 (max), 2⁻²⁴ (smallest subnormal), -0, +Infinity, NaN.
const HALF_BITS = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x7e00];
const TWO_DATA = concat(f32([1, -2.5, 3.25, 0, 1e-30, -7]), u16(HALF_BITS), new Uint8Array(8).fill(9));

Deno.test("parseSafetensors() reads F32 and F16 tensors, shapes, names and metadata of a hand-made file", () => {
  const st = parseSafetensors(file(TWO, TWO_DATA, { pad: 5 })); // trailing spaces in the header are allowed
  assertEquals(st.names, ["a", "h", "i", "empty"]);
  assertEquals({ ...st.metadata }, { format: "pt", made: "by hand" });
  const a = st.tensor("a");
  assertEquals(a.shape, [2, 3]);
  assertEquals(a.dtype, "F32");
  assertEquals(Array.from(a.data), [1, -2.5, 3.25, 0, Math.fround(1e-30), -7]);
  const h = st.tensor("h");
  assertEquals(Array.from(h.data).slice(0, 7), [1, -2, 0.5, 65504, 2 ** -24, -0, Infinity]);
  assert(Object.is(h.data[5], -0), "F16 -0 keeps its sign");
  assert(Number.isNaN(h.data[7]), "F16 NaN stays NaN");
  assertEquals(st.tensor("empty").data.length, 0);
  assertEquals(st.info("i"), { dtype: "I64", shape: [1], dataOffsets: [40, 48] });
});

Deno.test("parseSafetensors() widens BF16 exactly and reads a scalar", () => {
  // bfloat16 bits: 1.0 = 0x3f80, -3.0 = 0xc040, 0x3f81 = 1 + 2⁻⁷.
  const st = parseSafetensors(file(
    { b: { dtype: "BF16", shape: [3], data_offsets: [0, 6] }, s: { dtype: "F32", shape: [], data_offsets: [6, 10] } },
    concat(u16([0x3f80, 0xc040, 0x3f81]), f32([42])),
  ));
  assertEquals(Array.from(st.tensor("b").data), [1, -3, 1 + 2 ** -7]);
  const s = st.tensor("s");
  assertEquals([s.shape, Array.from(s.data)], [[], [42]]);
});

Deno.test("parseSafetensors() reads tensors at unaligned offsets and returns copies", () => {
  const header = { x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };
  const pad = 4 - (JSON.stringify(header).length % 4) + 1; // header length ≡ 1 (mod 4)
  const bytes = file(header, f32([3, 4]), { pad });
  assertEquals((bytes.length - 8) % 4, 1, "the data must start at an unaligned offset for this test");
  const x = parseSafetensors(bytes).tensor("x");
  assertEquals(Array.from(x.data), [3, 4]);
  x.data[0] = 99;
  assertEquals(parseSafetensors(bytes).tensor("x").data[0], 3, "the returned array must not alias the file");
});

Deno.test("parseSafetensors() rejects truncated files with a message saying so", () => {
  const good = file(TWO, TWO_DATA);
  assertThrows(() => parseSafetensors(good.subarray(0, 5)), RangeError, "must start with an 8-byte header length");
  assertThrows(() => parseSafetensors(good.subarray(0, 30)), RangeError, "the file is truncated: the header needs");
  assertThrows(
    () => parseSafetensors(good.subarray(0, good.length - 3)),
    RangeError,
    'the file is truncated: tensor "i" ends at data byte 48, but the data holds 45 bytes',
  );
});

Deno.test("parseSafetensors() rejects corrupt headers: length, JSON, entries, overlaps and holes", () => {
  const data = f32([1, 2]);
  const entry = (e: unknown) => file({ x: e }, data);
  assertThrows(
    () => parseSafetensors(file({}, data, { length: BigInt(MAX_HEADER_BYTES) + 1n })),
    RangeError,
    `the header length must be at most ${MAX_HEADER_BYTES} bytes`,
  );
  const notJson = file({ x: 1 }, data);
  notJson[8] = "[".charCodeAt(0);
  assertThrows(() => parseSafetensors(notJson), RangeError, "the header must be UTF-8 JSON");
  const badUtf8 = file({ xx: 1 }, data);
  badUtf8[10] = 0xff;
  assertThrows(() => parseSafetensors(badUtf8), RangeError, "the header must be UTF-8 JSON");
  assertThrows(
    () => parseSafetensors(file([1, 2], data)),
    RangeError,
    "the header must be a JSON object, got an array",
  );
  assertThrows(
    () => parseSafetensors(entry({ dtype: "F99", shape: [2], data_offsets: [0, 8] })),
    TypeError,
    'tensor "x" must have a dtype among BOOL, U8',
  );
  assertThrows(
    () => parseSafetensors(entry({ dtype: "F32", shape: [-2], data_offsets: [0, 8] })),
    TypeError,
    'tensor "x" must have a shape of non-negative integers, got [-2]',
  );
  assertThrows(
    () => parseSafetensors(entry({ dtype: "F32", shape: [2], data_offsets: [8, 0] })),
    RangeError,
    "must have data_offsets [begin, end] with 0 ≤ begin ≤ end, got [8,0]",
  );
  assertThrows(
    () => parseSafetensors(entry({ dtype: "F32", shape: [3], data_offsets: [0, 8] })),
    RangeError,
    'tensor "x" must span 12 bytes (shape [3] of F32), got data_offsets [0,8] (8 bytes)',
  );
  assertThrows(
    () =>
      parseSafetensors(file({
        x: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
        y: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      }, data)),
    RangeError,
    "must not overlap another tensor's data",
  );
  assertThrows(
    () => parseSafetensors(entry({ dtype: "F32", shape: [1], data_offsets: [4, 8] })),
    RangeError,
    "the data must have no holes, got unused bytes 0…4",
  );
  assertThrows(
    () => parseSafetensors(entry({ dtype: "F32", shape: [1], data_offsets: [0, 4] })),
    RangeError,
    "the data must have no holes, got 4 unused bytes at its end",
  );
  assertThrows(
    () => parseSafetensors(file({ __metadata__: { n: 1 } }, new Uint8Array())),
    RangeError,
    "__metadata__ values must be strings, got n: 1",
  );
  assertThrows(
    () => parseSafetensors("abc" as unknown as Uint8Array),
    TypeError,
    "bytes must be a Uint8Array, got string",
  );
});

Deno.test("Safetensors.tensor() names a missing tensor and a dtype it cannot read as float32", () => {
  const st = parseSafetensors(file(TWO, TWO_DATA), "weights.safetensors");
  assertThrows(
    () => st.tensor("b"),
    RangeError,
    'Cannot read weights.safetensors: there is no tensor named "b" (the file has: a, h, i, empty)',
  );
  assertThrows(
    () => st.tensor("i"),
    TypeError,
    `Cannot read weights.safetensors: tensor "i" must have dtype ${
      FLOAT_DTYPES.join(", ")
    } to be read as float32, got I64`,
  );
});

Deno.test("readSafetensors() reads a file from disk, names the path in errors, and rejects a corrupted copy", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = file(TWO, TWO_DATA);
    await Deno.writeFile(`${dir}/ok.safetensors`, good);
    assertEquals(Array.from((await readSafetensors(`${dir}/ok.safetensors`)).tensor("a").data).length, 6);
    await Deno.writeFile(`${dir}/cut.safetensors`, good.subarray(0, good.length - 1));
    await assertRejects(
      () => readSafetensors(`${dir}/cut.safetensors`),
      RangeError,
      `Cannot read ${dir}/cut.safetensors: the file is truncated`,
    );
    const flipped = good.slice();
    flipped[8] = 0; // the header's opening brace becomes NUL: the JSON no longer parses
    await Deno.writeFile(`${dir}/bad.safetensors`, flipped);
    await assertRejects(() => readSafetensors(`${dir}/bad.safetensors`), RangeError, "the header must be UTF-8 JSON");
    await assertRejects(
      () => readSafetensors(`${dir}/none.safetensors`),
      RangeError,
      `Cannot read a safetensors file: ${dir}/none.safetensors must be a readable file, got NotFound`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
