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
 * Private to lib/: {@linkcode initBackend} installs it.
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
