import { assert, assertEquals } from "../_testing.ts";
import { chooseVariant, cpuFlags, type KernelsManifest, variantsFor } from "./variants.ts";

// /proc/cpuinfo texts of three generations of x86-64 CPUs (flags lines shortened to the features that matter here
// plus a few others), and of an Arm machine.
const HASWELL = `processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) CPU E5-2680 v3
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm bmi1 avx2 smep bmi2 erms invpcid
bogomips\t: 4988.27

processor\t: 1
flags\t\t: fpu sse sse2
`;
const ZEN4 = `processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 9R14
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy abm sse4a misalignsse 3dnowprefetch bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves avx512_bf16 avx512vbmi avx512_vnni
`;
// Some virtual machines hide part of AVX-512 (here VL): the v4 build needs all five.
const PARTIAL_AVX512 = HASWELL.replace("erms invpcid", "erms invpcid avx512f avx512dq avx512cd avx512bw");
const NEHALEM = `processor\t: 0
model name\t: Intel(R) Xeon(R) CPU X5570
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx rdtscp lm constant_tsc pni ssse3 cx16 sse4_1 sse4_2 popcnt lahf_lm
`;
const CORE2 = `processor\t: 0
model name\t: Intel(R) Core(TM)2 Duo CPU E6600
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx lm constant_tsc pni ssse3 cx16 lahf_lm
`;
const ARM = `processor\t: 0
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer\t: 0x41
`;

/** What the set-up records after building every x86-64 level (file names as it writes them). */
function x86Manifest(names = ["x86-64-v4", "x86-64-v3", "x86-64-v2", "x86-64"]): KernelsManifest {
  return {
    format: 1,
    arch: "x86_64",
    compiler: "cc",
    built: variantsFor("x86_64").filter((v) => names.includes(v.name)).map((v) => ({
      ...v,
      file: `libattn_kernels-${v.name}.so`,
    })),
  };
}

const pick = (manifest: KernelsManifest, cpuinfo: string | null, arch = "x86_64") => {
  const r = chooseVariant(manifest, arch, cpuinfo === null ? null : cpuFlags(cpuinfo));
  return "variant" in r ? r.variant.name : `why: ${r.why}`;
};

Deno.test("cpuFlags(): the first flags line (x86) or Features line (Arm); null without one", () => {
  const haswell = cpuFlags(HASWELL)!;
  assert(haswell.has("avx2") && haswell.has("bmi2") && haswell.has("pni") && !haswell.has("avx512f"));
  assertEquals(haswell.has("sse") && haswell.size > 40, true); // not processor 1's short line
  assertEquals(cpuFlags(ARM)!.has("asimd"), true);
  assertEquals(cpuFlags("processor\t: 0\nmodel name\t: something\n"), null);
  assertEquals(cpuFlags(""), null);
});

Deno.test("chooseVariant(): the fastest build the CPU runs; the baseline where cpuinfo is unreadable", () => {
  const all = x86Manifest();
  assertEquals(pick(all, ZEN4), "x86-64-v4");
  assertEquals(pick(all, PARTIAL_AVX512), "x86-64-v3");
  assertEquals(pick(all, HASWELL), "x86-64-v3");
  assertEquals(pick(all, NEHALEM), "x86-64-v2");
  assertEquals(pick(all, CORE2), "x86-64");
  assertEquals(pick(all, null), "x86-64");
  // An Arm machine's generic build.
  const arm: KernelsManifest = {
    format: 1,
    arch: "aarch64",
    compiler: "cc",
    built: variantsFor("aarch64").map((v) => ({ ...v, file: "libattn_kernels-generic.so" })),
  };
  assertEquals(pick(arm, ARM, "aarch64"), "generic");
  assertEquals(pick(arm, null, "aarch64"), "generic");
});

