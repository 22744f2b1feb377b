import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-cpu";
import { assert, assertEquals } from "./_testing.ts";
import { defaultClock, sweepSeries, timeInterleaved, timeSweep } from "./timing.ts";

Deno.test("timeInterleaved() warms up, then runs the variants in rotating order, one sample per round", async () => {
  const order: string[] = [];
  const t = await timeInterleaved({
    a: () => order.push("a"),
    b: () => order.push("b"),
    c: () => order.push("c"),
  }, { rounds: 3, minSampleMs: 0 });
  // Two calls each to warm up and calibrate, then rounds abc, bca, cab.
  assertEquals(order.join(""), "aabbcc" + "abc" + "bca" + "cab");
  for (const name of ["a", "b", "c"] as const) {
    assertEquals([t[name].samples.length, t[name].calls], [3, 1]);
    assert(t[name].min <= t[name].median);
  }
});

Deno.test("timeInterleaved() repeats a short call within a sample and reports time per call", async () => {
  let calls = 0;
  const t = await timeInterleaved({
    spin: () => {
      calls++;
      const end = performance.now() + 0.2;
      while (performance.now() < end) { /* about 0.2 ms */ }
    },
  }, { rounds: 2, minSampleMs: 20, clock: "wall" });
  // About 20 ms / 0.2 ms = 100 calls; fewer if the calibration call was slowed by other programs.
  assert(t.spin.calls >= 2 && t.spin.calls <= 100, `calls per sample, got ${t.spin.calls}`);
  assertEquals(calls, 2 + 2 * t.spin.calls);
  assert(t.spin.min >= 0.2, `each call spins at least 0.2 ms of wall time, got ${t.spin.min} ms per call`);
});

Deno.test("timeInterleaved() reads back and disposes the tensors a variant returns", async () => {
  await tf.setBackend("cpu");
  const x = tf.ones([8, 8]);
  const before = tf.memory().numTensors;
  await timeInterleaved({ one: () => tf.matMul(x, x), two: () => [tf.add(x, 1), tf.mul(x, 2)] }, { rounds: 2 });
  assertEquals(tf.memory().numTensors, before);
  x.dispose();
  await assert.rejects(() => timeInterleaved({}), TypeError);
  await assert.rejects(() => timeInterleaved({ a: () => 1 }, { rounds: 0 }), RangeError);
});

Deno.test("timeSweep() interleaves every size with every other and disposes each size's inputs", async () => {
  const disposed: number[] = [];
  const order: string[] = [];
  const sweep = await timeSweep([1, 2], (n) => ({
    cases: { a: () => order.push(`a${n}`), b: () => order.push(`b${n}`) },
    dispose: () => disposed.push(n),
  }), { rounds: 2, minSampleMs: 0 });
  assertEquals(order.slice(8).join(" "), "a1 b1 a2 b2 b1 a2 b2 a1");
  assertEquals(disposed, [1, 2]);
  assertEquals(sweep.sizes, [1, 2]);
  assertEquals(Object.keys(sweep.min), ["a", "b"]);
  assertEquals(sweep.min.a.length, 2);
  const series = sweepSeries(sweep, { a: "variant a" });
  assertEquals(series.map((s) => s.name), ["variant a", "b"]);
});

Deno.test("the cpu clock counts this process's processor time, not time spent waiting", async () => {
  await tf.setBackend("cpu");
  assertEquals(defaultClock(), "cpu");
  const sleep = () => new Promise((resolve) => setTimeout(resolve, 20));
  const wall = await timeInterleaved({ sleep }, { rounds: 2, minSampleMs: 0, clock: "wall" });
  const cpu = await timeInterleaved({ sleep }, { rounds: 2, minSampleMs: 0, clock: "cpu" });
  assert(wall.sleep.min >= 19, `a 20 ms sleep takes ≥ 20 ms of wall time, got ${wall.sleep.min}`);
  assert(cpu.sleep.min < 5, `and almost no processor time, got ${cpu.sleep.min}`);
  assertEquals([wall.sleep.clock, cpu.sleep.clock], ["wall", "cpu"]);
  await assert.rejects(() => timeInterleaved({ sleep }, { clock: "gpu" as never }), RangeError);
});
