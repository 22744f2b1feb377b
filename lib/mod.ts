/**
 * The course library. Notebooks in notebooks/, exercises/ and solutions/
 * import it with one line: `import { … } from "attention-course";` (deno.json maps the name here)
 * @module
 */
export * as tf from "@tensorflow/tfjs";
export { type BackendInfo, type BackendName, BACKENDS, describeBackend, initBackend } from "./backend.ts";
export { Rng, rng } from "./random.ts";
export * from "./display/mod.ts";
export { attentionLayerCost, type Cost, denseLayerCost, exactRatio, formatFraction, math } from "./costs.ts";
export { attention, type AttentionOptions, type AttentionResult } from "./attention/scaled_dot_product.ts";
export { flashAttention, type FlashOptions } from "./attention/flash.ts";
export {
  applyFeatureMap,
  type FeatureMap,
  linearAttention,
  linearAttentionRecurrent,
  type LinearOptions,
} from "./attention/linear.ts";
export {
  favorFeatureMap,
  favorFeatures,
  type FavorFeaturesOptions,
  type FavorMapOptions,
  favorOmega,
  trigFeatureMap,
  type TrigMapOptions,
} from "./attention/favor.ts";
export {
  initMultiHead,
  mergeHeads,
  multiHeadAttention,
  multiHeadCost,
  type MultiHeadCostOptions,
  type MultiHeadInitOptions,
  type MultiHeadOptions,
  type MultiHeadResult,
  type MultiHeadWeights,
  splitHeads,
} from "./attention/multi_head.ts";
export {
  linformerAttention,
  type LinformerOptions,
  type LinformerProjectionOptions,
  type LinformerProjections,
  linformerProjections,
  type LinformerSharing,
} from "./attention/linformer.ts";
export {
  gatherAttention,
  type GatherPlan,
  gatherPlan,
  patternDensity,
  sparseAttention,
  sparseIndices,
  sparseMask,
  type SparseOptions,
  type SparsePattern,
} from "./attention/sparse.ts";
export {
  type BlockPattern,
  blockPatternDensity,
  blockPatternKeys,
  blockPatternMask,
  blockSparseAttention,
  type BlockSparseOptions,
} from "./attention/block_sparse.ts";
export {
  clusteredAttention,
  type ClusteredOptions,
  type ClusteredResult,
  kMeans,
  type KMeansOptions,
  type KMeansResult,
} from "./attention/clustered.ts";
export {
  initSynthesizer,
  synthesizerAttention,
  type SynthesizerInitOptions,
  type SynthesizerKind,
  type SynthesizerOptions,
  type SynthesizerResult,
  type SynthesizerWeights,
} from "./attention/synthesizer.ts";
export {
  lshAttention,
  type LshAttentionOptions,
  type LshAttentionResult,
  lshHash,
  lshKeyLists,
  type LshListOptions,
  type LshRotation,
  lshRotations,
} from "./attention/lsh.ts";
export * from "./analysis/mod.ts";
export {
  type CaseTiming,
  type Clock,
  clockLabel,
  defaultClock,
  type InterleaveOptions,
  type Sweep,
  sweepSeries,
  timeInterleaved,
  timeIt,
  timeSweep,
  type Timing,
} from "./timing.ts";
export * from "./model/mod.ts";
export * from "./train/mod.ts";
export * from "./lra/mod.ts";
