import * as tf from "@tensorflow/tfjs";
import {
  assert,
  assertEquals,
  assertNotEqual,
  assertThrows,
  f32,
  maxAbsDiff,
  naiveAttention,
  TEST_BACKENDS,
} from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import { attention } from "./scaled_dot_product.ts";
import { clusteredAttention, kMeans } from "./clustered.ts";

const TOL = 1e-5; // float32 kernel vs float64 twin, values of order 1

const sq = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let e = 0; e < a.length; e++) s += (a[e] - b[e]) ** 2;
  return s;
};

/** The slow twin of the Lloyd iterations: plain loops from given starting centres. */
function lloydTwin(points: number[][], start: number[][], iterations: number) {
  let centres = start.map((c) => [...c]);
  const nearest = () =>
    points.map((p) => {
      let best = 0;
      for (let c = 1; c < centres.length; c++) if (sq(p, centres[c]) < sq(p, centres[best])) best = c;
      return best;
    });
  let assignment = nearest();
  for (let it = 0; it < iterations; it++) {
    centres = centres.map((old, c) => {
      const mine = points.filter((_, i) => assignment[i] === c);
      return mine.length ? old.map((_, e) => mine.reduce((a, p) => a + p[e], 0) / mine.length) : old;
    });
    const next = nearest();
    const same = next.every((c, i) => c === assignment[i]);
    assignment = next;
    if (same) break;
  }
  const inertia = points.reduce((a, p, i) => a + sq(p, centres[assignment[i]]), 0);
  return { centres, assignment, inertia };
}

/** N points around C well-separated centres, with their true labels. */
function blobs(N: number, D: number, C: number, seed: string) {
  const r = rng(seed);
  const centres = [...Array(C)].map(() => Array.from(r.normalArray(D, 0, 20)));
  const labels = [...Array(N).keys()].map((i) => i % C);
  return { points: labels.map((c) => centres[c].map((x) => x + r.normal())), labels };
}

Deno.test("kMeans() follows the plain Lloyd loop from its k-means++ start", () => {
  const r = rng("kmeans-twin");
  const points = [...Array(60)].map(() => Array.from(r.normalArray(3)));
  for (const [C, iterations] of [[4, 1], [4, 3], [7, 50], [1, 5], [20, 50]]) {
    const start = kMeans(points, C, rng(`start-${C}`), { iterations: 0 });
    assertEquals(start.iterations, 0);
    const got = kMeans(points, C, rng(`start-${C}`), { iterations });
    const twin = lloydTwin(points, start.centroids, iterations);
    assertEquals(Array.from(got.assignment), twin.assignment, `C=${C} iterations=${iterations}`);
    assert(maxAbsDiff(got.centroids.flat(), twin.centres.flat()) < 1e-12);
    assert(Math.abs(got.inertia - twin.inertia) < 1e-9, `inertia ${got.inertia} vs ${twin.inertia}`);
  }
});

Deno.test("kMeans() inertia never increases; assignment is the nearest centroid; seeds reproduce", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = rng("kmeans-invariants");
  const data = r.normalArray(200 * 4);
  const points = [...Array(200).keys()].map((i) => Array.from(data.subarray(i * 4, i * 4 + 4)));
  const res = kMeans(points, 6, rng("seed"), { iterations: 100 });
  assert(res.history.length === res.iterations + 1 && res.iterations > 1, `history ${res.history}`);
  res.history.slice(1).forEach((h, t) => assert(h <= res.history[t] + 1e-12, `inertia rose at ${t}: ${res.history}`));
  assertEquals(res.inertia, res.history[res.history.length - 1]);
  let inertia = 0;
  points.forEach((p, i) => {
    const d = res.centroids.map((c) => sq(p, c));
    assertEquals(res.assignment[i], d.indexOf(Math.min(...d)), `point ${i} is not with its nearest centroid`);
    inertia += Math.min(...d);
  });
  assert(Math.abs(inertia - res.inertia) < 1e-9);
  // Converged (it stopped before 100 iterations): each centroid is the mean of its points.
  assert(res.iterations < 100);
  res.centroids.forEach((c, k) => {
    const mine = points.filter((_, i) => res.assignment[i] === k);
    assert(maxAbsDiff(c, c.map((_, e) => mine.reduce((a, p) => a + p[e], 0) / mine.length)) < 1e-12);
  });
  // Same seed, same result; a tensor gives the same as its rows.
  assertEquals(kMeans(points, 6, rng("seed"), { iterations: 100 }), res);
  const t = f32(data, [200, 4]);
  const rows = [...Array(200).keys()].map((i) => Array.from(t.dataSync().subarray(i * 4, i * 4 + 4)));
  assertEquals(kMeans(t, 6, rng("seed")), kMeans(rows, 6, rng("seed")));
  t.dispose();
});

