import * as tf from "@tensorflow/tfjs";
import { assert } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import { expectDiagnosis, expectPass, runHidden } from "./_testing.ts";
import { lesson08Exercises as ex } from "./lesson08.ts";
import { hidden08 } from "../../tools/grading/hidden.ts";

// Reference answers live only in this test (lib/ tests are not part of the student bundle).

/** The pattern mask; planted bugs by name. */
function patternMask(T: number, w: number, dl: number, global: number[], causal: boolean, bug = ""): boolean[][] {
  const g = new Set(global);
  const p = { causal };
  const local = (i: number, j: number) => {
    const dist = Math.abs(i - j);
    if (bug === "offByOne") return dist < w * dl && dist % dl === 0;
    if (bug === "span") return dist <= w && dist % dl === 0;
    if (bug === "noGaps") return dist <= w * dl;
    return dist <= w * dl && dist % dl === 0;
  };
  return Array.from({ length: T }, (_, i) =>
    Array.from({ length: T }, (_, j) => {
      const exempt = (bug === "globalFuture" && g.has(i)) || (bug === "globalFirst" && (g.has(i) || g.has(j)));
      if (p.causal && bug !== "notCausal" && j > i && !exempt) return false;
      if (p.causal && bug === "noDiagonal" && j === i) return false;
      if (g.has(i) && bug !== "columnsOnly") return true;
      if (g.has(j) && bug !== "rowsOnly") return true;
      return local(i, j);
    }));
}

/** FLOPs of the masked dense and the gathered kernel; planted bugs. */
function attentionFlops(mask: boolean[][], D: number, bug = "") {
  const T = BigInt(mask.length), d = BigInt(D);
  const kept = BigInt(mask.flat().filter(Boolean).length);
  const per = bug === "half" ? 2n : 4n;
  return [
    bug === "maskSaves" ? per * kept * d : per * T * T * d,
    bug === "noSaving" ? per * T * T * d : per * kept * d,
  ];
}

/** Reach after exactly L steps; planted bugs. */
function reachAfter(mask: boolean[][], L: number, bug = ""): boolean[][] | number[][] {
  const T = mask.length;
  const steps = bug === "oneLayer" ? 1 : bug === "short" ? L - 1 : bug === "long" ? L + 1 : L;
  let R: number[][] = mask.map((r) => r.map((x) => (x ? 1 : 0)));
  let union: number[][] = R.map((r) => [...r]);
  for (let s = 1; s < steps; s++) {
    R = R.map((row) => Array.from({ length: T }, (_, j) => row.reduce((a, x, p) => a + x * (mask[p][j] ? 1 : 0), 0)));
    if (bug !== "counts") R = R.map((r) => r.map((x) => (x > 0 ? 1 : 0)));
    union = union.map((r, i) => r.map((x, j) => (x || R[i][j] ? 1 : 0)));
  }
  if (bug === "counts") return R;
  const out = bug === "atMost" ? union : R;
  return bug === "transposed" ? out.map((_, i) => out.map((row) => row[i] > 0)) : out.map((r) => r.map((x) => x > 0));
}

/** Angular LSH buckets; planted bugs. */
function lshBuckets(x: number[][], R: number[][], bug = ""): number[] {
  return x.map((row) => {
    const p = R[0].map((_, u) => row.reduce((s, xc, c) => s + xc * R[c][u], 0));
    if (bug === "signBits") return p.reduce((s, y, u) => s + (y > 0 ? 2 ** u : 0), 0);
    const all = bug === "noNegative" ? p : bug === "absolute" ? p.map(Math.abs) : [...p, ...p.map((y) => -y)];
    return bug === "argmin" ? all.indexOf(Math.min(...all)) : all.indexOf(Math.max(...all));
  });
}

