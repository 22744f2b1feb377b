import * as tf from "@tensorflow/tfjs";
import { assert } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import { expectDiagnosis, expectPass, runHidden } from "./_testing.ts";
import { lesson07Exercises as ex } from "./lesson07.ts";
import { hidden07 } from "../../tools/grading/hidden.ts";

// Reference answers live only in this test (lib/ tests are not part of the student bundle).

type Phi = (x: tf.Tensor) => tf.Tensor;
const elu1: Phi = (x) => tf.add(tf.elu(x), 1);

/** Linear attention in tf with a choice of feature maps, normaliser and key range (the planted bugs). */
function linear(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  o: { phiQ?: Phi; phiK?: Phi; normalise?: boolean } = {},
): tf.Tensor2D {
  const { phiQ = elu1, phiK = elu1, normalise = true } = o;
  return tf.tidy(() => {
    const fq = phiQ(q), fk = phiK(k);
    const num = tf.matMul(fq, tf.matMul(fk, v, true, false));
    if (!normalise) return num as tf.Tensor2D;
    return tf.div(num, tf.matMul(fq, tf.sum(fk, 0, true), false, true)) as tf.Tensor2D;
  });
}

/** Causal linear attention by prefix sums; planted bugs: exclusive or reversed sums, full denominator, no normaliser. */
function causal(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  o: { phi?: Phi; exclusive?: boolean; reverse?: boolean; fullDen?: boolean; normalise?: boolean } = {},
): tf.Tensor2D {
  const { phi = elu1, exclusive = false, reverse = false, fullDen = false, normalise = true } = o;
  return tf.tidy(() => {
    const fq = phi(q), fk = phi(k);
    const S = tf.cumsum(tf.mul(tf.expandDims(fk, 2), tf.expandDims(v, 1)), 0, exclusive, reverse); // [T, m, dv]
    const z = fullDen ? tf.sum(fk, 0, true) : tf.cumsum(fk, 0, exclusive, reverse); // [T, m]
    const num = tf.squeeze(tf.matMul(tf.expandDims(fq, 1), S), [1]);
    if (!normalise) return num as tf.Tensor2D;
    return tf.div(num, tf.sum(tf.mul(fq, z), 1, true)) as tf.Tensor2D;
  });
}

const softmaxAttention = (q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, masked = false) =>
  tf.tidy(() => {
    let s = tf.div(tf.matMul(q, k, false, true), Math.sqrt(q.shape[1]));
    if (masked) s = tf.add(s, tf.mul(tf.sub(1, tf.linalg.bandPart(tf.onesLike(s), -1, 0)), -1e9));
    return tf.matMul(tf.softmax(s), v) as tf.Tensor2D;
  });

/** The crossover by exact counting; `bug` plants a named mistake. */
function crossover(d: number, dv: number, bug?: "always" | "notStrict" | "ignoresDv" | "arithmetic" | "oneProduct") {
  if (bug === "always") return 1;
  let N = 1;
  const cheaper = (n: number) =>
    bug === "notStrict"
      ? 2 * d * dv * n <= (d + dv) * n * n
      : bug === "ignoresDv"
      ? n > d
      : bug === "arithmetic"
      ? n > (d + dv) / 2
      : bug === "oneProduct"
      ? d * dv * n < (d + dv) * n * n
      : 2 * d * dv * n < (d + dv) * n * n;
  while (!cheaper(N)) N++;
  return N;
}

const phi64 = (x: number) => (x > 0 ? x + 1 : Math.exp(x));

