/**
 * Ops the wasm backend of TensorFlow.js 4.22 has no kernel for (`tf.einsum` above all, which a student may
 * well write) run there through the cpu backend's own kernel: the inputs are copied to the cpu backend, its
 * kernel runs, and the outputs are copied back into wasm tensors. Slower than a native kernel, but the same
 * numbers as on cpu instead of "Kernel 'Einsum' not registered for backend 'wasm'".
 *
 * Registered when this module loads (lib/backend.ts imports it), for every cpu kernel that wasm lacks except
 * complex-valued, string and canvas ones (the wasm backend stores none of those). Private to lib/.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Values = tf.backend_util.BackendValues;

interface WasmBackendLike {
  readSync(dataId: object): Values;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Values): tf.TensorInfo;
}
interface CpuBackendLike {
  write(values: Values, shape: number[], dtype: tf.DataType): object;
  readSync(dataId: object): Values;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Kernels not to delegate: complex-valued, string-valued or drawing ones (wasm cannot hold their data). */
const SKIPPED = new Set(["Complex", "ComplexAbs", "Real", "Imag", "FFT", "IFFT", "StaticRegexReplace", "Draw"]);

/** The kernels this module registered for wasm, in registration order. */
export const WASM_FALLBACKS: string[] = [];

function delegate(cpuKernel: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, backend, attrs }: KernelArgs) => {
    const wasm = backend as unknown as WasmBackendLike;
    const cpu = tf.engine().findBackend("cpu") as unknown as CpuBackendLike;
    // Its first write would print tfjs's "running TensorFlow.js in Node.js" banner in the middle of a cell.
    (cpu as unknown as { firstUse: boolean }).firstUse = false;
    const made: object[] = [];
    const toCpu = (t: tf.TensorInfo | undefined) => {
      if (!t) return t;
      const dataId = cpu.write(wasm.readSync(t.dataId), [...t.shape], t.dtype);
      made.push(dataId);
      return { dataId, shape: t.shape, dtype: t.dtype };
    };
    // Most kernels take named inputs; Einsum takes an array of tensors.
    const cpuInputs = Array.isArray(inputs)
      ? (inputs as tf.TensorInfo[]).map(toCpu)
      : Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, toCpu(t as tf.TensorInfo | undefined)]));
    try {
      const out = cpuKernel({ inputs: cpuInputs as tf.NamedTensorInfoMap, backend: cpu as never, attrs });
      const back = (o: tf.TensorInfo) => {
        const values = cpu.readSync(o.dataId);
        if (!made.includes(o.dataId)) cpu.disposeData(o.dataId);
        return wasm.makeOutput([...o.shape], o.dtype, undefined, values);
      };
      return Array.isArray(out) ? out.map(back) : back(out);
    } finally {
      for (const dataId of made) cpu.disposeData(dataId, true);
    }
  };
}

for (const kernel of tf.getKernelsForBackend("cpu")) {
  if (SKIPPED.has(kernel.kernelName) || tf.getKernel(kernel.kernelName, "wasm")) continue;
  tf.registerKernel({ kernelName: kernel.kernelName, backendName: "wasm", kernelFunc: delegate(kernel.kernelFunc) });
  WASM_FALLBACKS.push(kernel.kernelName);
}
