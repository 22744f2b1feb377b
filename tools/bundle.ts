/**
 * `deno task bundle <dir>`: writes what students receive into <dir>:
 * notebooks/, exercises/, lib/ (without tests: they hold reference answers),
 * datasets/, the set-up files (deno.json with only the `lab` and `setup` tasks, deno.lock,
 * tools/setup.ts and setup_native.ts, tools/lab.ts, tools/requirements*.txt, and for the tslab kernel
 * tools/build_node.ts, tools/tsconfig.node.json and tools/tslab/'s pinned package files), binder/ (the Binder /
 * JupyterHub image's configuration: a hub or Binder builds its image from the bundle, so that no solution is in
 * it) and a student README.
 * Never solutions/, hidden cases or the test suite. <dir> must be empty or new;
 * the bundle is built in a temporary folder beside it and renamed into place,
 * so an interrupted run leaves nothing half-written.
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { ROOT } from "./setup.ts";

/** Files and folders copied as they are (folders recursively, minus EXCLUDED). */
const SHIPPED = [
  "notebooks",
  "exercises",
  "lib",
  "datasets",
  "deno.lock",
  "tools/setup.ts",
  "tools/setup_native.ts",
  "tools/lab.ts",
  "tools/requirements.txt",
  "tools/requirements-model.txt",
  "tools/build_node.ts",
  "tools/tsconfig.node.json",
  "tools/tslab/package.json",
  "tools/tslab/package-lock.json",
  "tools/tslab/.npmrc",
  "binder",
];
/** npm packages of deno.json's import map that only the course site uses (kept out of the student's deno.json). */
export const SITE_ONLY_PACKAGES = ["mathjax", "plotly.js-dist-min"];
/** Never shipped: tests (they contain reference solutions) and private test helpers. */
const EXCLUDED = [
  /_test\.ts$/,
  /(^|\/)_testing\.ts$/,
  /(^|\/)testdata(\/|$)/,
  /(^|\/)\.ipynb_checkpoints(\/|$)/,
  /(^|\/)\.[^/]+\.nbcheck\.ts$/,
];

const STUDENT_README = `# Attention course — student edition

You need Node.js 18+ (with npm) and Python 3.10+ (with venv). Then, in this folder:

\`\`\`sh
npx --yes deno@2.9.6 task lab
\`\`\`

The first run installs everything inside this folder (about a minute) and opens JupyterLab; later runs
start in seconds. JupyterLab offers two kernels: "TypeScript (attention course)" (Deno, the default) and
"TypeScript on Node (tslab, attention course)"; every notebook runs on both (Kernel → Change Kernel…). Read the lessons in \`notebooks/\`, then complete \`exercises/\`: replace each
\`throw new NotImplementedError(…)\` with your code and run the check under it.
`;

/**
 * The files at or below `item` (a path relative to the course: a file or a folder), relative to the course, less
 * the EXCLUDED ones (tests, test data, checkpoints), sorted. Links and other non-files are left out.
 */
export async function courseFiles(item: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (rel: string) => {
    if (EXCLUDED.some((re) => re.test(rel))) return;
    const info = await Deno.lstat(join(ROOT, rel)).catch(() => null);
    if (info?.isDirectory) {
      for await (const entry of Deno.readDir(join(ROOT, rel))) await walk(`${rel}/${entry.name}`);
    } else if (info?.isFile) files.push(rel);
  };
  await walk(item);
  return files.sort();
}

/**
 * Writes the student bundle into `target` (empty or missing).
 *
 * @returns The bundle's files, relative to it.
 */
export async function writeBundle(target: string): Promise<string[]> {
  const out = resolve(target);
  if (out === ROOT || out.startsWith(ROOT + "/")) {
    throw new RangeError(`Cannot bundle into ${target}: choose a folder outside the course repository`);
  }
  try {
    for await (const _ of Deno.readDir(out)) {
      throw new RangeError(`Cannot bundle into ${target}: the folder is not empty`);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  await Deno.mkdir(dirname(out), { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: dirname(out), prefix: `.${basename(out)}.partial-` });
  try {
    const written: string[] = [];
    for (const item of SHIPPED) {
      for (const rel of await courseFiles(item)) {
        await Deno.mkdir(dirname(join(tmp, rel)), { recursive: true });
        await Deno.copyFile(join(ROOT, rel), join(tmp, rel));
        written.push(rel);
      }
    }
    const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
    config.tasks = { lab: config.tasks.lab, setup: config.tasks.setup }; // setup: binder/postBuild runs it
    // Used only to build the course site (`deno task site`): 30 MB that students' `deno install` need not fetch.
    for (const name of SITE_ONLY_PACKAGES) delete config.imports[name];
    await Deno.writeTextFile(join(tmp, "deno.json"), JSON.stringify(config, null, 2) + "\n");
    await Deno.writeTextFile(join(tmp, "README.md"), STUDENT_README);
    await Deno.writeTextFile(
      join(tmp, ".gitignore"),
      "/.venv\n/node_modules\n/tools/tslab/node_modules/\n.ipynb_checkpoints/\n",
    );
    written.push("deno.json", "README.md", ".gitignore");
    await Deno.remove(out).catch(() => {}); // the empty target, if it exists
    await Deno.rename(tmp, out);
    return written.sort();
  } catch (err) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw err;
  }
}

if (import.meta.main) {
  const target = Deno.args[0];
  if (!target) {
    console.error("usage: deno task bundle <empty or new folder>");
    Deno.exit(2);
  }
  try {
    const files = await writeBundle(target);
    console.log(`wrote the student bundle to ${target}: ${files.length} files`);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    console.error(`error: ${err.message}`);
    Deno.exit(1);
  }
}
