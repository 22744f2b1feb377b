import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { attention } from "../attention/scaled_dot_product.ts";
import { linformerAttention } from "../attention/linformer.ts";
import { numericalRank } from "../analysis/low_rank.ts";
import { singularValues } from "../analysis/svd.ts";
import { expectDiagnosis, expectPass, failureOf, runHidden } from "./_testing.ts";
import { lesson06Exercises as ex } from "./lesson06.ts";
import { hidden06 } from "../../tools/grading/hidden.ts";

// Reference answers live only in tests (lib/ tests are not part of the student bundle).

/** [rank(S), rank(P)] in Float64; `bug` plants a known mistake. */
function ranks(Q: number[][], K: number[][], bug = "none"): number[] {
  const d = Q[0].length;
  const S = Q.map((q) => K.map((k) => q.reduce((s, x, c) => s + x * k[c], 0) / Math.sqrt(d)));
  if (bug === "float32") {
    // the same with TensorFlow.js (float32): rounding lifts every singular value of S above 1e-10·σ₁
    const [s32, p32] = tf.tidy(() => {
      const s = tf.div(tf.matMul(tf.tensor2d(Q), tf.tensor2d(K), false, true), Math.sqrt(d));
      return [s.arraySync() as number[][], tf.softmax(s).arraySync() as number[][]];
    });
    return [numericalRank(singularValues(s32)), numericalRank(singularValues(p32))];
  }
  const P = S.map((row) => {
    const top = Math.max(...row), e = row.map((x) => Math.exp(x - top)), sum = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / sum);
  });
  const r = [numericalRank(singularValues(S)), numericalRank(singularValues(P))];
  if (bug === "softmaxRankD") return [r[0], r[0]];
  if (bug === "swapped") return [r[1], r[0]];
  return r;
}

/** [mass, effective rank] from eigenvalues; `bug` plants a known mistake. */
function gram(eigenvalues: number[], k: number, bug = "none"): number[] {
  let sigma = eigenvalues.map((l) =>
    bug === "eigen" ? Math.max(l, 0) : bug === "nan" ? Math.sqrt(l) : Math.sqrt(Math.max(l, 0))
  );
  if (bug !== "unsorted") sigma = [...sigma].sort((a, b) => b - a);
  const total = sigma.reduce((a, b) => a + b, 0);
  const mass = sigma.slice(0, bug === "kPlusOne" ? k + 1 : k).reduce((a, b) => a + b, 0) / total;
  const sorted = [...sigma].sort((a, b) => b - a);
  const h = -sorted.reduce((acc, s) => (s > 0 ? acc + (s / total) * Math.log(s / total) : acc), 0);
  return [mass, bug === "entropy" ? h : Math.exp(h)];
}

/** ⌈4 ln n / (ε²/2 − ε³/3)⌉; `bug` plants a known mistake. */
function jl(points: number[][], eps: number, bug = "none"): number {
  if (!(eps > 0 && eps < 1) || points.length < 2) {
    if (bug !== "noThrow") throw new RangeError("eps in (0, 1) and two points");
  }
  const n = points.length;
  const ln = { log10: Math.log10(n), log2: Math.log2(n), dimension: Math.log(points[0].length) }[bug] ?? Math.log(n);
  const den = bug === "noCubic" ? eps ** 2 / 2 : eps ** 2 / 2 - eps ** 3 / 3;
  const bound = (4 * ln) / den;
  return bug === "floor" ? Math.floor(bound) : bug === "raw" ? bound : Math.ceil(bound);
}

/** X·Zᵀ/√k; `scale` replaces the divisor to plant a mistake. */
const project = (divisor = (k: number) => Math.sqrt(k)) => (X: tf.Tensor2D, Z: tf.Tensor2D) =>
  tf.tidy(() => tf.div(tf.matMul(X, Z, false, true), divisor(Z.shape[0])));

