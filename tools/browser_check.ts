/// <reference lib="dom" />
/**
 * The course as a student sees it: JupyterLab in headless Chromium opens a
 * lesson, runs all its cells with the course kernel, and checks that plotly
 * plots rendered, that no cell shows an error, and that the plots render again
 * when the saved notebook is reopened. One screenshot per plot, named after the
 * lesson and the cell (cells counted from 0, Markdown included):
 * `.browser-test/03-the-attention-matrix/cell-12-plot-1.png`.
 *
 * The suite imports {@linkcode browserTest}; to look at any lessons' plots:
 *
 *     deno run --allow-all tools/browser_check.ts [--kernel attention-course-tslab] notebooks/03-the-attention-matrix.ipynb [more.ipynb …]
 *
 * `--kernel` runs the lessons on another registered kernel (default: Deno's, "attention-course"); the scratch copy's
 * kernelspec is set to it and screenshots go to `.browser-test/<lesson>-<kernel>/`.
 *
 * Works on scratch copies in .browser-test/_work/ (so the committed notebook is
 * never written). Needs Chromium: Debian's `chromium` (or CHROMIUM_PATH).
 * @module
 */
import { chromium, type Page } from "playwright-core";
import { basename, join } from "node:path";
import { KERNEL_NAME, ROOT, venvBin } from "./setup.ts";

/** What the browser check saw. */
export interface BrowserResult {
  status: "passed" | "skipped";
  reason?: string;
  plots?: number;
  reopenedPlots?: number;
  executedCopyPlots?: number;
  seconds?: number;
  /** One PNG per plot, in notebook order. */
  screenshots?: string[];
}

/**
 * Where the screenshots of a lesson go: .browser-test/<lesson name>/ on the course's default kernel,
 * .browser-test/<lesson name>-<kernel>/ on another.
 */
export function screenshotDir(notebook: string, kernel: string = KERNEL_NAME): string {
  const suffix = kernel === KERNEL_NAME ? "" : `-${kernel.replace(/^attention-course-/, "")}`;
  return join(ROOT, ".browser-test", `${basename(notebook, ".ipynb")}${suffix}`);
}

/** Copies a notebook, setting its kernelspec to `kernel` (the committed notebook names Deno's). */
async function copyForKernel(from: string, to: string, kernel: string): Promise<void> {
  const nb = JSON.parse(await Deno.readTextFile(from));
  if (kernel !== KERNEL_NAME || nb.metadata?.kernelspec?.name !== kernel) {
    const spec = JSON.parse(
      await Deno.readTextFile(join(ROOT, ".venv", "share", "jupyter", "kernels", kernel, "kernel.json")),
    );
    nb.metadata = {
      ...nb.metadata,
      kernelspec: { name: kernel, display_name: spec.display_name, language: spec.language },
    };
  }
  await Deno.writeTextFile(to, JSON.stringify(nb, null, 1) + "\n");
}

