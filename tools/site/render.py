"""Renders executed notebooks to the course site's HTML pages with nbconvert.

Usage: render.py < job.json

The job (written by tools/site.ts):
  {"out": DIR, "pages": [{"source": executed.ipynb, "name": "01-weighted-sums", "lesson": "01-weighted-sums.ipynb"}, ...]}
Writes DIR/<name>.html for each page, DIR/index.html (the table of contents) and DIR/assets/jupyterlab.css
(JupyterLab's styles), and prints one JSON document on
stdout: for each page its name, title, sections, error and stderr output counts, the plots it holds, and the links to
notebooks it could not turn into pages of the site.

nbconvert (its JupyterLab template, extended in templates/course/) renders cells and outputs; on top of it:
- HTML from notebooks (Markdown cells, Markdown and HTML outputs) goes through an allow-list sanitizer (bleach, as
  nbconvert's own sanitize_html does, with JupyterLab's safe tags: headings, paragraphs, tables, images) — notebooks
  are untrusted data. nbconvert 7.17's own clean_html cannot be used: its list lacks h1-h6, p, th, thead and img, so
  it prints a lesson's headings and paragraphs as escaped tags;
- plotly figures are kept as JSON in inert <script type="application/vnd.plotly.v1+json"> elements (with <, > and &
  escaped) for assets/site.js to draw;
- links to a lesson's .ipynb become links to its .html page.
"""

import html
import json
import os
import re
import sys
from html.parser import HTMLParser

import bleach
import markupsafe
import nbformat
from bleach.css_sanitizer import CSSSanitizer
from nbconvert import HTMLExporter
from traitlets.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
PLOTLY_MIME = "application/vnd.plotly.v1+json"

# JupyterLab's sanitizer allows these (a subset of its list: no forms, media or frames).
TAGS = [
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var", "wbr",
]  # fmt: skip
ATTRIBUTES = {
    "*": ["class", "id", "title", "style", "lang", "dir"],
    "a": ["href", "name", "target", "rel"],
    "img": ["src", "alt", "width", "height"],
    "td": ["colspan", "rowspan", "align"],
    "th": ["colspan", "rowspan", "align", "scope"],
    "col": ["span"],
    "colgroup": ["span"],
    "ol": ["start", "type"],
    "details": ["open"],
}
PROTOCOLS = ["http", "https", "mailto", "data"]
CSS = CSSSanitizer()  # bleach's default list of safe CSS properties (colours, alignment, borders, fonts, sizes)


def clean_html(text):
    """The allow-list sanitizer for every piece of HTML that comes from a notebook."""
    text = text.decode() if isinstance(text, bytes) else str(text)
    cleaned = bleach.clean(text, tags=TAGS, attributes=ATTRIBUTES, protocols=PROTOCOLS, css_sanitizer=CSS)
    # bleach allows data: URLs by protocol only; keep them for raster images, never in links.
    cleaned = re.sub(r'(<a\b[^>]*?\shref=")data:[^"]*"', r'\1#"', cleaned)
    cleaned = re.sub(r'(<img\b[^>]*?\ssrc=")data:(?!image/(?:png|jpeg|gif|webp);)[^"]*"', r'\1"', cleaned)
    return markupsafe.Markup(rewrite_links(cleaned))  # noqa: S704 (sanitized above)


def json_script(value):
    """JSON safe inside a <script> element: <, > and & escaped as JSON unicode escapes."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return markupsafe.Markup(text)  # noqa: S704 (escaped above)


# Lesson file name -> page name, and links that could not be rewritten (per page), filled by render().
LESSONS = {}
UNRESOLVED = []
LINK = re.compile(r'(\shref=")([^"#?:]*\.ipynb)((?:#[^"]*)?)"')
LESSON_PATH = re.compile(r"(?:\./|\.\./notebooks/)?([^/]+\.ipynb)")


def rewrite_links(text):
    """Relative links to a lesson's .ipynb point at its page; other links to notebooks are noted in UNRESOLVED."""

    def replace(match):
        prefix, path, fragment = match.groups()
        lesson = LESSON_PATH.fullmatch(html.unescape(path))
        page = LESSONS.get(lesson.group(1)) if lesson else None
        if page is None:
            UNRESOLVED.append(html.unescape(path))
            return match.group(0)
        return f'{prefix}{html.escape(page)}.html{fragment}"'

    return LINK.sub(replace, text)


