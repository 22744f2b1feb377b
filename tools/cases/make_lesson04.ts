/**
 * Locked numbers of lesson 04's checks (lib/check/lesson04_cases.ts) and hidden cases
 * (tools/grading/hidden04_cases.ts), from the formulas of solutions/04-scaling.ipynb, in Float64: softmax with
 * temperature (and its τ → 0, τ → ∞ limits), entropies in nats, Jacobians diag(y) − y yᵀ, and temperatures by
 * bisection on log τ of the largest weight 1/Σ_k exp((z_k − z_max)/τ).
 * @module
 */
import { caseFile, distinctWrong, type GeneratedFile, sigNum } from "./_gen.ts";

const GENERATOR = "tools/cases/make_lesson04.ts";
const ABOUT = "from the formulas of solutions/04-scaling.ipynb";
const vec = (v: number[], digits = 12) => v.map((x) => sigNum(x, digits));

// ---------------------------------------------------------------- 1 · dotProductStd

function stdCase(args: [number, number, number], first: boolean, degenerate = false) {
  const [d, sq, sk] = args;
  const expected = sigNum(Math.sqrt(d) * sq * sk, 15);
  const wrong = {
    variance: d * sq * sq * sk * sk,
    noSqrtOnD: d * sq * sk,
    variancesNotStds: Math.sqrt(d) * sq * sq * sk * sk,
    sigmasIgnored: Math.sqrt(d),
    inverseScale: 1 / Math.sqrt(d),
    sigmasAdded: Math.sqrt(d) * (sq + sk),
    rootOfAll: Math.sqrt(d * sq * sk),
  };
  const rounded = Object.fromEntries(Object.entries(wrong).map(([k, v]) => [k, sigNum(v, 15)]));
  const what = `dotProductStd(${args})`;
  return { args, expected, ...(degenerate ? {} : { wrong: distinctWrong(what, expected, rounded, first) }) };
}

// ---------------------------------------------------------------- 2 · softmaxWithTemperature