/** Causal clustered attention with fixed centroids (tf); planted bugs. */
function clustered(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, centroids: number[][], bug = ""): tf.Tensor2D {
  const qa = q.arraySync(), ka = k.arraySync();
  const unit = (x: number[]) => {
    const n = Math.hypot(...x);
    return x.map((c) => c / n);
  };
  const nearest = (x: number[], cs: number[][]) => {
    const dists = cs.map((c) => x.reduce((s, xc, e) => s + (xc - c[e]) ** 2, 0));
    return dists.indexOf(Math.min(...dists));
  };
  let cs = centroids;
  if (bug.startsWith("refit")) {
    const pts = (bug.includes("Keys") ? ka : [...qa, ...ka]).map(unit);
    const a = pts.map((p) => nearest(p, centroids));
    cs = centroids.map((c, ci) => {
      const mine = pts.filter((_, p) => a[p] === ci);
      const mean = mine.length ? c.map((_, e) => mine.reduce((s, x) => s + x[e], 0) / mine.length) : c;
      return bug.endsWith("Unit") ? unit(mean) : mean;
    });
  }
  const qc = qa.map((x) => nearest(unit(x), cs)), kc = ka.map((x) => nearest(unit(x), cs));
  const T = qa.length;
  const keep = Array.from(
    { length: T },
    (_, i) =>
      Array.from({ length: T }, (_, j) => (bug === "notCausal" || j <= i) && (bug === "full" || qc[i] === kc[j])),
  );
  return tf.tidy(() => {
    const s = tf.div(tf.matMul(q, k, false, true), bug === "noScale" ? 1 : Math.sqrt(q.shape[1]));
    const masked = tf.where(tf.tensor2d(keep), s, tf.fill(s.shape, -Infinity));
    const w = tf.softmax(masked);
    if (bug === "nan") return tf.matMul(w, v) as tf.Tensor2D;
    const safe = tf.where(tf.isNaN(w), tf.zerosLike(w), w); // a row with no key: weights 0, output 0
    return tf.matMul(safe, v) as tf.Tensor2D;
  });
}

/** BigBird random links from a seed; planted bugs. */
function randomLinks(T: number, perRow: number, seed: string, bug = ""): number[][] {
  const r = bug === "unseeded" ? rng(String(Math.random())) : rng(bug === "ignoreSeed" ? "fixed" : seed);
  const n = Math.min(perRow, T);
  const draw = () => {
    if (bug === "replacement") return Array.from({ length: n }, () => r.int(T));
    const keys = [...Array(T).keys()];
    for (let i = T - 1; i > 0; i--) { // Fisher–Yates
      const j = r.int(i + 1);
      [keys[i], keys[j]] = [keys[j], keys[i]];
    }
    return keys.slice(0, n);
  };
  if (bug === "sameRows") {
    const one = draw();
    return Array.from({ length: T }, () => [...one]);
  }
  return Array.from({ length: T }, draw);
}

Deno.test("lesson 08 checks pass the reference answers (visible and hidden cases) on cpu and wasm", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend({ backend, print: false });
    const answers: [keyof typeof ex, unknown][] = [
      ["patternMask", (T: number, w: number, dl: number, g: number[], c: boolean) => patternMask(T, w, dl, g, c)],
      [
        "patternMask",
        (T: number, w: number, dl: number, g: number[], c: boolean) =>
          tf.tensor2d(patternMask(T, w, dl, g, c).map((r) => r.map(Number))),
      ],
      ["attentionFlops", (m: boolean[][], D: number) => attentionFlops(m, D)],
      ["reachAfter", (m: boolean[][], L: number) => reachAfter(m, L)],
      ["lshBuckets", (x: number[][], R: number[][]) => lshBuckets(x, R)],
      [
        "causalClusteredAttention",
        (q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, c: number[][]) => clustered(q, k, v, c),
      ],
      ["randomLinks", (T: number, n: number, seed: string) => randomLinks(T, n, seed)],
    ];
    for (const [name, fn] of answers) {
      await expectPass(ex, name, fn, `${name} on ${backend}`);
      const hidden = await runHidden(ex[name], hidden08[name] as never, fn);
      assert(hidden.status === "passed", `${name} hidden on ${backend}: ${JSON.stringify(hidden.failure)}`);
    }
  }
});

