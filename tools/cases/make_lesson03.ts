/**
 * Locked numbers of lesson 03's checks (lib/check/lesson03_cases.ts) and hidden cases
 * (tools/grading/hidden03_cases.ts), from the formulas of solutions/03-the-attention-matrix.ipynb: mask
 * patterns from the rule j ≤ S − T + i, byte budgets and FLOP counts in exact bigint arithmetic, decode steps
 * in Float64 plain loops. The FLOP table includes cases whose count a float64 computation gets wrong (past
 * 2^53), which this generator asserts.
 * @module
 */
import {
  assertDivisorsDistinct,
  caseFile,
  distinctWrong,
  type GeneratedFile,
  Inputs,
  isqrt,
  matmul,
  type Matrix,
  scale,
  sig,
  softmaxRows,
  transpose,
} from "./_gen.ts";

const GENERATOR = "tools/cases/make_lesson03.ts";
const ABOUT = "from the formulas of solutions/03-the-attention-matrix.ipynb";

// ---------------------------------------------------------------- 1 · causalMask

/** One row per query, "0" = keep (add 0), "-" = drop (add −∞): query i is token S − T + i. */
function maskCase(T: number, S: number) {
  const rows = Array.from(
    { length: T },
    (_, i) => Array.from({ length: S }, (_, j) => (j <= S - T + i ? "0" : "-")).join(""),
  );
  return { T, S, rows };
}

// ---------------------------------------------------------------- 2 · maxContext

/** The largest T with heads·bytes·T² ≤ budget, and the answers of known mistakes. */
function memoryCase(args: [number, number, number], first: boolean, degenerate = false) {
  const [B, h, b] = args.map(BigInt);
  const D = h * b;
  const expected = isqrt(B / D); // T² ≤ B/D ⇔ T² ≤ ⌊B/D⌋ for whole T
  const up = (num: bigint, den: bigint) => {
    const t = isqrt(num / den);
    return t * t * den >= num ? t : t + 1n;
  };
  const wrong: Record<string, bigint> = {
    elements: isqrt(B / h),
    roundedUp: up(B, D),
    causalHalves: isqrt((2n * B) / D),
    linear: B / D,
    ...(h > 1n ? { headsIgnored: isqrt(B / b) } : {}),
    ...(D * expected * expected === B ? { exactFitExcluded: expected - 1n } : {}),
  };
  const what = `maxContext(${args})`;
  return { args, expected, ...(degenerate ? {} : { wrong: distinctWrong(what, expected, wrong, first) }) };
}

// ---------------------------------------------------------------- 3 · decodeStep

function decodeCase(label: string, x: Matrix, K: Matrix, V: Matrix, Wq: Matrix, Wk: Matrix, Wv: Matrix) {
  const d = x[0].length, n = K.length;
  const q = matmul(x, Wq), k = matmul(x, Wk), v = matmul(x, Wv);
  const K2 = [...K, ...k], V2 = [...V, ...v];
  const attend = (keys: Matrix, values: Matrix, factor: number) =>
    matmul(softmaxRows(scale(matmul(q, transpose(keys)), factor)), values);
  const weights = softmaxRows(scale(matmul(q, transpose(K2)), 1 / Math.sqrt(d)));
  const divisors: [string, number][] = [
    ["1 (no scaling)", 1],
    ["d", d],
    ["√(n + 1)", Math.sqrt(n + 1)],
    ["n + 1", n + 1],
  ];
  const seen = new Set([Math.sqrt(d).toPrecision(12)]);
  return {
    label,
    x,
    K,
    V,
    Wq,
    Wk,
    Wv,
    newKey: sig(k)[0],
    newValue: sig(v)[0],
    y: sig(attend(K2, V2, 1 / Math.sqrt(d)))[0],
    withoutSelf: n > 0 ? sig(attend(K, V, 1 / Math.sqrt(d)))[0] : null,
    weights: n + 1 === d ? sig(weights)[0] : undefined, // the weights pass y's shape [1, d] only where n + 1 = d
    wrongScale: n > 0
      ? divisors.filter(([, v]) => !seen.has(v.toPrecision(12)) && seen.add(v.toPrecision(12))).map((
        [divisor, value],
      ) => ({ divisor, value, y: sig(attend(K2, V2, 1 / value))[0] }))
      : undefined,
  };
}

