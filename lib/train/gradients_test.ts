/**
 * Gradients of every lib attention kernel a lesson trains through, against finite differences.
 *
 * For each kernel f and a fixed seeded weighting R of its output, the loss is L = Σ f(inputs) ⊙ R. TensorFlow.js
 * gives ∂L/∂input (float32, its registered gradients); the reference is a central difference of L computed by a
 * plain-loop Float64 twin of the kernel, (L(x + h) − L(x − h)) / 2h with h = 1e-5 (error ~1e-10 here). The twin
 * is first checked to compute the same output as the kernel (within 2e-5), so the comparison is not vacuous.
 * Tolerance: max |∂L/∂x − FD| ≤ 2e-4 · (1 + max |FD|) on cpu and wasm, 2e-3 on webgpu (lavapipe).
 *
 * Inputs are small and seeded (B = 2 slices of T = 6 tokens, D = 4 features; scores of order 1). Also here:
 * tf.grad, tf.variableGrads and Adam on cpu, wasm and webgpu.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, webgpuAdapter } from "../backend.ts";
import { rng } from "../random.ts";
import { assert, assertEquals, naiveAttention } from "../_testing.ts";
import { attention } from "../attention/scaled_dot_product.ts";
import { multiHeadAttention } from "../attention/multi_head.ts";
import { linformerAttention } from "../attention/linformer.ts";
import { linearAttention } from "../attention/linear.ts";
import { favorFeatures } from "../attention/favor.ts";
import { blockPatternMask, blockSparseAttention } from "../attention/block_sparse.ts";
import { sparseAttention, sparseMask } from "../attention/sparse.ts";
import { clusteredAttention } from "../attention/clustered.ts";
import { synthesizerAttention } from "../attention/synthesizer.ts";

await initBackend({ backend: "cpu", print: false }); // the module-level masks and Ω below are made on cpu
const B = 2, T = 6, D = 4, H = 0.00001;

interface Input {
  name: string;
  shape: number[];
  data: Float64Array;
}

/** A gradient check: the tf kernel, its Float64 twin, and the inputs to differentiate. */
interface GradCase {
  name: string;
  inputs: Input[];
  /** The kernel's output from tensors made of `inputs`, in order. */
  kernel: (xs: tf.Tensor[]) => tf.Tensor;
  /** The same output from Float64 arrays (row-major, same order). */
  twin: (xs: Float64Array[]) => Float64Array;
  /** Not on these backends, and why. */
  skip?: Partial<Record<Backend, string>>;
}

type Backend = "cpu" | "wasm" | "webgpu";

function input(name: string, shape: number[], seed: string, std = 1): Input {
  return { name, shape, data: rng(seed).normalArray(shape.reduce((a, b) => a * b, 1), 0, std) };
}

/** Runs a per-slice twin over B slices of q [B,T,D], k [B,S,D], v [B,S,Dv]. */
function perSlice(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  S: number,
  Dv: number,
  slice: (q: Float64Array, k: Float64Array, v: Float64Array, b: number) => Float64Array,
): Float64Array {
  const Tq = q.length / B / D;
  const out = new Float64Array(B * Tq * Dv);
  for (let b = 0; b < B; b++) {
    out.set(
      slice(
        q.subarray(b * Tq * D, (b + 1) * Tq * D),
        k.subarray(b * S * D, (b + 1) * S * D),
        v.subarray(b * S * Dv, (b + 1) * S * Dv),
        b,
      ),
      b * Tq * Dv,
    );
  }
  return out;
}

function matmul(a: Float64Array, b: Float64Array, n: number, m: number, p: number): Float64Array {
  const out = new Float64Array(n * p); // [n, m] · [m, p]
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) for (let c = 0; c < p; c++) out[i * p + c] += a[i * m + j] * b[j * p + c];
  }
  return out;
}

/** Linear attention twin: out_i = Σ_j (φq_i·φk_j) v_j / (Σ_j φq_i·φk_j + eps), j ≤ i when causal. */
function linearTwin(fq: Float64Array, fk: Float64Array, v: Float64Array, M: number, causal: boolean, eps: number) {
  const out = new Float64Array(T * D);
  for (let i = 0; i < T; i++) {
    let den = 0;
    const num = new Float64Array(D);
    for (let j = 0; j < (causal ? i + 1 : T); j++) {
      let s = 0;
      for (let m = 0; m < M; m++) s += fq[i * M + m] * fk[j * M + m];
      den += s;
      for (let c = 0; c < D; c++) num[c] += s * v[j * D + c];
    }
    for (let c = 0; c < D; c++) out[i * D + c] = num[c] / (den + eps);
  }
  return out;
}

