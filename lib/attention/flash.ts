/**
 * Memory-efficient exact attention: softmax(Q·Kᵀ·scale)·V computed by query
 * and key tiles with an online softmax, never materialising the T×S matrix
 * (Dao et al. 2022, Algorithm 1: running max m and sum ℓ, rescaled by
 * e^{m_old − m_new}). Extra memory per step is one [.., Bq, Bk] tile.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { checkQkv } from "./_check.ts";
import { futureAdditive, futureMask } from "./_masks.ts";

/** Options for {@linkcode flashAttention}. */
export interface FlashOptions {
  /** Mask out keys after the query (j > i, aligned to the last T of S keys). */
  causal?: boolean;
  /** Multiplies the scores; default 1/√D. */
  scale?: number;
  /**
   * Query rows per tile (default: as many as keep a tile of scores at 2^20 entries, 4 MiB, between 128 and 512
   * rows — 512 at S = 2048, 128 from S = 8192 on; on the native backend 512-row tiles ran 6% faster than 128-row
   * ones at T = 2048, timed interleaved in one process, the BLAS being more efficient on taller products).
   */
  blockQ?: number;
  /**
   * Key rows per tile (default 32768). When a tile row holds every visible key the online recurrence reduces to
   * one fused softmax per query tile, which is the fast path (`deno task bench`: the recurrence ran at half the
   * speed on wasm and on native at T = 16384, a cliff in the bench); a [Bq, Bk] tile is 16 MiB at the defaults,
   * against 1 GiB for the 16k × 16k weights. Longer sequences use the recurrence over 32k-key tiles.
   */
  blockK?: number;
}

/**
 * Exact attention by tiles with an online softmax; equals {@linkcode attention}'s output within float32
 * rounding, including its conventions (a query whose keys are all masked outputs 0; NaN propagates).
 *
 * @param q [..., T, D] queries.
 * @param k [..., S, D] keys.
 * @param v [..., S, Dv] values.
 * @param options Causal flag, scale, tile sizes.
 * @returns [..., T, Dv] the output (the caller owns it).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { flashAttention } from "./flash.ts";
 * await tf.setBackend("cpu");
 * const x = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
 * const out = flashAttention(x, x, x, { causal: true, blockQ: 2, blockK: 2 });
 * if (out.shape.join() !== "3,2") throw new Error("bad shape");
 * tf.dispose([x, out]);
 * ```
 */
