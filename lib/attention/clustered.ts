/**
 * Clustered attention, Routing-Transformer style (Roy et al. 2021, "Efficient Content-Based Sparse
 * Attention with Routing Transformers"): queries and keys are clustered together by k-means with
 * shared centroids, and each query attends only to the keys of its own cluster. Content decides the
 * sparsity pattern, where sparse.ts's patterns are fixed in advance.
 *
 * Vyas et al. 2020 ("Fast Transformers with Clustered Attention") cluster the queries instead and
 * let each centroid attend to every key; that scheme is not implemented here.
 *
 * Shape alphabet (lib/README.md): T query tokens, S key tokens, D features per head; C clusters.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random.ts";
import { gatherAttention } from "./sparse.ts";

/** Options for {@linkcode kMeans}. */
export interface KMeansOptions {
  /** Most Lloyd iterations after the k-means++ start (default 20; it stops early once nothing moves). */
  iterations?: number;
}

/** What {@linkcode kMeans} returns. */
export interface KMeansResult {
  /** [C][D] the cluster centres. */
  centroids: number[][];
  /** [N] the cluster of each point: its nearest centroid (the lowest index on a tie). */
  assignment: Int32Array;
  /** Σ_i ‖x_i − centroid(assignment_i)‖²: the within-cluster sum of squares. */
  inertia: number;
  /** The inertia after the k-means++ start and after each Lloyd iteration: never increasing. */
  history: number[];
  /** Lloyd iterations run. */
  iterations: number;
}

/**
 * k-means: a seeded k-means++ start (Arthur & Vassilvitskii 2007), then Lloyd iterations
 * (assign each point to its nearest centroid, move each centroid to the mean of its points).
 *
 * Plain Float64 JavaScript, so the result is the same on every backend: O(iterations·N·C·D).
 * The start draws from `r` (first centre uniform, each next one with probability ∝ squared
 * distance to the nearest chosen centre; uniform when all distances are 0). A cluster left empty
 * keeps its centroid. Inertia never increases from one iteration to the next.
 *
 * @param x [N, D] points: a 2-D tensor or an array of rows.
 * @param C Number of clusters, 1 ≤ C ≤ N.
 * @param r The random source for the start (it advances).
 * @param options Most iterations.
 * @returns Centroids, assignment, inertia and its history.
 * @example
 * ```ts
 * import { kMeans } from "./clustered.ts";
 * import { rng } from "../random.ts";
 * const points = [[0, 0], [0, 1], [10, 10], [10, 11]];
 * const { assignment, inertia } = kMeans(points, 2, rng(1));
 * if (assignment[0] !== assignment[1] || assignment[0] === assignment[2] || inertia !== 1) {
 *   throw new Error(`got ${assignment}, ${inertia}`);
 * }
 * ```
 */
