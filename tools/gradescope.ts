/**
 * `deno task gradescope <dir> [--lesson NN]… [--timeout S] [--memory MB] [--backend B] [--hidden-visibility V]`
 *
 * Writes one Gradescope autograder per lesson with exercises, `<dir>/gradescope-NN-name.zip`, laid out as
 * Gradescope's autograder specification asks: at the root `setup.sh` (run once, as root, when Gradescope builds
 * the image) and `run_autograder` (run for each submission in /autograder, the submission in
 * /autograder/submission, writing /autograder/results/results.json), then `autograder.json` (the lesson, limits,
 * backend and the hidden tests' visibility), `requirements-deno.txt` (Deno from PyPI, pinned by hash) and
 * `course/`: deno.json and deno.lock, lib/ and datasets/ (without tests), the grader (the modules its entry points
 * import, found by following their relative imports) and the lesson's exercise notebook, which setup.sh grades
 * once as a check. Of the solutions, only the cells that define the exercises another one `uses`
 * (`course/solutions/<notebook>`, for lessons that have such: the grader judges a later exercise again with the
 * course's version of the earlier one, grade_notebook.ts `withCourseVersions`; its sandbox cannot read them). The
 * hidden cases are inside too (the grader needs them): give the zip to Gradescope only, never to students.
 *
 * On Gradescope the notebook is graded by tools/grading/gradescope.ts, i.e. by grade_notebook.ts as `deno task
 * grade` grades it: the same sandbox, permissions, limits and pinned backend. setup.sh installs Deno and the npm
 * packages deno.lock pins from the registries; nothing is downloaded while grading.
 * @module
 */
import { basename, join, posix, resolve } from "node:path";
import { parseArgs } from "node:util";
import { courseFiles } from "./bundle.ts";
import { courseNotebooks, DEFAULT_BACKEND, DEFAULT_LIMITS, GRADING_BACKENDS } from "./grading/grade.ts";
import { regradeNames } from "./grading/grade_notebook.ts";
import { type AutograderConfig, checkConfig, VISIBILITIES, type Visibility } from "./grading/gradescope.ts";
import { readNotebook, serializeNotebook, sourceOf } from "./notebook.ts";
import type { Limits } from "./grading/sandbox.ts";
import { ROOT } from "./setup.ts";
import { zipBytes, type ZipEntry } from "./zip.ts";

/** The Deno the autograder installs: PyPI's `deno` wheels (official builds), pinned by hash. */
export const DENO_VERSION = "2.9.6";
const DENO_WHEELS = [
  // deno-2.9.6-py3-none-manylinux_2_27_x86_64.whl
  "037458003a1c76382e41baa1cd152b3325d9a13b2678f75cc653c893c0b2dfec",
  // deno-2.9.6-py3-none-manylinux_2_27_aarch64.whl
  "f8e1f6c053d3376388b61e658a2438ba45904a62b261988f2b858efefdc0aaad",
];

/** Shipped whole (less tests): the notebook may import any of it, and the sandbox reads them. */
const COURSE_ITEMS = ["lib", "datasets"];
/** The grader's entry points: run_autograder's, and the two the sandbox process starts from. */
const ENTRY_POINTS = [
  "tools/grading/gradescope.ts",
  "tools/grading/sandbox_main.ts",
  "tools/grading/sandbox_worker.ts",
];

/**
 * The course's modules that `entries` need: the entries and every module they import by a relative specifier
 * (static `from "./x.ts"`, `import "./x.ts"` or `import("./x.ts")`), transitively; paths relative to the course.
 */
export async function localModules(entries: string[]): Promise<string[]> {
  const seen = new Set<string>();
  const todo = [...entries];
  while (todo.length) {
    const rel = todo.pop()!;
    if (seen.has(rel)) continue;
    seen.add(rel);
    const text = await Deno.readTextFile(join(ROOT, rel));
    for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["'](\.\.?\/[^"']+)["']/g)) {
      const target = posix.normalize(posix.join(posix.dirname(rel), m[1]));
      const exists = await Deno.stat(join(ROOT, target)).then((i) => i.isFile, () => false);
      if (!target.startsWith("../") && exists) todo.push(target);
    }
  }
  return [...seen].sort();
}

