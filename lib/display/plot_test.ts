import { assert, assertEquals, assertThrows } from "../_testing.ts";
import { bundleOf } from "./bundle.ts";
import { plot, PLOTLY_MIME, SIGNED_COLORSCALE, WEIGHT_COLORSCALE } from "./plot.ts";

Deno.test("plot() carries plotly JSON (typed arrays as plain arrays) and a text summary, never the plotly bundle", () => {
  const fig = {
    data: [{ type: "scatter", name: "dense", x: [1, 2, 3], y: new Float32Array([1, 4, 9]) }],
    layout: { title: { text: "Cost" } },
  };
  const bundle = bundleOf(plot(fig as never));
  const json = bundle[PLOTLY_MIME] as { data: { y: number[] }[]; layout: { template: string } };
  assertEquals(json.data[0].y, [1, 4, 9]);
  assertEquals(json.layout.template, "plotly_white");
  assertEquals(bundle["text/plain"], "Plot: Cost (1 trace)\n  - dense: scatter, 3 points");
  assert(JSON.stringify(bundle).length < 2000, "a small figure must stay small in the saved notebook");
  fig.data[0].x.push(4); // later changes to the caller's data do not leak into the output
  assertEquals((bundleOf(plot(fig as never))[PLOTLY_MIME] as { data: { x: number[] }[] }).data[0].x.length, 4);
  assertEquals(json.data.length, 1);
  assertThrows(() => plot({} as never), TypeError, "figure must be an object with a data array");
});

Deno.test("the two colour scales are distinct: diverging white at 0 for signed values, white-to-dark for weights", () => {
  const rgb = (c: string) => c.match(/\d+/g)!.map(Number);
  const brightness = (c: string) => rgb(c).reduce((s, v) => s + v, 0);
  // Diverging: symmetric stops, the lightest in the middle (value 0), blue below and red above.
  assertEquals(SIGNED_COLORSCALE.length % 2, 1);
  const mid = SIGNED_COLORSCALE[(SIGNED_COLORSCALE.length - 1) / 2];
  assertEquals(mid[0], 0.5);
  assert(SIGNED_COLORSCALE.every(([, c]) => brightness(c) <= brightness(mid[1])));
  const [low, high] = [rgb(SIGNED_COLORSCALE[0][1]), rgb(SIGNED_COLORSCALE.at(-1)![1])];
  assert(low[2] > low[0] && high[0] > high[2], "blue below 0, red above");
  // Sequential: brightness falls monotonically from 0 to 1, and no stop is one of the diverging colours.
  const b = WEIGHT_COLORSCALE.map(([, c]) => brightness(c));
  assert(b.every((v, i) => i === 0 || v < b[i - 1]), "darker for larger weights");
  assertEquals([WEIGHT_COLORSCALE[0][0], WEIGHT_COLORSCALE.at(-1)![0]], [0, 1]);
  const signed = new Set(SIGNED_COLORSCALE.map(([, c]) => c));
  assert(WEIGHT_COLORSCALE.every(([, c]) => !signed.has(c)));
});
