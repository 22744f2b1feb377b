// Draws the course's plotly figures. Each figure's JSON sits in an inert
// <script type="application/vnd.plotly.v1+json"> element (written escaped by
// tools/site/render.py); it is parsed as data, never run. plotly.js comes from
// assets/plotly.min.js (vendored from npm), so the page works offline.
(function () {
  "use strict";
  const MIME = "application/vnd.plotly.v1+json";
  const scripts = document.querySelectorAll('script[type="' + MIME + '"]');
  let drawn = 0, failed = 0;
  const done = () => {
    if (drawn + failed === scripts.length) {
      document.body.setAttribute("data-plots", String(drawn));
      document.body.setAttribute("data-plots-failed", String(failed));
    }
  };
  const fail = (target, err) => {
    const pre = document.createElement("pre");
    pre.className = "site-plot-error";
    pre.textContent = "This figure could not be drawn: " + (err && err.message ? err.message : err);
    target.appendChild(pre);
    failed++;
    done();
  };
  done();
  // One figure per task, in page order, so the text shows before every figure is drawn.
  const draw = (i) => {
    if (i >= scripts.length) return;
    const script = scripts[i];
    const target = document.createElement("div");
    target.className = "site-plot";
    script.parentNode.insertBefore(target, script.nextSibling);
    setTimeout(() => draw(i + 1), 0);
    if (typeof Plotly === "undefined") return fail(target, new Error("plotly.js did not load"));
    let figure;
    try {
      figure = JSON.parse(script.textContent);
    } catch (err) {
      return fail(target, err);
    }
    const layout = Object.assign({}, figure.layout);
    const config = Object.assign({}, figure.config, { responsive: true });
    Plotly.newPlot(target, figure.data || [], layout, config).then(() => {
      drawn++;
      done();
    }, (err) => fail(target, err));
  };
  setTimeout(() => draw(0), 0);
})();
