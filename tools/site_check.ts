/// <reference lib="dom" />
/**
 * The built course site as a reader sees it: headless Chromium opens pages of the site from disk (file://), with
 * every network request blocked (the site must work offline), and checks that each page's plotly figures are drawn
 * (an SVG per figure), its math is typeset by MathJax, no script failed, and every link between the site's pages
 * points at a page and section that exist. Screenshots go to .browser-test/site/.
 *
 *     deno run --allow-all tools/site_check.ts [<site dir>] [page.html …]
 *
 * (default: _site/, its contents page and the first and last lessons). The suite calls {@linkcode checkSite}.
 * @module
 */
import { chromium } from "playwright-core";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { findChromium, LAUNCH_ARGS } from "./browser_check.ts";
import { ROOT } from "./setup.ts";

/** What the browser saw on one page. */
export interface PageSeen {
  page: string;
  /** Plotly figures in the page (inert JSON elements). */
  figures: number;
  /** Figures with a drawn SVG. */
  drawn: number;
  /** MathJax-typeset formulas. */
  formulas: number;
  /** Error outputs shown on the page. */
  errorOutputs: number;
  screenshots: string[];
}

/** The result of {@linkcode checkSite}. */
export interface SiteSeen {
  status: "passed" | "skipped";
  reason?: string;
  pages?: PageSeen[];
  /** Links between pages checked (href → an existing file and id). */
  links?: number;
}

/** Where the screenshots go. */
export const SITE_SHOTS = join(ROOT, ".browser-test", "site");

/**
 * Checks the links of every page of the site without a browser: each relative href must name a file of the site,
 * and its #fragment an id in that file.
 *
 * @returns The number of links checked and the broken ones.
 */
export async function checkLinks(dir: string): Promise<{ links: number; broken: string[] }> {
  const pages = new Map<string, string>();
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".html")) {
      pages.set(entry.name, await Deno.readTextFile(join(dir, entry.name)));
    }
  }
  const ids = (html: string) => new Set([...html.matchAll(/\sid="([^"]*)"/g)].map((m) => decodeEntities(m[1])));
  const idsOf = new Map([...pages].map(([name, html]) => [name, ids(html)]));
  let links = 0;
  const broken: string[] = [];
  for (const [name, html] of pages) {
    for (const [, raw] of html.matchAll(/<a\s[^>]*?href="([^"]*)"/g)) {
      const href = decodeEntities(raw);
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // http:, mailto: …: not part of the site
      links++;
      const [file, fragment] = href.split("#", 2);
      const target = file === "" ? name : file;
      if (!pages.has(target)) {
        const exists = await Deno.stat(join(dir, target)).then(() => true, () => false);
        if (!exists) broken.push(`${name}: ${href} (no such file)`);
        continue;
      }
      if (fragment !== undefined && fragment !== "" && !idsOf.get(target)!.has(fragment)) {
        broken.push(`${name}: ${href} (no id "${fragment}" in ${target})`);
      }
    }
  }
  return { links, broken };
}

