/**
 * The course's `native` TensorFlow.js backend: the wasm backend (its own instance and every one of its kernels),
 * with the matrix products (`BatchMatMul`, `_FusedMatMul`) handed to a BLAS `cblas_sgemm`, and `Softmax` and `Exp`
 * to the course's compiled C kernels (lib/native/kernels.c) when the set-up could build them. The native code
 * reads and writes the wasm heap in place through Deno FFI: no copies. The wasm build tfjs uses under Deno has
 * one thread; this backend adds a BLAS at the speed of the machine (figures: `deno task bench`).
 *
 * Needs Deno with `--allow-ffi` (the grading sandbox has none, and stays on stock wasm). Private to lib/:
 * `initBackend()` (lib/backend.ts) registers it.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { loadNativeLibraries, type NativeLibraries } from "./libraries.ts";

/** The backend's name in `tf.setBackend`. */
export const NATIVE = "native";

type KernelArgs = Parameters<tf.KernelFunc>[0];
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

/**
 * Registers the `native` backend (once) and copies onto it every wasm kernel it does not replace (again on each
 * call, so kernels registered for wasm later are picked up).
 *
 * @returns The libraries in use.
 * @throws {NativeLibraryError} When no usable BLAS is found (the message says where it looked and why).
 */
export function registerNativeBackend(): NativeLibraries {
  const libs = loadNativeLibraries();
  if (!tf.findBackendFactory(NATIVE)) {
    const wasmFactory = tf.findBackendFactory("wasm");
    if (!wasmFactory) throw new Error("Cannot register the native backend: the wasm backend is not registered");
    tf.registerBackend(NATIVE, wasmFactory, 0); // never chosen by tfjs's own priorities
    for (const config of nativeKernels(libs)) tf.registerKernel(config);
  }
  for (const config of tf.getKernelsForBackend("wasm")) {
    if (!tf.getKernel(config.kernelName, NATIVE)) tf.registerKernel({ ...config, backendName: NATIVE });
  }
  return libs;
}

/** One line for `initBackend()`: what does the work. */
export function describeNative(libs: NativeLibraries): string {
  const k = libs.kernels;
  const kernels = k.softmax ? `C softmax/exp${k.variant ? ` (${k.variant})` : ""}` : `wasm softmax/exp: ${k.why}`;
  return `wasm + ${libs.blas.description} matMul via FFI, ${kernels}; ${libs.threads} BLAS thread${
    libs.threads === 1 ? "" : "s"
  }`;
}

function nativeKernels(libs: NativeLibraries): tf.KernelConfig[] {
  const kernels: [string, tf.KernelFunc][] = [
    [tf.BatchMatMul, (args) => batchMatMul(libs, args)],
    [tf._FusedMatMul, (args) => fusedMatMul(libs, args)],
  ];
  const { softmax, exp } = libs.kernels;
  if (softmax && exp) {
    kernels.push([tf.Softmax, (args) => softmaxKernel(softmax, args)], [tf.Exp, (args) => expKernel(exp, args)]);
  }
  // Keep the wasm kernel's setup function: it binds the wasm code the fallbacks below call to this instance.
  return kernels.map(([kernelName, kernelFunc]) => ({
    kernelName,
    backendName: NATIVE,
    kernelFunc,
    setupFunc: tf.getKernel(kernelName, "wasm")?.setupFunc,
  }));
}

/** A wasm kernel by name, run on this backend's instance (for dtypes and cases the native kernels leave to it). */
function wasmKernel(name: string, args: KernelArgs): tf.TensorInfo {
  const kernel = tf.getKernel(name, "wasm");
  if (!kernel) throw new Error(`Cannot run ${name} on the native backend: the wasm backend has no such kernel`);
  return kernel.kernelFunc(args) as tf.TensorInfo;
}

/**
 * C[b] = op(A[b])·op(B[b]) for every batch index b of the broadcast batch shape (a batch dimension of size 1
 * on one side is reused across the other's), one sgemm per batch, in place on the wasm heap.
 */