Deno.test("patternMask check names window, dilation, global and causal mistakes", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [string, string][] = [
    ["offByOne", "your window stops one short"],
    ["span", "you dilated the gaps but not the reach"],
    ["noGaps", "you widened the window to w·δ without the gaps"],
    ["rowsOnly", "your global tokens see every key, but the other queries do not see them"],
    ["columnsOnly", "you let every query see the global tokens but kept the global tokens' own rows"],
    ["notCausal", "you ignored causal"],
    ["noDiagonal", "your causal cut also drops the query itself"],
    ["globalFuture", "your global tokens see the future under causal"],
    ["globalFirst", "your global tokens bypass the causal cut"],
  ];
  for (const [bug, cause] of planted) {
    await expectDiagnosis(
      ex,
      "patternMask",
      (T: number, w: number, dl: number, g: number[], c: boolean) => patternMask(T, w, dl, g, c, bug),
      cause,
      bug,
    );
  }
});

Deno.test("attentionFlops check names 'a sparse mask makes it faster' and the counting mistakes", async () => {
  await initBackend({ backend: "cpu", print: false });
  for (
    const [bug, cause] of [
      ["maskSaves", "you counted only the kept pairs for the masked dense kernel"],
      ["half", "your counts are half the rule's"],
      ["noSaving", "you gave the gathered kernel the dense count"],
    ]
  ) {
    await expectDiagnosis(ex, "attentionFlops", (m: boolean[][], D: number) => attentionFlops(m, D, bug), cause, bug);
  }
});

Deno.test("reachAfter check names 'local attention cannot see far' (one layer) and the path mistakes", async () => {
  await initBackend({ backend: "cpu", print: false });
  for (
    const [bug, cause] of [
      ["oneLayer", "you returned the one-layer pattern"],
      ["transposed", 'your matrix answers "which outputs depend on input i"'],
      ["short", "you took L − 1 steps"],
      ["long", "you took L + 1 steps"],
      ["atMost", "you also counted paths shorter than L"],
      ["counts", "you returned counts"],
    ]
  ) {
    await expectDiagnosis(ex, "reachAfter", (m: boolean[][], L: number) => reachAfter(m, L, bug), cause, bug);
  }
});

Deno.test("lshBuckets check names the missing −xR half, argmin, |xR| and sign bits", async () => {
  await initBackend({ backend: "cpu", print: false });
  for (
    const [bug, cause] of [
      ["noNegative", "you took the argmax of xR alone"],
      ["argmin", "you took the argmin"],
      ["absolute", "you took the largest |xR_u|"],
      ["signBits", "you turned the signs of xR into bits"],
    ]
  ) {
    await expectDiagnosis(ex, "lshBuckets", (x: number[][], R: number[][]) => lshBuckets(x, R, bug), cause, bug);
  }
});

Deno.test("causalClusteredAttention check names 'clustering is exact', future keys and refitted centroids (the leak)", async () => {
  await initBackend({ backend: "cpu", print: false });
  for (
    const [bug, cause] of [
      ["full", "clustering is not exact"],
      ["notCausal", "your queries also see later keys of their cluster"],
      ["refit", "causal clustering without fixed centroids leaks the future"],
      ["refitUnit", "causal clustering without fixed centroids leaks the future"],
      ["refitKeys", "causal clustering without fixed centroids leaks the future"],
      ["refitKeysUnit", "causal clustering without fixed centroids leaks the future"],
      ["noScale", "you did not scale the scores; the rule: divide q·k by √d inside each cluster"],
      ["nan", "you left NaN for a query whose cluster has no key up to it"],
    ]
  ) {
    await expectDiagnosis(
      ex,
      "causalClusteredAttention",
      (q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, c: number[][]) => clustered(q, k, v, c, bug),
      cause,
      bug,
    );
  }
});

Deno.test("randomLinks check names links resampled every step, an ignored seed, repeats and shared rows", async () => {
  await initBackend({ backend: "cpu", print: false });
  for (
    const [bug, cause] of [
      ["unseeded", "not resampled every step"],
      ["ignoreSeed", "you ignored the seed"],
      ["replacement", "you drew keys with replacement"],
      ["sameRows", "you drew one set of links for all queries"],
    ]
  ) {
    await expectDiagnosis(
      ex,
      "randomLinks",
      (T: number, n: number, s: string) => randomLinks(T, n, s, bug),
      cause,
      bug,
    );
  }
});
