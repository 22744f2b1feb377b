import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows, f32, maxAbsDiff, naiveAttention, TEST_BACKENDS } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import { lshAttention, lshHash, lshKeyLists, lshRotations } from "./lsh.ts";

const TOL = 1e-5; // float32 kernel vs float64 twin, values of order 1

/** The slow twin of the hash: build the b-vector [xR ; −xR] explicitly and take its first argmax. */
function hashTwin(x: number[][], R: Float64Array, D: number, b: number): number[] {
  const half = b / 2;
  return x.map((row) => {
    const full: number[] = [];
    for (let u = 0; u < half; u++) {
      let p = 0;
      for (let c = 0; c < D; c++) p += row[c] * R[c * half + u];
      full.push(p);
    }
    for (let u = 0; u < half; u++) full.push(-full[u]);
    return full.indexOf(Math.max(...full));
  });
}

/** The slow twin of the key lists, from the definition: j is listed for i iff, in some round, their sorted chunks differ by 0 or 1 (j's chunk not after i's). */
function listsTwin(buckets: Int32Array[], chunk: number, causal: boolean, sameBucket: boolean): number[][] {
  const T = buckets[0].length;
  const rank = buckets.map((h) => {
    // sorted index of each position: count of positions before it in (bucket, position) order
    return [...Array(T).keys()].map((i) =>
      [...Array(T).keys()].filter((j) => h[j] < h[i] || (h[j] === h[i] && j < i)).length
    );
  });
  return [...Array(T).keys()].map((i) => {
    const row = [...Array(T).keys()].filter((j) =>
      (!causal || j <= i) &&
      buckets.some((h, r) => {
        const ci = Math.floor(rank[r][i] / chunk), cj = Math.floor(rank[r][j] / chunk);
        return (cj === ci || cj === ci - 1) && (!sameBucket || h[i] === h[j]);
      })
    );
    return row.length > 1 ? row.filter((j) => j !== i) : row;
  });
}

Deno.test("lshHash() equals argmax of [xR ; −xR] built explicitly, for several rounds and bucket counts", () => {
  const r = rng("lsh-hash");
  for (const [N, D, b, rounds] of [[40, 8, 2, 1], [50, 16, 8, 3], [30, 3, 16, 2]]) {
    const x = [...Array(N)].map(() => Array.from(r.normalArray(D)));
    const rotations = lshRotations(D, b, rounds, r.fork(`${N}`));
    const got = lshHash(x, rotations);
    assertEquals(got.length, rounds);
    got.forEach((h, round) => {
      assertEquals(Array.from(h), hashTwin(x, rotations[round].data, D, b), `N=${N} D=${D} b=${b} round ${round}`);
      assert(h.every((u) => u >= 0 && u < b));
    });
  }
});

Deno.test("lshHash() depends only on the direction of x, and agrees on a tensor and on arrays", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = rng("lsh-scale");
  const x = [...Array(30)].map(() => Array.from(r.normalArray(6)));
  const rot = lshRotations(6, 8, 2, r);
  const scaled = x.map((row, i) => row.map((v) => v * (0.01 + i)));
  assertEquals(lshHash(scaled, rot).map((h) => Array.from(h)), lshHash(x, rot).map((h) => Array.from(h)));
  // Small integers are exact in float32, so the tensor path hashes exactly the same numbers.
  const ints = [...Array(20)].map(() => Array.from(r.normalArray(6), (v) => Math.round(4 * v)));
  const t = tf.tensor2d(ints);
  assertEquals(lshHash(t, rot).map((h) => Array.from(h)), lshHash(ints, rot).map((h) => Array.from(h)));
  t.dispose();
});

Deno.test("lshHash() puts nearby directions together far more often than unrelated ones (seeded)", () => {
  const r = rng("lsh-locality");
  const D = 32, b = 8, trials = 400;
  let near = 0, far = 0;
  const rot = lshRotations(D, b, trials, r.fork("rot"));
  for (let t = 0; t < trials; t++) {
    const x = Array.from(r.normalArray(D));
    const close = x.map((v) => v + 0.2 * r.normal()); // angle ≈ 11°
    const other = Array.from(r.normalArray(D)); // angle ≈ 90°
    const [h] = lshHash([x, close, other], [rot[t]]);
    if (h[0] === h[1]) near++;
    if (h[0] === h[2]) far++;
  }
  // With 8 buckets an unrelated pair collides about 1/8 of the time at random; a close pair most of the time.
  assert(near / trials > 0.6, `close pairs shared a bucket ${near}/${trials} times`);
  assert(far / trials < 0.25, `unrelated pairs shared a bucket ${far}/${trials} times`);
});

