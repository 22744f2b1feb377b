import { assert } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { assertCausePhrasing, expectDiagnosis, expectPass, runHidden } from "./_testing.ts";
import { type KernelRow, lesson09Exercises as ex } from "./lesson09.ts";
import { hidden09 } from "../../tools/grading/hidden.ts";

// Reference answers live only in this test (lib/ tests are not part of the student bundle).

await initBackend({ backend: "wasm", print: false });

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

type ChooseArgs = [string[], number[][], number[], number[], number, number];
const rowsOf = (k: string[], acc: number[][], ms: number[], mib: number[]): KernelRow[] =>
  k.map((kernel, i) => ({ kernel, accuracies: acc[i], ms: ms[i], mib: mib[i] }));

/** The most accurate kernel (mean over seeds) within both budgets; `bug` plants a named mistake. */
function choose(...[k, acc, ms, mib, maxMs, maxMiB, bug]: [...ChooseArgs, string?]): string | null {
  const rows = rowsOf(k, acc, ms, mib);
  const fits = rows.filter((r) => (bug === "latency" || r.ms <= maxMs) && (bug === "memory" || r.mib <= maxMiB));
  const score = (
    r: KernelRow,
  ) => (bug === "best"
    ? Math.max(...r.accuracies)
    : bug === "first"
    ? r.accuracies[0]
    : bug === "fastest"
    ? -r.ms
    : mean(r.accuracies));
  return fits.sort((a, b) => score(b) - score(a) || a.ms - b.ms)[0]?.kernel ?? null;
}
/** The same, written as one pass over the indices that keeps the best so far. */
function chooseLoop(...[k, acc, ms, mib, maxMs, maxMiB]: ChooseArgs): string | null {
  let best: KernelRow | null = null;
  for (const r of rowsOf(k, acc, ms, mib)) {
    if (r.ms > maxMs || r.mib > maxMiB) continue;
    const [a, b] = [mean(r.accuracies), best ? mean(best.accuracies) : -1];
    if (!best || a > b || (a === b && r.ms < best.ms)) best = r;
  }
  return best?.kernel ?? null;
}

/** The reach bound; `bug` plants a named mistake. */
function reach(T: number, block: number, window: number, layers: number, values: number, bug?: string): number {
  const last = Math.floor((T - 1) / block);
  const first = Math.max(0, last - (bug === "oneLayer" ? 1 : layers) * window);
  let seen = 0;
  for (let j = 0; j < T - 1; j++) {
    if (bug === "tokens" ? j >= T - 1 - layers * window : Math.floor(j / block) >= first) seen++;
  }
  const p = bug === "query" ? (seen + 1) / T : seen / (T - 1);
  return bug === "noGuess" ? p : p + (1 - p) / values;
}

/** The entropy of a diluted row; `bug` plants a named mistake. */
function entropy(n: number, r: number, bug?: string): number {
  const w = bug === "softmax" ? Math.exp(r) / (Math.exp(r) + n - 1) : r / (r + n - 1);
  const o = (1 - w) / (n - 1);
  const log = bug === "bits" ? Math.log2 : Math.log;
  return (bug === "forgot" ? 0 : -w * log(w)) - (n - 1) * o * log(o);
}
/** The same through the weights as an array. */
function entropyArray(n: number, r: number): number {
  const scores = [r, ...new Array(n - 1).fill(1)];
  const z = scores.reduce((a, b) => a + b, 0);
  return -scores.map((s) => s / z).reduce((h, p) => h + p * Math.log(p), 0);
}

/** A stack-machine ListOps evaluator; `bug` plants a named mistake. */
function listops(tokens: string[], bug?: string): number {
  const stack: { op: string; args: number[] }[] = [];
  let out = NaN;
  for (const t of tokens) {
    if (t.startsWith("[")) stack.push({ op: t, args: [] });
    else {
      let v: number;
      if (t === "]") {
        const { op, args } = stack.pop()!;
        const s = bug === "noSort" ? args : [...args].sort((a, b) => a - b), m = s.length >> 1;
        const sum = args.reduce((a, b) => a + b, 0);
        v = op === "[MIN"
          ? Math.min(...args)
          : op === "[MAX"
          ? Math.max(...args)
          : op === "[SM"
          ? (bug === "noMod" ? sum : sum % 10)
          : bug === "mean"
          ? Math.floor(sum / args.length)
          : s.length % 2
          ? s[m]
          : (bug === "round" ? Math.round : Math.floor)((s[m - 1] + s[m]) / 2);
      } else v = Number(t);
      if (stack.length) stack[stack.length - 1].args.push(v);
      else out = v;
    }
  }
  return out;
}

