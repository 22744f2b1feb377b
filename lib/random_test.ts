import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertNotEqual, assertThrows } from "./_testing.ts";
import { initBackend } from "./backend.ts";
import { rng } from "./random.ts";

Deno.test("rng() gives the same numbers for the same seed and others for another", () => {
  assertEquals(Array.from(rng(7).normalArray(5)), Array.from(rng(7).normalArray(5)));
  assertNotEqual(Array.from(rng(7).normalArray(5)), Array.from(rng(8).normalArray(5)));
});

Deno.test("normal numbers have mean 0 and variance 1 (n = 200 000, 5-sigma bounds)", () => {
  const n = 200_000, x = rng("moments").normalArray(n);
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  assert(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
  assert(Math.abs(variance - 1) < 5 * Math.sqrt(2 / n), `variance ${variance}`);
});

Deno.test("fork() gives an independent stream and leaves the parent unchanged", () => {
  const a = rng(1);
  a.fork("x").normalArray(10);
  assertEquals(a.uniform(), rng(1).uniform());
  assertNotEqual(rng(1).fork("x").uniform(), rng(1).fork("y").uniform());
});

Deno.test("tensor() makes float32 tensors of the right shape on any backend", async () => {
  await initBackend({ backend: "cpu", print: false });
  const t = rng(3).tensor([2, 3], 0.5);
  assertEquals(t.shape, [2, 3]);
  assertEquals(t.dtype, "float32");
  assertEquals(Array.from(t.dataSync()), Array.from(Float32Array.from(rng(3).normalArray(6, 0, 0.5))));
  t.dispose();
  assertEquals(tf.memory().numTensors, 0);
});

Deno.test("rng() rejects bad seeds, counts and shapes with clear messages", () => {
  assertThrows(() => rng(NaN), RangeError, "seed must be a finite number or a string, got NaN");
  assertThrows(() => rng(1).int(0), RangeError, "n must be a positive integer, got 0");
  assertThrows(() => rng(1).normalArray(-1), RangeError, "count must be a non-negative integer, got -1");
  assertThrows(
    () => rng(1).tensor([2, 1.5]),
    TypeError,
    "shape must be an array of non-negative integers, got [2,1.5]",
  );
});
