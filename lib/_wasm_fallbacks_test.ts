import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "./_testing.ts";
import { initBackend } from "./backend.ts";
import { WASM_FALLBACKS } from "./_wasm_fallbacks.ts";

/** A plain-loop Float64 twin of einsum("bij,bjk->bik"). */
function batchedMatMul(a: number[][][], b: number[][][]): number[][][] {
  return a.map((ai, n) => ai.map((row) => b[n][0].map((_, k) => row.reduce((s, x, j) => s + x * b[n][j][k], 0))));
}

Deno.test("tf.einsum runs on wasm through the cpu kernel, with the cpu's numbers and no leaked tensor", async () => {
  assert(WASM_FALLBACKS.includes("Einsum"), `registered: ${WASM_FALLBACKS}`);
  const a = [[[0.5, -1.2, 2], [1.1, 0.3, -0.7]], [[0.2, 0.4, -0.6], [-1.5, 0.9, 0.1]]]; // [2, 2, 3]
  const b = [[[1, -0.5], [0.25, 2], [-1, 0.3]], [[0.7, 0.1], [-0.2, 1.3], [0.6, -0.4]]]; // [2, 3, 2]
  const want = batchedMatMul(a, b).flat(2);
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend({ backend, print: false });
    const cpu = tf.engine().findBackend("cpu") as unknown as { numDataIds(): number };
    const [before, cpuBefore] = [tf.memory().numTensors, cpu.numDataIds()];
    const got = tf.tidy(() => Array.from(tf.einsum("bij,bjk->bik", tf.tensor3d(a), tf.tensor3d(b)).dataSync()));
    assertEquals(tf.memory().numTensors, before, `${backend}: einsum leaked tensors`);
    assertEquals(cpu.numDataIds(), cpuBefore, `${backend}: the delegation left data on the cpu backend`);
    assert(got.every((x, i) => Math.abs(x - want[i]) < 1e-5), `${backend}: ${got} vs ${want}`);
    // A scalar contraction and a transpose-like einsum too.
    const dot = tf.tidy(() => tf.einsum("i,i->", tf.tensor1d([1, 2, 3]), tf.tensor1d([4, 5, 6])).dataSync()[0]);
    assertEquals(dot, 32);
    const t = tf.tidy(() => tf.einsum("ij->ji", tf.tensor2d([[1, 2, 3]])).arraySync());
    assertEquals(t, [[1], [2], [3]]);
  }
});

Deno.test("unsortedSegmentSum (another kernel wasm lacks) runs on wasm", async () => {
  await initBackend({ backend: "wasm", print: false });
  const got = tf.tidy(() =>
    tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4]), tf.tensor1d([0, 1, 0, 1], "int32"), 2).arraySync()
  );
  assertEquals(got, [4, 6]);
});

Deno.test("a delegated kernel does not print tfjs's Node.js banner in the middle of a cell", async () => {
  await initBackend({ backend: "wasm", print: false });
  const cpu = tf.engine().findBackend("cpu") as unknown as { firstUse: boolean };
  cpu.firstUse = true; // as in a fresh kernel, where the cpu backend has never been written to
  const warn = console.warn, said: string[] = [];
  console.warn = (...args: unknown[]) => said.push(args.join(" "));
  try {
    tf.tidy(() => tf.einsum("ij,jk->ik", tf.ones([2, 2]), tf.ones([2, 2])).dataSync());
  } finally {
    console.warn = warn;
  }
  assertEquals(said.filter((s) => s.includes("running TensorFlow.js in Node.js")), []);
});
