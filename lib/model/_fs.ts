/**
 * The few file-system calls lib/model needs, on Deno or (once compiled) on Node: lib uses Deno APIs only behind
 * feature checks. Private to lib/model.
 * @module
 */

interface DenoLike {
  readFile(path: string): Promise<Uint8Array>;
  readDir(path: string): AsyncIterable<{ name: string; isDirectory: boolean; isSymlink: boolean }>;
  stat(path: string): Promise<{ isFile: boolean; size: number }>;
  cwd(): string;
  env: { get(key: string): string | undefined };
}

interface NodeFs {
  readFile(path: string): Promise<Uint8Array>;
  readdir(path: string): Promise<string[]>;
  stat(path: string): Promise<{ isFile(): boolean; isDirectory(): boolean; size: number }>;
}

const g = globalThis as { Deno?: DenoLike; process?: { cwd(): string; env: Record<string, string | undefined> } };

let nodeFs: Promise<NodeFs> | undefined;
function node(): Promise<NodeFs> {
  const specifier = "node:fs/promises"; // a variable, so that tsc's Node build needs no @types/node
  return nodeFs ??= import(specifier) as Promise<NodeFs>;
}

/** The whole file; a RangeError "Cannot <action>: …" names the path when it cannot be read. */
export async function readBytes(path: string, action: string): Promise<Uint8Array> {
  try {
    return g.Deno ? await g.Deno.readFile(path) : new Uint8Array(await (await node()).readFile(path));
  } catch (err) {
    throw new RangeError(`Cannot ${action}: ${path} must be a readable file, got ${errorText(err)}`);
  }
}

/** A UTF-8 text file. */
export async function readText(path: string, action: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(path, action));
}

/** The size of a regular file, or undefined when there is none at `path`. */
export async function fileSize(path: string): Promise<number | undefined> {
  try {
    if (g.Deno) {
      const s = await g.Deno.stat(path);
      return s.isFile ? s.size : undefined;
    }
    const s = await (await node()).stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/** The names of the entries of a folder (empty when it cannot be read). */
export async function listDir(path: string): Promise<string[]> {
  try {
    if (g.Deno) {
      const names: string[] = [];
      for await (const e of g.Deno.readDir(path)) names.push(e.name);
      return names.sort();
    }
    return (await (await node()).readdir(path)).sort();
  } catch {
    return [];
  }
}

/** The working directory. */
export function cwd(): string {
  return g.Deno ? g.Deno.cwd() : g.process?.cwd() ?? ".";
}

/** An environment variable (undefined without permission or outside Deno and Node). */
export function env(key: string): string | undefined {
  try {
    return g.Deno ? g.Deno.env.get(key) : g.process?.env[key];
  } catch {
    return undefined;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
