import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import { batchOffsets } from "./backend.ts";
import { loadNativeLibraries, NativeLibraryError, openBlas, openKernels } from "./libraries.ts";

const CI = Deno.env.get("CI") === "true";
const available = (() => {
  try {
    return loadNativeLibraries();
  } catch (err) {
    if (CI) throw err; // CI installs the BLAS: its absence is a failure there
    return null;
  }
})();
const ignore = !available; // shown as "ignored" where the set-up could not install a BLAS

/** Float64 loop twin of a batched product with numpy-style batch broadcasting. */
function twinMatMul(
  a: Float64Array,
  aShape: number[],
  b: Float64Array,
  bShape: number[],
  tA: boolean,
  tB: boolean,
): { values: Float64Array; shape: number[] } {
  const ra = aShape.length, rb = bShape.length;
  const [M, K] = tA ? [aShape[ra - 1], aShape[ra - 2]] : [aShape[ra - 2], aShape[ra - 1]];
  const N = tB ? bShape[rb - 2] : bShape[rb - 1];
  const ba = aShape.slice(0, -2), bb = bShape.slice(0, -2);
  const rank = Math.max(ba.length, bb.length);
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s];
  const [pa, pb] = [pad(ba), pad(bb)];
  const batch = pa.map((x, i) => Math.max(x, pb[i]));
  const count = batch.reduce((x, y) => x * y, 1);
  const values = new Float64Array(count * M * N);
  const at = (m: number[], idx: number[]) => idx.reduce((acc, i, d) => acc * m[d] + (m[d] === 1 ? 0 : i), 0);
  for (let n = 0; n < count; n++) {
    const idx: number[] = [];
    for (let d = rank - 1, r = n; d >= 0; d--) {
      idx[d] = r % batch[d];
      r = Math.floor(r / batch[d]);
    }
    const oa = at(pa, idx) * M * K, ob = at(pb, idx) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          s += a[oa + (tA ? k * M + i : i * K + k)] * b[ob + (tB ? j * K + k : k * N + j)];
        }
        values[n * M * N + i * N + j] = s;
      }
    }
  }
  return { values, shape: [...batch, M, N] };
}

function maxErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assertEquals(got.length, want.length);
  let m = 0;
  for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return m;
}

Deno.test("batchOffsets() maps broadcast batch indices to each operand's matrices", () => {
  assertEquals(Array.from(batchOffsets([2, 1], [2, 3], 10)), [0, 0, 0, 10, 10, 10]);
  assertEquals(Array.from(batchOffsets([1, 3], [2, 3], 10)), [0, 10, 20, 0, 10, 20]);
  assertEquals(Array.from(batchOffsets([3], [2, 3], 4)), [0, 4, 8, 0, 4, 8]);
  assertEquals(Array.from(batchOffsets([], [2, 2], 4)), [0, 0, 0, 0]);
  assertEquals(Array.from(batchOffsets([2, 2], [2, 2], 1)), [0, 1, 2, 3]);
});