Deno.test("kMeans() with C = 1, C = N and well-separated blobs", () => {
  const r = rng("kmeans-edges");
  const points = [...Array(12)].map(() => Array.from(r.normalArray(2)));
  const one = kMeans(points, 1, r);
  const mean = [0, 1].map((e) => points.reduce((a, p) => a + p[e], 0) / 12);
  assert(maxAbsDiff(one.centroids[0], mean) < 1e-12);
  assert(Math.abs(one.inertia - points.reduce((a, p) => a + sq(p, mean), 0)) < 1e-12);
  assert(one.assignment.every((c) => c === 0));
  const all = kMeans(points, 12, r);
  assertEquals(all.inertia, 0);
  assertEquals([...all.assignment].sort((a, b) => a - b), [...Array(12).keys()]);
  // Duplicate points: C = N still works (two centres coincide), inertia 0, ties go to the lowest index.
  const dup = [[1, 1], [1, 1], [2, 2]];
  const twins = kMeans(dup, 3, r);
  assertEquals(twins.inertia, 0);
  dup.forEach((p, i) => {
    const d = twins.centroids.map((c) => sq(p, c));
    assertEquals(twins.assignment[i], d.indexOf(Math.min(...d)));
  });
  // Blobs 20 standard deviations apart are recovered exactly (up to renaming).
  const { points: bp, labels } = blobs(90, 5, 3, "blobs");
  const { assignment } = kMeans(bp, 3, r);
  for (let i = 0; i < 90; i++) {
    for (let j = 0; j < 90; j++) {
      assertEquals(assignment[i] === assignment[j], labels[i] === labels[j]);
    }
  }
});

Deno.test("the k-means++ start picks the next centre with probability ∝ squared distance", () => {
  // Points 0, 1, 10 and C = 2: P(the centres are {0, 10}) = (100/101 + 100/181) / 3 = 0.5142
  // (uniform picks would give 1/3). n = 3000 seeds, 5-sigma bounds.
  const n = 3000, p = (100 / 101 + 100 / 181) / 3;
  let hits = 0;
  for (let s = 0; s < n; s++) {
    const c = kMeans([[0], [1], [10]], 2, rng(`pp-${s}`), { iterations: 0 }).centroids.flat().sort((a, b) => a - b);
    if (c[0] === 0 && c[1] === 10) hits++;
  }
  const sd = Math.sqrt(n * p * (1 - p));
  assert(Math.abs(hits - n * p) < 5 * sd, `{0, 10} chosen ${hits} times of ${n}, expected ${n * p} ± ${5 * sd}`);
});

Deno.test("kMeans() names bad input", () => {
  const r = rng(0);
  assertThrows(
    () => kMeans([[0], [1]], 3, r),
    RangeError,
    "Cannot run k-means: C must be an integer in [1, N = 2], got 3",
  );
  assertThrows(() => kMeans([[0], [1]], 0, r), RangeError, "C must be an integer in [1, N = 2], got 0");
  assertThrows(() => kMeans([[0], [1]], 1, Math.random as never), TypeError, "r must be an Rng");
  assertThrows(() => kMeans([[0], [1]], 1, r, { iterations: -1 }), RangeError, "iterations must be a non-negative");
  assertThrows(() => kMeans([[0, 1], [1]], 1, r), TypeError, "every point must have 2 coordinates, got 1 at row 1");
  assertThrows(() => kMeans([[0], [NaN]], 1, r), RangeError, "points must be finite, got NaN at row 1");
  assertThrows(() => kMeans("points" as never, 1, r), TypeError, "points must be a 2-D tensor or an array of rows");
});

