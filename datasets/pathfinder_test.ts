import { assert, assertEquals, assertThrows } from "../lib/_testing.ts";
import { makePathfinder, markersConnected } from "./pathfinder.ts";

Deno.test("every Pathfinder label agrees with an independent flood fill that bridges the gaps", () => {
  for (const options of [{}, { size: 16 }, { size: 64, length: 40 }, { gap: 2, dash: 3 }, { curves: 4 }]) {
    const gap = options.gap ?? 1;
    for (const [i, ex] of makePathfinder(`agree ${JSON.stringify(options)}`, 200, options).entries()) {
      assertEquals(markersConnected(ex, gap), ex.label === 1, `${JSON.stringify(options)} example ${i}`);
    }
  }
});

Deno.test("the curves really are dashed: without bridging gaps no two markers connect", () => {
  const examples = makePathfinder(2, 200);
  assert(examples.every((ex) => !markersConnected(ex, 0)));
});

Deno.test("Pathfinder labels are balanced in every pair, images binary, markers on lit pixels, reproducible", () => {
  const a = makePathfinder(9, 1000);
  for (let i = 0; i < a.length; i += 2) assertEquals(a[i].label + a[i + 1].label, 1, `pair ${i / 2}`);
  for (const ex of a) {
    assertEquals(ex.pixels.length, 32 * 32);
    assert(ex.pixels.every((p) => p === 0 || p === 255));
    for (const [x, y] of ex.markers) assertEquals(ex.pixels[y * 32 + x], 255);
  }
  const again = makePathfinder(9, 1000);
  assert(a.every((ex, i) => ex.label === again[i].label && ex.pixels.every((p, j) => p === again[i].pixels[j])));
  // The markers are as far apart for either label (mean distances within 2 pixels): distance is no shortcut.
  const mean = (label: number) => {
    const d = a.filter((e) => e.label === label).map((e) =>
      Math.hypot(e.markers[0][0] - e.markers[1][0], e.markers[0][1] - e.markers[1][1])
    );
    return d.reduce((s, x) => s + x, 0) / d.length;
  };
  assert(Math.abs(mean(0) - mean(1)) < 2, `mean marker distance ${mean(0)} (label 0) vs ${mean(1)} (label 1)`);
});

Deno.test("makePathfinder() rejects bad options and curves that cannot fit, saying what to change", () => {
  assertThrows(() => makePathfinder(1, 1, { size: 8 }), RangeError, "options.size must be an integer ≥ 16, got 8");
  assertThrows(() => makePathfinder(1, 1, { maxTurn: 4 }), RangeError, "options.maxTurn must be in [0, π], got 4");
  assertThrows(
    () => makePathfinder(1, 1, { size: 16, curves: 5, length: 14 }),
    RangeError,
    "5 curves of 14 steps do not fit apart in 16×16 pixels",
  );
});
