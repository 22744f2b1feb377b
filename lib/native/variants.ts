/**
 * Which build of lib/native/kernels.c this CPU may run. The set-up (tools/setup_native.ts) compiles the file
 * once per CPU level below that its compiler accepts, never for "this machine" (`-march=native`): an image built
 * on one machine (Binder, JupyterHub, a lab's shared disk) runs on others, and code for a newer CPU than the one
 * running it stops the kernel with SIGILL. It records what it built, with each build's flags and the CPU features
 * they need, in `kernels.json`; at load, lib/native/libraries.ts picks the first build whose features this CPU
 * has (read from /proc/cpuinfo), and otherwise leaves softmax and exp on wasm, saying why.
 *
 * Pure functions (no Deno): tested with made-up cpuinfo texts.
 * @module
 */

/** One build of the kernels: its compiler flags and the CPU features (as /proc/cpuinfo names them) they need. */
export interface KernelVariant {
  name: string;
  flags: string[];
  requires: string[];
}

/** What the set-up built: `kernels.json` beside the libraries. */
export interface KernelsManifest {
  format: 1;
  /** `Deno.build.arch` of the machine that built them. */
  arch: string;
  compiler: string;
  /** In order of preference (fastest first). */
  built: (KernelVariant & { file: string })[];
}

// x86-64 micro-architecture levels (the x86-64 psABI), with the /proc/cpuinfo flag of each feature:
// v2 adds CMPXCHG16B, LAHF/SAHF, POPCNT, SSE3 ("pni"), SSSE3, SSE4.1, SSE4.2;
// v3 adds AVX, AVX2, BMI1, BMI2, F16C, FMA, LZCNT ("abm"), MOVBE, XSAVE;
// v4 adds AVX-512 F, BW, CD, DQ and VL (Skylake-X and later Xeons, Ice Lake and later, AMD Zen 4 and later).
const X86_V2 = ["cx16", "lahf_lm", "popcnt", "pni", "ssse3", "sse4_1", "sse4_2"];
const X86_V3 = [...X86_V2, "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"];
const X86_V4 = [...X86_V3, "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"];

/**
 * The builds the set-up attempts on an architecture, fastest first; the last one runs on every such CPU.
 *
 * @param arch `Deno.build.arch` ("x86_64", "aarch64", …).
 * @returns The builds, each with its compiler flags and the CPU features it needs.
 * @example
 * ```ts
 * import { variantsFor } from "./variants.ts";
 * const names = variantsFor("x86_64").map((v) => v.name).join();
 * if (names !== "x86-64-v4,x86-64-v3,x86-64-v2,x86-64") throw new Error(names);
 * if (variantsFor("aarch64")[0].requires.length) throw new Error("the Arm build needs no feature");
 * ```
 */
export function variantsFor(arch: string): KernelVariant[] {
  if (arch === "x86_64") {
    return [
      // The softmax/exp kernels ran 20% faster as v4 than as v3 on an AVX-512 CPU (AMD EPYC, 128×2048 rows).
      { name: "x86-64-v4", flags: ["-march=x86-64-v4", "-mtune=generic"], requires: X86_V4 },
      { name: "x86-64-v3", flags: ["-march=x86-64-v3", "-mtune=generic"], requires: X86_V3 },
      { name: "x86-64-v2", flags: ["-march=x86-64-v2", "-mtune=generic"], requires: X86_V2 },
      { name: "x86-64", flags: ["-march=x86-64", "-mtune=generic"], requires: [] },
    ];
  }
  // aarch64 and the rest: the compiler's default target, which every CPU of the architecture runs.
  return [{ name: "generic", flags: [], requires: [] }];
}

/**
 * The CPU's feature flags from the text of /proc/cpuinfo (the first `flags` line on x86, `Features` on Arm).
 *
 * @param cpuinfo The text of /proc/cpuinfo.
 * @returns The flags, or null when the text has no such line.
 * @example
 * ```ts
 * import { cpuFlags } from "./variants.ts";
 * const flags = cpuFlags("processor\t: 0\nflags\t\t: fpu sse2 avx2\n");
 * if ([...flags!].join() !== "fpu,sse2,avx2") throw new Error(`${[...flags!]}`);
 * if (cpuFlags("processor\t: 0\n") !== null) throw new Error("no flags line: null");
 * ```
 */
export function cpuFlags(cpuinfo: string): Set<string> | null {
  const line = /^(?:flags|Features)\s*:(.*)$/m.exec(cpuinfo);
  return line ? new Set(line[1].trim().split(/\s+/).filter(Boolean)) : null;
}

/**
 * The build to load: the first in the manifest whose required features this CPU has.
 *
 * @param manifest What the set-up built.
 * @param arch This machine's architecture (`Deno.build.arch`).
 * @param flags This CPU's features ({@linkcode cpuFlags}), or null when they cannot be read (then only a build
 *   that needs none is used).
 * @returns The build, or why none is used.
 * @example
 * ```ts
 * import { chooseVariant, type KernelsManifest, variantsFor } from "./variants.ts";
 * const manifest: KernelsManifest = {
 *   format: 1,
 *   arch: "x86_64",
 *   compiler: "cc",
 *   built: variantsFor("x86_64").map((v) => ({ ...v, file: `libattn_kernels-${v.name}.so` })),
 * };
 * const old = new Set(["sse2", "cx16", "lahf_lm", "popcnt", "pni", "ssse3", "sse4_1", "sse4_2"]); // no AVX
 * const chosen = chooseVariant(manifest, "x86_64", old);
 * if (!("variant" in chosen) || chosen.variant.name !== "x86-64-v2") throw new Error(JSON.stringify(chosen));
 * ```
 */
export function chooseVariant(
  manifest: KernelsManifest,
  arch: string,
  flags: Set<string> | null,
): { variant: KernelsManifest["built"][number] } | { why: string } {
  if (manifest.arch !== arch) {
    return { why: `the compiled kernels are for ${manifest.arch}, this machine is ${arch}: rerun the set-up` };
  }
  for (const variant of manifest.built) {
    if (variant.requires.every((f) => flags?.has(f))) return { variant };
  }
  const last = manifest.built.at(-1);
  if (!last) return { why: "the set-up built no kernels" };
  if (!flags) {
    return { why: `cannot read this CPU's features (/proc/cpuinfo) to check that it runs the ${last.name} build` };
  }
  const missing = last.requires.filter((f) => !flags.has(f));
  return {
    why: `this CPU lacks ${missing.join(", ")}, which the compiled kernels (${
      manifest.built.map((v) => v.name).join(", ")
    }) need: rerun the set-up on this machine`,
  };
}
