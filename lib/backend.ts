/**
 * Gets TensorFlow.js ready on the fastest backend this machine has.
 *
 * Order of preference: `webgpu` on a real (hardware) GPU adapter, then
 * `tensorflow` (the native `@tensorflow/tfjs-node` binding, optional), then
 * `wasm` (SIMD), then `cpu`. The environment variable `ATTN_BACKEND`
 * (`auto`, `webgpu`, `tensorflow`, `wasm` or `cpu`) forces one; a forced
 * backend that is unavailable is an error, never a silent fallback.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import "@tensorflow/tfjs-backend-webgpu";
import { installWasmMatMulFix } from "./_wasm_matmul_fix.ts";
import "./_wasm_fallbacks.ts"; // kernels wasm lacks (tf.einsum …) run through the cpu backend's

/** The backends this course knows, fastest first. */
export const BACKENDS = ["webgpu", "tensorflow", "wasm", "cpu"] as const;
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
  async tensorflow() {
    // A variable specifier keeps bundlers and Deno from resolving this optional
    // package ahead of time; it loads only where it is installed.
    const specifier = "@tensorflow/tfjs-node";
    try {
      await import(specifier);
    } catch {
      return { ok: false, why: "@tensorflow/tfjs-node is not installed (optional)" };
    }
    if (!tf.findBackend("tensorflow")) return { ok: false, why: "@tensorflow/tfjs-node did not register" };
    return { ok: true, detail: "native libtensorflow" };
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