/** One RNN step in plain arrays: [S′, z′, output]; planted bugs. */
function step(
  S0: number[][],
  z0: number[],
  q: number[],
  k: number[],
  v: number[],
  bug?: "old" | "noNorm" | "zStill" | "grow" | "mutate",
): unknown[] {
  const fq = q.map(phi64), fk = k.map(phi64);
  if (bug === "mutate") {
    S0.forEach((row, a) => row.forEach((_, c) => row[c] += fk[a] * v[c]));
    z0.forEach((_, a) => z0[a] += fk[a]);
    const den = fq.reduce((s, f, a) => s + f * z0[a], 0);
    return [S0, z0, v.map((_, c) => fq.reduce((s, f, a) => s + f * S0[a][c], 0) / den)];
  }
  const S = S0.map((row, a) => row.map((s, c) => s + fk[a] * v[c]));
  const z = bug === "zStill" ? [...z0] : z0.map((s, a) => s + fk[a]);
  const [rS, rz] = bug === "old" ? [S0, z0] : [S, z];
  const den = bug === "noNorm" ? 1 : fq.reduce((s, f, a) => s + f * rz[a], 0);
  const output = v.map((_, c) => fq.reduce((s, f, a) => s + f * rS[a][c], 0) / den);
  return bug === "grow" ? [S, z, output, [k]] : [S, z, output]; // "grow": the keys kept as well, a KV cache
}

/** FAVOR+ positive features; planted bugs. */
function features(x: number[][], omega: number[][], bug?: string): number[][] {
  const m = omega.length;
  if (bug === "trig") {
    return x.map((row) => {
      const amp = Math.exp(row.reduce((s, c) => s + c * c, 0) / 2) / Math.sqrt(m);
      const p = omega.map((w) => w.reduce((s, wc, c) => s + wc * row[c], 0));
      return [...p.map((y) => amp * Math.sin(y)), ...p.map((y) => amp * Math.cos(y))];
    });
  }
  return x.map((row) => {
    const sq = row.reduce((s, c) => s + c * c, 0);
    const p = omega.map((w) => w.reduce((s, wc, c) => s + wc * row[c], 0));
    const top = Math.max(...p);
    const norm = bug === "noNorm" ? 0 : bug === "full" ? sq : bug === "notSquared" ? Math.sqrt(sq) / 2 : sq / 2;
    const div = bug === "noSqrt" ? 1 : bug === "overM" ? m : Math.sqrt(m);
    return p.map((y) => Math.exp(y - (bug === "stabilised" ? top : norm)) / div);
  });
}

/** Orthogonal random features; planted bugs. */
function orthogonal(
  d: number,
  m: number,
  seed: string,
  bug?: "unseeded" | "iid" | "unit" | "sqrtD" | "oneBlock" | "uniform",
) {
  const r = bug === "unseeded" ? rng(String(Math.random())) : rng(seed);
  const rows: number[][] = [];
  let block: number[][] = [];
  while (rows.length < m) {
    if (block.length === d && bug !== "oneBlock") block = [];
    const g = bug === "uniform" ? Array.from(r.uniformArray(d)) : Array.from(r.normalArray(d));
    const length = Math.hypot(...g);
    if (bug !== "iid") {
      for (let pass = 0; pass < 2; pass++) {
        for (const u of block) {
          const p = g.reduce((s, x, c) => s + x * u[c], 0);
          for (let c = 0; c < d; c++) g[c] -= p * u[c];
        }
      }
    }
    const n = Math.hypot(...g);
    const unit = g.map((x) => x / n);
    block.push(unit);
    const len = bug === "unit" ? 1 : bug === "sqrtD" ? Math.sqrt(d) : length;
    rows.push(unit.map((x) => x * len));
  }
  return rows;
}

Deno.test("lesson 07 checks pass the reference answers (visible and hidden cases) on cpu and wasm", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend({ backend, print: false });
    const answers: [keyof typeof ex, unknown][] = [
      ["reorderCrossover", (d: number, dv: number) => crossover(d, dv)],
      ["reorderCrossover", (d: number, dv: number) => BigInt(crossover(d, dv))],
      ["linearAttention", (q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D) => linear(q, k, v)],
      ["linearAttention", (q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D) => linear(q, k, v).arraySync()],
      ["causalLinearAttention", (q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D) => causal(q, k, v)],
      ["linearAttentionStep", step],
      ["positiveRandomFeatures", features],
      ["orthogonalRandomFeatures", orthogonal],
    ];
    for (const [name, fn] of answers) {
      await expectPass(ex, name, fn, `${name} on ${backend}`);
      const hidden = await runHidden(ex[name], hidden07[name] as never, fn);
      assert(hidden.status === "passed", `${name} hidden on ${backend}: ${JSON.stringify(hidden.failure)}`);
    }
  }
});

