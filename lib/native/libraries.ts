/**
 * Finds and loads the native libraries of the `native` backend through Deno FFI (`Deno.dlopen`):
 * - a BLAS with the CBLAS interface, for `cblas_sgemm`: by default OpenBLAS from the PyPI wheel
 *   `scipy-openblas32` that `deno task setup` installs into the course's .venv (its symbols carry the prefix
 *   `scipy_`); `ATTN_BLAS=/path/to/lib` names another (a system OpenBLAS, MKL's `libmkl_rt`, …);
 * - optionally, the course's own softmax/exp kernels (lib/native/kernels.c), which the set-up compiles into
 *   .venv/attention-course/ where a C compiler exists.
 * The thread count is `ATTN_THREADS` (default 1): the machines the course is built on have 2 shared cores, where
 * a second BLAS thread was as often slower as faster (see tools/bench.ts for the figures), and the wasm
 * parts of the backend run on one thread anyway.
 *
 * Lib code runs under Node too (tslab): everything Deno-specific goes through the local `DenoFfi` type and is
 * reached only after a feature check. Private to lib/native/.
 * @module
 */
import { chooseVariant, cpuFlags, type KernelsManifest } from "./variants.ts";

/** What was loaded. */
export interface NativeLibraries {
  /** `C = alpha·op(A)·op(B) + beta·C`, row-major CBLAS argument order. */
  sgemm: Sgemm;
  /** The BLAS: name and version as it reports them, and its path. */
  blas: { description: string; path: string };
  /**
   * The course's compiled kernels and which build of them (lib/native/variants.ts), or null with the reason they
   * are not used.
   */
  kernels: { softmax: Softmax; exp: Exp; path: string; variant?: string } | { softmax: null; exp: null; why: string };
  /** BLAS threads. */
  threads: number;
}

type Buf = ArrayBufferView;
/** cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc). */
export type Sgemm = (
  order: number,
  transA: number,
  transB: number,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Buf,
  lda: number,
  B: Buf,
  ldb: number,
  beta: number,
  C: Buf,
  ldc: number,
) => void;
/** attn_softmax(x, y, rows, cols): softmax over each row. */
export type Softmax = (x: Buf, y: Buf, rows: bigint, cols: bigint) => void;
/** attn_exp(x, y, n). */
export type Exp = (x: Buf, y: Buf, n: bigint) => void;

/** A library that cannot be used: the message says which file and why. */
export class NativeLibraryError extends Error {
  override name = "NativeLibraryError";
}

// The parts of Deno's FFI used here (lib is also compiled for Node without Deno's types).
interface DynamicLibrary {
  symbols: Record<string, ((...args: unknown[]) => unknown) | null>;
  close(): void;
}
interface DenoFfi {
  dlopen(path: string, symbols: Record<string, unknown>): DynamicLibrary;
  build: { os: string; arch: string };
  env: { get(key: string): string | undefined };
  readTextFileSync(path: string): string;
  readDirSync(path: string): Iterable<{ name: string; isDirectory: boolean }>;
  statSync(path: string): unknown;
  UnsafePointerView: { getCString(pointer: unknown): string };
}

const SGEMM_PARAMS = [
  "i32",
  "i32",
  "i32",
  "i32",
  "i32",
  "i32",
  "f32",
  "buffer",
  "i32",
  "buffer",
  "i32",
  "f32",
  "buffer",
  "i32",
];
/** The CBLAS names the BLAS may use: scipy-openblas prefixes every symbol with `scipy_`. */
const BLAS_SYMBOLS = {
  scipy_cblas_sgemm: { parameters: SGEMM_PARAMS, result: "void", optional: true },
  cblas_sgemm: { parameters: SGEMM_PARAMS, result: "void", optional: true },
  scipy_openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  MKL_Set_Num_Threads: { parameters: ["i32"], result: "void", optional: true },
  MKL_Set_Threading_Layer: { parameters: ["i32"], result: "i32", optional: true },
  scipy_openblas_get_config: { parameters: [], result: "pointer", optional: true },
  openblas_get_config: { parameters: [], result: "pointer", optional: true },
  MKL_Get_Version_String: { parameters: ["buffer", "i32"], result: "void", optional: true },
} as const;
const KERNEL_SYMBOLS = {
  attn_softmax: { parameters: ["buffer", "buffer", "i64", "i64"], result: "void" },
  attn_exp: { parameters: ["buffer", "buffer", "i64"], result: "void" },
  attn_kernels_version: { parameters: [], result: "i32" },
} as const;
/** The interface version lib/native/kernels.c reports; a library built from another version is not used. */
const KERNELS_VERSION = 1;

/** The project root (lib/native/ is two levels down). */
const ROOT = new URL("../../", import.meta.url);

function deno(): DenoFfi {
  const d = (globalThis as { Deno?: Partial<DenoFfi> }).Deno;
  if (!d || typeof d.dlopen !== "function") {
    throw new NativeLibraryError("needs Deno's FFI (Deno.dlopen); this runtime has none");
  }
  return d as DenoFfi;
}

