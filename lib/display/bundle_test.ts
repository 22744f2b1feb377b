import { assert, assertEquals, assertThrows } from "../_testing.ts";
import { bundleOf, displayable, markdown, show, tex } from "./bundle.ts";
import { progress } from "./progress.ts";

Deno.test("markdown() and tex() keep their source as the text fallback", () => {
  assertEquals(bundleOf(markdown("**a**")), { "text/markdown": "**a**", "text/plain": "**a**" });
  assertEquals(bundleOf(tex("\\frac{a}{b}")), { "text/latex": "$$\\frac{a}{b}$$", "text/plain": "\\frac{a}{b}" });
  assertThrows(() => markdown(3 as never), TypeError, "expected a string, got number");
});

Deno.test("displayable() needs a text fallback and bundleOf() rejects what is not displayable", () => {
  assertThrows(() => displayable({ "text/html": "<b>x</b>" }), TypeError, "without a text/plain fallback");
  assertThrows(() => bundleOf({} as never), TypeError, "expected the result of plot()");
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
  await assert.rejects(() => progress(0), RangeError);
});
