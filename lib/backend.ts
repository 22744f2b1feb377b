/**
 * Gets TensorFlow.js ready on the fastest backend this machine has.
 *
 * Order of preference: `webgpu` on a real (hardware) GPU adapter, then
 * `native` (the wasm backend with its matrix products in a BLAS and softmax/exp
 * in compiled C, through Deno FFI: lib/native/), then `tensorflow` (the
 * `@tensorflow/tfjs-node` binding to libtensorflow, optional), then `wasm`
 * (SIMD), then `cpu`. The environment variable `ATTN_BACKEND` (`auto`,
 * `webgpu`, `native`, `tensorflow`, `wasm` or `cpu`) forces one, so
 * `ATTN_BACKEND=wasm` refuses the native paths; a forced backend that is
 * unavailable is an error, never a silent fallback. The line printed says
 * why each faster backend was skipped.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import "@tensorflow/tfjs-backend-webgpu";
import { installWasmMatMulFix } from "./_wasm_matmul_fix.ts";
import "./_wasm_fallbacks.ts"; // kernels wasm lacks (tf.einsum …) run through the cpu backend's
import "./_gradient_fixes.ts"; // corrected Cumsum/BatchMatMul gradients, zero gradients for comparisons

/** The backends this course knows, fastest first. */
export const BACKENDS = ["webgpu", "native", "tensorflow", "wasm", "cpu"] as const;
/** A backend name. */
export type BackendName = typeof BACKENDS[number];

/** What {@linkcode initBackend} chose and why. */
export interface BackendInfo {
  /** The active TensorFlow.js backend. */
  name: BackendName;
  /** Details of the backend, e.g. the GPU adapter or "SIMD, 1 thread". */
  detail: string;
  /** Whether `ATTN_BACKEND` (or the `backend` option) forced the choice. */
  forced: boolean;
  /** Why each faster backend was passed over (empty when forced). */
  skipped: string[];
  /** The TensorFlow.js version. */
  tfVersion: string;
}

/** Options for {@linkcode initBackend}. */
export interface InitOptions {
  /** Force a backend; default: the `ATTN_BACKEND` environment variable, else `"auto"`. */
  backend?: BackendName | "auto";
  /** Print the one-line summary (default true). */
  print?: boolean;
}

type Probe = { ok: true; detail: string } | { ok: false; why: string };

let current: BackendInfo | undefined;

/**
 * Picks and initialises a TensorFlow.js backend, and prints one line naming it.
 * Calling it again returns the same choice without re-initialising.
 *
 * @param options Force a backend, or silence the summary line.
 * @returns What was chosen and why.
 * @throws {RangeError} If the forced backend name is unknown or that backend is unavailable.
 * @example
 * ```ts
 * import { initBackend } from "./backend.ts";
 * const info = await initBackend({ backend: "cpu", print: false });
 * if (info.name !== "cpu") throw new Error("expected cpu");
 * ```
 */
export async function initBackend(options: InitOptions = {}): Promise<BackendInfo> {
  const requested = options.backend ?? readEnv("ATTN_BACKEND") ?? "auto";
  const wanted = requested.trim().toLowerCase();
  if (wanted !== "auto" && !(BACKENDS as readonly string[]).includes(wanted)) {
    throw new RangeError(
      `Cannot initialise TensorFlow.js: ATTN_BACKEND must be one of auto, ${BACKENDS.join(", ")}, got "${requested}"`,
    );
  }
  const forced = wanted !== "auto";
  if (!current || (forced && current.name !== wanted) || (!forced && current.forced)) {
    current = forced ? await useForced(wanted as BackendName) : await useBest();
  }
  if (options.print ?? true) console.log(describeBackend(current));
  return current;
}

/**
 * Whether this runtime has a WebGPU adapter, and which (software adapters included).
 *
 * @returns The adapter's description and whether it is a software fallback, or null.
 */
export async function webgpuAdapter(): Promise<{ description: string; fallback: boolean } | null> {
  const probe = await PROBES.webgpu(true);
  if (!probe.ok) return null;
  const fallback = probe.detail.startsWith("software adapter: ");
  return { description: probe.detail.replace("software adapter: ", ""), fallback };
}

