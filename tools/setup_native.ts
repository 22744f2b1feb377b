/**
 * The optional native parts of the set-up (tools/setup.ts runs them last). Each step reports what it did or why
 * it could not, in one line, and none ever fails the set-up: without them the course runs on wasm.
 *
 * 1. OpenBLAS for the `native` backend (lib/native/): the PyPI wheel `scipy-openblas32` into .venv (26 MB; Linux,
 *    macOS and Windows wheels). MKL (PyPI `mkl`, x86 only) is no faster on the course's machines and 25× larger:
 *    point `ATTN_BLAS` at its `libmkl_rt` to use it.
 * 2. lib/native/kernels.c (softmax, exp) compiled into .venv/attention-course/ with the first C compiler found
 *    ($CC, cc, gcc, clang), once per CPU level of lib/native/variants.ts (x86-64: v3, v2 and the baseline; other
 *    architectures: the compiler's default), never `-march=native`: the same files must run on every machine an
 *    image built here runs on. kernels.json records each build's flags and the CPU features it needs; the backend
 *    loads the fastest this CPU runs.
 * 3. `@tensorflow/tfjs-node`'s native addon, for the `tensorflow` backend. The standard route is the package's
 *    own install script, which downloads libtensorflow and a prebuilt addon from Google's storage (run with
 *    Node where Node exists). Where that fails (as on machines that reach only the package registries) and a
 *    C++ compiler exists on Linux x86-64: libtensorflow's C API from the PyPI wheel `tensorflow-cpu`
 *    (`libtensorflow_cc.so.2` exports the TF_/TFE_ functions; its headers ship in the wheel), extracted into the
 *    package's `deps/` as the standard route would, and the addon's two source files compiled against it and
 *    the Node-API headers (npm `node-api-headers`) with one g++ line.
 * Stamps in .venv/attention-course/ make a second run do nothing.
 * @module
 */
import { join } from "node:path";
import { type KernelsManifest, variantsFor } from "../lib/native/variants.ts";

/** Pinned versions (the wheel's libtensorflow must offer the C API tfjs-node 4.22 was built against: TF ≥ 2.9). */
export const BLAS_WHEEL = "scipy-openblas32==0.3.34.481.3";
export const TENSORFLOW_WHEEL = "tensorflow-cpu==2.21.0";

interface Context {
  root: string;
  venv: string;
  /** The .venv's Python. */
  python: string;
}

const decoder = new TextDecoder();

async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<{ ok: boolean; text: string }> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      cwd: opts.cwd,
      env: opts.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10 * 60_000),
    }).output();
    return { ok: out.success, text: (decoder.decode(out.stdout) + decoder.decode(out.stderr)).trim() };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { ok: false, text: `${cmd} not found` };
    if (err instanceof DOMException && err.name === "TimeoutError") return { ok: false, text: `${cmd} timed out` };
    return { ok: false, text: err instanceof Error ? err.message : String(err) };
  }
}

const lastLine = (text: string) => text.split("\n").map((l) => l.trim()).filter(Boolean).at(-1) ?? "";

