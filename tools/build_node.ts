/**
 * Builds the course library for Node.js, where tslab (the second kernel) runs notebooks: lib/ and datasets/
 * compiled by TypeScript (tools/tsconfig.node.json: CommonJS, with .d.ts types) into
 * `node_modules/attention-course/`, with a package.json whose `exports` (for Node) and `typesVersions` (for
 * tslab's TypeScript 5.0, which resolves modules the old "node10" way) map the same bare names as deno.json's
 * import map: `attention-course`, `attention-course/check`, `attention-course/datasets`. So one import line per
 * notebook works on both kernels.
 *
 * A stamp (a hash of the sources) makes a second build do nothing; the set-up runs it. Run directly:
 * `deno run --allow-all tools/build_node.ts [--force]`.
 * @module
 */
import type ts from "typescript";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/[\\/]$/, "");

/** Where Node (and tslab's compiler) find the package. */
export const NODE_PACKAGE = join(ROOT, "node_modules", "attention-course");
const TSCONFIG = join(ROOT, "tools", "tsconfig.node.json");
const STAMP = ".source-hash";
const NAME = "attention-course";

/** A build that failed: the message lists the compiler's errors. */
export class NodeBuildError extends Error {
  override name = "NodeBuildError";
}

/**
 * The package's entry points from deno.json's import map: bare name → compiled file (relative, ".js").
 *
 * @param imports deno.json's `imports`.
 * @returns e.g. `{ ".": "./lib/mod.js", "./check": "./lib/check/mod.js" }`.
 */
export function entryPoints(imports: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, target] of Object.entries(imports)) {
    if (name !== NAME && !name.startsWith(`${NAME}/`)) continue;
    if (!/^\.\/[\w/.-]+\.ts$/.test(target)) {
      throw new NodeBuildError(`deno.json maps ${name} to ${target}: expected a relative .ts file`);
    }
    out[`.${name.slice(NAME.length)}`] = target.replace(/\.ts$/, ".js");
  }
  if (!out["."]) throw new NodeBuildError(`deno.json's import map has no "${NAME}" entry`);
  return out;
}

/**
 * The package.json of the built package.
 *
 * @param entries From {@linkcode entryPoints}.
 * @returns The manifest: `main`/`types` for the root name, `exports` for Node, `typesVersions` for TypeScript's
 *   node10 resolution (tslab), which ignores `exports`.
 */
export function manifest(entries: Record<string, string>): Record<string, unknown> {
  const dts = (js: string) => js.replace(/\.js$/, ".d.ts");
  const exports: Record<string, unknown> = {};
  const typesVersions: Record<string, string[]> = {};
  for (const [sub, js] of Object.entries(entries)) {
    exports[sub] = { types: dts(js), default: js };
    if (sub !== ".") typesVersions[sub.slice(2)] = [dts(js).slice(2)];
  }
  exports["./package.json"] = "./package.json";
  return {
    name: NAME,
    version: "0.0.0",
    private: true,
    description: "The course library compiled for Node.js (tslab) by tools/build_node.ts from lib/ and datasets/: " +
      "do not edit, it is rebuilt when they change",
    main: entries["."],
    types: dts(entries["."]),
    typesVersions: { "*": typesVersions },
    exports,
  };
}

async function sourceFiles(dir: string, out: string[]): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory && e.name !== "testdata") await sourceFiles(p, out);
    else if (e.isFile && /\.(ts|json)$/.test(e.name)) out.push(p);
  }
}

/** A hash of everything the build reads: lib/ and datasets/ sources, the configuration and this script. */
export async function sourceHash(): Promise<string> {
  const files: string[] = [];
  await sourceFiles(join(ROOT, "lib"), files);
  await sourceFiles(join(ROOT, "datasets"), files);
  files.sort();
  files.push(TSCONFIG, join(ROOT, "deno.json"), join(ROOT, "tools", "build_node.ts"));
  const hash = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(
      (await Promise.all(files.map(async (f) => `${relative(ROOT, f)}\0${await Deno.readTextFile(f)}`))).join("\0"),
    ),
  );
  return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Import attributes (`with { type: "json" }`, which Deno requires for JSON modules) on a JSON import that
 * compiles to `require("./x.json")`: TypeScript reports TS2856, but the emitted require is what Node wants.
 */
