/**
 * The course library. Notebooks in notebooks/, exercises/ and solutions/
 * import it with one line: `import { … } from "../lib/mod.ts";`
 * @module
 */
export * as tf from "@tensorflow/tfjs-core";
export { type BackendInfo, type BackendName, BACKENDS, describeBackend, initBackend } from "./backend.ts";
export { Rng, rng } from "./random.ts";
export {
  bundleOf,
  type Displayable,
  type Figure,
  formatNumber,
  inNotebook,
  markdown,
  type MimeBundle,
  plot,
  PLOTLY_MIME,
  progress,
  type ProgressBar,
  show,
  table,
  tex,
  update,
} from "./display.ts";
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
export { timeIt, type Timing } from "./timing.ts";
