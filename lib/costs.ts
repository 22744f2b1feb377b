/**
 * Exact parameter and FLOP counts of a dense layer over a whole sequence and
 * of a self-attention layer, as integers (`bigint`), and their exact ratios
 * (mathjs fractions). FLOPs count a multiply–add as 2.
 *
 * Shapes: a sequence of T tokens with d features each, X: [T, d].
 * @module
 */
import { all, create, type Fraction } from "mathjs";

/** mathjs with every function, for exact and symbolic math in the lessons. */
export const math = create(all, { number: "number" });

/** The parameter and FLOP count of a layer applied to one sequence. */
export interface Cost {
  /** Stored weights (no biases). */
  params: bigint;
  /** Floating-point operations of one forward pass, a multiply–add counted as 2. */
  flops: bigint;
}

function checkSize(fn: string, name: string, value: number | bigint): bigint {
  if (typeof value === "bigint" ? value < 1n : !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Cannot count ${fn}: ${name} must be a positive integer, got ${value}`);
  }
  return BigInt(value);
}

/**
 * A dense (fully connected) layer from all T·d inputs to all T·d outputs:
 * (T·d)² weights, each used in one multiply–add.
 *
 * @param T Sequence length.
 * @param d Features per token.
 * @returns `{ params: (T·d)², flops: 2·(T·d)² }`.
 * @example
 * ```ts
 * import { denseLayerCost } from "./costs.ts";
 * if (denseLayerCost(4, 8).params !== 1024n) throw new Error("(4·8)² = 1024");
 * ```
 */
export function denseLayerCost(T: number | bigint, d: number | bigint): Cost {
  const t = checkSize("a dense layer", "T", T), dd = checkSize("a dense layer", "d", d);
  const n = t * dd;
  return { params: n * n, flops: 2n * n * n };
}

/**
 * Single-layer self-attention with query, key, value and output maps
 * (W_Q, W_K, W_V, W_O, each d×d; heads split d and do not change the counts).
 * FLOPs: four projections 4·2·T·d² plus the scores QKᵀ (2·T²·d) and the
 * weighted sum A·V (2·T²·d), without the mask's savings.
 *
 * @param T Sequence length.
 * @param d Model width.
 * @returns `{ params: 4d², flops: 8Td² + 4T²d }`.
 * @example
 * ```ts
 * import { attentionLayerCost } from "./costs.ts";
 * if (attentionLayerCost(2048, 12288).params !== 603979776n) throw new Error("4·12288²");
 * ```
 */
export function attentionLayerCost(T: number | bigint, d: number | bigint): Cost {
  const t = checkSize("an attention layer", "T", T), dd = checkSize("an attention layer", "d", d);
  return { params: 4n * dd * dd, flops: 8n * t * dd * dd + 4n * t * t * dd };
}

/**
 * The exact ratio a / b as a mathjs fraction.
 *
 * @example
 * ```ts
 * import { exactRatio, math } from "./costs.ts";
 * if (math.format(exactRatio(6n, 4n), { fraction: "ratio" }) !== "3/2") throw new Error("6/4 = 3/2");
 * ```
 */
export function exactRatio(a: bigint, b: bigint): Fraction {
  if (b === 0n) throw new RangeError("Cannot take a ratio: the denominator is 0");
  return math.fraction(a, b) as Fraction;
}

/**
 * A fraction in lowest terms as text, digits grouped by thousands: `"1,048,576"` when it is whole, else
 * `"6,144/13"`.
 *
 * @example
 * ```ts
 * import { exactRatio, formatFraction } from "./costs.ts";
 * if (formatFraction(exactRatio(8n, 2n)) !== "4") throw new Error("8/2 is 4");
 * if (formatFraction(exactRatio(-12288n, 26n)) !== "-6,144/13") throw new Error("lowest terms, grouped");
 * ```
 */
export function formatFraction(f: Fraction): string {
  const group = (x: bigint) => x.toLocaleString("en-US");
  const n = BigInt(f.s) * BigInt(f.n), d = BigInt(f.d);
  return d === 1n ? group(n) : `${group(n)}/${group(d)}`;
}
