import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { expectDiagnosis, expectPass, failureOf, runHidden } from "./_testing.ts";
import { lesson02Exercises as ex } from "./lesson02.ts";
import { hidden02 } from "../../tools/grading/hidden.ts";

// Reference answers live only in tests (lib/ tests are not part of the student bundle).
const matVec = (W: number[][], h: number[]) => W.map((row) => row.reduce((s, w, c) => s + w * h[c], 0));
const qkv = (h: number[], Wq: number[][], Wk: number[][], Wv: number[][]) => [
  matVec(Wq, h),
  matVec(Wk, h),
  matVec(Wv, h),
];
const rowQueries = (X: tf.Tensor2D, Wq: tf.Tensor2D) => tf.tidy(() => tf.matMul(X, tf.transpose(Wq)));
const columnScores = (Q: tf.Tensor2D, K: tf.Tensor2D) =>
  tf.tidy(() => tf.div(tf.matMul(tf.transpose(Q), K), Math.sqrt(Q.shape[0])));
/** Self-attention, with a planted mistake when asked. */
const attend =
  (bug = "none", divisor?: (T: number, dk: number, dv: number) => number) =>
  (Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D) =>
    tf.tidy(() => {
      const [T, dk] = Q.shape, dv = V.shape[1];
      const scores = tf.div(
        tf.matMul(Q, bug === "notTransposed" ? K : tf.transpose(K)),
        divisor ? divisor(T, dk, dv) : Math.sqrt(dk),
      );
      if (bug === "noSoftmax") return tf.matMul(scores, V);
      if (bug === "axis0") return tf.matMul(tf.softmax(scores, 0), V);
      const alpha = bug === "wrongAxis" ? tf.transpose(tf.softmax(tf.transpose(scores))) : tf.softmax(scores);
      if (bug === "weights") return alpha;
      if (bug === "keys") return tf.matMul(alpha, K);
      if (bug === "transposed") return tf.matMul(tf.transpose(alpha), V);
      if (bug === "valuesFirst") return tf.matMul(V, alpha);
      if (bug === "scaleAfter") return tf.matMul(tf.div(tf.softmax(tf.matMul(Q, tf.transpose(K))), Math.sqrt(dk)), V);
      if (bug === "scaleTwice") return tf.div(tf.matMul(alpha, V), Math.sqrt(dk));
      if (bug === "multiplyAfter") {
        return tf.matMul(tf.mul(tf.softmax(tf.matMul(Q, tf.transpose(K))), Math.sqrt(dk)), V);
      }
      return tf.matMul(alpha, V);
    });
const strongestKeys = (Q: tf.Tensor2D, K: tf.Tensor2D, tokens: string[]) =>
  (tf.tidy(() => tf.argMax(tf.matMul(Q, tf.transpose(K)), 1)).arraySync() as number[]).map((j) => tokens[j]);

const REFERENCE = {
  qkvOfToken: qkv,
  rowQueries,
  columnScores,
  selfAttention: attend(),
  strongestKeys,
};

Deno.test("lesson 02: the references pass every visible and hidden case, and alternatives pass too", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend({ backend, print: false });
    for (const [name, fn] of Object.entries(REFERENCE) as [keyof typeof ex, unknown][]) {
      await expectPass(ex, name, fn);
      const hidden = await runHidden(ex[name], hidden02[name], fn);
      assertEquals(hidden.status, "passed", `${name} hidden: ${JSON.stringify(hidden.failure)}`);
    }
    await expectPass(ex, "rowQueries", (X: tf.Tensor2D, W: tf.Tensor2D) => X.matMul(W.transpose()), "chained");
    await expectPass(ex, "rowQueries", (X: tf.Tensor2D, W: tf.Tensor2D) => tf.matMul(X, W, false, true), "transposeB");
    await expectPass(ex, "rowQueries", (X: tf.Tensor2D, W: tf.Tensor2D) => tf.einsum("td,kd->tk", X, W), "einsum");
    await expectPass(
      ex,
      "columnScores",
      (Q: tf.Tensor2D, K: tf.Tensor2D) => Q.transpose().matMul(K).div(Math.sqrt(Q.shape[0])),
      "chained",
    );
    await expectPass(
      ex,
      "columnScores",
      (Q: tf.Tensor2D, K: tf.Tensor2D) => tf.einsum("di,dj->ij", Q, K).div(Math.sqrt(Q.shape[0])),
      "einsum",
    );
    await expectPass(
      ex,
      "selfAttention",
      (Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D) =>
        Q.matMul(K, false, true).div(Math.sqrt(Q.shape[1])).softmax().matMul(V),
      "chained",
    );
    await expectPass(
      ex,
      "selfAttention",
      (Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D) =>
        tf.einsum("ij,jv->iv", tf.softmax(tf.einsum("ik,jk->ij", Q, K).div(Math.sqrt(Q.shape[1]))), V),
      "einsum",
    );
    await expectPass(ex, "strongestKeys", (Q: tf.Tensor2D, K: tf.Tensor2D, tokens: string[]) => {
      const s = Q.arraySync().map((q) => K.arraySync().map((k) => q.reduce((a, x, c) => a + x * k[c], 0)));
      return s.map((row) => tokens[row.indexOf(Math.max(...row))]);
    }, "plain loops");
  }
});