const elu1 = (x: Float64Array) => x.map((a) => (a > 0 ? a + 1 : Math.exp(a)));

/** FAVOR+ features without stabilisers (they cancel in the output): exp(ωᵀx' [− ‖x'‖²/2 for keys]) / √M. */
function favorTwin(x: Float64Array, omega: Float64Array, M: number, isQuery: boolean): Float64Array {
  const s = D ** -0.25; // √(1/√D) on each side
  const out = new Float64Array(T * M);
  for (let i = 0; i < T; i++) {
    let sq = 0;
    for (let c = 0; c < D; c++) sq += (x[i * D + c] * s) ** 2;
    for (let m = 0; m < M; m++) {
      let p = 0;
      for (let c = 0; c < D; c++) p += x[i * D + c] * s * omega[c * M + m];
      out[i * M + m] = Math.exp(p - (isQuery ? 0 : sq / 2)) / Math.sqrt(M);
    }
  }
  return out;
}

const q0 = () => input("q", [B, T, D], "grad/q");
const k0 = () => input("k", [B, T, D], "grad/k");
const v0 = () => input("v", [B, T, D], "grad/v");
const all = () => true;

function keepFrom(mask: tf.Tensor2D): (i: number, j: number) => boolean {
  const m = mask.arraySync() as boolean[][] | number[][];
  mask.dispose();
  return (i, j) => Boolean(m[i][j]);
}

const favorOmega = favorFeatures(D, 8, rng("grad/omega")); // [D, M], fixed
const OMEGA = Float64Array.from(favorOmega.dataSync());
favorOmega.dispose();
const omegaTensor = () => tf.tensor2d(Float32Array.from(OMEGA), [D, 8]);
const BLOCK = { block: 2, window: 1 };
const BLOCK_KEEP = keepFrom(blockPatternMask(T, T, BLOCK));
const BLOCK_CAUSAL_KEEP = keepFrom(blockPatternMask(T, T, { ...BLOCK, causal: true }));
const SPARSE = { local: 1, global: [0], causal: true };
const SPARSE_KEEP = keepFrom(sparseMask(T, T, SPARSE));
const CENTROIDS = [[1, 0, 0, 0], [0, 1, 0, 0], [-1, 0, 0, 0], [0, -1, 0, 0]];
/** The gradient of tf.gather is UnsortedSegmentSum: a backend without that kernel cannot train gathered kernels. */
const gatherGrad = (backend: Backend) =>
  tf.getKernel("UnsortedSegmentSum", backend)
    ? undefined
    : `${backend} has no UnsortedSegmentSum kernel (gather's gradient)`;

