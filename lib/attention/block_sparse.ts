/**
 * Block-sparse attention: the sequence is cut into blocks of `block` tokens and each query block
 * attends to a few whole key blocks (a window around it, some global blocks, some random ones), as
 * in Zaheer et al. 2020 (BigBird) and Beltagy et al. 2020 (Longformer). Working on whole blocks
 * turns the sparse pattern into two dense matMuls per query block, on keys and values put together
 * from whole blocks (tf.split once, tf.concat per query block), never with an element-level
 * `tf.gather`; that is why BigBird uses blocks.
 *
 * Blocks live on the key axis. Query i sits at key position p = i + S − T (the last T of S keys,
 * as in attention()'s causal mask), so S − T must be a multiple of `block`: query block a (rows
 * [a·block, (a + 1)·block)) then lines up with key block a + (S − T)/block. The last block of each
 * axis may be short (T = 100, block 64: blocks of 64 and 36 tokens); T and S need not be multiples
 * of `block`.
 *
 * Shape alphabet (lib/README.md): T query tokens, S key tokens, D features per head; W (local to
 * this file) is the number of keys a query block sees (its key blocks times `block`).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { checkQkv } from "./_check.ts";
import { Rng } from "../random.ts";

/**
 * A block-sparse pattern: the key blocks each query block sees are the UNION of the rules given,
 * then (if `causal`) cut to the past. Block indices count key blocks: block c holds keys
 * [c·block, (c + 1)·block). At least one of `window`, `global`, `random` must be given.
 */
export interface BlockPattern {
  /** Tokens per block (≥ 1). S − T must be a multiple of it; the last block of each axis may be short. */
  block: number;
  /**
   * Window radius w in blocks: a query block at key block c sees key blocks c − w … c + w
   * (Longformer's sliding window and BigBird's window, by blocks). `window: 0` is the own block.
   */
  window?: number;
  /**
   * Global key blocks: a query block at a global block sees every key block, and every query block
   * sees the global blocks (Longformer's global attention, BigBird-ITC's global tokens).
   */
  global?: number[];
  /**
   * Random key blocks (BigBird's random attention): each query block also sees `perRow` distinct key
   * blocks drawn uniformly among the blocks it may see (all, or those up to its own when causal) that
   * the other rules did not already give it; fewer when fewer are left. Drawn from
   * `rng.fork("block-random")`, query block by query block (Floyd's sampling), so the given stream
   * does not advance: the same pattern object always means the same blocks.
   */
  random?: { perRow: number; rng: Rng };
  /**
   * Drop key blocks after the query block, and inside the query block's own (diagonal) key block keep
   * only keys j ≤ p (a triangle). Needs T ≤ S.
   */
  causal?: boolean;
}

const FIELDS = ["block", "window", "global", "random", "causal"];

/**
 * For each query block, the sorted key blocks a pattern lets it see.
 *
 * @param T Query tokens.
 * @param S Key tokens.
 * @param pattern The rules (see {@linkcode BlockPattern}).
 * @returns ⌈T / block⌉ arrays of ascending key-block indices in [0, ⌈S / block⌉).
 * @example
 * ```ts
 * import { blockPatternKeys } from "./block_sparse.ts";
 * // 8 blocks of 4 tokens, window radius 1, block 0 global: block 0 sees all, block 5 sees 0, 4, 5, 6.
 * const keys = blockPatternKeys(32, 32, { block: 4, window: 1, global: [0] });
 * if (keys[0].length !== 8 || keys[5].join() !== "0,4,5,6") throw new Error(`got ${keys[5]}`);
 * ```
 */