/** Chromium flags for the headless checks. */
export const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** The Chromium binary, or undefined. */
export async function findChromium(): Promise<string | undefined> {
  for (const p of [Deno.env.get("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser"]) {
    if (p && await Deno.stat(p).then(() => true, () => false)) return p;
  }
  return undefined;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A JupyterLab server on the course with a headless Chromium page open on it. */
interface Lab {
  page: Page;
  /** The lab URL of a file in the scratch folder. */
  url(name: string): string;
  /** The scratch folder (under the course root, so JupyterLab can open it). */
  scratch: string;
  /** The server's last log lines. */
  logTail(): string;
  close(): Promise<void>;
}

async function startLab(executable: string): Promise<Lab> {
  const scratch = join(ROOT, ".browser-test", "_work");
  const home = await Deno.makeTempDir({ prefix: "attention-course-lab-" });
  await Deno.mkdir(scratch, { recursive: true });
  // Autosave off: nothing is written unless the check saves.
  const settings = (extension: string, file: string, value: unknown) =>
    Deno.mkdir(join(home, "settings", "@jupyterlab", extension), { recursive: true }).then(() =>
      Deno.writeTextFile(join(home, "settings", "@jupyterlab", extension, file), JSON.stringify(value))
    );
  await settings("docmanager-extension", "plugin.jupyterlab-settings", { autosave: false });
  await settings("apputils-extension", "notification.jupyterlab-settings", { fetchNews: "false" });
  // Render every cell (JupyterLab 4 otherwise keeps off-screen cells out of the DOM), so outputs can be counted.
  await settings("notebook-extension", "tracker.jupyterlab-settings", { windowingMode: "none" });

  const port = freePort();
  const token = crypto.randomUUID().replaceAll("-", "");
  const server = new Deno.Command(venvBin("jupyter"), {
    args: [
      "lab",
      "--no-browser",
      `--port=${port}`,
      "--ip=127.0.0.1",
      `--IdentityProvider.token=${token}`,
      `--ServerApp.root_dir=${ROOT}`,
      "--ContentsManager.allow_hidden=True",
      "--LabApp.expose_app_in_browser=True",
      "--LabApp.news_url=",
      "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
      ...(Deno.uid() === 0 ? ["--allow-root"] : []),
    ],
    cwd: ROOT,
    env: {
      JUPYTERLAB_SETTINGS_DIR: join(home, "settings"),
      JUPYTERLAB_WORKSPACES_DIR: join(home, "workspaces"),
      JUPYTER_RUNTIME_DIR: join(home, "runtime"),
      JUPYTER_PLATFORM_DIRS: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const reader = stream.getReader(), text = new TextDecoder();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      log.push(text.decode(r.value, { stream: true }));
    }
  };
  const drained = Promise.all([drain(server.stdout), drain(server.stderr)]);
  const browser = await chromium.launch({ executablePath: executable, args: LAUNCH_ARGS });
  const close = async () => {
    await browser.close();
    try {
      server.kill("SIGTERM");
    } catch { /* already gone */ }
    await server.status;
    await drained;
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
    await Deno.remove(home, { recursive: true }).catch(() => {});
  };
  try {
    await waitForServer(port, token, log);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    return {
      page,
      scratch,
      url: (name) => `http://127.0.0.1:${port}/lab/tree/.browser-test/_work/${name}?token=${token}`,
      logTail: () => log.join("").split("\n").slice(-15).join("\n"),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Opens `notebook` (a copy of it) in the lab, runs all cells, and checks that no cell shows an error and that
 * the backend line was printed. Returns the number of plots drawn.
 */
async function runInLab(lab: Lab, notebook: string, shots: string, kernel: string): Promise<number> {
  const name = basename(notebook);
  await copyForKernel(join(ROOT, notebook), join(lab.scratch, name), kernel);
  const { page } = lab;
  await page.goto(lab.url(name));
  await waitForNotebook(page, `.browser-test/_work/${name}`, kernel);
  await runCommand(page, "notebook:run-all-cells");
  await waitForRun(page, shots);
  const plots = await countRenderedPlots(page);
  const stderr = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']");
  const errors = await stderr.count();
  if (errors > 0) {
    const text = await stderr.first().innerText();
    throw new Error(`${notebook} shows ${errors} error output(s) in JupyterLab; first: ${text.slice(0, 500)}`);
  }
  if (plots === 0) {
    throw new Error(`${notebook}: no plotly plot rendered (is the plotly JupyterLab extension installed?)`);
  }
  const backendLine = await page.locator(".jp-OutputArea-output", { hasText: "backend:" }).count();
  if (backendLine === 0) throw new Error(`${notebook} did not print its backend line`);
  return plots;
}

/**
 * One screenshot per rendered plot of the open notebook, named after its cell: `cell-12-plot-1.png` is the first
 * plot of cell 12 (cells counted from 0, Markdown included). Old screenshots in `dir` are removed first.
 */
async function screenshotPlots(page: Page, dir: string): Promise<string[]> {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  const outputs = page.locator(PLOT_OUTPUT);
  const perCell = new Map<number, number>();
  const files: string[] = [];
  for (let i = 0; i < await outputs.count(); i++) {
    const output = outputs.nth(i);
    const cell = await output.evaluate((el) => {
      // The cell's index in the notebook model (Markdown cells included), from the widget that holds the output.
      type Panel = { content?: { widgets: readonly { node: HTMLElement }[] } };
      const app = (globalThis as unknown as { jupyterapp?: { shell: { currentWidget?: Panel } } }).jupyterapp;
      return app?.shell.currentWidget?.content?.widgets.findIndex((w) => w.node.contains(el)) ?? -1;
    });
    const k = (perCell.get(cell) ?? 0) + 1;
    perCell.set(cell, k);
    await output.evaluate((el) => el.scrollIntoView({ block: "center" }));
    await output.locator("svg.main-svg").first().waitFor({ timeout: 15_000 }).catch(() => {});
    await page.waitForTimeout(300); // let plotly finish its layout pass
    const file = join(dir, `cell-${cell}-plot-${k}.png`);
    await output.screenshot({ path: file });
    files.push(file);
  }
  return files;
}

/**
 * Runs the browser check on `notebook` (a path under notebooks/): runs it in JupyterLab, takes one screenshot
 * per plot into {@linkcode screenshotDir}, saves, reopens (the plots must render from the saved file), and
 * opens `executedCopy`, a copy executed headless by nbclient, whose saved plots must render too.
 *
 * @param notebook The lesson to open, e.g. "notebooks/01-weighted-sums.ipynb".
 * @param executedCopy Optional nbclient-executed copy of it, to check that saved outputs render.
 * @param opts `kernel`: the registered kernel to run it on (default Deno's, "attention-course").
 */
export async function browserTest(
  notebook: string,
  executedCopy?: string,
  opts: { kernel?: string } = {},
): Promise<BrowserResult> {
  const kernel = opts.kernel ?? KERNEL_NAME;
  const executable = await findChromium();
  if (!executable) {
    return { status: "skipped", reason: "no Chromium (install Debian's chromium, or set CHROMIUM_PATH)" };
  }
  const t0 = performance.now();
  const shots = screenshotDir(notebook, kernel);
  const name = basename(notebook);
  const lab = await startLab(executable);
  try {
    const { page } = lab;
    // 1. Open the lesson, run all cells, one screenshot per plot.
    const plots = await runInLab(lab, notebook, shots, kernel);
    const screenshots = await screenshotPlots(page, shots);

    // 2. Save, reload the page, reopen: the plots must render from the saved file without re-running.
    await runCommand(page, "docmanager:save");
    await page.waitForTimeout(1500);
    const saved = await Deno.stat(join(lab.scratch, name));
    if (saved.size > 2_000_000) {
      throw new Error(`the saved notebook is ${saved.size} bytes: is plotly.js embedded in it?`);
    }
    await page.goto(lab.url(name));
    await waitForNotebook(page, `.browser-test/_work/${name}`, kernel);
    const reopenedPlots = await countRenderedPlots(page, plots);
    if (reopenedPlots !== plots) throw new Error(`after reopening, ${reopenedPlots} of ${plots} plots rendered`);

    // 3. A notebook executed headless by nbclient (untrusted): its saved plots render too.
    let executedCopyPlots: number | undefined;
    if (executedCopy) {
      await runCommand(page, "application:close-all");
      await page.waitForTimeout(1000);
      await copyForKernel(executedCopy, join(lab.scratch, `executed-${name}`), kernel);
      await page.goto(lab.url(`executed-${name}`));
      await waitForNotebook(page, `.browser-test/_work/executed-${name}`, kernel);
      executedCopyPlots = await countRenderedPlots(page, plots);
      if (executedCopyPlots !== plots) {
        throw new Error(`the nbclient-executed copy rendered ${executedCopyPlots} of ${plots} plots when opened`);
      }
    }
    return {
      status: "passed",
      plots,
      reopenedPlots,
      executedCopyPlots,
      seconds: (performance.now() - t0) / 1000,
      screenshots,
    };
  } catch (err) {
    throw new Error(
      `${err instanceof Error ? err.message : err}\n--- JupyterLab log (last lines) ---\n${lab.logTail()}`,
    );
  } finally {
    await lab.close();
  }
}

/**
 * Runs each lesson in one JupyterLab session and takes one screenshot per plot (no save/reopen step).
 *
 * @param notebooks Lessons, e.g. ["notebooks/01-weighted-sums.ipynb"].
 * @returns Per lesson, its screenshots and the seconds it took.
 */
export async function screenshotLessons(
  notebooks: string[],
  kernel: string = KERNEL_NAME,
): Promise<{ notebook: string; seconds: number; screenshots: string[] }[]> {
  const executable = await findChromium();
  if (!executable) {
    throw new Error("Cannot take screenshots: no Chromium (install Debian's chromium, or set CHROMIUM_PATH)");
  }
  const lab = await startLab(executable);
  const results = [];
  try {
    for (const notebook of notebooks) {
      const t0 = performance.now();
      await runInLab(lab, notebook, screenshotDir(notebook, kernel), kernel);
      const screenshots = await screenshotPlots(lab.page, screenshotDir(notebook, kernel));
      results.push({ notebook, seconds: (performance.now() - t0) / 1000, screenshots });
      // Save the scratch copy first: closing a modified notebook would stop at a "save changes?" dialog. Keep it
      // beside the screenshots: the outputs as JupyterLab placed them.
      await runCommand(lab.page, "docmanager:save");
      await lab.page.waitForTimeout(1500);
      await Deno.copyFile(join(lab.scratch, basename(notebook)), join(screenshotDir(notebook, kernel), "saved.ipynb"));
      await runCommand(lab.page, "application:close-all");
      await lab.page.waitForTimeout(1000);
    }
    return results;
  } catch (err) {
    throw new Error(
      `${err instanceof Error ? err.message : err}\n--- JupyterLab log (last lines) ---\n${lab.logTail()}`,
    );
  } finally {
    await lab.close();
  }
}

async function waitForServer(port: number, token: string, log: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/status?token=${token}`);
      await res.body?.cancel();
      if (res.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`JupyterLab did not start within 60 s:\n${log.join("").slice(-2000)}`);
}

/** Waits until `path` is the open notebook and its kernel (`kernel`) has started and is idle. */
async function waitForNotebook(page: Page, path: string, kernel: string): Promise<void> {
  await page.locator(".jp-NotebookPanel .jp-Cell").first().waitFor({ timeout: 60_000 });
  try {
    await page.waitForFunction(
      (want) => {
        type Widget = {
          context?: { path: string };
          sessionContext?: { session?: { kernel?: { status: string; name: string } } };
        };
        const app = (globalThis as unknown as { jupyterapp?: { shell: { currentWidget?: Widget } } }).jupyterapp;
        const widget = app?.shell.currentWidget;
        const kernel = widget?.sessionContext?.session?.kernel;
        return widget?.context?.path === want.path && kernel?.status === "idle" && kernel.name === want.kernel;
      },
      { path, kernel },
      { timeout: 90_000, polling: 250 },
    );
  } catch (err) {
    throw new Error(`${path} did not open with an idle "${kernel}" kernel: ${err}`);
  }
}

/** Starts a JupyterLab command without waiting for it (run-all resolves only when every cell is done). */
async function runCommand(page: Page, id: string): Promise<void> {
  await page.waitForFunction(() => "jupyterapp" in globalThis, undefined, { timeout: 60_000 });
  await page.evaluate((command) => {
    const app = (globalThis as unknown as { jupyterapp: { commands: { execute(id: string): Promise<unknown> } } })
      .jupyterapp;
    void app.commands.execute(command);
  }, id);
}

async function waitForRun(page: Page, shots: string): Promise<void> {
  await Deno.mkdir(shots, { recursive: true });
  // Every code cell gets a number in its prompt; "[*]" means running, "[ ]" queued.
  try {
    await page.waitForFunction(
      () => {
        const prompts = Array.from(
          document.querySelectorAll(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt"),
        );
        return prompts.length > 0 && prompts.every((p) => /\[\d+\]/.test(p.textContent ?? ""));
      },
      undefined,
      { timeout: Number(Deno.env.get("BROWSER_RUN_TIMEOUT_MS") ?? 240_000), polling: 500 },
    );
  } catch (err) {
    await page.screenshot({ path: join(shots, "failure.png") });
    const prompts = await page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt")
      .allInnerTexts();
    throw new Error(
      `the notebook did not finish running (prompts: ${prompts.join(" ")}); see ${join(shots, "failure.png")}: ${err}`,
    );
  }
}

// The plotly extension's renderer (it sets no data-mime-type attribute).
const PLOT_OUTPUT = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output.jp-RenderedPlotly";

/**
 * Plotly outputs that draw their SVG when scrolled into view, as a reader scrolls
 * (the renderer draws lazily). Waits up to a minute for at least `atLeast` outputs to exist.
 */
async function countRenderedPlots(page: Page, atLeast = 1): Promise<number> {
  const outputs = page.locator(PLOT_OUTPUT);
  const deadline = Date.now() + 60_000;
  while (await outputs.count() < atLeast && Date.now() < deadline) await page.waitForTimeout(500);
  let drawn = 0;
  for (let i = 0; i < await outputs.count(); i++) {
    const output = outputs.nth(i);
    await output.evaluate((el) => el.scrollIntoView({ block: "center" }));
    // Live plots draw an SVG; a reopened saved plot first shows the PNG snapshot the renderer stored with it.
    const visible = await output.evaluate((el) =>
      new Promise<boolean>((resolve) => {
        const start = Date.now();
        const poll = () => {
          const svg = el.querySelector("svg.main-svg");
          const img = el.querySelector("img") as HTMLImageElement | null;
          if (svg || (img && img.complete && img.naturalWidth > 0)) resolve(true);
          else if (Date.now() - start > 15_000) resolve(false);
          else setTimeout(poll, 200);
        };
        poll();
      })
    );
    if (visible) drawn++;
  }
  return drawn;
}

if (import.meta.main) {
  const args = [...Deno.args];
  const k = args.indexOf("--kernel");
  const kernel = k >= 0 ? args.splice(k, 2)[1] : KERNEL_NAME;
  const lessons = args.length ? args : ["notebooks/01-weighted-sums.ipynb"];
  for (const r of await screenshotLessons(lessons, kernel)) {
    console.log(`${r.notebook}: ${r.screenshots.length} plots in ${r.seconds.toFixed(1)} s`);
    for (const file of r.screenshots) console.log(`  ${file.slice(ROOT.length + 1)}`);
  }
}
