/**
 * ListOps, the Long Range Arena's hierarchical task (Tay et al. 2021, §3.1.1; the task is Nangia & Bowman
 * 2018's), as a seeded generator with lengths scaled down for a laptop.
 *
 * An example is a nested expression such as `[MAX 4 3 [MIN 2 3 ] 1 0 [MED 1 5 8 9 ] ]`, whose value (a digit,
 * 0–9) is the label. The operators are MIN, MAX, MED (the median, rounded down when there is an even number of
 * arguments) and SM (the sum modulo 10). The rules follow LRA's generator: every node below the maximum depth
 * is an operator with probability 0.25 (else a digit drawn uniformly from 0–9), an operator has 2 to `maxArgs`
 * arguments (uniform), the tree is at most `maxDepth` deep (the root is at depth 1), and trees are drawn again
 * until their token count lies strictly between `minLength` and `maxLength`. LRA used depth 10, 10 arguments and
 * lengths 500–2000; here the lengths default to 128–512.
 *
 * Unlike LRA's generator, the labels of a batch are balanced: example i gets a target label from a seeded
 * shuffle of 0–9 repeated, and trees are drawn until one has that value (with lengths this short, MIN, MAX and
 * MED make 0 and 9 over-represented otherwise).
 *
 * @module
 */
import { type Rng, rng } from "../lib/random.ts";
import { balancedLabels } from "./_labels.ts";

/** The tokens of ListOps: digits, the four operators (with their opening bracket) and the closing bracket. */
export const LISTOPS_TOKENS = [
  "0",
  "1",
  "2",
  "3",
  "4",
  "5",
  "6",
  "7",
  "8",
  "9",
  "[MIN",
  "[MAX",
  "[MED",
  "[SM",
  "]",
] as const;
/** A ListOps token. */
export type ListOpsToken = typeof LISTOPS_TOKENS[number];
/** The operators, as they open a bracket. */
export const LISTOPS_OPERATORS = ["[MIN", "[MAX", "[MED", "[SM"] as const;

/** Options for {@linkcode makeListOps}. */
export interface ListOpsOptions {
  /** Examples have more tokens than this (default 128). */
  minLength?: number;
  /** Examples have fewer tokens than this (default 512). */
  maxLength?: number;
  /** The deepest a node may be; the root is at depth 1 (default 10, as in LRA). */
  maxDepth?: number;
  /** The most arguments an operator takes (default 10, as in LRA; the fewest is 2). */
  maxArgs?: number;
  /** Balance the labels exactly over each block of 10 examples (default true). */
  balanced?: boolean;
}

/** One ListOps example. */
export interface ListOpsExample {
  /** The expression, one token per element. */
  tokens: ListOpsToken[];
  /** The tokens as indices into {@linkcode LISTOPS_TOKENS} (digits are their own index). */
  ids: number[];
  /** The expression's value, 0–9. */
  label: number;
  /** How deeply the expression nests (a bare digit has depth 0, `[MAX 1 2 ]` depth 1). */
  depth: number;
}

const MAX_DRAWS = 1_000_000;

/**
 * Makes `n` ListOps examples, the same ones for the same seed and options on every machine and backend.
 *
 * @param seed Any number or string.
 * @param n How many examples.
 * @param options Lengths, depth, arguments and label balance.
 * @returns The examples, in order.
 * @throws {RangeError} If an option is out of range or no tree of the asked lengths turns up.
 * @example
 * ```ts
 * import { evaluateListOps, makeListOps } from "./listops.ts";
 * const [ex] = makeListOps(1, 1, { minLength: 20, maxLength: 60 });
 * if (ex.tokens.length <= 20 || ex.tokens.length >= 60) throw new Error("length out of range");
 * if (evaluateListOps(ex.tokens) !== ex.label) throw new Error("label disagrees with the evaluator");
 * ```
 */
export function makeListOps(seed: number | string, n: number, options: ListOpsOptions = {}): ListOpsExample[] {
  const { minLength = 128, maxLength = 512, maxDepth = 10, maxArgs = 10, balanced = true } = options;
  checkInt("n", n, 0);
  checkInt("options.minLength", minLength, 0);
  checkInt("options.maxLength", maxLength, 1);
  checkInt("options.maxDepth", maxDepth, 1);
  checkInt("options.maxArgs", maxArgs, 2);
  if (maxLength <= minLength + 1) {
    throw new RangeError(
      `Cannot make ListOps: options.maxLength must exceed options.minLength + 1, got ${minLength} and ${maxLength}`,
    );
  }
  const source = rng(seed);
  const trees = source.fork("trees");
  const targets = balanced ? balancedLabels(source.fork("labels"), n, 10) : undefined;
  const out: ListOpsExample[] = [];
  for (let i = 0; i < n; i++) {
    const want = targets?.[i];
    let draws = 0;
    for (;;) {
      if (++draws > MAX_DRAWS) {
        throw new RangeError(
          `Cannot make ListOps: no tree with ${minLength} < length < ${maxLength}` +
            (want === undefined ? "" : ` and value ${want}`) + ` in ${MAX_DRAWS} draws; widen the lengths`,
        );
      }
      const tokens: ListOpsToken[] = [];
      const node = grow(trees, 1, maxDepth, maxArgs, tokens, maxLength);
      if (!node || tokens.length <= minLength || tokens.length >= maxLength) continue;
      if (want !== undefined && node.value !== want) continue;
      out.push({ tokens, ids: tokens.map((t) => LISTOPS_TOKENS.indexOf(t)), label: node.value, depth: node.depth });
      break;
    }
  }
  return out;
}

