/**
 * Locked numbers of lesson 08's checks (lib/check/lesson08_cases.ts) and hidden cases
 * (tools/grading/hidden08_cases.ts), from the rules of solutions/08-sparse-and-learned-patterns.ipynb: pattern masks
 * (window, dilation, global tokens, causal) and their wrong variants as rows of 0/1; FLOP counts of a masked and a
 * gathered kernel in exact integers; reach after L layers by boolean paths; angular-LSH buckets; causal clustered
 * attention with fixed centroids in Float64 plain loops. Random links are judged by invariants, so their cases hold
 * only sizes and seeds.
 * @module
 */
import { caseFile, distinctWrong, type GeneratedFile, Inputs, type Matrix, sig } from "./_gen.ts";

const GENERATOR = "tools/cases/make_lesson08.ts";
const ABOUT = "from the rules of solutions/08-sparse-and-learned-patterns.ipynb";

type Keep = (i: number, j: number) => boolean;
/** A mask as rows of "1" (kept) and "0". */
const rowsOf = (T: number, keep: Keep) =>
  Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => (keep(i, j) ? "1" : "0")).join(""));

/** Distinct wrong masks: those equal to the right one or to another wrong one are dropped (or an error if strict). */
function distinctRows(what: string, right: string[], wrong: Record<string, string[]>, strict: boolean) {
  const key = (r: string[]) => r.join("|");
  const picked = distinctWrong(
    what,
    key(right),
    Object.fromEntries(Object.entries(wrong).map(([k, r]) => [k, key(r)])),
    strict,
  );
  return Object.fromEntries(Object.entries(picked).map(([k, v]) => [k, (v as string).split("|")]));
}

// ---------------------------------------------------------------- 1 · patternMask

interface Pattern {
  window: number;
  dilation?: number;
  global?: number[];
  causal?: boolean;
}

/** The rule: |i − j| ≤ wδ and δ | i − j; global rows see all, every row sees global keys; causal cuts j > i. */
function patternKeep(p: Pattern, variant = ""): Keep {
  const { window: w, dilation: dl = 1, global = [], causal = false } = p;
  const g = new Set(global);
  const local: Keep = variant === "offByOne"
    ? (i, j) => Math.abs(i - j) < w * dl && (i - j) % dl === 0
    : variant === "dilationSpan"
    ? (i, j) => Math.abs(i - j) <= w && (i - j) % dl === 0
    : variant === "dilationNoGaps"
    ? (i, j) => Math.abs(i - j) <= w * dl
    : (i, j) => Math.abs(i - j) <= w * dl && (i - j) % dl === 0;
  return (i, j) => {
    const future = j > i;
    const exempt = (variant === "globalSeesFuture" && g.has(i)) ||
      (variant === "globalBypassesCausal" && (g.has(i) || g.has(j)));
    if (causal && variant !== "notCausal" && future && !exempt) return false;
    if (causal && variant === "noDiagonal" && j === i) return false;
    if (g.has(i) && variant !== "globalColumnsOnly") return true;
    if (g.has(j) && variant !== "globalRowsOnly") return true;
    return local(i, j);
  };
}

function patternMaskCase(label: string, T: number, p: Pattern, first: boolean, degenerate = false) {
  const expected = rowsOf(T, patternKeep(p));
  const variants = ["offByOne", "dilationSpan", "dilationNoGaps", "globalRowsOnly", "globalColumnsOnly"];
  if (p.causal) variants.push("notCausal", "noDiagonal", "globalSeesFuture", "globalBypassesCausal");
  const wrong = Object.fromEntries(variants.map((v) => [v, rowsOf(T, patternKeep(p, v))]));
  return {
    label,
    T,
    pattern: { dilation: 1, global: [], causal: false, ...p },
    expected,
    ...(degenerate ? {} : { wrong: distinctRows(`patternMask ${label}`, expected, wrong, first) }),
  };
}

// ---------------------------------------------------------------- 2 · attentionFlops