/** Linformer on tensors; `bug` plants a known mistake. */
function linformer(bug = "none") {
  return (Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D, E: tf.Tensor2D, F: tf.Tensor2D, causal: boolean) => {
    if (causal && bug !== "causalOk") throw new RangeError("no causal Linformer");
    if (K.shape[0] !== E.shape[1] && bug !== "anyLength") throw new RangeError("E was made for another n");
    return tf.tidy(() => {
      const d = Q.shape[1];
      const Et = bug === "anyLength" ? tf.slice(E, [0, 0], [-1, K.shape[0]]) : E;
      const Ft = bug === "anyLength" ? tf.slice(F, [0, 0], [-1, V.shape[0]]) : F;
      if (bug === "featureAxis") return attention(Q, tf.matMul(K, Et, false, true), tf.matMul(Ft, V)).output;
      if (bug === "queries") return attention(tf.matMul(Et, Q), tf.matMul(Et, K), tf.matMul(Ft, V)).output;
      if (bug === "noF") return attention(Q, tf.matMul(Et, K), V).output;
      if (bug === "valuesWithE") return attention(Q, tf.matMul(Et, K), tf.matMul(Et, V)).output;
      if (bug === "keysWithF") return attention(Q, tf.matMul(Ft, K), tf.matMul(Ft, V)).output;
      if (bug === "columns") {
        const s = tf.div(tf.matMul(Q, tf.matMul(Et, K), false, true), Math.sqrt(d)); // [n, k]
        return tf.matMul(tf.transpose(tf.softmax(tf.transpose(s))), tf.matMul(Ft, V));
      }
      const [ek, fv] = bug === "swapped" ? [tf.matMul(Ft, K), tf.matMul(Et, V)] : [tf.matMul(Et, K), tf.matMul(Ft, V)];
      const scale = bug === "sqrtK" ? 1 / Math.sqrt(E.shape[0]) : bug === "noScale" ? 1 : undefined;
      return attention(Q, ek, fv, { scale }).output;
    });
  };
}

/** Mean pooling [k, n]; `bug` plants a known mistake. */
function pooling(n: number, k: number, bug = "none"): number[][] {
  if (n % k !== 0 && bug !== "noThrow") throw new RangeError("k must divide n");
  const b = n / k;
  if (bug === "transposed") {
    return Array.from(
      { length: n },
      (_, j) => Array.from({ length: k }, (_, r) => (Math.floor(j / b) === r ? 1 / b : 0)),
    );
  }
  if (bug === "random") {
    return Array.from({ length: k }, (_, r) => Array.from({ length: n }, (_, j) => Math.sin(7 * r + 3 * j + 1)));
  }
  return Array.from({ length: k }, (_, r) =>
    Array.from({ length: n }, (_, j) => {
      const inBlock = bug === "roundRobin" ? j % k === r : Math.floor(j / b) === r;
      return inBlock ? (bug === "sum" ? 1 : 1 / b) : 0;
    }));
}

const REFERENCE = {
  scoreAndWeightRanks: (Q: number[][], K: number[][]) => ranks(Q, K),
  spectrumFromGram: (l: number[], k: number) => gram(l, k),
  jlDimension: (p: number[][], e: number) => jl(p, e),
  jlProject: project(),
  linformer: linformer(),
  poolingProjection: (n: number, k: number) => pooling(n, k),
};

Deno.test("lesson 06: the references pass every visible and hidden case, and alternatives pass too", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend({ backend, print: false });
    for (const [name, fn] of Object.entries(REFERENCE) as [keyof typeof ex, unknown][]) {
      await expectPass(ex, name, fn);
      const hidden = await runHidden(ex[name], hidden06[name], fn);
      assertEquals(hidden.status, "passed", `${name} hidden: ${JSON.stringify(hidden.failure)}`);
    }
    // The library's Linformer behind the exercise's validation (it refuses causal itself).
    await expectPass(
      ex,
      "linformer",
      (Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D, E: tf.Tensor2D, F: tf.Tensor2D, causal: boolean) => {
        if (K.shape[0] !== E.shape[1]) throw new RangeError("E was made for another n");
        return linformerAttention(Q, K, V, E, F, { causal });
      },
      "linformerAttention",
    );
    await expectPass(ex, "jlProject", (X: tf.Tensor2D, Z: tf.Tensor2D) => {
      const x = X.arraySync(), z = Z.arraySync(), k = z.length;
      return x.map((row) => z.map((zr) => row.reduce((s, v, c) => s + v * zr[c], 0) / Math.sqrt(k)));
    }, "plain loops");
    await expectPass(ex, "poolingProjection", (n: number, k: number) => tf.tensor2d(pooling(n, k)), "a tensor");
  }
});

