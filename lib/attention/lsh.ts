/**
 * LSH attention (Kitaev et al. 2020, "Reformer: The Efficient Transformer", §2): angular locality-sensitive
 * hashing puts vectors that point the same way into the same bucket with high probability; the sequence is sorted by
 * bucket, cut into chunks, and each query attends only to its own chunk and the one before (in sorted order).
 * Several independent hash rounds are combined by attending to the union of what each round offers.
 *
 * - Hash (their §2, after Andoni et al. 2015): a random matrix R ∈ ℝ^{D×b/2} with Gaussian entries gives
 *   h(x) = argmax([xR ; −xR]), one of b buckets. Nearby directions tend to share a bucket; the argmax does not
 *   change when x is scaled, so only the direction of x matters.
 * - Shared QK: Reformer uses one projection for queries and keys and normalises the keys, k_j = q_j/‖q_j‖, so a
 *   query and its best keys hash alike; a token does not attend to itself unless nothing else is left.
 *
 * Hashing runs in Float64 plain JavaScript (the same buckets on every backend); attention runs through
 * `gatherAttention` (./sparse.ts), which computes only the listed query–key pairs.
 *
 * Shape alphabet (lib/README.md): T tokens, D features per head; b (local to this file) the number of buckets,
 * R the number of hash rounds.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random.ts";
import { gatherAttention } from "./sparse.ts";

/** One hash round's random matrix, [D, b/2] row-major in Float64. */
export interface LshRotation {
  /** Features per vector. */
  D: number;
  /** Number of buckets b (even): the matrix has b/2 columns. */
  buckets: number;
  /** The D·b/2 Gaussian entries, row-major: entry (c, u) at c·b/2 + u. */
  data: Float64Array;
}

/**
 * `rounds` independent random matrices for angular LSH, each [D, b/2] with N(0, 1) entries, drawn from
 * `r.fork("lsh/<round>")` (so the given stream does not advance, and round i is the same whatever `rounds` is).
 *
 * @param D Features per vector, a positive integer.
 * @param buckets Number of buckets b, an even integer ≥ 2.
 * @param rounds Number of hash rounds, a positive integer.
 * @param r The seeded random source.
 * @returns One {@linkcode LshRotation} per round.
 * @example
 * ```ts
 * import { lshRotations } from "./lsh.ts";
 * import { rng } from "../random.ts";
 * const [a] = lshRotations(4, 8, 1, rng(0)), [b] = lshRotations(4, 8, 3, rng(0));
 * if (a.data.length !== 16 || a.data.join() !== b.data.join()) throw new Error("round 0 should not depend on rounds");
 * ```
 */
export function lshRotations(D: number, buckets: number, rounds: number, r: Rng): LshRotation[] {
  const fail = (Err: typeof TypeError, what: string) => new Err(`Cannot draw LSH rotations: ${what}`);
  if (!Number.isInteger(D) || D < 1) throw fail(RangeError, `D must be a positive integer, got ${D}`);
  if (!Number.isInteger(buckets) || buckets < 2 || buckets % 2 !== 0) {
    throw fail(RangeError, `buckets must be an even integer ≥ 2, got ${buckets}`);
  }
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw fail(RangeError, `rounds must be a positive integer, got ${rounds}`);
  }
  if (!(r instanceof Rng)) throw fail(TypeError, `r must be an Rng (from rng(seed)), got ${typeof r}`);
  return Array.from({ length: rounds }, (_, i) => ({
    D,
    buckets,
    data: r.fork(`lsh/${i}`).normalArray(D * (buckets / 2)),
  }));
}

/**
 * The angular-LSH bucket of every row of x, for each round: h(x) = argmax([xR ; −xR]) ∈ [0, b).
 * Bucket u < b/2 means column u of xR is the largest entry of [xR ; −xR]; bucket b/2 + u means −(xR)_u is.
 * Ties (measure zero) go to the lowest index. A zero row hashes to bucket 0.
 *
 * @param x [N, D] points: a 2-D tensor or an array of rows.
 * @param rotations From {@linkcode lshRotations}, each with the same D as x.
 * @returns One Int32Array of N buckets per round.
 * @example
 * ```ts
 * import { lshHash } from "./lsh.ts";
 * // R = identity (D = 2, b = 4): the bucket is the axis direction the point is closest to.
 * const R = { D: 2, buckets: 4, data: Float64Array.from([1, 0, 0, 1]) };
 * const [h] = lshHash([[3, 1], [0.2, 5], [-4, 1], [1, -2]], [R]);
 * if (h.join() !== "0,1,2,3") throw new Error(`got ${h}`);
 * ```
 */