Deno.test("lshKeyLists() equals the chunk-window definition, one or more rounds, causal or not", () => {
  const r = rng("lsh-lists");
  for (const [T, b, rounds, chunk] of [[12, 4, 1, 3], [37, 8, 3, 5], [20, 2, 2, 4], [9, 16, 2, 1], [5, 4, 1, 8]]) {
    const buckets = [...Array(rounds)].map(() => Int32Array.from({ length: T }, () => r.int(b)));
    for (const causal of [false, true]) {
      for (const sameBucket of [false, true]) {
        const got = lshKeyLists(buckets, { chunk, causal, sameBucket });
        assertEquals(got, listsTwin(buckets, chunk, causal, sameBucket), `T=${T} rounds=${rounds} chunk=${chunk}`);
      }
    }
  }
  // excludeSelf: false keeps the query itself; a lone token keeps itself either way.
  const one = [Int32Array.from([0, 1, 2])];
  assertEquals(lshKeyLists(one, { chunk: 1, sameBucket: true }), [[0], [1], [2]]);
  assertEquals(lshKeyLists(one, { chunk: 1 }), [[0], [0], [1]]);
  assertEquals(lshKeyLists(one, { chunk: 1, excludeSelf: false }), [[0], [0, 1], [1, 2]]);
});

for (const backend of TEST_BACKENDS) {
  Deno.test(`lshAttention() equals softmax over its listed keys with unit keys (Float64 twin) on ${backend}`, async () => {
    await initBackend({ backend, print: false });
    const r = rng(`lsh-attn-${backend}`);
    for (
      const [T, D, Dv, b, rounds, chunk, causal] of [[32, 8, 5, 4, 2, 4, false], [50, 16, 3, 8, 1, 8, true]] as const
    ) {
      const x = r.normalArray(T * D), v = r.normalArray(T * Dv);
      const qk = f32(x, [T, D]), vt = f32(v, [T, Dv]);
      const before = tf.memory().numTensors;
      const { output, keys, buckets } = lshAttention(qk, vt, {
        rotations: lshRotations(D, b, rounds, r.fork("rot")),
        chunk,
        causal,
      });
      assertEquals(tf.memory().numTensors, before + 1, "only the output is left");
      assertEquals(buckets.length, rounds);
      // Twin: unit keys from the float32 inputs, naive softmax restricted to the lists.
      const xf = Float64Array.from(Float32Array.from(x)), vf = Float64Array.from(Float32Array.from(v));
      const kUnit = new Float64Array(T * D);
      for (let i = 0; i < T; i++) {
        const n = Math.hypot(...xf.subarray(i * D, (i + 1) * D));
        for (let c = 0; c < D; c++) kUnit[i * D + c] = xf[i * D + c] / n;
      }
      const sets = keys.map((row) => new Set(row));
      const { out } = naiveAttention(xf, kUnit, vf, T, T, D, Dv, (i, j) => sets[i].has(j));
      const diff = maxAbsDiff(output.dataSync(), out);
      assert(diff < TOL, `T=${T}: differs from the twin by ${diff}`);
      if (causal) assert(keys.every((row, i) => row.every((j) => j <= i)), "a causal list holds a future key");
      tf.dispose([qk, vt, output]);
    }
  });
}

Deno.test("LSH functions reject bad input with messages that name the problem", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = rng("lsh-errors");
  assertThrows(() => lshRotations(4, 3, 1, r), RangeError, "buckets must be an even integer ≥ 2, got 3");
  assertThrows(() => lshRotations(0, 4, 1, r), RangeError, "D must be a positive integer, got 0");
  assertThrows(() => lshRotations(4, 4, 0, r), RangeError, "rounds must be a positive integer, got 0");
  assertThrows(() => lshRotations(4, 4, 1, 7 as never), TypeError, "r must be an Rng");
  const rot = lshRotations(4, 4, 1, r);
  assertThrows(() => lshHash([[1, 2, 3]], rot), TypeError, "rotation 0 must be a [3, b/2] matrix");
  assertThrows(() => lshHash([[1, 2, 3, 4], [1, 2]], rot), TypeError, "every row must have 4 entries, got 2");
  assertThrows(() => lshHash([[1, 2, NaN, 4]], rot), RangeError, "x must be finite");
  assertThrows(
    () => lshKeyLists([Int32Array.from([0, 1])], { chunk: 0 }),
    RangeError,
    "chunk must be a positive integer",
  );
  assertThrows(
    () => lshKeyLists([Int32Array.from([0, 1]), Int32Array.from([0])]),
    TypeError,
    "every round must hash the same 2 tokens",
  );
  const qk = tf.zeros([4, 4]) as tf.Tensor2D, v = tf.zeros([3, 2]) as tf.Tensor2D;
  assertThrows(() => lshAttention(qk, v, { rotations: rot }), TypeError, "values must have 4 rows, got shape [3,2]");
  tf.dispose([qk, v]);
});
