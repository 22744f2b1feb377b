/**
 * Linformer attention (Wang et al. 2020, eq. 7): keys and values are projected along the sequence
 * axis, K' = E·K and V' = F·V with E, F ∈ ℝ^{k×S}, then out = softmax(Q·K'ᵀ/√D)·V'. The score
 * matrix is [T, k] instead of [T, S]: time and memory O(T·k) instead of O(T·S).
 *
 * Each projected row mixes all S key positions, so a query would see the future: plain Linformer
 * cannot be causal, and {@linkcode linformerAttention} refuses `causal: true`.
 *
 * Shape alphabet (lib/README.md): T query tokens, S key tokens, D features per head, Dv value
 * features, k projected length.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../random.ts";
import { attention } from "./scaled_dot_product.ts";

/**
 * How the projections are shared (Wang et al. 2020, §4): `"none"` — an E and an F per head and
 * layer; `"headwise"` — one E and one F per layer, shared by its heads; `"key-value"` — one matrix
 * per layer, used as both E and F by every head; `"layerwise"` — one matrix for everything.
 */
export type LinformerSharing = "none" | "headwise" | "key-value" | "layerwise";

/** Options for {@linkcode linformerProjections}. */
export interface LinformerProjectionOptions {
  /** How E and F are shared (default `"none"`). */
  sharing?: LinformerSharing;
  /** Heads per layer (default 1). */
  heads?: number;
  /** Layers (default 1). */
  layers?: number;
}

/** The projection matrices of a Linformer model, from {@linkcode linformerProjections}. */
export interface LinformerProjections {
  readonly sharing: LinformerSharing;
  /** The sequence length S the matrices project from. */
  readonly S: number;
  /** The projected length k. */
  readonly k: number;
  readonly heads: number;
  readonly layers: number;
  /** The distinct [k, S] matrices, in drawing order (the owner disposes them with {@linkcode dispose}). */
  readonly matrices: readonly tf.Tensor2D[];
  /** How many distinct matrices: 2·layers·heads, 2·layers, layers or 1 for the four sharing modes. */
  readonly count: number;
  /**
   * E and F for one head of one layer (the same tensor twice under key-value and layerwise sharing).
   * The tensors belong to this object: do not dispose them one by one.
   */
  get(layer: number, head: number): { E: tf.Tensor2D; F: tf.Tensor2D };
  /** Disposes every matrix. */
  dispose(): void;
}

/** Options for {@linkcode linformerAttention}. */
export interface LinformerOptions {
  /** Multiplies the scores; default 1/√D. */
  scale?: number;
  /** Must be false or absent: E and F mix all key positions, so Linformer cannot mask the future. */
  causal?: boolean;
}

const SHARING: readonly LinformerSharing[] = ["none", "headwise", "key-value", "layerwise"];

function isPositiveInteger(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 1;
}

/**
 * Random Linformer projections: each distinct matrix is [k, S] with entries N(0, 1/k), drawn from
 * `r` in order (layer by layer, head by head, E before F). The 1/k variance is the
 * Johnson–Lindenstrauss scaling of the paper's Theorem 1 (R with entries N(0, 1/k)): it keeps
 * E[‖E·x‖²] = ‖x‖² for every column x of K or V. These are an initialisation: untrained random
 * projections do not make Linformer approximate exact attention (see the test's measurements).
 *
 * For 12 layers × 12 heads the sharing modes hold 288 / 24 / 12 / 1 matrices
 * (none / headwise / key-value / layerwise), the paper's counts.
 *
 * @param S Sequence length (columns of E and F).
 * @param k Projected length, 1 ≤ k ≤ S.
 * @param r The seeded random source (it advances).
 * @param options Sharing mode, heads and layers.
 * @returns The matrices, a `count` of distinct ones and `get(layer, head)`; the caller calls `dispose()`.
 * @throws {RangeError} If S, k, heads or layers is not a positive integer, k > S, or sharing is unknown.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { rng } from "../random.ts";
 * import { linformerProjections } from "./linformer.ts";
 * await tf.setBackend("cpu");
 * const p = linformerProjections(16, 4, rng(0), { sharing: "headwise", heads: 12, layers: 12 });
 * const { E, F } = p.get(3, 5);
 * if (p.count !== 24 || E.shape.join() !== "4,16" || E === F || p.get(3, 0).E !== E) throw new Error("bad sharing");
 * p.dispose();
 * ```
 */