// ---------------------------------------------------------------- 4 · generationFlops

type FlopArgs = [number, number, number, boolean];

/** FLOPs of N one-token steps after a P-token prompt, and the counts of known mistakes. */
function flopCase(args: FlopArgs, first: boolean, degenerate = false) {
  const [P, N, d, cached] = args;
  const [p, n, dd] = [BigInt(P), BigInt(N), BigInt(d)];
  const s = n * p + (n * (n + 1n)) / 2n; // Σ_{t=1..N} (P + t): the keys the N steps attend over
  // The count as a function of that sum (the mistakes below put a wrong sum in).
  const uncached = (sum: bigint) => 2n * n * dd * dd + (4n * dd * dd + 4n * dd) * sum;
  const withCache = (sum: bigint) => 6n * n * dd * dd + 4n * dd * sum;
  const count = cached ? withCache : uncached;
  const expected = count(s);
  const wrong: Record<string, bigint> = {
    multiplyAddAsOne: expected / 2n,
    otherMode: cached ? uncached(s) : withCache(s),
    squareSum: count(n * p + n * n),
    halfSquareSum: count(n * p + (n * n) / 2n),
    noPrompt: count((n * (n + 1n)) / 2n),
    offByOne: count(n * p + (n * (n - 1n)) / 2n),
    ...(cached
      ? { projectionsOnly: 6n * n * dd * dd, prefillCounted: withCache(s) + 4n * p * dd * dd }
      : { everyQuery: 6n * dd * dd * s + 4n * dd * s, noAttention: 2n * n * dd * dd + 4n * dd * dd * s }),
  };
  const what = `generationFlops(${args})`;
  return { args, expected, ...(degenerate ? {} : { wrong: distinctWrong(what, expected, wrong, first) }) };
}

/** The same counts as a student computing in float64 would get them (then BigInt(…) of the result). */
function floatFlops([P, N, d, cached]: FlopArgs): bigint {
  const s = N * P + (N * (N + 1)) / 2;
  return BigInt(cached ? 6 * N * d * d + 4 * d * s : 2 * N * d * d + 4 * d * d * s + 4 * d * s);
}

// ---------------------------------------------------------------- files