class Headings(HTMLParser):
    """The h1–h3 headings of a page: level, id and inner HTML (anchor link left out)."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.found = []
        self.current = None
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if re.fullmatch(r"h[1-3]", tag) and attrs.get("id"):
            self.current = {"level": int(tag[1]), "id": attrs["id"], "html": ""}
        elif self.current is not None:
            if tag == "a" and "anchor-link" in (attrs.get("class") or ""):
                self.skip += 1
            elif not self.skip:
                self.current["html"] += self.get_starttag_text()

    def handle_endtag(self, tag):
        if self.current is None:
            return
        if re.fullmatch(r"h[1-3]", tag):
            self.current["html"] = self.current["html"].strip()
            self.found.append(self.current)
            self.current = None
        elif tag == "a" and self.skip:
            self.skip -= 1
        elif not self.skip:
            self.current["html"] += f"</{tag}>"

    def handle_data(self, data):
        if self.current is not None and not self.skip:
            self.current["html"] += html.escape(data, quote=False)

    def handle_entityref(self, name):
        self.handle_data(html.unescape(f"&{name};"))

    def handle_charref(self, name):
        self.handle_data(html.unescape(f"&#{name};"))


def plain(fragment):
    """Text of an HTML fragment (for <title> and navigation links)."""
    return html.unescape(re.sub(r"<[^>]*>", "", fragment)).strip()


def exporter():
    # The priority is NbConvertBase's setting (the data-type filter reads it), so it goes through a Config.
    priority = [
        PLOTLY_MIME,
        "text/html",
        "text/markdown",
        "text/latex",
        "image/svg+xml",
        "image/png",
        "image/jpeg",
        "text/vnd.mermaid",  # shown as its source (no mermaid.js on the site)
        "text/plain",
    ]
    return HTMLExporter(
        config=Config({"NbConvertBase": {"display_data_priority": priority}}),
        template_name="course",
        extra_template_basedirs=[os.path.join(HERE, "templates")],
        sanitize_html=True,
        embed_images=False,  # never read local files named by a notebook into the site
        filters={"clean_html": clean_html, "json_script": json_script},
    )


def render(job):
    out = job["out"]
    pages = job["pages"]
    LESSONS.clear()
    LESSONS.update({p["lesson"]: p["name"] for p in pages})
    notebooks = [nbformat.read(p["source"], as_version=4) for p in pages]
    # First pass: titles and sections (from each lesson's own Markdown, rendered and sanitized as on its page).
    export = exporter()
    outlines = []
    for page, nb in zip(pages, notebooks):
        probe = nbformat.v4.new_notebook(cells=[c for c in nb.cells if c.cell_type == "markdown"], metadata=nb.metadata)
        body, _ = export.from_notebook_node(probe, {"site": {}})
        parser = Headings()
        parser.feed(body)
        headings = parser.found
        h1 = next((h for h in headings if h["level"] == 1), None)
        title_html = h1["html"] if h1 else html.escape(page["name"])
        outlines.append({
            "title_html": title_html,
            "title": plain(title_html) or page["name"],
            "sections": [h for h in headings if h["level"] == 2],
        })
    report = []
    for i, (page, nb) in enumerate(zip(pages, notebooks)):
        UNRESOLVED.clear()
        nav = lambda j: {"href": pages[j]["name"] + ".html", "title": outlines[j]["title"]}  # noqa: E731
        site = {
            "prev": nav(i - 1) if i > 0 else None,
            "next": nav(i + 1) if i + 1 < len(pages) else None,
            # (id, inner HTML): the HTML is the sanitized heading's, the id is escaped in the template.
            "sections": outlines[i]["sections"],
        }
        nb.metadata["title"] = outlines[i]["title"]
        body, _ = export.from_notebook_node(nb, {"site": site, "metadata": {"name": page["name"]}})
        with open(os.path.join(out, page["name"] + ".html"), "w", encoding="utf-8") as f:
            f.write(body)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        report.append({
            "name": page["name"],
            "title": outlines[i]["title"],
            "sections": [{"id": s["id"], "title": plain(s["html"])} for s in outlines[i]["sections"]],
            "errors": sum(o.get("output_type") == "error" for o in outputs),
            "stderr": sum(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in outputs),
            "plots": sum(PLOTLY_MIME in o.get("data", {}) for o in outputs),
            "unresolvedLinks": sorted(set(UNRESOLVED)),
        })
    backends = sorted({line for nb in notebooks for line in backend_lines(nb)})
    with open(os.path.join(out, "index.html"), "w", encoding="utf-8") as f:
        f.write(index_page(job.get("title", "Course"), pages, outlines, backends))
    # JupyterLab's styles, from nbconvert's lab template, once for all pages (the template would inline them).
    env = export.environment
    os.makedirs(os.path.join(out, "assets"), exist_ok=True)
    with open(os.path.join(out, "assets", "jupyterlab.css"), "w", encoding="utf-8") as f:
        f.write("/* JupyterLab's styles, from nbconvert's lab template (BSD-3-Clause, Project Jupyter). */\n")
        for name in ("static/index.css", "static/theme-light.css"):
            f.write(env.loader.get_source(env, name)[0] + "\n")
    return report


BACKEND_LINE = re.compile(r"TensorFlow\.js \S+ backend: [^\n]*")  # what initBackend() prints (tools/run_notebooks.py)


def backend_lines(nb):
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.get("output_type") == "stream" else ""
            match = BACKEND_LINE.search(text if isinstance(text, str) else "")
            if match:
                yield re.sub(r"\x1b\[[0-9;]*m", "", match.group(0)).strip()
                return


def index_page(title, pages, outlines, backends):
    items = []
    for page, outline in zip(pages, outlines):
        href = html.escape(page["name"] + ".html")
        sections = "".join(
            f'<li><a href="{href}#{html.escape(s["id"])}">{s["html"]}</a></li>' for s in outline["sections"]
        )
        items.append(
            f'<li class="site-lesson"><a href="{href}">{outline["title_html"]}</a>'
            + (f"<ul>{sections}</ul>" if sections else "")
            + "</li>"
        )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="assets/site.css">
<script src="assets/mathjax-config.js"></script>
<script src="assets/mathjax/tex-svg-full.js" defer></script>
</head>
<body class="site-index">
<main>
<h1>{html.escape(title)}</h1>
<p>Every lesson of the course, run from top to bottom, with its outputs. The figures are interactive
(hover, zoom, pan); nothing here needs a network connection. To run the lessons yourself and do their
exercises, get the course and run <code>npx --yes deno@2.9.6 task lab</code> (see its README).</p>
{backends_note(backends)}
<ol class="site-toc">
{"".join(items)}
</ol>
</main>
</body>
</html>
"""


def backends_note(backends):
    if not backends:
        return ""
    lines = "".join(f"<li><code>{html.escape(b)}</code></li>" for b in backends)
    return (
        '<p class="site-backend">Timings and other machine-dependent numbers were measured on the computer that '
        f"built these pages, on this TensorFlow.js backend:</p><ul class=\"site-backend\">{lines}</ul>"
    )


def main():
    job = json.load(sys.stdin)
    json.dump(render(job), sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
