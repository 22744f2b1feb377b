import { assert, assertEquals, assertRejects } from "../lib/_testing.ts";
import { join } from "node:path";
import { assetFiles, buildSite, freshCopy, MARKER, renderPages } from "./site.ts";
import { checkLinks } from "./site_check.ts";
import { venvBin } from "./setup.ts";
import { findChromium, LAUNCH_ARGS } from "./browser_check.ts";
import { chromium } from "playwright-core";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";

const hasVenv = await Deno.stat(venvBin("python")).then(() => true, () => false);
const chromiumPath = await findChromium();
const PLOTLY = "application/vnd.plotly.v1+json";
const ATTACK = `</script><script>alert("x")</script>`;

/** An executed notebook whose every text field carries HTML or script injections. */
function hostileNotebook() {
  const md = (source: string) => ({ cell_type: "markdown", id: crypto.randomUUID().slice(0, 8), metadata: {}, source });
  const code = (source: string, outputs: unknown[], tags: string[] = []) => ({
    cell_type: "code",
    id: crypto.randomUUID().slice(0, 8),
    metadata: { tags },
    source,
    execution_count: 1,
    outputs,
  });
  const figure = { data: [{ type: "scatter", x: [1, 2], y: [3, 4], name: ATTACK }], layout: { title: ATTACK } };
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { language_info: { name: "typescript" } },
    cells: [
      md(
        "[js](javascript:alert(1))\n\n# Lesson <em>one</em>\n\nSee [the next lesson](02-b.ipynb#Part-2) and [exercise](../exercises/01-a.ipynb).",
      ),
      md(
        '## Part 1\n\n<script>alert("md")</script><img src="x" onerror="alert(1)"> ' +
          '<a href="data:text/html,<script>alert(1)</script>">d</a> ' +
          '<iframe src="https://example.com"></iframe><p style="color: red; background: url(https://e.com/x)">ok</p> $x < y$',
      ),
      md(`## Tricky <script>alert(8)</script> <img src="x" onerror="alert(9)"/> & "quotes"`),
      code(`console.log("</pre><script>alert(2)</script>")`, [
        { output_type: "stream", name: "stdout", text: `</pre><script>alert("stdout")</script>\n` },
        { output_type: "stream", name: "stderr", text: `<b>warning</b> on stderr\n` },
        { output_type: "stream", name: "stdout", text: `TensorFlow.js 4.22.0 backend: wasm <i>x</i>\n` },
        {
          output_type: "display_data",
          metadata: {},
          data: {
            "text/html": `<table onclick="alert(3)"><tr><td>cell</td></tr></table><script>alert("html")</script>`,
            "text/plain": "table",
          },
        },
        { output_type: "display_data", metadata: {}, data: { "text/plain": `<img src=x onerror=alert(4)>` } },
        {
          output_type: "display_data",
          metadata: {},
          data: { "text/markdown": `**bold** <script>alert("mdout")</script>`, "text/plain": "md" },
        },
        { output_type: "display_data", metadata: {}, data: { "text/latex": `$$a</div><script>alert(5)</script>$$` } },
        {
          output_type: "display_data",
          metadata: {},
          data: { "application/javascript": `alert("js")`, "text/plain": "js" },
        },
        {
          output_type: "display_data",
          metadata: {},
          data: { "text/vnd.mermaid": `graph TD;</pre><script>alert(6)</script>` },
        },
        {
          output_type: "execute_result",
          execution_count: 1,
          metadata: {},
          data: { [PLOTLY]: figure, "text/plain": "p" },
        },
        {
          output_type: "error",
          ename: "Error<script>",
          evalue: `bad <script>alert("err")</script>`,
          traceback: [`\u001b[31mError\u001b[0m: <script>alert("tb")</script>`],
        },
      ], [`"><script>alert("tag")</script>`]),
    ],
  };
}