export function linformerProjections(
  S: number,
  k: number,
  r: Rng,
  options: LinformerProjectionOptions = {},
): LinformerProjections {
  const fn = "Cannot draw Linformer projections";
  const { sharing = "none", heads = 1, layers = 1 } = options;
  for (const [name, value] of [["S", S], ["k", k], ["heads", heads], ["layers", layers]] as const) {
    if (!isPositiveInteger(value)) throw new RangeError(`${fn}: ${name} must be a positive integer, got ${value}`);
  }
  if (k > S) throw new RangeError(`${fn}: k must be at most S (${S}), got ${k}`);
  if (!SHARING.includes(sharing)) {
    throw new RangeError(`${fn}: sharing must be one of ${SHARING.map((s) => `"${s}"`).join(", ")}, got "${sharing}"`);
  }
  if (typeof r?.tensor !== "function") {
    throw new TypeError(`${fn}: r must be an Rng (from rng(seed)), got ${r === null ? "null" : typeof r}`);
  }
  // Which matrices (E index, F index) each (layer, head) uses.
  const index: (layer: number, head: number) => [number, number] = {
    "none": (l: number, h: number): [number, number] => [2 * (l * heads + h), 2 * (l * heads + h) + 1],
    "headwise": (l: number): [number, number] => [2 * l, 2 * l + 1],
    "key-value": (l: number): [number, number] => [l, l],
    "layerwise": (): [number, number] => [0, 0],
  }[sharing];
  const count = { "none": 2 * layers * heads, "headwise": 2 * layers, "key-value": layers, "layerwise": 1 }[sharing];
  const std = 1 / Math.sqrt(k);
  const matrices = Array.from({ length: count }, () => r.tensor([k, S], std) as tf.Tensor2D); // each [k, S]
  return {
    sharing,
    S,
    k,
    heads,
    layers,
    matrices,
    count,
    get(layer: number, head: number) {
      for (const [name, value, n] of [["layer", layer, layers], ["head", head, heads]] as const) {
        if (!Number.isInteger(value) || value < 0 || value >= n) {
          throw new RangeError(
            `Cannot get Linformer projections: ${name} must be an integer in [0, ${n}), got ${value}`,
          );
        }
      }
      const [e, f] = index(layer, head);
      return { E: matrices[e], F: matrices[f] };
    },
    dispose() {
      tf.dispose(matrices);
    },
  };
}

/**
 * Linformer attention for one set of projections: softmax(Q·(E·K)ᵀ·scale)·(F·V). E and F are shared
 * by every batch entry (they are broadcast over the leading axes). With k = S and E = F = I it is
 * exact attention.
 *
 * @param q [..., T, D] queries.
 * @param k [..., S, D] keys.
 * @param v [..., S, Dv] values.
 * @param E [k, S] key projection.
 * @param F [k, S] value projection (the same shape as E).
 * @param options `scale` (default 1/√D); `causal: true` is refused.
 * @returns [..., T, Dv] (the caller owns it).
 * @throws {TypeError} If an input is not a tensor or the shapes do not fit.
 * @throws {RangeError} If `causal` is true or `scale` is not finite.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { linformerAttention } from "./linformer.ts";
 * await tf.setBackend("cpu");
 * const x = tf.tensor2d([[1, 0], [0, 1], [1, 1], [0, 0]]); // [S=4, D=2]
 * const E = tf.tensor2d([[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]]); // [k=2, S=4]: mean of token pairs
 * const out = linformerAttention(x, x, x, E, E); // [T=4, Dv=2]
 * const o = out.arraySync() as number[][];
 * // Both pooled keys are [0.5, 0.5]: every query weighs them equally.
 * if (Math.abs(o[0][0] - 0.5) > 1e-6 || out.shape.join() !== "4,2") throw new Error("bad output");
 * tf.dispose([x, E, out]);
 * ```
 */
export function linformerAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  E: tf.Tensor,
  F: tf.Tensor,
  options: LinformerOptions = {},
): tf.Tensor {
  checkInputs(q, k, v, E, F, options);
  return tf.tidy(() => {
    const kp = tf.matMul(E, k); // [..., k, D]: E broadcast over the batch axes
    const vp = tf.matMul(F, v); // [..., k, Dv]
    return attention(q, kp, vp, { scale: options.scale }).output; // [..., T, Dv]
  });
}

function describe(x: unknown): string {
  return x instanceof tf.Tensor ? `shape [${x.shape}]` : x === null ? "null" : typeof x;
}

function checkInputs(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  E: tf.Tensor,
  F: tf.Tensor,
  options: LinformerOptions,
): void {
  const fn = "Cannot compute Linformer attention";
  if (options.causal) {
    throw new RangeError(
      `${fn}: causal must be false: E and F mix all S key positions into every projected row, so any query would see future tokens`,
    );
  }
  for (const [name, t] of [["queries", q], ["keys", k], ["values", v]] as const) {
    if (!(t instanceof tf.Tensor) || t.rank < 2) {
      throw new TypeError(`${fn}: ${name} must be a tf.Tensor of rank 2 or more ([..., T, D]), got ${describe(t)}`);
    }
  }
  const D = q.shape[q.rank - 1], S = k.shape[k.rank - 2];
  if (k.shape[k.rank - 1] !== D) {
    throw new TypeError(`${fn}: keys must have the same last dimension as queries (${D}), got shape [${k.shape}]`);
  }
  if (v.shape[v.rank - 2] !== S) {
    throw new TypeError(`${fn}: values must have as many rows as keys (${S}), got shape [${v.shape}]`);
  }
  const batch = (t: tf.Tensor) => t.shape.slice(0, -2).join(",");
  if (q.rank !== k.rank || k.rank !== v.rank || batch(q) !== batch(k) || batch(k) !== batch(v)) {
    throw new TypeError(
      `${fn}: queries, keys and values must share batch dimensions, got [${q.shape}], [${k.shape}], [${v.shape}]`,
    );
  }
  if (!(E instanceof tf.Tensor) || E.rank !== 2 || E.shape[1] !== S) {
    throw new TypeError(`${fn}: E must have shape [k, S] with S = ${S} (the keys' length), got ${describe(E)}`);
  }
  if (!(F instanceof tf.Tensor) || F.shape.join() !== E.shape.join()) {
    throw new TypeError(`${fn}: F must have the same shape as E ([${E.shape}]), got ${describe(F)}`);
  }
  if (options.scale !== undefined && !Number.isFinite(options.scale)) {
    throw new RangeError(`${fn}: scale must be a finite number, got ${options.scale}`);
  }
}
