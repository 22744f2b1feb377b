/**
 * Sparse attention: each query sees only a few keys, chosen by a fixed pattern, and the kernel
 * skips the rest of the work instead of masking it.
 *
 * Patterns (all unions of simple rules, see {@linkcode SparsePattern}): Child et al. 2019
 * (Sparse Transformer, strided and fixed), Beltagy et al. 2020 (Longformer: sliding, dilated
 * and global) and Zaheer et al. 2020 (BigBird: random + window + global).
 *
 * The kernel {@linkcode gatherAttention} gathers each query's visible keys and values into a
 * padded [n, W, D] block (W = the longest row of its bucket) and computes the scores there:
 * O(T·W·(D + Dv)) work and memory instead of O(T·S·(D + Dv)).
 *
 * Shape alphabet (lib/README.md): T query tokens, S key tokens, D features per head; W (local to
 * this file) is the padded number of keys per query.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { checkQkv } from "./_check.ts";
import { Rng } from "../random.ts";

/**
 * A sparse attention pattern: the keys each query sees are the UNION of the rules given, then
 * (if `causal`) cut to the past. Positions live on the key axis: query i sits at key position
 * p = i + S − T (the last T of S keys, as in attention()'s causal mask; p = i when T = S).
 * At least one rule (local, stride, fixed, global, random) must be given.
 */
export interface SparsePattern {
  /**
   * Sliding window of radius w: keep |p − j| ≤ w·dilation (and, with dilation δ > 1, only
   * j ≡ p mod δ), i.e. 2w + 1 keys around the query. Beltagy et al. 2020 (Longformer
   * "sliding window"); Child et al. 2019's strided pattern A⁽¹⁾ is `local: stride − 1, causal: true`.
   */
  local?: number;
  /**
   * Gap δ between the keys of the local window (default 1): Longformer's "dilated sliding window"
   * (Beltagy et al. 2020), receptive field 2·w·δ + 1 with the same 2w + 1 keys. Needs `local`.
   */
  dilation?: number;
  /**
   * Strided rule of Child et al. 2019 (A⁽²⁾): keep (p − j) mod stride = 0, every stride-th key
   * counted from the query. `{ local: l − 1, stride: l, causal: true }` is their strided pattern.
   */
  stride?: number;
  /**
   * Fixed rule of Child et al. 2019: keep the keys of the query's own block
   * (⌊j / block⌋ = ⌊p / block⌋, A⁽¹⁾) and the last `summary` keys of every block
   * (j mod block ≥ block − summary, A⁽²⁾; default summary 1).
   */
  fixed?: { block: number; summary?: number };
  /**
   * Global token positions (in [0, S)): a query at a global position sees every key, and every query
   * sees the global keys. Beltagy et al. 2020 (Longformer global attention), Zaheer et al. 2020 (BigBird-ITC).
   */
  global?: number[];
  /**
   * Random keys (Zaheer et al. 2020, BigBird's r random keys per query): each query row also sees
   * `perRow` distinct keys drawn uniformly from the keys it may see (all S, or j ≤ p when causal).
   * They are drawn from `rng.fork("sparse-random")`, row by row (Floyd's sampling), so the given
   * stream does not advance: the same pattern object always means the same keys (sparseMask and
   * sparseAttention agree), and the same seed gives the same pattern. One draw serves every batch
   * and head slice; pass `r.fork(head)` per head for different ones.
   */
  random?: { perRow: number; rng: Rng };
  /** Drop keys after the query (j > p): autoregressive attention. Needs T ≤ S. */
  causal?: boolean;
}

const FIELDS = ["local", "dilation", "stride", "fixed", "global", "random", "causal"];

