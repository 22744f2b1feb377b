// MathJax 3 (vendored from npm into assets/mathjax/): the delimiters JupyterLab uses. Code and outputs in <pre>
// and <code> are left alone (MathJax's default), as are the navigation bars.
globalThis.MathJax = {
  tex: {
    inlineMath: [["$", "$"], ["\\(", "\\)"]],
    displayMath: [["$$", "$$"], ["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
    tags: "ams",
  },
  options: {
    ignoreHtmlClass: "tex2jax_ignore|mathjax_ignore",
    menuOptions: { settings: { assistiveMml: true } },
  },
  svg: { fontCache: "global" },
  startup: {
    pageReady() {
      return MathJax.startup.defaultPageReady().then(() => document.body.setAttribute("data-math", "typeset"));
    },
  },
};