export function files(): GeneratedFile[] {
  const r = new Inputs("03.decodeStep");
  const decode = [
    // First: n + 1 ≠ d, so returning the weights as y shows as a wrong shape; d, √(n + 1), n + 1 and √d differ.
    decodeCase(
      "n=4 cached tokens, d=3",
      r.matrix(1, 3),
      r.matrix(4, 3),
      r.matrix(4, 3),
      r.matrix(3, 3),
      r.matrix(3, 3),
      r.matrix(3, 3),
    ),
    decodeCase(
      "n=4 cached tokens, d=4",
      [[-0.8, -1.3, -0.2, 0.4]],
      [[1.1, 0.1, -0.6, -0.8], [0.7, 1.6, 0.3, -1.2], [-1.0, 1.6, 0.2, -1.7], [-0.1, -1.2, -0.6, -0.5]],
      [[-0.7, 0.6, -0.1, -0.6], [0.4, 0.8, -1.6, -0.3], [-1.0, -0.2, -1.3, 0.0], [0.0, -0.3, -1.0, -0.4]],
      [[-0.9, -1.1, 0.2, -0.9], [0.9, 0.6, -1.6, 0.2], [-0.9, 0.0, 0.0, -1.6], [-0.2, -0.2, 0.8, -0.9]],
      [[0.6, -0.9, -0.3, -0.7], [1.2, 0.5, 1.9, 0.5], [0.7, 0.7, -0.5, -0.1], [1.1, -0.3, 0.2, 0.0]],
      [[0.5, -0.3, -0.1, 0.2], [0.1, -0.7, 0.7, -1.0], [-1.0, -1.0, 0.8, -0.3], [-0.8, -0.9, 0.3, -0.8]],
    ),
    decodeCase(
      "n=3 cached tokens, d=3",
      [[-0.7, -0.2, 1.7]],
      [[0.7, -1.6, 0.0], [-0.6, 0.1, -1.6], [0.2, 0.2, 1.6]],
      [[0.3, 0.5, -1.5], [2.3, -1.9, 1.1], [-0.3, -0.9, -0.7]],
      [[-0.5, 0.3, -0.1], [1.2, -1.5, 0.0], [-0.7, 0.6, -1.7]],
      [[-0.3, 0.2, -1.2], [0.8, 0.1, 0.8], [0.8, -0.8, -0.6]],
      [[-0.2, 0.6, 0.7], [-0.6, -0.5, -0.6], [-0.5, -0.2, -0.1]],
    ),
    decodeCase(
      "n=1 cached token, d=2",
      [[-1.4, -1.2]],
      [[-1.3, -0.6]],
      [[1.4, -1.6]],
      [[0.8, 1.0], [-0.3, -0.6]],
      [[0.4, 1.0], [1.7, 0.7]],
      [[1.3, -0.4], [-0.7, -1.4]],
    ),
    decodeCase(
      "n=0 (empty cache: the first token), d=3",
      [[1.1, 1.8, -2.6]],
      [],
      [],
      [[-0.1, 0.8, 1.1], [0.5, 1.2, 0.2], [0.4, 0.1, -0.9]],
      [[-0.7, 0.3, -0.5], [1.0, 1.0, 1.4], [0.0, 1.1, -0.7]],
      [[-0.7, 0.1, 0.2], [-1.3, -1.4, 0.3], [-0.7, 1.0, 0.3]],
    ),
  ];

  assertDivisorsDistinct("decodeStep", { "√d": Math.sqrt(3), d: 3, "√(n + 1)": Math.sqrt(5), "n + 1": 5, one: 1 });
  const GiB = 2 ** 30;
  const memory = [
    memoryCase([80e9, 96, 4], true),
    memoryCase([16 * GiB, 1, 4], false),
    memoryCase([16 * GiB - 1, 1, 4], false),
    memoryCase([1000, 1, 4], false),
    memoryCase([80e9, 96, 2], false),
    memoryCase([24 * GiB, 12, 4], false),
    memoryCase([3, 1, 4], false, true),
  ];

  const flopArgs: FlopArgs[] = [
    [5, 4, 3, false],
    [5, 4, 3, true],
    [0, 4, 2, false],
    [0, 4, 2, true],
    [1000, 100, 512, false],
    [1000, 100, 512, true],
    [2048, 8192, 12288, false],
    [2048, 8192, 12288, true],
    // Past 2^53: a count computed in float64 and converted at the end comes out wrong here.
    [2049, 8191, 12289, false],
    [2049, 8191, 12289, true],
  ];
  const flops = [
    ...flopArgs.map((a, i) => flopCase(a, i < 2)),
    flopCase([0, 1, 1, false], false, true),
    flopCase([0, 1, 1, true], false, true),
  ];
  const roundsWrong = flops.filter((c) => floatFlops(c.args as FlopArgs) !== c.expected);
  if (!roundsWrong.some((c) => c.args[0] === 2049)) {
    throw new Error("generationFlops: no case where a float64 count rounds wrong; pick larger sizes");
  }

  const visible = caseFile(GENERATOR, ABOUT, [
    'import type { CountCase } from "./compare.ts";',
    'import type { DecodeCase, FlopArgs, FlopMistake, MaskCase, MemoryArgs, MemoryMistake } from "./lesson03.ts";',
  ], [
    {
      doc: 'causalMask(T, S): one string per query row, "0" = keep (add 0), "-" = drop (add −∞); query i is token\n' +
        "S − T + i and sees keys j ≤ S − T + i.",
      name: "MASK_CASES",
      type: "MaskCase[]",
      value: [maskCase(3, 6), maskCase(2, 5), maskCase(4, 4), maskCase(1, 4), maskCase(1, 1)],
    },
    {
      doc: "maxContext(budget, heads, bytes): the largest T with heads·bytes·T² ≤ budget (exact integer square root).",
      name: "MEMORY_CASES",
      type: "CountCase<MemoryMistake, MemoryArgs>[]",
      value: memory,
    },
    {
      doc: "decodeStep(x, [K, V], [Wq, Wk, Wv]): the new key x·W_K and value x·W_V, and y = softmax(q·K'ᵀ/√d)·V'\n" +
        "over the grown cache (Float64, 9 significant digits); withoutSelf: y over the old cache only;\n" +
        "weights: the weights themselves where they have y's shape; wrongScale: y with another divisor.",
      name: "DECODE_CASES",
      type: "DecodeCase[]",
      value: decode,
    },
    {
      doc: "generationFlops(P, N, d, cached): 2Nd² + (4d² + 4d)·s without a cache, 6Nd² + 4d·s with one,\n" +
        "s = Σ_{t=1..N} (P + t) = NP + N(N+1)/2; a float64 computation of the uncached count at P=2049 is wrong.",
      name: "FLOP_CASES",
      type: "CountCase<FlopMistake, FlopArgs>[]",
      value: flops,
    },
  ]);

  const strip = <C extends { wrong?: unknown }>({ wrong: _, ...c }: C) => c;
  const h = new Inputs("hidden.03");
  const hidden = caseFile(GENERATOR, ABOUT, [
    'import type { CountCase } from "../../lib/check/compare.ts";',
    'import type { DecodeCase, FlopArgs, MaskCase, MemoryArgs } from "../../lib/check/lesson03.ts";',
  ], [
    {
      doc: "Hidden cases of causalMask (graded by deno task grade only).",
      name: "HIDDEN_MASK_CASES",
      type: "MaskCase[]",
      value: [maskCase(1, 3), maskCase(5, 5), maskCase(3, 8)],
    },
    {
      doc: "Hidden cases of maxContext.",
      name: "HIDDEN_MEMORY_CASES",
      type: "CountCase<never, MemoryArgs>[]",
      value: ([[8 * GiB, 1, 2], [2 ** 20, 4, 4], [196e6, 49, 4], [196e6 - 1, 49, 4]] as [number, number, number][])
        .map((a) => strip(memoryCase(a, false))),
    },
    {
      doc: "Hidden cases of decodeStep.",
      name: "HIDDEN_DECODE_CASES",
      type: "DecodeCase[]",
      value: [
        decodeCase(
          "hidden",
          [[0.0, 1.4, 1.2]],
          [[-0.5, -0.3, -0.5], [0.6, -0.1, 0.7]],
          [[-1.8, 1.6, -0.1], [
            0.7,
            -0.1,
            -0.4,
          ]],
          h.matrix(3, 3),
          h.matrix(3, 3),
          h.matrix(3, 3),
        ),
        decodeCase(
          "hidden",
          [[0.0, 1.0]],
          h.matrix(5, 2),
          h.matrix(5, 2),
          h.matrix(2, 2),
          h.matrix(2, 2),
          h.matrix(2, 2),
        ),
      ].map(({ label, x, K, V, Wq, Wk, Wv, newKey, newValue, y }) => ({
        label,
        x,
        K,
        V,
        Wq,
        Wk,
        Wv,
        newKey,
        newValue,
        y,
      })),
    },
    {
      doc: "Hidden cases of generationFlops.",
      name: "HIDDEN_FLOP_CASES",
      type: "CountCase<never, FlopArgs>[]",
      value: ([
        [5, 3, 2, false],
        [5, 3, 2, true],
        [0, 7, 3, false],
        [0, 7, 3, true],
        [100, 50, 16, false],
        [100, 50, 16, true],
      ] as FlopArgs[]).map((a) => strip(flopCase(a, false))),
    },
  ]);
  return [
    { path: "lib/check/lesson03_cases.ts", text: visible },
    { path: "tools/grading/hidden03_cases.ts", text: hidden },
  ];
}