export function blockPatternKeys(T: number, S: number, pattern: BlockPattern): number[][] {
  checkPattern(T, S, pattern);
  const { block, window, global = [], random, causal = false } = pattern;
  const nq = Math.ceil(T / block), ns = Math.ceil(S / block), offset = (S - T) / block;
  const globalSet = new Set(global);
  const stream = random ? random.rng.fork("block-random") : null;
  const seen = new Int32Array(ns).fill(-1); // seen[b] = the last query block that listed key block b
  const rows: number[][] = [];
  for (let a = 0; a < nq; a++) {
    const c = a + offset; // the key block this query block sits on
    const last = causal ? Math.min(c, ns - 1) : ns - 1; // the last key block it may see
    const row: number[] = [];
    const add = (b: number) => {
      if (b >= 0 && b <= last && seen[b] !== a) {
        seen[b] = a;
        row.push(b);
      }
    };
    if (globalSet.has(c)) {
      for (let b = 0; b <= last; b++) add(b);
    } else {
      for (const g of global) add(g);
      if (window !== undefined) { for (let b = c - window; b <= c + window; b++) add(b); }
    }
    if (stream) {
      // Floyd's sampling of m distinct blocks among the blocks of [0, last] not listed yet.
      const free: number[] = [];
      for (let b = 0; b <= last; b++) if (seen[b] !== a) free.push(b);
      const m = Math.min(random!.perRow, free.length);
      const chosen = new Set<number>();
      for (let t = free.length - m; t < free.length; t++) {
        const x = stream.int(t + 1);
        chosen.add(chosen.has(x) ? t : x);
      }
      for (const x of chosen) add(free[x]);
    }
    rows.push(row.sort((x, y) => x - y));
  }
  return rows;
}

/**
 * A block pattern as a boolean mask (true = keep), for `attention(q, k, v, { mask })` or for plotting.
 *
 * @param T Query tokens.
 * @param S Key tokens.
 * @param pattern The rules (see {@linkcode BlockPattern}).
 * @returns [T, S] bool tensor (the caller owns it).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { blockPatternMask } from "./block_sparse.ts";
 * await tf.setBackend("cpu");
 * // Blocks of 2, causal, window 0: the two diagonal 2×2 triangles.
 * const mask = blockPatternMask(4, 4, { block: 2, window: 0, causal: true });
 * const m = mask.arraySync() as number[][];
 * if (m[1].join() !== "1,1,0,0" || m[2].join() !== "0,0,1,0") throw new Error(`got ${m}`);
 * mask.dispose();
 * ```
 */
export function blockPatternMask(T: number, S: number, pattern: BlockPattern): tf.Tensor2D {
  const keep = new Uint8Array(T * S);
  forEachKept(T, S, pattern, (i, j0, j1) => keep.fill(1, i * S + j0, i * S + j1));
  return tf.tensor2d(keep, [T, S], "bool");
}

/**
 * The fraction of the T×S query–key pairs a block pattern keeps. Without `causal` this is also the
 * share of the T×S scores that {@linkcode blockSparseAttention} computes; with `causal` the kernel
 * also computes (and masks) the upper triangles of the diagonal blocks.
 *
 * @param T Query tokens.
 * @param S Key tokens.
 * @param pattern The rules (see {@linkcode BlockPattern}).
 * @returns Kept pairs / (T·S), in [0, 1] (0 when T·S = 0).
 * @example
 * ```ts
 * import { blockPatternDensity } from "./block_sparse.ts";
 * // 4 blocks, window radius 1: 3 + 3 + 2 + 2 = 10 of the 16 block pairs.
 * if (blockPatternDensity(64, 64, { block: 16, window: 1 }) !== 10 / 16) throw new Error("bad density");
 * ```
 */
export function blockPatternDensity(T: number, S: number, pattern: BlockPattern): number {
  let kept = 0;
  forEachKept(T, S, pattern, (_i, j0, j1) => kept += j1 - j0);
  return T * S === 0 ? 0 : kept / (T * S);
}