export function lshHash(x: tf.Tensor | ArrayLike<number>[], rotations: LshRotation[]): Int32Array[] {
  const { data, N, D } = readRows(x, "hash");
  if (!Array.isArray(rotations) || rotations.length === 0) {
    throw new TypeError(
      `Cannot hash: rotations must be a non-empty array from lshRotations(), got ${typeof rotations}`,
    );
  }
  return rotations.map((rot, round) => {
    if (rot?.D !== D || !(rot.data instanceof Float64Array) || rot.data.length !== D * (rot.buckets / 2)) {
      throw new TypeError(
        `Cannot hash: rotation ${round} must be a [${D}, b/2] matrix from lshRotations(${D}, …), got D=${rot?.D}`,
      );
    }
    const half = rot.buckets / 2;
    const out = new Int32Array(N);
    const proj = new Float64Array(half);
    for (let i = 0; i < N; i++) {
      proj.fill(0);
      for (let c = 0; c < D; c++) {
        const xc = data[i * D + c];
        for (let u = 0; u < half; u++) proj[u] += xc * rot.data[c * half + u];
      }
      let best = 0, bestValue = -Infinity;
      for (let u = 0; u < half; u++) if (proj[u] > bestValue) [best, bestValue] = [u, proj[u]];
      for (let u = 0; u < half; u++) if (-proj[u] > bestValue) [best, bestValue] = [half + u, -proj[u]];
      out[i] = best;
    }
    return out;
  });
}

/** Options for {@linkcode lshKeyLists}. */
export interface LshListOptions {
  /** Chunk length m of the sorted sequence: each query sees its chunk and the previous one (default 32). */
  chunk?: number;
  /** Keep only keys j ≤ i (default false). */
  causal?: boolean;
  /**
   * Keep only keys in the query's own bucket (default false: the whole chunk window, as Reformer computes it —
   * a chunk may also hold the end of the previous bucket or the start of the next, and those keys are kept).
   */
  sameBucket?: boolean;
  /** Drop the query itself unless it would see nothing else (default true, Reformer's shared-QK rule). */
  excludeSelf?: boolean;
}

/**
 * For each query, the keys LSH attention lets it see: the union over rounds of its chunk window.
 *
 * Per round, positions are sorted by (bucket, position) — a stable sort, so within a bucket the sequence
 * order stays — and the sorted order is cut into chunks of `chunk` positions; the query at sorted index s
 * sees the positions at sorted indices in chunks ⌊s/m⌋ − 1 and ⌊s/m⌋ (Kitaev et al. 2020, §2). The lists of
 * all rounds are merged (a key seen in two rounds counts once: attention over the union is exactly the
 * multi-round combination with duplicates removed).
 *
 * @param buckets One Int32Array of T buckets per round (from {@linkcode lshHash}).
 * @param options Chunk length, causal, same-bucket-only and self rules.
 * @returns T ascending lists of key positions.
 * @example
 * ```ts
 * import { lshKeyLists } from "./lsh.ts";
 * // 6 tokens, buckets 0,1,0,1,0,1; chunks of 3: sorted order 0,2,4 | 1,3,5.
 * const lists = lshKeyLists([Int32Array.from([0, 1, 0, 1, 0, 1])], { chunk: 3 });
 * if (lists[1].join() !== "0,2,3,4,5" || lists[0].join() !== "2,4") throw new Error(`got ${lists[1]}; ${lists[0]}`);
 * ```
 */
export function lshKeyLists(buckets: Int32Array[], options: LshListOptions = {}): number[][] {
  const { chunk = 32, causal = false, sameBucket = false, excludeSelf = true } = options;
  if (!Array.isArray(buckets) || buckets.length === 0 || buckets.some((b) => !(b instanceof Int32Array))) {
    throw new TypeError("Cannot list LSH keys: buckets must be a non-empty array of Int32Array (one per round)");
  }
  const T = buckets[0].length;
  if (buckets.some((b) => b.length !== T)) {
    throw new TypeError(`Cannot list LSH keys: every round must hash the same ${T} tokens`);
  }
  if (!Number.isInteger(chunk) || chunk < 1) {
    throw new RangeError(`Cannot list LSH keys: chunk must be a positive integer, got ${chunk}`);
  }
  const sets = Array.from({ length: T }, () => new Set<number>());
  for (const h of buckets) {
    const order = [...Array(T).keys()].sort((a, b) => h[a] - h[b] || a - b); // sorted index → position
    for (let s = 0; s < T; s++) {
      const i = order[s], c = Math.floor(s / chunk);
      const from = Math.max(0, (c - 1) * chunk), to = Math.min(T, (c + 1) * chunk);
      for (let u = from; u < to; u++) {
        const j = order[u];
        if (causal && j > i) continue;
        if (sameBucket && h[j] !== h[i]) continue;
        sets[i].add(j);
      }
    }
  }
  return sets.map((set, i) => {
    if (excludeSelf && set.size > 1) set.delete(i);
    return [...set].sort((a, b) => a - b);
  });
}

