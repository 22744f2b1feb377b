import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { type Case, runCheck } from "./core.ts";
import { lesson02Exercises as ex } from "./lesson02.ts";
import { hiddenCases } from "../../tools/grading/hidden.ts";
import { fromWire, toWire } from "../../tools/grading/protocol.ts";

// Reference answers live only in this test (lib/ tests are not part of the student bundle).
const matVec = (W: number[][], h: number[]) => W.map((row) => row.reduce((s, w, c) => s + w * h[c], 0));
const qkv = (h: number[], Wq: number[][], Wk: number[][], Wv: number[][]) => [
  matVec(Wq, h),
  matVec(Wk, h),
  matVec(Wv, h),
];
const rowQueries = (X: tf.Tensor2D, Wq: tf.Tensor2D) => tf.tidy(() => tf.matMul(X, tf.transpose(Wq)));
const columnScores = (Q: tf.Tensor2D, K: tf.Tensor2D) =>
  tf.tidy(() => tf.div(tf.matMul(tf.transpose(Q), K), Math.sqrt(Q.shape[0])) as tf.Tensor2D);
const weightsOf = (Q: tf.Tensor2D, K: tf.Tensor2D) =>
  tf.softmax(tf.div(tf.matMul(Q, tf.transpose(K)), Math.sqrt(Q.shape[1]))) as tf.Tensor2D;
const selfAttention = (Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D) => tf.tidy(() => tf.matMul(weightsOf(Q, K), V));
const strongestKeys = (Q: tf.Tensor2D, K: tf.Tensor2D, tokens: string[]) =>
  (tf.tidy(() => tf.argMax(tf.matMul(Q, tf.transpose(K)), 1)).arraySync() as number[]).map((j) => tokens[j]);

type Name = keyof typeof ex;
const REFERENCE: Record<Name, unknown> = { qkvOfToken: qkv, rowQueries, columnScores, selfAttention, strongestKeys };

async function failureOf(name: Name, fn: unknown) {
  const r = await runCheck(ex[name] as never, fn);
  assertEquals(r.status, "failed", `expected the planted bug to fail ${name}`);
  return r.failure!;
}

async function expectDiagnosis(name: Name, fn: unknown, cause: string) {
  const f = await failureOf(name, fn);
  assert(f.diagnosis?.includes(cause), `${name}: expected a diagnosis containing "${cause}", got ${JSON.stringify(f)}`);
  return f;
}

// ---------------------------------------------------------------- Float64 twins of the locked tables

const dot = (a: number[], b: number[]) => a.reduce((s, x, c) => s + x * b[c], 0);
const T_ = (m: number[][]) => m[0].map((_, c) => m.map((row) => row[c]));
const mm = (a: number[][], b: number[][]) => a.map((row) => T_(b).map((col) => dot(row, col)));
const softmaxRows = (m: number[][]) =>
  m.map((row) => {
    const max = Math.max(...row), e = row.map((x) => Math.exp(x - max)), s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  });
const scale = (m: number[][], f: number) => m.map((row) => row.map((x) => x * f));
const argmaxRows = (m: number[][]) => m.map((row) => row.indexOf(Math.max(...row)));

Deno.test("lesson 02's locked expectations equal a Float64 loop twin on the same inputs", async () => {
  await initBackend({ backend: "cpu", print: false });
  // The tables themselves are private to lesson02.ts; the cases hand out their inputs through args(),
  // and verify() compares with the locked numbers: so a twin answer that passes every case proves them.
  const twins: Record<Name, unknown> = {
    qkvOfToken: (h: number[], Wq: number[][], Wk: number[][], Wv: number[][]) => qkv(h, Wq, Wk, Wv),
    rowQueries: (X: tf.Tensor2D, Wq: tf.Tensor2D) => mm(X.arraySync() as number[][], T_(Wq.arraySync() as number[][])),
    columnScores: (Q: tf.Tensor2D, K: tf.Tensor2D) =>
      scale(mm(T_(Q.arraySync() as number[][]), K.arraySync() as number[][]), 1 / Math.sqrt(Q.shape[0])),
    selfAttention: (Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D) => {
      const [q, k, v] = [Q, K, V].map((t) => t.arraySync() as number[][]);
      return mm(softmaxRows(scale(mm(q, T_(k)), 1 / Math.sqrt(Q.shape[1]))), v);
    },
    strongestKeys: (Q: tf.Tensor2D, K: tf.Tensor2D, tokens: string[]) =>
      argmaxRows(mm(Q.arraySync() as number[][], T_(K.arraySync() as number[][]))).map((j) => tokens[j]),
  };
  for (const name of Object.keys(ex) as Name[]) {
    const visible = await runCheck(ex[name] as never, twins[name]);
    assertEquals(visible.status, "passed", `${name}: ${JSON.stringify(visible.failure)}`);
    const hidden = await runCheck(
      { ...ex[name], cases: hiddenCases["02"][name], after: undefined } as never,
      twins[name],
    );
    assertEquals([hidden.status, hidden.cases], ["passed", 2], `${name} hidden: ${JSON.stringify(hidden.failure)}`);
  }
});