Deno.test("chooseVariant(): no build this CPU runs → softmax and exp stay on wasm, with the reason", () => {
  const fast = x86Manifest(["x86-64-v3", "x86-64-v2"]); // e.g. kernels.json edited, or a future set-up
  assertEquals(pick(fast, HASWELL), "x86-64-v3");
  assertEquals(
    pick(fast, CORE2),
    "why: this CPU lacks popcnt, sse4_1, sse4_2, which the compiled kernels (x86-64-v3, x86-64-v2) need: " +
      "rerun the set-up on this machine",
  );
  assertEquals(
    pick(fast, null),
    "why: cannot read this CPU's features (/proc/cpuinfo) to check that it runs the x86-64-v2 build",
  );
  assertEquals(
    pick(x86Manifest(), ARM, "aarch64"),
    "why: the compiled kernels are for x86_64, this machine is aarch64: rerun the set-up",
  );
  assertEquals(pick(x86Manifest([]), HASWELL), "why: the set-up built no kernels");
});

Deno.test("variantsFor(): levels nest, the last needs nothing, and no build is for 'this machine'", () => {
  for (const arch of ["x86_64", "aarch64"]) {
    const vs = variantsFor(arch);
    assertEquals(vs.at(-1)!.requires, []);
    for (const v of vs) assert(!v.flags.some((f) => f.includes("native")), `${v.name}: ${v.flags}`);
    for (let i = 1; i < vs.length; i++) {
      assert(vs[i].requires.every((f) => vs[i - 1].requires.includes(f)), `${vs[i].name} ⊄ ${vs[i - 1].name}`);
    }
  }
});

// The features each build needs, checked against what the compiler itself says its flags enable (its predefined
// macros), so that a build is never loaded on a CPU that lacks an instruction the compiler may emit.
const MACRO_FLAG: Record<string, string> = {
  __SSE3__: "pni",
  __SSSE3__: "ssse3",
  __SSE4_1__: "sse4_1",
  __SSE4_2__: "sse4_2",
  __POPCNT__: "popcnt",
  __LAHF_SAHF__: "lahf_lm",
  __GCC_HAVE_SYNC_COMPARE_AND_SWAP_16: "cx16",
  __AVX__: "avx",
  __AVX2__: "avx2",
  __BMI__: "bmi1",
  __BMI2__: "bmi2",
  __F16C__: "f16c",
  __FMA__: "fma",
  __LZCNT__: "abm",
  __MOVBE__: "movbe",
  __XSAVE__: "xsave",
  __AVX512F__: "avx512f",
  __AVX512BW__: "avx512bw",
  __AVX512CD__: "avx512cd",
  __AVX512DQ__: "avx512dq",
  __AVX512VL__: "avx512vl",
};
const gcc = await new Deno.Command("gcc", { args: ["--version"], stdout: "null", stderr: "null" }).output()
  .then((r) => r.success, () => false);

Deno.test({
  name: "every x86-64 build requires each feature gcc enables for its flags (skipped without gcc)",
  ignore: Deno.build.arch !== "x86_64" || !gcc,
  async fn() {
    for (const v of variantsFor("x86_64")) {
      const out = await new Deno.Command("gcc", {
        args: [...v.flags, "-dM", "-E", "-"],
        stdin: "piped",
        stdout: "piped",
      })
        .spawn();
      await out.stdin.close();
      const result = await out.output();
      if (!result.success && v.name === "x86-64-v4") continue; // gcc before 11 has no x86-64-v4: the set-up skips it
      assert(result.success, `gcc refused ${v.flags.join(" ")}`);
      const text = new TextDecoder().decode(result.stdout);
      const enabled = Object.entries(MACRO_FLAG).filter(([m]) => new RegExp(`#define ${m} `).test(text));
      for (const [macro, flag] of enabled) {
        assert(v.requires.includes(flag), `${v.name}: gcc defines ${macro} but the build does not require ${flag}`);
      }
      if (v.name === "x86-64-v3") assert(enabled.length >= 16, `gcc enabled only ${enabled.map(([m]) => m)}`);
      if (v.name === "x86-64-v4") assert(enabled.length >= 21, `gcc enabled only ${enabled.map(([m]) => m)}`);
    }
  },
});
