/**
 * all-MiniLM-L6-v2, a pretrained BERT-style sentence encoder (Reimers & Gurevych 2019; Wang et al. 2020,
 * MiniLM), run in TensorFlow.js: 6 layers, 12 heads, d = 384, FFN 1536 with exact (erf) GELU, post-LayerNorm,
 * learned positions and token types (Devlin et al. 2019). Weights come from the model's own `model.safetensors`
 * (Apache-2.0), which `deno task setup` installs into .venv; the sha256 is checked on load.
 *
 * One layer, for a sequence x of T tokens (shapes in the course's alphabet, lib/README.md):
 *
 *     q, k, v = x·W_Q + b_Q, x·W_K + b_K, x·W_V + b_V      [T, d] → split into heads [H, T, D], D = d/H = 32
 *     a = merge(softmax(q·kᵀ/√D)·v)·W_O + b_O              [T, d]   (any lib kernel can take the softmax's place)
 *     h = LayerNorm(x + a)                                  post-LN, ε = 1e-12
 *     y = LayerNorm(h + GELU(h·W₁ + b₁)·W₂ + b₂)            W₁ [d, 1536], W₂ [1536, d]
 *
 * The sentence embedding is the mean of the last layer's T token vectors ([CLS] and [SEP] included), divided
 * by its length, as sentence-transformers computes it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { attention } from "../attention/scaled_dot_product.ts";
import { initBackend } from "../backend.ts";
import { findMiniLM, MINILM_SHA256, MINILM_TOKENIZER_SHA256, type MiniLMFiles, readVerified } from "./files.ts";
import { parseSafetensors, type Safetensors } from "./safetensors.ts";
import { type Tokenized, WordPieceTokenizer, wordPieceTokenizer } from "./tokenizer.ts";

/** The architecture of all-MiniLM-L6-v2 (its config.json). */
export const MINILM_CONFIG: Readonly<{
  layers: number;
  heads: number;
  d: number;
  ffn: number;
  vocab: number;
  maxPositions: number;
  typeVocab: number;
  layerNormEps: number;
}> = Object.freeze({
  layers: 6,
  heads: 12,
  d: 384,
  ffn: 1536,
  vocab: 30522,
  maxPositions: 512,
  typeVocab: 2,
  layerNormEps: 1e-12,
});

