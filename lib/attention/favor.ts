/**
 * FAVOR+ positive random features (Choromanski et al. 2021, "Rethinking Attention with Performers", Lemma 1
 * and section 2.4): the softmax kernel SM(x, y) = exp(xᵀy) = E_ω[φ(x)ᵀφ(y)] with
 * φ(x) = exp(ω_iᵀx − ‖x‖²/2)/√M for i = 1..M and ω_i ~ N(0, I_D). The features are positive, so the
 * estimated attention weights are never negative and the normaliser never changes sign. Orthogonal ω (blocks
 * of D orthogonal directions with χ_D-distributed lengths) keep every ω_i marginally N(0, I_D) — the estimate
 * stays unbiased — and lower its variance (their Theorem 2).
 *
 * For attention with scores qᵀk/√D apply φ to x = q·D^{-1/4} and y = k·D^{-1/4}; {@linkcode favorFeatureMap}
 * does that by default. `linearAttention(q, k, v, { featureMap: "favor+", features })` in ./linear.ts is
 * Performer attention.
 *
 * Layout: the projection tensor is Ω [D, M] with ω_i in column i, so the projection of x [..., T, D] is one
 * plain `x·Ω` (no transposed matMul, which is ~10× slower on wasm).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random.ts";

/** Options for {@linkcode favorOmega} and {@linkcode favorFeatures}. */
export interface FavorFeaturesOptions {
  /** Orthogonal blocks of D directions with χ_D lengths (default true); false draws every ω_i iid N(0, I_D). */
  orthogonal?: boolean;
}

/** Options for {@linkcode favorFeatureMap}. */
export interface FavorMapOptions {
  /**
   * How to cancel the exp's scale (default false, "keys"): queries subtract each row's own max, keys one max per
   * [T, M] slice. Either way a factor common to a query row, or to every key a query sees, cancels in the
   * normalised attention output (see {@linkcode favorFeatureMap}).
   */
  isQuery?: boolean;
  /** Multiplies x before the map; default D^{-1/4}, so that φ(q)ᵀφ(k) estimates exp(qᵀk/√D). */
  scale?: number;
  /**
   * Subtract the stabilising max (default true). With false the features are the plain unbiased φ, whose dot
   * products estimate the kernel itself — and underflow to 0 for large inputs.
   */
  stabilize?: boolean;
}

/**
 * The random directions ω_1..ω_M of FAVOR+ in Float64, drawn only from `r` (the same seed gives the same ω).
 *
 * Both kinds start from the same draws: a Gaussian [M, D] matrix G, row by row (`orthogonal: false` returns G).
 * Orthogonal (the default) splits G into ⌈M/D⌉ blocks of D rows (the last may have fewer), orthonormalises each
 * block's rows by Gram–Schmidt (modified, run twice, so rows are orthogonal to ~1e-15) and gives each row back
 * its original length ‖g_i‖. That length is χ_D-distributed and independent of every direction in G, hence of
 * the orthonormalised rows (which depend on directions only): a uniformly random direction times an independent
 * χ_D length is exactly N(0, I_D), so each ω_i is marginally Gaussian — the same law as the paper's rescaling by
 * fresh χ_D lengths, with no extra draws, and the two kinds share ω_1's and every length for a given seed.
 *
 * @param D Features per head (the length of each ω_i), a positive integer.
 * @param M Number of random features, a positive integer.
 * @param r The seeded random source (see lib/random.ts).
 * @param options `orthogonal` (default true).
 * @returns M arrays of length D: `omega[i]` is ω_i.
 * @example
 * ```ts
 * import { favorOmega } from "./favor.ts";
 * import { rng } from "../random.ts";
 * const w = favorOmega(3, 3, rng(1));
 * const dot = w[0][0] * w[1][0] + w[0][1] * w[1][1] + w[0][2] * w[1][2];
 * if (Math.abs(dot) > 1e-12) throw new Error("rows of a block are not orthogonal");
 * ```
 */
