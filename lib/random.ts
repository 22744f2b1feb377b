/**
 * One seeded random source for every kernel, lesson and test.
 *
 * Uniform numbers come from the `alea` generator of the `seedrandom` package
 * (the package TensorFlow.js itself uses for its seeded ops); normal numbers
 * are made from them with the Box–Muller transform. The same seed gives the
 * same numbers on every backend and every machine, because nothing here
 * touches a backend until {@linkcode Rng.tensor} copies the numbers in.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import seedrandom from "seedrandom";

/** A seeded stream of random numbers. Make one with {@linkcode rng}. */
export class Rng {
  readonly seed: string;
  #next: () => number;
  #spare: number | undefined;

  constructor(seed: number | string) {
    if (typeof seed === "number" && !Number.isFinite(seed)) {
      throw new RangeError(`Cannot make a random source: seed must be a finite number or a string, got ${seed}`);
    }
    if (typeof seed !== "number" && typeof seed !== "string") {
      throw new TypeError(`Cannot make a random source: seed must be a number or a string, got ${typeof seed}`);
    }
    this.seed = String(seed);
    this.#next = seedrandom.alea(this.seed);
  }

  /** A number uniform in [0, 1). */
  uniform(): number {
    return this.#next();
  }

  /** A standard normal number (mean 0, variance 1), by Box–Muller. */
  normal(): number {
    if (this.#spare !== undefined) {
      const z = this.#spare;
      this.#spare = undefined;
      return z;
    }
    let u = 0;
    while (u === 0) u = this.#next(); // log(0) is -Infinity: draw again
    const v = this.#next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** An integer uniform in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) {
      throw new RangeError(`Cannot draw an integer: n must be a positive integer, got ${n}`);
    }
    return Math.floor(this.#next() * n);
  }

  /** `n` normal numbers with the given mean and standard deviation. */
  normalArray(n: number, mean = 0, std = 1): Float64Array {
    checkCount(n);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** `n` numbers uniform in [lo, hi). */
  uniformArray(n: number, lo = 0, hi = 1): Float64Array {
    checkCount(n);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.#next();
    return out;
  }

  /**
   * A float32 tensor of normal numbers (mean 0, standard deviation `std`).
   * The caller owns the tensor (dispose it, or make it inside `tf.tidy`).
   */
  tensor(shape: number[], std = 1): tf.Tensor {
    const size = checkShape(shape);
    return tf.tensor(Float32Array.from(this.normalArray(size, 0, std)), shape, "float32");
  }

  /**
   * An independent stream named `label`, derived from this stream's seed.
   * Forking does not advance this stream, so adding a fork to a lesson
   * leaves the numbers of every other stream unchanged.
   */
  fork(label: string | number): Rng {
    return new Rng(`${this.seed}/${label}`);
  }
}

/**
 * A seeded random source.
 *
 * @param seed Any number or string; the same seed gives the same numbers.
 * @returns A new {@linkcode Rng}.
 * @example
 * ```ts
 * import { rng } from "./random.ts";
 * const a = rng(42).normalArray(3);
 * const b = rng(42).normalArray(3);
 * if (a.join() !== b.join()) throw new Error("not reproducible");
 * ```
 */
export function rng(seed: number | string): Rng {
  return new Rng(seed);
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`Cannot draw random numbers: count must be a non-negative integer, got ${n}`);
  }
}

function checkShape(shape: number[]): number {
  if (!Array.isArray(shape) || shape.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new TypeError(
      `Cannot make a random tensor: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  return shape.reduce((a, b) => a * b, 1);
}