function sparseFlopCase(label: string, T: number, D: number, p: Pattern, first: boolean) {
  const keep = patternKeep(p);
  let kept = 0;
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) if (keep(i, j)) kept++;
  const [t, d, n] = [BigInt(T), BigInt(D), BigInt(kept)];
  const expected = { masked: 4n * t * t * d, sparse: 4n * n * d };
  const wrong = {
    maskSaves: { masked: 4n * n * d, sparse: 4n * n * d },
    macsOnce: { masked: 2n * t * t * d, sparse: 2n * n * d },
    scoresOnly: { masked: 2n * t * t * d, sparse: 2n * n * d },
    noSaving: { masked: 4n * t * t * d, sparse: 4n * t * t * d },
  };
  // macsOnce and scoresOnly give the same numbers: one cause, "half the FLOPs", is named for both.
  const { scoresOnly: _same, ...named } = wrong;
  const key = (x: { masked: bigint; sparse: bigint }) => `${x.masked},${x.sparse}`;
  distinctWrong(
    `attentionFlops ${label}`,
    key(expected),
    Object.fromEntries(Object.entries(named).map(([k, v]) => [k, key(v)])),
    first,
  );
  return { label, T, D, mask: rowsOf(T, keep), kept, expected, wrong: named };
}

// ---------------------------------------------------------------- 3 · reachAfter

/** Exactly-L-step reachability through the mask (boolean matrix power), and its variants. */
function reachCase(label: string, mask: string[], L: number, first: boolean, degenerate = false) {
  const T = mask.length;
  const M = mask.map((r) => [...r].map((c) => c === "1"));
  const mul = (A: boolean[][], B: boolean[][]) =>
    A.map((row) => Array.from({ length: T }, (_, j) => row.some((a, p) => a && B[p][j])));
  const power = (n: number) => {
    let R = M;
    for (let s = 1; s < n; s++) R = mul(R, M);
    return R;
  };
  const toRows = (R: boolean[][]) => R.map((r) => r.map((x) => (x ? "1" : "0")).join(""));
  const expected = toRows(power(L));
  const atMost = power(L).map((row, i) =>
    row.map((x, j) => x || Array.from({ length: L - 1 }, (_, s) => power(s + 1)[i][j]).some(Boolean))
  );
  const transpose = (R: boolean[][]) => R.map((_, i) => R.map((row) => row[i]));
  const wrong = {
    oneLayer: mask,
    transposed: toRows(transpose(power(L))),
    stepShort: L > 1 ? toRows(power(L - 1)) : mask,
    stepLong: toRows(power(L + 1)),
    atMost: toRows(atMost),
  };
  return {
    label,
    mask,
    L,
    expected,
    ...(degenerate ? {} : { wrong: distinctRows(`reachAfter ${label}`, expected, wrong, first) }),
  };
}

// ---------------------------------------------------------------- 4 · lshBuckets

function lshCase(label: string, x: Matrix, R: Matrix, first: boolean) {
  const half = R[0].length;
  const proj = x.map((row) => Array.from({ length: half }, (_, u) => row.reduce((s, xc, c) => s + xc * R[c][u], 0)));
  const argmax = (a: number[]) => a.indexOf(Math.max(...a));
  const argmin = (a: number[]) => a.indexOf(Math.min(...a));
  const expected = proj.map((p) => argmax([...p, ...p.map((y) => -y)]));
  const wrong = {
    noNegative: proj.map((p) => argmax(p)),
    argmin: proj.map((p) => argmin([...p, ...p.map((y) => -y)])), // = argmax([−xR ; xR]), the same buckets
    absolute: proj.map((p) => argmax(p.map(Math.abs))),
    signBits: proj.map((p) => p.reduce((s, y, u) => s + (y > 0 ? 2 ** u : 0), 0)),
  };
  const key = (a: number[]) => a.join(",");
  const picked = distinctWrong(
    `lshBuckets ${label}`,
    key(expected),
    Object.fromEntries(Object.entries(wrong).map(([k, v]) => [k, key(v)])),
    first,
  );
  return {
    label,
    x,
    R,
    expected,
    wrong: Object.fromEntries(Object.entries(picked).map(([k, v]) => [k, (v as string).split(",").map(Number)])),
  };
}

