/**
 * Hidden cases: graded by `deno task grade`, never shown to students and never
 * shipped in the student bundle (tools/grading/ stays with the instructor).
 * Only their arguments enter the grading sandbox (over stdin, before student
 * code loads); their expected values stay in the grader, which alone judges.
 * Expected counts are computed by hand from the lesson's formulas.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Case, Verdict } from "../../lib/check/core.ts";
import { expectClose, expectCount, readMatrix } from "../../lib/check/compare.ts";
import { softmaxRows, verifyEffective } from "../../lib/check/lesson01.ts";
import {
  type ColumnScoreCase,
  columnScoreCase,
  type QkvCase,
  qkvCase,
  type RowQueryCase,
  rowQueryCase,
  type SelfAttentionCase,
  selfAttentionCase,
  type StrongestKeyCase,
  strongestKeyCase,
} from "../../lib/check/lesson02.ts";
import {
  decodeArgs,
  type DecodeCase,
  type MaskCase,
  verifyCausalMask,
  verifyDecodeStep,
  verifyGenerationFlops,
  verifyMaxContext,
} from "../../lib/check/lesson03.ts";
import {
  expectNumber,
  verifyEntropy,
  verifyJacobian,
  verifySoftmax,
  verifyTemperature,
} from "../../lib/check/lesson04.ts";
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
  // Lesson 02: computed offline in float64 (Python/numpy) from the formulas in the exercise texts; the
  // strongestKeys cases use the 8-feature PCA vectors of datasets/minilm_embeddings.json and seeded W_Q, W_K.
  "02": {
    qkvOfToken: ([
      {
        h: [-0.2, 1.5, -0.7],
        Wq: [[0.1, 0.5, 0.4], [-1.2, -0.7, -0.2], [-0.9, 0.7, 0.6]],
        Wk: [[-2.0, -1.8, -1.3], [0.1, 2.0, -0.4], [0.3, -1.1, -1.0]],
        Wv: [[-2.0, 0.0, 0.9], [-0.4, 1.4, 0.2], [0.0, 0.5, 0.5]],
        q: [0.45, -0.67, 0.81],
        k: [-1.39, 3.26, -1.01],
        v: [-0.23, 2.04, 0.4],
      },
      {
        h: [1.1, -0.8, -2.3, 0.1, -0.6],
        Wq: [[0.0, 1.7, -1.1, 0.8, 0.9], [0.5, 1.1, -0.5, -0.7, 1.0]],
        Wk: [[0.7, 1.4, 0.2, 1.6, -0.3], [-1.1, -2.0, -1.1, 0.8, -1.5]],
        Wv: [[-0.5, 2.1, 0.8, 1.8, -1.0], [-2.5, 1.5, -1.4, 0.1, 0.2]],
        q: [0.71, 0.15],
        k: [-0.47, 3.9],
        v: [-3.29, -0.84],
      },
    ] as Omit<QkvCase, "label">[]).map((c) => qkvCase({ label: "hidden", ...c })),
    rowQueries: ([
      {
        X: [[-1.1, -1.5, -0.6, -0.6], [-0.5, 0.4, -0.2, -0.7], [-0.7, -1.1, -0.2, -0.2], [1.6, 1.5, 1.5, 2.1], [
          -1.2,
          0.7,
          0.8,
          0.5,
        ]],
        Wq: [[2.1, 2.5, 1.0, 0.7], [-1.1, -1.1, 0.7, -0.1], [-1.3, -0.1, 0.4, 0.9], [-0.1, -0.3, 0.0, 0.2]],
        expected: [[-7.08, 2.5, 0.8, 0.44], [-0.74, 0.04, -0.1, -0.21], [-4.56, 1.86, 0.76, 0.36], [
          10.08,
          -2.57,
          0.26,
          -0.19,
        ], [0.38, 1.06, 2.26, 0.01]],
      },
      {
        X: [[-1.2, 0.8], [2.2, 0.8], [-1.4, 0.1]],
        Wq: [[-1.8, -1.8], [0.7, 0.1], [-0.7, -2.1], [-1.3, 0.2], [0.0, 0.7], [1.5, -0.3]],
        expected: [[0.72, -0.76, -0.84, 1.72, 0.56, -2.04], [-5.4, 1.62, -3.22, -2.7, 0.56, 3.06], [
          2.34,
          -0.97,
          0.77,
          1.84,
          0.07,
          -2.13,
        ]],
      },
    ] as Omit<RowQueryCase, "label">[]).map((c) => rowQueryCase({ label: "hidden", ...c })),
    columnScores: ([
      {
        Q: [[1.6, -0.5, 0.5, 0.4, -1.1], [-1.2, -0.4, 0.7, -0.6, -0.7]],
        K: [[-2.9, -0.4, 0.3, 0.4, 0.4], [-0.3, -0.2, 0.8, -0.1, -2.3]],
        expected: [
          [-3.026417, -0.282843, -0.339411, 0.537401, 2.404163],
          [1.110158, 0.19799, -0.33234, -0.113137, 0.509117],
          [-1.173797, -0.240416, 0.502046, 0.091924, -0.997021],
          [-0.692965, -0.028284, -0.254558, 0.155563, 1.088944],
          [2.404163, 0.410122, -0.629325, -0.26163, 0.827315],
        ],
      },
      {
        Q: [[1.0, -1.1, 1.4], [1.7, 0.8, 0.9], [1.9, -1.1, 0.3], [0.2, -1.0, 2.0], [-0.6, -0.7, 0.3], [
          1.0,
          -0.6,
          -0.6,
        ]],
        K: [[0.5, -1.4, -0.8], [-0.8, -0.4, -0.1], [1.8, 0.9, 0.0], [-0.2, 0.9, 0.4], [0.9, 1.4, -1.0], [
          -2.3,
          0.0,
          0.1,
        ]],
        expected: [[-0.130639, -0.420496, -0.077567], [-0.906311, -0.67361, 0.424578], [0.722599, 0.069402, -0.314351]],
      },
    ] as Omit<ColumnScoreCase, "label">[]).map((c) => columnScoreCase({ label: "hidden", ...c })),
    selfAttention: ([
      {
        Q: [[1.9, 0.4, -1.0, -1.9], [-0.2, 1.5, 0.2, -2.3], [-1.4, 0.1, 1.1, 0.1], [0.1, 1.1, 1.3, -0.7], [
          0.4,
          -1.0,
          -1.1,
          0.6,
        ]],
        K: [[-1.4, 0.2, 0.3, 0.9], [-1.2, 0.4, -0.1, 1.5], [-0.7, -1.1, 0.5, -0.9], [-1.3, 0.9, 0.4, -3.1], [
          -0.9,
          -1.1,
          0.6,
          1.5,
        ]],
        V: [[2.1, 0.7], [-1.1, -1.1], [-1.0, 0.5], [1.3, -1.9], [0.6, 0.9]],
        expected: [[1.00262, -1.539469], [1.258398, -1.8399], [0.578014, -0.169808], [0.914557, -1.161184], [
          0.162479,
          0.215663,
        ]],
      },
      {
        Q: [[0.3], [3.2], [0.5]],
        K: [[0.0], [0.6], [-0.5]],
        V: [[-1.1, 0.4, 1.2, -0.2], [0.9, -0.4, 1.6, 0.2], [0.5, 0.8, -1.4, -0.2]],
        expected: [[0.133375, 0.199377, 0.624789, -0.043395], [0.640646, -0.270087, 1.474647, 0.140076], [
          0.161179,
          0.15441,
          0.725375,
          -0.02742,
        ]],
      },
    ] as Omit<SelfAttentionCase, "label">[]).map((c) => selfAttentionCase({ label: "hidden", ...c })),
    strongestKeys: ([
      {
        tokens: ["a", "fluffy", "blue", "creature", "roam", "##ed", "the", "ve", "##rdan", "##t", "forest"],
        Q: [
          [-0.037, 0.375, 0.803],
          [0.219, 1.179, -1.129],
          [0.555, -0.985, -0.852],
          [-1.831, 0.727, -0.387],
          [-0.089, -0.573, -0.586],
          [0.146, 0.313, 0.355],
          [-0.113, 0.594, 0.782],
          [0.835, -2.881, 0.49],
          [0.483, 0.616, -0.762],
          [0.474, 0.427, 0.327],
          [-1.833, 0.178, -0.397],
        ],
        K: [
          [-0.266, -0.984, 0.369],
          [-0.787, 0.703, 0.446],
          [-0.521, -0.787, 0.521],
          [-1.228, 1.212, 0.99],
          [-1.069, 0.599, -0.172],
          [0.171, -0.347, 0.043],
          [-0.25, -0.773, 0.328],
          [0.082, -1.601, -0.597],
          [-0.558, 0.772, -0.162],
          [-0.379, -0.417, 0.02],
          [-0.911, 1.873, -0.137],
        ],
        expected: [
          "creature",
          "forest",
          "ve",
          "forest",
          "ve",
          "creature",
          "creature",
          "ve",
          "forest",
          "forest",
          "roam",
        ],
      },
      {
        tokens: ["i", "am", "enjoying", "this", "lecture", "on", "attention"],
        Q: [
          [0.233, -0.508, 0.061],
          [0.817, -0.63, -0.123],
          [0.746, -1.14, -0.081],
          [-0.142, -0.692, 0.224],
          [0.021, 0.034, -0.628],
          [0.174, -0.569, 0.39],
          [0.035, -0.253, -0.232],
        ],
        K: [
          [0.748, 0.561, -0.221],
          [1.467, 1.198, 0.09],
          [-1.673, -2.301, -1.082],
          [0.208, -0.458, 0.05],
          [-0.282, -0.558, 1.904],
          [0.204, -0.046, -0.46],
          [2.166, -0.119, -0.197],
        ],
        expected: ["enjoying", "attention", "attention", "enjoying", "enjoying", "lecture", "enjoying"],
      },
    ] as Omit<StrongestKeyCase, "label">[]).map((c) => strongestKeyCase({ label: "hidden", ...c })),
  } as unknown as Record<string, Case<never>[]>,
  // Lesson 03: mask patterns written out by hand; byte budgets and FLOP counts computed offline with exact
  // integers (Python); decode steps computed offline in float64 (Python, numpy).
  "03": {
    causalMask: ([
      { T: 1, S: 3, rows: ["000"] },
      { T: 5, S: 5, rows: ["0----", "00---", "000--", "0000-", "00000"] },
      { T: 3, S: 8, rows: ["000000--", "0000000-", "00000000"] },
    ] as MaskCase[]).map((c) => ({
      label: "hidden",
      args: () => [c.T, c.S],
      verify: (actual: unknown) => verifyCausalMask(actual, c),
    })),
    maxContext: ([
      [[8 * 2 ** 30, 1, 2], 65536n],
      [[2 ** 20, 4, 4], 256n],
      [[196e6, 49, 4], 1000n],
      [[196e6 - 1, 49, 4], 999n],
    ] as [[number, number, number], bigint][]).map(([args, expected]) => ({
      label: "hidden",
      args: () => args,
      verify: (actual: unknown) => verifyMaxContext(actual, args, expected),
    })),
    decodeStep: ([
      {
        label: "hidden",
        x: [[0.0, 1.4, 1.2]],
        K: [[-0.5, -0.3, -0.5], [0.6, -0.1, 0.7]],
        V: [[-1.8, 1.6, -0.1], [0.7, -0.1, -0.4]],
        Wq: [[0.4, 0.7, -0.2], [-0.1, 0.5, -0.7], [-1.2, 0.3, -0.5]],
        Wk: [[-1.5, -0.7, -0.4], [-1.0, -1.2, 0.0], [0.7, -0.2, -0.6]],
        Wv: [[0.3, 0.6, -0.2], [0.4, 0.8, -0.2], [-0.7, 0.3, 0.2]],
        newKey: [-0.56, -1.92, -0.72],
        newValue: [-0.28, 1.48, -0.04],
        y: [-1.13561, 1.41875, -0.107948],
      },
      {
        label: "hidden",
        x: [[0.0, 1.0]],
        K: [[0.7, 0.7], [1.6, -1.2], [-0.6, -1.3], [-0.1, 1.0], [0.0, 0.5]],
        V: [[-1.9, 0.1], [-0.9, 1.8], [0.9, 0.9], [-0.1, 0.6], [0.7, -0.3]],
        Wq: [[-0.4, -0.1], [-0.5, -0.5]],
        Wk: [[-0.2, -0.6], [0.6, -1.3]],
        Wv: [[0.7, -0.5], [-0.4, -1.1]],
        newKey: [0.6, -1.3],
        newValue: [-0.4, -1.1],
        y: [-0.0280372, 0.344129],
      },
    ] as DecodeCase[]).map((c) => ({
      label: "hidden",
      args: () => decodeArgs(c),
      verify: (actual: unknown) => verifyDecodeStep(actual, c),
    })),
    generationFlops: ([
      [[5, 3, 2, false], 528n],
      [[5, 3, 2, true], 240n],
      [[0, 7, 3, false], 1470n],
      [[0, 7, 3, true], 714n],
      [[100, 50, 16, false], 6852800n],
      [[100, 50, 16, true], 478400n],
    ] as [[number, number, number, boolean], bigint][]).map(([args, expected]) => ({
      label: "hidden",
      args: () => args,
      verify: (actual: unknown) => verifyGenerationFlops(actual, args, expected),
    })),
  } as unknown as Record<string, Case<never>[]>,
  // Expected values computed offline in float64 (Python) from the formulas in the exercise text.
  "04": {
    dotProductStd: ([[256, 1, 1, 16], [10, 0.5, 0.5, 0.790569415042095], [3, 4, 0.25, 1.73205080756888]] as const).map(
      ([d, sq, sk, std]) => ({
        label: "hidden",
        args: () => [d, sq, sk],
        verify: (actual: unknown) => expectNumber(actual, std, 1e-6),
      }),
    ),
    softmaxWithTemperature: [
      {
        logits: [0.5, -0.2, 1.3, 0.9, -1.1],
        tau: 0.7,
        expected: [0.156835915714, 0.0576967090283, 0.491792696361, 0.277724247906, 0.0159504309914],
      },
      { logits: [500, -500, 499.5], tau: 2, expected: [0.562176500886, 4.00526943464e-218, 0.437823499114] },
      { logits: [4, 4, 1], tau: 0, expected: [0.5, 0.5, 0] },
      { logits: [0.1, 0.2], tau: Infinity, expected: [0.5, 0.5] },
    ].map((c) => ({
      label: "hidden",
      args: () => [[...c.logits], c.tau],
      verify: (actual: unknown) => verifySoftmax(actual, c),
    })),
    rowEntropy: ([
      [[0.9, 0.05, 0.05], 0.394397691447443],
      [[0.2, 0.2, 0.2, 0.2, 0.2], 1.6094379124341],
      [[0, 0.3, 0.7], 0.610864302054894],
    ] as [number[], number][]).map(([w, h]) => ({
      label: "hidden",
      args: () => [[...w]],
      verify: (actual: unknown) => verifyEntropy(actual, w, h),
    })),
    softmaxJacobian: ([
      [[0.4, 0.6], [[0.24, -0.24], [-0.24, 0.24]]],
      [[0.05, 0.05, 0.85, 0.05], [
        [0.0475, -0.0025, -0.0425, -0.0025],
        [-0.0025, 0.0475, -0.0425, -0.0025],
        [-0.0425, -0.0425, 0.1275, -0.0425],
        [-0.0025, -0.0025, -0.0425, 0.0475],
      ]],
    ] as [number[], number[][]][]).map(([y, J]) => ({
      label: "hidden",
      args: () => [[...y]],
      verify: (actual: unknown) => verifyJacobian(actual, y, J),
    })),
    temperatureForMaxWeight: ([
      [[1, 0, 0], 0.6, 0.910239226627],
      [[0.5, 2.5, -1, 0.3, 1.8], 0.7, 0.653360304261],
      [[5, -5], 0.75, 9.10239226627],
    ] as [number[], number, number][]).map(([z, target, tau]) => ({
      label: "hidden",
      args: () => [[...z], target],
      verify: (actual: unknown) => verifyTemperature(actual, tau),
    })),
  } as unknown as Record<string, Case<never>[]>,
};