/** Calls `run(i, j0, j1)` for each query row i and each run [j0, j1) of keys it keeps. */
function forEachKept(T: number, S: number, pattern: BlockPattern, run: (i: number, j0: number, j1: number) => void) {
  const keys = blockPatternKeys(T, S, pattern);
  const b = pattern.block;
  keys.forEach((row, a) => {
    for (let i = a * b; i < Math.min((a + 1) * b, T); i++) {
      const p = i + S - T;
      for (const c of row) {
        const j1 = Math.min((c + 1) * b, S, pattern.causal ? p + 1 : S);
        if (j1 > c * b) run(i, c * b, j1);
      }
    }
  });
}

/** Options for {@linkcode blockSparseAttention}. */
export interface BlockSparseOptions {
  /** Multiplies the scores; default 1/√D. */
  scale?: number;
}

/**
 * Attention that computes only the query-block × key-block tiles a {@linkcode BlockPattern} keeps.
 *
 * Equals `attention(q, k, v, { mask: blockPatternMask(T, S, pattern) }).output` within float32
 * rounding. Up front the queries are scaled, K is transposed once (on wasm, matMul's transposeB is
 * ~10× slower) and q·scale, Kᵀ and V are cut into blocks once. Per query block: the Kᵀ column blocks
 * and V row blocks it sees are concatenated (one tf.concat each), then scores = (q_blk·scale)·Kᵀ_sel,
 * one fused softmax, and a matMul with V_sel: 5 kernels (6 with the causal triangle). The output
 * blocks are concatenated. Work: O(Σ_blocks block·W·(D + Dv)) = density·T·S·(D + Dv), plus the masked
 * half of the diagonal blocks when causal. Consecutive query blocks with the same key blocks (e.g.
 * global query blocks) share one product.
 * A query block that sees no key block outputs 0. A row depends only on the keys and values it sees
 * (a NaN in an unseen value does not reach it, unlike masked dense attention, where 0·NaN = NaN).
 * The same pattern serves every batch and head slice.
 *
 * @param q [..., T, D] queries.
 * @param k [..., S, D] keys.
 * @param v [..., S, Dv] values.
 * @param pattern The blocks (see {@linkcode BlockPattern}).
 * @param options Scale.
 * @returns [..., T, Dv] the output (the caller owns it).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { blockPatternMask, blockSparseAttention } from "./block_sparse.ts";
 * import { attention } from "./scaled_dot_product.ts";
 * import { rng } from "../random.ts";
 * await tf.setBackend("cpu");
 * const r = rng(0);
 * const q = r.tensor([16, 4]), k = r.tensor([16, 4]), v = r.tensor([16, 3]);
 * // BigBird-like: blocks of 4, window radius 1, block 0 global, 1 random block per query block.
 * const pattern = { block: 4, window: 1, global: [0], random: { perRow: 1, rng: r.fork("pattern") } };
 * const out = blockSparseAttention(q, k, v, pattern);
 * const mask = blockPatternMask(16, 16, pattern);
 * const ref = attention(q, k, v, { mask });
 * const diff = tf.max(tf.abs(tf.sub(out, ref.output))).dataSync()[0];
 * if (!(diff < 1e-5)) throw new Error(`differs by ${diff}`);
 * tf.dispose([q, k, v, out, mask, ref.output, ref.weights]);
 * ```
 */
