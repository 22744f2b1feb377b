// Node side of the suite's "lib loads in Node" step: tslab, the second kernel, runs lib this way. Loads the
// package tools/build_node.ts built into node_modules/attention-course/ through the three bare names notebooks
// import, as a notebook in notebooks/ would (require, like tslab's CommonJS cells), uses a little of
// everything, and checks lib/display's tslab adapter in the compiled code against a stand-in for tslab's
// jupyter module. Prints one JSON line; exits non-zero on any failure.
// Usage: node tools/node_smoke.mjs <course root>
import { createRequire } from "node:module";
import { join } from "node:path";

const root = process.argv[2];
const require = createRequire(join(root, "notebooks", "notebook.js"));
const fail = (message) => {
  throw new Error(message);
};

const lib = require("attention-course");
const { check01 } = require("attention-course/check");
const { corpusPassages } = require("attention-course/datasets");
const { attention, bundleOf, denseLayerCost, initBackend, plot, progress, rng, show } = lib;
if (!Object.values(check01 ?? {}).some((c) => typeof c === "function")) fail("attention-course/check has no check01");
if (!(corpusPassages(20, { count: 2 }).length >= 1)) fail("attention-course/datasets gave no passages");

const cpu = await initBackend({ backend: "cpu", print: false });
const x = rng(1).tensor([3, 4]);
const { output, weights } = attention(x, x, x, { causal: true });
const rowSums = weights.arraySync().map((r) => r.reduce((a, b) => a + b, 0));
if (rowSums.some((s) => Math.abs(s - 1) > 1e-6)) fail(`attention rows do not sum to 1: ${rowSums}`);
if (String(output.shape) !== "3,4") fail(`unexpected output shape ${output.shape}`);
if (denseLayerCost(4, 8).params !== 1024n) fail("dense layer count is wrong");
const fig = plot({ data: [{ type: "scatter", x: [1], y: [2] }] });
const mimes = Object.keys(bundleOf(fig)).sort();

// lib/display in a tslab kernel: tslab's dist/jupyter.js (here a stand-in, at a path like the real one's)
// exports lastWriteDisplayData(content, update), which sends display_data or update_display_data.
const sent = [];
const fake = join(root, ".cache", "node-smoke", "tslab", "dist", "jupyter.js");
require.cache[fake] = {
  id: fake,
  filename: fake,
  loaded: true,
  exports: { lastWriteDisplayData: (content, update) => sent.push({ update, content }) },
};
const written = [];
const write = process.stdout.write;
process.stdout.write = (chunk) => (written.push(String(chunk)), true);
try {
  console.log(fig); // what tslab does with a cell's last value
  await show(fig);
  const bar = await progress(2, "steps");
  await bar.finish();
} finally {
  process.stdout.write = write;
}
delete require.cache[fake];
if (written.length) fail(`tslab display wrote to stdout: ${JSON.stringify(written)}`);
const kinds = sent.map((s) => `${s.update ? "update" : "display"}:${Object.keys(s.content.data).sort().join("+")}`);
const want = [
  "display:application/vnd.plotly.v1+json+text/plain",
  "display:application/vnd.plotly.v1+json+text/plain",
  "display:text/html+text/plain",
  "update:text/html+text/plain",
];
if (JSON.stringify(kinds) !== JSON.stringify(want)) fail(`tslab display sent ${JSON.stringify(kinds)}`);
const ids = sent.slice(2).map((s) => s.content.transient.display_id);
if (!ids[0] || ids[0] !== ids[1]) fail(`the progress bar was not updated in place: ids ${ids}`);

const wasm = await initBackend({ backend: "wasm", print: false });
console.log(
  JSON.stringify({
    node: process.version,
    backends: [cpu.name, `${wasm.name} (${wasm.detail})`],
    mimes,
    tslabDisplay: kinds.length,
  }),
);