function decodeEntities(s: string): string {
  return s.replace(
    /&(amp|lt|gt|quot|#39|#x27);/g,
    (_m, e) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", "#x27": "'" })[e as string]!,
  );
}

/**
 * Opens `pages` of the site in `dir` in headless Chromium, from file://, offline, and checks each (see the module's
 * documentation). Throws with what was wrong; returns "skipped" when there is no Chromium.
 *
 * @param dir The built site.
 * @param pages Page file names, e.g. ["index.html", "01-weighted-sums.html"].
 */
export async function checkSite(dir: string, pages: string[]): Promise<SiteSeen> {
  dir = resolve(dir);
  const { links, broken } = await checkLinks(dir);
  if (broken.length) throw new Error(`broken links in the site:\n${broken.join("\n")}`);
  const executable = await findChromium();
  if (!executable) {
    return { status: "skipped", reason: "no Chromium (install Debian's chromium, or set CHROMIUM_PATH)" };
  }
  await Deno.remove(SITE_SHOTS, { recursive: true }).catch(() => {});
  await Deno.mkdir(SITE_SHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: executable, args: LAUNCH_ARGS });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const blocked: string[] = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file://") || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
      blocked.push(url);
      return route.abort();
    });
    const seen: PageSeen[] = [];
    for (const name of pages) {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on("pageerror", (err) => problems.push(`script error: ${err.message}`));
      page.on("dialog", (dialog) => {
        problems.push(`a script opened a dialog: ${dialog.message()}`);
        dialog.dismiss().catch(() => {});
      });
      page.on("console", (msg) => {
        if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
      });
      page.on("requestfailed", (req) => {
        if (!blocked.includes(req.url())) problems.push(`failed to load ${req.url()}`);
      });
      await page.goto(pathToFileURL(join(dir, name)).href);
      const isLesson = await page.locator("body.jp-Notebook").count() > 0;
      const figures = await page.locator('script[type="application/vnd.plotly.v1+json"]').count();
      if (isLesson) {
        await page.waitForSelector("body[data-plots]", { timeout: 60_000 }).catch(() => {
          problems.push("assets/site.js never finished drawing the figures");
        });
      }
      await page.waitForSelector('body[data-math="typeset"]', { timeout: 60_000 }).catch(() => {
        problems.push("MathJax never finished typesetting");
      });
      const drawn = await page.locator(".site-plot svg.main-svg").evaluateAll((els) =>
        new Set(els.map((e) => e.closest(".site-plot"))).size
      );
      const formulas = await page.locator("mjx-container").count();
      const mathErrors = await page.locator("mjx-merror").count();
      const errorOutputs = await page.locator(".site-error").count();
      if (drawn !== figures) problems.push(`${drawn} of ${figures} plotly figures drawn`);
      if (mathErrors) problems.push(`${mathErrors} formula(s) MathJax could not typeset`);
      const untypeset = await page.evaluate(() =>
        Array.from(document.querySelectorAll(".jp-RenderedMarkdown, .site-toc"))
          .map((e) => /\$[^$\s][^$]*\$/.exec(e.textContent ?? "")?.[0])
          .filter((m) => m !== undefined)
      );
      if (untypeset.length) problems.push(`$…$ left untypeset in Markdown: ${untypeset.slice(0, 3).join(", ")}`);
      const stem = name.replace(/\.html$/, "");
      const screenshots = [join(SITE_SHOTS, `${stem}.png`)];
      await page.screenshot({ path: screenshots[0] });
      const plots = page.locator(".site-plot");
      for (let i = 0; i < Math.min(2, await plots.count()); i++) {
        const file = join(SITE_SHOTS, `${stem}-plot-${i + 1}.png`);
        await plots.nth(i).scrollIntoViewIfNeeded();
        await plots.nth(i).screenshot({ path: file });
        screenshots.push(file);
      }
      if (blocked.length) problems.push(`asked the network for ${[...new Set(blocked)].join(", ")}`);
      await page.close();
      if (problems.length) throw new Error(`${name}: ${problems.join("; ")}`);
      if (isLesson && formulas === 0) throw new Error(`${name}: no typeset math`);
      seen.push({ page: name, figures, drawn, formulas, errorOutputs, screenshots });
    }
    return { status: "passed", pages: seen, links };
  } finally {
    await browser.close();
  }
}

if (import.meta.main) {
  const dir = resolve(Deno.args[0] ?? join(ROOT, "_site"));
  let pages = Deno.args.slice(1);
  if (!pages.length) {
    const lessons = [];
    for await (const e of Deno.readDir(dir)) if (/^\d.*\.html$/.test(e.name)) lessons.push(e.name);
    lessons.sort();
    pages = ["index.html", lessons[0], lessons.at(-1)!].filter(Boolean);
  }
  const r = await checkSite(dir, pages);
  if (r.status === "skipped") {
    console.log(`skipped: ${r.reason}`);
  } else {
    console.log(`${r.links} links between pages checked`);
    for (const p of r.pages!) {
      console.log(`${p.page}: ${p.drawn}/${p.figures} figures drawn, ${p.formulas} formulas, ${p.errorOutputs} errors`);
      for (const s of p.screenshots) console.log(`  ${s.slice(ROOT.length + 1)}`);
    }
  }
}
