import * as tf from "@tensorflow/tfjs";
import { type AttentionKernel, loadMiniLM, MINILM_CONFIG } from "./minilm.ts";
import { findMiniLM, MINILM_SHA256, readVerified } from "./files.ts";
import { readSafetensors } from "./safetensors.ts";
import { IGNORE_WITHOUT_MODEL, MODEL_FILES, MODEL_NOTE } from "./_testing.ts";
import { initBackend, webgpuAdapter } from "../backend.ts";
import { attention } from "../attention/scaled_dot_product.ts";
import { linearAttention } from "../attention/linear.ts";
import { linformerAttention } from "../attention/linformer.ts";
import { blockSparseAttention } from "../attention/block_sparse.ts";
import { gaussianProjection } from "../analysis/projection.ts";
import { rng } from "../random.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_testing.ts";

/** Reference outputs from PyTorch (tools/cases/make_minilm_forward.py). */
const REF = await readSafetensors(new URL("./testdata/minilm_forward.safetensors", import.meta.url).pathname);
interface RefCase {
  text: string;
  ids: number[];
  keep?: { hiddenLayers: number[]; attentionLayers: number[]; heads: number[] };
}
const REF_CASES: RefCase[] = JSON.parse(REF.metadata.cases);
const TOL = 1e-4;

const modelTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name: name + MODEL_NOTE, ignore: IGNORE_WITHOUT_MODEL, sanitizeResources: false, fn });

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertEquals(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Picks layers (axis 0) and heads (axis 1) out of a row-major [L, H, T, T] array. */
function pick(data: Float32Array, T: number, layers: number[], heads: number[]): Float32Array {
  const H = MINILM_CONFIG.heads, out: number[] = [];
  for (const l of layers) {
    for (const h of heads) out.push(...data.subarray((l * H + h) * T * T, (l * H + h + 1) * T * T));
  }
  return Float32Array.from(out);
}

const adapter = await webgpuAdapter();
const BACKENDS = ["wasm", "cpu", ...(adapter ? ["webgpu"] as const : [])] as const;

for (const backend of BACKENDS) {
  modelTest(
    `MiniLM matches PyTorch within ${TOL} (hidden states, attention weights, embedding) on ${backend}`,
    async () => {
      await initBackend({ backend, print: false });
      const model = await loadMiniLM();
      // cpu and webgpu (lavapipe) are slow: the 128-token case runs on wasm only.
      const cases = backend === "wasm" ? REF_CASES : REF_CASES.filter((c) => !c.keep);
      assert(cases.length >= 3);
      for (const [i, c] of cases.entries()) {
        const out = model.encode(c.ids);
        const T = c.ids.length;
        if (!c.keep) assertEquals(model.tokenizer.encode(c.text).ids, c.ids, "the tokenizer gives the reference's ids");
        const hidden = await out.hiddenStates.data() as Float32Array; // async: webgpu cannot read synchronously here
        const refHidden = REF.tensor(`c${i}.hidden`).data;
        const dHidden = c.keep
          ? maxAbsDiff(hidden.subarray(6 * T * 384), refHidden) // the last layer only
          : maxAbsDiff(hidden, refHidden);
        const att = await out.attentions.data() as Float32Array;
        const refAtt = REF.tensor(`c${i}.attentions`).data;
        const dAtt = maxAbsDiff(c.keep ? pick(att, T, c.keep.attentionLayers, c.keep.heads) : att, refAtt);
        const dEmb = maxAbsDiff(await out.embedding.data(), REF.tensor(`c${i}.embedding`).data);
        out.dispose();
        assert(
          dHidden < TOL && dAtt < TOL && dEmb < TOL,
          `case ${i} (T=${T}): max |Δ| hidden ${dHidden}, attention ${dAtt}, embedding ${dEmb}`,
        );
      }
      await initBackend({ backend: "cpu", print: false });
    },
  );
}

modelTest("MiniLM: paraphrases score a higher cosine than unrelated sentences", async () => {
  await initBackend({ backend: "wasm", print: false });
  const model = await loadMiniLM();
  const triples = [
    ["A man is playing a guitar.", "Someone is strumming a guitar.", "The stock market fell sharply today."],
    ["The weather is lovely today.", "It is a beautiful sunny day.", "He forgot his password again."],
    ["How do I reset my password?", "I need to change my login password.", "The recipe calls for two eggs."],
    [
      "The children are playing in the park.",
      "Kids are having fun at the playground.",
      "Interest rates rose in March.",
    ],
    [
      "Attention weights sum to one over the keys.",
      "Each query's weights over the keys add up to 1.",
      "Penguins live in the southern hemisphere.",
    ],
  ];
  const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
  for (const [anchor, para, other] of triples) {
    const [a, p, o] = await model.embed([anchor, para, other]);
    assert(Math.abs(cos(a, a) - 1) < 1e-5, "embeddings have unit length");
    assert(
      cos(a, p) > cos(a, o) + 0.2,
      `"${anchor}": paraphrase ${cos(a, p).toFixed(3)}, unrelated ${cos(a, o).toFixed(3)}`,
    );
  }
});

modelTest(
  "MiniLM: swapping a layer's attention for the same exact kernel changes nothing; other kernels drift",
  async () => {
    await initBackend({ backend: "wasm", print: false });
    const model = await loadMiniLM();
    const text = "The quick brown fox jumps over the lazy dog, and the dog does not mind at all.";
    const base = model.encode(text);
    const T = base.ids.length;
    const embedding = (kernel: AttentionKernel, layer: number | number[] | "all" = 3) => {
      const out = model.encode(text, { attention: { layer, kernel } });
      const e = Array.from(out.embedding.dataSync());
      const swapped = out.swapped;
      const att = out.attentions.dataSync();
      out.dispose();
      return { e, swapped, att };
    };
    const exact = embedding((q, k, v) => attention(q, k, v), "all");
    assertEquals(exact.swapped, [0, 1, 2, 3, 4, 5]);
    assert(maxAbsDiff(exact.e, base.embedding.dataSync()) < 1e-6, "the same kernel gives the same embedding");
    assert(maxAbsDiff(exact.att, base.attentions.dataSync()) < 1e-6, "its weights are recorded");
    const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i], 0);
    const E = gaussianProjection(8, T, rng("linformer-swap")); // [k, T]
    const drifts = {
      linear: embedding((q, k, v) => linearAttention(q, k, v)),
      linformer: embedding((q, k, v) => linformerAttention(q, k, v, E, E)),
      window: embedding((q, k, v) => blockSparseAttention(q, k, v, { block: 4, window: 1 })),
    };
    E.dispose();
    for (const [name, d] of Object.entries(drifts)) {
      assertEquals(d.swapped, [3], name);
      const c = cos(d.e, base.embedding.dataSync());
      assert(c < 1 - 1e-6 && c > -1, `${name}: cosine to the exact embedding ${c}`);
      assert(Number.isNaN(d.att[3 * 12 * T * T]) && !Number.isNaN(d.att[0]), `${name}: layer 3's weights are NaN`);
    }
    base.dispose();
  },
);