/**
 * For each query row, the sorted list of keys a pattern lets it see.
 *
 * Cost O(Σ row lengths) in plain JavaScript, plus S/block per row for `fixed` (a global query's
 * row lists all S keys).
 *
 * @param T Query tokens.
 * @param S Key tokens.
 * @param pattern The rules (see {@linkcode SparsePattern}).
 * @returns T arrays of ascending key indices in [0, S).
 * @example
 * ```ts
 * import { sparseIndices } from "./sparse.ts";
 * // Child et al.'s strided pattern with stride 3 on 7 tokens: the last 3 keys and every 3rd before.
 * const rows = sparseIndices(7, 7, { local: 2, stride: 3, causal: true });
 * if (rows[6].join() !== "0,3,4,5,6") throw new Error(`got ${rows[6]}`);
 * ```
 */
export function sparseIndices(T: number, S: number, pattern: SparsePattern): number[][] {
  checkPattern(T, S, pattern);
  const { local, dilation = 1, stride, fixed, global = [], random, causal = false } = pattern;
  const globalSet = new Set(global);
  const randomRows = random ? drawRandomKeys(T, S, random.perRow, random.rng, causal) : null;
  const seen = new Int32Array(S).fill(-1); // seen[j] = the last row that listed key j
  const rows: number[][] = [];
  for (let i = 0; i < T; i++) {
    const p = i + S - T;
    const last = causal ? Math.min(p, S - 1) : S - 1; // the last key this row may see
    const row: number[] = [];
    const add = (j: number) => {
      if (j >= 0 && j <= last && seen[j] !== i) {
        seen[j] = i;
        row.push(j);
      }
    };
    if (globalSet.has(p)) {
      for (let j = 0; j <= last; j++) add(j);
      rows.push(row);
      continue;
    }
    for (const g of global) add(g);
    if (local !== undefined) { for (let t = -local; t <= local; t++) add(p + t * dilation); }
    if (stride !== undefined) { for (let j = ((p % stride) + stride) % stride; j <= last; j += stride) add(j); }
    if (fixed) {
      const { block, summary = 1 } = fixed;
      const start = Math.floor(p / block) * block;
      for (let j = start; j < start + block; j++) add(j);
      for (let b = 0; b < S; b += block) for (let j = b + block - summary; j < b + block; j++) add(j);
    }
    if (randomRows) { for (const j of randomRows[i]) add(j); }
    rows.push(row.sort((a, b) => a - b));
  }
  return rows;
}

/**
 * A pattern as a boolean mask (true = keep), for `attention(q, k, v, { mask })` or for plotting.
 *
 * @param T Query tokens.
 * @param S Key tokens.
 * @param pattern The rules (see {@linkcode SparsePattern}).
 * @returns [T, S] bool tensor (the caller owns it).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { sparseMask } from "./sparse.ts";
 * await tf.setBackend("cpu");
 * const mask = sparseMask(4, 4, { local: 1 });
 * const m = mask.arraySync() as number[][];
 * if (m[0].join() !== "1,1,0,0" || m[2].join() !== "0,1,1,1") throw new Error(`got ${m}`);
 * mask.dispose();
 * ```
 */
export function sparseMask(T: number, S: number, pattern: SparsePattern): tf.Tensor2D {
  const rows = sparseIndices(T, S, pattern);
  const keep = new Uint8Array(T * S);
  rows.forEach((row, i) => row.forEach((j) => keep[i * S + j] = 1));
  return tf.tensor2d(keep, [T, S], "bool");
}

/**
 * The fraction of the T×S query–key pairs a pattern keeps.
 *
 * @param T Query tokens.
 * @param S Key tokens.
 * @param pattern The rules (see {@linkcode SparsePattern}).
 * @returns Kept pairs / (T·S), in [0, 1] (0 when T·S = 0).
 * @example
 * ```ts
 * import { patternDensity } from "./sparse.ts";
 * // A window of radius 1 keeps 3 keys per row except at the two ends: (3·8 − 2) / 64.
 * if (patternDensity(8, 8, { local: 1 }) !== 22 / 64) throw new Error("bad density");
 * ```
 */
