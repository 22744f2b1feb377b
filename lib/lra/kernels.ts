/**
 * The nine attention kernels of the lesson-09 capstone (a small Long Range Arena, after Tay et al. 2021) as
 * attention kinds of the tiny transformer, and models built from them with an **equal parameter budget**: the
 * kernels that add weights (Linformer's E and F, the dense Synthesizer's MLP) or drop them (the Synthesizer has no
 * W_Q, W_K) pay or get paid in feed-forward width, so every model has the softmax model's parameter count to
 * within one feed-forward unit per layer.
 *
 * | name        | kernel (lib)                                                | cost per layer        |
 * | ----------- | ----------------------------------------------------------- | --------------------- |
 * | softmax     | `attention` (dense, exact)                                  | O(T²·D) time and memory |
 * | flash       | `flashAttention` (exact, query tiles of 32, online softmax) | O(T²·D) time, O(T·tile) memory |
 * | linformer   | `linformerAttention`, learned E, F [k, T]                   | O(T·k·D)              |
 * | elu+1       | `linearAttention`, φ = elu + 1                              | O(T·D²)               |
 * | favor+      | `linearAttention` with FAVOR+ (M = 2·D fixed features)      | O(T·M·D)              |
 * | window      | `blockSparseAttention`, blocks of 8, window ±1 block        | O(T·24·D)             |
 * | bigbird     | `blockSparseAttention`, window ±1, global block 0, 1 random | O(T·40·D)             |
 * | clustered   | routing (`clusteredAttention`'s function), 4 fixed centroids, as a masked dense kernel | O(T²·D) |
 * | synthesizer | `synthesizerAttention`, dense (per-token MLP → T logits)    | O(T²·D), no Q, K      |
 *
 * Simplifications (said in the lesson): the clustered kernel keeps its seeded random centroids fixed (Roy et al.
 * 2021 move them by k-means during training); BigBird's random blocks are drawn once per model.
 * @module
 */
import {
  type AttentionKind,
  blockSparseKind,
  kernelKind,
  linearKind,
  linformerKind,
  softmaxKind,
  synthesizerKind,
  type TinyTransformer,
  tinyTransformer,
} from "../model/tiny_transformer.ts";
import { flashAttention } from "../attention/flash.ts";
import { attention } from "../attention/scaled_dot_product.ts";
import * as tf from "@tensorflow/tfjs";
import { type Rng, rng } from "../random.ts";

/** The capstone's kernels, in the order of tables and legends. */
export const LRA_KERNELS = [
  "softmax",
  "flash",
  "linformer",
  "elu+1",
  "favor+",
  "window",
  "bigbird",
  "clustered",
  "synthesizer",
] as const;
/** One of {@linkcode LRA_KERNELS}. */
export type LraKernel = typeof LRA_KERNELS[number];

/** Sizes the kernels are configured by. */
export interface LraKernelSettings {
  /** Linformer's projected length k (default 16). */
  linformerK?: number;
  /** Tokens per block of the window and BigBird kernels (default 8). */
  block?: number;
  /** Clusters of the clustered kernel (default 4). */
  clusters?: number;
  /** Query rows per tile of the flash kernel (default 32). */
  flashTile?: number;
  /** {@linkcode lraModel}: keep the softmax model's feed-forward width instead of matching its budget. */
  unmatched?: boolean;
}

/**
 * The attention kind of one capstone kernel.
 *
 * @param name The kernel.
 * @param settings Linformer's k, block size, clusters, flash tile.
 * @returns The kind (its `name` is the kernel's name).
 * @throws {RangeError} If the name is not one of {@linkcode LRA_KERNELS}.
 * @example
 * ```ts
 * import { lraKind } from "./kernels.ts";
 * if (lraKind("window").name !== "window") throw new Error("bad name");
 * ```
 */
export function lraKind(name: LraKernel, settings: LraKernelSettings = {}): AttentionKind {
  const { linformerK = 16, block = 8, clusters = 4, flashTile = 32 } = settings;
  const named = (kind: AttentionKind): AttentionKind => ({ ...kind, name });
  switch (name) {
    case "softmax":
      return softmaxKind();
    case "flash":
      return kernelKind(name, (q, k, v, { causal }) => flashAttention(q, k, v, { causal, blockQ: flashTile }));
    case "linformer":
      return named(linformerKind(linformerK));
    case "elu+1":
      return named(linearKind({ featureMap: "elu+1" }));
    case "favor+":
      return named(linearKind({ featureMap: "favor+" }));
    case "window":
      return named(blockSparseKind({ block, window: 1 }));
    case "bigbird":
      return named(blockSparseKind({ block, window: 1, global: [0], random: { perRow: 1, rng: rng("lra/bigbird") } }));
    case "clustered":
      return {
        name,
        make(info) {
          const centroids = lraCentroids(info.rng.fork("centroids"), clusters, info.D); // fixed for the model's life
          return {
            variables: [],
            apply(q, k, v) {
              // The same function as clusteredAttention with these centroids (tested), computed as dense attention
              // under the same-cluster mask: tfjs's gradient of the gathered kernel (tf.gather → UnsortedSegmentSum
              // on the CPU) took 15 s per step at B = 4, T = 64. So its time and memory here are the masked dense
              // kernel's: lesson 08's "a mask saves nothing", measured again.
              const mask = clusterMask(q!, k!, centroids); // [B, H, T, S], no gradient (made from the values)
              try {
                return attention(q!, k!, v, { mask, causal: info.causal }).output;
              } finally {
                mask.dispose();
              }
            },
          };
        },
      };
    case "synthesizer":
      return named(synthesizerKind("dense"));
    default:
      throw new RangeError(`Cannot make an LRA kernel: name must be one of ${LRA_KERNELS.join(", ")}, got "${name}"`);
  }
}