/** Opens the rendered hostile page in Chromium: no injected script runs, the figure is drawn, the error is shown. */
async function openHostilePage(dir: string) {
  for (const [name, from] of Object.entries(assetFiles())) {
    await Deno.mkdir(dirname(join(dir, "assets", name)), { recursive: true });
    await Deno.copyFile(from, join(dir, "assets", name));
  }
  const browser = await chromium.launch({ executablePath: chromiumPath, args: LAUNCH_ARGS });
  try {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      d.dismiss().catch(() => {});
    });
    await page.route(/^https?:/, (route) => route.abort());
    await page.goto(pathToFileURL(join(dir, "01-a.html")).href);
    await page.waitForSelector('body[data-plots][data-math="typeset"]', { timeout: 60_000 });
    await page.waitForTimeout(300);
    assertEquals(dialogs, [], "an injected script ran");
    assertEquals(await page.getAttribute("body", "data-plots"), "1");
    assertEquals(await page.locator(".site-plot svg.main-svg").count() > 0, true);
    const handlers = await page.evaluate(() =>
      Array.from(document.querySelectorAll("*")).flatMap((el) =>
        Array.from(el.attributes).filter((a) => a.name.startsWith("on")).map((a) => `${el.tagName} ${a.name}`)
      )
    );
    assertEquals(handlers, []);
    assert((await page.locator(".site-error").innerText()).includes('<script>alert("tb")</script>'), "error shown");
  } finally {
    await browser.close();
  }
}

/** The <script> elements of a page: their attributes. */
const scripts = (html: string) => [...html.matchAll(/<script\b([^>]*)>/gi)].map((m) => m[1].trim());