modelTest(
  "MiniLM.encode() truncates with maxTokens, leaks nothing, and rejects bad input with clear errors",
  async () => {
    await initBackend({ backend: "wasm", print: false });
    const model = await loadMiniLM();
    assert(model === await loadMiniLM(), "the model is cached");
    const before = tf.memory().numTensors;
    const out = model.encode("one two three four five six", { maxTokens: 5 });
    assertEquals(out.tokens, ["[CLS]", "one", "two", "three", "[SEP]"]);
    assertEquals(out.hiddenStates.shape, [7, 5, 384]);
    out.dispose();
    assertEquals((await model.embed("x")).length, 1);
    assertEquals(tf.memory().numTensors, before, "encode + dispose and embed leave no tensor behind");
    const long = "word ".repeat(600);
    assertThrows(() => model.encode(long), RangeError, "Cannot encode: the text must have at most 512 tokens");
    assertEquals(model.encode(long, { maxTokens: 512 }).ids.length, 512);
    assertThrows(
      () => model.encode("a", { maxTokens: 1 }),
      RangeError,
      "maxTokens must be an integer in [2, 512], got 1",
    );
    assertThrows(
      () => model.encode([101, 40000]),
      RangeError,
      "token ids must be integers in [0, 30522), got 40000 at 1",
    );
    assertThrows(
      () => model.encode(7 as unknown as string),
      TypeError,
      "input must be a text or an array of token ids",
    );
    const k: AttentionKernel = (q) => q;
    assertThrows(
      () => model.encode("a", { attention: { layer: 6, kernel: k } }),
      RangeError,
      'attention.layer must be "all" or an integer in [0, 5], got 6',
    );
    assertThrows(
      () => model.encode("a b", { attention: { layer: 0, kernel: (q) => tf.sum(q, -1) } }),
      TypeError,
      "the attention kernel of layer 0 must return a tensor [12,4,32] or { output, weights }, got shape [12,4]",
    );
    assertEquals(tf.memory().numTensors, before + 3, "only the 512-token encoding (not disposed above) remains");
  },
);

modelTest("loadMiniLM() checks the weights' sha256 and explains missing files", async () => {
  const files = await findMiniLM();
  assertEquals((await readVerified(files.weights, MINILM_SHA256)).length > 90e6, true);
  const dir = await Deno.makeTempDir();
  try {
    await assertRejects(
      () => loadMiniLM({ dir }),
      RangeError,
      `Cannot find the all-MiniLM-L6-v2 model files: ${dir} must hold model.safetensors and tokenizer.json, got none: run \`deno task setup\``,
    );
    const bytes = await Deno.readFile(files.weights);
    bytes[bytes.length - 1] ^= 1; // one flipped bit in the last weight
    await Deno.writeFile(`${dir}/model.safetensors`, bytes);
    await Deno.copyFile(files.tokenizer, `${dir}/tokenizer.json`);
    await assertRejects(() => loadMiniLM({ dir }), RangeError, `its sha256 must be ${MINILM_SHA256}, got `);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

if (MODEL_FILES instanceof Error && Deno.env.get("CI") === "true") {
  Deno.test("CI has the model files", () => {
    throw MODEL_FILES;
  });
}