const CASES: GradCase[] = [
  {
    name: "attention (dense softmax)",
    inputs: [q0(), k0(), v0()],
    kernel: ([q, k, v]) => attention(q, k, v).output,
    twin: ([q, k, v]) => perSlice(q, k, v, T, D, (q, k, v) => naiveAttention(q, k, v, T, T, D, D, all).out),
  },
  {
    name: "attention, causal",
    inputs: [q0(), k0(), v0()],
    kernel: ([q, k, v]) => attention(q, k, v, { causal: true }).output,
    twin: ([q, k, v]) =>
      perSlice(q, k, v, T, D, (q, k, v) => naiveAttention(q, k, v, T, T, D, D, (i, j) => j <= i).out),
  },
  {
    name: "multiHeadAttention (2 heads; W_Q, W_K, W_V, W_O)",
    inputs: [
      input("x", [B, T, D], "grad/x"),
      input("wq", [D, D], "grad/wq", 0.5),
      input("wk", [D, D], "grad/wk", 0.5),
      input("wv", [D, D], "grad/wv", 0.5),
      input("wo", [D, D], "grad/wo", 0.5),
    ],
    kernel: ([x, wq, wk, wv, wo]) =>
      multiHeadAttention(x, {
        heads: 2,
        wq: wq as tf.Tensor2D,
        wk: wk as tf.Tensor2D,
        wv: wv as tf.Tensor2D,
        wo: wo as tf.Tensor2D,
      }).output,
    twin: ([x, wq, wk, wv, wo]) => {
      const out = new Float64Array(B * T * D), Dh = D / 2;
      for (let b = 0; b < B; b++) {
        const xb = x.subarray(b * T * D, (b + 1) * T * D);
        const [q, k, v] = [wq, wk, wv].map((w) => matmul(xb, w, T, D, D)); // [T, D]
        const merged = new Float64Array(T * D);
        for (let h = 0; h < 2; h++) {
          const head = (m: Float64Array) => {
            const s = new Float64Array(T * Dh);
            for (let i = 0; i < T; i++) for (let c = 0; c < Dh; c++) s[i * Dh + c] = m[i * D + h * Dh + c];
            return s;
          };
          const o = naiveAttention(head(q), head(k), head(v), T, T, Dh, Dh, all).out;
          for (let i = 0; i < T; i++) for (let c = 0; c < Dh; c++) merged[i * D + h * Dh + c] = o[i * Dh + c];
        }
        out.set(matmul(merged, wo, T, D, D), b * T * D);
      }
      return out;
    },
  },
  {
    name: "linformerAttention with learned E and F (k = 3)",
    inputs: [q0(), k0(), v0(), input("E", [3, T], "grad/E", 0.5), input("F", [3, T], "grad/F", 0.5)],
    kernel: ([q, k, v, E, F]) => linformerAttention(q, k, v, E, F),
    twin: ([q, k, v, E, F]) =>
      perSlice(q, k, v, T, D, (q, k, v) => {
        const kp = matmul(E, k, 3, T, D), vp = matmul(F, v, 3, T, D); // [3, D]
        return naiveAttention(q, kp, vp, T, 3, D, D, all).out;
      }),
  },
  ...[false, true].map((causal): GradCase => ({
    name: `linearAttention, φ = elu+1${causal ? ", causal" : ""}`,
    inputs: [q0(), k0(), v0()],
    kernel: ([q, k, v]) => linearAttention(q, k, v, { causal }),
    twin: ([q, k, v]) => perSlice(q, k, v, T, D, (q, k, v) => linearTwin(elu1(q), elu1(k), v, D, causal, 1e-6)),
  })),
  ...[false, true].map((causal): GradCase => ({
    name: `linearAttention, FAVOR+ (M = 8, fixed Ω)${causal ? ", causal" : ""}`,
    inputs: [q0(), k0(), v0()],
    kernel: ([q, k, v]) => {
      const omega = omegaTensor();
      const out = linearAttention(q, k, v, { causal, featureMap: "favor+", features: omega });
      omega.dispose();
      return out;
    },
    twin: ([q, k, v]) =>
      perSlice(
        q,
        k,
        v,
        T,
        D,
        (q, k, v) => linearTwin(favorTwin(q, OMEGA, 8, true), favorTwin(k, OMEGA, 8, false), v, 8, causal, 0),
      ),
  })),
  ...[false, true].map((causal): GradCase => ({
    name: `blockSparseAttention, window (block 2, radius 1)${causal ? ", causal" : ""}`,
    inputs: [q0(), k0(), v0()],
    kernel: ([q, k, v]) => blockSparseAttention(q, k, v, { ...BLOCK, causal }),
    twin: ([q, k, v]) =>
      perSlice(
        q,
        k,
        v,
        T,
        D,
        (q, k, v) => naiveAttention(q, k, v, T, T, D, D, causal ? BLOCK_CAUSAL_KEEP : BLOCK_KEEP).out,
      ),
  })),
  {
    name: "sparseAttention (gathered local window + global token, causal)",
    inputs: [q0(), k0(), v0()],
    kernel: ([q, k, v]) => sparseAttention(q, k, v, SPARSE),
    twin: ([q, k, v]) => perSlice(q, k, v, T, D, (q, k, v) => naiveAttention(q, k, v, T, T, D, D, SPARSE_KEEP).out),
    skip: { wasm: gatherGrad("wasm"), webgpu: gatherGrad("webgpu") },
  },
  {
    name: "clusteredAttention (4 fixed centroids)",
    inputs: [q0(), k0(), v0()],
    kernel: ([q, k, v]) => clusteredAttention(q, k, v, { centroids: CENTROIDS }).output,
    twin: ([q, k, v]) => {
      // The clusters are those the kernel chose (routing is piecewise constant: no gradient flows through it).
      const [qt, kt] = [q, k].map((a) => tf.tensor3d(Float32Array.from(a), [B, T, D]));
      const vt = tf.zeros([B, T, D]);
      const { output, queryClusters: qc, keyClusters: kc } = clusteredAttention(qt, kt, vt, { centroids: CENTROIDS });
      tf.dispose([qt, kt, vt, output]);
      return perSlice(
        q,
        k,
        v,
        T,
        D,
        (q, k, v, b) => naiveAttention(q, k, v, T, T, D, D, (i, j) => qc[b * T + i] === kc[b * T + j]).out,
      );
    },
    skip: { wasm: gatherGrad("wasm"), webgpu: "the kernel reads its inputs synchronously, which webgpu cannot here" },
  },
  ...(["dense", "random"] as const).map((kind): GradCase => ({
    name: `synthesizerAttention, ${kind}${kind === "dense" ? " (w1, b1, w2, b2)" : " (R), causal"}`,
    inputs: kind === "dense"
      ? [
        input("x", [B, T, D], "grad/x"),
        v0(),
        input("w1", [D, 5], "grad/w1", 0.5),
        input("b1", [5], "grad/b1", 0.5),
        input("w2", [5, T], "grad/w2", 0.5),
        input("b2", [T], "grad/b2", 0.5),
      ]
      : [v0(), input("r", [T, T], "grad/r")], // random: x gives only the shape, so it has no gradient
    kernel: (xs) =>
      kind === "dense"
        ? synthesizerAttention(xs[0], xs[1], {
          kind,
          w1: xs[2] as tf.Tensor2D,
          b1: xs[3] as tf.Tensor1D,
          w2: xs[4] as tf.Tensor2D,
          b2: xs[5] as tf.Tensor1D,
        }).output
        : synthesizerAttention(tf.zeros([B, T, D]), xs[0], { kind, r: xs[1] as tf.Tensor2D }, { causal: true }).output,
    twin: (xs) => {
      const out = new Float64Array(B * T * D);
      for (let b = 0; b < B; b++) {
        let logits: Float64Array; // [T, T]
        if (kind === "dense") {
          const x = xs[0].subarray(b * T * D, (b + 1) * T * D);
          const h = matmul(x, xs[2], T, D, 5).map((a, i) => Math.max(0, a + xs[3][i % 5]));
          logits = matmul(h, xs[4], T, 5, T).map((a, i) => a + xs[5][i % T]);
        } else logits = xs[1];
        const keep = kind === "dense" ? all : (i: number, j: number) => j <= i;
        // softmax(logits)·v, row by row.
        const v = xs[kind === "dense" ? 1 : 0].subarray(b * T * D, (b + 1) * T * D);
        for (let i = 0; i < T; i++) {
          let max = -Infinity;
          for (let j = 0; j < T; j++) if (keep(i, j)) max = Math.max(max, logits[i * T + j]);
          let sum = 0;
          const w = new Float64Array(T);
          for (let j = 0; j < T; j++) sum += w[j] = keep(i, j) ? Math.exp(logits[i * T + j] - max) : 0;
          for (let j = 0; j < T; j++) {
            for (let c = 0; c < D; c++) out[(b * T + i) * D + c] += (w[j] / sum) * v[j * D + c];
          }
        }
      }
      return out;
    },
  })),
];