/** A dense layer y = x·kernel + bias, kernel stored [in, out] (transposed from PyTorch's [out, in]). */
export interface Dense {
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/** LayerNorm's scale γ and shift β, each [d]. */
export interface Norm {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
}

/** One encoder layer's weights. */
export interface MiniLMLayer {
  /** [d, d] each: column block h (32 columns) is head h's W_Q, W_K, W_V. */
  query: Dense;
  key: Dense;
  value: Dense;
  /** [d, d] W_O, mixing the merged heads. */
  attentionOutput: Dense;
  attentionNorm: Norm;
  /** [d, 1536] W₁. */
  intermediate: Dense;
  /** [1536, d] W₂. */
  output: Dense;
  outputNorm: Norm;
}

/** Every weight of the encoder, as tensors the model owns (do not dispose them; call `model.dispose()`). */
export interface MiniLMWeights {
  /** [vocab, d] token embeddings. */
  wordEmbeddings: tf.Tensor2D;
  /** [512, d] learned position embeddings. */
  positionEmbeddings: tf.Tensor2D;
  /** [2, d] token-type embeddings (type 0 for a single sentence). */
  tokenTypeEmbeddings: tf.Tensor2D;
  embeddingNorm: Norm;
  layers: MiniLMLayer[];
}

/** What an attention kernel is told besides q, k and v. */
export interface KernelContext {
  /** The layer (0-based). */
  layer: number;
  /** H = 12. */
  heads: number;
  /** Tokens in the sequence. */
  T: number;
  /** Features per head, D = 32. */
  D: number;
  /** The model's score scale 1/√D (every lib kernel's default). */
  scale: number;
  /** [T, d] the layer's input (for kernels that read the tokens themselves, e.g. Synthesizer). */
  x: tf.Tensor2D;
}

/**
 * A stand-in for a layer's softmax attention: q, k, v are [H, T, D] (one slice per head); it returns the
 * [H, T, D] output, or `{ output, weights }` with weights [H, T, T] to have them recorded. Any lib kernel fits,
 * e.g. `(q, k, v) => linearAttention(q, k, v)`. It runs inside `tf.tidy`: intermediate tensors are freed.
 */
export type AttentionKernel = (
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  context: KernelContext,
) => tf.Tensor | { output: tf.Tensor; weights?: tf.Tensor };

/** Which layers use which kernel. */
export interface AttentionSwap {
  /** A layer (0…5), several, or "all". */
  layer: number | number[] | "all";
  kernel: AttentionKernel;
}

/** Options for {@linkcode MiniLM.encode}. */
export interface EncodeOptions {
  /** Replace the softmax attention of some layers by other kernels (to measure how the output drifts). */
  attention?: AttentionSwap | AttentionSwap[];
  /** Keep only the first `maxTokens` tokens ([CLS] and [SEP] included: the last kept token becomes [SEP]). */
  maxTokens?: number;
}

/** What {@linkcode MiniLM.encode} returns; the caller owns the tensors (`dispose()` frees them). */
export interface Encoding extends Tokenized {
  /** [L + 1, T, d] the embeddings' output (after their LayerNorm), then each layer's output. */
  hiddenStates: tf.Tensor3D;
  /**
   * [L, H, T, T] each layer's attention weights (rows sum to 1). A layer whose swapped kernel returned no
   * [H, T, T] weights holds NaN there (see `swapped`).
   */
  attentions: tf.Tensor4D;
  /** [d] the sentence embedding: the mean of the last hidden states over the T tokens, L2-normalised. */
  embedding: tf.Tensor1D;
  /** The layers whose attention was swapped, in order. */
  swapped: number[];
  /** Frees the three tensors. */
  dispose(): void;
}

/** The loaded model: made by {@linkcode loadMiniLM}. */
export interface MiniLM {
  readonly config: typeof MINILM_CONFIG;
  readonly files: MiniLMFiles;
  readonly tokenizer: WordPieceTokenizer;
  readonly weights: MiniLMWeights;
  /** Runs the encoder on a text (or on token ids, [CLS] … [SEP] included). */
  encode(input: string | number[], options?: EncodeOptions): Encoding;
  /** Sentence embeddings as plain arrays (nothing to dispose): one [d] unit vector per text. */
  embed(texts: string | string[], options?: EncodeOptions): Promise<number[][]>;
  /** Frees the weights (the model cannot be used afterwards). */
  dispose(): void;
}

/** Options for {@linkcode loadMiniLM}. */
export interface LoadOptions {
  /** A folder holding model.safetensors and tokenizer.json (default: the one `deno task setup` installed). */
  dir?: string;
}

const cache = new Map<string, Promise<MiniLM>>();

/**
 * Loads all-MiniLM-L6-v2 from the files `deno task setup` installed, checking their sha256. The model is
 * cached per backend: loading it again on the same backend returns the same object (until it is disposed);
 * after a change of backend (`initBackend`), load it again. With no backend chosen yet, it calls `initBackend()`.
 *
 * @param options A folder to load from instead (must hold the same files).
 * @returns The model: `encode`, `embed`, its tokenizer and weights.
 * @throws {RangeError} If the files are missing (run `deno task setup`) or differ from the expected ones.
 * @example
 * ```ts
 * import { loadMiniLM } from "./minilm.ts";
 * import { initBackend } from "../backend.ts";
 * await initBackend({ backend: "cpu", print: false });
 * const model = await loadMiniLM();
 * const out = model.encode("Attention is all you need.");
 * if (out.tokens.join(" ") !== "[CLS] attention is all you need . [SEP]") throw new Error(out.tokens.join(" "));
 * if (out.attentions.shape.join() !== "6,12,8,8" || out.hiddenStates.shape.join() !== "7,8,384") {
 *   throw new Error("bad shapes");
 * }
 * const [a, b, c] = await model.embed(["A cat sits on the mat.", "A kitten is sitting on a rug.", "Stocks fell sharply."]);
 * const cos = (x: number[], y: number[]) => x.reduce((s, xi, i) => s + xi * y[i], 0);
 * if (!(cos(a, b) > cos(a, c))) throw new Error("a paraphrase should be closer than an unrelated sentence");
 * out.dispose();
 * ```
 */
export async function loadMiniLM(options: LoadOptions = {}): Promise<MiniLM> {
  // No backend chosen yet (neither initBackend nor tf.setBackend ran): choose as initBackend does.
  if (!(tf.engine() as unknown as { backendName?: string }).backendName) await initBackend({ print: false });
  // One model per backend: tensors live on the backend that made them (webgpu cannot hand its data to another).
  const key = `${tf.getBackend()}|${options.dir ?? ""}`;
  let entry = cache.get(key);
  if (!entry) {
    entry = load(options.dir, key);
    cache.set(key, entry);
    entry.catch(() => cache.delete(key)); // a failed load can be retried (e.g. after `deno task setup`)
  }
  return await entry;
}

async function load(dir: string | undefined, key: string): Promise<MiniLM> {
  const files = await findMiniLM(dir);
  const [weightBytes, tokenizerBytes] = await Promise.all([
    readVerified(files.weights, MINILM_SHA256),
    readVerified(files.tokenizer, MINILM_TOKENIZER_SHA256),
  ]);
  const tokenizer = wordPieceTokenizer(new TextDecoder().decode(tokenizerBytes));
  const weights = readWeights(parseSafetensors(weightBytes, files.weights));
  let disposed = false;
  const model: MiniLM = {
    config: MINILM_CONFIG,
    files,
    tokenizer,
    weights,
    encode(input, options = {}) {
      if (disposed) throw new RangeError("Cannot encode: the model was disposed; load it again with loadMiniLM()");
      return encode(model, input, options);
    },
    async embed(texts, options = {}) {
      const list = typeof texts === "string" ? [texts] : texts;
      if (!Array.isArray(list)) {
        throw new TypeError(`Cannot embed: texts must be a string or an array of strings, got ${typeof texts}`);
      }
      const vectors: number[][] = [];
      for (const text of list) {
        const out = model.encode(text, options);
        try {
          vectors.push(Array.from(await out.embedding.data())); // async: webgpu cannot read synchronously
        } finally {
          out.dispose();
        }
      }
      return vectors;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      cache.delete(key);
      tf.dispose(allTensors(weights));
    },
  };
  return model;
}

function readWeights(st: Safetensors): MiniLMWeights {
  const { d, layers, vocab, maxPositions, typeVocab, ffn } = MINILM_CONFIG;
  const made: tf.Tensor[] = [];
  const get = (name: string, shape: number[]): Float32Array => {
    const t = st.tensor(name);
    if (t.shape.join() !== shape.join()) {
      throw new TypeError(`Cannot load all-MiniLM-L6-v2: ${name} must have shape [${shape}], got [${t.shape}]`);
    }
    return t.data;
  };
  const keep = <T extends tf.Tensor>(t: T): T => (made.push(t), t);
  const matrix = (name: string, rows: number, cols: number) => keep(tf.tensor2d(get(name, [rows, cols]), [rows, cols]));
  const vector = (name: string, n: number) => keep(tf.tensor1d(get(name, [n])));
  // PyTorch stores Linear weights [out, in]; transpose once here so that every forward pass is x·W.
  const dense = (prefix: string, out: number, inp: number): Dense => {
    const w = tf.tensor2d(get(`${prefix}.weight`, [out, inp]), [out, inp]);
    const kernel = keep(tf.transpose(w) as tf.Tensor2D); // [in, out]
    w.dispose();
    return { kernel, bias: vector(`${prefix}.bias`, out) };
  };
  const norm = (prefix: string): Norm => ({ gamma: vector(`${prefix}.weight`, d), beta: vector(`${prefix}.bias`, d) });
  try {
    return {
      wordEmbeddings: matrix("embeddings.word_embeddings.weight", vocab, d),
      positionEmbeddings: matrix("embeddings.position_embeddings.weight", maxPositions, d),
      tokenTypeEmbeddings: matrix("embeddings.token_type_embeddings.weight", typeVocab, d),
      embeddingNorm: norm("embeddings.LayerNorm"),
      layers: Array.from({ length: layers }, (_, l) => {
        const p = `encoder.layer.${l}`;
        return {
          query: dense(`${p}.attention.self.query`, d, d),
          key: dense(`${p}.attention.self.key`, d, d),
          value: dense(`${p}.attention.self.value`, d, d),
          attentionOutput: dense(`${p}.attention.output.dense`, d, d),
          attentionNorm: norm(`${p}.attention.output.LayerNorm`),
          intermediate: dense(`${p}.intermediate.dense`, ffn, d),
          output: dense(`${p}.output.dense`, d, ffn),
          outputNorm: norm(`${p}.output.LayerNorm`),
        };
      }),
    };
  } catch (err) {
    tf.dispose(made);
    throw err;
  }
}

function allTensors(w: MiniLMWeights): tf.Tensor[] {
  const out: tf.Tensor[] = [w.wordEmbeddings, w.positionEmbeddings, w.tokenTypeEmbeddings];
  const norm = (n: Norm) => out.push(n.gamma, n.beta);
  const dense = (x: Dense) => out.push(x.kernel, x.bias);
  norm(w.embeddingNorm);
  for (const l of w.layers) {
    [l.query, l.key, l.value, l.attentionOutput, l.intermediate, l.output].forEach(dense);
    norm(l.attentionNorm);
    norm(l.outputNorm);
  }
  return out;
}

function encode(model: MiniLM, input: string | number[], options: EncodeOptions): Encoding {
  const fn = "Cannot encode";
  const { layers, heads, d, maxPositions } = model.config;
  let tokenized: Tokenized;
  if (typeof input === "string") {
    tokenized = model.tokenizer.encode(input);
  } else if (Array.isArray(input)) {
    const bad = input.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= model.config.vocab);
    if (bad >= 0) {
      throw new RangeError(
        `${fn}: token ids must be integers in [0, ${model.config.vocab}), got ${input[bad]} at ${bad}`,
      );
    }
    tokenized = {
      ids: [...input],
      tokens: input.map((id) => model.tokenizer.idToToken(id) ?? "[UNK]"),
      words: input.map(() => null),
    };
  } else {
    throw new TypeError(
      `${fn}: input must be a text or an array of token ids, got ${input === null ? "null" : typeof input}`,
    );
  }
  const { maxTokens } = options;
  if (maxTokens !== undefined) {
    if (!Number.isInteger(maxTokens) || maxTokens < 2 || maxTokens > maxPositions) {
      throw new RangeError(`${fn}: maxTokens must be an integer in [2, ${maxPositions}], got ${maxTokens}`);
    }
    tokenized = truncate(tokenized, maxTokens, model.tokenizer);
  }
  const T = tokenized.ids.length;
  if (T === 0) throw new RangeError(`${fn}: the input must have at least one token, got none`);
  if (T > maxPositions) {
    throw new RangeError(
      `${fn}: the text must have at most ${maxPositions} tokens (the model's learned positions), got ${T}: ` +
        "pass maxTokens to truncate it",
    );
  }
  const kernels = swapsByLayer(options.attention, layers);
  const w = model.weights;
  const D = d / heads;
  const swapped: number[] = [];
  const [hiddenStates, attentions, embedding] = tf.tidy(() => {
    const ids = tf.tensor1d(tokenized.ids, "int32");
    const emb = tf.add(
      tf.add(tf.gather(w.wordEmbeddings, ids), tf.slice(w.positionEmbeddings, [0, 0], [T, d])),
      tf.slice(w.tokenTypeEmbeddings, [0, 0], [1, d]), // token type 0 for every token
    ); // [T, d]
    let h = layerNorm(emb, w.embeddingNorm) as tf.Tensor2D; // [T, d]
    const hidden: tf.Tensor[] = [h];
    const weightsPerLayer: tf.Tensor[] = [];
    for (let l = 0; l < layers; l++) {
      const p = w.layers[l];
      const [qa, ka, va] = [p.query, p.key, p.value].map((dense) => linear(h, dense)); // [T, d] each
      let merged: tf.Tensor, weights: tf.Tensor | undefined;
      const kernel = kernels[l];
      if (kernel) {
        swapped.push(l);
        const split = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [T, heads, D]), [1, 0, 2]); // [H, T, D]
        const ctx: KernelContext = { layer: l, heads, T, D, scale: 1 / Math.sqrt(D), x: h };
        let out: tf.Tensor;
        ({ output: out, weights } = runKernel(kernel, split(qa), split(ka), split(va), ctx, [heads, T, D]));
        merged = tf.reshape(tf.transpose(out, [1, 0, 2]), [T, d]); // [T, d]
      } else {
        // One head at a time on [T, D] slices: the wasm backend's batched matMul is far slower per slice than its
        // 2-D one (measured: 738 ms for [12, 512, 32]·[12, 32, 512], 2.4 ms for one [512, 32]·[32, 512]).
        const head = (x: tf.Tensor, i: number) => tf.slice(x, [0, i * D], [T, D]); // [T, D]
        const outs: tf.Tensor[] = [], ws: tf.Tensor[] = [];
        for (let i = 0; i < heads; i++) {
          const r = attention(head(qa, i), head(ka, i), head(va, i)); // softmax(q·kᵀ/√D)·v: [T, D], [T, T]
          outs.push(r.output);
          ws.push(r.weights);
        }
        merged = tf.concat(outs, 1); // [T, d]: the heads side by side
        weights = tf.stack(ws); // [H, T, T]
      }
      const a = layerNorm(tf.add(h, linear(merged, p.attentionOutput)), p.attentionNorm); // [T, d]
      const f = linear(gelu(linear(a, p.intermediate)), p.output); // [T, 1536] → [T, d]
      h = layerNorm(tf.add(a, f), p.outputNorm) as tf.Tensor2D; // [T, d]
      hidden.push(h);
      weightsPerLayer.push(
        weights && weights.shape.join() === `${heads},${T},${T}` ? weights : tf.fill([heads, T, T], NaN),
      );
    }
    const pooled = tf.mean(h, 0); // [d]
    const norm = tf.maximum(tf.norm(pooled), 1e-12); // as torch.nn.functional.normalize
    return [tf.stack(hidden), tf.stack(weightsPerLayer), tf.div(pooled, norm)] as [
      tf.Tensor3D,
      tf.Tensor4D,
      tf.Tensor1D,
    ];
  });
  return {
    ...tokenized,
    hiddenStates,
    attentions,
    embedding,
    swapped,
    dispose() {
      tf.dispose([hiddenStates, attentions, embedding]);
    },
  };
}