Deno.test("reorderCrossover check names 'always faster' and the counting mistakes", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [Parameters<typeof crossover>[2], string][] = [
    ["always", "you said the reordered product is always cheaper"],
    ["notStrict", "you returned the N where both groupings cost the same"],
    ["ignoresDv", "you put the crossover at N = d"],
    ["arithmetic", "you used the arithmetic mean"],
    ["oneProduct", "you counted only one product"],
  ];
  for (const [bug, cause] of planted) {
    await expectDiagnosis(ex, "reorderCrossover", (d: number, dv: number) => crossover(d, dv, bug), cause, bug);
  }
  await expectDiagnosis(
    ex,
    "reorderCrossover",
    (d: number) => d,
    "where the two groupings cost the same only",
    "N = d",
  );
});

Deno.test("linearAttention check names softmax, exp features, a dropped normaliser, elu without +1 and more", async () => {
  await initBackend({ backend: "cpu", print: false });
  type A = [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  const id: Phi = (x) => tf.clone(x);
  const planted: [string, (...a: A) => unknown, string][] = [
    ["softmax attention", (q, k, v) => softmaxAttention(q, k, v), "you computed softmax attention"],
    ["φ = exp", (q, k, v) => linear(q, k, v, { phiQ: tf.exp, phiK: tf.exp }), "you used φ = exp"],
    ["no normaliser", (q, k, v) => linear(q, k, v, { normalise: false }), "you left out the denominator"],
    ["elu without +1", (q, k, v) => linear(q, k, v, { phiQ: tf.elu, phiK: tf.elu }), "you used φ(x) = elu(x)"],
    ["normalised after the product", (q, k, v) => linear(q, k, v, { phiQ: id, phiK: id }), "you normalised after"],
    ["φ on queries only", (q, k, v) => linear(q, k, v, { phiK: id }), "you applied φ to the queries only"],
    ["φ on keys only", (q, k, v) => linear(q, k, v, { phiQ: id }), "you applied φ to the keys only"],
    [
      "1/√d carried over",
      (q, k, v) => linear(q, k, v, { phiQ: (x) => elu1(tf.div(x, Math.sqrt(x.shape[1]!))) }),
      "you divided the queries by √d",
    ],
    [
      "returned the weights",
      (q, k) => tf.tidy(() => tf.matMul(elu1(q), elu1(k), false, true)),
      "you returned the weight matrix",
    ],
  ];
  for (const [what, fn, cause] of planted) await expectDiagnosis(ex, "linearAttention", fn, cause, what);
});

Deno.test("causalLinearAttention check names a prefix sum that includes the future, and the other planted bugs", async () => {
  await initBackend({ backend: "cpu", print: false });
  type A = [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  const planted: [string, (...a: A) => unknown, string][] = [
    ["no mask (the future)", (q, k, v) => linear(q, k, v), "your prefix sums include the future"],
    ["exclusive prefix sums", (q, k, v) => causal(q, k, v, { exclusive: true }), "your sums stop at j < i"],
    ["full denominator", (q, k, v) => causal(q, k, v, { fullDen: true }), "your denominator sums over all keys"],
    ["no normaliser", (q, k, v) => causal(q, k, v, { normalise: false }), "you left out the denominator"],
    ["elu without +1", (q, k, v) => causal(q, k, v, { phi: tf.elu }), "you used φ(x) = elu(x)"],
    ["suffix sums", (q, k, v) => causal(q, k, v, { reverse: true }), "you summed from the end"],
    ["causal softmax", (q, k, v) => softmaxAttention(q, k, v, true), "you computed causal softmax attention"],
  ];
  for (const [what, fn, cause] of planted) await expectDiagnosis(ex, "causalLinearAttention", fn, cause, what);
});

Deno.test("linearAttentionStep check names a growing state, the old state, a dropped normaliser, a stale z", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [Parameters<typeof step>[5], string][] = [
    ["grow", "your state grows"],
    ["old", "you read the output from the state before the update"],
    ["noNorm", "you left out the denominator"],
    ["zStill", "you updated S but not z"],
    ["mutate", "you modified an argument in place"],
  ];
  for (const [bug, cause] of planted) {
    await expectDiagnosis(
      ex,
      "linearAttentionStep",
      (S: number[][], z: number[], q: number[], k: number[], v: number[]) => step(S, z, q, k, v, bug),
      cause,
      bug,
    );
  }
  // Another feature map in the state update: S′ is wrong before the output is read, and the map is named.
  const withMap = (f: (x: number) => number) => (S: number[][], z: number[], q: number[], k: number[], v: number[]) => {
    const fq = q.map(f), fk = k.map(f);
    const S2 = S.map((row, a) => row.map((s, c) => s + fk[a] * v[c])), z2 = z.map((s, a) => s + fk[a]);
    const den = fq.reduce((s, x, a) => s + x * z2[a], 0);
    return [S2, z2, v.map((_, c) => fq.reduce((s, x, a) => s + x * S2[a][c], 0) / den)];
  };
  const elu = await expectDiagnosis(
    ex,
    "linearAttentionStep",
    withMap((x) => (x > 0 ? x : Math.expm1(x))),
    "φ(x) = elu(x)",
  );
  assert(elu.message.startsWith("S′"), elu.message);
  await expectDiagnosis(ex, "linearAttentionStep", withMap((x) => x), "you added k vᵀ without the feature map");
});

Deno.test("positiveRandomFeatures check names FAVOR+ without exp(−‖x‖²/2) and the other planted bugs", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [string, string][] = [
    ["noNorm", "you left out the factor e^{−‖x‖²/2}"],
    ["full", "you subtracted ‖x‖² instead of ‖x‖²/2"],
    ["notSquared", "you subtracted ‖x‖/2 (the length)"],
    ["noSqrt", "you left out the 1/√m"],
    ["overM", "you divided by m on each side"],
    ["stabilised", "you subtracted each point's largest"],
    ["trig", "you returned 2m features (sin and cos)"],
  ];
  for (const [bug, cause] of planted) {
    await expectDiagnosis(
      ex,
      "positiveRandomFeatures",
      (x: number[][], w: number[][]) => features(x, w, bug),
      cause,
      bug,
    );
  }
});