/**
 * The value of a ListOps expression, by a stack machine over its tokens (independent of the generator's
 * recursion, so each checks the other).
 *
 * @param tokens An expression as {@linkcode makeListOps} writes it.
 * @returns Its value, 0–9.
 * @throws {TypeError} If the tokens do not form one well-bracketed expression.
 * @example
 * ```ts
 * import { evaluateListOps } from "./listops.ts";
 * const v = evaluateListOps("[SM 7 [MED 1 2 8 9 ] 9 ]".split(" ")); // MED(1,2,8,9) = ⌊5⌋ = 5; 7+5+9 = 21 → 1
 * if (v !== 1) throw new Error(`expected 1, got ${v}`);
 * ```
 */
export function evaluateListOps(tokens: readonly string[]): number {
  const stack: { op: string; args: number[] }[] = [];
  let result: number | undefined;
  for (const [i, token] of tokens.entries()) {
    if (result !== undefined) throw badListOps(`a token after the expression ended, at ${i}`, token);
    if ((LISTOPS_OPERATORS as readonly string[]).includes(token)) {
      stack.push({ op: token, args: [] });
    } else if (token === "]") {
      const top = stack.pop();
      if (!top) throw badListOps(`a "]" with no open operator, at ${i}`, token);
      if (top.args.length === 0) throw badListOps(`an operator with no arguments, closed at ${i}`, token);
      const value = apply(top.op, top.args);
      if (stack.length) stack[stack.length - 1].args.push(value);
      else result = value;
    } else if (/^[0-9]$/.test(token)) {
      if (stack.length) stack[stack.length - 1].args.push(Number(token));
      else result = Number(token);
    } else {
      throw badListOps(`an unknown token at ${i}`, token);
    }
  }
  if (stack.length) throw badListOps(`${stack.length} operator(s) left open at the end`, tokens.at(-1) ?? "");
  if (result === undefined) throw badListOps("no tokens", "");
  return result;
}

/** The value of one operator on its arguments (LRA's rules: MED rounds down, SM is the sum mod 10). */
function apply(op: string, args: number[]): number {
  switch (op) {
    case "[MIN":
      return Math.min(...args);
    case "[MAX":
      return Math.max(...args);
    case "[SM":
      return args.reduce((a, b) => a + b, 0) % 10;
    default: { // "[MED"
      const s = [...args].sort((a, b) => a - b);
      const m = s.length >> 1;
      return s.length % 2 ? s[m] : Math.floor((s[m - 1] + s[m]) / 2);
    }
  }
}

/**
 * Grows one subtree into `tokens`; returns its value and depth, or undefined as soon as the expression
 * reaches `maxLength` tokens (the draw is then rejected, so there is no point finishing it).
 */
function grow(
  r: Rng,
  depth: number,
  maxDepth: number,
  maxArgs: number,
  tokens: ListOpsToken[],
  maxLength: number,
): { value: number; depth: number } | undefined {
  if (tokens.length >= maxLength) return undefined;
  const operator = depth < maxDepth && r.uniform() < 0.25;
  if (!operator) {
    const digit = r.int(10);
    tokens.push(LISTOPS_TOKENS[digit]);
    return { value: digit, depth: 0 };
  }
  const op = LISTOPS_OPERATORS[r.int(4)];
  const count = 2 + r.int(maxArgs - 1); // 2 … maxArgs
  tokens.push(op);
  const args: number[] = [];
  let deepest = 0;
  for (let a = 0; a < count; a++) {
    const child = grow(r, depth + 1, maxDepth, maxArgs, tokens, maxLength);
    if (!child) return undefined;
    args.push(child.value);
    deepest = Math.max(deepest, child.depth);
  }
  tokens.push("]");
  return { value: apply(op, args), depth: deepest + 1 };
}

function checkInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`Cannot make ListOps: ${name} must be an integer ≥ ${min}, got ${value}`);
  }
}

function badListOps(what: string, token: string): TypeError {
  return new TypeError(`Cannot evaluate ListOps: expected one well-bracketed expression, got ${what} ("${token}")`);
}
