/**
 * The models' part of `deno task bench` (tools/bench.ts calls {@linkcode benchModel}; it also runs alone:
 * `deno run --allow-all tools/bench_model.ts [--quick] [--json]`), on the wasm backend:
 *
 * - all-MiniLM-L6-v2 forward pass (`encode` on token ids: 6 layers, hidden states, attention weights and the
 *   pooled embedding) for T ∈ {32, 64, 128, 256, 512} tokens of the course corpus; the goal is ≤ 1 s at T = 128;
 * - the tiny transformer of lib/model/tiny_transformer_test.ts (2 layers, d = 32, 4 heads, batch 32, the causal
 *   copy task with n = 6): training steps per second, and the wall time until it reaches 99% held-out accuracy
 *   (the goal is ≤ 60 s); also with learned Linformer attention on the masked copy task.
 *
 * Timings are interleaved: every size runs once per round, several rounds; the table gives the fastest and the
 * median round (other work on a shared machine only ever adds time), and the process's CPU time of the fastest
 * round (wasm runs one thread, so on a busy machine CPU time is close to what a quiet machine's wall time is).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import process from "node:process";
import { initBackend } from "../lib/backend.ts";
import { loadMiniLM } from "../lib/model/minilm.ts";
import {
  type AttentionKind,
  linformerKind,
  maskedAccuracy,
  maskedCrossEntropy,
  softmaxKind,
  tinyTransformer,
} from "../lib/model/tiny_transformer.ts";
import { train } from "../lib/train/trainer.ts";
import { rng } from "../lib/random.ts";
import { corpusPassages } from "../datasets/corpus.ts";
import { copyTask } from "../datasets/toy_tasks.ts";
import type { Entry } from "./bench_stats.ts";

/** Options of {@linkcode benchModel}. */
export interface BenchModelOptions {
  /** Fewer rounds and sizes. */
  quick?: boolean;
  /** Where the lines go (default console.log). */
  say?: (line?: string) => void;
}

const D_MODEL = 384, LAYERS = 6, FFN = 1536;

/** FLOPs of one MiniLM forward pass on T tokens (a multiply–add = 2; softmax, LayerNorm, GELU not counted). */
export function miniLMFlops(T: number): number {
  const dense = 2 * T * D_MODEL * (4 * D_MODEL + 2 * FFN); // Q, K, V, O and the two FFN maps
  const attention = 4 * T * T * D_MODEL; // Q·Kᵀ and P·V over all heads
  return LAYERS * (dense + attention);
}

/**
 * Runs the model benchmarks on wasm and returns bench entries (tools/bench_stats.ts) and summary figures.
 *
 * @param options Quick mode and the output.
 * @returns Entries: `minilm-forward` per T, `tiny-train-step`; summary keys under `wasm.minilm.*`, `wasm.tiny.*`.
 */