const SETUP_SH = `#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu). It installs Deno ${DENO_VERSION}
# (PyPI's deno wheel, pinned by hash, into a venv) and the course's npm packages (the versions deno.lock pins, from
# the npm registry, into course/node_modules), then grades the course's own exercise notebook once: that checks
# the image and fills the module caches. Nothing is downloaded when a submission is graded.
# To try it elsewhere: AUTOGRADER_ROOT=<a folder laid out as /autograder> [DENO=<deno ${DENO_VERSION}>] bash setup.sh
set -euo pipefail
AG="\${AUTOGRADER_ROOT:-/autograder}"
SRC="$AG/source"
export DENO_DIR="$SRC/.deno" DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
if [ -z "\${DENO:-}" ]; then
  if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv
  fi
  python3 -m venv "$AG/deno-venv"
  "$AG/deno-venv/bin/pip" install --no-cache-dir --require-hashes --only-binary=:all: -r "$SRC/requirements-deno.txt"
  DENO="$AG/deno-venv/bin/deno"
fi
"$DENO" --version
printf '%s\\n' "$DENO" > "$SRC/deno-path"
chmod +x "$SRC/run_autograder"
cd "$SRC/course"
if [ ! -d node_modules/.deno ]; then
  "$DENO" install --frozen
fi
"$SRC/run_autograder" --self-check
`;

const RUN_AUTOGRADER = `#!/usr/bin/env bash
# Gradescope runs this for each submission: it grades the notebook in /autograder/submission in the course's
# grading sandbox and writes /autograder/results/results.json (tools/grading/gradescope.ts). Its own output goes to
# the instructor only. Offline: modules come from course/ and course/node_modules, nothing from the network.
set -euo pipefail
AG="\${AUTOGRADER_ROOT:-/autograder}"
SRC="$AG/source"
export DENO_DIR="$SRC/.deno" DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
DENO="\${DENO:-$(cat "$SRC/deno-path")}"
mkdir -p "$AG/results"
cd "$SRC/course"
exec "$DENO" run --no-prompt --frozen --cached-only --node-modules-dir=manual \\
  --allow-read --allow-write --allow-run --allow-env \\
  tools/grading/gradescope.ts --config "$SRC/autograder.json" --sandbox "$SRC/.sandbox" \\
  --submission "$AG/submission" --results "$AG/results/results.json" "$@"
`;

/** The files of one lesson's autograder (paths inside the zip). */
export async function autograderEntries(config: AutograderConfig): Promise<ZipEntry[]> {
  checkConfig(config);
  const text = (path: string, content: string, mode = 0o644): ZipEntry => ({
    path,
    data: new TextEncoder().encode(content),
    mode,
  });
  const entries: ZipEntry[] = [
    text("setup.sh", SETUP_SH, 0o755),
    text("run_autograder", RUN_AUTOGRADER, 0o755),
    text("autograder.json", JSON.stringify(config, null, 2) + "\n"),
    text(
      "requirements-deno.txt",
      `deno==${DENO_VERSION} \\\n${DENO_WHEELS.map((h) => `    --hash=sha256:${h}`).join(" \\\n")}\n`,
    ),
  ];
  const deno = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  deno.tasks = {};
  entries.push(text("course/deno.json", JSON.stringify(deno, null, 2) + "\n"));
  const files = new Set([`exercises/${config.notebook}`, "deno.lock", ...await localModules(ENTRY_POINTS)]);
  for (const item of COURSE_ITEMS) for (const f of await courseFiles(item)) files.add(f);
  for (const rel of [...files].sort()) {
    entries.push({ path: `course/${rel}`, data: await Deno.readFile(join(ROOT, rel)) });
  }
  const used = regradeNames(config.lesson);
  if (used.length) {
    const nb = await readNotebook(join(ROOT, "solutions", config.notebook));
    const defines = (src: string, n: string) => new RegExp(`(?<![\\w$])function\\s+${n}\\s*[(<]`).test(src);
    nb.cells = nb.cells.filter((c) => c.cell_type === "code" && used.some((n) => defines(sourceOf(c), n)));
    const missing = used.filter((n) => !nb.cells.some((c) => defines(sourceOf(c), n)));
    if (missing.length) throw new Error(`solutions/${config.notebook} does not define ${missing.join(", ")}`);
    entries.push(text(`course/solutions/${config.notebook}`, serializeNotebook(nb)));
  }
  return entries;
}