/**
 * The clustered kernel's centroids: `clusters` seeded unit vectors of D features (one set per layer, shared by its
 * heads, fixed for the model's life).
 *
 * @param r The layer's random source.
 * @param clusters How many.
 * @param D Features per head.
 * @returns [clusters][D] unit rows.
 */
export function lraCentroids(r: Rng, clusters: number, D: number): number[][] {
  return Array.from({ length: clusters }, () => {
    const c = Array.from(r.normalArray(D));
    const n = Math.hypot(...c);
    return c.map((x) => x / n);
  });
}

/**
 * The same-cluster mask of routing attention with fixed centroids: query i and key j (each scaled to unit length)
 * share the nearest centroid (the lowest index on a tie), as `clusteredAttention` assigns them.
 *
 * @param q [..., T, D] queries.
 * @param k [..., S, D] keys.
 * @param centroids [C][D] unit rows.
 * @returns [..., T, S] booleans (the caller owns it).
 */
export function clusterMask(q: tf.Tensor, k: tf.Tensor, centroids: number[][]): tf.Tensor {
  const [T, D] = q.shape.slice(-2), S = k.shape[k.rank - 2];
  const B = q.size / (T * D);
  const nearest = (a: ArrayLike<number>, row: number) => {
    let norm = 0;
    for (let e = 0; e < D; e++) norm += a[row * D + e] ** 2;
    norm = Math.sqrt(norm) || 1;
    let best = 0, bestD = Infinity;
    centroids.forEach((c, ci) => {
      let dist = 0;
      for (let e = 0; e < D; e++) dist += (a[row * D + e] / norm - c[e]) ** 2;
      if (dist < bestD) [best, bestD] = [ci, dist];
    });
    return best;
  };
  const qa = q.dataSync(), ka = k.dataSync();
  const mask = new Uint8Array(B * T * S);
  for (let b = 0; b < B; b++) {
    const kc = Array.from({ length: S }, (_, j) => nearest(ka, b * S + j));
    for (let i = 0; i < T; i++) {
      const c = nearest(qa, b * T + i);
      for (let j = 0; j < S; j++) mask[(b * T + i) * S + j] = kc[j] === c ? 1 : 0;
    }
  }
  return tf.tensor(mask, [...q.shape.slice(0, -1), S], "bool");
}

/** The model shape shared by every kernel of a comparison. */
export interface LraModelShape {
  vocab: number;
  /** T: every sequence has this length (Linformer's E, F and the Synthesizer's logits are sized by it). */
  length: number;
  /** d (default 32). */
  d?: number;
  /** Heads (default 2). */
  heads?: number;
  /** Layers (default 2). */
  layers?: number;
  /** The softmax model's feed-forward width, which sets the budget (default 4·d). */
  ffn?: number;
}

/** What {@linkcode lraModel} returns. */
export interface LraModel {
  model: TinyTransformer;
  /** The parameter budget: the softmax model's trainable parameters at this shape. */
  budget: number;
  /** The feed-forward width this kernel got to meet the budget. */
  ffn: number;
}

const budgets = new Map<string, number>();

/**
 * A tiny transformer with the given kernel, its feed-forward width chosen so that its trainable parameters equal
 * the softmax model's (the budget) to within one feed-forward unit per layer (2d + 1 parameters).
 *
 * @param kernel The kernel.
 * @param shape Vocabulary, length, d, heads, layers, the budget's feed-forward width.
 * @param seed The weights' seed.
 * @param settings The kernels' sizes.
 * @returns The model, the budget and the width it got.
 * @throws {RangeError} If the kernel's own weights exceed the whole feed-forward budget.
 * @example
 * ```ts
 * import { lraModel } from "./kernels.ts";
 * import * as tf from "@tensorflow/tfjs";
 * import "@tensorflow/tfjs-backend-cpu";
 * await tf.setBackend("cpu");
 * const a = lraModel("softmax", { vocab: 20, length: 32 }, 1), b = lraModel("linformer", { vocab: 20, length: 32 }, 1);
 * if (Math.abs(a.model.parameters - b.model.parameters) > 2 * (2 * 32 + 1)) throw new Error("budgets differ");
 * a.model.dispose();
 * b.model.dispose();
 * ```
 */
export function lraModel(
  kernel: LraKernel,
  shape: LraModelShape,
  seed: number | string,
  settings: LraKernelSettings = {},
): LraModel {
  const { vocab, length, d = 32, heads = 2, layers = 2 } = shape;
  const baseFfn = shape.ffn ?? 4 * d;
  const make = (k: LraKernel, ffn: number) =>
    tinyTransformer({ vocab, maxLen: length, d, heads, layers, ffn, attention: lraKind(k, settings), seed });
  const key = JSON.stringify([vocab, length, d, heads, layers, baseFfn, settings]);
  let budget = budgets.get(key);
  if (budget === undefined) {
    const probe = make("softmax", baseFfn);
    budget = probe.parameters;
    probe.dispose();
    budgets.set(key, budget);
  }
  if (kernel === "softmax" || settings.unmatched) return { model: make(kernel, baseFfn), budget, ffn: baseFfn };
  const probe = make(kernel, baseFfn);
  const extra = probe.parameters - budget; // what the kernel adds (or saves) over softmax
  probe.dispose();
  const ffn = baseFfn - Math.round(extra / (layers * (2 * d + 1)));
  if (ffn < 1) {
    throw new RangeError(
      `Cannot make an LRA model: ${kernel}'s own weights (${extra} more than softmax's) exceed the feed-forward ` +
        `budget at T = ${length}; got a feed-forward width of ${ffn}`,
    );
  }
  return { model: make(kernel, ffn), budget, ffn };
}
