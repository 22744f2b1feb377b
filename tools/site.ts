/**
 * `deno task site [<out dir>] [--allow-errors]`: the course as a static web site, readable without installing
 * anything. Every lesson in notebooks/ (found by listing the folder) is executed and rendered to HTML with its
 * outputs: interactive plotly figures, typeset math, a contents page with each lesson's sections, links between
 * lessons. The folder works offline from disk (file://) and on any static host: plotly.js and MathJax are copied
 * into it from node_modules (npm packages pinned in deno.json), nothing is fetched from a CDN.
 *
 * - Executing: a lesson's executed copy from the test suite (.cache/executed/) or from an earlier site build
 *   (.cache/site-executed/) is reused when it is fresh: the same cells as the lesson, every code cell run, and newer
 *   than every file in lib/, datasets/, deno.json and deno.lock. Otherwise the lesson runs with the suite's runner
 *   (tools/run_notebooks.py: nbclient and the course kernel).
 * - Rendering: nbconvert with the template in tools/site/templates/ (tools/site/render.py). Notebooks are untrusted
 *   data: their HTML goes through an allow-list sanitizer, figures are inert JSON drawn by assets/site.js.
 *   Why nbconvert and not a renderer of our own: it already renders every cell and output type as JupyterLab
 *   shows them (its JupyterLab template and styles, ANSI colours in tracebacks, Pygments highlighting, Markdown
 *   with math left intact for MathJax, heading anchors), and it is in .venv already (JupyterLab's server needs
 *   it). What it lacks — plotly's MIME type, MathJax and scripts without a CDN, a sanitizer that keeps headings —
 *   is about 80 lines of template and a filter, far less than a renderer with its own Markdown, math and ANSI
 *   handling to keep correct.
 * - Errors and stderr are shown on the pages as they are. A lesson with an error output stops the build (the old
 *   site is kept) unless `--allow-errors`.
 * - Atomic: the site is built in a temporary folder beside `<out dir>` and renamed into place. An existing
 *   `<out dir>` is replaced only if an earlier build made it (it holds the marker file .course-site).
 *
 * Default `<out dir>`: _site/ (what GitHub Pages' upload action takes by default). The course is set up first, as
 * `deno task lab` does (nothing is reinstalled the second time).
 * @module
 */
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { KERNEL_NAME, ROOT, setup, venvBin } from "./setup.ts";
import { type Cell, listNotebooks, readNotebook, sourceOf } from "./notebook.ts";

/** What render.py reports for one page. */
export interface PageReport {
  /** File name without .html, as the lesson's without .ipynb. */
  name: string;
  title: string;
  sections: { id: string; title: string }[];
  /** Error outputs on the page. */
  errors: number;
  /** stderr stream outputs on the page. */
  stderr: number;
  /** Plotly figures on the page. */
  plots: number;
  /** Links to .ipynb files that are not lessons of the site (left as they were). */
  unresolvedLinks: string[];
}

/** One page to render: an executed notebook and the lesson it comes from. */
export interface PageJob {
  /** The executed notebook to render. */
  source: string;
  /** Output name, without .html. */
  name: string;
  /** The lesson's file name (links to it are rewritten to the page). */
  lesson: string;
}

/** The marker file that says a folder is a site this tool built (and may replace). */
export const MARKER = ".course-site";
/** The course's title on the contents page. */
export const COURSE_TITLE = "Attention, from weighted sums to linear attention";
const SUITE_EXECUTED = join(ROOT, ".cache", "executed");
const SITE_EXECUTED = join(ROOT, ".cache", "site-executed");
const decoder = new TextDecoder();

/** Files copied into `<out>/assets/`: target name → source path. */
export function assetFiles(): Record<string, string> {
  const site = join(ROOT, "tools", "site", "assets");
  return {
    "plotly.min.js": join(ROOT, "node_modules", "plotly.js-dist-min", "plotly.min.js"),
    "plotly.LICENSE": join(ROOT, "node_modules", "plotly.js-dist-min", "LICENSE"),
    "mathjax/tex-svg-full.js": join(ROOT, "node_modules", "mathjax", "es5", "tex-svg-full.js"),
    "mathjax/LICENSE": join(ROOT, "node_modules", "mathjax", "LICENSE"),
    "mathjax-config.js": join(site, "mathjax-config.js"),
    "site.js": join(site, "site.js"),
    "site.css": join(site, "site.css"),
  };
}

/**
 * Renders executed notebooks into `out` (which must exist): one page per job, index.html and
 * assets/jupyterlab.css. The assets of {@linkcode assetFiles} are not copied.
 *
 * @param out An existing folder.
 * @param pages The pages, in the order of the contents.
 * @returns render.py's report, one entry per page.
 */