/** softmax(z/τ) in Float64, with the τ → 0 (split among ties) and τ → ∞ (uniform) limits. */
function softmaxT(z: number[], tau: number): number[] {
  if (tau === 0) {
    const top = Math.max(...z), ties = z.filter((x) => x === top).length;
    return z.map((x) => (x === top ? 1 / ties : 0));
  }
  if (tau === Infinity) return z.map(() => 1 / z.length);
  const s = z.map((x) => x / tau), top = Math.max(...s);
  const e = s.map((x) => Math.exp(x - top)), sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

function softmaxCase(logits: number[], tau: number) {
  const expected = softmaxT(logits, tau);
  const differs = (v: number[]) => v.some((x, i) => Math.abs(x - expected[i]) > 1e-6);
  const multiplied = tau > 0 && tau < Infinity ? softmaxT(logits.map((z) => z * tau), 1) : undefined;
  const ignored = softmaxT(logits, 1);
  return {
    logits,
    tau,
    expected: vec(expected),
    multiplied: multiplied && differs(multiplied) ? vec(multiplied) : undefined,
    ignored: tau > 0 && tau < Infinity && differs(ignored) ? vec(ignored) : undefined,
  };
}

// ---------------------------------------------------------------- 3 · rowEntropy

function entropyCase(weights: number[]) {
  const h = (w: number[]) => -w.reduce((s, p) => s + (p > 0 ? p * Math.log(p) : 0), 0);
  const firstZero = weights.indexOf(0);
  const stops = firstZero >= 0 && weights.slice(firstZero).some((p) => p > 0);
  return {
    weights,
    expected: sigNum(h(weights), 15),
    // `return` (or `break`) at the first zero weight instead of skipping it: the entropy of the part before it.
    stoppedAtZero: stops ? sigNum(h(weights.slice(0, firstZero)), 15) : undefined,
    unweighted: sigNum(-weights.filter((p) => p > 0).reduce((s, p) => s + Math.log(p), 0), 15),
  };
}

// ---------------------------------------------------------------- 4 · softmaxJacobian

function jacobianCase(y: number[]) {
  return { y, J: y.map((yi, i) => y.map((yj, j) => sigNum((i === j ? yi : 0) - yi * yj, 12))) };
}

// ---------------------------------------------------------------- 5 · temperatureForMaxWeight

/** τ with max softmax(z/τ) = target, by bisection on log τ (the largest weight falls as τ grows). */
function temperature(z: number[], target: number): number {
  const top = Math.max(...z);
  const largest = (tau: number) => 1 / z.reduce((s, x) => s + Math.exp((x - top) / tau), 0);
  let [lo, hi] = [Math.log(1e-12), Math.log(1e12)];
  for (let i = 0; i < 300; i++) {
    const mid = (lo + hi) / 2;
    if (largest(Math.exp(mid)) > target) lo = mid;
    else hi = mid;
  }
  return Math.exp((lo + hi) / 2);
}

function temperatureCase(logits: number[], target: number) {
  return { logits, target, tau: sigNum(temperature(logits, target), 12) };
}

// ---------------------------------------------------------------- files

export function files(): GeneratedFile[] {
  const z = [2, 1, 0.5, -1];
  const visible = caseFile(GENERATOR, ABOUT, [
    'import type { NumberCase } from "./compare.ts";',
    "import type {",
    "  EntropyCase,",
    "  JacobianCase,",
    "  SoftmaxCase,",
    "  StdArgs,",
    "  StdMistake,",
    "  TemperatureCase,",
    '} from "./lesson04.ts";',
  ], [
    {
      doc: "dotProductStd(d, σ_q, σ_k): √d·σ_q·σ_k; `wrong`: the values of known mistakes (15 significant digits).",
      name: "STD_CASES",
      type: "NumberCase<StdMistake, StdArgs>[]",
      value: [
        stdCase([16, 2, 1.5], true),
        stdCase([9, 2, 3], false),
        stdCase([100, 0.1, 3], false),
        stdCase([128, 1, 1], false),
        stdCase([64, 1, 1], false),
        stdCase([1, 1, 1], false, true),
      ],
    },
    {
      doc: "softmaxWithTemperature(logits, τ): softmax(z/τ) and its limits (12 significant digits); multiplied:\n" +
        "softmax(z·τ); ignored: softmax(z) — each only where it differs from the right answer.",
      name: "SOFTMAX_CASES",
      type: "SoftmaxCase[]",
      value: [
        softmaxCase(z, 0.5),
        softmaxCase(z, 4),
        softmaxCase(z, 1),
        softmaxCase([1000, 999, 998, 990], 1),
        softmaxCase([-1000, -1001, -1002], 1),
        softmaxCase([3, -2, 0.7, 1.5, 3.2], 1e-3),
        softmaxCase([0.3, 1.7, -0.4], 0),
        softmaxCase([1, 2, 2, 0], 0),
        softmaxCase([1.5, -0.5, 0.25], Infinity),
      ],
    },
    {
      doc: "rowEntropy(weights): −Σ p ln p over p > 0, in nats. stoppedAtZero: the entropy of the weights before\n" +
        "the first zero (where a positive weight follows it); unweighted: −Σ ln p.",
      name: "ENTROPY_CASES",
      type: "EntropyCase[]",
      value: [
        entropyCase([0.7, 0.2, 0.1]),
        entropyCase([0.25, 0.25, 0.25, 0.25]),
        entropyCase([0.5, 0, 0.3, 0.2]),
        entropyCase([0.05, 0.15, 0.6, 0.2]),
        entropyCase([0.5, 0.5, 0, 0]),
        entropyCase([1, 0, 0]),
        entropyCase([1]),
      ],
    },
    {
      doc: "softmaxJacobian(y): J = diag(y) − y yᵀ (12 significant digits).",
      name: "JACOBIAN_CASES",
      type: "JacobianCase[]",
      value: [
        jacobianCase([0.5, 0.3, 0.2]),
        jacobianCase([0.25, 0.25, 0.25, 0.25]),
        jacobianCase([0.1, 0.6, 0.3]),
        jacobianCase([0.998, 0.001, 0.001]),
        jacobianCase([1]),
      ],
    },
    {
      doc: "temperatureForMaxWeight(logits, target): τ with max softmax(z/τ) = target, by bisection on log τ in\n" +
        "Float64 (12 significant digits). The answers span τ ≈ 0.005 … 35, outside any small fixed bracket.",
      name: "TEMPERATURE_CASES",
      type: "TemperatureCase[]",
      value: [
        temperatureCase(z, 0.5),
        temperatureCase(z, 0.9),
        temperatureCase(z, 0.999),
        temperatureCase(z, 0.26),
        temperatureCase([1, 0.99, 0, -1], 0.9),
        temperatureCase([3, 2.5, 0, -1, -2], 0.4),
        temperatureCase([0.8, -0.3, 1.9, 0.1, -1.2, 0.4, 1.1, -0.7], 0.25),
      ],
    },
  ]);
  const hidden = caseFile(GENERATOR, ABOUT, [
    'import type { NumberCase } from "../../lib/check/compare.ts";',
    "import type {",
    "  EntropyCase,",
    "  JacobianCase,",
    "  SoftmaxCase,",
    "  StdArgs,",
    "  TemperatureCase,",
    '} from "../../lib/check/lesson04.ts";',
  ], [
    {
      doc: "Hidden cases of dotProductStd (graded by deno task grade only).",
      name: "HIDDEN_STD_CASES",
      type: "NumberCase<never, StdArgs>[]",
      value: ([[256, 1, 1], [10, 0.5, 0.5], [3, 4, 0.25]] as [number, number, number][]).map((a) => {
        const { wrong: _, ...c } = stdCase(a, false, true);
        return c;
      }),
    },
    {
      doc: "Hidden cases of softmaxWithTemperature.",
      name: "HIDDEN_SOFTMAX_CASES",
      type: "SoftmaxCase[]",
      value: [
        softmaxCase([0.5, -0.2, 1.3, 0.9, -1.1], 0.7),
        softmaxCase([500, -500, 499.5], 2),
        softmaxCase([4, 4, 1], 0),
        softmaxCase([0.1, 0.2], Infinity),
      ].map(({ logits, tau, expected }) => ({ logits, tau, expected })),
    },
    {
      doc: "Hidden cases of rowEntropy.",
      name: "HIDDEN_ENTROPY_CASES",
      type: "EntropyCase[]",
      value: [[0.9, 0.05, 0.05], [0.2, 0.2, 0.2, 0.2, 0.2], [0, 0.3, 0.7]].map((w) => {
        const { weights, expected } = entropyCase(w);
        return { weights, expected };
      }),
    },
    {
      doc: "Hidden cases of softmaxJacobian.",
      name: "HIDDEN_JACOBIAN_CASES",
      type: "JacobianCase[]",
      value: [jacobianCase([0.4, 0.6]), jacobianCase([0.05, 0.05, 0.85, 0.05])],
    },
    {
      doc: "Hidden cases of temperatureForMaxWeight.",
      name: "HIDDEN_TEMPERATURE_CASES",
      type: "TemperatureCase[]",
      value: [
        temperatureCase([1, 0, 0], 0.6),
        temperatureCase([0.5, 2.5, -1, 0.3, 1.8], 0.7),
        temperatureCase([5, -5], 0.75),
      ],
    },
  ]);
  return [
    { path: "lib/check/lesson04_cases.ts", text: visible },
    { path: "tools/grading/hidden04_cases.ts", text: hidden },
  ];
}