export function patternDensity(T: number, S: number, pattern: SparsePattern): number {
  const rows = sparseIndices(T, S, pattern);
  const kept = rows.reduce((a, row) => a + row.length, 0);
  return T * S === 0 ? 0 : kept / (T * S);
}

/** Options for {@linkcode sparseAttention} and {@linkcode gatherAttention}. */
export interface SparseOptions {
  /** Multiplies the scores; default 1/√D. */
  scale?: number;
}

/**
 * Attention that computes scores only where a pattern keeps them.
 *
 * Equals `attention(q, k, v, { mask: sparseMask(T, S, pattern) }).output` within float32
 * rounding; a query with no visible key outputs 0. Cost: see {@linkcode gatherAttention}
 * (O(T·W·(D + Dv)) with W about the number of keys per row, never T·S unless a row is full).
 * The same pattern serves every batch and head slice.
 *
 * @param q [..., T, D] queries.
 * @param k [..., S, D] keys.
 * @param v [..., S, Dv] values.
 * @param pattern The rules (see {@linkcode SparsePattern}).
 * @param options Scale.
 * @returns [..., T, Dv] the output (the caller owns it).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { sparseAttention, sparseMask } from "./sparse.ts";
 * import { attention } from "./scaled_dot_product.ts";
 * await tf.setBackend("cpu");
 * const x = tf.tensor2d([[1, 0], [0, 1], [1, 1], [2, 0], [0, 2]]);
 * const pattern = { local: 1, global: [0], causal: true };
 * const out = sparseAttention(x, x, x, pattern);
 * const mask = sparseMask(5, 5, pattern);
 * const ref = attention(x, x, x, { mask });
 * const diff = Math.max(...out.dataSync().map((a, i) => Math.abs(a - ref.output.dataSync()[i])));
 * if (diff > 1e-6) throw new Error(`differs by ${diff}`);
 * tf.dispose([x, out, mask, ref.output, ref.weights]);
 * ```
 */
export function sparseAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  pattern: SparsePattern,
  options: SparseOptions = {},
): tf.Tensor {
  checkQkv("sparse attention", q, k, v, options.scale);
  const T = q.shape[q.rank - 2], S = k.shape[k.rank - 2];
  return gatherAttention(q, k, v, sparseIndices(T, S, pattern), options);
}

/** How {@linkcode gatherAttention} lays out its work; see {@linkcode gatherPlan}. */
export interface GatherPlan {
  /**
   * Groups of rows computed together: each row's keys are padded to the group's `width` (W).
   * One group, or two when putting the long rows (e.g. global queries) apart saves at least 20%
   * of the padded cells. `rows` are ascending indices into the key lists.
   */
  buckets: { rows: number[]; width: number }[];
  /** Σ rows·width over the groups: the query–key pairs the kernel computes, padding included. */
  cells: number;
  /** Σ row lengths: the query–key pairs the pattern keeps. */
  kept: number;
}

/**
 * How {@linkcode gatherAttention} will group the rows of these key lists, and what it costs.
 *
 * Rows are sorted by length; splitting them at the rank m that minimises
 * m·len₍ₘ₋₁₎ + (n − m)·len₍ₙ₋₁₎ gives two groups. So a few full rows (Longformer's global
 * queries) do not pad every other row to S.
 *
 * @param keys One list of key indices per row.
 * @returns The groups, the padded cells and the kept pairs.
 * @example
 * ```ts
 * import { gatherPlan, sparseIndices } from "./sparse.ts";
 * // 64 tokens, window radius 2, token 0 global: 63 rows of ≤ 6 keys and one full row.
 * const plan = gatherPlan(sparseIndices(64, 64, { local: 2, global: [0] }));
 * if (plan.buckets.map((b) => b.width).join() !== "6,64") throw new Error("bad plan");
 * if (plan.cells !== 63 * 6 + 64) throw new Error(`cells ${plan.cells}`);
 * ```
 */