Deno.test({
  name: "native matMul matches the Float64 loop and stock tfjs on transposes, batches and broadcasting",
  ignore,
  async fn() {
    const r = rng("native-matmul");
    // [a shape, b shape, transposeA, transposeB, stock tfjs gets it right]
    const cases: [number[], number[], boolean, boolean, boolean][] = [
      [[1, 1], [1, 1], false, false, true],
      [[5, 7], [7, 3], false, false, true],
      [[7, 5], [7, 3], true, false, true],
      [[5, 7], [3, 7], false, true, true],
      [[7, 5], [3, 7], true, true, true],
      [[2, 3, 4, 6], [2, 3, 6, 5], false, false, true], // [B, H, T, D]·[B, H, D, S]
      [[2, 3, 4, 6], [6, 5], false, false, true], // a rank-2 B shared by every batch
      [[4, 6], [3, 5, 6], false, true, true], // a rank-2 A shared by every batch
      [[2, 1, 3, 4], [1, 3, 4, 2], false, false, false], // both sides broadcast: stock tfjs returns too few values
      [[2, 33, 17], [2, 17, 65], false, false, true], // sizes that are no multiple of any vector width
      [[0, 4], [4, 3], false, false, true], // empty
      [[3, 0], [0, 2], false, false, true], // K = 0: zeros
    ];
    const product = async (
      backend: "cpu" | "native",
      a: Float64Array,
      as: number[],
      b: Float64Array,
      bs: number[],
      tA: boolean,
      tB: boolean,
    ) => {
      await initBackend({ backend, print: false });
      const ta = tf.tensor(Float32Array.from(a), as), tb = tf.tensor(Float32Array.from(b), bs);
      const before = tf.memory().numTensors;
      const c = tf.matMul(ta, tb, tA, tB);
      const out = { values: Array.from(await c.data()), shape: c.shape };
      tf.dispose([ta, tb, c]);
      assertEquals(tf.memory().numTensors, before - 2, `${backend} matMul leaked tensors`);
      return out;
    };
    for (const [as, bs, tA, tB, stockOk] of cases) {
      const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
      const a = r.normalArray(size(as)), b = r.normalArray(size(bs));
      const twin = twinMatMul(a, as, b, bs, tA, tB);
      const label = `[${as}]·[${bs}] tA=${tA} tB=${tB}`;
      const native = await product("native", a, as, b, bs, tA, tB);
      assertEquals(native.shape, twin.shape, label);
      assert(maxErr(native.values, twin.values) < 1e-4, `${label}: error ${maxErr(native.values, twin.values)}`);
      if (stockOk) {
        const stock = await product("cpu", a, as, b, bs, tA, tB);
        assert(maxErr(native.values, stock.values) < 1e-4, `${label}: native and cpu differ`);
      }
    }
  },
});

Deno.test({
  name: "native fused matMul (bias, every activation) matches the cpu backend",
  ignore,
  async fn() {
    const r = rng("native-fused");
    const [a, b, bias, alpha] = [r.normalArray(4 * 6), r.normalArray(6 * 5), r.normalArray(5), r.normalArray(5)];
    const run = async (backend: "cpu" | "native", activation: tf.fused.Activation, withBias: boolean) => {
      await initBackend({ backend, print: false });
      const t = (x: Float64Array, s: number[]) => tf.tensor(Float32Array.from(x), s);
      const [ta, tb, tbias, talpha] = [t(a, [4, 6]), t(b, [6, 5]), t(bias, [5]), t(alpha, [5])];
      const before = tf.memory().numTensors;
      const c = tf.fused.matMul({
        a: ta,
        b: tb,
        bias: withBias ? tbias : undefined,
        activation,
        preluActivationWeights: activation === "prelu" ? talpha : undefined,
        leakyreluAlpha: 0.3,
      });
      const values = Array.from(await c.data());
      c.dispose();
      assertEquals(tf.memory().numTensors, before, `${backend} fused matMul leaked tensors`);
      tf.dispose([ta, tb, tbias, talpha]);
      return values;
    };
    for (const activation of ["linear", "relu", "relu6", "elu", "sigmoid", "leakyrelu", "prelu"] as const) {
      for (const withBias of [false, true]) {
        const err = maxErr(await run("native", activation, withBias), await run("cpu", activation, withBias));
        assert(err < 1e-5, `${activation}, bias=${withBias}: error ${err}`);
      }
    }
  },
});