export async function renderPages(out: string, pages: PageJob[], title = COURSE_TITLE): Promise<PageReport[]> {
  const child = new Deno.Command(venvBin("python"), {
    args: [join(ROOT, "tools", "site", "render.py")],
    cwd: ROOT,
    env: { JUPYTER_PLATFORM_DIRS: "1", PYTHONIOENCODING: "utf-8" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({ out, pages, title })));
  await writer.close();
  const res = await child.output();
  const stdout = decoder.decode(res.stdout), stderr = decoder.decode(res.stderr);
  if (res.code !== 0) throw new Error(`Cannot render the site: tools/site/render.py failed:\n${stderr.trim()}`);
  try {
    return JSON.parse(stdout);
  } catch {
    throw new Error(`Cannot render the site: render.py printed no report:\n${stdout}\n${stderr}`);
  }
}

async function newestMtime(paths: string[]): Promise<number> {
  let newest = 0;
  const visit = async (path: string) => {
    const info = await Deno.stat(path).catch(() => undefined);
    if (!info) return;
    if (info.isDirectory) {
      for await (const entry of Deno.readDir(path)) await visit(join(path, entry.name));
    } else newest = Math.max(newest, info.mtime?.getTime() ?? 0);
  };
  for (const p of paths) await visit(p);
  return newest;
}

const shape = (cells: Cell[]) => cells.map((c) => [c.cell_type, sourceOf(c)]);

/**
 * The executed copy of `lesson` in `dir` (named as the suite's runner names it) if it is fresh: the same cells as
 * the lesson, every code cell executed, and modified after `after` (ms since the epoch).
 */
export async function freshCopy(lesson: string, dir: string, after: number): Promise<string | undefined> {
  const copy = join(dir, relative(ROOT, lesson).replaceAll("/", "__").replaceAll("\\", "__"));
  const info = await Deno.stat(copy).catch(() => undefined);
  if (!info?.mtime || info.mtime.getTime() < after) return undefined;
  const [want, have] = await Promise.all([readNotebook(lesson), readNotebook(copy).catch(() => undefined)]);
  if (!have || JSON.stringify(shape(want.cells)) !== JSON.stringify(shape(have.cells))) return undefined;
  if (have.cells.some((c) => c.cell_type === "code" && typeof c.execution_count !== "number")) return undefined;
  return copy;
}

/** Executes lessons with the suite's runner into .cache/site-executed/; returns the copies' paths. */
async function execute(lessons: string[], log: (line: string) => void): Promise<string[]> {
  log(`executing ${lessons.length} lesson(s) with the course kernel …`);
  const res = await new Deno.Command(venvBin("python"), {
    args: [
      join(ROOT, "tools", "run_notebooks.py"),
      "--kernel",
      KERNEL_NAME,
      "--save-dir",
      SITE_EXECUTED,
      ...lessons.map((l) => relative(ROOT, l)),
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1", JUPYTER_PLATFORM_DIRS: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (res.code !== 0) throw new Error(`Cannot execute the lessons: tools/run_notebooks.py exited with ${res.code}`);
  const copies = [];
  for (const lesson of lessons) {
    const copy = await freshCopy(lesson, SITE_EXECUTED, 0);
    if (!copy) throw new Error(`Cannot execute ${relative(ROOT, lesson)}: the runner wrote no executed copy`);
    copies.push(copy);
  }
  return copies;
}

/** What a build did. */
export interface SiteResult {
  out: string;
  pages: PageReport[];
  /** Lessons that were executed for this build (the others reused a fresh executed copy). */
  executed: string[];
}

/**
 * Builds the site into `out` (see the module's documentation).
 *
 * @param out Output folder; replaced only if an earlier build made it.
 * @param options `allowErrors`: publish lessons whose outputs hold errors; `executedDirs`: folders of executed
 *   copies to reuse when fresh (default: the suite's and the site's); `execute: false`: fail instead of executing
 *   lessons that have no fresh copy; `log`: progress lines.
 */
export async function buildSite(
  out: string,
  options: { allowErrors?: boolean; executedDirs?: string[]; execute?: boolean; log?: (line: string) => void } = {},
): Promise<SiteResult> {
  const log = options.log ?? (() => {});
  out = resolve(out);
  if (out === ROOT || !relative(out, ROOT).startsWith("..") && !isAbsolute(relative(out, ROOT))) {
    throw new Error(`Cannot build the site into ${out}: it holds the course itself`);
  }
  await checkReplaceable(out);
  const lessons = await listNotebooks(join(ROOT, "notebooks"));
  if (!lessons.length) throw new Error("Cannot build the site: notebooks/ holds no lessons");

  // 1. Executed copies: fresh ones reused, the others executed now.
  const after = await newestMtime(["lib", "datasets", "deno.json", "deno.lock"].map((p) => join(ROOT, p)));
  const dirs = options.executedDirs ?? [SUITE_EXECUTED, SITE_EXECUTED];
  const sources = new Map<string, string>();
  for (const lesson of lessons) {
    for (const dir of dirs) {
      const copy = await freshCopy(lesson, dir, after);
      if (copy) {
        sources.set(lesson, copy);
        break;
      }
    }
  }
  const stale = lessons.filter((l) => !sources.has(l));
  if (stale.length && options.execute === false) {
    throw new Error(
      `Cannot build the site: no fresh executed copy of ${stale.map((l) => relative(ROOT, l)).join(", ")}`,
    );
  }
  if (stale.length) (await execute(stale, log)).forEach((copy, i) => sources.set(stale[i], copy));
  else log(`reusing fresh executed copies of all ${lessons.length} lessons`);

  // 2. Render into a temporary folder beside `out`, then rename it into place.
  await Deno.mkdir(dirname(out), { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: dirname(out), prefix: `.${basename(out)}.tmp-` });
  try {
    for (const [name, from] of Object.entries(assetFiles())) {
      await Deno.mkdir(dirname(join(tmp, "assets", name)), { recursive: true });
      await Deno.copyFile(from, join(tmp, "assets", name)).catch((err) => {
        throw new Error(`Cannot copy ${from} into the site (run \`deno task setup\` first?): ${err.message}`);
      });
    }
    log(`rendering ${lessons.length} pages …`);
    const pages = await renderPages(
      tmp,
      lessons.map((l) => ({ source: sources.get(l)!, name: basename(l, ".ipynb"), lesson: basename(l) })),
    );
    const failing = pages.filter((p) => p.errors > 0);
    if (failing.length && !options.allowErrors) {
      throw new Error(
        `Cannot publish: ${failing.map((p) => `${p.name}.ipynb shows ${p.errors} error(s)`).join("; ")} ` +
          `(fix the lesson, or build with --allow-errors to publish the errors as they are)`,
      );
    }
    await Deno.writeTextFile(join(tmp, MARKER), "Built by `deno task site`; the next build replaces this folder.\n");
    await Deno.writeTextFile(join(tmp, ".nojekyll"), ""); // GitHub Pages: serve the folder as it is
    await Deno.chmod(tmp, 0o755).catch(() => {}); // makeTempDir makes it private
    const old = `${tmp}-old`;
    const hadOld = await Deno.rename(out, old).then(() => true, (err) => {
      if (err instanceof Deno.errors.NotFound) return false;
      throw err;
    });
    await Deno.rename(tmp, out);
    if (hadOld) await Deno.remove(old, { recursive: true });
    return { out, pages, executed: stale };
  } catch (err) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw err;
  }
}

/** Refuses to replace a folder that this tool did not build (an empty one is fine). */
async function checkReplaceable(out: string): Promise<void> {
  const info = await Deno.stat(out).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory) throw new Error(`Cannot build the site into ${out}: it is a file`);
  if (await Deno.stat(join(out, MARKER)).then(() => true, () => false)) return;
  for await (const _ of Deno.readDir(out)) {
    throw new Error(
      `Cannot build the site into ${out}: the folder is not empty and no earlier \`deno task site\` made it ` +
        `(it has no ${MARKER}); pick another folder or empty this one`,
    );
  }
}

if (import.meta.main) {
  const args = Deno.args.filter((a) => a !== "--allow-errors");
  const unknown = args.filter((a) => a.startsWith("-"));
  if (unknown.length || args.length > 1) {
    console.error(
      `Usage: deno task site [<out dir>] [--allow-errors]${unknown.length ? ` (unknown: ${unknown})` : ""}`,
    );
    Deno.exit(2);
  }
  const t0 = performance.now();
  try {
    await setup((line) => console.log(line)); // as `task lab` and `task test` do; installs nothing the second time
    const result = await buildSite(args[0] ?? join(ROOT, "_site"), {
      allowErrors: Deno.args.includes("--allow-errors"),
      log: (line) => console.log(line),
    });
    for (const p of result.pages) {
      const notes = [
        `${p.plots} plot(s)`,
        `${p.sections.length} sections`,
        p.errors ? `${p.errors} ERROR output(s)` : "",
        p.stderr ? `${p.stderr} stderr output(s)` : "",
        p.unresolvedLinks.length ? `links to notebooks not on the site: ${p.unresolvedLinks.join(", ")}` : "",
      ].filter(Boolean);
      console.log(`  ${p.name}.html: ${p.title} (${notes.join(", ")})`);
    }
    console.log(
      `site written to ${result.out} (${result.pages.length} lessons, ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s); open ${join(result.out, "index.html")}`,
    );
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    Deno.exit(1);
  }
}