export async function benchModel(
  options: BenchModelOptions = {},
): Promise<{ entries: Entry[]; summary: Record<string, number> }> {
  const say = options.say ?? ((line = "") => console.log(line));
  const entries: Entry[] = [];
  const summary: Record<string, number> = {};
  await initBackend({ backend: "wasm", print: false });
  say("\nModels on wasm (SIMD, 1 thread); interleaved rounds, fastest and median");

  // ---- MiniLM forward per T
  const model = await loadMiniLM();
  const sizes = options.quick ? [32, 128, 512] : [32, 64, 128, 256, 512];
  const rounds = options.quick ? 3 : 5;
  const passage = corpusPassages(600, { count: 1 })[0];
  const ids = model.tokenizer.encode(passage).ids; // > 512 tokens
  const inputs = new Map(sizes.map((T) => [T, [...ids.slice(0, T - 1), ids.at(-1)!]])); // [CLS] … [SEP]
  const times = new Map<number, { ms: number; cpuMs: number }[]>(sizes.map((T) => [T, []]));
  for (const T of sizes) await encodeOnce(model, inputs.get(T)!); // warm-up: kernels compiled, buffers made
  for (let round = 0; round < rounds; round++) {
    for (const T of sizes) times.get(T)!.push(await encodeOnce(model, inputs.get(T)!));
  }
  say(`  all-MiniLM-L6-v2 forward (encode on token ids), ${rounds} rounds`);
  for (const T of sizes) {
    const runs = times.get(T)!;
    const fastest = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
    const ms = fastest.ms, med = median(runs.map((r) => r.ms));
    const gflops = miniLMFlops(T) / ms / 1e6;
    entries.push({ kernel: "minilm-forward", backend: "wasm", T, d: D_MODEL, ms, gflops, peakBytes: null });
    summary[`wasm.minilm.forwardMs@${T}`] = ms;
    summary[`wasm.minilm.forwardCpuMs@${T}`] = fastest.cpuMs;
    say(
      `    T=${String(T).padStart(4)}  fastest ${ms.toFixed(0).padStart(5)} ms (CPU ${
        fastest.cpuMs.toFixed(0).padStart(5)
      } ms)  median ${med.toFixed(0).padStart(5)} ms  ${gflops.toFixed(1).padStart(5)} GFLOP/s${
        T === 128 ? "  (goal ≤ 1000 ms)" : ""
      }`,
    );
  }

  // ---- the tiny transformer
  say("  tiny transformer (2 layers, d=32, 4 heads, batch 32), copy task n=6 until 99% held-out accuracy");
  const runs: [string, AttentionKind, boolean][] = [
    ["softmax, causal, next-token copy", softmaxKind(), true],
    ["linformer k=8 (learned E, F), masked copy", linformerKind(8), false],
  ];
  for (const [name, kind, causal] of runs) {
    const r = await learnCopy(kind, causal);
    const stepMs = 1000 / r.stepsPerSecond;
    entries.push({
      kernel: `tiny-train-step ${kind.name}`,
      backend: "wasm",
      T: 13,
      d: 32,
      ms: stepMs,
      gflops: 0,
      peakBytes: null,
    });
    summary[`wasm.tiny.${kind.name}.stepsPerSecond`] = r.stepsPerSecond;
    summary[`wasm.tiny.${kind.name}.secondsTo99`] = r.seconds;
    summary[`wasm.tiny.${kind.name}.cpuSecondsTo99`] = r.cpuSeconds;
    say(
      `    ${name}: ${r.stepsPerSecond.toFixed(1)} steps/s (${(r.steps / r.cpuSeconds).toFixed(1)} per CPU second); ${
        r.accuracy >= 0.99 ? "99%" : `only ${r.accuracy}`
      } after ${r.steps} steps in ${r.seconds.toFixed(1)} s (CPU ${r.cpuSeconds.toFixed(1)} s; goal ≤ 60 s)`,
    );
  }
  return { entries, summary };
}

async function encodeOnce(
  model: Awaited<ReturnType<typeof loadMiniLM>>,
  ids: number[],
): Promise<{ ms: number; cpuMs: number }> {
  const c0 = process.cpuUsage(), t0 = performance.now();
  const out = model.encode(ids);
  await Promise.all([out.hiddenStates.data(), out.attentions.data(), out.embedding.data()]);
  const ms = performance.now() - t0, c = process.cpuUsage(c0);
  out.dispose();
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function learnCopy(kind: AttentionKind, causal: boolean) {
  const opts = { n: 6, symbols: 8, mode: causal ? "next-token" as const : "masked" as const };
  const probe = copyTask(rng(0), { batch: 1, ...opts });
  const model = tinyTransformer({
    vocab: probe.vocab,
    maxLen: probe.length,
    d: 32,
    heads: 4,
    layers: 2,
    causal,
    attention: kind,
    seed: 1,
  });
  const held = copyTask(rng("held-out"), { batch: 200, ...opts });
  const c0 = process.cpuUsage(), t0 = performance.now();
  const result = await train({
    steps: 2000,
    seed: 1,
    learningRate: 3e-3,
    progress: false,
    variables: model.variables.filter((v) => v.trainable),
    batch: (r) => copyTask(r, { batch: 32, ...opts }),
    loss: (b) => tf.tidy(() => maskedCrossEntropy(model.forward(b.inputs), b.targets, b.mask)),
    evaluate: {
      every: 25,
      metric: async () => {
        const logits = model.forward(held.inputs);
        const a = await maskedAccuracy(logits, held.targets, held.mask);
        logits.dispose();
        return a;
      },
    },
    earlyStop: { metricAtLeast: 0.99 },
  });
  const seconds = (performance.now() - t0) / 1000, c = process.cpuUsage(c0);
  model.dispose();
  return { ...result, seconds, cpuSeconds: (c.user + c.system) / 1e6, accuracy: result.metrics.at(-1)!.value };
}

if (import.meta.main) {
  const args = parseArgs({ args: Deno.args, options: { quick: { type: "boolean" }, json: { type: "boolean" } } });
  const json = args.values.json ?? false;
  const result = await benchModel({
    quick: args.values.quick,
    say: (l = "") => json ? console.error(l) : console.log(l),
  });
  if (json) console.log(JSON.stringify(result, null, 1));
}
