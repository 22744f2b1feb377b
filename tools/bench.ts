/**
 * `deno task bench`: times the course's attention kernels on this machine, in one run, and prints the
 * figures with their ratios.
 *
 *   deno task bench [--json] [--backend wasm,webgpu] [--quick] [--no-torch]
 *
 * - exact attention, d = 64, fp32, T ∈ {256 … 8192}: ours (`attention`, `flashAttention`) against naive
 *   tfjs (`softmax(matMul(q, k, false, true) / √d) · v`) and against the backend's own matMul rate on the
 *   same two products (Q·Kᵀ and P·V, 4·T²·d FLOPs) — the ceiling for any exact kernel built on matMul;
 * - PyTorch CPU `scaled_dot_product_attention` on the same sizes (tools/bench_torch.py, run with the
 *   course's .venv Python; skipped with a note where torch is not installed);
 * - memory-efficient attention at T = 16k and 32k: peak extra memory (tf.profile, tensor bytes above
 *   what existed before the call);
 * - linear attention: time exponent fitted over T ≥ 1024 and the crossover T* against exact attention.
 * Every backend given by --backend (default: wasm, plus webgpu when a hardware adapter exists) gets the
 * same table. `--json` prints one JSON document with entries {kernel, backend, T, d, ms, gflops, peakBytes}.
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { type BackendName, describeBackend, initBackend, webgpuAdapter } from "../lib/backend.ts";
import { rng } from "../lib/random.ts";
import { attention } from "../lib/attention/scaled_dot_product.ts";
import { flashAttention } from "../lib/attention/flash.ts";
import { linearAttention } from "../lib/attention/linear.ts";
import { crossover, type Entry, exponent } from "./bench_stats.ts";

const D = 64;
const ROOT = fileURLToPath(new URL("..", import.meta.url));

type Inputs = { q: tf.Tensor; k: tf.Tensor; v: tf.Tensor; kT: tf.Tensor; p: tf.Tensor | null };

/** The kernels timed, with the FLOPs each one does (a multiply–add = 2). */
const KERNELS: Record<string, { flops: (T: number) => number; run: (x: Inputs) => tf.Tensor[] }> = {
  // The two products every exact kernel needs, with Kᵀ and P made beforehand: the backend's matMul ceiling.
  matmul: { flops: (T) => 4 * T * T * D, run: ({ q, kT, p, v }) => [tf.matMul(q, kT), tf.matMul(p!, v)] },
  naive: {
    flops: (T) => 4 * T * T * D,
    run: ({ q, k, v }) => tf.tidy(() => [tf.matMul(tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(D))), v)]),
  },
  attention: {
    flops: (T) => 4 * T * T * D,
    run: ({ q, k, v }) => {
      const { output, weights } = attention(q, k, v);
      return [output, weights];
    },
  },
  flash: { flops: (T) => 4 * T * T * D, run: ({ q, k, v }) => [flashAttention(q, k, v)] },
  // φ(K)ᵀV and φ(Q)·(φ(K)ᵀV): 2·T·D·D each (M = D features for elu+1).
  linear: { flops: (T) => 4 * T * D * D, run: ({ q, k, v }) => [linearAttention(q, k, v)] },
};