const adapter = await webgpuAdapter();
const BACKENDS: Backend[] = ["cpu", "wasm", ...(adapter ? ["webgpu" as const] : [])];
const TOL: Record<Backend, number> = { cpu: 2e-4, wasm: 2e-4, webgpu: 2e-3 };

for (const backend of BACKENDS) {
  for (const c of CASES) {
    const why = c.skip?.[backend];
    Deno.test({
      name: `∂/∂inputs of ${c.name} matches Float64 finite differences on ${backend}${why ? ` (skipped: ${why})` : ""}`,
      ignore: why !== undefined,
      sanitizeResources: false,
      async fn() {
        await initBackend({ backend, print: false });
        const before = tf.memory().numTensors;
        const xs = c.inputs.map((i) => tf.tensor(Float32Array.from(i.data), i.shape));
        const arrays = c.inputs.map((i) => i.data);
        const ref = c.twin(arrays);
        const R = rng(`grad/R/${c.name}`).normalArray(ref.length);
        const Rt = tf.tensor(Float32Array.from(R), [ref.length]);
        // The twin computes what the kernel computes.
        const out = tf.tidy(() => tf.reshape(c.kernel(xs), [-1]));
        const outData = await out.data();
        out.dispose();
        const fwd = Math.max(...ref.map((r, i) => Math.abs(r - outData[i])));
        assert(fwd < 2e-5, `${c.name}: the twin differs from the kernel by ${fwd}`);
        const grads = tf.grads((...ts: tf.Tensor[]) => tf.sum(tf.mul(tf.reshape(c.kernel(ts), [-1]), Rt)))(xs);
        const loss = (a: Float64Array[]) => c.twin(a).reduce((s, o, i) => s + o * R[i], 0);
        for (const [n, inp] of c.inputs.entries()) {
          const g = await grads[n].data();
          const fd = new Float64Array(inp.data.length);
          for (let p = 0; p < fd.length; p++) {
            const plus = arrays.map((a) => a.slice()), minus = arrays.map((a) => a.slice());
            plus[n][p] += H;
            minus[n][p] -= H;
            fd[p] = (loss(plus) - loss(minus)) / (2 * H);
          }
          const scale = 1 + Math.max(...fd.map(Math.abs));
          const err = Math.max(...fd.map((f, p) => Math.abs(f - g[p])));
          assert(Math.max(...fd.map(Math.abs)) > 1e-3, `${c.name}: ∂L/∂${inp.name} is ~0 everywhere: a vacuous check`);
          assert(err <= TOL[backend] * scale, `${c.name}: ∂L/∂${inp.name} differs from finite differences by ${err}`);
        }
        tf.dispose([...xs, ...grads, Rt]);
        assertEquals(tf.memory().numTensors, before, "no tensor left behind");
      },
    });
  }
}