export function blockSparseAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  pattern: BlockPattern,
  options: BlockSparseOptions = {},
): tf.Tensor {
  checkQkv("block-sparse attention", q, k, v, options.scale);
  const r = q.rank;
  const batch = q.shape.slice(0, -2);
  const [T, D] = q.shape.slice(-2);
  const S = k.shape[r - 2], Dv = v.shape[r - 1];
  const keys = blockPatternKeys(T, S, pattern); // validates the pattern
  const { block, causal = false } = pattern;
  const offset = (S - T) / block;
  const scale = options.scale ?? 1 / Math.sqrt(D);
  if (T === 0 || S === 0 || Dv === 0) return tf.zeros([...batch, T, Dv]); // nothing to see: rows output 0
  // Causal additive masks [n, W] (0 = keep, −∞ = drop), by shape: the diagonal key block is the row's
  // last one, so only its last n columns hold the triangle (key u of the block is hidden from row t if u > t).
  const masks = new Map<string, tf.Tensor>();
  const causalMask = (n: number, W: number) => {
    const key = `${n},${W}`;
    if (!masks.has(key)) {
      const m = new Float32Array(n * W);
      for (let t = 0; t < n; t++) m.fill(-Infinity, t * W + W - n + t + 1, (t + 1) * W);
      // Made inside a block's tidy: keep it for the next blocks (disposed at the end).
      masks.set(key, tf.keep(tf.tensor2d(m, [n, W]))); // [n, W]
    }
    return masks.get(key)!;
  };
  const ns = Math.ceil(S / block);
  const sizes = (n: number) => Array.from({ length: Math.ceil(n / block) }, (_, c) => Math.min(block, n - c * block));

  return tf.tidy(() => {
    // Scale the queries once (T·D multiplications) and transpose K once (on wasm, matMul's transposeB is ~10×
    // slower); then cut q, Kᵀ and V into blocks once (see splitBlocks) for the query blocks to concatenate.
    const qs = tf.mul(q, scale); // [..., T, D]
    const kT = tf.transpose(k, [...batch.keys(), r - 1, r - 2]); // [..., D, S]
    // Groups [a0, a1) of consecutive query blocks with the same key blocks share one product, unless the
    // first one's diagonal block (masked by a triangle) is among them.
    const groups: { a0: number; a1: number; list: number[]; diagonal: boolean }[] = [];
    for (let a0 = 0, a1 = 1; a0 < keys.length; a0 = a1, a1 = a0 + 1) {
      const list = keys[a0];
      const diagonal = causal && list.length > 0 && list[list.length - 1] === a0 + offset;
      while (!diagonal && a1 < keys.length && sameList(keys[a1], list)) a1++;
      groups.push({ a0, a1, list, diagonal });
    }
    // Blocks are cut only where some group needs them (a row that sees every key block uses Kᵀ and V whole).
    const partial = groups.some(({ list }) => list.length > 0 && list.length < ns);
    const qBlocks = groups.length > 1 ? splitBlocks(qs, sizes(T), r - 2) : [qs]; // ⌈T/block⌉ × [..., block, D]
    const kTBlocks = partial ? splitBlocks(kT, sizes(S), r - 1) : []; // ⌈S/block⌉ × [..., D, block]
    const vBlocks = partial ? splitBlocks(v, sizes(S), r - 2) : []; // ⌈S/block⌉ × [..., block, Dv]
    // One tidy per group: peak memory is the output plus one group's scores.
    const parts = groups.map(({ a0, a1, list, diagonal }) =>
      tf.tidy(() => {
        const n = Math.min(a1 * block, T) - a0 * block;
        if (list.length === 0) return tf.zeros([...batch, n, Dv]); // [..., n, Dv]
        const whole = list.length === ns; // sees every key block: no copy
        const kSel = whole ? kT : concat(list.map((c) => kTBlocks[c]), r - 1); // [..., D, W]
        const vSel = whole ? v : concat(list.map((c) => vBlocks[c]), r - 2); // [..., W, Dv]
        const W = kSel.shape[r - 1];
        let scores = tf.matMul(concat(qBlocks.slice(a0, a1), r - 2), kSel); // [..., n, W]
        if (diagonal) scores = tf.add(scores, causalMask(n, W)); // [..., n, W]
        // softmax subtracts each row's max before exp; one fused kernel on wasm and webgpu. No row is all −∞:
        // every key block before the diagonal is fully visible, and row t of the diagonal block sees its key 0.
        return tf.matMul(tf.softmax(scores), vSel); // [..., n, Dv]
      })
    );
    tf.dispose([...masks.values()]);
    return parts.length === 1 ? parts[0] : tf.concat(parts, r - 2); // [..., T, Dv]
  });
}

/**
 * Cuts `t` along `axis` into pieces of the given sizes. On wasm a slice first copies its whole input
 * (tfjs-backend-wasm 4.22 Slice reads the input back with readSync), so n slices of one tensor would copy
 * it n times; cutting it into 4 parts, each of those into 4, and so on, copies it 4·log₄(n) times instead.
 */