function isJsonImportAttribute(d: ts.Diagnostic): boolean {
  if (d.code !== 2856 || !d.file || d.start === undefined) return false;
  const text = d.file.text;
  const lineStart = text.lastIndexOf("\n", d.start) + 1;
  const lineEnd = text.indexOf("\n", d.start);
  const line = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  return /^import \w+ from "\.[^"]*\.json" with \{ type: "json" \};$/.test(line.trim());
}

function formatDiagnostics(compiler: typeof ts, diagnostics: readonly ts.Diagnostic[]): string {
  return compiler.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => "\n",
  });
}

/**
 * Compiles lib/ and datasets/ into {@linkcode NODE_PACKAGE} unless its stamp says the sources are unchanged.
 * Writes into a temporary folder beside it and then swaps, so a failed build leaves the previous one.
 *
 * @param opts `force`: build even when the stamp matches.
 * @returns Whether it built, and the number of files written.
 */
export async function buildNodePackage(opts: { force?: boolean } = {}): Promise<{ built: boolean; files: number }> {
  const hash = await sourceHash();
  const old = await Deno.readTextFile(join(NODE_PACKAGE, STAMP)).catch(() => undefined);
  if (!opts.force && old === hash) return { built: false, files: 0 };

  // Loaded only to build (the set-up imports this module on every run): the version deno.json pins.
  const ts = (await import("typescript")).default;
  const imports = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).imports as Record<string, string>;
  const entries = entryPoints(imports);
  const read = ts.readConfigFile(TSCONFIG, ts.sys.readFile);
  if (read.error) throw new NodeBuildError(formatDiagnostics(ts, [read.error]));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(TSCONFIG));
  if (parsed.errors.length) throw new NodeBuildError(formatDiagnostics(ts, parsed.errors));
  await Deno.mkdir(dirname(NODE_PACKAGE), { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: dirname(NODE_PACKAGE), prefix: ".attention-course-build-" });
  try {
    const program = ts.createProgram(parsed.fileNames, { ...parsed.options, outDir: tmp });
    let files = 0;
    const emitted = program.emit(undefined, (name, text) => {
      Deno.mkdirSync(dirname(name), { recursive: true });
      Deno.writeTextFileSync(name, text);
      files++;
    });
    const problems = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics]
      .filter((d) => d.category === ts.DiagnosticCategory.Error && !isJsonImportAttribute(d));
    if (problems.length) {
      throw new NodeBuildError(`lib/ does not compile for Node:\n${formatDiagnostics(ts, problems)}`);
    }
    for (const js of Object.values(entries)) {
      if (!await Deno.stat(join(tmp, js)).then(() => true, () => false)) {
        throw new NodeBuildError(`the build wrote no ${js.slice(2)} (is it excluded in tools/tsconfig.node.json?)`);
      }
    }
    await Deno.writeTextFile(join(tmp, "package.json"), JSON.stringify(manifest(entries), null, 2) + "\n");
    await Deno.writeTextFile(join(tmp, STAMP), hash);
    await Deno.remove(NODE_PACKAGE, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    await Deno.rename(tmp, NODE_PACKAGE);
    return { built: true, files: files + 2 };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const t0 = performance.now();
  try {
    const r = await buildNodePackage({ force: Deno.args.includes("--force") });
    console.log(
      r.built
        ? `built ${relative(ROOT, NODE_PACKAGE)} (${r.files} files) in ${
          ((performance.now() - t0) / 1000).toFixed(1)
        } s`
        : `${relative(ROOT, NODE_PACKAGE)} is up to date`,
    );
  } catch (err) {
    if (!(err instanceof NodeBuildError)) throw err;
    console.error(`error: ${err.message}`);
    Deno.exit(1);
  }
}
