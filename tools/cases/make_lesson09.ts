/**
 * Locked numbers of lesson 09's checks (lib/check/lesson09_cases.ts) and hidden cases
 * (tools/grading/hidden09_cases.ts), from the rules of solutions/09-long-range-arena.ipynb: choosing a kernel under
 * a latency and a memory budget (means over seeds), the accuracy a one-layer block window can reach on selective
 * copy, the entropy of a linear-attention row that dilutes its marked key, ListOps values by a recursive evaluator
 * written here (independent of datasets/listops.ts's stack machine), and the crossover length of a quadratic and a
 * linear cost model in exact integers.
 * @module
 */
import { caseFile, distinctWrong, type GeneratedFile, Inputs } from "./_gen.ts";

const GENERATOR = "tools/cases/make_lesson09.ts";
const ABOUT = "from the rules of solutions/09-long-range-arena.ipynb";

// ---------------------------------------------------------------- 1 · chooseKernel

interface Row {
  kernel: string;
  accuracies: number[];
  ms: number;
  mib: number;
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The most accurate (mean over seeds) kernel within both budgets, the faster on a tie; null when none fits. */
function choose(rows: Row[], maxMs: number, maxMiB: number, variant = ""): string | null {
  const fits = rows.filter((r) =>
    (variant === "ignoresLatency" || r.ms <= maxMs) && (variant === "ignoresMemory" || r.mib <= maxMiB)
  );
  if (fits.length === 0) return null;
  const score = (r: Row) =>
    variant === "bestSeed"
      ? Math.max(...r.accuracies)
      : variant === "oneSeed"
      ? r.accuracies[0]
      : variant === "fastestFit"
      ? -r.ms
      : mean(r.accuracies);
  return [...fits].sort((a, b) => score(b) - score(a) || a.ms - b.ms)[0].kernel;
}

function chooseCase(label: string, rows: Row[], maxMs: number, maxMiB: number, first: boolean) {
  const expected = choose(rows, maxMs, maxMiB);
  const variants = ["bestSeed", "oneSeed", "ignoresMemory", "ignoresLatency", "fastestFit"];
  const wrong = Object.fromEntries(variants.map((v) => [v, String(choose(rows, maxMs, maxMiB, v))]));
  return {
    label,
    rows,
    maxMs,
    maxMiB,
    expected,
    wrong: distinctWrong(`chooseKernel ${label}`, String(expected), wrong, first),
  };
}

// ---------------------------------------------------------------- 2 · reachAccuracy

/** Best accuracy of an L-layer block window on selective copy: the share of symbol positions seen, plus guesses. */
function reach(T: number, block: number, window: number, layers: number, values: number, variant = ""): number {
  const last = Math.floor((T - 1) / block); // the QUERY's block
  const L = variant === "oneLayer" ? 1 : layers;
  const first = Math.max(0, last - L * window);
  let seen = 0;
  for (let j = 0; j < T - 1; j++) {
    const inReach = variant === "windowInTokens" ? j >= T - 1 - L * window : Math.floor(j / block) >= first;
    if (inReach) seen++;
  }
  if (variant === "countsQuery") {
    const p = (seen + 1) / T;
    return p + (1 - p) / values;
  }
  const p = seen / (T - 1);
  return variant === "noGuess" ? p : p + (1 - p) / values;
}

function reachBoundCase(label: string, args: [number, number, number, number, number], first: boolean) {
  const expected = reach(...args);
  const names = ["noGuess", "oneLayer", "countsQuery", "windowInTokens"];
  const wrong = Object.fromEntries(names.map((v) => [v, reach(...args, v)]));
  return { label, args, expected, wrong: distinctNumbers(`reachAccuracy ${label}`, expected, wrong, first) };
}

/** Named wrong numbers that differ from the right one and from each other by more than 1e-6 relatively. */
function distinctNumbers(what: string, right: number, wrong: Record<string, number>, strict: boolean) {
  const key = (x: number) => x.toPrecision(7);
  const picked = distinctWrong(
    what,
    key(right),
    Object.fromEntries(Object.entries(wrong).map(([k, v]) => [k, key(v)])),
    strict,
  );
  return Object.fromEntries(Object.keys(picked).map((k) => [k, wrong[k]]));
}

// ---------------------------------------------------------------- 3 · linearEntropy

/** Entropy (nats) of a row whose marked key scores r times each of the n − 1 others, weights = ratios. */
function entropy(n: number, r: number, variant = ""): number {
  const w = variant === "softmaxWeights" ? Math.exp(r) / (Math.exp(r) + n - 1) : r / (r + n - 1);
  const other = (1 - w) / (n - 1);
  const log = variant === "bits" ? Math.log2 : Math.log;
  const marked = -w * log(w);
  const rest = -(n - 1) * other * log(other);
  return variant === "forgotMarked" ? rest : marked + rest;
}

function dilutionCase(label: string, n: number, r: number, first: boolean) {
  const expected = entropy(n, r);
  const wrong = Object.fromEntries(["bits", "softmaxWeights", "forgotMarked"].map((v) => [v, entropy(n, r, v)]));
  return { label, args: [n, r] as [number, number], expected, wrong: distinctNumbers(label, expected, wrong, first) };
}

// ---------------------------------------------------------------- 4 · evaluateListOps

/** A recursive evaluator (not the stack machine of datasets/listops.ts) with the named mistakes. */
function listops(tokens: string[], variant = ""): number {
  let i = 0;
  const node = (): number => {
    const t = tokens[i++];
    if (/^[0-9]$/.test(t)) return Number(t);
    const args: number[] = [];
    while (tokens[i] !== "]") args.push(node());
    i++; // "]"
    const sorted = [...args].sort((a, b) => a - b);
    const m = sorted.length >> 1;
    switch (t) {
      case "[MIN":
        return Math.min(...args);
      case "[MAX":
        return Math.max(...args);
      case "[SM": {
        const sum = args.reduce((a, b) => a + b, 0);
        return variant === "smNoMod" ? sum : sum % 10;
      }
      default: { // [MED
        const s = variant === "medNoSort" ? args : sorted;
        if (variant === "medMean") return Math.floor(mean(args));
        if (s.length % 2) return s[m];
        const mid = (s[m - 1] + s[m]) / 2;
        return variant === "medRound" ? Math.round(mid) : Math.floor(mid);
      }
    }
  };
  const v = node();
  if (i !== tokens.length) throw new Error(`listops: ${tokens.length - i} tokens left`);
  return v;
}

/** A random expression (LRA's rules, small): operator with probability `p` below depth `maxDepth`, 2–5 arguments. */
function drawExpression(src: Inputs, depth: number, maxDepth: number, p: number): string[] {
  if (depth >= maxDepth || src.uniform() >= p) return [String(Math.floor(src.uniform() * 10))];
  const op = ["[MIN", "[MAX", "[MED", "[SM"][Math.floor(src.uniform() * 4)];
  const count = 2 + Math.floor(src.uniform() * 4);
  const out = [op];
  for (let a = 0; a < count; a++) out.push(...drawExpression(src, depth + 1, maxDepth, p));
  return [...out, "]"];
}

const LISTOPS_MISTAKES = ["medRound", "medNoSort", "smNoMod", "medMean"];

function listopsCase(label: string, tokens: string[], first: boolean) {
  const expected = listops(tokens);
  const wrong = Object.fromEntries(LISTOPS_MISTAKES.map((v) => [v, String(listops(tokens, v))]));
  const picked = distinctWrong(`evaluateListOps ${label}`, String(expected), wrong, first);
  return {
    label,
    args: [tokens] as [string[]],
    expected: BigInt(expected),
    wrong: Object.fromEntries(Object.entries(picked).map(([k, v]) => [k, BigInt(v as string)])),
  };
}

/** The first seeded expression (from `seed`, `seed/1`, …) on which every named mistake gives its own value. */
function telling(seed: string): string[] {
  for (let s = 0; s < 10_000; s++) {
    const tokens = drawExpression(new Inputs(`${seed}/${s}`), 0, 4, 0.45);
    if (tokens.length < 12 || tokens.length > 40) continue;
    const values = [listops(tokens), ...LISTOPS_MISTAKES.map((v) => listops(tokens, v))];
    if (new Set(values).size === values.length) return tokens;
  }
  throw new Error(`no expression from ${seed} tells every ListOps mistake apart`);
}

// ---------------------------------------------------------------- 5 · crossoverLength

/** The smallest integer T ≥ 1 with γT < αT² + βT (exact: α, β, γ are integers, in µs). */
function crossover(alpha: number, beta: number, gamma: number, variant = ""): bigint {
  const [a, b, g] = [BigInt(alpha), BigInt(beta), BigInt(gamma)];
  if (variant === "alwaysFaster" || g < b) return 1n;
  if (variant === "noLinearTerm") return g / a + 1n; // γT < αT²  ⇔  T > γ/α
  if (variant === "notStrict") return (g - b + a - 1n) / a; // ⌈(γ − β)/α⌉: equal cost, not cheaper
  return (g - b) / a + 1n; // T > (γ − β)/α
}

function lengthCrossoverCase(label: string, args: [number, number, number], first: boolean) {
  const expected = crossover(...args);
  const wrong = Object.fromEntries(
    ["alwaysFaster", "noLinearTerm", "notStrict"].map((v) => [v, String(crossover(...args, v))]),
  );
  const picked = distinctWrong(`crossoverLength ${label}`, String(expected), wrong, first);
  return {
    args,
    expected,
    wrong: Object.fromEntries(Object.entries(picked).map(([k, v]) => [k, BigInt(v as string)])),
  };
}

// ---------------------------------------------------------------- the files

/** The generated files of lesson 09. */
export function files(): GeneratedFile[] {
  // Measured in the lesson's quick run (native backend, T = 64, 3 seeds; accuracies per seed, ms per training step,
  // peak MiB of a step), rounded: realistic numbers, locked here so the exercise does not depend on a machine.
  const measured: Row[] = [
    { kernel: "softmax", accuracies: [0.98, 0.77, 0.9], ms: 16.4, mib: 39.5 },
    { kernel: "flash", accuracies: [0.99, 0.52, 0.93], ms: 17.1, mib: 42 },
    { kernel: "linformer", accuracies: [0.14, 0.13, 0.15], ms: 13.4, mib: 34.3 },
    { kernel: "elu+1", accuracies: [0.97, 0.99, 0.97], ms: 15.4, mib: 38.7 },
    { kernel: "favor+", accuracies: [0.99, 0.32, 0.9], ms: 49.3, mib: 57.8 },
    { kernel: "window", accuracies: [0.3, 0.21, 0.28], ms: 24.3, mib: 42.7 },
    { kernel: "bigbird", accuracies: [0.54, 0.54, 0.54], ms: 28.5, mib: 47.9 },
    { kernel: "clustered", accuracies: [0.9, 0.61, 0.74], ms: 34.3, mib: 47.2 },
    { kernel: "synthesizer", accuracies: [0.13, 0.14, 0.12], ms: 24, mib: 44.4 },
  ];
  const pick = (names: string[]) => measured.filter((r) => names.includes(r.kernel));
  const chooser = [
    chooseCase(
      "a tight latency budget: 20 ms, 39 MiB",
      [
        { kernel: "A", accuracies: [0.95, 0.5, 0.55], ms: 10, mib: 30 },
        { kernel: "B", accuracies: [0.7, 0.72, 0.71], ms: 18, mib: 35 },
        { kernel: "C", accuracies: [0.8, 0.82, 0.81], ms: 19, mib: 60 },
        { kernel: "D", accuracies: [0.9, 0.9, 0.9], ms: 40, mib: 20 },
        { kernel: "E", accuracies: [0.3, 0.3, 0.3], ms: 5, mib: 10 },
        { kernel: "F", accuracies: [0.5, 0.97, 0.5], ms: 12, mib: 25 },
      ],
      20,
      39,
      true,
    ),
    chooseCase("the lesson's run: 30 ms, 45 MiB", measured, 30, 45, false),
    chooseCase("the lesson's run: 16 ms, 40 MiB", measured, 16, 40, false),
    chooseCase("nothing fits: 10 ms", pick(["softmax", "window"]), 10, 100, false),
  ];
  const hiddenChooser = [
    chooseCase("hidden: 50 ms, 48 MiB", measured, 50, 48, false),
    chooseCase("hidden: 25 ms, 43 MiB", measured, 25, 43, false),
  ];

  const reaches = [
    reachBoundCase("T=64, blocks of 8, w=1, 2 layers, 8 symbols", [64, 8, 1, 2, 8], true),
    reachBoundCase("T=64, blocks of 8, w=1, 1 layer (the lesson's window)", [64, 8, 1, 1, 8], false),
    reachBoundCase("T=256, blocks of 16, w=2, 1 layer, 4 symbols", [256, 16, 2, 1, 4], false),
    reachBoundCase("T=32, blocks of 8, w=1, 4 layers (sees everything)", [32, 8, 1, 4, 8], false),
  ];
  const hiddenReaches = [reachBoundCase("hidden", [128, 8, 2, 2, 10], false)];

  const entropies = [
    dilutionCase("n=63, r=20", 63, 20, true),
    dilutionCase("n=255, r=20 (four times longer)", 255, 20, false),
    dilutionCase("n=8, r=1 (uniform)", 8, 1, false),
  ];
  const hiddenEntropies = [dilutionCase("hidden", 511, 50, false)];

  const expressions = [
    listopsCase("an expression that tells every mistake apart", telling("09.listops.a"), true),
    listopsCase("a bare digit", ["7"], false),
    listopsCase("[MED 1 2 7 9 ]: an even count", ["[MED", "1", "2", "7", "9", "]"], false),
    listopsCase("[SM 9 8 7 ]", ["[SM", "9", "8", "7", "]"], false),
    listopsCase("another seeded expression", telling("09.listops.b"), false),
  ];
  const hiddenExpressions = [
    listopsCase("hidden", telling("09.listops.hidden"), false),
    listopsCase("hidden: [MED 9 0 4 ]", ["[MED", "9", "0", "4", "]"], false),
  ];

  const crossovers = [
    lengthCrossoverCase("α=3, β=5, γ=50 (an exact tie at T=15)", [3, 5, 50], true),
    lengthCrossoverCase("α=2, β=40, γ=1000", [2, 40, 1000], false),
    lengthCrossoverCase("γ < β: always faster", [1, 30, 20], false),
  ];
  const hiddenCrossovers = [lengthCrossoverCase("hidden", [7, 11, 400], false)];

  const imports = (from: string) => [
    `import type {`,
    `  ChooseCase,`,
    `  LengthCrossoverCase,`,
    `  DilutionCase,`,
    `  ListOpsCase,`,
    `  ReachBoundCase,`,
    `} from "${from}lesson09.ts";`,
  ];
  const visible = caseFile(GENERATOR, ABOUT, imports("./"), [
    {
      doc: "chooseKernel: the most accurate kernel (mean over seeds) within both budgets; null when none fits.",
      name: "CHOOSE_CASES",
      type: "ChooseCase[]",
      value: chooser,
    },
    {
      doc:
        "reachAccuracy: share p of the T − 1 symbol positions the last block sees after L layers, p + (1 − p)/values.",
      name: "REACH_CASES",
      type: "ReachBoundCase[]",
      value: reaches,
    },
    {
      doc: "linearEntropy: w = r/(r + n − 1) on the marked key, (1 − w)/(n − 1) on each other; entropy in nats.",
      name: "ENTROPY_CASES",
      type: "DilutionCase[]",
      value: entropies,
    },
    {
      doc: "evaluateListOps: values by a recursive evaluator (MED rounds down, SM is the sum mod 10).",
      name: "LISTOPS_CASES",
      type: "ListOpsCase[]",
      value: expressions,
    },
    {
      doc: "crossoverLength: the smallest integer T with γT < αT² + βT.",
      name: "CROSSOVER_CASES",
      type: "LengthCrossoverCase[]",
      value: crossovers,
    },
  ]);
  const hidden = caseFile(GENERATOR, ABOUT, imports("../../lib/check/"), [
    { doc: "Hidden cases of chooseKernel.", name: "HIDDEN_CHOOSE_CASES", type: "ChooseCase[]", value: hiddenChooser },
    {
      doc: "Hidden cases of reachAccuracy.",
      name: "HIDDEN_REACH_CASES",
      type: "ReachBoundCase[]",
      value: hiddenReaches,
    },
    {
      doc: "Hidden cases of linearEntropy.",
      name: "HIDDEN_ENTROPY_CASES",
      type: "DilutionCase[]",
      value: hiddenEntropies,
    },
    {
      doc: "Hidden cases of evaluateListOps.",
      name: "HIDDEN_LISTOPS_CASES",
      type: "ListOpsCase[]",
      value: hiddenExpressions,
    },
    {
      doc: "Hidden cases of crossoverLength.",
      name: "HIDDEN_CROSSOVER_CASES",
      type: "LengthCrossoverCase[]",
      value: hiddenCrossovers,
    },
  ]);
  return [
    { path: "lib/check/lesson09_cases.ts", text: visible },
    { path: "tools/grading/hidden09_cases.ts", text: hidden },
  ];
}