export function kMeans(
  x: tf.Tensor | ArrayLike<number>[],
  C: number,
  r: Rng,
  options: KMeansOptions = {},
): KMeansResult {
  const { data, N, D } = readPoints(x);
  const { iterations = 20 } = options;
  if (!Number.isInteger(C) || C < 1 || C > N) {
    throw new RangeError(`Cannot run k-means: C must be an integer in [1, N = ${N}], got ${C}`);
  }
  if (!(r instanceof Rng)) {
    throw new TypeError(`Cannot run k-means: r must be an Rng (from rng(seed)), got ${typeof r}`);
  }
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new RangeError(`Cannot run k-means: iterations must be a non-negative integer, got ${iterations}`);
  }
  const dist2 = (i: number, centres: Float64Array, c: number) => {
    let s = 0;
    for (let e = 0; e < D; e++) s += (data[i * D + e] - centres[c * D + e]) ** 2;
    return s;
  };

  // k-means++ start.
  let centres = new Float64Array(C * D); // [C, D]
  const pick = (c: number, i: number) => centres.set(data.subarray(i * D, (i + 1) * D), c * D);
  pick(0, r.int(N));
  const nearest = new Float64Array(N);
  for (let i = 0; i < N; i++) nearest[i] = dist2(i, centres, 0);
  for (let c = 1; c < C; c++) {
    const total = nearest.reduce((a, b) => a + b, 0);
    let chosen = -1;
    if (total > 0) {
      const u = r.uniform() * total;
      let acc = 0;
      for (let i = 0; i < N && (chosen < 0 || acc <= u); i++) {
        acc += nearest[i];
        if (nearest[i] > 0) chosen = i; // the first point where the running sum passes u (rounding: the last one)
      }
    } else chosen = r.int(N);
    pick(c, chosen);
    for (let i = 0; i < N; i++) nearest[i] = Math.min(nearest[i], dist2(i, centres, c));
  }

  // Lloyd iterations.
  const assign = (centres: Float64Array): [Int32Array, number] => {
    const a = new Int32Array(N);
    let inertia = 0;
    for (let i = 0; i < N; i++) {
      let best = Infinity;
      for (let c = 0; c < C; c++) {
        const d = dist2(i, centres, c);
        if (d < best) [best, a[i]] = [d, c];
      }
      inertia += best;
    }
    return [a, inertia];
  };
  let [assignment, inertia] = assign(centres);
  const history = [inertia];
  let run = 0;
  while (run < iterations) {
    const sums = new Float64Array(C * D), counts = new Int32Array(C);
    for (let i = 0; i < N; i++) {
      counts[assignment[i]]++;
      for (let e = 0; e < D; e++) sums[assignment[i] * D + e] += data[i * D + e];
    }
    const next = Float64Array.from(centres);
    for (let c = 0; c < C; c++) {
      if (counts[c] > 0) { for (let e = 0; e < D; e++) next[c * D + e] = sums[c * D + e] / counts[c]; }
    }
    const [a, value] = assign(next);
    run++;
    const moved = a.some((c, i) => c !== assignment[i]);
    [centres, assignment, inertia] = [next, a, value];
    history.push(value);
    if (!moved) break;
  }
  const centroids = [...Array(C).keys()].map((c) => Array.from(centres.subarray(c * D, (c + 1) * D)));
  return { centroids, assignment, inertia, history, iterations: run };
}

/** Options for {@linkcode clusteredAttention}: either `clusters` and `rng` (k-means per call) or `centroids`. */
export interface ClusteredOptions {
  /** Number of clusters C, 1 ≤ C ≤ T + S, found by k-means on each call. */
  clusters?: number;
  /**
   * The random source of the k-means starts; slice b uses `rng.fork(\`clustered/${b}\`)`, so `rng`
   * itself does not advance and the same call gives the same clusters.
   */
  rng?: Rng;
  /** Most Lloyd iterations (default 20). */
  iterations?: number;
  /**
   * Fixed shared centroids [C][D] instead of k-means (e.g. from an earlier {@linkcode kMeans}, as
   * Roy et al. keep centroids learned in training): each unit-length query and key joins its nearest
   * centroid, for every slice. Then token i's cluster depends on token i alone.
   */
  centroids?: number[][];
  /**
   * Also drop keys after the query (j > i + S − T). With k-means per call the clusters are computed
   * from all tokens, so a query's cluster still depends on later tokens: for autoregressive use, pass
   * fixed `centroids`.
   */
  causal?: boolean;
  /** Multiplies the scores; default 1/√D. */
  scale?: number;
}

/** What {@linkcode clusteredAttention} returns. */
export type ClusteredResult = {
  /** [..., T, Dv] the output; a query whose cluster holds no (visible) key outputs 0. */
  output: tf.Tensor;
  /** [B·T] the cluster of each query, slice-major (B = the product of the batch dimensions). */
  queryClusters: Int32Array;
  /** [B·S] the cluster of each key, slice-major. */
  keyClusters: Int32Array;
  /** [B][C][D] the centroids each slice used (on the unit sphere's scale: they cluster unit vectors). */
  centroids: number[][][];
};

