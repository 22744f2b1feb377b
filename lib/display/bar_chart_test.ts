import { assertEquals, assertThrows } from "../_testing.ts";
import { bundleOf } from "./bundle.ts";
import { PLOTLY_MIME } from "./plot.ts";
import { barChart } from "./bar_chart.ts";

Deno.test("barChart() groups bars per category, in the given order", () => {
  const fig = bundleOf(barChart([
    { name: "masked", x: ["0 the", "1 cat"], y: [0, 0.5] },
    { name: "unmasked", x: ["0 the", "1 cat"], y: [0.2, 0.5] },
  ], { title: "Moves", xTitle: "output position", yTitle: "max |change|" }))[PLOTLY_MIME] as {
    data: { type: string; x: string[] }[];
    layout: { barmode: string; xaxis: { type: string } };
  };
  assertEquals(fig.data.map((t) => t.type), ["bar", "bar"]);
  assertEquals([fig.layout.barmode, fig.layout.xaxis.type], ["group", "category"]);
});

Deno.test("barChart() refuses repeated categories, which plotly would merge into one bar", () => {
  assertThrows(
    () => barChart([{ name: "w", x: ["the", "cat", "the"], y: [1, 2, 3] }], { title: "t", xTitle: "x", yTitle: "y" }),
    TypeError,
    'must not repeat a category (plotly would merge the bars), got "the" twice',
  );
});