Deno.test("scoreAndWeightRanks names rank(P) = d, float32 noise counted as rank, and swapped ranks", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [string, string][] = [
    ["softmaxRankD", "you gave softmax(QKᵀ/√d) the rank of QKᵀ"],
    ["float32", "you counted rounding noise as rank"],
    ["swapped", "you returned [rank(P), rank(S)]"],
  ];
  for (const [bug, cause] of planted) {
    const f = await expectDiagnosis(
      ex,
      "scoreAndWeightRanks",
      (Q: number[][], K: number[][]) => ranks(Q, K, bug),
      cause,
      bug,
    );
    assertEquals(f.case, "n=12, d=3", `${bug} is named on the first case`);
  }
});

Deno.test("spectrumFromGram names eigenvalues as singular values, NaN from √(−ε), unsorted, k + 1 and the raw entropy", async () => {
  const planted: [string, string][] = [
    ["eigen", "you used the eigenvalues of AᵀA as the singular values"],
    ["nan", "you took the square root of a negative eigenvalue"],
    ["unsorted", "you summed the first k values as given"],
    ["kPlusOne", "you summed k + 1 singular values"],
    ["entropy", "you returned the entropy −Σ p ln p"],
  ];
  for (const [bug, cause] of planted) {
    const f = await expectDiagnosis(ex, "spectrumFromGram", (l: number[], k: number) => gram(l, k, bug), cause, bug);
    assertEquals(f.case, "λ = [0.25, 9, -1e-15, 4, 0.01, 1], k=2", `${bug} is named on the first case`);
  }
});

Deno.test("jlDimension names log10, log2, the dimension, the rank, pairs, a dropped ε³, rounding down and the raw bound", async () => {
  const planted: [string, (p: number[][], e: number) => number, string][] = [
    ["log10", (p, e) => jl(p, e, "log10"), "you used log10"],
    ["log2", (p, e) => jl(p, e, "log2"), "you used log2"],
    ["dimension", (p, e) => jl(p, e, "dimension"), "you used the points' dimension D"],
    ["rank", (p, e) => {
      const r = numericalRank(singularValues(p), { rtol: 1e-8 }); // "JL is about low-rank matrices"
      return Math.ceil((4 * Math.log(r)) / (e ** 2 / 2 - e ** 3 / 3));
    }, "you used the rank of the points"],
    ["pairs", (p, e) => {
      const pairs = (p.length * (p.length - 1)) / 2;
      return Math.ceil((4 * Math.log(pairs)) / (e ** 2 / 2 - e ** 3 / 3));
    }, "you used the number of pairs"],
    ["noCubic", (p, e) => jl(p, e, "noCubic"), "you dropped the ε³/3 term"],
    ["floor", (p, e) => jl(p, e, "floor"), "you rounded down"],
    ["raw", (p, e) => jl(p, e, "raw"), "you returned the bound itself"],
  ];
  for (const [what, fn, cause] of planted) {
    const f = await expectDiagnosis(ex, "jlDimension", fn, cause, what);
    assertEquals(f.case, "40 points in D=10 of rank 3, ε=0.3", `${what} is named on the first case`);
  }
  const lenient = await failureOf(ex, "jlDimension", (p: number[][], e: number) => jl(p, e, "noThrow"));
  assertEquals(lenient.case, "input validation");
  assert(lenient.diagnosis?.includes("0 < ε < 1 and at least two points"), lenient.diagnosis);
});

