/**
 * Hidden cases: graded by `deno task grade`, never shown to students and never
 * shipped in the student bundle (tools/grading/ stays with the instructor).
 * Only their arguments enter the grading sandbox (over stdin, before student
 * code loads); their expected values stay in the grader, which alone judges.
 * Expected counts are computed by hand from the lesson's formulas.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Case, Verdict } from "../../lib/check/core.ts";
import { expectClose, expectCount, readMatrix } from "../../lib/check/compare.ts";
import { softmaxRows, verifyEffective } from "../../lib/check/lesson01.ts";
import { rng } from "../../lib/random.ts";

const count = (args: [number, number], expected: bigint): Case<[number, number]> => ({
  label: "hidden",
  args: () => args,
  verify: (actual: unknown): Verdict => expectCount(actual, expected),
});

/** Hidden cases by lesson and exercise name. */
export const hiddenCases: Record<string, Record<string, Case<never>[]>> = {
  "01": {
    denseParamCount: [count([3, 5], 240n), count([100, 7], 490700n), count([9, 11], 9900n)],
    multiHeadParamCount: [count([48, 6], 9216n), count([20, 4], 1600n), count([96, 12], 36864n)],
    causalAttentionFlops: [count([3, 5], 720n), count([100, 32], 1465600n), count([7, 1], 168n)],
    effectiveWeights: ([[5, 2], [2, 5]] as const).map(([T, d]) => ({
      label: "hidden",
      args: () => [softmaxRows(T, `hidden.ew.A.${T}.${d}`), rng(`hidden.ew.W.${T}.${d}`).tensor([d, d]) as tf.Tensor2D],
      verify: (actual: unknown, [A, Wv]: [tf.Tensor2D, tf.Tensor2D]) => verifyEffective(actual, A, Wv, T, d),
    })),
    // Expected weights computed offline in float64 (Python) from softmax(QKᵀ/√d), masked j ≤ i when causal.
    attentionWeights: [
      {
        Q: [[0.9, -0.4, 1.3], [-1.1, 0.7, 0.2]],
        K: [[0.3, 1.2, -0.8], [1.4, -0.5, 0.6]],
        causal: true,
        expected: [[1.0, 0.0], [0.772764, 0.227236]],
      },
      {
        Q: [[0.2, -1.3, 0.7], [1.6, 0.1, -0.4], [-0.8, 0.9, 1.1]],
        K: [[1.0, -0.6, 0.3], [-0.2, 1.4, -0.9], [0.7, 0.5, 1.2]],
        causal: false,
        expected: [[0.578664, 0.0691358, 0.3522], [0.466238, 0.227871, 0.305891], [0.144942, 0.332858, 0.5222]],
      },
    ].map((c) => ({
      label: "hidden",
      args: () => [tf.tensor2d(c.Q), tf.tensor2d(c.K), c.causal],
      verify: (actual: unknown) => {
        const M = readMatrix(actual, c.Q.length, c.Q.length);
        return M instanceof Float64Array ? expectClose(M, Float64Array.from(c.expected.flat()), c.Q.length, 1e-4) : M;
      },
    })),
  } as unknown as Record<string, Case<never>[]>,
};