/**
 * The one-line summary that {@linkcode initBackend} prints.
 *
 * @param info What {@linkcode initBackend} returned.
 * @returns A line such as `TensorFlow.js 4.22.0 backend: wasm (SIMD, 1 thread)`.
 */
export function describeBackend(info: BackendInfo): string {
  const how = info.forced
    ? "forced by ATTN_BACKEND"
    : info.skipped.length
    ? `auto; ${info.skipped.join("; ")}`
    : "auto";
  return `TensorFlow.js ${info.tfVersion} backend: ${info.name} (${info.detail}) [${how}]`;
}

async function useForced(name: BackendName): Promise<BackendInfo> {
  const probe = await PROBES[name](true);
  if (!probe.ok) {
    throw new RangeError(`Cannot use the ${name} backend that ATTN_BACKEND asks for: ${probe.why}`);
  }
  await activate(name);
  return { name, detail: probe.detail, forced: true, skipped: [], tfVersion: tf.version_core };
}

async function useBest(): Promise<BackendInfo> {
  const skipped: string[] = [];
  for (const name of BACKENDS) {
    const probe = await PROBES[name](false);
    if (!probe.ok) {
      skipped.push(`no ${name}: ${probe.why}`);
      continue;
    }
    try {
      await activate(name);
    } catch (err) {
      skipped.push(`no ${name}: ${errorText(err)}`);
      continue;
    }
    return { name, detail: probe.detail, forced: false, skipped, tfVersion: tf.version_core };
  }
  // Unreachable: the cpu probe always succeeds.
  throw new Error(`Cannot initialise TensorFlow.js: no backend works (${skipped.join("; ")})`);
}