export function favorOmega(D: number, M: number, r: Rng, options: FavorFeaturesOptions = {}): Float64Array[] {
  checkSizes("draw FAVOR+ features", D, M);
  if (!(r instanceof Rng)) {
    throw new TypeError(`Cannot draw FAVOR+ features: r must be an Rng (from rng(seed)), got ${typeof r}`);
  }
  const { orthogonal = true } = options;
  if (!orthogonal) return Array.from({ length: M }, () => r.normalArray(D));
  const omega: Float64Array[] = [];
  while (omega.length < M) {
    const block: Float64Array[] = []; // orthonormal rows of this block
    const m = Math.min(D, M - omega.length);
    for (let i = 0; i < m; i++) {
      // Gaussian rows are linearly independent with probability 1; redraw in the (measure-zero) degenerate case.
      for (;;) {
        const g = r.normalArray(D);
        const length = norm(g); // χ_D
        for (let pass = 0; pass < 2; pass++) {
          for (const u of block) {
            const p = dot(g, u);
            for (let c = 0; c < D; c++) g[c] -= p * u[c];
          }
        }
        const n = norm(g);
        if (n > 1e-10 * length) {
          for (let c = 0; c < D; c++) g[c] /= n;
          block.push(g);
          omega.push(g.map((x) => x * length));
          break;
        }
      }
    }
  }
  return omega;
}

/**
 * The FAVOR+ projection Ω as a float32 tensor [D, M] (column i is ω_i of {@linkcode favorOmega}, same seed and
 * draw order). Draw it once and pass it to every call that should share the features.
 *
 * @param D Features per head, a positive integer.
 * @param M Number of random features, a positive integer.
 * @param r The seeded random source (see lib/random.ts).
 * @param options `orthogonal` (default true).
 * @returns [D, M] float32 (the caller owns it).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { favorFeatures } from "./favor.ts";
 * import { rng } from "../random.ts";
 * await tf.setBackend("cpu");
 * const a = favorFeatures(4, 6, rng("seed")), b = favorFeatures(4, 6, rng("seed"));
 * if (a.shape.join() !== "4,6") throw new Error("bad shape");
 * if (a.dataSync().join() !== b.dataSync().join()) throw new Error("not reproducible");
 * tf.dispose([a, b]);
 * ```
 */
export function favorFeatures(D: number, M: number, r: Rng, options: FavorFeaturesOptions = {}): tf.Tensor2D {
  const omega = favorOmega(D, M, r, options);
  const flat = new Float32Array(D * M); // [D, M]
  for (let i = 0; i < M; i++) for (let c = 0; c < D; c++) flat[c * M + i] = omega[i][c];
  return tf.tensor2d(flat, [D, M], "float32");
}

/**
 * Positive random features φ(x)_i = exp(ω_iᵀx' − ‖x'‖²/2 − c)/√M with x' = x·scale, for every row of x.
 *
 * The stabiliser c keeps exp in range (without it large inputs underflow to all-zero features, and 0/0 follows):
 * - queries (`isQuery: true`): c = max_i(ω_iᵀx' − ‖x'‖²/2) per row; since ‖x'‖²/2 is the same for every feature
 *   of a row it cancels inside c, and the map computes exp(ω_iᵀx' − max_i ω_iᵀx') directly (more precise for
 *   large x). The largest feature of each row is exactly 1/√M.
 * - keys (default): c = one max of ω_iᵀx' − ‖x'‖²/2 over the whole [T, M] slice (per batch element), the paper's
 *   trick. A per-row max would not do for keys: it would reweight keys against each other.
 * In out_i = φ(q_i)ᵀΣ_j φ(k_j)v_jᵀ / φ(q_i)ᵀΣ_j φ(k_j) the query's e^{−c_i} multiplies numerator and denominator
 * alike, and so does the keys' e^{−c} (one constant for every key of the slice, also in every causal prefix), so
 * the normalised output is unchanged (up to the tiny eps the normaliser adds). Dot products of stabilised
 * features are the kernel times e^{−c_q−c_k}; use `stabilize: false` to estimate the kernel itself.
 *
 * @param x [..., T, D] inputs (queries or keys).
 * @param omega [D, M] projection from {@linkcode favorFeatures}.
 * @param options `isQuery`, `scale` (default D^{-1/4}), `stabilize` (default true).
 * @returns [..., T, M] positive features (the caller owns it).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { favorFeatureMap, favorFeatures } from "./favor.ts";
 * import { rng } from "../random.ts";
 * await tf.setBackend("cpu");
 * const omega = favorFeatures(2, 4096, rng(0));
 * const x = tf.tensor2d([[0.5, 0]]), y = tf.tensor2d([[0.5, 0.5]]);
 * const fx = favorFeatureMap(x, omega, { scale: 1, stabilize: false }); // [1, 4096]
 * const fy = favorFeatureMap(y, omega, { scale: 1, stabilize: false });
 * const estimate = tf.sum(tf.mul(fx, fy)).dataSync()[0]; // ≈ exp(xᵀy) = exp(0.25)
 * if (Math.abs(estimate / Math.exp(0.25) - 1) > 0.05) throw new Error(`bad estimate ${estimate}`);
 * tf.dispose([omega, x, y, fx, fy]);
 * ```
 */