function runKernel(
  kernel: AttentionKernel,
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  ctx: KernelContext,
  shape: number[],
): { output: tf.Tensor; weights?: tf.Tensor } {
  const result = kernel(q, k, v, ctx);
  const r = result instanceof tf.Tensor ? { output: result } : result;
  if (!(r?.output instanceof tf.Tensor) || r.output.shape.join() !== shape.join()) {
    throw new TypeError(
      `Cannot encode: the attention kernel of layer ${ctx.layer} must return a tensor [${shape}] or { output, weights }, got ${
        r?.output instanceof tf.Tensor ? `shape [${r.output.shape}]` : typeof result
      }`,
    );
  }
  return r;
}

function swapsByLayer(option: EncodeOptions["attention"], layers: number): (AttentionKernel | undefined)[] {
  const out: (AttentionKernel | undefined)[] = new Array(layers).fill(undefined);
  if (option === undefined) return out;
  for (const swap of Array.isArray(option) ? option : [option]) {
    if (typeof swap?.kernel !== "function") {
      throw new TypeError(
        `Cannot encode: attention.kernel must be a function (q, k, v, context) => output, got ${typeof swap?.kernel}`,
      );
    }
    const which = swap.layer === "all"
      ? [...Array(layers).keys()]
      : Array.isArray(swap.layer)
      ? swap.layer
      : [swap.layer];
    for (const l of which) {
      if (!Number.isInteger(l) || l < 0 || l >= layers) {
        throw new RangeError(
          `Cannot encode: attention.layer must be "all" or an integer in [0, ${layers - 1}], got ${l}`,
        );
      }
      out[l] = swap.kernel;
    }
  }
  return out;
}