/** Writes one autograder zip per lesson into `dir`; returns their paths. */
export async function writeAutograders(
  dir: string,
  options: { lessons?: string[]; limits?: Limits; backend?: string; hiddenVisibility?: Visibility } = {},
): Promise<string[]> {
  const out = resolve(dir);
  if (out === ROOT || out.startsWith(ROOT + "/")) {
    throw new RangeError(`Cannot write into ${dir}: choose a folder outside the course repository`);
  }
  const names = await courseNotebooks();
  const lessons = options.lessons ?? Object.keys(names).sort();
  for (const l of lessons) {
    if (!names[l]) throw new RangeError(`lesson ${l} has no exercises (lessons: ${Object.keys(names).join(", ")})`);
  }
  await Deno.mkdir(out, { recursive: true });
  const written: string[] = [];
  for (const lesson of lessons) {
    const config: AutograderConfig = {
      lesson,
      notebook: names[lesson],
      backend: options.backend ?? DEFAULT_BACKEND,
      limits: options.limits ?? DEFAULT_LIMITS,
      hiddenVisibility: options.hiddenVisibility ?? "after_published",
    };
    const path = join(out, `gradescope-${basename(names[lesson], ".ipynb")}.zip`);
    const bytes = await zipBytes(await autograderEntries(config));
    const tmp = `${path}.partial`;
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
    written.push(path);
  }
  return written;
}

if (import.meta.main) {
  const usage = "usage: deno task gradescope <dir> [--lesson NN]… [--timeout S] [--memory MB] [--backend B] " +
    `[--hidden-visibility ${VISIBILITIES.filter((v) => v !== "visible").join("|")}]`;
  const bad = (msg: string): never => {
    console.error(`error: ${msg}\n${usage}`);
    Deno.exit(2);
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      allowPositionals: true,
      options: {
        lesson: { type: "string", multiple: true },
        timeout: { type: "string" },
        memory: { type: "string" },
        backend: { type: "string" },
        "hidden-visibility": { type: "string" },
      },
    });
  } catch (err) {
    bad((err as Error).message);
  }
  const { values, positionals } = parsed!;
  if (positionals.length !== 1) bad("one output folder is required");
  const int = (name: string, v: string | undefined, dflt: number) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) bad(`--${name} must be a positive integer, got "${v}"`);
    return n;
  };
  const backend = values.backend ?? DEFAULT_BACKEND;
  if (!(GRADING_BACKENDS as readonly string[]).includes(backend)) {
    bad(`--backend must be one of ${GRADING_BACKENDS.join(", ")}, got "${backend}"`);
  }
  const visibility = values["hidden-visibility"] ?? "after_published";
  if (!(VISIBILITIES as readonly string[]).includes(visibility) || visibility === "visible") {
    bad(`--hidden-visibility must be hidden, after_due_date or after_published, got "${visibility}"`);
  }
  try {
    const paths = await writeAutograders(positionals[0], {
      lessons: values.lesson?.map((l) => l.padStart(2, "0")),
      limits: {
        ...DEFAULT_LIMITS,
        timeoutS: int("timeout", values.timeout, DEFAULT_LIMITS.timeoutS),
        memoryMb: int("memory", values.memory, DEFAULT_LIMITS.memoryMb),
      },
      backend,
      hiddenVisibility: visibility as Visibility,
    });
    for (const p of paths) console.log(`wrote ${p} (${((await Deno.stat(p)).size / 1024).toFixed(0)} KiB)`);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    console.error(`error: ${err.message}`);
    Deno.exit(1);
  }
}