export function favorFeatureMap(x: tf.Tensor, omega: tf.Tensor, options: FavorMapOptions = {}): tf.Tensor {
  if (!(x instanceof tf.Tensor) || x.rank < 2) {
    throw new TypeError(
      `Cannot compute FAVOR+ features: x must be a tf.Tensor of rank 2 or more ([..., T, D]), got ${
        x instanceof tf.Tensor ? `shape [${x.shape}]` : typeof x
      }`,
    );
  }
  const r = x.rank, D = x.shape[r - 1];
  if (!(omega instanceof tf.Tensor) || omega.rank !== 2 || omega.shape[0] !== D) {
    throw new TypeError(
      `Cannot compute FAVOR+ features: omega must be a [D, M] tensor with D = ${D} (the last dimension of x), got ${
        omega instanceof tf.Tensor ? `shape [${omega.shape}]` : typeof omega
      }`,
    );
  }
  const { isQuery = false, stabilize = true } = options;
  const scale = options.scale ?? D ** -0.25;
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new RangeError(`Cannot compute FAVOR+ features: scale must be a positive finite number, got ${scale}`);
  }
  const M = (omega.shape as number[])[1];
  const outShape = [...x.shape.slice(0, -1), M];
  return tf.tidy(() => {
    const xs = tf.mul(tf.reshape(x, [-1, D]), scale); // [N, D], N = (...)·T
    const proj = tf.reshape(tf.matMul(xs, omega), outShape); // [..., T, M]  ω_iᵀx'
    if (stabilize && isQuery) {
      return tf.mul(tf.exp(tf.sub(proj, tf.max(proj, -1, true))), 1 / Math.sqrt(M)); // [..., T, M]
    }
    const half = tf.reshape(tf.mul(tf.sum(tf.square(xs), -1), 0.5), [...x.shape.slice(0, -1), 1]); // [..., T, 1]
    let e = tf.sub(proj, half); // [..., T, M]
    if (stabilize) e = tf.sub(e, tf.max(e, [r - 2, r - 1], true)); // [..., 1, 1] max per slice
    return tf.mul(tf.exp(e), 1 / Math.sqrt(M)); // [..., T, M]
  });
}

/** Options for {@linkcode trigFeatureMap}. */
export interface TrigMapOptions {
  /** Multiplies x before the map; default D^{-1/4}, so that φ(q)ᵀφ(k) estimates exp(qᵀk/√D). */
  scale?: number;
}

