/**
 * The capstone's result cache: plain JSON files under `<course root>/.cache/lra/`, read and written on Deno or
 * (once compiled) on Node, so a notebook run by either kernel finds the other's results. Writes are atomic (a
 * temporary file, then a rename). Private to lib/lra.
 * @module
 */

interface DenoLike {
  readTextFile(path: string): Promise<string>;
  writeTextFile(path: string, text: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string, options: { recursive: boolean }): Promise<void>;
  readDir(path: string): AsyncIterable<{ name: string; isFile: boolean }>;
  statSync(path: string): { isFile: boolean };
  cwd(): string;
}

interface NodeFs {
  readFile(path: string, encoding: "utf8"): Promise<string>;
  writeFile(path: string, text: string, encoding: "utf8"): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string, options: { recursive: boolean }): Promise<unknown>;
  readdir(path: string): Promise<string[]>;
  stat(path: string): Promise<{ isFile(): boolean }>;
}

const g = globalThis as { Deno?: DenoLike; process?: { cwd(): string; pid?: number } };

let nodeFs: Promise<NodeFs> | undefined;
function node(): Promise<NodeFs> {
  const specifier = "node:fs/promises"; // a variable, so that tsc's Node build needs no @types/node
  return nodeFs ??= import(specifier) as Promise<NodeFs>;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return g.Deno ? g.Deno.statSync(path).isFile : (await (await node()).stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The course root: the working directory or the nearest parent holding `deno.json` (else the working directory). */
export async function courseRoot(): Promise<string> {
  const start = g.Deno ? g.Deno.cwd() : g.process?.cwd() ?? ".";
  let dir = start;
  for (let i = 0; i < 8; i++) {
    if (await isFile(`${dir}/deno.json`)) return dir;
    const parent = dir.replace(/[\\/][^\\/]*$/, "");
    if (parent === dir || parent === "") break;
    dir = parent;
  }
  return start;
}

/** A text file, or undefined when it cannot be read. */
export async function readTextOrUndefined(path: string): Promise<string | undefined> {
  try {
    return g.Deno ? await g.Deno.readTextFile(path) : await (await node()).readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The `.json` file names in a folder (empty when it cannot be read). */
export async function jsonFiles(dir: string): Promise<string[]> {
  try {
    if (g.Deno) {
      const names: string[] = [];
      for await (const e of g.Deno.readDir(dir)) if (e.isFile && e.name.endsWith(".json")) names.push(e.name);
      return names.sort();
    }
    return (await (await node()).readdir(dir)).filter((n) => n.endsWith(".json")).sort();
  } catch {
    return [];
  }
}

/** Writes a text file atomically, making its folder first. */
export async function writeTextAtomic(dir: string, name: string, text: string): Promise<string> {
  const path = `${dir}/${name}`;
  const tmp = `${dir}/.${name}.${Date.now()}.${Math.floor(Math.random() * 1e9)}.tmp`;
  if (g.Deno) {
    await g.Deno.mkdir(dir, { recursive: true });
    await g.Deno.writeTextFile(tmp, text);
    await g.Deno.rename(tmp, path);
  } else {
    const fs = await node();
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(tmp, text, "utf8");
    await fs.rename(tmp, path);
  }
  return path;
}

/** Hex SHA-256 of a text (Web Crypto: Deno and Node 18+). */
export async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
