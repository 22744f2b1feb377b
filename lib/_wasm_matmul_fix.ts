/**
 * Works around a silent wrong-result bug of @tensorflow/tfjs-backend-wasm 4.22.
 *
 * The wasm matMul (XNNPACK "fully connected") caches an operator — with B's
 * shape and a packed copy of B's values — under B's buffer id only. Tensors
 * made by `tf.reshape` share their source's buffer id, so after
 * `matMul(A, X)` a later `matMul(M, tf.reshape(X, [12, 1]))` reuses the
 * operator built for X's old shape: the result is garbage, or the wasm module
 * aborts. (See tfjs-backend-wasm/src/cc/batch_mat_mul_impl.cc, `xnn_matmul`.)
 *
 * The fix wraps the wasm BatchMatMul and _FusedMatMul kernels: the first shape
 * a buffer is used with as B is remembered, and a later call that uses the
 * same buffer as B with another shape gets a private copy of B instead.
 *
 * The same wrapper works around two more faults of the wasm BatchMatMul when the
 * inputs carry batch dimensions ([..., M, K]·[..., K, N] with a batch above 1):
 * - speed: only a batch of 1 goes to XNNPACK; larger batches take a plain loop,
 *   7–35× slower than one XNNPACK product per slice at [4, 256, 64]·[4, 64, 256]
 *   and [2, 1024, 64]·[2, 64, 1024] (measured on this course's machines);
 * - broadcasting: batch shapes such as [2, 1] against [1, 3] give too few values.
 * Such products run slice by slice instead (each slice a batch-1 product), when
 * the slices are large enough to pay for the copies or the batch shapes need a
 * real broadcast. Private to lib/: {@linkcode initBackend} installs it.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

type KernelArgs = Parameters<tf.KernelFunc>[0];
interface WasmBackendLike {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeOutput(
    shape: number[],
    dtype: tf.DataType,
    memoryOffset?: number,
    values?: tf.backend_util.BackendValues,
  ): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

let installed = false;

/** Installs the wrapper once; a no-op if the wasm kernels are missing. */
export function installWasmMatMulFix(): void {
  if (installed) return;
  for (const name of ["BatchMatMul", "_FusedMatMul"]) {
    const kernel = tf.getKernel(name, "wasm");
    if (!kernel) continue;
    const original = kernel.kernelFunc;
    const shapeOfB = new WeakMap<object, string>();
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({
      ...kernel,
      kernelFunc: (args: KernelArgs) => {
        if (name === "BatchMatMul") {
          const sliced = bySlices(args, original);
          if (sliced) return sliced;
        }
        const b = args.inputs.b as tf.TensorInfo;
        const key = `${b.shape}|${(args.attrs as { transposeB?: boolean }).transposeB ?? false}`;
        const first = shapeOfB.get(b.dataId);
        if (first === undefined) shapeOfB.set(b.dataId, key);
        if (first === undefined || first === key) return original(args);
        const backend = args.backend as unknown as WasmBackendLike;
        const copy = backend.makeOutput(b.shape, b.dtype, undefined, backend.readSync(b.dataId));
        try {
          return original({ ...args, inputs: { ...args.inputs, b: copy } });
        } finally {
          backend.disposeData(copy.dataId); // also frees the operator cached for the copy
        }
      },
    });
  }
  installed = true;
}

/** Slices at least this many multiply–adds (M·K·N) each go one by one to XNNPACK. */
const SLICE_WORK = 1 << 19;

/**
 * A batched product as one batch-1 product per output slice, with numpy-style broadcasting of the batch
 * dimensions; undefined when the plain kernel is both right and fast enough (no batch, small slices).
 */
function bySlices(args: KernelArgs, original: tf.KernelFunc): tf.TensorInfo | undefined {
  const a = args.inputs.a as tf.TensorInfo, b = args.inputs.b as tf.TensorInfo;
  const { transposeA = false, transposeB = false } = args.attrs as { transposeA?: boolean; transposeB?: boolean };
  if (a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 3 && b.shape.length < 3) return undefined;
  const [ar, ac] = a.shape.slice(-2), [br, bc] = b.shape.slice(-2);
  const [m, k] = transposeA ? [ac, ar] : [ar, ac];
  const n = transposeB ? br : bc;
  if (k !== (transposeB ? bc : br)) return undefined; // let the kernel say what is wrong
  const rank = Math.max(a.shape.length, b.shape.length) - 2;
  const pad = (s: number[]) => [...Array(rank - (s.length - 2)).fill(1), ...s.slice(0, -2)];
  const batchA = pad(a.shape), batchB = pad(b.shape);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    if (batchA[i] !== batchB[i] && batchA[i] !== 1 && batchB[i] !== 1) return undefined; // the kernel throws
    batch.push(Math.max(batchA[i], batchB[i]));
  }
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  const slices = size(batch), sizeA = size(batchA), sizeB = size(batchB);
  if (slices <= 1) return undefined;
  const simple = sizeA === slices && sizeB === slices || sizeA === 1 || sizeB === 1;
  if (simple && m * k * n < SLICE_WORK) return undefined;
  const backend = args.backend as unknown as WasmBackendLike;
  // Copies: a view into the wasm heap goes stale when a later allocation grows the heap.
  const valuesA = (backend.readSync(a.dataId) as Float32Array).slice();
  const valuesB = (backend.readSync(b.dataId) as Float32Array).slice();
  const out = new Float32Array(slices * m * n);
  const index = (flat: number, dims: number[]) => { // the flat batch index of a broadcast operand
    let at = 0, stride = 1;
    for (let i = rank - 1, rest = flat; i >= 0; i--) {
      const coord = rest % batch[i];
      rest = (rest - coord) / batch[i];
      if (dims[i] !== 1) at += coord * stride;
      stride *= dims[i];
    }
    return at;
  };
  for (let s = 0; s < slices; s++) {
    const ia = index(s, batchA) * ar * ac, ib = index(s, batchB) * br * bc;
    const sa = backend.makeOutput([1, ar, ac], "float32", undefined, valuesA.slice(ia, ia + ar * ac));
    const sb = backend.makeOutput([1, br, bc], "float32", undefined, valuesB.slice(ib, ib + br * bc));
    try {
      const r = original({ ...args, inputs: { a: sa, b: sb } }) as tf.TensorInfo;
      out.set(backend.readSync(r.dataId) as Float32Array, s * m * n);
      backend.disposeData(r.dataId);
    } finally {
      backend.disposeData(sa.dataId);
      backend.disposeData(sb.dataId); // also frees the operator XNNPACK cached for this slice
    }
  }
  return backend.makeOutput([...batch, m, n], "float32", undefined, out);
}
