import * as tf from "@tensorflow/tfjs";
import { assert } from "./_testing.ts";
import { initBackend } from "./backend.ts";
import { rng } from "./random.ts";

/** The plain-loop product, from values read back to JavaScript. */
function naiveMatMul(a: tf.Tensor2D, b: tf.Tensor2D): number[] {
  const A = a.arraySync(), B = b.arraySync();
  return A.flatMap((row) => B[0].map((_, j) => row.reduce((s, v, k) => s + v * B[k][j], 0)));
}

function maxErr(t: tf.Tensor, want: number[]): number {
  const got = t.dataSync();
  return Math.max(...want.map((w, i) => Math.abs(w - got[i])));
}

Deno.test("on wasm, matMul with a reshaped B matches the naive loop (tfjs-wasm operator-cache bug)", async () => {
  await initBackend({ backend: "wasm", print: false });
  const r = rng("wasm-matmul-fix");
  const X = r.tensor([4, 3]) as tf.Tensor2D, A = r.tensor([4, 4]) as tf.Tensor2D, M = r.tensor([12, 12]) as tf.Tensor2D;
  // Use X as B with its own shape first: XNNPACK caches an operator under X's buffer id.
  assert(maxErr(tf.matMul(A, X), naiveMatMul(A, X)) < 1e-5);
  // The same buffer as B with another shape: before the fix, garbage or an abort.
  const view = tf.reshape(X, [12, 1]) as tf.Tensor2D;
  assert(maxErr(tf.matMul(M, view), naiveMatMul(M, view)) < 1e-5);
  // The view outlives its source: still right.
  X.dispose();
  assert(maxErr(tf.matMul(M, view), naiveMatMul(M, view)) < 1e-5);
  // And the original shape keeps working, repeatedly.
  const Y = r.tensor([4, 3]) as tf.Tensor2D;
  for (let i = 0; i < 3; i++) assert(maxErr(tf.matMul(A, Y), naiveMatMul(A, Y)) < 1e-5);
  tf.disposeVariables();
});

/** The plain-loop batched product with numpy broadcasting of the batch dimensions, in Float64. */
function naiveBatched(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): number[] {
  const rank = Math.max(a.rank, b.rank);
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s];
  const sa = pad(a.shape), sb = pad(b.shape), A = a.dataSync(), B = b.dataSync();
  const batch = sa.slice(0, -2).map((d, i) => Math.max(d, sb[i]));
  const [ar, ac] = sa.slice(-2), [br, bc] = sb.slice(-2);
  const [m, k] = transposeA ? [ac, ar] : [ar, ac], n = transposeB ? br : bc;
  const flat = (coords: number[], dims: number[]) =>
    coords.reduce((at, c, i) => at * dims[i] + (dims[i] === 1 ? 0 : c), 0);
  const out: number[] = [];
  const slices = batch.reduce((x, y) => x * y, 1);
  for (let s = 0; s < slices; s++) {
    const coords: number[] = [];
    for (let i = batch.length - 1, rest = s; i >= 0; i--) {
      coords.unshift(rest % batch[i]);
      rest = Math.floor(rest / batch[i]);
    }
    const oa = flat(coords, sa.slice(0, -2)) * ar * ac, ob = flat(coords, sb.slice(0, -2)) * br * bc;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          sum += A[oa + (transposeA ? p * ac + i : i * ac + p)] * B[ob + (transposeB ? j * bc + p : p * bc + j)];
        }
        out.push(sum);
      }
    }
  }
  return out;
}

Deno.test("on wasm, batched matMul (large slices, transposes, broadcast batches) matches a Float64 loop and leaks nothing", async () => {
  await initBackend({ backend: "wasm", print: false });
  const r = rng("wasm-batched");
  const cases: [number[], number[], boolean, boolean][] = [
    [[3, 96, 80], [3, 80, 90], false, false], // sliced for speed
    [[3, 80, 96], [3, 90, 80], true, true],
    [[2, 1, 70, 80], [1, 3, 80, 75], false, false], // a real broadcast: the stock kernel returns too few values
    [[4, 5, 6], [6, 7], false, false], // small: the stock kernel
    [[2, 3, 64, 100], [100, 90], false, false], // B without batch, broadcast over [2, 3]
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const a = r.tensor(sa), b = r.tensor(sb);
    const before = tf.memory().numTensors;
    const got = tf.matMul(a, b, ta, tb);
    const want = naiveBatched(a, b, ta, tb);
    assert(got.size === want.length, `${sa}·${sb}: ${got.size} values, expected ${want.length}`);
    const err = maxErr(got, want);
    assert(err < 1e-3, `${sa}·${sb} (transposes ${ta}, ${tb}): max error ${err}`);
    got.dispose();
    assert(tf.memory().numTensors === before, `${sa}·${sb}: a tensor leaked`);
    tf.dispose([a, b]);
  }
});