Deno.test("jlProject names a missing 1/√k, a division by k, a multiplication by √k and a transposed result", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [string, unknown, string][] = [
    ["no scale", project(() => 1), "you did not scale the projection"],
    ["divided by k", project((k) => k), "you divided by k"],
    ["times √k", project((k) => 1 / Math.sqrt(k)), "you multiplied by √k"],
    ["[k, N]", (X: tf.Tensor2D, Z: tf.Tensor2D) => tf.tidy(() => tf.transpose(project()(X, Z))), "you returned [k, N]"],
    [
      "divided by √D",
      (X: tf.Tensor2D, Z: tf.Tensor2D) => tf.tidy(() => tf.div(tf.matMul(X, Z, false, true), Math.sqrt(X.shape[1]))),
      "you divided by √D",
    ],
    [
      "divided by D",
      (X: tf.Tensor2D, Z: tf.Tensor2D) => tf.tidy(() => tf.div(tf.matMul(X, Z, false, true), X.shape[1])),
      "you divided by D",
    ],
  ];
  for (const [what, fn, cause] of planted) {
    const f = await expectDiagnosis(ex, "jlProject", fn, cause, what);
    assertEquals(f.case, "N=5, D=8, k=3", `${what} is named on the first case`);
  }
});

Deno.test("linformer names the feature axis, projected queries, √k, swapped E/F, unprojected V, column softmax, causal and other lengths", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [string, string][] = [
    ["featureAxis", "you multiplied the keys (or values) by E on the feature side"],
    ["queries", "you projected the queries too"],
    ["sqrtK", "you divided the scores by √k"],
    ["noScale", "you did not scale the scores"],
    ["swapped", "you projected the keys with F and the values with E"],
    ["noF", "you projected the keys but not the values"],
    ["valuesWithE", "you projected the values with E as well"],
    ["keysWithF", "you projected the keys with F as well"],
    ["columns", "you took the softmax down the columns"],
  ];
  for (const [bug, cause] of planted) {
    const f = await expectDiagnosis(ex, "linformer", linformer(bug), cause, bug);
    assertEquals(f.case, "n=6, d=3, d_v=2, k=4", `${bug} is named on the first case`);
  }
  for (
    const [bug, cause] of [["causalOk", "you returned an output for a causal Linformer"], [
      "anyLength",
      "you accepted a sequence of another length",
    ]]
  ) {
    const f = await expectDiagnosis(ex, "linformer", linformer(bug), cause, bug);
    assertEquals(f.case, "input validation", bug);
  }
  // No length check at all: tf.matMul fails on E·K further in, and the cause says the input was not checked.
  const unchecked = (
    Q: tf.Tensor2D,
    K: tf.Tensor2D,
    V: tf.Tensor2D,
    E: tf.Tensor2D,
    F: tf.Tensor2D,
    causal: boolean,
  ) => {
    if (causal) throw new RangeError("no causal Linformer");
    return tf.tidy(() => attention(Q, tf.matMul(E, K), tf.matMul(F, V)).output);
  };
  const g = await expectDiagnosis(ex, "linformer", unchecked, "you did not check the input: TensorFlow.js failed");
  assertEquals(g.case, "input validation");
});

Deno.test("poolingProjection names sums, [n, k], round-robin tokens, a random matrix, blocks of k and no RangeError", async () => {
  const planted: [string, string][] = [
    ["sum", "you summed each block"],
    ["transposed", "you returned [n, k]"],
    ["roundRobin", "you dealt the tokens out round-robin"],
    ["random", "you returned a random (signed) projection"],
  ];
  for (const [bug, cause] of planted) {
    const f = await expectDiagnosis(ex, "poolingProjection", (n: number, k: number) => pooling(n, k, bug), cause, bug);
    assertEquals(f.case, "n=12, k=3", `${bug} is named on the first case`);
  }
  await expectDiagnosis(
    ex,
    "poolingProjection",
    (n: number, k: number) => pooling(n, n / k),
    "you made blocks of k tokens",
    "blocks of k",
  );
  // Blocks of k tokens in k rows (row b averages tokens b·k … b·k + k − 1): the shape is right, the blocks not.
  await expectDiagnosis(
    ex,
    "poolingProjection",
    (n: number, k: number) =>
      Array.from({ length: k }, (_, b) => Array.from({ length: n }, (_, j) => (Math.floor(j / k) === b ? 1 / k : 0))),
    "you made blocks of k tokens (row b averages tokens b·k",
    "blocks of k in k rows",
  );
  const lenient = await failureOf(ex, "poolingProjection", (n: number, k: number) => pooling(n, k, "noThrow"));
  assertEquals(lenient.case, "input validation");
});
