/**
 * `deno task bench`: times the course's attention kernels on this machine, in one run, and prints the
 * figures with their ratios.
 *
 *   deno task bench [--json] [--backend native,tensorflow,wasm,webgpu,cpu] [--quick] [--no-torch] [--rounds N]
 *     [--no-model] [--headline-only]
 *
 * - the headline: exact attention at T = 2048, d = 64 (`flashAttention`, the course's fastest exact kernel) on
 *   every backend and PyTorch's `scaled_dot_product_attention` at 1 thread and at all cores, in N interleaved
 *   rounds (default 4; one sample per route per round), with the minimum and median and the ratio to PyTorch at
 *   the backend's own thread count, and the least CPU time of a run (all threads; for one thread, what the run
 *   takes on a quiet machine) — `--headline-only` stops here;
 * - exact attention, d = 64, fp32, T ∈ {256 … 8192}: ours (`attention`, `flashAttention`) against naive
 *   tfjs (`softmax(matMul(q, k, false, true) / √d) · v`) and against the backend's own matMul rate on the
 *   same two products (Q·Kᵀ and P·V, 4·T²·d FLOPs) — the ceiling for any exact kernel built on matMul;
 *   then every exact kernel's time ÷ PyTorch's at the same T and thread count;
 * - memory-efficient attention at T = 16k and 32k: peak extra memory (tf.profile, tensor bytes above
 *   what existed before the call);
 * - linear attention: time exponent fitted over T ≥ 1024 and the crossover T* against exact attention;
 * - the models (tools/bench_model.ts, kept with lib/model): all-MiniLM-L6-v2's forward pass per T and the tiny
 *   transformer's training steps/s and time to 99% on the copy task, on wasm (skipped with --no-model).
 * Backends (default: native, tensorflow and wasm where they load, plus webgpu on a hardware adapter): wasm and cpu
 * run 1 thread, native `ATTN_THREADS` BLAS threads (default 1), tensorflow libtensorflow's default (all cores).
 * PyTorch: the bench uses a Python that can import torch (.venv, then .cache/torch-venv), and otherwise makes
 * .cache/torch-venv and runs `pip install torch==2.13.0` there (on the course's machines pip takes a CPU wheel
 * from a local folder; elsewhere it downloads from PyPI, where Linux x86-64 gets a CUDA build of several GB).
 * `--json` prints one JSON document with entries {kernel, backend, threads, T, d, ms, gflops, peakBytes} and the
 * headline rounds.
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { type BackendName, describeBackend, initBackend, webgpuAdapter } from "../lib/backend.ts";
import { rng } from "../lib/random.ts";
import { attention } from "../lib/attention/scaled_dot_product.ts";
import { flashAttention } from "../lib/attention/flash.ts";
import { linearAttention } from "../lib/attention/linear.ts";
import { setNativeThreads } from "../lib/native/libraries.ts";
import { crossover, type Entry, exponent, minMedian } from "./bench_stats.ts";
import { benchModel } from "./bench_model.ts";

const D = 64;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CORES = navigator.hardwareConcurrency;
const TORCH_SPEC = "torch==2.13.0";

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
const EXACT = ["naive", "attention", "flash"];

const args = parseArgs({
  args: Deno.args,
  options: {
    json: { type: "boolean", default: false },
    backend: { type: "string" },
    quick: { type: "boolean", default: false },
    "no-torch": { type: "boolean", default: false },
    rounds: { type: "string", default: "4" },
    "no-model": { type: "boolean", default: false },
    "headline-only": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
const USAGE = "usage: deno task bench [--json] [--backend native,tensorflow,wasm,webgpu,cpu] [--quick] [--no-torch] " +
  "[--rounds N] [--no-model] [--headline-only]";
if (args.values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const ROUNDS = Number(args.values.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.error(`bench: --rounds must be a positive integer, got "${args.values.rounds}"\n${USAGE}`);
  Deno.exit(2);
}
const json = args.values.json;
/** Progress and tables: stdout, or stderr under --json so stdout is one JSON document. */
const say = (line = "") => json ? console.error(line) : console.log(line);