function batchMatMul(libs: NativeLibraries, { inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const a = inputs.a as tf.TensorInfo, b = inputs.b as tf.TensorInfo;
  const { transposeA = false, transposeB = false } = attrs as { transposeA?: boolean; transposeB?: boolean };
  if (a.dtype !== "float32" || b.dtype !== "float32") {
    throw new TypeError(
      `Cannot multiply on the native backend: matMul needs float32 tensors, got ${a.dtype} and ${b.dtype}`,
    );
  }
  const ra = a.shape.length, rb = b.shape.length;
  const [M, Ka] = transposeA ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
  const [Kb, N] = transposeB ? [b.shape[rb - 1], b.shape[rb - 2]] : [b.shape[rb - 2], b.shape[rb - 1]];
  if (Ka !== Kb) {
    throw new TypeError(
      `Cannot multiply on the native backend: the inner dimensions must match, got shapes [${a.shape}] and [${b.shape}] with transposeA=${transposeA}, transposeB=${transposeB}`,
    );
  }
  const K = Ka;
  const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
  const batch = tf.broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
  const be = backend as unknown as WasmBackendLike;
  const out = be.makeOutput([...batch, M, N], "float32");
  const count = batch.reduce((x, y) => x * y, 1);
  if (count * M * N === 0) return out;
  // Views made after makeOutput: an allocation may grow (and so replace) the wasm memory.
  const A = be.typedArrayFromHeap(a), B = be.typedArrayFromHeap(b), C = be.typedArrayFromHeap(out);
  if (K === 0) {
    C.fill(0);
    return out;
  }
  const offsetA = batchOffsets(batchA, batch, M * K), offsetB = batchOffsets(batchB, batch, K * N);
  const lda = transposeA ? M : K, ldb = transposeB ? K : N;
  const tA = transposeA ? TRANS : NO_TRANS, tB = transposeB ? TRANS : NO_TRANS;
  for (let i = 0; i < count; i++) {
    const Ai = A.subarray(offsetA[i], offsetA[i] + M * K), Bi = B.subarray(offsetB[i], offsetB[i] + K * N);
    libs.sgemm(ROW_MAJOR, tA, tB, M, N, K, 1, Ai, lda, Bi, ldb, 0, C.subarray(i * M * N, (i + 1) * M * N), N);
  }
  return out;
}

/**
 * For each index of the broadcast batch shape `out` (row-major), the element offset of the matching matrix of a
 * tensor with batch shape `own` (right-aligned; dimensions of size 1 broadcast), matrices of `size` elements.
 */
export function batchOffsets(own: number[], out: number[], size: number): Int32Array | Float64Array {
  const count = out.reduce((x, y) => x * y, 1);
  const offsets = count * size < 2 ** 31 ? new Int32Array(count) : new Float64Array(count);
  const lead = out.length - own.length;
  const strides = out.map(() => 0); // this tensor's stride per output batch dimension, 0 where broadcast
  let stride = size;
  for (let d = own.length - 1; d >= 0; d--) {
    strides[d + lead] = own[d] === 1 ? 0 : stride;
    stride *= own[d];
  }
  const index = out.map(() => 0);
  for (let i = 0, offset = 0; i < count; i++) {
    offsets[i] = offset;
    for (let d = out.length - 1; d >= 0; d--) {
      index[d]++;
      offset += strides[d];
      if (index[d] < out[d]) break;
      offset -= strides[d] * out[d];
      index[d] = 0;
    }
  }
  return offsets;
}

/** matMul, then the bias (broadcast add) and the activation with the backend's own kernels, as tfjs-cpu does. */
function fusedMatMul(libs: NativeLibraries, args: KernelArgs): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { bias, preluActivationWeights } = inputs as { bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
  const { activation = "linear", leakyreluAlpha } = attrs as { activation?: string; leakyreluAlpha?: number };
  const be = backend as unknown as WasmBackendLike;
  // Runs a kernel on y and frees y.
  const then = (name: string, y: tf.TensorInfo, more: Record<string, tf.TensorInfo> = {}, kattrs = {}) => {
    const x = name === tf.Add ? { a: y } : { x: y };
    const z = wasmKernel(name, { inputs: { ...x, ...more }, backend, attrs: kattrs });
    be.disposeData(y.dataId);
    return z;
  };
  let y = batchMatMul(libs, { inputs: { a: inputs.a, b: inputs.b }, backend, attrs });
  if (bias) y = then(tf.Add, y, { b: bias });
  switch (activation) {
    case "linear":
      return y;
    case "relu":
      return then(tf.Relu, y);
    case "relu6":
      return then(tf.Relu6, y);
    case "elu":
      return then(tf.Elu, y);
    case "sigmoid":
      return then(tf.Sigmoid, y);
    case "leakyrelu":
      return then(tf.LeakyRelu, y, {}, { alpha: leakyreluAlpha });
    case "prelu":
      return then(tf.Prelu, y, { alpha: preluActivationWeights! });
    default:
      be.disposeData(y.dataId);
      throw new RangeError(`Cannot apply a fused activation on the native backend: unknown activation "${activation}"`);
  }
}

function softmaxKernel(softmax: NonNullable<NativeLibraries["kernels"]["softmax"]>, args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.logits as tf.TensorInfo;
  const { dim } = args.attrs as { dim: number };
  const rank = x.shape.length;
  if (x.dtype !== "float32" || (dim !== -1 && dim !== rank - 1)) return wasmKernel(tf.Softmax, args);
  const be = args.backend as unknown as WasmBackendLike;
  const out = be.makeOutput(x.shape, "float32");
  const cols = x.shape[rank - 1] ?? 1, size = x.shape.reduce((p, q) => p * q, 1);
  if (size > 0) softmax(be.typedArrayFromHeap(x), be.typedArrayFromHeap(out), BigInt(size / cols), BigInt(cols));
  return out;
}

function expKernel(exp: NonNullable<NativeLibraries["kernels"]["exp"]>, args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype !== "float32") return wasmKernel(tf.Exp, args);
  const be = args.backend as unknown as WasmBackendLike;
  const out = be.makeOutput(x.shape, "float32");
  const size = x.shape.reduce((p, q) => p * q, 1);
  if (size > 0) exp(be.typedArrayFromHeap(x), be.typedArrayFromHeap(out), BigInt(size));
  return out;
}