async function readText(path: string): Promise<string | undefined> {
  return await Deno.readTextFile(path).catch(() => undefined);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Runs the three steps; returns one line per step. */
export async function installNative(ctx: Context, log: (line: string) => void): Promise<string[]> {
  const dir = join(ctx.venv, "attention-course");
  await Deno.mkdir(dir, { recursive: true });
  const lines: string[] = [];
  for (
    const [name, step] of [["OpenBLAS", installBlas], ["C kernels", compileKernels], [
      "tfjs-node",
      installTfjsNode,
    ]] as const
  ) {
    let line: string | null;
    try {
      line = await step(ctx, dir, log);
    } catch (err) {
      line = `not installed (${err instanceof Error ? err.message : String(err)}); the course runs without it`;
    }
    if (line) {
      log(`native ${name}: ${line}`);
      lines.push(line);
    }
  }
  return lines;
}

/** Step 1. Returns null when already done. */
async function installBlas(ctx: Context, dir: string, log: (line: string) => void): Promise<string | null> {
  const stamp = join(dir, "blas.stamp");
  if (await readText(stamp) === BLAS_WHEEL) return null;
  log(`Installing OpenBLAS (${BLAS_WHEEL}) into .venv for the native backend …`);
  const pip = await run(ctx.python, [
    "-m",
    "pip",
    "install",
    "--disable-pip-version-check",
    "--no-input",
    "--quiet",
    "--only-binary=:all:",
    BLAS_WHEEL,
  ], { timeoutMs: 5 * 60_000 });
  if (!pip.ok) return `pip could not install ${BLAS_WHEEL} (${lastLine(pip.text)}): the native backend is off`;
  await Deno.writeTextFile(stamp, BLAS_WHEEL);
  return `installed ${BLAS_WHEEL}`;
}

/** Step 2. */
async function compileKernels(ctx: Context, dir: string, log: (line: string) => void): Promise<string | null> {
  const source = join(ctx.root, "lib", "native", "kernels.c");
  const ext = Deno.build.os === "windows" ? "dll" : Deno.build.os === "darwin" ? "dylib" : "so";
  const compilers = [Deno.env.get("CC"), "cc", "gcc", "clang"].filter((c): c is string => !!c);
  const variants = variantsFor(Deno.build.arch);
  const manifestPath = join(dir, "kernels.json");
  const want = await sha256(
    [await Deno.readTextFile(source), ...compilers, JSON.stringify(variants), Deno.build.arch].join("\0"),
  );
  const stamp = join(dir, "kernels.stamp");
  if (await readText(stamp) === want && await exists(manifestPath)) return null;
  // A library from an older set-up (one file, built with -march=native) is never loaded again: remove it.
  await Deno.remove(join(dir, `libattn_kernels.${ext}`)).catch(() => {});
  const base = ["-O3", "-fno-trapping-math", "-fno-math-errno", "-shared", "-fPIC"];
  const tried: string[] = [];
  for (const cc of compilers) {
    const built: KernelsManifest["built"] = [];
    const refused: string[] = [];
    for (const v of variants) {
      const file = `libattn_kernels-${v.name}.${ext}`, out = join(dir, file);
      log(`Compiling lib/native/kernels.c with ${cc} for ${v.name} CPUs …`);
      const r = await run(cc, [...v.flags, ...base, "-o", `${out}.tmp`, source], { timeoutMs: 2 * 60_000 });
      if (r.ok) {
        await Deno.rename(`${out}.tmp`, out);
        built.push({ ...v, file });
      } else {
        await Deno.remove(`${out}.tmp`).catch(() => {});
        if (r.text.endsWith("not found")) {
          refused.push(r.text);
          break;
        }
        refused.push(`${v.name}: ${lastLine(r.text)}`);
      }
    }
    if (built.length && !built.at(-1)!.requires.length) {
      const manifest: KernelsManifest = { format: 1, arch: Deno.build.arch, compiler: cc, built };
      await Deno.writeTextFile(`${manifestPath}.tmp`, JSON.stringify(manifest, null, 1) + "\n");
      await Deno.rename(`${manifestPath}.tmp`, manifestPath);
      await Deno.writeTextFile(stamp, want);
      return `compiled lib/native/kernels.c with ${cc} for ${built.map((v) => v.name).join(", ")} CPUs ` +
        `(the fastest this CPU runs is picked at load)${refused.length ? `; not built: ${refused.join("; ")}` : ""}`;
    }
    tried.push(`${cc}: ${refused.at(-1) ?? "no build"}`);
  }
  return `no C compiler worked (${tried.join("; ")}): softmax and exp stay on wasm`;
}

/** Where Deno put the tfjs-node package, or null. */
async function tfjsNodeDir(root: string): Promise<string | null> {
  return await Deno.realPath(join(root, "node_modules", "@tensorflow", "tfjs-node")).catch(() => null);
}

/** Loads tfjs-node through lib/backend.ts in a fresh Deno and multiplies two matrices. */
async function tfjsNodeWorks(root: string): Promise<{ ok: boolean; text: string }> {
  const code = `import * as tf from "@tensorflow/tfjs";
import { initBackend } from "./lib/backend.ts";
const info = await initBackend({ backend: "tensorflow", print: false });
const c = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]]));
if ((await c.data()).join() !== "17,39") throw new Error("tensorflow backend: wrong product");
console.log("tfjs-node-ok:", info.detail);`;
  const file = join(root, `.tfjs-node-check.${Deno.pid}.ts`);
  await Deno.writeTextFile(file, code);
  try {
    const r = await run(Deno.execPath(), ["run", "--quiet", "--allow-all", file], {
      cwd: root,
      timeoutMs: 2 * 60_000,
      env: { NO_COLOR: "1", ATTN_BACKEND: "tensorflow" },
    });
    // libtensorflow also writes notes on stderr: look for the marker, and for an error line when it is missing.
    const ok = r.ok && r.text.includes("tfjs-node-ok:");
    return { ok, text: ok ? "" : r.text.split("\n").find((l) => /error/i.test(l)) ?? lastLine(r.text) };
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

/** Step 3. */
async function installTfjsNode(ctx: Context, dir: string, log: (line: string) => void): Promise<string | null> {
  const pkg = await tfjsNodeDir(ctx.root);
  if (!pkg) return "@tensorflow/tfjs-node is not in node_modules (deno.json): the tensorflow backend is off";
  const stamp = join(dir, "tfjs-node.stamp");
  const binding = join(pkg, "lib", "napi-v8", "tfjs_binding.node");
  const done = await readText(stamp);
  if (done && await exists(binding)) return null;

  // The standard route: the package's own install script (downloads from Google's storage).
  log("tfjs-node: trying its standard install (downloads libtensorflow) …");
  const standard = await run("node", [join("scripts", "install.js")], { cwd: pkg, timeoutMs: 10 * 60_000 });
  const why: string[] = [];
  if (standard.ok && await exists(binding) && (await tfjsNodeWorks(ctx.root)).ok) {
    await Deno.writeTextFile(stamp, "standard install");
    return "installed by its standard install script";
  }
  why.push(`standard install: ${lastLine(standard.text) || "no addon"}`);

  // The registry route: libtensorflow's C API from the tensorflow-cpu wheel, the addon compiled here.
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    return `not installed (${why[0]}; the tensorflow-cpu route is for Linux x86-64): the tensorflow backend is off`;
  }
  const cxx = await findCxx();
  if (!cxx) {
    return `not installed (${why[0]}; no C++ compiler for the tensorflow-cpu route): the tensorflow backend is off`;
  }
  log(`tfjs-node: building its addon against ${TENSORFLOW_WHEEL} from PyPI with ${cxx} (about 300 MB download) …`);
  const tmp = await Deno.makeTempDir({ dir: ctx.venv, prefix: ".tensorflow-wheel-" });
  try {
    const dl = await run(ctx.python, [
      "-m",
      "pip",
      "download",
      "--disable-pip-version-check",
      "--no-input",
      "--quiet",
      "--no-deps",
      "--only-binary=:all:",
      "--dest",
      tmp,
      TENSORFLOW_WHEEL,
    ], { timeoutMs: 10 * 60_000 });
    if (!dl.ok) return `not installed (${why[0]}; pip download ${TENSORFLOW_WHEEL}: ${lastLine(dl.text)})`;
    const deps = join(pkg, "deps");
    const unpack = await run(ctx.python, ["-c", UNPACK_PY, tmp, deps], { timeoutMs: 5 * 60_000 });
    if (!unpack.ok) return `not installed (${why[0]}; unpacking the wheel: ${lastLine(unpack.text)})`;
    const headers = join(ctx.root, "node_modules", "node-api-headers", "include");
    await Deno.mkdir(join(pkg, "lib", "napi-v8"), { recursive: true });
    const cc = await run(cxx, [
      "-O2",
      "-std=c++17",
      "-shared",
      "-fPIC",
      "-DNAPI_VERSION=8",
      `-I${pkg}`,
      `-I${join(deps, "include")}`,
      `-I${headers}`,
      join(pkg, "binding", "tfjs_backend.cc"),
      join(pkg, "binding", "tfjs_binding.cc"),
      join(deps, "lib", "libtensorflow_cc.so.2"),
      join(deps, "lib", "libtensorflow_framework.so.2"),
      "-Wl,-rpath,$ORIGIN/../../deps/lib",
      "-o",
      `${binding}.tmp`,
    ], { timeoutMs: 5 * 60_000 });
    if (!cc.ok) return `not installed (${why[0]}; ${cxx} failed: ${lastLine(cc.text)})`;
    await Deno.rename(`${binding}.tmp`, binding);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  const check = await tfjsNodeWorks(ctx.root);
  if (!check.ok) {
    await Deno.remove(binding).catch(() => {});
    return `not installed (${why[0]}; the addon built against ${TENSORFLOW_WHEEL} does not load: ${
      lastLine(check.text)
    })`;
  }
  await Deno.writeTextFile(stamp, `${TENSORFLOW_WHEEL} + ${cxx}`);
  return `addon compiled against ${TENSORFLOW_WHEEL}'s libtensorflow, and it loads`;
}

async function findCxx(): Promise<string | null> {
  for (const cxx of [Deno.env.get("CXX"), "g++", "c++", "clang++"].filter((c): c is string => !!c)) {
    if ((await run(cxx, ["--version"], { timeoutMs: 30_000 })).ok) return cxx;
  }
  return null;
}

/**
 * Extracts libtensorflow's C library and the C-API headers the addon includes from the tensorflow-cpu wheel into
 * tfjs-node's deps/ (lib/ and include/, the layout its standard install makes). argv: wheel folder, deps folder.
 */
const UNPACK_PY = `
import glob, os, shutil, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "tensorflow_cpu-*.whl"))[0]
deps = sys.argv[2]
headers = ("tensorflow/include/tensorflow/c/", "tensorflow/include/tensorflow/core/platform/ctstring",
           "tensorflow/include/tsl/platform/ctstring", "tensorflow/include/xla/tsl/c/")
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name in ("tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2"):
            target = os.path.join(deps, "lib", os.path.basename(name))
        elif name.startswith(headers) and name.endswith(".h"):
            target = os.path.join(deps, "include", name[len("tensorflow/include/"):])
        else:
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(name) as src, open(target + ".tmp", "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(target + ".tmp", target)
`;