/** The crossover; `bug` plants a named mistake. */
function crossover(alpha: number, beta: number, gamma: number, bug?: string): number {
  if (bug === "always" || gamma < beta) return 1;
  if (bug === "noLinear") return Math.floor(gamma / alpha) + 1;
  if (bug === "notStrict") return Math.ceil((gamma - beta) / alpha);
  return Math.floor((gamma - beta) / alpha) + 1;
}
/** The same by counting up. */
function crossoverLoop(alpha: number, beta: number, gamma: number): bigint {
  let T = 1n;
  while (!(BigInt(gamma) * T < BigInt(alpha) * T * T + BigInt(beta) * T)) T++;
  return T;
}

Deno.test("lesson 09: the reference answers, written two ways, pass the visible and the hidden cases", async () => {
  const answers: Record<keyof typeof ex, unknown[]> = {
    chooseKernel: [choose, chooseLoop],
    reachAccuracy: [reach],
    linearEntropy: [entropy, entropyArray],
    evaluateListOps: [listops],
    crossoverLength: [crossover, crossoverLoop],
  };
  for (const [name, fns] of Object.entries(answers) as [keyof typeof ex, unknown[]][]) {
    for (const fn of fns) {
      await expectPass(ex, name, fn);
      const hidden = await runHidden(ex[name], hidden09[name], fn);
      assert(hidden.status === "passed", `${name}: hidden cases ${hidden.status}`);
    }
  }
});

Deno.test("lesson 09: each named mistake is diagnosed", async () => {
  const planted: [keyof typeof ex, unknown, string][] = [
    ["chooseKernel", (...a: ChooseArgs) => choose(...a, "best"), "best seed"],
    ["chooseKernel", (...a: ChooseArgs) => choose(...a, "first"), "one seed (the first)"],
    ["chooseKernel", (...a: ChooseArgs) => choose(...a, "memory"), "over the memory budget"],
    ["chooseKernel", (...a: ChooseArgs) => choose(...a, "latency"), "over the latency budget"],
    ["chooseKernel", (...a: ChooseArgs) => choose(...a, "fastest"), "the fastest kernel"],
    ["reachAccuracy", (...a: [number, number, number, number, number]) => reach(...a, "noGuess"), "still guesses"],
    ["reachAccuracy", (...a: [number, number, number, number, number]) => reach(...a, "oneLayer"), "it takes depth"],
    ["reachAccuracy", (...a: [number, number, number, number, number]) => reach(...a, "query"), "T − 1 symbol"],
    ["reachAccuracy", (...a: [number, number, number, number, number]) => reach(...a, "tokens"), "counts blocks"],
    ["linearEntropy", (n: number, r: number) => entropy(n, r, "bits"), "bits"],
    ["linearEntropy", (n: number, r: number) => entropy(n, r, "softmax"), "no exponential"],
    ["linearEntropy", (n: number, r: number) => entropy(n, r, "forgot"), "the marked one included"],
    ["evaluateListOps", (t: string[]) => listops(t, "round"), "rounded down"],
    ["evaluateListOps", (t: string[]) => listops(t, "noSort"), "sorted arguments"],
    ["evaluateListOps", (t: string[]) => listops(t, "noMod"), "modulo 10"],
    ["evaluateListOps", (t: string[]) => listops(t, "mean"), "mean of all the arguments"],
    ["crossoverLength", () => 1, "asymptotically faster is not faster"],
    ["crossoverLength", (a: number, b: number, g: number) => crossover(a, b, g, "noLinear"), "linear term"],
    ["crossoverLength", (a: number, b: number, g: number) => crossover(a, b, g, "notStrict"), "strictly faster"],
  ];
  for (const [name, fn, cause] of planted) {
    const f = await expectDiagnosis(ex, name, fn, cause);
    assertCausePhrasing(f.diagnosis!);
  }
});
