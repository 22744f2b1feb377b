/// <reference lib="dom" />
/**
 * The course as a student sees it: JupyterLab in headless Chromium opens
 * lesson 01, runs all cells with the course kernel, and we assert that plotly
 * plots rendered, that no cell shows an error, and that the plots render again
 * when the saved notebook is reopened. Screenshots go to .cache/screenshots/.
 *
 * Works on scratch copies in .browser-test/ (so the committed notebook is never
 * written). Needs Chromium: Debian's `chromium` (or CHROMIUM_PATH).
 * @module
 */
import { chromium, type Page } from "playwright-core";
import { basename, join } from "node:path";
import { ROOT, venvBin } from "./setup.ts";

/** What the browser test saw. */
export interface BrowserResult {
  status: "passed" | "skipped";
  reason?: string;
  plots?: number;
  reopenedPlots?: number;
  executedCopyPlots?: number;
  seconds?: number;
  screenshots?: string[];
}

const LAUNCH_ARGS = [
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

/**
 * Runs the browser test on `notebook` (a path under notebooks/).
 *
 * @param notebook The lesson to open, e.g. "notebooks/01-weighted-sums.ipynb".
 * @param executedCopy Optional nbclient-executed copy of it, to check that saved outputs render.
 */
export async function browserTest(notebook: string, executedCopy?: string): Promise<BrowserResult> {
  const shot = (what: string) => `${basename(notebook, ".ipynb")}-${what}.png`; // e.g. 01-weighted-sums-plot.png
  const executable = await findChromium();
  if (!executable) {
    return { status: "skipped", reason: "no Chromium (install Debian's chromium, or set CHROMIUM_PATH)" };
  }
  const t0 = performance.now();
  const scratch = join(ROOT, ".browser-test");
  const home = await Deno.makeTempDir({ prefix: "attention-course-lab-" });
  const shots = join(ROOT, ".cache", "screenshots");
  await Deno.mkdir(scratch, { recursive: true });
  await Deno.mkdir(shots, { recursive: true });
  const name = basename(notebook);
  await Deno.copyFile(join(ROOT, notebook), join(scratch, name));
  if (executedCopy) await Deno.copyFile(executedCopy, join(scratch, `executed-${name}`));
  // Autosave off: nothing is written unless the test saves.
  const settings = join(home, "settings", "@jupyterlab", "docmanager-extension");
  await Deno.mkdir(settings, { recursive: true });
  await Deno.writeTextFile(join(settings, "plugin.jupyterlab-settings"), JSON.stringify({ autosave: false }));
  const notifications = join(home, "settings", "@jupyterlab", "apputils-extension");
  await Deno.mkdir(notifications, { recursive: true });
  await Deno.writeTextFile(
    join(notifications, "notification.jupyterlab-settings"),
    JSON.stringify({ fetchNews: "false" }),
  );
  // Render every cell (JupyterLab 4 otherwise keeps off-screen cells out of the DOM), so outputs can be counted.
  const tracker = join(home, "settings", "@jupyterlab", "notebook-extension");
  await Deno.mkdir(tracker, { recursive: true });
  await Deno.writeTextFile(join(tracker, "tracker.jupyterlab-settings"), JSON.stringify({ windowingMode: "none" }));

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
  try {
    await waitForServer(port, token, log);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const base = `http://127.0.0.1:${port}`;
    const url = (path: string) => `${base}/lab/tree/.browser-test/${path}?token=${token}`;

    // 1. Open the lesson, run all cells, wait for the kernel to finish.
    await page.goto(url(name));
    await waitForNotebook(page, `.browser-test/${name}`);
    await runCommand(page, "notebook:run-all-cells");
    await waitForRun(page, shots);
    const plots = await countRenderedPlots(page);
    const errors = await page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count();
    const backendLine = await page.locator(".jp-OutputArea-output", { hasText: "backend:" }).count();
    await page.screenshot({ path: join(shots, shot("top")) });
    await page.locator(PLOT_OUTPUT).nth(1).evaluate((el) => el.scrollIntoView({ block: "center" }));
    await page.screenshot({ path: join(shots, shot("plot")) });
    if (errors > 0) {
      const text = await page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").first()
        .innerText();
      throw new Error(`lesson shows ${errors} error output(s) in JupyterLab; first: ${text.slice(0, 500)}`);
    }
    if (plots === 0) {
      throw new Error("no plotly plot rendered in the output area (is the plotly JupyterLab extension installed?)");
    }
    if (backendLine === 0) throw new Error("the notebook did not print its backend line");

    // 2. Save, reload the page, reopen: the plots must render from the saved file without re-running.
    await runCommand(page, "docmanager:save");
    await page.waitForTimeout(1500);
    const saved = await Deno.stat(join(scratch, name));
    if (saved.size > 2_000_000) {
      throw new Error(`the saved notebook is ${saved.size} bytes: is plotly.js embedded in it?`);
    }
    await page.goto(url(name));
    await waitForNotebook(page, `.browser-test/${name}`);
    const reopenedPlots = await countRenderedPlots(page, plots);
    await page.screenshot({ path: join(shots, shot("reopened")) });
    if (reopenedPlots !== plots) throw new Error(`after reopening, ${reopenedPlots} of ${plots} plots rendered`);

    // 3. A notebook executed headless by nbclient (untrusted): its saved plots render too.
    let executedCopyPlots: number | undefined;
    if (executedCopy) {
      await runCommand(page, "application:close-all");
      await page.waitForTimeout(1000);
      await page.goto(url(`executed-${name}`));
      await waitForNotebook(page, `.browser-test/executed-${name}`);
      executedCopyPlots = await countRenderedPlots(page, plots);
      await page.screenshot({ path: join(shots, shot("executed-copy")) });
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
      screenshots: [join(shots, shot("top")), join(shots, shot("plot"))],
    };
  } catch (err) {
    const tail = log.join("").split("\n").slice(-15).join("\n");
    throw new Error(`${err instanceof Error ? err.message : err}\n--- JupyterLab log (last lines) ---\n${tail}`);
  } finally {
    await browser.close();
    try {
      server.kill("SIGTERM");
    } catch { /* already gone */ }
    await server.status;
    await drained;
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
    await Deno.remove(home, { recursive: true }).catch(() => {});
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

/** Waits until `path` is the open notebook and its kernel (the course's) has started and is idle. */
async function waitForNotebook(page: Page, path: string): Promise<void> {
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
        return widget?.context?.path === want && kernel?.status === "idle" && kernel.name === "attention-course";
      },
      path,
      { timeout: 90_000, polling: 250 },
    );
  } catch (err) {
    throw new Error(`${path} did not open with an idle "attention-course" kernel: ${err}`);
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
  // Every code cell gets a number in its prompt; "[*]" means running, "[ ]" queued.
  try {
    await page.waitForFunction(
      () => {
        const prompts = Array.from(document.querySelectorAll(".jp-CodeCell .jp-InputPrompt"));
        return prompts.length > 0 && prompts.every((p) => /\[\d+\]/.test(p.textContent ?? ""));
      },
      undefined,
      { timeout: Number(Deno.env.get("BROWSER_RUN_TIMEOUT_MS") ?? 240_000), polling: 500 },
    );
  } catch (err) {
    await page.screenshot({ path: join(shots, "failure.png") });
    const prompts = await page.locator(".jp-CodeCell .jp-InputPrompt").allInnerTexts();
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
  const result = await browserTest(Deno.args[0] ?? "notebooks/01-weighted-sums.ipynb", Deno.args[1]);
  console.log(JSON.stringify(result, null, 2));
}
