/**
 * Shared helpers of the case generators (tools/cases/make_lessonNN.ts): a seeded source of input numbers,
 * plain-loop Float64 linear algebra, exact integer helpers, and the writer of readable TypeScript tables.
 * The generators compute every locked number from the formulas of the exercise texts, with none of the code
 * they check (no TensorFlow.js, nothing from lib/). Private to tools/cases/.
 * @module
 */

/** One generated file: where it goes, and its whole text. */
export interface GeneratedFile {
  path: string;
  text: string;
}

// ---------------------------------------------------------------- seeded inputs

/** A seeded source of "hand-written looking" numbers (mulberry32; independent of lib/random.ts). */
export class Inputs {
  #state: number;
  constructor(seed: string) {
    let h = 2166136261;
    for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
    this.#state = h >>> 0;
  }
  /** Uniform in [0, 1). */
  uniform(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Roughly standard normal (Box–Muller), rounded to `decimals`. */
  normal(scale = 1, decimals = 1): number {
    const u = 1 - this.uniform(), v = this.uniform();
    const x = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return round(x, decimals);
  }
  /** A rows × cols matrix of {@linkcode normal} numbers. */
  matrix(rows: number, cols: number, scale = 1, decimals = 1): number[][] {
    return Array.from({ length: rows }, () => Array.from({ length: cols }, () => this.normal(scale, decimals)));
  }
}

/** x rounded to `decimals` places, without a negative zero. */
export function round(x: number, decimals: number): number {
  const r = Math.round(x * 10 ** decimals) / 10 ** decimals;
  return r === 0 ? 0 : r;
}

// ---------------------------------------------------------------- Float64 linear algebra (plain loops)

export type Matrix = number[][];

export function matmul(a: Matrix, b: Matrix): Matrix {
  if (a[0].length !== b.length) throw new Error(`matmul: [${a.length}, ${a[0].length}]·[${b.length}, …]`);
  return a.map((row) => b[0].map((_, j) => row.reduce((s, x, k) => s + x * b[k][j], 0)));
}

export function transpose(a: Matrix): Matrix {
  return a[0].map((_, j) => a.map((row) => row[j]));
}

export function scale(a: Matrix, c: number): Matrix {
  return a.map((row) => row.map((x) => x * c));
}

/** Row-wise softmax in Float64; −Infinity entries get weight 0. */
export function softmaxRows(a: Matrix): Matrix {
  return a.map((row) => {
    const top = Math.max(...row);
    const e = row.map((x) => (x === -Infinity ? 0 : Math.exp(x - top)));
    const sum = e.reduce((s, x) => s + x, 0);
    return e.map((x) => x / sum);
  });
}

/** Column-wise softmax (each column sums to 1): a known mistake. */
export function softmaxColumns(a: Matrix): Matrix {
  return transpose(softmaxRows(transpose(a)));
}

/** Entries with keep(i, j) false become −Infinity. */
export function masked(a: Matrix, keep: (i: number, j: number) => boolean): Matrix {
  return a.map((row, i) => row.map((x, j) => (keep(i, j) ? x : -Infinity)));
}

/** Rounds every entry to `digits` significant digits (what the tables store). */
export function sig(a: Matrix, digits = 9): Matrix {
  return a.map((row) => row.map((x) => sigNum(x, digits)));
}

/** x to `digits` significant digits. */
export function sigNum(x: number, digits = 9): number {
  if (!Number.isFinite(x) || x === 0) return x === 0 ? 0 : x;
  const r = Number(x.toPrecision(digits));
  return r === 0 ? 0 : r;
}

// ---------------------------------------------------------------- exact integers

/** ⌊√n⌋ for n ≥ 0, exactly (Newton's method on bigint). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError(`isqrt: n must be >= 0, got ${n}`);
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n)))) + 1n;
  for (;;) {
    const y = (x + n / x) / 2n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

/**
 * The wrong answers that tell a mistake apart: those equal to the right answer or to another wrong answer are
 * dropped (no cause could be named from them); with `strict`, such a coincidence is an error instead (the first
 * case of an exercise must tell every mistake apart).
 */
export function distinctWrong<T>(what: string, right: T, wrong: Record<string, T>, strict: boolean): Record<string, T> {
  if (strict) assertDistinct(what, right, wrong);
  const count = new Map<string, number>();
  for (const v of Object.values(wrong)) count.set(String(v), (count.get(String(v)) ?? 0) + 1);
  return Object.fromEntries(
    Object.entries(wrong).filter(([, v]) => String(v) !== String(right) && count.get(String(v)) === 1),
  );
}

/** Throws when two divisors a student may use coincide on a case (then the wrong one could not be named). */
export function assertDivisorsDistinct(what: string, divisors: Record<string, number>): void {
  const entries = Object.entries(divisors);
  for (const [i, [a, x]] of entries.entries()) {
    for (const [b, y] of entries.slice(i + 1)) {
      if (Math.abs(x - y) < 1e-9) {
        throw new Error(`${what}: the divisors ${a} and ${b} coincide (${x}); pick another case`);
      }
    }
  }
}

/** Throws when two of the named values coincide (a cause would be ambiguous) or one equals the right answer. */
export function assertDistinct<T>(what: string, right: T, wrong: Record<string, T>): void {
  const seen = new Map<string, string>([[String(right), "the right answer"]]);
  for (const [name, value] of Object.entries(wrong)) {
    const other = seen.get(String(value));
    if (other) throw new Error(`${what}: the wrong answer "${name}" (${value}) equals ${other}; pick another case`);
    seen.set(String(value), `"${name}"`);
  }
}

// ---------------------------------------------------------------- writing readable TypeScript

/** A TypeScript literal of a value: numbers as written, bigints with `n`, ±Infinity, short arrays inline. */
export function literal(value: unknown, indent = "  ", width = 116): string {
  const inline = inlineLiteral(value);
  if (inline.length + indent.length <= width || !(Array.isArray(value) || isObject(value))) return inline;
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => inner + literal(v, inner, width) + ",").join("\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{\n${entries.map(([k, v]) => `${inner}${key(k)}: ${literal(v, inner, width)},`).join("\n")}\n${indent}}`;
}

function inlineLiteral(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (value === Infinity) return "Infinity";
    if (value === -Infinity) return "-Infinity";
    return Object.is(value, -0) ? "0" : String(value);
  }
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "boolean" || value === null) return String(value);
  if (Array.isArray(value)) return `[${value.map(inlineLiteral).join(", ")}]`;
  if (isObject(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{ ${entries.map(([k, v]) => `${key(k)}: ${inlineLiteral(v)}`).join(", ")} }`;
  }
  throw new Error(`literal: cannot write ${String(value)}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function key(k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k);
}

/** One exported table of a generated file. */
export interface Table {
  /** What the numbers are and how they were made (a comment above the table). */
  doc: string;
  name: string;
  /** The TypeScript type of the table, e.g. "AttentionCase[]". */
  type: string;
  value: unknown;
}

/**
 * The text of a generated case file.
 *
 * @param generator The generator's path from the repository root.
 * @param about Where the formulas come from.
 * @param imports Type-only import lines.
 * @param tables The exported tables.
 * @returns The file's text.
 */
export function caseFile(generator: string, about: string, imports: string[], tables: Table[]): string {
  const head = [
    `// Generated by ${generator} (run \`deno task cases\`) ${about}.`,
    "// Do not edit: change the generator and run it; the test suite fails when this file differs from its output.",
    "// deno-fmt-ignore-file",
    ...imports,
    "",
  ];
  const body = tables.map((t) => {
    const start = `export const ${t.name}: ${t.type} = `;
    const doc = t.doc.split("\n").map((l) => `// ${l}`).join("\n");
    return `${doc}\n${start}${literal(t.value, "", 120 - start.length)};\n`;
  });
  return head.join("\n") + "\n" + body.join("\n");
}