// ---------------------------------------------------------------- 5 · causalClusteredAttention

function clusterCase(label: string, q: Matrix, k: Matrix, v: Matrix, centroids: Matrix, first: boolean) {
  const d = q[0].length;
  const unit = (x: number[]) => {
    const n = Math.hypot(...x);
    return n > 0 ? x.map((c) => c / n) : x;
  };
  const nearest = (x: number[], cs: Matrix) => {
    let best = 0, bestD = Infinity;
    cs.forEach((c, i) => {
      const dd = x.reduce((s, xc, e) => s + (xc - c[e]) ** 2, 0);
      if (dd < bestD) [best, bestD] = [i, dd];
    });
    return best;
  };
  const attend = (keep: Keep, divisor = Math.sqrt(d)) =>
    q.map((qi, i) => {
      const js = k.map((_, j) => j).filter((j) => keep(i, j));
      if (js.length === 0) return v[0].map(() => 0);
      const s = js.map((j) => qi.reduce((a, x, c) => a + x * k[j][c], 0) / divisor);
      const top = Math.max(...s);
      const w = s.map((x) => Math.exp(x - top));
      const total = w.reduce((a, b) => a + b, 0);
      return v[0].map((_, c) => js.reduce((a, j, t) => a + (w[t] / total) * v[j][c], 0));
    });
  // With unit centroids the nearest centroid of x and of x/‖x‖ are the same (‖x̂ − c‖² = 2 − 2x̂·c): normalising
  // is the rule, but forgetting it changes nothing here, so it is not a named mistake.
  const assign = (cs: Matrix) => ({ qc: q.map((x) => nearest(unit(x), cs)), kc: k.map((x) => nearest(unit(x), cs)) });
  const byClusters = ({ qc, kc }: { qc: number[]; kc: number[] }, causal = true, divisor = Math.sqrt(d)) =>
    attend((i, j) => (!causal || j <= i) && qc[i] === kc[j], divisor);
  const fixed = assign(centroids);
  const expected = byClusters(fixed);
  // One Lloyd step on the whole sequence from the given centroids: the centroids then depend on every token.
  const points = [...q, ...k].map(unit);
  const all = [...fixed.qc, ...fixed.kc];
  const means = (pts: Matrix, labels: number[], renormalise: boolean) =>
    centroids.map((c, ci) => {
      const mine = pts.filter((_, p) => labels[p] === ci);
      const mean = mine.length ? c.map((_, e) => mine.reduce((s, x) => s + x[e], 0) / mine.length) : c;
      return renormalise ? unit(mean) : mean;
    });
  const keys = k.map(unit);
  const wrong = {
    fullAttention: attend((i, j) => j <= i),
    notCausal: byClusters(fixed, false),
    refit: byClusters(assign(means(points, all, false))),
  };
  // Other ways to refit (queries and keys or keys only, means renormalised or not): named where they differ.
  const refits = {
    refitUnit: byClusters(assign(means(points, all, true))),
    refitKeys: byClusters(assign(means(keys, fixed.kc, false))),
    refitKeysUnit: byClusters(assign(means(keys, fixed.kc, true))),
    noScale: byClusters(fixed, true, 1),
  };
  const same = (a: Matrix, b: Matrix) => a.every((r, i) => r.every((x, j) => Math.abs(x - b[i][j]) < 1e-6));
  const picked: Record<string, Matrix> = {};
  for (const [name, m] of Object.entries(wrong)) {
    const clash = same(m, expected) || Object.entries(wrong).some(([n, o]) => n !== name && same(m, o));
    if (clash && first) {
      throw new Error(`causalClusteredAttention ${label}: "${name}" is not told apart; pick another case`);
    }
    if (!clash) picked[name] = sig(m, 10);
  }
  for (const [name, m] of Object.entries(refits)) {
    const clash = same(m, expected) || Object.entries(wrong).some(([n, o]) => n !== "refit" && same(m, o));
    if (!clash) picked[name] = sig(m, 10);
  }
  return { label, q, k, v, centroids, expected: sig(expected, 10), wrong: picked };
}

