import * as tf from "@tensorflow/tfjs";
import { assertEquals, assertThrows, TEST_BACKENDS } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { toMatrix, toRows } from "./matrix.ts";

for (const backend of TEST_BACKENDS) {
  Deno.test(`toMatrix() reads rows, flat arrays and tensors alike, as a fresh Float64 copy (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const rows = [[1, 2, 3], [4, 5, 0.1]];
    const f32 = Float32Array.of(1, 2, 3, 4, 5, 0.1);
    const t = tf.tensor2d(f32, [2, 3]), before = tf.memory().numTensors;
    const fromTensor = toMatrix(t);
    assertEquals(tf.memory().numTensors, before);
    assertEquals(fromTensor, toMatrix({ data: f32, shape: [2, 3] })); // float32 values widened exactly
    assertEquals(fromTensor.data[5], Math.fround(0.1));
    const fromRows = toMatrix(rows);
    assertEquals(fromRows, { data: Float64Array.of(1, 2, 3, 4, 5, 0.1), shape: [2, 3] });
    assertEquals(toRows(fromRows), rows);
    const flat = Float64Array.of(1, 2), copy = toMatrix({ data: flat, shape: [1, 2] });
    copy.data[0] = 9;
    assertEquals(flat[0], 1, "toMatrix() must copy");
    t.dispose();
  });
}

Deno.test("toMatrix() names bad input with the caller's action", () => {
  assertThrows(
    () => toMatrix([[1], [2, 3]], "do it"),
    TypeError,
    "Cannot do it: rows must be arrays of the same length (1), got row 1 of length 2",
  );
  assertThrows(
    () => toMatrix([1, 2] as never),
    TypeError,
    "rows must be arrays of the same length (0), got row 0 of type number",
  );
  assertThrows(
    () => toMatrix([[]]),
    TypeError,
    "the matrix must have at least one row and one column, got shape [1,0]",
  );
  assertThrows(
    () => toMatrix({ data: [1], shape: [1, -1] }),
    TypeError,
    "shape must be [m, n] of non-negative integers, got [1,-1]",
  );
  assertThrows(() => toMatrix(null as never), TypeError, "got null");
  assertThrows(() => toMatrix([[1, -Infinity]]), RangeError, "entries must be finite numbers, got -Infinity at (0, 1)");
});
