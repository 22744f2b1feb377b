import { assert, assertEquals } from "../_testing.ts";
import { bundleOf } from "./bundle.ts";
import { formatNumber, table } from "./table.ts";

Deno.test("table() renders escaped HTML and an aligned text twin", () => {
  const bundle = bundleOf(table([{ name: "<b>", n: 1234567 }, { name: "x", n: 2 }], { caption: "T" }));
  assert((bundle["text/html"] as string).includes('<td style="text-align:left">&lt;b&gt;</td>'));
  assertEquals(bundle["text/plain"], "T\nname          n\n----  ---------\n<b>   1,234,567\nx             2");
});

Deno.test("table() groups the digits of bigints and right-aligns them", () => {
  const bundle = bundleOf(table([{ layer: "dense", params: 633318697598976n }, { layer: "attention", params: 4n }]));
  assertEquals(
    bundle["text/plain"],
    "layer                   params\n---------  -------------------\ndense      633,318,697,598,976\nattention                    4",
  );
  assert((bundle["text/html"] as string).includes('<td style="text-align:right">633,318,697,598,976</td>'));
});

Deno.test("formatNumber() groups integers and rounds the rest to 4 significant digits", () => {
  assertEquals([formatNumber(1048576), formatNumber(472.6153846), formatNumber(1.5e-5), formatNumber(NaN)], [
    "1,048,576",
    "472.6",
    "1.500e-5",
    "NaN",
  ]);
  assertEquals([formatNumber(-4194304n), formatNumber(0n), formatNumber(2.5e6), formatNumber(2500000.5)], [
    "-4,194,304",
    "0",
    "2,500,000",
    "2.500e+6",
  ]);
});