for (const backend of BACKENDS) {
  Deno.test({
    name: `tf.grad, tf.variableGrads and Adam work on ${backend}`,
    sanitizeResources: false,
    async fn() {
      await initBackend({ backend, print: false });
      // f(x) = Σ sin(x)·x: f' = cos(x)·x + sin(x).
      const x = tf.tensor1d([0.5, -1, 2]);
      const dx = await tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.sin(t), t)))(x).data();
      [0.5, -1, 2].forEach((a, i) =>
        assert(Math.abs(dx[i] - (Math.cos(a) * a + Math.sin(a))) < 1e-5, `${backend} grad`)
      );
      // Least squares y = X·w: ∇ = 2Xᵀ(Xw − y)/n, and Adam drives w to the solution.
      const X = tf.tensor2d([[1, 0], [0, 1], [1, 1], [2, -1]]);
      const y = tf.tensor2d([[1], [2], [3], [0]]); // exactly w = [1, 2]
      const w = tf.variable(tf.zeros([2, 1]));
      const mse = () => tf.mean(tf.square(tf.sub(tf.matMul(X, w), y))) as tf.Scalar;
      const { grads } = tf.variableGrads(mse, [w]);
      const gw = await grads[w.name].data();
      // At w = 0: 2Xᵀ(−y)/4 = −(Xᵀy)/2 = −[(1 + 3 + 0)/2, (2 + 3 + 0)/2] = [−2, −2.5].
      assert(Math.abs(gw[0] + 2) < 1e-5 && Math.abs(gw[1] + 2.5) < 1e-5, `${backend} variableGrads: ${gw}`);
      const opt = tf.train.adam(0.1);
      for (let i = 0; i < 300; i++) opt.minimize(mse, true, [w])?.dispose();
      const wv = await w.data();
      assert(Math.abs(wv[0] - 1) < 1e-2 && Math.abs(wv[1] - 2) < 1e-2, `${backend} Adam reached w = ${wv}`);
      tf.dispose([x, X, y, w, grads[w.name]]);
      opt.dispose();
      await initBackend({ backend: "cpu", print: false });
    },
  });
}