Deno.test("orthogonalRandomFeatures check names unseeded and unorthogonalised features, equal lengths, one big block", async () => {
  await initBackend({ backend: "cpu", print: false });
  const planted: [Parameters<typeof orthogonal>[3], string][] = [
    ["unseeded", "you drew from an unseeded source"],
    ["iid", "you did not orthogonalise rows"],
    ["unit", "you gave every row the same length (1)"],
    ["sqrtD", "you gave every row the same length (√d"],
    ["oneBlock", "you orthogonalised more than d rows together"],
    ["uniform", "not uniform ones in [0, 1)"],
  ];
  for (const [bug, cause] of planted) {
    await expectDiagnosis(
      ex,
      "orthogonalRandomFeatures",
      (d: number, m: number, seed: string) => orthogonal(d, m, seed, bug),
      cause,
      bug,
    );
  }
  await expectDiagnosis(
    ex,
    "orthogonalRandomFeatures",
    (d: number, m: number) => orthogonal(d, m, "fixed"),
    "you ignored the seed",
  );
  // tf.linalg.qr's Q as it comes (signs not fixed by R's diagonal) is not uniform: its entries lean one way.
  const qr = (fixSigns: boolean) => (d: number, m: number, seed: string) => {
    const r = rng(seed);
    const rows: number[][] = [];
    while (rows.length < m) {
      const G = Array.from({ length: d }, () => Array.from(r.normalArray(d)));
      const lengths = Array.from({ length: d }, () => Math.hypot(...r.normalArray(d))); // χ_d, as ‖g‖
      const [Q, R] = tf.tidy(() => tf.linalg.qr(tf.tensor2d(G)).map((t) => t.arraySync() as number[][]));
      for (let i = 0; i < d && rows.length < m; i++) {
        const sign = fixSigns ? Math.sign(R[i][i]) || 1 : 1;
        rows.push(Q.map((row) => row[i] * sign * lengths[i])); // column i of Q
      }
    }
    return rows;
  };
  await expectDiagnosis(ex, "orthogonalRandomFeatures", qr(false), "multiply column i of Q by the sign of R[i][i]");
  await expectPass(ex, "orthogonalRandomFeatures", qr(true), "QR with its signs fixed");
});