export function flashAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, options: FlashOptions = {}): tf.Tensor {
  const { blockK = 32768 } = options;
  for (const [name, b] of [["blockQ", options.blockQ ?? 1], ["blockK", blockK]] as const) {
    if (!Number.isInteger(b) || b < 1) {
      throw new RangeError(`Cannot compute flash attention: ${name} must be a positive integer, got ${b}`);
    }
  }
  checkQkv("flash attention", q, k, v, options.scale);
  const r = q.rank;
  const [T, D] = q.shape.slice(-2);
  const S = k.shape[r - 2], Dv = v.shape[r - 1];
  const blockQ = options.blockQ ?? defaultBlockQ(Math.min(S, blockK));
  if (options.causal && T > S) {
    throw new RangeError(
      `Cannot compute flash attention: a causal mask needs at least as many keys as queries, got T=${T}, S=${S}`,
    );
  }
  const scale = options.scale ?? 1 / Math.sqrt(D);
  const batch = q.shape.slice(0, -2);
  const offset = S - T; // query i is at key position i + offset
  const rows = (t: tf.Tensor, start: number, size: number) =>
    // [..., size, *]
    tf.slice(t, [...batch.map(() => 0), start, 0], [...batch.map(() => -1), size, -1]);
  const cols = (t: tf.Tensor, start: number, size: number) =>
    // [..., *, size]
    tf.slice(t, [...batch.map(() => 0), 0, start], [...batch.map(() => -1), -1, size]);
  const perm = [...batch.keys(), r - 1, r - 2];
  // Causal additive masks for the diagonal tiles, by tile height: [bq, bq], 0 on and below the diagonal, −∞ above.
  const triangles = new Map<number, tf.Tensor>();
  const triangle = (bq: number) => {
    // Made inside a tile's tidy: keep it for the next tiles (disposed at the end).
    if (!triangles.has(bq)) triangles.set(bq, tf.keep(futureAdditive(bq, bq, 0))); // [bq, bq]
    return triangles.get(bq)!;
  };

  // The scores Q·Kᵀ. Where a BLAS does the product (the native and tensorflow backends), transposeB is free and
  // the tiles read K itself; elsewhere Kᵀ is made once, so that every tile's scores are a plain product (on wasm,
  // matMul's transposeB is ~10× slower; on native, transposing K took 0.8 ms of 15 at T = 2048).
  const blas = BLAS_BACKENDS.has(tf.getBackend());
  const kT = blas ? null : tf.transpose(k, perm); // [..., D, S]
  const tiles: tf.Tensor[] = [];
  for (let i0 = 0; i0 < T; i0 += blockQ) {
    const bq = Math.min(blockQ, T - i0);
    // Causal: keys after the last query of this tile are never visible; the tile sees keys [0, visible).
    const visible = options.causal ? i0 + bq + offset : S;
    const tile = tf.tidy(() => {
      const qi = tf.mul(rows(q, i0, bq), scale); // [..., Bq, D]
      // Scores of the tile's queries against keys [j0, j0 + bk), −∞ where causal hides them.
      const scores = (j0: number, bk: number) => {
        const all = j0 === 0 && bk === S;
        const s = kT
          ? tf.matMul(qi, all ? kT : cols(kT, j0, bk)) // [..., Bq, Bk]
          : tf.matMul(qi, all ? k : rows(k, j0, bk), false, true);
        const diagonal = i0 + offset; // key position of the tile's first query
        if (!options.causal || j0 + bk - 1 <= diagonal) return s;
        if (j0 + bk === visible && bk >= bq) {
          // The tile ends on the diagonal: its last bq columns hold the triangle.
          const mask = bk === bq ? triangle(bq) : tf.concat([tf.zeros([bq, bk - bq]), triangle(bq)], 1); // [Bq, Bk]
          return tf.add(s, mask);
        }
        return tf.where(futureMask(bq, bk, diagonal - j0), tf.fill(s.shape, -Infinity), s);
      };
      if (visible <= blockK) {
        // One key tile holds every visible key: the online recurrence reduces to one fused softmax.
        return tf.matMul(tf.softmax(scores(0, visible)), visible === S ? v : rows(v, 0, visible)); // [..., Bq, Dv]
      }
      let m: tf.Tensor = tf.fill([...batch, bq, 1], -Infinity); // running max
      let l: tf.Tensor = tf.zeros([...batch, bq, 1]); // running sum of exp
      let acc: tf.Tensor = tf.zeros([...batch, bq, Dv]); // running weighted sum of values
      for (let j0 = 0; j0 < visible; j0 += blockK) {
        const bk = Math.min(blockK, visible - j0);
        const next = tf.tidy(() => {
          const s = scores(j0, bk); // [..., Bq, Bk]
          const mNew = tf.maximum(m, tf.max(s, -1, true)); // [..., Bq, 1]
          // Rows with nothing visible yet keep max −∞: shift by 0 there so exp gives 0, not NaN.
          const shift = tf.where(tf.equal(mNew, -Infinity), tf.zerosLike(mNew), mNew);
          const p = tf.exp(tf.sub(s, shift)); // [..., Bq, Bk]
          const correction = tf.exp(tf.sub(m, shift)); // e^{m_old − m_new}, [..., Bq, 1]
          return {
            m: mNew,
            l: tf.add(tf.mul(l, correction), tf.sum(p, -1, true)),
            acc: tf.add(tf.mul(acc, correction), tf.matMul(p, rows(v, j0, bk))), // [..., Bq, Dv]
          };
        });
        tf.dispose([m, l, acc]);
        ({ m, l, acc } = next);
      }
      return tf.div(acc, tf.where(tf.equal(l, 0), tf.onesLike(l), l)); // [..., Bq, Dv]
    });
    tiles.push(tile);
  }
  tf.dispose([...(kT ? [kT] : []), ...triangles.values()]);
  const out = tiles.length === 1 ? tiles[0] : tf.concat(tiles, r - 2); // [..., T, Dv]
  if (tiles.length > 1) tf.dispose(tiles);
  return out;
}

/** Backends whose matMul is a BLAS call, where transposeB costs nothing. */
const BLAS_BACKENDS = new Set(["native", "tensorflow"]);

/** Query rows per tile: a tile of scores of at most 2^20 entries, between 128 and 512 rows, a power of two. */
function defaultBlockQ(keys: number): number {
  let rows = 512;
  while (rows > 128 && rows * keys > 2 ** 20) rows /= 2;
  return rows;
}