Deno.test("lesson 02's locked wrong answers are what their misconception computes", async () => {
  await initBackend({ backend: "cpu", print: false });
  // Each planted bug must reproduce the locked wrong answer it is named after: the diagnoses below would
  // not fire otherwise. (The variants are computed from the same inputs, in Float64.)
  const sa = ex.selfAttention.cases as unknown as Case<[tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]>[];
  const [Q, K, V] = sa[0].args().map((t) => t.arraySync() as number[][]);
  const E = scale(mm(Q, T_(K)), 1 / Math.sqrt(Q[0].length));
  const A = softmaxRows(E);
  const wrongAxis = T_(softmaxRows(T_(E)));
  const variants = { weights: A, keysAsValues: mm(A, K), wrongAxis: mm(wrongAxis, V), transposed: mm(T_(A), V) };
  for (const [what, value] of Object.entries(variants)) {
    const f = (await runCheck({ ...ex.selfAttention, cases: [sa[0]] } as never, () => value)).failure;
    assert(f?.diagnosis, `${what}: the locked variant must be recognised, got ${JSON.stringify(f)}`);
  }
  assert(A.every((r) => Math.abs(r.reduce((a, b) => a + b, 0) - 1) < 1e-12), "rows of α sum to 1");
});

// ---------------------------------------------------------------- correct answers pass

Deno.test("lesson 02 checks pass the reference answers, as tensors and as nested arrays, without leaking", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend({ backend, print: false });
    for (const name of Object.keys(ex) as Name[]) {
      const before = tf.memory().numTensors;
      const r = await runCheck(ex[name] as never, REFERENCE[name]);
      assertEquals(
        [r.status, r.points],
        ["passed", ex[name].points],
        `${backend} ${name}: ${JSON.stringify(r.failure)}`,
      );
      assertEquals(tf.memory().numTensors, before, `${backend} ${name}: the check leaked tensors`);
    }
  }
  await initBackend({ backend: "cpu", print: false });
  const arrays = await runCheck(
    ex.selfAttention,
    (Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D) => selfAttention(Q, K, V).arraySync(),
  );
  assertEquals(arrays.status, "passed", "number[][] answers are accepted");
  const typed = await runCheck(ex.qkvOfToken, (h: number[], Wq: number[][], Wk: number[][], Wv: number[][]) => {
    const [q, k, v] = qkv(h, Wq, Wk, Wv);
    return [Float64Array.from(q), tf.tensor1d(k), v];
  });
  assertEquals(typed.status, "passed", "typed arrays and 1-D tensors are accepted for q, k, v");
  // The grader carries results out of its sandbox as JSON: the answers must survive the round trip.
  for (const name of Object.keys(ex) as Name[]) {
    const ref = REFERENCE[name] as (...a: unknown[]) => unknown;
    const r = await runCheck(ex[name] as never, (...a: unknown[]) => fromWire(toWire(ref(...a))));
    assertEquals(r.status, "passed", `${name} after the grader's round trip: ${JSON.stringify(r.failure)}`);
  }
  const points = Object.values(ex).reduce((s, e) => s + e.points, 0);
  assertEquals(points, 10);
});

// ---------------------------------------------------------------- planted bugs are diagnosed

Deno.test("qkvOfToken check names a transposed W, a mixed-up matrix and a wrong length", async () => {
  const transposedW = (W: number[][], h: number[]) => W[0].map((_, c) => W.reduce((s, row, r) => s + row[c] * h[r], 0));
  await expectDiagnosis(
    "qkvOfToken",
    (_h: number[], ...W: number[][][]) => W.map((w) => transposedW(w, _h)),
    "you multiplied by W_Qᵀ",
  );
  await expectDiagnosis(
    "qkvOfToken",
    (h: number[], _Wq: number[][], Wk: number[][], Wv: number[][]) => [matVec(Wk, h), matVec(Wk, h), matVec(Wv, h)],
    "your q equals the expected k",
  );
  await expectDiagnosis(
    "qkvOfToken",
    (h: number[], Wq: number[][], Wk: number[][], Wv: number[][]) => [...qkv(h, Wq, Wk, Wv).slice(0, 2), [...h, 0]],
    "v has one entry per row of W_V",
  );
  const object = await failureOf("qkvOfToken", (h: number[], Wq: number[][], Wk: number[][], Wv: number[][]) => {
    const [q, k, v] = qkv(h, Wq, Wk, Wv);
    return { q, k, v };
  });
  assert(object.diagnosis?.includes("in an array, [q, k, v]"), JSON.stringify(object));
  const one = await failureOf("qkvOfToken", (h: number[], Wq: number[][]) => matVec(Wq, h));
  assertEquals([one.message, one.actual], ["expected an array of three vectors [q, k, v]", "2 entries"]);
});