Deno.test("qkvOfToken names Wᵀh, a vector from the wrong matrix, h·W lengths and an object", async () => {
  const transposedQ = (h: number[], Wq: number[][], Wk: number[][], Wv: number[][]) => [
    Wq[0].map((_, c) => Wq.reduce((s, row, r) => s + row[c] * h[r], 0)),
    matVec(Wk, h),
    matVec(Wv, h),
  ];
  const f = await expectDiagnosis(ex, "qkvOfToken", transposedQ, "one per column of W_Q");
  assertEquals(f.case, "d=3, d_k=2, d_v=4"); // h·W has the wrong length on the first case already
  await expectDiagnosis(ex, "qkvOfToken", (h: number[], Wq: number[][], _Wk: number[][], Wv: number[][]) => [
    matVec(Wq, h),
    matVec(Wq, h),
    matVec(Wv, h),
  ], "you computed k with W_Q");
  await expectDiagnosis(ex, "qkvOfToken", (h: number[], Wq: number[][], Wk: number[][], Wv: number[][]) => ({
    q: matVec(Wq, h),
    k: matVec(Wk, h),
    v: matVec(Wv, h),
  }), "you returned an object");
});

Deno.test("rowQueries and columnScores name transposes, conventions and the divisor (classes 1 and 3)", async () => {
  await initBackend({ backend: "cpu", print: false });
  const xw = await expectDiagnosis(
    ex,
    "rowQueries",
    (X: tf.Tensor2D, W: tf.Tensor2D) => tf.matMul(X, W),
    "you multiplied X·W_Q",
  );
  assert(xw.message.startsWith("threw"), "X·W_Q throws on the first, non-square case");
  await expectDiagnosis(
    ex,
    "rowQueries",
    (X: tf.Tensor2D, W: tf.Tensor2D) => tf.matMul(W, tf.transpose(X)),
    "column convention",
  );
  await expectDiagnosis(
    ex,
    "columnScores",
    (Q: tf.Tensor2D, K: tf.Tensor2D) => tf.div(tf.matMul(Q, tf.transpose(K)), Math.sqrt(Q.shape[0])),
    "Q·Kᵀ, the row convention",
  );
  await expectDiagnosis(
    ex,
    "columnScores",
    (Q: tf.Tensor2D, K: tf.Tensor2D) => tf.div(tf.matMul(tf.transpose(K), Q), Math.sqrt(Q.shape[0])),
    "you computed KᵀQ",
  );
  await expectDiagnosis(ex, "columnScores", (Q: tf.Tensor2D, K: tf.Tensor2D) => tf.matMul(Q, K), "you multiplied Q·K");
  const divisors: [string, (dk: number, T: number) => number, string][] = [
    ["none", () => 1, "you did not scale the scores"],
    ["d_k", (dk) => dk, "you divided the scores by d_k = 3"],
    ["√T", (_dk, T) => Math.sqrt(T), "you divided the scores by √T = 2.23607"],
    ["T", (_dk, T) => T, "you divided the scores by T = 5"],
  ];
  for (const [what, div, cause] of divisors) {
    const f = await expectDiagnosis(
      ex,
      "columnScores",
      (Q: tf.Tensor2D, K: tf.Tensor2D) => tf.div(tf.matMul(tf.transpose(Q), K), div(Q.shape[0], Q.shape[1])),
      cause,
      what,
    );
    assertEquals(f.case, "d_k=3, T=5", `${what}: the first case has T ≠ d_k`);
  }
});