Deno.test({
  name: "site: notebook text reaches the page escaped or sanitized; figures stay inert JSON",
  ignore: !hasVenv,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const nb = join(dir, "hostile.ipynb");
      await Deno.writeTextFile(nb, JSON.stringify(hostileNotebook()));
      await Deno.writeTextFile(
        join(dir, "b.ipynb"),
        JSON.stringify({
          ...hostileNotebook(),
          cells: [{ cell_type: "markdown", metadata: {}, source: "# B\n\n## Part 2" }],
        }),
      );
      const [report] = await renderPages(dir, [
        { source: nb, name: "01-a", lesson: "01-a.ipynb" },
        { source: join(dir, "b.ipynb"), name: "02-b", lesson: "02-b.ipynb" },
      ]);
      const html = await Deno.readTextFile(join(dir, "01-a.html"));
      // Only the site's own scripts, and the figure's inert JSON.
      assertEquals(scripts(html), [
        'src="assets/mathjax-config.js"',
        'defer="" src="assets/mathjax/tex-svg-full.js"', // (as BeautifulSoup writes it)
        `type="${PLOTLY}"`,
        'src="assets/plotly.min.js"',
        'src="assets/site.js"',
      ]);
      for (
        const bad of [
          /<[^>]*\son[a-z]+\s*=/i,
          /<[^>]*javascript:/i,
          /<[^>]*="data:text/i,
          /<iframe/i,
          /<[^>]*url\(/i,
          /alert\("js"\)/,
        ]
      ) {
        assert(!bad.test(html), `the page holds ${bad}`);
      }
      // What was text is shown as text.
      assert(html.includes(`&lt;/pre&gt;&lt;script&gt;alert("stdout")&lt;/script&gt;`), "stdout escaped");
      assert(html.includes("&lt;b&gt;warning&lt;/b&gt; on stderr"), "stderr escaped");
      assert(html.includes("<pre>&lt;img src=x onerror=alert(4)&gt;</pre>"), "text/plain escaped");
      assert(
        html.includes(`Error</span>: &lt;script&gt;alert("tb")&lt;/script&gt;`),
        "traceback escaped, colours kept",
      );
      assert(html.includes(`&lt;script&gt;alert("md")&lt;/script&gt;`), "script in Markdown shown as text");
      assert(html.includes(`celltag_"&gt;&lt;script&gt;`), "cell tag escaped inside its attribute");
      assert(html.includes("graph TD;&lt;/pre&gt;&lt;script&gt;"), "mermaid source escaped");
      assert(html.includes('<p style="color: red;">ok</p>'), "safe markup and CSS kept, unsafe CSS dropped");
      assert(
        html.includes("<table><tbody><tr><td>cell</td></tr></tbody></table>&lt;script&gt;"),
        "HTML output kept without its handler",
      );
      assert(html.includes("<strong>bold</strong>"), "Markdown output rendered");
      // The figure's JSON parses back to the figure.
      const json = /<script type="application\/vnd\.plotly\.v1\+json">([^<]*)<\/script>/.exec(html)?.[1];
      assert(json, "figure JSON present and free of <");
      assertEquals(JSON.parse(json).data[0].name, ATTACK);
      assertEquals(JSON.parse(json).layout.title, ATTACK);
      // Links to lessons become links to pages; the others are reported.
      assert(html.includes('href="02-b.html#Part-2"'), "lesson link rewritten");
      assertEquals(report.unresolvedLinks, ["../exercises/01-a.ipynb"]);
      assertEquals(report.title, "Lesson one");
      assertEquals(report.sections.map((x) => x.title), ["Part 1", `Tricky <script>alert(8)</script>  & "quotes"`]);
      const tricky = report.sections[1].id;
      assert(!/[<>"\s]/.test(tricky), `heading id ${tricky} holds markup characters`);
      assert(
        html.includes(`<a href="#${tricky.replaceAll("&", "&amp;")}">Tricky &lt;script&gt;alert(8)&lt;/script&gt; `),
        "section list",
      );
      assertEquals([report.errors, report.stderr, report.plots], [1, 1, 1]);
      // The contents page: titles and sections, linked to ids that exist.
      const index = await Deno.readTextFile(join(dir, "index.html"));
      assert(index.includes('<a href="01-a.html#Part-1">Part 1</a>'));
      assert(index.includes("Lesson <em>one</em>"));
      assert(index.includes("<code>TensorFlow.js 4.22.0 backend: wasm &lt;i&gt;x&lt;/i&gt;</code>"), "backend line");
      assertEquals((await checkLinks(dir)).broken, ["01-a.html: ../exercises/01-a.ipynb (no such file)"]);
      if (chromiumPath) await openHostilePage(dir);
      else console.log("(no Chromium: the hostile page was not opened in a browser)");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("site: an executed copy is fresh only with the lesson's cells, all run, and newer than the code", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lessonDir = join(dir, "notebooks");
    await Deno.mkdir(lessonDir);
    const cells = [{ cell_type: "code", metadata: {}, source: "1 + 1", outputs: [], execution_count: null }];
    const lesson = join(lessonDir, "01-a.ipynb");
    await Deno.writeTextFile(lesson, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells }));
    // freshCopy names copies after the lesson's path relative to the course root; outside it, after the whole path.
    const { relative } = await import("node:path");
    const { ROOT } = await import("./setup.ts");
    const copy = join(dir, relative(ROOT, lesson).replaceAll("/", "__"));
    const write = (c: unknown[]) => Deno.writeTextFile(copy, JSON.stringify({ nbformat: 4, metadata: {}, cells: c }));
    await write([{ ...cells[0], execution_count: 1 }]);
    assertEquals(await freshCopy(lesson, dir, 0), copy);
    assertEquals(await freshCopy(lesson, dir, Date.now() + 60_000), undefined, "older than the code");
    await write(cells);
    assertEquals(await freshCopy(lesson, dir, 0), undefined, "a cell not executed");
    await write([{ ...cells[0], source: "2 + 2", execution_count: 1 }]);
    assertEquals(await freshCopy(lesson, dir, 0), undefined, "other source");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("site: refuses to replace a folder it did not build", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "precious.txt"), "keep me");
    await assertRejects(() => buildSite(dir), Error, `no ${MARKER}`);
    assertEquals(await Deno.readTextFile(join(dir, "precious.txt")), "keep me");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