Deno.test("rowQueries check names a missing transpose and the column convention", async () => {
  await initBackend({ backend: "cpu", print: false });
  await expectDiagnosis(
    "rowQueries",
    (X: tf.Tensor2D, Wq: tf.Tensor2D) => tf.matMul(X, Wq),
    "multiply by its transpose, X W_Qᵀ",
  );
  await expectDiagnosis(
    "rowQueries",
    (X: tf.Tensor2D, Wq: tf.Tensor2D) => tf.matMul(Wq, tf.transpose(X)),
    "you returned the column convention's Q",
  );
  // On a non-square case the column-convention answer has the wrong shape: the shape says why.
  const nonSquare = ex.rowQueries.cases[1];
  tf.engine().startScope();
  const [X, Wq] = nonSquare.args();
  const verdict = await nonSquare.verify(tf.matMul(Wq, tf.transpose(X)), [X, Wq]);
  tf.engine().endScope();
  assert(!verdict.ok && verdict.message === "wrong shape", JSON.stringify(verdict));
  assert(!verdict.ok && verdict.diagnosis?.includes("column convention"), JSON.stringify(verdict));
});

Deno.test("columnScores check names the row formula, a transposed score matrix and a missing scale", async () => {
  await initBackend({ backend: "cpu", print: false });
  const dk = (Q: tf.Tensor2D) => Math.sqrt(Q.shape[0]);
  await expectDiagnosis(
    "columnScores",
    (Q: tf.Tensor2D, K: tf.Tensor2D) => tf.div(tf.matMul(Q, tf.transpose(K)), dk(Q)),
    "Q·Kᵀ is the row convention's formula",
  );
  await expectDiagnosis(
    "columnScores",
    (Q: tf.Tensor2D, K: tf.Tensor2D) => tf.div(tf.matMul(tf.transpose(K), Q), dk(Q)),
    "your matrix is transposed (KᵀQ)",
  );
  await expectDiagnosis(
    "columnScores",
    (Q: tf.Tensor2D, K: tf.Tensor2D) => tf.matMul(tf.transpose(Q), K),
    "missing 1/√d_k",
  );
  const f = await failureOf("columnScores", (Q: tf.Tensor2D, K: tf.Tensor2D) => tf.add(columnScores(Q, K), 0.01));
  assert(f.message.includes("max abs error") && f.message.includes("at ["), f.message);
  assertEquals(f.diagnosis, undefined, "an unknown mistake gets no made-up diagnosis");
});

Deno.test("selfAttention check names keys as values, the wrong softmax axis, transposed weights and more", async () => {
  await initBackend({ backend: "cpu", print: false });
  const scores = (Q: tf.Tensor2D, K: tf.Tensor2D, scaled = true) =>
    tf.div(tf.matMul(Q, tf.transpose(K)), scaled ? Math.sqrt(Q.shape[1]) : 1);
  const planted: [string, (Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D) => tf.Tensor, string][] = [
    ["weights returned", (Q, K) => weightsOf(Q, K), "you returned the weights α"],
    ["keys as values", (Q, K) => tf.matMul(weightsOf(Q, K), K), "mix the values, not the keys"],
    [
      "softmax over columns",
      (Q, K, V) => tf.matMul(tf.transpose(tf.softmax(tf.transpose(scores(Q, K)))), V),
      "softmax over the wrong axis",
    ],
    ["αᵀV", (Q, K, V) => tf.matMul(tf.transpose(weightsOf(Q, K)), V), "the weights are transposed"],
    ["unscaled", (Q, K, V) => tf.matMul(tf.softmax(scores(Q, K, false)), V), "missing 1/√d_k"],
    ["no softmax", (Q, K, V) => tf.matMul(scores(Q, K), V), "no softmax"],
  ];
  for (const [what, fn, cause] of planted) {
    const f = await failureOf(
      "selfAttention",
      (Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D) => tf.tidy(() => fn(Q, K, V)),
    );
    assert(f.diagnosis?.includes(cause), `${what}: expected "${cause}", got ${JSON.stringify(f)}`);
  }
  // On a case with T ≠ d_v the weights have the wrong shape, and the shape says why.
  const c = ex.selfAttention.cases[1];
  tf.engine().startScope();
  const args = c.args();
  const verdict = await c.verify(weightsOf(args[0], args[1]), args);
  tf.engine().endScope();
  assert(!verdict.ok && verdict.diagnosis?.includes("you returned the weights α"), JSON.stringify(verdict));
  const mutating = await failureOf("selfAttention", (Q: tf.Tensor2D, K: tf.Tensor2D, V: tf.Tensor2D) => {
    const Z = selfAttention(Q, K, V);
    (V.dataSync() as Float32Array)[0] += 1;
    return Z;
  });
  assert(mutating.diagnosis?.includes("inputs mutated"), JSON.stringify(mutating));
});