Deno.test("selfAttention names returned weights, keys, axes, transposes, thrown errors, the divisor and a scale after the softmax", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend({ backend, print: false });
    const planted: [string, string][] = [
      ["weights", "you returned the weights α"],
      ["keys", "you mixed the keys"],
      ["wrongAxis", "you took the softmax down each column"],
      ["axis0", "you took the softmax along axis 0"],
      ["transposed", "you multiplied αᵀ·V"],
      ["noSoftmax", "you mixed the values with the raw scores"],
      ["notTransposed", "you multiplied Q·K"],
      ["valuesFirst", "you multiplied V·α"],
      ["scaleAfter", "you divided by √d_k = 1.73205 after the softmax"],
      ["scaleTwice", "you divided by √d_k twice"],
      ["multiplyAfter", "you multiplied by √d_k = 1.73205 after the softmax"],
    ];
    for (const [bug, cause] of planted) await expectDiagnosis(ex, "selfAttention", attend(bug), cause, bug);
    const divisors: [string, (T: number, dk: number, dv: number) => number, string][] = [
      ["none", () => 1, "you did not scale the scores"],
      ["d_k", (_T, dk) => dk, "you divided the scores by d_k = 3"],
      ["√T", (T) => Math.sqrt(T), "you divided the scores by √T = 2.23607"],
      ["√d_v", (_T, _dk, dv) => Math.sqrt(dv), "you divided the scores by √d_v = 1.41421"],
    ];
    for (const [what, div, cause] of divisors) {
      const f = await expectDiagnosis(ex, "selfAttention", attend("none", div), cause, what);
      assertEquals(f.case, "T=5, d_k=3, d_v=2", `${what}: the first case has T ≠ d_k ≠ d_v`);
    }
  }
});

Deno.test("strongestKeys names indices (numbers or strings), columns, the wrong axis and the weakest key", async () => {
  await initBackend({ backend: "cpu", print: false });
  const argmax =
    (scores: (Q: tf.Tensor2D, K: tf.Tensor2D) => tf.Tensor, axis: number, pick = tf.argMax) =>
    (Q: tf.Tensor2D, K: tf.Tensor2D, tokens: string[]) =>
      (tf.tidy(() => pick(scores(Q, K), axis)).arraySync() as number[]).map((j) => tokens[j]);
  const s = (Q: tf.Tensor2D, K: tf.Tensor2D) => tf.matMul(Q, tf.transpose(K));
  await expectDiagnosis(ex, "strongestKeys", argmax(s, 0), "the largest entry of each column");
  await expectDiagnosis(
    ex,
    "strongestKeys",
    argmax((Q, K) => tf.transpose(tf.softmax(tf.transpose(s(Q, K)))), 1),
    "softmax down the columns",
  );
  await expectDiagnosis(ex, "strongestKeys", argmax(s, 1, tf.argMin), "you picked the smallest weight");
  await expectDiagnosis(
    ex,
    "strongestKeys",
    (Q: tf.Tensor2D, K: tf.Tensor2D) => tf.tidy(() => tf.argMax(s(Q, K), 1)).arraySync(),
    "you returned the indices j (they are right)",
  );
  await expectDiagnosis(
    ex,
    "strongestKeys",
    (Q: tf.Tensor2D, K: tf.Tensor2D) => (tf.tidy(() => tf.argMax(s(Q, K), 1)).arraySync() as number[]).map(String),
    "you returned the indices j as strings (String(j)), and they are right",
  );
  const f = await failureOf(ex, "strongestKeys", (Q: tf.Tensor2D, K: tf.Tensor2D) => tf.argMax(s(Q, K), 1));
  assert(f.diagnosis?.includes("you returned the tensor of indices"), JSON.stringify(f));
});
