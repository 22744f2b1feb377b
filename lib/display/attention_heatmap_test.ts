import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows } from "../_testing.ts";
import { bundleOf } from "./bundle.ts";
import { MASKED_COLOR, PLOTLY_MIME, SIGNED_COLORSCALE, WEIGHT_COLORSCALE } from "./plot.ts";
import { attentionHeatmap, attentionHeatmaps, scoreHeatmap } from "./attention_heatmap.ts";

type Fig = {
  data: {
    z: (number | null)[][];
    x: number[];
    y: number[];
    zmin: number;
    zmax: number;
    colorscale: unknown;
    text: string[][];
    xaxis: string;
    showscale: boolean;
    colorbar: { title: { text: string }; x: number };
  }[];
  layout:
    & Record<
      string,
      { tickvals?: number[]; ticktext?: string[]; autorange?: string; title?: { text: string }; domain?: number[] }
    >
    & {
      plot_bgcolor?: string;
      annotations: { text: string }[];
    };
};
const figOf = (d: unknown) => bundleOf(d as never)[PLOTLY_MIME] as Fig;

Deno.test("attentionHeatmap() draws weights on the fixed 0…1 sequential scale, query i down and key j across", () => {
  const fig = figOf(attentionHeatmap([[1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]], {
    tokens: ["the", "cat", "the"],
    title: "Weights",
  }));
  const t = fig.data[0];
  assertEquals([t.zmin, t.zmax], [0, 1]);
  assertEquals(t.colorscale, WEIGHT_COLORSCALE);
  assertEquals(t.z[2], [0.2, 0.3, 0.5]);
  // A repeated token keeps its own row and column: numeric positions, words as tick text.
  assertEquals([t.x, t.y], [[0, 1, 2], [0, 1, 2]]);
  assertEquals(fig.layout.xaxis.ticktext, ["the", "cat", "the"]);
  assertEquals(fig.layout.yaxis.autorange, "reversed");
  assertEquals([fig.layout.xaxis.title?.text, fig.layout.yaxis.title?.text], ["key token j", "query token i"]);
  assertEquals(t.text[1][2], "query token i 1 cat<br>key token j 2 the");
});

Deno.test("scoreHeatmap() centres the diverging scale at 0 and leaves masked (−∞) scores blank on grey", () => {
  const fig = figOf(scoreHeatmap([[0.5, -Infinity], [-3, 1]], { title: "Masked scores" }));
  const t = fig.data[0];
  assertEquals(t.colorscale, SIGNED_COLORSCALE);
  assertEquals([t.zmin, t.zmax], [-3, 3]);
  assertEquals(t.z, [[0.5, null], [-3, 1]]);
  assertEquals(fig.layout.plot_bgcolor, MASKED_COLOR);
  assert(t.colorbar.title.text.includes("masked"));
  const unmasked = figOf(scoreHeatmap([[0.5, 2]], { title: "Scores", range: 4 }));
  assertEquals([unmasked.data[0].zmin, unmasked.data[0].zmax], [-4, 4]);
  assertEquals(unmasked.layout.plot_bgcolor, undefined);
});

Deno.test("attentionHeatmaps() puts panels side by side, each in its own convention, and accepts tensors", () => {
  const w = tf.tensor2d([[0.9, 0.1], [0.4, 0.6]]);
  const fig = figOf(attentionHeatmaps([
    { matrix: [[2, -1], [0, 1]], kind: "signed", title: "scores" },
    { matrix: w, title: "weights" },
  ], { tokens: ["a", "b"], title: "Scores and weights" }));
  w.dispose();
  assertEquals(fig.data.map((t) => t.xaxis), ["x", "x2"]);
  assertEquals(fig.data.map((t) => t.colorscale), [SIGNED_COLORSCALE, WEIGHT_COLORSCALE]);
  assert(Math.abs(fig.data[1].z[0][0]! - 0.9) < 1e-6);
  assertEquals(fig.layout.annotations.map((a) => a.text), ["scores", "weights"]);
  assertEquals(fig.layout.yaxis2.title?.text, "", "only the first panel names the rows");
});

Deno.test("attentionHeatmaps() shows one colour bar for panels of weights (one 0…1 scale), beside the last", () => {
  const eye = [[1, 0], [0, 1]];
  const fig = figOf(attentionHeatmaps([
    { matrix: eye, title: "a" },
    { matrix: [[3, -1], [0, 1]], kind: "signed", title: "s" },
    { matrix: eye, title: "b" },
    { matrix: eye, title: "c" },
  ], { title: "Four panels" }));
  assertEquals(fig.data.map((t) => t.showscale), [false, true, false, true]);
  // Panels do not overlap, and each shown colour bar starts right of its own panel and left of the next one.
  const domains = ["xaxis", "xaxis2", "xaxis3", "xaxis4"].map((a) => fig.layout[a].domain!);
  for (let k = 1; k < 4; k++) assert(domains[k][0] > domains[k - 1][1], JSON.stringify(domains));
  for (const k of [1, 3]) {
    assert(fig.data[k].colorbar.x > domains[k][1] && (k === 3 || fig.data[k].colorbar.x < domains[k + 1][0]));
  }
});

Deno.test("the heatmap helpers reject what would break the convention, naming what was wrong", () => {
  assertThrows(
    () => attentionHeatmap([[1.5, -0.5]], { title: "W" }),
    RangeError,
    'weights must lie in 0…1 (draw scores with kind "signed" or scoreHeatmap), got 1.5 at (0, 0)',
  );
  assertThrows(() => attentionHeatmap([[NaN]], { title: "W" }), RangeError, "got NaN at (0, 0)");
  assertThrows(() => scoreHeatmap([[Infinity]], { title: "S" }), RangeError, "finite or −∞ (masked), got Infinity");
  assertThrows(() => attentionHeatmap([[1]], { title: "" }), TypeError, "title must be a non-empty string");
  assertThrows(
    () => attentionHeatmap([[1, 0]], { title: "W", tokens: ["a", "b"] }),
    TypeError,
    "tokens must be 1 strings, one per row, got 2 entries",
  );
  assertThrows(
    () => attentionHeatmap([[1, 0], [1]], { title: "W" }),
    TypeError,
    "matrix must be a rectangular matrix of numbers, row 1 has 1 entries (row 0 has 2)",
  );
  assertThrows(
    () => attentionHeatmaps([{ matrix: [[1]] }, { matrix: [[1, 0]] }], { title: "W" }),
    TypeError,
    "every panel must have the shape of the first, [1, 1], got [1, 2] in panel 1",
  );
  const v = tf.tensor1d([1, 0]);
  assertThrows(() => attentionHeatmap(v as never, { title: "W" }), TypeError, "got a tensor of shape [2]");
  v.dispose();
});