export function gatherPlan(keys: number[][]): GatherPlan {
  const n = keys.length;
  const kept = keys.reduce((a, row) => a + row.length, 0);
  if (n === 0) return { buckets: [], cells: 0, kept };
  const order = [...keys.keys()].sort((a, b) => keys[a].length - keys[b].length || a - b);
  const len = (rank: number) => keys[order[rank]].length;
  const single = n * len(n - 1);
  let best = single, split = n;
  for (let m = 1; m < n; m++) {
    const cost = m * len(m - 1) + (n - m) * len(n - 1);
    if (cost < best) [best, split] = [cost, m];
  }
  if (best > 0.8 * single) {
    return { buckets: [{ rows: [...keys.keys()], width: len(n - 1) }], cells: single, kept };
  }
  const narrow = order.slice(0, split).sort((a, b) => a - b);
  const wide = order.slice(split).sort((a, b) => a - b);
  return {
    buckets: [{ rows: narrow, width: len(split - 1) }, { rows: wide, width: len(n - 1) }],
    cells: best,
    kept,
  };
}

/**
 * Attention over given key lists: query i sees exactly the keys `keys[i]`, nothing else is computed.
 *
 * For each group of rows ({@linkcode gatherPlan}) the visible keys and values are gathered
 * (`tf.gather`) into [n, W, D] and [n, W, Dv] blocks, W = the group's longest row; padding points
 * at an appended zero row and its scores are masked to −∞. Scores are n batched [W, D]·[D, 1]
 * products, softmax runs over W, the output is n batched [1, W]·[W, Dv] products.
 * Work and memory: O(cells·(D + Dv)), cells = Σ n·W ≈ T·W (times the batch), instead of
 * O(T·S·(D + Dv)). (Measured on cpu and wasm the element gather, not the arithmetic, dominates.)
 * A row with no key outputs 0; a row depends only on its own keys and values (a NaN elsewhere
 * does not reach it, unlike a masked dense softmax where 0·NaN = NaN).
 *
 * @param q [..., T, D] queries.
 * @param k [..., S, D] keys.
 * @param v [..., S, Dv] values.
 * @param keys T key lists (the same for every batch slice), or B·T lists (slice-major: the list of
 *   query i of slice b is keys[b·T + i], B = the product of the batch dimensions); indices in [0, S),
 *   no repeats, any order.
 * @param options Scale.
 * @returns [..., T, Dv] the output (the caller owns it).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { gatherAttention } from "./sparse.ts";
 * await tf.setBackend("cpu");
 * const q = tf.zeros([2, 2]), k = tf.zeros([3, 2]), v = tf.tensor2d([[1], [2], [6]]);
 * // Equal scores: query 0 averages keys 0 and 2, query 1 sees nothing.
 * const out = gatherAttention(q, k, v, [[0, 2], []]);
 * if (out.dataSync().join() !== "3.5,0") throw new Error(`got ${out.dataSync()}`);
 * tf.dispose([q, k, v, out]);
 * ```
 */