/**
 * Routing attention: queries and keys, scaled to unit length, are clustered together with shared
 * centroids (Roy et al. 2021: on the unit sphere ‖q − k‖² = 2 − 2·q·k, so the keys near a query,
 * in its cluster, are those with large dot products); query i then attends only to the keys j of
 * its own cluster (and j ≤ i + S − T when causal), with the usual scores q·k·scale.
 *
 * The centroids come from k-means on each batch/head slice's T + S points (`clusters`, `rng`), or
 * are given (`centroids`). Equals `attention(q, k, v, { mask })` with mask[i][j] = (same cluster),
 * within float32 rounding; with one cluster it is full attention. Cost: O(iterations·(T + S)·C·D)
 * for k-means (Float64 JavaScript, O((T + S)·C·D) with given centroids) plus O(T·W·(D + Dv)) for
 * the attention ({@linkcode gatherAttention}), W = the most keys in one cluster (≈ S/C when the
 * clusters are balanced; Roy et al. balance them, this does not). NaN in q or k is rejected (a
 * clustering of NaN means nothing).
 *
 * @param q [..., T, D] queries.
 * @param k [..., S, D] keys.
 * @param v [..., S, Dv] values.
 * @param options Clusters and random source (or fixed centroids), iterations, causal flag, scale.
 * @returns The output, the cluster of every query and key, and the centroids (the caller owns `output`).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { clusteredAttention } from "./clustered.ts";
 * import { rng } from "../random.ts";
 * await tf.setBackend("cpu");
 * // Two groups of tokens pointing in opposite directions: each attends within its group.
 * const x = tf.tensor2d([[1, 0.1], [1, -0.1], [-1, 0.1], [-1, -0.1]]);
 * const { output, queryClusters, keyClusters } = clusteredAttention(x, x, x, { clusters: 2, rng: rng(0) });
 * if (queryClusters[0] !== keyClusters[1] || queryClusters[0] === keyClusters[2]) throw new Error("bad clusters");
 * const first = (output.arraySync() as number[][])[0][0]; // the mean of tokens 0 and 1 weighs x₀ = 1
 * if (Math.abs(first - 1) > 1e-6) throw new Error("token 0 should only see tokens 0 and 1");
 * tf.dispose([x, output]);
 * ```
 */