for (const backend of TEST_BACKENDS) {
  Deno.test(`clusteredAttention() matches the Float64 loop and masked attention() on its clusters (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("clustered-test");
    let emptyRows = 0;
    for (const [T, S, D, Dv] of [[1, 1, 4, 3], [12, 12, 8, 5], [5, 9, 4, 2]]) {
      for (const C of [...new Set([1, 2, 3, T + S])].filter((c) => c <= T + S)) {
        for (const causal of [false, true]) {
          const [qa, ka, va] = [r.normalArray(T * D), r.normalArray(S * D), r.normalArray(S * Dv)];
          const [q, k, v] = [f32(qa, [T, D]), f32(ka, [S, D]), f32(va, [S, Dv])];
          const before = tf.memory().numTensors;
          const { output, queryClusters: qc, keyClusters: kc } = clusteredAttention(q, k, v, {
            clusters: C,
            rng: r.fork(C),
            causal,
          });
          assertEquals(tf.memory().numTensors, before + 1, "clusteredAttention() leaked tensors");
          const keep = (i: number, j: number) => qc[i] === kc[j] && (!causal || j <= i + S - T);
          const got = output.dataSync();
          const what = `T=${T} S=${S} C=${C} causal=${causal}`;
          assert(maxAbsDiff(got, naiveAttention(qa, ka, va, T, S, D, Dv, keep).out) < TOL, `${what}: vs the loop`);
          const mask = tf.tensor2d([...Array(T * S).keys()].map((x) => keep(Math.floor(x / S), x % S)), [T, S], "bool");
          const ref = attention(q, k, v, { mask });
          assert(maxAbsDiff(got, ref.output.dataSync()) < TOL, `${what}: vs attention()`);
          if (C === 1) {
            const full = attention(q, k, v, { causal });
            assert(maxAbsDiff(got, full.output.dataSync()) < TOL, `${what}: one cluster is full attention`);
            tf.dispose([full.output, full.weights]);
          }
          // Clusters are k-means of the unit-length queries and keys, seeded by rng.fork("clustered/0").
          const unit = (a: Float64Array) => {
            const n = Math.hypot(...a);
            return Array.from(a, (x) => x / n);
          };
          const points = [
            ...[...Array(T).keys()].map((i) => unit(Float64Array.from(q.dataSync().subarray(i * D, (i + 1) * D)))),
            ...[...Array(S).keys()].map((j) => unit(Float64Array.from(k.dataSync().subarray(j * D, (j + 1) * D)))),
          ];
          const km = kMeans(points, C, r.fork(C).fork("clustered/0"));
          assertEquals([...qc, ...kc], Array.from(km.assignment));
          for (let i = 0; i < T; i++) {
            if ([...Array(S).keys()].some((j) => keep(i, j))) continue;
            emptyRows++;
            assertEquals(Array.from(got.subarray(i * Dv, (i + 1) * Dv)), new Array(Dv).fill(0));
          }
          tf.dispose([q, k, v, output, mask, ref.output, ref.weights]);
        }
      }
    }
    assert(emptyRows > 0, "the cases should include queries whose cluster has no key");
  });

  Deno.test(`clusteredAttention() clusters each batch slice on its own (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("clustered-batch");
    const [B, H, T, D, Dv, C] = [2, 2, 10, 4, 3, 3];
    const q = r.tensor([B, H, T, D]), k = r.tensor([B, H, T, D]), v = r.tensor([B, H, T, Dv]);
    const { output, queryClusters, keyClusters } = clusteredAttention(q, k, v, { clusters: C, rng: r, causal: true });
    assertEquals([output.shape, queryClusters.length, keyClusters.length], [[B, H, T, Dv], B * H * T, B * H * T]);
    const [qa, ka, va, out] = [q, k, v, output].map((t) => Float64Array.from(t.dataSync()));
    const cut = (a: Float64Array, s: number, n: number) => a.subarray(s * n, (s + 1) * n);
    for (let s = 0; s < B * H; s++) {
      const keep = (i: number, j: number) => j <= i && queryClusters[s * T + i] === keyClusters[s * T + j];
      const twin = naiveAttention(cut(qa, s, T * D), cut(ka, s, T * D), cut(va, s, T * Dv), T, T, D, Dv, keep).out;
      assert(maxAbsDiff(cut(out, s, T * Dv), twin) < TOL, `slice ${s}`);
    }
    // Same rng, same clusters (the rng does not advance).
    const again = clusteredAttention(q, k, v, { clusters: C, rng: r, causal: true });
    assertEquals(again.queryClusters, queryClusters);
    tf.dispose([q, k, v, output, again.output]);
  });
}

Deno.test("clusteredAttention() with fixed centroids is causal all the way: later tokens change nothing before them", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = rng("clustered-fixed");
  const [T, D, Dv] = [16, 4, 3];
  const centroids = kMeans([...Array(40)].map(() => Array.from(r.normalArray(D))), 4, r).centroids;
  const [qa, ka, va] = [r.normalArray(T * D), r.normalArray(T * D), r.normalArray(T * Dv)];
  const [q, k, v] = [f32(qa, [T, D]), f32(ka, [T, D]), f32(va, [T, Dv])];
  const res = clusteredAttention(q, k, v, { centroids, causal: true });
  // Each unit-length query and key joins its nearest centroid.
  const nearestOf = (a: Float64Array, t: number) => {
    const row = Array.from(a.subarray(t * D, (t + 1) * D)), n = Math.hypot(...row);
    const d = centroids.map((c) => sq(row.map((x) => x / n), c));
    return d.indexOf(Math.min(...d));
  };
  for (let t = 0; t < T; t++) {
    assertEquals([res.queryClusters[t], res.keyClusters[t]], [nearestOf(qa, t), nearestOf(ka, t)]);
  }
  assertEquals(res.centroids, [centroids]);
  const keep = (i: number, j: number) => j <= i && res.queryClusters[i] === res.keyClusters[j];
  assert(maxAbsDiff(res.output.dataSync(), naiveAttention(qa, ka, va, T, T, D, Dv, keep).out) < TOL);
  // Change tokens 10…15: outputs 0…9 stay exactly the same.
  const change = (a: Float64Array, w: number) => a.map((x, e) => e >= 10 * w ? x + 3 * r.normal() : x);
  const [q2, k2, v2] = [f32(change(qa, D), [T, D]), f32(change(ka, D), [T, D]), f32(change(va, Dv), [T, Dv])];
  const res2 = clusteredAttention(q2, k2, v2, { centroids, causal: true });
  assertEquals(
    Array.from(res2.output.dataSync().subarray(0, 10 * Dv)),
    Array.from(res.output.dataSync().subarray(0, 10 * Dv)),
  );
  assertNotEqual(Array.from(res2.output.dataSync()), Array.from(res.output.dataSync()));
  tf.dispose([q, k, v, q2, k2, v2, res.output, res2.output]);
});