function env(d: DenoFfi, key: string): string | undefined {
  try {
    return d.env.get(key);
  } catch {
    return undefined; // no --allow-env: as if unset
  }
}

/** The thread count from `ATTN_THREADS`, default 1. */
export function threadCount(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new RangeError(
      `Cannot load the native backend: ATTN_THREADS must be an integer from 1 to 256, got "${value}"`,
    );
  }
  return n;
}

/** File names of a shared library on this OS. */
function sharedName(d: DenoFfi, base: string): string {
  return d.build.os === "windows" ? `${base}.dll` : d.build.os === "darwin" ? `${base}.dylib` : `${base}.so`;
}

function exists(d: DenoFfi, path: string): boolean {
  try {
    d.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function fromUrl(url: URL): string {
  const path = decodeURIComponent(url.pathname);
  return /^\/[A-Za-z]:\//.test(path) ? path.slice(1) : path; // file:///C:/… on Windows
}

/** The site-packages folders of the course's .venv (lib/pythonX.Y/site-packages, or Lib/site-packages). */
function sitePackages(d: DenoFfi): string[] {
  const venv = fromUrl(new URL(".venv/", ROOT));
  if (d.build.os === "windows") return [`${venv}Lib/site-packages`];
  const found: string[] = [];
  try {
    for (const entry of d.readDirSync(`${venv}lib`)) {
      if (entry.isDirectory && entry.name.startsWith("python")) found.push(`${venv}lib/${entry.name}/site-packages`);
    }
  } catch {
    // no .venv: nothing found
  }
  return found.sort();
}

/** Where the BLAS is looked for, in order: `ATTN_BLAS`, then scipy-openblas32 in .venv. */
export function blasCandidates(): string[] {
  const d = deno();
  const forced = env(d, "ATTN_BLAS");
  if (forced) return [forced];
  return sitePackages(d).map((sp) => `${sp}/scipy_openblas32/lib/${sharedName(d, "libscipy_openblas")}`);
}

/** The folder where `deno task setup` puts the builds of lib/native/kernels.c and their kernels.json. */
export function kernelsDir(): string {
  return fromUrl(new URL(".venv/attention-course/", ROOT));
}

/**
 * The build of the compiled kernels that this CPU runs (lib/native/variants.ts): the first one in kernels.json
 * whose CPU features /proc/cpuinfo lists, or why none is used.
 */
export function findKernels(): { path: string; variant: string } | { why: string } {
  const d = deno();
  const dir = kernelsDir();
  let manifest: KernelsManifest;
  try {
    manifest = JSON.parse(d.readTextFileSync(`${dir}kernels.json`));
  } catch {
    return {
      why: exists(d, `${dir}${sharedName(d, "libattn_kernels")}`)
        ? "the compiled kernels come from an older set-up, built for the CPU it ran on: rerun the set-up"
        : "no compiled kernels (the set-up needs a C compiler)",
    };
  }
  let flags: Set<string> | null = null;
  try {
    flags = cpuFlags(d.readTextFileSync("/proc/cpuinfo"));
  } catch {
    // not Linux, or no permission: only a build that needs no particular feature is used
  }
  const chosen = chooseVariant(manifest, d.build.arch, flags);
  return "why" in chosen ? chosen : { path: `${dir}${chosen.variant.file}`, variant: chosen.variant.name };
}

function open(d: DenoFfi, path: string, symbols: Record<string, unknown>): DynamicLibrary {
  try {
    return d.dlopen(path, symbols);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    if (/requires ffi access|NotCapable|PermissionDenied/i.test(`${text} ${(err as Error)?.name}`)) {
      throw new NativeLibraryError("needs --allow-ffi (the grading sandbox and other restricted runs have none)");
    }
    throw new NativeLibraryError(`could not load ${path}: ${text.split("\n")[0]}`);
  }
}

let loaded: NativeLibraries | undefined;
let setThreads: ((n: number) => void) | undefined;

/**
 * Changes the BLAS thread count of the loaded libraries (the bench compares 1 thread and all cores in one run).
 * MKL keeps the threading layer chosen at load: start with `ATTN_THREADS` > 1 to let it use more threads.
 *
 * @param n Threads, 1 … 256.
 * @throws {RangeError} For another count, or before the libraries are loaded.
 */
export function setNativeThreads(n: number): void {
  threadCount(String(n));
  if (!loaded || !setThreads) {
    throw new RangeError("Cannot set the native backend's threads: its libraries are not loaded yet");
  }
  setThreads(n);
  loaded.threads = n;
}

/**
 * Loads the BLAS and the course's kernels once; later calls return the same libraries.
 *
 * @returns The functions and what they are.
 * @throws {NativeLibraryError} When no usable BLAS is found: the message names the file and the reason.
 * @throws {RangeError} When `ATTN_THREADS` is not a thread count.
 */
export function loadNativeLibraries(): NativeLibraries {
  if (loaded) return loaded;
  const d = deno();
  const threads = threadCount(env(d, "ATTN_THREADS"));
  const candidates = blasCandidates();
  const path = candidates.find((p) => exists(d, p));
  if (!path) {
    throw new NativeLibraryError(
      env(d, "ATTN_BLAS")
        ? `ATTN_BLAS names ${candidates[0]}, which does not exist`
        : "no BLAS in .venv (scipy-openblas32; `deno task setup` installs it)",
    );
  }
  const blas = openBlas(path, threads);
  setThreads = blas.setThreads;
  loaded = {
    sgemm: blas.sgemm,
    blas: { description: blas.description, path },
    kernels: (() => {
      const found = findKernels();
      return "why" in found
        ? { softmax: null, exp: null, why: found.why }
        : { ...openKernels(found.path), ...(found.variant ? { variant: found.variant } : {}) };
    })(),
    threads,
  };
  return loaded;
}

/**
 * Opens a CBLAS library, sets its thread count and checks one small product.
 *
 * @param path The shared library.
 * @param threads BLAS threads.
 * @returns Its sgemm and a description ("OpenBLAS 0.3.30/Haswell").
 * @throws {NativeLibraryError} When the file cannot be loaded, has no sgemm, or computes a wrong product.
 */
export function openBlas(
  path: string,
  threads: number,
): { sgemm: Sgemm; description: string; setThreads: (n: number) => void } {
  const d = deno();
  const lib = open(d, path, BLAS_SYMBOLS);
  const s = lib.symbols;
  const sgemm = (s.scipy_cblas_sgemm ?? s.cblas_sgemm) as Sgemm | null;
  if (!sgemm) {
    lib.close();
    throw new NativeLibraryError(`${path} has neither cblas_sgemm nor scipy_cblas_sgemm: is it a CBLAS library?`);
  }
  // MKL's default threading layer needs Intel's OpenMP runtime (another wheel): pick the sequential or GNU layer.
  s.MKL_Set_Threading_Layer?.(threads === 1 ? 1 : 3);
  const set = s.scipy_openblas_set_num_threads ?? s.openblas_set_num_threads ?? s.MKL_Set_Num_Threads;
  set?.(threads);
  checkSgemm(sgemm, path);
  return { sgemm, description: blasDescription(d, lib, path), setThreads: (n) => set?.(n) };
}

/**
 * Opens the compiled lib/native/kernels.c, or says why not.
 *
 * @param path The shared library.
 * @returns Its functions, or null ones with the reason.
 */
export function openKernels(path: string): NativeLibraries["kernels"] {
  const d = deno();
  if (!exists(d, path)) return { softmax: null, exp: null, why: "no compiled kernels (the set-up needs a C compiler)" };
  try {
    const k = open(d, path, KERNEL_SYMBOLS).symbols;
    const version = (k.attn_kernels_version as () => number)();
    return version === KERNELS_VERSION
      ? { softmax: k.attn_softmax as Softmax, exp: k.attn_exp as Exp, path }
      : { softmax: null, exp: null, why: `${path} is version ${version}, not ${KERNELS_VERSION}: rerun the set-up` };
  } catch (err) {
    return { softmax: null, exp: null, why: err instanceof Error ? err.message : String(err) };
  }
}

function blasDescription(d: DenoFfi, lib: DynamicLibrary, path: string): string {
  const s = lib.symbols;
  const config = s.scipy_openblas_get_config ?? s.openblas_get_config;
  if (config) {
    // "OpenBLAS 0.3.30.dev DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64" → "OpenBLAS 0.3.30.dev (Haswell)"
    const words = d.UnsafePointerView.getCString(config()).split(" ");
    const core = words.find((w, i) => i > 1 && /^[A-Z][A-Za-z0-9]+$/.test(w) && !/^[A-Z_]+$/.test(w));
    return `${words[0]} ${words[1]}${core ? `/${core}` : ""}`;
  }
  if (s.MKL_Get_Version_String) {
    const buf = new Uint8Array(256);
    s.MKL_Get_Version_String(buf, buf.length);
    const text = new TextDecoder().decode(buf.subarray(0, buf.indexOf(0)));
    return /^(.*?Version [\d.]+)/.exec(text)?.[1] ?? "MKL";
  }
  return path.split(/[\\/]/).at(-1)!;
}

/** A 2×2 product the BLAS must get right before the backend uses it. */
function checkSgemm(sgemm: Sgemm, path: string): void {
  const a = new Float32Array([1, 2, 3, 4]), b = new Float32Array([5, 6, 7, 8]), c = new Float32Array(4);
  sgemm(101, 111, 112, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2); // A·Bᵀ = [[17, 23], [39, 53]]
  if (c.join() !== "17,23,39,53") {
    throw new NativeLibraryError(`${path} computed a wrong 2×2 product (${c.join()}): not using it`);
  }
}