async function activate(name: BackendName): Promise<void> {
  if (name === "wasm") installWasmMatMulFix();
  if (!(await tf.setBackend(name))) {
    throw new RangeError(`Cannot initialise TensorFlow.js: setBackend("${name}") failed`);
  }
  await tf.ready();
  if (name === "cpu") {
    // The cpu backend prints an advertisement for tfjs-node on first use under
    // Node-like runtimes; the course says which backend it uses itself.
    (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  }
}

const PROBES: Record<BackendName, (forced: boolean) => Promise<Probe>> = {
  async webgpu(forced) {
    const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
    if (!gpu) return { ok: false, why: "this runtime has no navigator.gpu" };
    quietVulkanLoader();
    let adapter: AdapterLike | null = null;
    try {
      adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
    } catch (err) {
      return { ok: false, why: `requestAdapter failed: ${errorText(err)}` };
    }
    if (!adapter) return { ok: false, why: "no WebGPU adapter" };
    const description = adapter.info?.description || adapter.info?.device || "unknown adapter";
    const fallback = adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
    if (fallback && !forced) return { ok: false, why: `only a software adapter (${description})` };
    return { ok: true, detail: fallback ? `software adapter: ${description}` : description };
  },
  async native() {
    if (typeof (globalThis as { Deno?: { dlopen?: unknown } }).Deno?.dlopen !== "function") {
      return { ok: false, why: "needs Deno's FFI (Deno.dlopen)" };
    }
    // A variable specifier: lib/native/ is Deno-only and left out of the Node build of lib.
    const specifier = "./native/backend.ts";
    const native = await import(specifier) as NativeModule;
    try {
      return { ok: true, detail: native.describeNative(native.registerNativeBackend()) };
    } catch (err) {
      if (!(err instanceof RangeError || (err instanceof Error && err.name === "NativeLibraryError"))) throw err;
      return { ok: false, why: err.message };
    }
  },
  async tensorflow() {
    // A variable specifier keeps bundlers and Deno from resolving this optional
    // package ahead of time; it loads only where it is installed.
    const specifier = "@tensorflow/tfjs-node";
    if (!tf.findBackendFactory("tensorflow")) {
      const llvm = loadedLlvm();
      if (llvm) {
        return {
          ok: false,
          why:
            `libtensorflow would crash beside ${llvm} (loaded by the WebGPU probe; force tensorflow with ATTN_BACKEND)`,
        };
      }
      // tfjs-node 4.22 calls util.isNullOrUndefined, which Deno's (and newer Node's) node:util no longer has.
      const nodeUtil = "node:util"; // a variable specifier: lib's Node build has no Node types
      const util = (await import(nodeUtil)).default as Record<string, unknown>;
      util.isNullOrUndefined ??= (x: unknown) => x === null || x === undefined;
      setEnvDefault("TF_CPP_MIN_LOG_LEVEL", "2"); // libtensorflow's start-up notes about CPU instructions
      const previous = tf.getBackend();
      try {
        await import(specifier);
      } catch (err) {
        const text = errorText(err);
        return {
          ok: false,
          why: /tfjs_binding\.node|Cannot find module|not found/i.test(text)
            ? "@tensorflow/tfjs-node has no native addon (`deno task setup` builds one where g++ exists)"
            : `@tensorflow/tfjs-node did not load: ${text.split("\n")[0]}`,
        };
      } finally {
        if (previous && tf.getBackend() !== previous) await tf.setBackend(previous); // its import switches backends
      }
    }
    if (!tf.findBackendFactory("tensorflow")) return { ok: false, why: "@tensorflow/tfjs-node did not register" };
    return { ok: true, detail: "libtensorflow through @tensorflow/tfjs-node" };
  },
  async wasm() {
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT").catch(() => false);
    const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT").catch(() => false);
    return { ok: true, detail: `${simd ? "SIMD" : "no SIMD"}, ${threads ? "multi-threaded" : "1 thread"}` };
  },
  cpu() {
    return Promise.resolve({ ok: true, detail: "plain JavaScript" });
  },
};

/** What lib/backend.ts uses of lib/native/backend.ts (typed here: the Node build of lib leaves lib/native/ out). */
interface NativeModule {
  registerNativeBackend(): unknown;
  describeNative(libs: unknown): string;
}

interface AdapterLike {
  info?: { description?: string; device?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

/** Without XDG_RUNTIME_DIR the Vulkan loader prints a harmless error on every adapter request. */
function quietVulkanLoader(): void {
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  if (!deno || deno.build.os !== "linux" || readEnv("XDG_RUNTIME_DIR")) return;
  try {
    const dir = `/tmp/attention-course-runtime-${deno.uid() ?? "user"}`;
    deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch {
    // Only a cosmetic warning is at stake.
  }
}

interface DenoLike {
  build: { os: string };
  uid(): number | null;
  mkdirSync(path: string, options: { recursive: boolean; mode: number }): void;
  env: { get(key: string): string | undefined; set(key: string, value: string): void };
}

/**
 * A shared LLVM already in this process (Linux), or null. Mesa's software Vulkan driver (lavapipe), which a WebGPU
 * adapter request loads, links libLLVM; loading libtensorflow (which carries its own LLVM) after it crashes the
 * process (seen with Mesa 22 and tensorflow-cpu 2.21), while the other order works.
 */
function loadedLlvm(): string | null {
  const deno = (globalThis as { Deno?: { build: { os: string }; readTextFileSync(path: string): string } }).Deno;
  if (deno?.build.os !== "linux") return null;
  try {
    return /\s(\/\S*libLLVM[^/\s]*)$/m.exec(deno.readTextFileSync("/proc/self/maps"))?.[1] ?? null;
  } catch {
    return null;
  }
}

function setEnvDefault(key: string, value: string): void {
  const g = globalThis as { Deno?: DenoLike; process?: { env: Record<string, string | undefined> } };
  try {
    if (readEnv(key) !== undefined) return;
    if (g.Deno) g.Deno.env.set(key, value);
    else if (g.process) g.process.env[key] = value;
  } catch {
    // no --allow-env: the notes stay
  }
}

function readEnv(key: string): string | undefined {
  const g = globalThis as { Deno?: DenoLike; process?: { env: Record<string, string | undefined> } };
  try {
    return g.Deno ? g.Deno.env.get(key) : g.process?.env[key];
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