Deno.test("routing keeps more of full attention's weight than random clusters of the same sizes", async () => {
  // Measured (T = S = 256, D = 16, q and k ~ N(0, 4²)): routing keeps 0.76 / 0.56 / 0.48 / 0.44 of the
  // softmax mass for C = 2 / 4 / 8 / 16, random clusters of the same sizes 0.50 / 0.22 / 0.13 / 0.06.
  await initBackend({ backend: "cpu", print: false });
  const r = rng("routing-mass");
  const [T, D, C] = [128, 16, 8];
  const q = r.tensor([T, D], 4), k = r.tensor([T, D], 4), v = r.tensor([T, 1]);
  const w = attention(q, k, v).weights;
  const weights = w.arraySync() as number[][];
  const { output, queryClusters: qc, keyClusters: kc } = clusteredAttention(q, k, v, { clusters: C, rng: r });
  const shuffled = Array.from(kc);
  for (let i = T - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  let routed = 0, random = 0;
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      if (qc[i] === kc[j]) routed += weights[i][j] / T;
      if (qc[i] === shuffled[j]) random += weights[i][j] / T;
    }
  }
  assert(routed > 2 * random, `routing keeps ${routed} of the mass, random clusters ${random}`);
  tf.dispose([q, k, v, w, output]);
});

Deno.test("clusteredAttention() names bad input", async () => {
  await initBackend({ backend: "cpu", print: false });
  const q = tf.zeros([4, 3]), k = tf.ones([5, 3]), v = tf.zeros([5, 2]), r = rng(0);
  const msg = "Cannot compute clustered attention: ";
  assertThrows(
    () => clusteredAttention(q, k, v, { clusters: 10, rng: r }),
    RangeError,
    `${msg}clusters must be an integer in [1, T + S = 9], got 10`,
  );
  assertThrows(() => clusteredAttention(q, k, v, { clusters: 2 } as never), TypeError, `${msg}rng must be an Rng`);
  assertThrows(
    () => clusteredAttention(q, tf.zeros([5, 2]), v, { clusters: 2, rng: r }),
    TypeError,
    `${msg}keys must have shape [S,3], got [5,2]`,
  );
  assertThrows(
    () => clusteredAttention(q, k, q, { clusters: 2, rng: r }),
    TypeError,
    `${msg}values must have shape [5,Dv], got [4,3]`,
  );
  assertThrows(
    () => clusteredAttention(k, q, q, { clusters: 2, rng: r, causal: true }),
    RangeError,
    "needs at least as many keys as queries, got T=5, S=4",
  );
  assertThrows(
    () => clusteredAttention(q, k, v, { centroids: [[1, 0]] }),
    TypeError,
    `${msg}centroids must be a non-empty array of rows of 3 numbers`,
  );
  assertThrows(
    () => clusteredAttention(q, k, v, { centroids: [[1, 0, 0]], clusters: 2 }),
    RangeError,
    `${msg}clusters must equal the number of centroids (1), got 2`,
  );
  assertThrows(
    () => clusteredAttention(q, k, v, { clusters: 2, rng: r, scale: NaN }),
    RangeError,
    `${msg}scale must be a finite number`,
  );
  const nan = tf.tensor2d([[NaN, 0, 0]]);
  assertThrows(
    () => clusteredAttention(nan, k, v, { clusters: 2, rng: r }),
    RangeError,
    `${msg}queries must be finite to be clustered`,
  );
  assertThrows(
    () => clusteredAttention(tf.zeros([3]), k, v, { clusters: 2, rng: r }),
    TypeError,
    `${msg}queries must be a tf.Tensor of rank 2 or more`,
  );
  tf.dispose([q, k, v, nan]);
});