const SIZES = args.values.quick ? [256, 512, 1024, 2048] : [256, 512, 1024, 2048, 4096, 8192];
const LONG = args.values.quick ? [] : [16384, 32768];
const SMALL = [16, 32, 64, 128]; // for the linear/exact crossover only
const HEADLINE_T = 2048;

interface Route {
  name: BackendName;
  /** "native-2t" for the native backend, else the name. */
  label: string;
  /** Threads doing the work (the PyTorch peer runs with as many). */
  threads: number;
  line: string;
  /** Run every table (false: the headline and the exact kernels only). */
  full: boolean;
}

/** Where each route's libraries come from (the headline table's second column). */
const INSTALLS: Record<string, string> = {
  wasm: "yes (npm)",
  cpu: "yes (npm)",
  native: "yes: PyPI scipy-openblas32 (26 MB) + a C compiler for softmax/exp",
  tensorflow: "needs g++: PyPI tensorflow-cpu (300 MB) + tfjs-node's addon compiled here",
  webgpu: "yes (npm), needs a GPU",
  torch: "PyPI torch (CPU wheel)",
};

async function routesToRun(): Promise<Route[]> {
  const wanted = args.values.backend?.split(",").map((s) => s.trim());
  for (const name of wanted ?? []) {
    if (!["native", "tensorflow", "wasm", "webgpu", "cpu"].includes(name)) {
      console.error(`bench: --backend takes native, tensorflow, wasm, webgpu or cpu (comma-separated), got "${name}"`);
      Deno.exit(2);
    }
  }
  const routes: Route[] = [];
  // tensorflow before webgpu: a WebGPU adapter request can load Mesa's LLVM, beside which libtensorflow cannot load.
  for (const name of (wanted ?? ["native", "tensorflow", "wasm", "webgpu"]) as BackendName[]) {
    if (name === "webgpu" && !wanted) {
      const adapter = await webgpuAdapter();
      if (!adapter || adapter.fallback) {
        say(
          `webgpu: ${
            adapter ? `only a software adapter (${adapter.description}): figures would measure the CPU` : "no adapter"
          } — skipped (force it with --backend webgpu); no GPU speed is measured on this machine`,
        );
        continue;
      }
    }
    try {
      const info = await initBackend({ backend: name, print: false });
      if (name === "native") {
        // ATTN_THREADS (default 1), and all cores for comparison (only the BLAS uses them).
        const threads = Number(/(\d+) BLAS thread/.exec(info.detail)?.[1] ?? 1);
        routes.push({ name, label: `native-${threads}t`, threads, line: describeBackend(info), full: true });
        if (threads !== CORES) {
          routes.push({
            name,
            label: `native-${CORES}t`,
            threads: CORES,
            line: `(the same with ${CORES} BLAS threads)`,
            full: false,
          });
        }
        continue;
      }
      routes.push({
        name,
        label: name,
        threads: name === "tensorflow" ? CORES : 1,
        line: describeBackend(info),
        full: true,
      });
    } catch (err) {
      if (wanted) throw err;
      say(`${name}: skipped — ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return routes;
}

/**
 * Timings of several runs of `fn` after a warm-up run (one timed run when a run takes over `budget` ms):
 * the minimum and the median. On a shared machine other work only ever adds time, so the fastest run is the
 * least disturbed one; the median shows how much the machine disturbed the rest.
 */
/** Makes the route's backend (and thread count) current. */
async function use(route: Route) {
  // Threads first, so that a fresh backend line names them (the libraries are loaded by then: routesToRun).
  if (route.name === "native") setNativeThreads(route.threads);
  return await initBackend({ backend: route.name, print: false });
}

async function timeRuns(
  fn: () => tf.Tensor[],
  budget = 1500,
  warmup = true,
): Promise<{ min: number; median: number; cpu: number }> {
  const cpu: number[] = [];
  const once = async () => {
    const c0 = process.cpuUsage(), t0 = performance.now();
    const out = fn();
    await Promise.all(out.map((t) => t.data()));
    const ms = performance.now() - t0, c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    tf.dispose(out);
    return ms;
  };
  const first = warmup ? await once() : budget;
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < (first >= budget ? 1 : 3) || (performance.now() - start < budget && samples.length < 15)) {
    samples.push(await once());
  }
  return { ...minMedian(samples), cpu: Math.min(...cpu) };
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

function inputs(kernel: string, T: number): Inputs {
  const r = rng(`bench/${T}`);
  const q = r.tensor([T, D]), k = r.tensor([T, D]), v = r.tensor([T, D]);
  const kT = tf.transpose(k);
  const p = kernel === "matmul" ? tf.softmax(r.tensor([T, T])) : null;
  return { q, k, v, kT, p };
}

async function measure(
  route: Route,
  kernel: string,
  T: number,
  options: { peak?: boolean; warmup?: boolean } = {},
): Promise<Entry & { threads: number; median: number; cpuMs: number }> {
  const x = inputs(kernel, T);
  const spec = KERNELS[kernel];
  const { min: ms, median, cpu: cpuMs } = await timeRuns(() => spec.run(x), 1500, options.warmup ?? true);
  const peakBytes = options.peak === false ? null : await peakExtraBytes(() => spec.run(x));
  tf.dispose([x.q, x.k, x.v, x.kT, ...(x.p ? [x.p] : [])]);
  const entry = {
    kernel,
    backend: route.label,
    threads: route.threads,
    T,
    d: D,
    ms,
    median,
    cpuMs,
    gflops: spec.flops(T) / ms / 1e6,
    peakBytes,
  };
  say(
    `  ${kernel.padEnd(9)} T=${String(T).padStart(5)}  ${fmt(ms, 1).padStart(9)} ms (median ${fmt(median, 1)})  ${
      fmt(entry.gflops, 2).padStart(6)
    } GFLOP/s${peakBytes === null ? "" : `  peak ${mib(peakBytes)} MiB`}`,
  );
  return entry;
}

function fmt(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

// ------------------------------------------------------------------------------------------------ PyTorch

async function runPython(python: string, pyArgs: string[]): Promise<Deno.CommandOutput | null> {
  try {
    return await new Deno.Command(python, { args: pyArgs, stdout: "piped", stderr: "piped", stdin: "null" }).output();
  } catch {
    return null;
  }
}

/** A Python that imports torch: found, or installed into .cache/torch-venv; null (with a note) otherwise. */
async function findTorch(): Promise<string | null> {
  if (args.values["no-torch"]) {
    say("PyTorch: skipped (--no-torch)");
    return null;
  }
  const venv = `${ROOT}.cache/torch-venv`;
  const candidates = [`${ROOT}.venv/bin/python`, `${venv}/bin/python`];
  for (const python of candidates) {
    if ((await runPython(python, ["-c", "import torch"]))?.success) return python;
  }
  say(`PyTorch: not found; installing ${TORCH_SPEC} into .cache/torch-venv for the peer line (once) …`);
  const made = await runPython(`${ROOT}.venv/bin/python`, ["-m", "venv", venv]);
  const pip = made?.success
    ? await runPython(`${venv}/bin/python`, [
      "-m",
      "pip",
      "install",
      "--disable-pip-version-check",
      "--no-input",
      "--quiet",
      TORCH_SPEC,
      "numpy",
    ])
    : null;
  if (!pip?.success) {
    const why = new TextDecoder().decode(pip?.stderr ?? made?.stderr ?? new Uint8Array()).trim().split("\n").at(-1);
    say(`PyTorch: skipped — could not install ${TORCH_SPEC} (${why || "run `deno task setup` first"})`);
    return null;
  }
  return `${venv}/bin/python`;
}

async function torchRun(
  python: string,
  Ts: number[],
  threads: number,
): Promise<
  { torch: string; threads: number; entries: { T: number; ms: number; median: number; cpuMs: number }[] } | null
> {
  const out = await runPython(python, [
    `${ROOT}tools/bench_torch.py`,
    "--T",
    Ts.join(","),
    "--d",
    String(D),
    "--threads",
    String(threads),
  ]);
  if (!out?.success) {
    say(`PyTorch: failed — ${new TextDecoder().decode(out?.stderr ?? new Uint8Array()).trim().split("\n").at(-1)}`);
    return null;
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

// ---------------------------------------------------------------------------------------------------------------

const entries: (Entry & { threads?: number; median?: number; cpuMs?: number })[] = [];
const summary: Record<string, unknown> = {};
const started = performance.now();
say(`bench: d=${D}, fp32, T ∈ {${SIZES.join(", ")}}${LONG.length ? ` + long ${LONG.join(", ")}` : ""}`);
say(
  `machine: ${CORES} cores, load average ${
    Deno.loadavg().map((x) => x.toFixed(2)).join(" ")
  } (shared: timings are noisy)`,
);

const routes = await routesToRun();
for (const route of routes) say(route.line);
const python = await findTorch();
const torchThreads = [...new Set([1, CORES, ...routes.map((r) => r.threads)])].sort((a, b) => a - b);

// The headline, interleaved: round after round, one sample of every route.
const headline: Record<string, number[]> = {};
const headlineCpu: Record<string, number[]> = {};
say(`\nExact attention at T=${HEADLINE_T}, d=${D} (flashAttention; PyTorch SDPA), ${ROUNDS} interleaved rounds`);
for (let round = 0; round < ROUNDS; round++) {
  for (const route of routes) {
    await use(route);
    const x = inputs("flash", HEADLINE_T);
    const { min, cpu } = await timeRuns(() => KERNELS.flash.run(x), 600);
    tf.dispose([x.q, x.k, x.v, x.kT]);
    (headline[`${route.label}|${route.threads}`] ??= []).push(min);
    (headlineCpu[`${route.label}|${route.threads}`] ??= []).push(cpu);
  }
  for (const threads of python ? torchThreads : []) {
    const run = await torchRun(python!, [HEADLINE_T], threads);
    if (run) {
      (headline[`torch|${threads}`] ??= []).push(run.entries[0].ms);
      (headlineCpu[`torch|${threads}`] ??= []).push(run.entries[0].cpuMs);
    }
  }
  say(
    `  round ${round + 1}/${ROUNDS}: ${
      Object.entries(headline).map(([k, v]) => `${k} ${fmt(v.at(-1)!, 1)}`).join(", ")
    }`,
  );
}
const headRows = Object.entries(headline).map(([key, samples]) => {
  const [name, threads] = key.split("|");
  return { name, threads: Number(threads), ...minMedian(samples), cpuMin: Math.min(...headlineCpu[key]), samples };
});
say(
  `\n  ${"route".padEnd(12)} threads  ${"ms min / median".padEnd(17)} ${"÷ torch, same threads".padEnd(22)} ${
    "CPU ms".padEnd(7)
  } ${"CPU ÷ torch".padEnd(11)} installs`,
);
for (const row of headRows) {
  const peer = headRows.find((r) => r.name === "torch" && r.threads === row.threads);
  const mine = row.name !== "torch";
  const ratio = peer && mine
    ? `${fmt(row.min / peer.min, 2)} / ${fmt(row.median / peer.median, 2)}`
    : mine
    ? "no torch"
    : "—";
  const cpuRatio = peer && mine ? fmt(row.cpuMin / peer.cpuMin, 2) : "—";
  say(
    `  ${row.name.padEnd(12)} ${String(row.threads).padStart(7)}  ${
      `${fmt(row.min, 1)} / ${fmt(row.median, 1)}`.padEnd(17)
    } ${ratio.padEnd(22)} ${fmt(row.cpuMin, 1).padEnd(7)} ${cpuRatio.padEnd(11)} ${
      INSTALLS[row.name.replace(/-\d+t$/, "")]
    }`,
  );
  if (peer && mine) {
    summary[`${row.name}.flash@${HEADLINE_T}.torchRatio.min`] = row.min / peer.min;
    summary[`${row.name}.flash@${HEADLINE_T}.torchRatio.median`] = row.median / peer.median;
    summary[`${row.name}.flash@${HEADLINE_T}.torchRatio.cpu`] = row.cpuMin / peer.cpuMin;
  }
}
say("  (CPU ms: the least CPU time of a run, all threads; for one thread, what the run takes on a quiet machine)");

// The sweeps: every backend, then PyTorch at every thread count in use.
for (const route of args.values["headline-only"] ? [] : routes) {
  const info = await use(route);
  say(`\n${route.full ? describeBackend(info) : `${route.label}: exact kernels with ${route.threads} BLAS threads`}`);
  if (info.detail.startsWith("software adapter")) say("  (software adapter: figures test the code path, not speed)");
  const name = route.label;
  if (!route.full) {
    for (const T of SIZES) for (const kernel of ["matmul", ...EXACT]) entries.push(await measure(route, kernel, T));
    continue;
  }
  const own: Entry[] = [];
  const a = rng("bench/square").tensor([1024, 1024]), b = rng("bench/square2").tensor([1024, 1024]);
  const square = await timeRuns(() => [tf.matMul(a, b)]);
  tf.dispose([a, b]);
  say(`  matMul 1024³: ${fmt(square.min, 1)} ms = ${fmt(2 * 1024 ** 3 / square.min / 1e6, 2)} GFLOP/s`);
  summary[`${name}.matmul1024.gflops`] = 2 * 1024 ** 3 / square.min / 1e6;
  for (const T of SIZES) {
    for (const kernel of ["matmul", ...EXACT, "linear"]) own.push(await measure(route, kernel, T));
  }
  for (const T of LONG) {
    own.push(await measure(route, "flash", T, { warmup: false }));
    own.push(await measure(route, "linear", T));
  }
  const small: Entry[] = [];
  for (const T of SMALL) {
    for (const kernel of ["flash", "linear"]) small.push(await measure(route, kernel, T, { peak: false }));
  }
  entries.push(...own, ...small);

  const at = (kernel: string, T: number) => own.find((e) => e.kernel === kernel && e.T === T);
  say(`\n  ${name}: GFLOP/s as a share of the matMul ceiling (same two products), by T`);
  say(`  ${"kernel".padEnd(10)}${SIZES.map((T) => String(T).padStart(8)).join("")}`);
  for (const kernel of EXACT) {
    say(
      `  ${kernel.padEnd(10)}${
        SIZES.map((T) => `${(100 * at(kernel, T)!.gflops / at("matmul", T)!.gflops).toFixed(0)}%`.padStart(8)).join("")
      }`,
    );
  }
  const T0 = SIZES.includes(2048) ? 2048 : SIZES.at(-1)!;
  const share = at("flash", T0)!.gflops / at("matmul", T0)!.gflops;
  for (const kernel of EXACT) {
    summary[`${name}.${kernel}.shareOfMatmul@${T0}`] = at(kernel, T0)!.gflops / at("matmul", T0)!.gflops;
  }
  say(
    `  flash at T=${T0}: ${(100 * share).toFixed(0)}% of the matMul ceiling; ${
      (at("naive", T0)!.ms / at("flash", T0)!.ms).toFixed(1)
    }× faster than naive`,
  );
  const flashRate = own.filter((e) => e.kernel === "flash" && e.T >= 4096);
  say(`  flash GFLOP/s by T: ${flashRate.map((e) => `${e.T}: ${fmt(e.gflops, 1)}`).join(", ")}`);
  for (const T of LONG) {
    const e = at("flash", T)!;
    summary[`${name}.flash.peakBytes@${T}`] = e.peakBytes;
    summary[`${name}.flash.gflops@${T}`] = e.gflops;
    say(
      `  flash at T=${T}: peak extra ${mib(e.peakBytes!)} MiB (the T×T weights alone: ${mib(4 * T * T)} MiB), ${
        fmt(e.ms / 1000, 2)
      } s`,
    );
  }
  const linear = own.filter((e) => e.kernel === "linear" && e.T >= 1024) as (Entry & { cpuMs: number })[];
  const slope = exponent(linear), cpuSlope = exponent(linear.map((e) => ({ T: e.T, ms: e.cpuMs })));
  summary[`${name}.linear.exponent`] = slope;
  summary[`${name}.linear.exponentCpu`] = cpuSlope;
  // Sizes are timed minutes apart: on a shared machine the load drifts between them and bends a wall-time fit
  // (T^1.24 was measured that way); CPU time is what the kernel itself spends.
  say(
    `  linear: wall time ∝ T^${slope.toFixed(2)}, CPU time ∝ T^${cpuSlope.toFixed(2)} over T ∈ {${
      linear.map((e) => e.T).join(", ")
    }} (goal ≤ 1.1)`,
  );
  const cross = crossover(
    [...small, ...own].filter((e) => e.kernel === "linear"),
    [...small, ...own].filter((e) => e.kernel === "flash"),
  );
  summary[`${name}.linear.crossoverT`] = cross.T;
  say(`  linear vs exact (flash) crossover: T* ≈ ${cross.T ?? "—"} (${cross.note})`);
}

for (const threads of python && !args.values["headline-only"] ? torchThreads : []) {
  const run = await torchRun(python!, SIZES, threads);
  if (!run) continue;
  const label = `torch-cpu-${run.threads}t`;
  say(`\nPyTorch ${run.torch} CPU, ${run.threads} thread(s): scaled_dot_product_attention`);
  for (const e of run.entries) {
    const gflops = 4 * e.T * e.T * D / e.ms / 1e6;
    entries.push({
      kernel: "torch-sdpa",
      backend: label,
      threads: run.threads,
      T: e.T,
      d: D,
      ms: e.ms,
      median: e.median,
      cpuMs: e.cpuMs,
      gflops,
      peakBytes: null,
    });
    say(
      `  T=${String(e.T).padStart(5)}  ${fmt(e.ms, 1).padStart(9)} ms (median ${fmt(e.median, 1)})  ${
        fmt(gflops, 2)
      } GFLOP/s`,
    );
  }
}

// Every exact kernel ÷ PyTorch at the same thread count, by T (minimum times).
for (const route of routes) {
  const peer = (T: number) =>
    entries.find((e) => e.kernel === "torch-sdpa" && e.threads === route.threads && e.T === T);
  if (!peer(SIZES[0])) continue;
  say(
    `\n  ${route.label} (${route.threads} thread${route.threads === 1 ? "" : "s"}) ÷ PyTorch SDPA, same threads, by T`,
  );
  say(`  ${"kernel".padEnd(10)}${SIZES.map((T) => String(T).padStart(8)).join("")}`);
  for (const kernel of EXACT) {
    const cells = SIZES.map((T) => {
      const ours = entries.find((e) => e.kernel === kernel && e.backend === route.label && e.T === T);
      const p = peer(T);
      return ours && p ? `${(ours.ms / p.ms).toFixed(2)}×` : "—";
    });
    say(`  ${kernel.padEnd(10)}${cells.map((c) => c.padStart(8)).join("")}`);
    SIZES.forEach((T, i) => summary[`${route.label}.${kernel}.torchRatio@${T}`] = Number.parseFloat(cells[i]) || null);
  }
}

if (!args.values["no-model"] && !args.values["headline-only"]) {
  const model = await benchModel({ quick: args.values.quick, say });
  entries.push(...model.entries);
  Object.assign(summary, model.summary);
}

summary.seconds = (performance.now() - started) / 1000;
say(`\nbench finished in ${fmt(summary.seconds as number, 0)} s`);
if (json) {
  console.log(JSON.stringify(
    {
      d: D,
      dtype: "float32",
      cores: CORES,
      loadavg: Deno.loadavg(),
      routes: routes.map(({ name, label, threads, line }) => ({ name, label, threads, line })),
      headline: { T: HEADLINE_T, kernel: "flash", rounds: ROUNDS, rows: headRows },
      summary,
      entries,
    },
    null,
    1,
  ));
}