function splitBlocks(t: tf.Tensor, sizes: number[], axis: number): tf.Tensor[] {
  const FANOUT = 4;
  if (sizes.length === 1) return [t];
  if (sizes.length <= FANOUT) return tf.split(t, sizes, axis);
  const per = Math.ceil(sizes.length / FANOUT);
  const groups: number[][] = [];
  for (let i = 0; i < sizes.length; i += per) groups.push(sizes.slice(i, i + per));
  const parts = tf.split(t, groups.map((g) => g.reduce((x, y) => x + y, 0)), axis);
  return groups.flatMap((g, i) => {
    const pieces = splitBlocks(parts[i], g, axis);
    if (pieces[0] !== parts[i]) parts[i].dispose(); // an intermediate part, copied into its pieces
    return pieces;
  });
}

function concat(ts: tf.Tensor[], axis: number): tf.Tensor {
  return ts.length === 1 ? ts[0] : tf.concat(ts, axis);
}

function sameList(x: number[], y: number[]): boolean {
  return x.length === y.length && x.every((b, t) => b === y[t]);
}

function checkPattern(T: number, S: number, pattern: BlockPattern): void {
  function fail(Err: typeof TypeError, what: string): never {
    throw new Err(`Cannot build a block pattern: ${what}`);
  }
  for (const [name, n] of [["T", T], ["S", S]] as const) {
    if (!Number.isInteger(n) || n < 0) fail(RangeError, `${name} must be a non-negative integer, got ${n}`);
  }
  if (typeof pattern !== "object" || pattern === null || Array.isArray(pattern)) {
    fail(TypeError, `pattern must be an object, got ${pattern === null ? "null" : typeof pattern}`);
  }
  for (const key of Object.keys(pattern)) {
    if (!FIELDS.includes(key)) fail(TypeError, `unknown field "${key}" (expected ${FIELDS.join(", ")})`);
  }
  const { block, window, global, random, causal } = pattern;
  const integer = (name: string, x: unknown, min: number) => {
    if (x !== undefined && (!Number.isInteger(x) || (x as number) < min)) {
      fail(RangeError, `${name} must be an integer ≥ ${min}, got ${x}`);
    }
  };
  if (block === undefined) fail(RangeError, "block must be an integer ≥ 1, got undefined");
  integer("block", block, 1);
  if (window === undefined && global === undefined && random === undefined) {
    fail(TypeError, "pattern must give at least one of window, global, random, got none");
  }
  if ((S - T) % block !== 0) {
    fail(
      RangeError,
      `S − T must be a multiple of block (${block}) so that query blocks line up with key blocks, got T=${T}, S=${S}`,
    );
  }
  integer("window", window, 0);
  if (global !== undefined) {
    if (!Array.isArray(global)) fail(TypeError, `global must be an array of key-block indices, got ${typeof global}`);
    const ns = Math.ceil(S / block);
    const bad = global.find((g) => !Number.isInteger(g) || g < 0 || g >= ns);
    if (bad !== undefined) {
      fail(RangeError, `global blocks must be integers in [0, ${ns}) (S=${S} keys in blocks of ${block}), got ${bad}`);
    }
  }
  if (random !== undefined) {
    if (typeof random !== "object" || random === null || !(random.rng instanceof Rng)) {
      fail(TypeError, "random must be { perRow, rng } with rng an Rng (from rng(seed))");
    }
    if (random.perRow === undefined) fail(RangeError, "random.perRow must be an integer ≥ 0, got undefined");
    integer("random.perRow", random.perRow, 0);
  }
  if (causal !== undefined && typeof causal !== "boolean") fail(TypeError, `causal must be a boolean, got ${causal}`);
  if (causal && T > S) {
    fail(RangeError, `a causal pattern needs at least as many keys as queries, got T=${T}, S=${S}`);
  }
}
