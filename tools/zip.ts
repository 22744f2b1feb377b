/**
 * A small ZIP writer (PKWARE's APPNOTE: local headers, central directory, end record; no ZIP64): files are
 * deflated with the platform's `CompressionStream("deflate-raw")` (stored when that does not help), each with
 * its Unix mode, so executable scripts stay executable, and one fixed time stamp, so the same files give the
 * same archive. Enough for the Gradescope autograder (tools/gradescope.ts); read back by Python's zipfile in
 * its test.
 * @module
 */

/** One file of the archive. */
export interface ZipEntry {
  /** Relative path with `/` separators. */
  path: string;
  data: Uint8Array;
  /** Unix permission bits (default 0o644). */
  mode?: number;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, as ZIP and gzip use it). */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// 1 January 2026, 00:00 in MS-DOS date and time fields.
const DOS_TIME = 0;
const DOS_DATE = ((2026 - 1980) << 9) | (1 << 5) | 1;

/** The archive's bytes. Paths must be relative, unique, and free of `..` and empty segments. */
export async function zipBytes(entries: ZipEntry[]): Promise<Uint8Array> {
  const seen = new Set<string>();
  for (const e of entries) {
    if (!e.path || e.path.startsWith("/") || e.path.split("/").some((s) => s === "" || s === "." || s === "..")) {
      throw new RangeError(`zip: a path must be relative, without empty, "." or ".." parts: ${JSON.stringify(e.path)}`);
    }
    if (seen.has(e.path)) throw new RangeError(`zip: the path ${e.path} appears twice`);
    seen.add(e.path);
  }
  const encoder = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = encoder.encode(e.path);
    const crc = crc32(e.data);
    const deflated = await deflateRaw(e.data);
    const method = deflated.length < e.data.length ? 8 : 0;
    const body = method === 8 ? deflated : e.data;
    if (body.length > 0xfffffffe || offset > 0xfffffffe) throw new RangeError("zip: over 4 GiB (no ZIP64 here)");

    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true); // version needed: 2.0 (deflate)
    lv.setUint16(6, 0x0800, true); // UTF-8 names
    lv.setUint16(8, method, true);
    lv.setUint16(10, DOS_TIME, true);
    lv.setUint16(12, DOS_DATE, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, e.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);

    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, (3 << 8) | 20, true); // made by: Unix, 2.0
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x0800, true);
    cv.setUint16(10, method, true);
    cv.setUint16(12, DOS_TIME, true);
    cv.setUint16(14, DOS_DATE, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, e.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(38, ((0o100000 | (e.mode ?? 0o644)) << 16) >>> 0, true); // regular file and its mode
    cv.setUint32(42, offset, true);
    central.set(name, 46);

    locals.push(local, body);
    centrals.push(central);
    offset += local.length + body.length;
  }
  if (entries.length > 0xffff) throw new RangeError("zip: over 65535 files (no ZIP64 here)");
  const centralSize = centrals.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + centralSize + end.length);
  let at = 0;
  for (const part of [...locals, ...centrals, end]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
