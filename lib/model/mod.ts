/**
 * Pretrained models in TensorFlow.js: all-MiniLM-L6-v2 (a BERT-style sentence encoder) with its WordPiece
 * tokenizer and a safetensors reader. `import { loadMiniLM } from "attention-course";`
 * @module
 */
export {
  FLOAT_DTYPES,
  type FloatDtype,
  type FloatTensor,
  MAX_HEADER_BYTES,
  parseSafetensors,
  readSafetensors,
  type Safetensors,
  type TensorInfo,
} from "./safetensors.ts";
export {
  type EncodeTextOptions,
  type Tokenized,
  type WordPieceSettings,
  WordPieceTokenizer,
  wordPieceTokenizer,
} from "./tokenizer.ts";
export {
  findMiniLM,
  MINILM_DIR_ENV,
  MINILM_PACKAGE,
  MINILM_SHA256,
  MINILM_TOKENIZER_SHA256,
  type MiniLMFiles,
  readVerified,
} from "./files.ts";
export {
  type AttentionKernel,
  type AttentionSwap,
  type Dense,
  type EncodeOptions,
  type Encoding,
  type KernelContext,
  loadMiniLM,
  type LoadOptions,
  type MiniLM,
  MINILM_CONFIG,
  type MiniLMLayer,
  type MiniLMWeights,
  type Norm,
} from "./minilm.ts";
export {
  type AttentionKind,
  type AttentionLayer,
  blockSparseKind,
  kernelKind,
  type LayerInfo,
  linearKind,
  linformerKind,
  maskedAccuracy,
  maskedCrossEntropy,
  softmaxKind,
  synthesizerKind,
  type TinyTransformer,
  tinyTransformer,
  type TinyTransformerConfig,
} from "./tiny_transformer.ts";
