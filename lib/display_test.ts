import { assert, assertEquals, assertThrows } from "./_testing.ts";
import { bundleOf, formatNumber, markdown, plot, PLOTLY_MIME, progress, show, table, tex } from "./display.ts";

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

Deno.test("table() renders escaped HTML and an aligned text twin", () => {
  const bundle = bundleOf(table([{ name: "<b>", n: 1234567 }, { name: "x", n: 2 }], { caption: "T" }));
  assert((bundle["text/html"] as string).includes('<td style="text-align:left">&lt;b&gt;</td>'));
  assertEquals(bundle["text/plain"], "T\nname          n\n----  ---------\n<b>   1,234,567\nx             2");
});

Deno.test("markdown() and tex() keep their source as the text fallback", () => {
  assertEquals(bundleOf(markdown("**a**")), { "text/markdown": "**a**", "text/plain": "**a**" });
  assertEquals(bundleOf(tex("\\frac{a}{b}")), { "text/latex": "$$\\frac{a}{b}$$", "text/plain": "\\frac{a}{b}" });
  assertThrows(() => markdown(3 as never), TypeError, "expected a string, got number");
});

Deno.test("outside a notebook, show() and progress() print their text", async () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    await show(markdown("hello"));
    const bar = await progress(3, "work");
    for (let i = 1; i <= 3; i++) await bar.update(i);
    await bar.finish();
  } finally {
    console.log = log;
  }
  assertEquals(lines[0], "hello");
  assert(/^work █{30} 3\/3 \(\d+\.\d s\)$/.test(lines[1]), lines[1]);
  assertEquals(lines.length, 2);
});

Deno.test("formatNumber() groups integers and rounds the rest to 4 significant digits", () => {
  assertEquals([formatNumber(1048576), formatNumber(472.6153846), formatNumber(1.5e-5), formatNumber(NaN)], [
    "1,048,576",
    "472.6",
    "1.500e-5",
    "NaN",
  ]);
});