// ---------------------------------------------------------------- the cases

/** Every generated file of lesson 08. */
export function files(): GeneratedFile[] {
  const r = new Inputs("08.visible"), h = new Inputs("08.hidden");
  const masks = [
    patternMaskCase("T=14, w=3, δ=2, global {0, 9}, causal", 14, {
      window: 3,
      dilation: 2,
      global: [0, 9],
      causal: true,
    }, true),
    patternMaskCase("T=10, w=1, δ=3, global {4}", 10, { window: 1, dilation: 3, global: [4] }, false),
    patternMaskCase("T=8, w=3, causal", 8, { window: 3, causal: true }, false),
    patternMaskCase("T=6, w=1", 6, { window: 1 }, false),
    patternMaskCase("T=1, w=2", 1, { window: 2 }, false, true),
  ];
  const hiddenMasks = [
    patternMaskCase("hidden", 14, { window: 1, dilation: 2, global: [3], causal: true }, false),
    patternMaskCase("hidden", 9, { window: 2, global: [0, 8] }, false),
  ];
  const flops = [
    sparseFlopCase("T=16, window 2, D=8", 16, 8, { window: 2 }, true),
    sparseFlopCase("T=64, window 3 + global {0}, D=64", 64, 64, { window: 3, global: [0] }, false),
    sparseFlopCase("T=10, causal window 1, D=3", 10, 3, { window: 1, causal: true }, false),
  ];
  const hiddenFlops = [sparseFlopCase("hidden", 32, 16, { window: 4, dilation: 2, global: [5] }, false)];

  const window = (T: number, w: number, causal = false) =>
    rowsOf(T, (i, j) => Math.abs(i - j) <= w && (!causal || j <= i));
  const reach = [
    reachCase(
      "the two previous tokens (j = i − 1, i − 2), T=12, L=3",
      rowsOf(12, (i, j) => j === i - 1 || j === i - 2),
      3,
      true,
    ),
    reachCase("causal window w=2, T=10, L=2", window(10, 2, true), 2, false),
    reachCase("window w=1, T=12, L=3", window(12, 1), 3, false),
    reachCase("previous token only (j = i − 1), T=8, L=3", rowsOf(8, (i, j) => j === i - 1), 3, false),
    reachCase(
      "window w=1 + global {0}, T=9, L=2",
      rowsOf(9, (i, j) => Math.abs(i - j) <= 1 || i === 0 || j === 0),
      2,
      false,
    ),
    reachCase("window w=2, T=6, L=1", window(6, 2), 1, false, true),
  ];
  const hiddenReach = [
    reachCase("hidden", window(11, 1, true), 4, false),
    reachCase("hidden", rowsOf(10, (i, j) => j === i - 2 || j === i), 3, false),
  ];

  const lsh = [
    lshCase("N=8 points, d=3, 4 buckets", r.matrix(8, 3), r.matrix(3, 2), true),
    lshCase("N=6 points, d=4, 8 buckets", r.matrix(6, 4), r.matrix(4, 4), false),
    lshCase("N=5 points, d=2, 2 buckets", r.matrix(5, 2), r.matrix(2, 1), false),
  ];
  const hiddenLsh = [lshCase("hidden", h.matrix(9, 5), h.matrix(5, 3), false)];

  const unitRows = (m: Matrix) =>
    m.map((row) => {
      const n = Math.hypot(...row);
      return row.map((x) => Number((x / n).toFixed(4)));
    });
  // The first case must tell every mistake apart (one Lloyd step must move some token to another cluster, raw and
  // unit assignments must differ): the first seed of the search below that does, found deterministically.
  const first = (() => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const s = new Inputs(`08.cluster.${attempt}`);
      try {
        return clusterCase(
          "T=8, d=3, dv=2, 3 centroids",
          s.matrix(8, 3),
          s.matrix(8, 3),
          s.matrix(8, 2),
          unitRows(s.matrix(3, 3)),
          true,
        );
      } catch { /* not every mistake told apart: next seed */ }
    }
    throw new Error("no seed tells every clustered-attention mistake apart");
  })();
  const clusters = [
    first,
    clusterCase(
      "T=10, d=4, dv=3, 3 centroids",
      r.matrix(10, 4),
      r.matrix(10, 4),
      r.matrix(10, 3),
      unitRows(r.matrix(3, 4)),
      false,
    ),
    clusterCase(
      "T=6, d=2, dv=2, 4 centroids",
      r.matrix(6, 2),
      r.matrix(6, 2),
      r.matrix(6, 2),
      unitRows(r.matrix(4, 2)),
      false,
    ),
  ];
  const hiddenClusters = [
    clusterCase("hidden", h.matrix(9, 3), h.matrix(9, 3), h.matrix(9, 4), unitRows(h.matrix(3, 3)), false),
  ];

  const links = [
    { label: "T=16, 3 per row", T: 16, perRow: 3, seed: "08.links.a" },
    { label: "T=5, 5 per row (every key)", T: 5, perRow: 5, seed: "08.links.b" },
    { label: "T=64, 2 per row", T: 64, perRow: 2, seed: "08.links.c" },
  ];
  const hiddenLinks = [{ label: "hidden", T: 40, perRow: 4, seed: "08.links.hidden" }];

  const imports = (from: string) => [
    `import type {`,
    `  ClusterCase,`,
    `  SparseFlopCase,`,
    `  LinksCase,`,
    `  LshCase,`,
    `  PatternMaskCase,`,
    `  ReachCase,`,
    `} from "${from}lesson08.ts";`,
  ];
  const visible = caseFile(GENERATOR, ABOUT, imports("./"), [
    {
      doc: "patternMask: rows of 1 (kept) and 0; `wrong` holds the masks of named mistakes.",
      name: "MASK_CASES",
      type: "PatternMaskCase[]",
      value: masks,
    },
    {
      doc: "attentionFlops: 4·T²·D for the masked kernel, 4·kept·D for the gathered one.",
      name: "FLOP_CASES",
      type: "SparseFlopCase[]",
      value: flops,
    },
    {
      doc: "reachAfter: paths of exactly L steps through the mask.",
      name: "REACH_CASES",
      type: "ReachCase[]",
      value: reach,
    },
    { doc: "lshBuckets: argmax of [xR ; −xR] per point.", name: "LSH_CASES", type: "LshCase[]", value: lsh },
    {
      doc:
        "causalClusteredAttention: nearest given centroid of the unit q and k; softmax over keys j ≤ i of the query's cluster.",
      name: "CLUSTER_CASES",
      type: "ClusterCase[]",
      value: clusters,
    },
    {
      doc: "randomLinks: sizes and seeds only (judged by invariants).",
      name: "LINKS_CASES",
      type: "LinksCase[]",
      value: links,
    },
  ]);
  const hidden = caseFile(GENERATOR, ABOUT, imports("../../lib/check/"), [
    { doc: "Hidden cases of patternMask.", name: "HIDDEN_MASK_CASES", type: "PatternMaskCase[]", value: hiddenMasks },
    { doc: "Hidden cases of attentionFlops.", name: "HIDDEN_FLOP_CASES", type: "SparseFlopCase[]", value: hiddenFlops },
    { doc: "Hidden cases of reachAfter.", name: "HIDDEN_REACH_CASES", type: "ReachCase[]", value: hiddenReach },
    { doc: "Hidden cases of lshBuckets.", name: "HIDDEN_LSH_CASES", type: "LshCase[]", value: hiddenLsh },
    {
      doc: "Hidden cases of causalClusteredAttention.",
      name: "HIDDEN_CLUSTER_CASES",
      type: "ClusterCase[]",
      value: hiddenClusters,
    },
    { doc: "Hidden cases of randomLinks.", name: "HIDDEN_LINKS_CASES", type: "LinksCase[]", value: hiddenLinks },
  ]);
  return [
    { path: "lib/check/lesson08_cases.ts", text: visible },
    { path: "tools/grading/hidden08_cases.ts", text: hidden },
  ];
}