Deno.test({
  name: "native softmax and exp match Float64 on random rows and the edge cases (NaN, ±∞, huge logits)",
  ignore,
  async fn() {
    await initBackend({ backend: "native", print: false });
    const r = rng("native-softmax");
    for (const [rows, cols] of [[1, 1], [3, 5], [4, 16], [2, 37], [64, 2048]]) {
      const x = r.normalArray(rows * cols).map((v) => 8 * v);
      const want = new Float64Array(x.length);
      for (let i = 0; i < rows; i++) {
        const row = x.subarray(i * cols, (i + 1) * cols), m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m)), s = e.reduce((p, q) => p + q);
        want.set(e.map((v) => v / s), i * cols);
      }
      const t = tf.tensor2d(Float32Array.from(x), [rows, cols]);
      const got = tf.softmax(t);
      assert(
        maxErr(await got.data(), want) < 1e-6,
        `softmax [${rows}, ${cols}]: error ${maxErr(await got.data(), want)}`,
      );
      tf.dispose([t, got]);
    }
    // Edge rows, as the cpu backend computes them: NaN spreads over its row, ∞ gives NaN, −∞ alone gives NaN (0/0).
    const edge = [[1, NaN, 3], [Infinity, 0, 1], [-Infinity, -Infinity, -Infinity], [1e30, -1e30, 1e30], [
      -1e4,
      -1e4 - 1,
      5,
    ]];
    const byBackend: number[][] = [];
    for (const backend of ["native", "cpu"] as const) {
      await initBackend({ backend, print: false });
      const t = tf.tensor2d(edge);
      const got = tf.softmax(t);
      byBackend.push(Array.from(await got.data()));
      tf.dispose([t, got]);
    }
    const [nat, cpu] = byBackend;
    for (let i = 0; i < nat.length; i++) {
      assert(
        Number.isNaN(nat[i]) === Number.isNaN(cpu[i]) && !(Math.abs(nat[i] - cpu[i]) > 1e-6),
        `softmax edge ${i}: ${nat[i]} vs ${cpu[i]}`,
      );
    }
    await initBackend({ backend: "native", print: false });
    const xs = [0, 1, -1, 10.5, -10.5, 88.7, 88.8, -87.3, -87.4, -104, 1e-8, Infinity, -Infinity, NaN];
    const e = tf.exp(tf.tensor1d(xs));
    const got = await e.data();
    xs.forEach((x, i) => {
      const want = Math.exp(Math.fround(x)), g = got[i]; // of the float32 input
      const ok = Number.isNaN(want)
        ? Number.isNaN(g)
        : want === Infinity || want > 3.4e38
        ? g === Infinity
        : want < 1.2e-38
        ? g >= 0 && g <= 1.2e-38
        : Math.abs(g - want) <= 3e-7 * want;
      assert(ok, `exp(${x}) = ${g}, want ${want}`);
    });
    // int32 goes to the wasm kernel.
    const ints = tf.exp(tf.tensor1d([0, 1], "int32"));
    assert(Math.abs((await ints.data())[1] - Math.E) < 1e-6);
    tf.dispose([e, ints]);
  },
});

Deno.test({
  name: "a missing or wrong library gives a clear message, never a crash",
  ignore,
  fn() {
    assertThrows(
      () => openBlas("/nonexistent/libblas.so", 1),
      NativeLibraryError,
      "could not load /nonexistent/libblas.so",
    );
    const notALibrary = new URL("./kernels.c", import.meta.url).pathname;
    assertThrows(() => openBlas(notALibrary, 1), NativeLibraryError, `could not load ${notALibrary}`);
    // A real shared library that is no BLAS: the course's own kernels, where built, else the C math library.
    const other = available!.kernels.softmax ? available!.kernels.path : "libm.so.6";
    assertThrows(() => openBlas(other, 1), NativeLibraryError, "has neither cblas_sgemm nor scipy_cblas_sgemm");
    const k = openKernels("/nonexistent/libattn_kernels.so");
    assert(k.softmax === null && k.why.includes("no compiled kernels"), JSON.stringify(k));
  },
});

async function denoRun(code: string, env: Record<string, string>, permissions: string[]) {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, code);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...permissions,
        `--config=${new URL("../../deno.json", import.meta.url).pathname}`,
        file,
      ],
      env: { NO_COLOR: "1", ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  } finally {
    await Deno.remove(file);
  }
}
const backendModule = new URL("../backend.ts", import.meta.url).href;

Deno.test({
  name: "initBackend(): ATTN_BACKEND=native with a bad ATTN_BLAS fails clearly; without --allow-ffi auto says why",
  ignore,
  sanitizeResources: false,
  async fn() {
    const code =
      `import { initBackend } from "${backendModule}"; await initBackend().catch((e) => console.log(e.message));`;
    const forced = await denoRun(code, { ATTN_BACKEND: "native", ATTN_BLAS: "/nonexistent/libcblas.so" }, ["-A"]);
    assert(
      forced.includes(
        "Cannot use the native backend that ATTN_BACKEND asks for: ATTN_BLAS names /nonexistent/libcblas.so, which does not exist",
      ),
      forced,
    );
    const threads = await denoRun(code, { ATTN_BACKEND: "native", ATTN_THREADS: "two" }, ["-A"]);
    assert(threads.includes('ATTN_THREADS must be an integer from 1 to 256, got "two"'), threads);
    const noFfi = await denoRun(code, { ATTN_BACKEND: "auto" }, ["--allow-read", "--allow-env", "--allow-write"]);
    assert(/backend: (wasm|tensorflow|webgpu).*no native: needs --allow-ffi/.test(noFfi), noFfi);
  },
});