/**
 * Trigonometric random features (Rahimi & Recht 2007; Peng et al. 2021, RFA; the "SM^trig" estimator of
 * Choromanski et al. 2021, §2.3): φ(x) = exp(‖x'‖²/2)/√M · [sin(ω_1ᵀx'), …, sin(ω_Mᵀx'), cos(ω_1ᵀx'), …, cos(ω_Mᵀx')]
 * with x' = x·scale, so that φ(x)ᵀφ(y) = exp((‖x'‖² + ‖y'‖²)/2)·(1/M)Σ_i cos(ω_iᵀ(x' − y')). Since
 * E[cos(ωᵀz)] = exp(−‖z‖²/2) for ω ~ N(0, I), the dot product is an unbiased estimate of exp(x'ᵀy'), like
 * FAVOR+'s; but its terms can be negative, and its variance does not vanish where the kernel does.
 * Shown next to {@linkcode favorFeatureMap} to compare the two estimators; not stabilised (large inputs overflow).
 *
 * @param x [..., T, D] inputs.
 * @param omega [D, M] projection from {@linkcode favorFeatures}.
 * @param options `scale` (default D^{-1/4}).
 * @returns [..., T, 2M] features (the caller owns it).
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { favorFeatures, trigFeatureMap } from "./favor.ts";
 * import { rng } from "../random.ts";
 * await tf.setBackend("cpu");
 * const omega = favorFeatures(2, 4096, rng(0));
 * const x = tf.tensor2d([[0.5, 0]]), y = tf.tensor2d([[0.5, 0.5]]);
 * const fx = trigFeatureMap(x, omega, { scale: 1 }), fy = trigFeatureMap(y, omega, { scale: 1 }); // [1, 8192]
 * const estimate = tf.sum(tf.mul(fx, fy)).dataSync()[0]; // ≈ exp(xᵀy) = exp(0.25)
 * if (Math.abs(estimate / Math.exp(0.25) - 1) > 0.05) throw new Error(`bad estimate ${estimate}`);
 * tf.dispose([omega, x, y, fx, fy]);
 * ```
 */
export function trigFeatureMap(x: tf.Tensor, omega: tf.Tensor, options: TrigMapOptions = {}): tf.Tensor {
  if (!(x instanceof tf.Tensor) || x.rank < 2) {
    throw new TypeError(
      `Cannot compute trigonometric features: x must be a tf.Tensor of rank 2 or more ([..., T, D]), got ${
        x instanceof tf.Tensor ? `shape [${x.shape}]` : typeof x
      }`,
    );
  }
  const r = x.rank, D = x.shape[r - 1];
  if (!(omega instanceof tf.Tensor) || omega.rank !== 2 || omega.shape[0] !== D) {
    throw new TypeError(
      `Cannot compute trigonometric features: omega must be a [D, M] tensor with D = ${D} (the last dimension of x), got ${
        omega instanceof tf.Tensor ? `shape [${omega.shape}]` : typeof omega
      }`,
    );
  }
  const scale = options.scale ?? D ** -0.25;
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new RangeError(`Cannot compute trigonometric features: scale must be a positive finite number, got ${scale}`);
  }
  const M = (omega.shape as number[])[1];
  return tf.tidy(() => {
    const xs = tf.mul(tf.reshape(x, [-1, D]), scale); // [N, D]
    const proj = tf.matMul(xs, omega); // [N, M]  ω_iᵀx'
    const amp = tf.mul(tf.exp(tf.mul(tf.sum(tf.square(xs), -1, true), 0.5)), 1 / Math.sqrt(M)); // [N, 1]
    const feats = tf.mul(tf.concat([tf.sin(proj), tf.cos(proj)], -1), amp); // [N, 2M]
    return tf.reshape(feats, [...x.shape.slice(0, -1), 2 * M]); // [..., T, 2M]
  });
}

function checkSizes(what: string, D: number, M: number): void {
  for (const [name, n] of [["D", D], ["M", M]] as const) {
    if (typeof n !== "number") {
      throw new TypeError(`Cannot ${what}: ${name} must be a positive integer, got ${typeof n}`);
    }
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cannot ${what}: ${name} must be a positive integer, got ${n}`);
    }
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let c = 0; c < a.length; c++) s += a[c] * b[c];
  return s;
}

function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}