Deno.test("strongestKeys check names indices, the column argmax, the wrong softmax axis and the weakest key", async () => {
  await initBackend({ backend: "cpu", print: false });
  const S = (Q: tf.Tensor2D, K: tf.Tensor2D) => tf.matMul(Q, tf.transpose(K));
  const pick = (t: tf.Tensor, tokens: string[]) => (t.arraySync() as number[]).map((j) => tokens[j]);
  const planted: [string, (Q: tf.Tensor2D, K: tf.Tensor2D, tokens: string[]) => unknown, string][] = [
    ["indices", (Q, K) => tf.tidy(() => tf.argMax(S(Q, K), 1)).arraySync(), "your indices are right"],
    ["wrong indices", (Q, K) => tf.tidy(() => tf.argMin(S(Q, K), 1)).arraySync(), "not indices"],
    [
      "column argmax",
      (Q, K, tokens) => pick(tf.tidy(() => tf.argMax(S(Q, K), 0)), tokens),
      "largest entry of each column",
    ],
    [
      "softmax over columns",
      (Q, K, tokens) =>
        pick(tf.tidy(() => tf.argMax(tf.transpose(tf.softmax(tf.transpose(tf.div(S(Q, K), 2)))), 1)), tokens),
      "softmax over the wrong axis",
    ],
    ["weakest", (Q, K, tokens) => pick(tf.tidy(() => tf.argMin(S(Q, K), 1)), tokens), "you picked the smallest weight"],
  ];
  for (const [what, fn, cause] of planted) {
    const f = await expectDiagnosis("strongestKeys", fn, cause);
    assert(what === "indices" || what === "wrong indices" || f.message.startsWith("wrong key for query"), f.message);
  }
  const short = await failureOf(
    "strongestKeys",
    (_Q: tf.Tensor2D, _K: tf.Tensor2D, tokens: string[]) => tokens.slice(1),
  );
  assertEquals(short.message, "wrong length: one token per query");
  const f = await failureOf("strongestKeys", (_Q: tf.Tensor2D, _K: tf.Tensor2D, tokens: string[]) => tokens);
  assert(f.message.startsWith("wrong key for query 0"), f.message);
});

Deno.test("lesson 02's hidden cases fail a planted bug that the visible cases would also catch", async () => {
  await initBackend({ backend: "cpu", print: false });
  // Answers hard-coded for the visible cases only: every exercise's hidden cases must catch them.
  for (const name of Object.keys(ex) as Name[]) {
    const visible = ex[name].cases as unknown as Case<unknown[]>[];
    tf.engine().startScope();
    const answers = new Map<string, unknown>();
    for (const c of visible) {
      const args = c.args();
      const ref = (REFERENCE[name] as (...a: unknown[]) => unknown)(...args);
      answers.set(
        JSON.stringify(args.map((a) => a instanceof tf.Tensor ? a.arraySync() : a)),
        ref instanceof tf.Tensor ? ref.arraySync() : ref,
      );
    }
    tf.engine().endScope();
    const cheat = (...args: unknown[]) =>
      answers.get(JSON.stringify(args.map((a) => a instanceof tf.Tensor ? a.arraySync() : a))) ?? [[0]];
    const open = await runCheck(ex[name] as never, cheat);
    assertEquals(open.status, "passed", `${name}: the cheat answers the visible cases`);
    const hidden = await runCheck({ ...ex[name], cases: hiddenCases["02"][name], after: undefined } as never, cheat);
    assertEquals(hidden.status, "failed", `${name}: the hidden cases must catch a hard-coded answer`);
  }
});
