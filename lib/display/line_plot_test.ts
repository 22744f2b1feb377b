import { assert, assertEquals, assertThrows } from "../_testing.ts";
import { bundleOf } from "./bundle.ts";
import { PLOTLY_MIME } from "./plot.ts";
import { linePlot, logLogSlope, scalingPlot } from "./line_plot.ts";

type Fig = {
  data: { name: string; x: number[]; y: number[]; line: { dash: string }; error_y?: { array: number[] } }[];
  layout: {
    xaxis: { type?: string; title: { text: string }; tickvals?: number[]; ticktext?: string[] };
    yaxis: { type?: string; range?: number[] };
  };
};
const figOf = (d: unknown) => bundleOf(d as never)[PLOTLY_MIME] as Fig;

Deno.test("logLogSlope() recovers the exponent of a power law, and only over the points asked for", () => {
  const T = [16, 32, 64, 128, 256];
  assert(Math.abs(logLogSlope(T, T.map((t) => 5 * t ** 1.5)) - 1.5) < 1e-12);
  // Flat (overhead) at small T, then quadratic: fitting from T = 64 sees only the quadratic part.
  const y = T.map((t) => Math.max(1000, t * t));
  assert(Math.abs(logLogSlope(T, y, 64) - 2) < 1e-12);
  assert(Math.abs(logLogSlope(T, y) - 1.607) < 1e-3, "over all points the flat start bends the fit");
  assertThrows(() => logLogSlope([1, 2], [1, 0]), RangeError, "every x and y must be positive");
  assertThrows(() => logLogSlope([1, 2], [1, 2], 2), RangeError, "need at least 2 points with x ≥ 2, got 1");
});

Deno.test("scalingPlot() is log–log, names each series' fitted slope, and draws reference lines across", () => {
  const T = [128, 256, 512];
  const fig = figOf(scalingPlot([
    { name: "one head", x: T, y: T.map((t) => 4 * t * t) },
    { name: "linear", x: T, y: T, dash: "dot" },
  ], {
    title: "Memory",
    xTitle: "context length T (tokens)",
    yTitle: "bytes",
    slopeFrom: 128,
    references: [{ name: "limit", y: 1e6 }],
  }));
  assertEquals([fig.layout.xaxis.type, fig.layout.yaxis.type], ["log", "log"]);
  // Few sizes: a tick at each one, labelled in full (not plotly's 2, 5 minor labels between powers of ten).
  assertEquals([fig.layout.xaxis.tickvals, fig.layout.xaxis.ticktext], [[128, 256, 512], ["128", "256", "512"]]);
  // The slope is named after the x axis's variable (the last one-letter word of its title, before the unit).
  assertEquals(fig.data.map((t) => t.name), ["one head (∝ T^2.00)", "linear (∝ T^1.00)", "limit"]);
  assertEquals(fig.data[1].line.dash, "dot");
  assertEquals([fig.data[2].x, fig.data[2].y], [[128, 512], [1e6, 1e6]]);
});

Deno.test("scalingPlot() names the slope after the axis's variable, or x when the title names none", () => {
  const slopeName = (xTitle: string) =>
    figOf(scalingPlot([{ name: "s", x: [1, 2, 4], y: [1, 4, 16] }], { title: "t", xTitle, yTitle: "y", slopeFrom: 1 }))
      .data[0].name;
  assertEquals(slopeName("random features m"), "s (∝ m^2.00)");
  assertEquals(slopeName("tokens so far t"), "s (∝ t^2.00)");
  assertEquals(slopeName("sequence length T (tokens)"), "s (∝ T^2.00)");
  assertEquals(slopeName("temperature τ"), "s (∝ τ^2.00)");
  assertEquals(slopeName("sequence length (tokens)"), "s (∝ x^2.00)");
  assertEquals(slopeName("bytes per head"), "s (∝ x^2.00)");
});

Deno.test("linePlot() keeps error bars, converts a log y range, and rejects bad input by name", () => {
  const fig = figOf(linePlot([{ name: "var", x: [1, 2], y: [1, 2], error: [0.1, 0.2] }], {
    title: "Variance",
    xTitle: "dimension d",
    yTitle: "variance",
    logY: true,
    yRange: [0.1, 1000],
  }));
  assertEquals(fig.data[0].error_y?.array, [0.1, 0.2]);
  assertEquals(fig.layout.yaxis.range, [-1, 3]);
  assertEquals(fig.layout.xaxis.type, undefined);
  const opts = { title: "t", xTitle: "x", yTitle: "y" };
  assertThrows(() => linePlot([{ name: "a", x: [1, 2], y: [1] }], opts), TypeError, 'the y of "a" must have 2 entries');
  assertThrows(
    () => scalingPlot([{ name: "a", x: [1, 2], y: [0, 1] }], opts),
    RangeError,
    'the y of "a" must be positive (log axis), got 0 at index 0',
  );
  assertThrows(() => linePlot([{ name: "a", x: [1], y: [1] }], { ...opts, yTitle: "" }), TypeError, "yTitle");
  assertThrows(() => linePlot([], opts), TypeError, "series must be a non-empty array");
});