export function gatherAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  keys: number[][],
  options: SparseOptions = {},
): tf.Tensor {
  checkQkv("gathered attention", q, k, v, options.scale);
  const batch = q.shape.slice(0, -2);
  const B = batch.reduce((a, b) => a * b, 1);
  const [T, D] = q.shape.slice(-2);
  const S = k.shape[k.rank - 2], Dv = v.shape[v.rank - 1];
  checkKeyLists(keys, T, B, S);
  const shared = keys.length === T; // one set of lists for every slice
  const plan = gatherPlan(keys);
  const scale = options.scale ?? 1 / Math.sqrt(D);
  return tf.tidy(() => {
    if (B * T === 0) return tf.zeros([...batch, T, Dv]);
    // Scaled once here; also a fresh buffer, never a reshape of the caller's q, as matMul's B operand
    // (the wasm matMul caches by buffer; see lib/_wasm_matmul_fix.ts).
    const qF = tf.mul(tf.reshape(q, [B * T, D]), scale); // [B·T, D]
    // Keys and values with one zero row appended (row B·S): padding points there, so padded
    // values are exactly 0 (never a NaN from some real key) and need no mask.
    const kF = tf.concat([tf.reshape(k, [B * S, D]), tf.zeros([1, D])], 0); // [B·S + 1, D]
    const vF = tf.concat([tf.reshape(v, [B * S, Dv]), tf.zeros([1, Dv])], 0); // [B·S + 1, Dv]
    const parts: tf.Tensor[] = [];
    const rowOrder: number[] = []; // the flat query row (b·T + i) of each output row, in order
    for (const { rows, width: W } of plan.buckets) {
      // Flat rows of this group: every slice of a shared list, else the lists' own rows.
      const flat = shared && B > 1 ? [...Array(B).keys()].flatMap((b) => rows.map((i) => b * T + i)) : rows;
      rowOrder.push(...flat);
      const n = flat.length;
      if (W === 0) {
        parts.push(tf.zeros([n, Dv]));
        continue;
      }
      const index = new Int32Array(n * W).fill(B * S), valid = new Uint8Array(n * W);
      flat.forEach((r, a) => {
        const b = Math.floor(r / T), row = keys[shared ? r % T : r];
        for (let w = 0; w < row.length; w++) [index[a * W + w], valid[a * W + w]] = [b * S + row[w], 1];
      });
      const idx = tf.tensor1d(index, "int32"); // [n·W]
      // With one group the rows are all rows, in order: no need to gather the queries.
      const qb = plan.buckets.length === 1 ? qF : tf.gather(qF, tf.tensor1d(flat, "int32")); // [n, D]
      const kg = tf.reshape(tf.gather(kF, idx), [n, W, D]); // [n, W, D]
      const vg = tf.reshape(tf.gather(vF, idx), [n, W, Dv]); // [n, W, Dv]
      // n batched [W, D]·[D, 1] products: each query against its own W keys.
      let scores = tf.reshape(tf.matMul(kg, tf.expandDims(qb, -1)), [n, W]); // [n, W]
      scores = tf.where(tf.tensor2d(valid, [n, W], "bool"), scores, tf.fill([n, W], -Infinity)); // [n, W]
      const rowMax = tf.max(scores, -1, true); // [n, 1]
      // A row with no key has max −∞: shift by 0 instead, so exp gives 0s, not NaN.
      const shift = tf.where(tf.equal(rowMax, -Infinity), tf.zerosLike(rowMax), rowMax);
      const e = tf.exp(tf.sub(scores, shift)); // [n, W]
      const sum = tf.sum(e, -1, true); // [n, 1]
      const weights = tf.div(e, tf.where(tf.equal(sum, 0), tf.onesLike(sum), sum)); // [n, W]
      parts.push(tf.reshape(tf.matMul(tf.expandDims(weights, 1), vg), [n, Dv])); // [n, 1, W]·[n, W, Dv] → [n, Dv]
    }
    let out = parts.length === 1 ? parts[0] : tf.concat(parts, 0); // [B·T, Dv] in rowOrder
    if (rowOrder.some((r, a) => r !== a)) {
      const inverse = new Int32Array(B * T);
      rowOrder.forEach((r, a) => inverse[r] = a);
      out = tf.gather(out, tf.tensor1d(inverse, "int32")); // [B·T, Dv] in row order
    }
    return tf.reshape(out, [...batch, T, Dv]); // [..., T, Dv]
  });
}

/** Floyd's sampling: for each row, min(perRow, allowed) distinct keys among the allowed ones. */
function drawRandomKeys(T: number, S: number, perRow: number, r: Rng, causal: boolean): number[][] {
  const stream = r.fork("sparse-random");
  const rows: number[][] = [];
  for (let i = 0; i < T; i++) {
    const allowed = causal ? Math.min(i + S - T + 1, S) : S; // keys 0 … allowed − 1
    const m = Math.min(perRow, allowed);
    const chosen = new Set<number>();
    for (let j = allowed - m; j < allowed; j++) {
      const t = stream.int(j + 1);
      chosen.add(chosen.has(t) ? j : t);
    }
    rows.push([...chosen]);
  }
  return rows;
}