function truncate(t: Tokenized, n: number, tok: WordPieceTokenizer): Tokenized {
  if (t.ids.length <= n) return t;
  const sep = tok.settings.sepToken;
  const hasSep = t.tokens.at(-1) === sep;
  const keep = hasSep ? n - 1 : n;
  const cut = (xs: unknown[]) => xs.slice(0, keep);
  return {
    ids: [...cut(t.ids) as number[], ...(hasSep ? [tok.tokenToId(sep)!] : [])],
    tokens: [...cut(t.tokens) as string[], ...(hasSep ? [sep] : [])],
    words: [...cut(t.words) as (number | null)[], ...(hasSep ? [null] : [])],
  };
}

function linear(x: tf.Tensor, p: Dense): tf.Tensor {
  return tf.add(tf.matMul(x as tf.Tensor2D, p.kernel), p.bias); // [T, in] · [in, out] + [out]
}

function layerNorm(x: tf.Tensor, p: Norm): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true); // [T, 1] each: the biased variance, as PyTorch
  const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, MINILM_CONFIG.layerNormEps)));
  return tf.add(tf.mul(normed, p.gamma), p.beta);
}

/** GELU in BERT's exact form, x·Φ(x) = x/2·(1 + erf(x/√2)) (Hendrycks & Gimpel 2016). */
function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}