const args = parseArgs({
  args: Deno.args,
  options: {
    json: { type: "boolean", default: false },
    backend: { type: "string" },
    quick: { type: "boolean", default: false },
    "no-torch": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
if (args.values.help) {
  console.log("usage: deno task bench [--json] [--backend wasm,webgpu,cpu] [--quick] [--no-torch]");
  Deno.exit(0);
}
const json = args.values.json;
/** Progress and tables: stdout, or stderr under --json so stdout is one JSON document. */
const say = (line = "") => json ? console.error(line) : console.log(line);

const SIZES = args.values.quick ? [256, 512, 1024, 2048] : [256, 512, 1024, 2048, 4096, 8192];
const LONG = args.values.quick ? [] : [16384, 32768];
const SMALL = [16, 32, 64, 128]; // for the linear/exact crossover only

async function backendsToRun(): Promise<{ name: BackendName; note: string }[]> {
  if (args.values.backend) {
    return args.values.backend.split(",").map((name) => {
      if (!["wasm", "webgpu", "cpu", "tensorflow"].includes(name)) {
        console.error(`bench: --backend takes wasm, webgpu, cpu or tensorflow (comma-separated), got "${name}"`);
        Deno.exit(2);
      }
      return { name: name as BackendName, note: "" };
    });
  }
  const list: { name: BackendName; note: string }[] = [{ name: "wasm", note: "" }];
  const adapter = await webgpuAdapter();
  if (adapter && !adapter.fallback) list.push({ name: "webgpu", note: "" });
  else {
    say(
      `webgpu: ${
        adapter ? `only a software adapter (${adapter.description}): figures would measure the CPU` : "no adapter"
      } — skipped (force it with --backend webgpu)`,
    );
  }
  return list;
}

/**
 * The fastest of several runs of `fn` after a warm-up run (one timed run when a run takes over `budget` ms).
 * The minimum, not the median: on a shared machine other work only ever adds time, so the fastest run is the
 * least disturbed one. Runs still differ: flash at T = 2048 took 50–65 ms in two bench runs on one machine.
 */
async function bestMs(fn: () => tf.Tensor[], budget = 1500, warmup = true): Promise<number> {
  const once = async () => {
    const t0 = performance.now();
    const out = fn();
    await Promise.all(out.map((t) => t.data()));
    const ms = performance.now() - t0;
    tf.dispose(out);
    return ms;
  };
  const first = warmup ? await once() : budget;
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < (first >= budget ? 1 : 3) || (performance.now() - start < budget && samples.length < 15)) {
    samples.push(await once());
  }
  return Math.min(...samples);
}

/** Tensor bytes at the peak of one call, above what existed before it. */
async function peakExtraBytes(fn: () => tf.Tensor[]): Promise<number> {
  const before = tf.memory().numBytes;
  let out: tf.Tensor[] = [];
  const info = await tf.profile(() => {
    out = fn();
    return out;
  });
  await Promise.all(out.map((t) => t.data()));
  tf.dispose(out);
  return info.peakBytes - before;
}

async function measure(
  backend: string,
  kernel: string,
  T: number,
  options: { peak?: boolean; warmup?: boolean } = {},
): Promise<Entry> {
  const r = rng(`bench/${T}`);
  const q = r.tensor([T, D]), k = r.tensor([T, D]), v = r.tensor([T, D]);
  const kT = tf.transpose(k);
  const p = kernel === "matmul" ? tf.softmax(r.tensor([T, T])) : null;
  const inputs = { q, k, v, kT, p };
  const spec = KERNELS[kernel];
  const ms = await bestMs(() => spec.run(inputs), 1500, options.warmup ?? true);
  const peakBytes = options.peak === false ? null : await peakExtraBytes(() => spec.run(inputs));
  tf.dispose([q, k, v, kT, ...(p ? [p] : [])]);
  const entry = { kernel, backend, T, d: D, ms, gflops: spec.flops(T) / ms / 1e6, peakBytes };
  say(
    `  ${kernel.padEnd(9)} T=${String(T).padStart(5)}  ${fmt(ms, 1).padStart(9)} ms  ${
      fmt(entry.gflops, 2).padStart(6)
    } GFLOP/s${peakBytes === null ? "" : `  peak ${mib(peakBytes)} MiB`}`,
  );
  return entry;
}

function fmt(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

async function torchPeer(): Promise<{ torch: string; threads: number; entries: { T: number; ms: number }[] }[]> {
  if (args.values["no-torch"]) {
    say("PyTorch: skipped (--no-torch)");
    return [];
  }
  const python = `${ROOT}.venv/bin/python`;
  const results = [];
  for (const threads of [1, 0]) {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(python, {
        args: [`${ROOT}tools/bench_torch.py`, "--T", SIZES.join(","), "--d", String(D), "--threads", String(threads)],
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch {
      say(`PyTorch: skipped — no ${python} (run \`deno task setup\` first)`);
      return [];
    }
    if (out.code === 3) {
      say(
        "PyTorch: skipped — torch is not installed in .venv (add it with `.venv/bin/pip install torch==2.13.0`)",
      );
      return [];
    }
    if (!out.success) {
      say(`PyTorch: failed — ${new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)}`);
      return [];
    }
    results.push(JSON.parse(new TextDecoder().decode(out.stdout)));
  }
  return results;
}

// ---------------------------------------------------------------------------------------------------------------

const entries: Entry[] = [];
const summary: Record<string, unknown> = {};
const started = performance.now();
say(`bench: d=${D}, fp32, T ∈ {${SIZES.join(", ")}}${LONG.length ? ` + long ${LONG.join(", ")}` : ""}`);

for (const { name } of await backendsToRun()) {
  const info = await initBackend({ backend: name, print: false });
  say(`\n${describeBackend(info)}`);
  if (info.detail.startsWith("software adapter")) say("  (software adapter: figures test the code path, not speed)");
  const own: Entry[] = [];
  // The backend's matMul rate on a square product, for reference.
  const a = rng("bench/square").tensor([1024, 1024]), b = rng("bench/square2").tensor([1024, 1024]);
  const squareMs = await bestMs(() => [tf.matMul(a, b)]);
  tf.dispose([a, b]);
  say(`  matMul 1024³: ${fmt(squareMs, 1)} ms = ${fmt(2 * 1024 ** 3 / squareMs / 1e6, 2)} GFLOP/s`);
  summary[`${name}.matmul1024.gflops`] = 2 * 1024 ** 3 / squareMs / 1e6;
  for (const T of SIZES) {
    for (const kernel of ["matmul", "naive", "attention", "flash", "linear"]) {
      own.push(await measure(name, kernel, T));
    }
  }
  for (const T of LONG) {
    own.push(await measure(name, "flash", T, { warmup: false }));
    own.push(await measure(name, "linear", T));
  }
  const small: Entry[] = [];
  for (const T of SMALL) {
    for (const kernel of ["flash", "linear"]) small.push(await measure(name, kernel, T, { peak: false }));
  }
  entries.push(...own, ...small);

  // Ratios.
  const at = (kernel: string, T: number) => own.find((e) => e.kernel === kernel && e.T === T);
  say(`\n  ${name}: GFLOP/s as a share of the matMul ceiling (same two products), by T`);
  say(`  ${"kernel".padEnd(10)}${SIZES.map((T) => String(T).padStart(8)).join("")}`);
  for (const kernel of ["naive", "attention", "flash"]) {
    say(
      `  ${kernel.padEnd(10)}${
        SIZES.map((T) => `${(100 * at(kernel, T)!.gflops / at("matmul", T)!.gflops).toFixed(0)}%`.padStart(8)).join("")
      }`,
    );
  }
  const T0 = SIZES.includes(2048) ? 2048 : SIZES.at(-1)!;
  const share = at("flash", T0)!.gflops / at("matmul", T0)!.gflops;
  summary[`${name}.flash.shareOfMatmul@${T0}`] = share;
  summary[`${name}.attention.shareOfMatmul@${T0}`] = at("attention", T0)!.gflops / at("matmul", T0)!.gflops;
  summary[`${name}.naive.shareOfMatmul@${T0}`] = at("naive", T0)!.gflops / at("matmul", T0)!.gflops;
  say(
    `  flash at T=${T0}: ${(100 * share).toFixed(0)}% of the matMul ceiling (goal ≥ 70% on wasm); ${
      (at("naive", T0)!.ms / at("flash", T0)!.ms).toFixed(1)
    }× faster than naive`,
  );
  for (const T of LONG) {
    const e = at("flash", T)!;
    summary[`${name}.flash.peakBytes@${T}`] = e.peakBytes;
    say(
      `  flash at T=${T}: peak extra ${mib(e.peakBytes!)} MiB (the T×T weights alone: ${mib(4 * T * T)} MiB), ${
        fmt(e.ms / 1000, 1)
      } s`,
    );
  }
  const linear = own.filter((e) => e.kernel === "linear" && e.T >= 1024);
  const slope = exponent(linear);
  summary[`${name}.linear.exponent`] = slope;
  say(`  linear: time ∝ T^${slope.toFixed(2)} over T ∈ {${linear.map((e) => e.T).join(", ")}} (goal ≤ 1.1)`);
  const cross = crossover(
    [...small, ...own].filter((e) => e.kernel === "linear"),
    [...small, ...own].filter((e) => e.kernel === "flash"),
  );
  summary[`${name}.linear.crossoverT`] = cross.T;
  say(`  linear vs exact (flash) crossover: T* ≈ ${cross.T ?? "—"} (${cross.note}; goal ≤ 2048)`);
}

const torch = await torchPeer();
for (const run of torch) {
  const label = `torch-cpu-${run.threads}t`;
  say(`\nPyTorch ${run.torch} CPU, ${run.threads} thread(s): scaled_dot_product_attention`);
  for (const e of run.entries) {
    const gflops = 4 * e.T * e.T * D / e.ms / 1e6;
    entries.push({ kernel: "torch-sdpa", backend: label, T: e.T, d: D, ms: e.ms, gflops, peakBytes: null });
    const ours = entries.find((x) => x.kernel === "flash" && x.backend === "wasm" && x.T === e.T);
    say(
      `  T=${String(e.T).padStart(5)}  ${fmt(e.ms, 1).padStart(9)} ms  ${fmt(gflops, 2).padStart(6)} GFLOP/s${
        ours ? `  ours (flash, wasm 1 thread) / torch = ${(ours.ms / e.ms).toFixed(2)}×` : ""
      }`,
    );
  }
}
summary.seconds = (performance.now() - started) / 1000;
say(`\nbench finished in ${fmt(summary.seconds as number, 0)} s`);
if (json) {
  console.log(JSON.stringify({ d: D, dtype: "float32", summary, entries }, null, 1));
}
