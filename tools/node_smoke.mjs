// Node side of the suite's "lib loads in Node" step (tslab, the second kernel,
// runs lib this way): loads lib compiled by tools/tsconfig.node.json and uses a
// little of everything. Prints one JSON line; exits non-zero on any failure.
import { pathToFileURL } from "node:url";

const lib = await import(pathToFileURL(process.argv[2]).href);
const { attention, bundleOf, denseLayerCost, initBackend, plot, rng } = lib;
const cpu = await initBackend({ backend: "cpu", print: false });
const x = rng(1).tensor([3, 4]);
const { output, weights } = attention(x, x, x, { causal: true });
const rowSums = weights.arraySync().map((r) => r.reduce((a, b) => a + b, 0));
if (rowSums.some((s) => Math.abs(s - 1) > 1e-6)) throw new Error(`attention rows do not sum to 1: ${rowSums}`);
if (String(output.shape) !== "3,4") throw new Error(`unexpected output shape ${output.shape}`);
if (denseLayerCost(4, 8).params !== 1024n) throw new Error("dense layer count is wrong");
const bundle = bundleOf(plot({ data: [{ type: "scatter", x: [1], y: [2] }] }));
const wasm = await initBackend({ backend: "wasm", print: false });
console.log(
  JSON.stringify({
    node: process.version,
    backends: [cpu.name, `${wasm.name} (${wasm.detail})`],
    mimes: Object.keys(bundle),
  }),
);