function checkPattern(T: number, S: number, pattern: SparsePattern): void {
  function fail(Err: typeof TypeError, what: string): never {
    throw new Err(`Cannot build a sparse pattern: ${what}`);
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
  const { local, dilation, stride, fixed, global, random, causal } = pattern;
  if (local === undefined && stride === undefined && !fixed && !global && !random) {
    fail(TypeError, "pattern must give at least one of local, stride, fixed, global, random, got none");
  }
  const integer = (name: string, x: unknown, min: number) => {
    if (x !== undefined && (!Number.isInteger(x) || (x as number) < min)) {
      fail(RangeError, `${name} must be an integer ≥ ${min}, got ${x}`);
    }
  };
  integer("local", local, 0);
  integer("dilation", dilation, 1);
  integer("stride", stride, 1);
  if (dilation !== undefined && local === undefined) fail(TypeError, "dilation needs local (a window to dilate)");
  if (fixed !== undefined) {
    if (typeof fixed !== "object" || fixed === null) fail(TypeError, `fixed must be { block, summary? }, got ${fixed}`);
    integer("fixed.block", fixed.block, 1);
    if (fixed.block === undefined) fail(RangeError, "fixed.block must be an integer ≥ 1, got undefined");
    integer("fixed.summary", fixed.summary, 0);
    if ((fixed.summary ?? 1) > fixed.block) {
      fail(RangeError, `fixed.summary must be at most fixed.block (${fixed.block}), got ${fixed.summary}`);
    }
  }
  if (global !== undefined) {
    if (!Array.isArray(global)) fail(TypeError, `global must be an array of token positions, got ${typeof global}`);
    const bad = global.find((g) => !Number.isInteger(g) || g < 0 || g >= S);
    if (bad !== undefined) fail(RangeError, `global positions must be integers in [0, ${S}), got ${bad}`);
  }
  if (random !== undefined) {
    if (typeof random !== "object" || random === null || !(random.rng instanceof Rng)) {
      fail(TypeError, "random must be { perRow, rng } with rng an Rng (from rng(seed))");
    }
    integer("random.perRow", random.perRow, 0);
    if (random.perRow === undefined) fail(RangeError, "random.perRow must be an integer ≥ 0, got undefined");
  }
  if (causal !== undefined && typeof causal !== "boolean") fail(TypeError, `causal must be a boolean, got ${causal}`);
  if (causal && T > S) {
    fail(RangeError, `a causal pattern needs at least as many keys as queries, got T=${T}, S=${S}`);
  }
}

function checkKeyLists(keys: number[][], T: number, B: number, S: number): void {
  if (!Array.isArray(keys) || (keys.length !== T && keys.length !== B * T)) {
    throw new TypeError(
      `Cannot compute gathered attention: keys must be ${T} lists (one per query)${
        B > 1 ? ` or ${B * T} (one per query of every slice)` : ""
      }, got ${Array.isArray(keys) ? keys.length : typeof keys}`,
    );
  }
  const seen = new Int32Array(S).fill(-1);
  keys.forEach((row, r) => {
    if (!Array.isArray(row)) {
      throw new TypeError(`Cannot compute gathered attention: keys[${r}] must be an array, got ${typeof row}`);
    }
    for (const j of row) {
      if (!Number.isInteger(j) || j < 0 || j >= S) {
        throw new RangeError(`Cannot compute gathered attention: keys[${r}] must hold integers in [0, ${S}), got ${j}`);
      }
      if (seen[j] === r) {
        throw new RangeError(`Cannot compute gathered attention: keys[${r}] must not repeat a key, got ${j} twice`);
      }
      seen[j] = r;
    }
  });
}