/** Options for {@linkcode lshAttention}. */
export interface LshAttentionOptions extends LshListOptions {
  /** The hash rounds (from {@linkcode lshRotations}, with D = the width of qk). */
  rotations: LshRotation[];
  /** Multiplies the scores; default 1/√D. */
  scale?: number;
}

/** What {@linkcode lshAttention} returns (a type alias, so that `tf.tidy` accepts it). */
export type LshAttentionResult = {
  /** [T, Dv] the output. */
  output: tf.Tensor2D;
  /** The buckets of every round. */
  buckets: Int32Array[];
  /** The keys each query saw. */
  keys: number[][];
};

/**
 * Reformer's shared-QK LSH attention on one sequence: queries qk, keys qk/‖qk‖ (row by row), hashed by the
 * given rounds, each query attending (softmax over scores q·k·scale) to the keys {@linkcode lshKeyLists} gives it.
 * Cost: the hashing, O(R·T·D·b/2), a sort per round, and O(T·W·(D + Dv)) for the attention, W ≤ 2·R·m keys per
 * query — against O(T²·(D + Dv)) for full attention.
 *
 * @param qk [T, D] shared queries/keys.
 * @param v [T, Dv] values.
 * @param options Rotations, chunk length, causal, same-bucket-only, self rule, scale.
 * @returns The output, the buckets and the key lists (the caller owns the output).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { lshAttention, lshRotations } from "./lsh.ts";
 * import { rng } from "../random.ts";
 * await tf.setBackend("cpu");
 * const r = rng(0);
 * const qk = r.tensor([16, 8]) as tf.Tensor2D, v = r.tensor([16, 4]) as tf.Tensor2D;
 * const { output, keys } = lshAttention(qk, v, { rotations: lshRotations(8, 4, 2, r), chunk: 4 });
 * if (output.shape.join() !== "16,4" || keys.some((row) => row.length > 16)) throw new Error("bad result");
 * tf.dispose([qk, v, output]);
 * ```
 */
export function lshAttention(qk: tf.Tensor2D, v: tf.Tensor2D, options: LshAttentionOptions): LshAttentionResult {
  for (const [name, t] of [["qk", qk], ["values", v]] as const) {
    if (!(t instanceof tf.Tensor) || t.rank !== 2) {
      throw new TypeError(
        `Cannot compute LSH attention: ${name} must be a 2-D tf.Tensor ([T, D]), got ${
          t instanceof tf.Tensor ? `shape [${t.shape}]` : typeof t
        }`,
      );
    }
  }
  if (v.shape[0] !== qk.shape[0]) {
    throw new TypeError(`Cannot compute LSH attention: values must have ${qk.shape[0]} rows, got shape [${v.shape}]`);
  }
  const { rotations, scale, ...listOptions } = options ?? ({} as LshAttentionOptions);
  const buckets = lshHash(qk, rotations);
  const keys = lshKeyLists(buckets, listOptions);
  const output = tf.tidy(() => {
    const norm = tf.norm(qk, "euclidean", 1, true); // [T, 1]
    const k = tf.div(qk, tf.where(tf.equal(norm, 0), tf.onesLike(norm), norm)); // [T, D] unit keys
    return gatherAttention(qk, k, v, keys, { scale }) as tf.Tensor2D; // [T, Dv]
  });
  return { output, buckets, keys };
}

function readRows(x: tf.Tensor | ArrayLike<number>[], what: string): { data: Float64Array; N: number; D: number } {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new TypeError(`Cannot ${what}: x must be a 2-D tensor [N, D], got shape [${x.shape}]`);
    const data = Float64Array.from(x.dataSync() as Float32Array);
    if (data.some((v) => !Number.isFinite(v))) throw new RangeError(`Cannot ${what}: x must be finite`);
    const [N, D] = x.shape as [number, number];
    return { data, N, D };
  }
  if (!Array.isArray(x)) throw new TypeError(`Cannot ${what}: x must be a 2-D tensor or an array of rows`);
  const N = x.length, D = N ? x[0].length : 0;
  const data = new Float64Array(N * D);
  x.forEach((row, i) => {
    if (row?.length !== D) throw new TypeError(`Cannot ${what}: every row must have ${D} entries, got ${row?.length}`);
    for (let c = 0; c < D; c++) data[i * D + c] = row[c];
  });
  if (data.some((v) => !Number.isFinite(v))) throw new RangeError(`Cannot ${what}: x must be finite`);
  return { data, N, D };
}