export function clusteredAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options: ClusteredOptions,
): ClusteredResult {
  const fail = (Err: typeof TypeError, what: string) => new Err(`Cannot compute clustered attention: ${what}`);
  for (const [name, t] of [["queries", q], ["keys", k], ["values", v]] as const) {
    if (!(t instanceof tf.Tensor) || t.rank < 2) {
      throw fail(
        TypeError,
        `${name} must be a tf.Tensor of rank 2 or more ([..., T, D]), got ${
          t instanceof tf.Tensor ? `shape [${t.shape}]` : typeof t
        }`,
      );
    }
  }
  const { rng, iterations, centroids: fixed, causal = false } = options ?? {};
  const batch = q.shape.slice(0, -2);
  const B = batch.reduce((a, b) => a * b, 1);
  const [T, D] = q.shape.slice(-2);
  const S = k.shape[k.rank - 2];
  if (k.shape[k.rank - 1] !== D || k.shape.slice(0, -2).join() !== batch.join()) {
    throw fail(TypeError, `keys must have shape [${[...batch, "S", D]}], got [${k.shape}]`);
  }
  if (v.shape[v.rank - 2] !== S || v.shape.slice(0, -2).join() !== batch.join()) {
    throw fail(TypeError, `values must have shape [${[...batch, S, "Dv"]}], got [${v.shape}]`);
  }
  let C: number;
  if (fixed !== undefined) {
    if (!Array.isArray(fixed) || fixed.length === 0 || fixed.some((c) => !Array.isArray(c) || c.length !== D)) {
      throw fail(TypeError, `centroids must be a non-empty array of rows of ${D} numbers (the query width)`);
    }
    if (fixed.some((c) => c.some((x) => !Number.isFinite(x)))) throw fail(RangeError, "centroids must be finite");
    C = fixed.length;
    if (options.clusters !== undefined && options.clusters !== C) {
      throw fail(RangeError, `clusters must equal the number of centroids (${C}), got ${options.clusters}`);
    }
  } else {
    C = options?.clusters as number;
    if (!Number.isInteger(C) || C < 1 || C > T + S) {
      throw fail(RangeError, `clusters must be an integer in [1, T + S = ${T + S}], got ${C}`);
    }
    if (!(rng instanceof Rng)) {
      throw fail(TypeError, `rng must be an Rng (from rng(seed)) unless centroids are given, got ${typeof rng}`);
    }
  }
  if (options.scale !== undefined && !Number.isFinite(options.scale)) {
    throw fail(RangeError, `scale must be a finite number, got ${options.scale}`);
  }
  if (causal && T > S) {
    throw fail(RangeError, `a causal mask needs at least as many keys as queries, got T=${T}, S=${S}`);
  }
  const qa = q.dataSync(), ka = k.dataSync();
  const bad = [qa, ka].findIndex((a) => a.some((x) => !Number.isFinite(x)));
  if (bad >= 0) {
    throw fail(RangeError, `${["queries", "keys"][bad]} must be finite to be clustered, got NaN or Infinity`);
  }

  const queryClusters = new Int32Array(B * T), keyClusters = new Int32Array(B * S);
  const used: number[][][] = [];
  const lists: number[][] = [];
  for (let b = 0; b < B; b++) {
    // Unit-length queries and keys, T + S points in one clustering.
    const points: Float64Array[] = [];
    for (let i = 0; i < T; i++) points.push(unit(qa.subarray((b * T + i) * D, (b * T + i + 1) * D)));
    for (let j = 0; j < S; j++) points.push(unit(ka.subarray((b * S + j) * D, (b * S + j + 1) * D)));
    let assignment: Int32Array;
    if (fixed) {
      assignment = Int32Array.from(points, (p) => nearest(p, fixed));
      used.push(fixed.map((c) => [...c]));
    } else {
      const km = kMeans(points, C, (rng as Rng).fork(`clustered/${b}`), { iterations });
      assignment = km.assignment;
      used.push(km.centroids);
    }
    queryClusters.set(assignment.subarray(0, T), b * T);
    keyClusters.set(assignment.subarray(T), b * S);
    const members: number[][] = Array.from({ length: C }, () => []); // the keys of each cluster, ascending
    for (let j = 0; j < S; j++) members[assignment[T + j]].push(j);
    for (let i = 0; i < T; i++) {
      const own = members[assignment[i]];
      lists.push(causal ? own.filter((j) => j <= i + S - T) : own);
    }
  }
  const output = gatherAttention(q, k, v, lists, { scale: options.scale });
  return { output, queryClusters, keyClusters, centroids: used };
}

/** The index of the centre nearest to p (the lowest on a tie). */
function nearest(p: ArrayLike<number>, centres: ArrayLike<number>[]): number {
  let best = 0, bestD = Infinity;
  centres.forEach((c, k) => {
    let d = 0;
    for (let e = 0; e < p.length; e++) d += (p[e] - c[e]) ** 2;
    if (d < bestD) [best, bestD] = [k, d];
  });
  return best;
}

function unit(x: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(x);
  const norm = Math.hypot(...out);
  if (norm > 0) { for (let e = 0; e < out.length; e++) out[e] /= norm; }
  return out;
}

function readPoints(x: tf.Tensor | ArrayLike<number>[]): { data: Float64Array; N: number; D: number } {
  let data: Float64Array, N: number, D: number;
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) {
      throw new TypeError(`Cannot run k-means: points must be a 2-D tensor [N, D], got shape [${x.shape}]`);
    }
    [N, D] = x.shape as [number, number];
    data = Float64Array.from(x.dataSync());
  } else if (Array.isArray(x)) {
    N = x.length;
    D = N ? x[0].length : 0;
    data = new Float64Array(N * D);
    x.forEach((row, i) => {
      if (row?.length !== D) {
        throw new TypeError(
          `Cannot run k-means: every point must have ${D} coordinates, got ${row?.length} at row ${i}`,
        );
      }
      for (let e = 0; e < D; e++) data[i * D + e] = row[e];
    });
  } else {
    throw new TypeError(`Cannot run k-means: points must be a 2-D tensor or an array of rows, got ${typeof x}`);
  }
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new RangeError(
      `Cannot run k-means: points must be finite, got ${data[bad]} at row ${Math.floor(bad / D)}`,
    );
  }
  return { data, N, D };
}
