/**
 * The arithmetic of `deno task bench` (tools/bench.ts), kept apart so that it can be tested.
 * @module
 */

/** One measurement. `gflops` counts the kernel's own floating-point work (a multiply–add = 2). */
export interface Entry {
  kernel: string;
  backend: string;
  T: number;
  d: number;
  ms: number;
  gflops: number;
  peakBytes: number | null;
}

/** Least-squares slope of log(ms) against log(T). */
export function exponent(points: { T: number; ms: number }[]): number {
  const xs = points.map((p) => Math.log(p.T)), ys = points.map((p) => Math.log(p.ms));
  const mx = xs.reduce((a, b) => a + b) / xs.length, my = ys.reduce((a, b) => a + b) / ys.length;
  let num = 0, den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}

/**
 * Where kernel `a` (linear attention) stops being slower than kernel `b` (exact attention): the T at which
 * their times cross, interpolated on log–log axes between the two measured sizes around it; null (with a
 * note saying why) when `a` is faster at every size or slower at every size.
 */
export function crossover(a: Entry[], b: Entry[]): { T: number | null; note: string } {
  const Ts = a.map((e) => e.T).filter((T) => b.some((e) => e.T === T)).sort((x, y) => x - y);
  const gap = (T: number) => Math.log(a.find((e) => e.T === T)!.ms / b.find((e) => e.T === T)!.ms);
  if (gap(Ts[0]) <= 0) return { T: null, note: `linear is already faster at the smallest T measured (${Ts[0]})` };
  for (let i = 1; i < Ts.length; i++) {
    const [g0, g1] = [gap(Ts[i - 1]), gap(Ts[i])];
    if (g1 <= 0) {
      const t = Math.exp(Math.log(Ts[i - 1]) + (Math.log(Ts[i]) - Math.log(Ts[i - 1])) * g0 / (g0 - g1));
      return { T: Math.round(t), note: `between T=${Ts[i - 1]} and T=${Ts[i]}` };
    }
  }
  return { T: null, note: `linear is slower at every T measured (up to ${Ts.at(-1)})` };
}

/** The fastest and the median of some timings (ms). */
export function minMedian(samples: number[]): { min: number; median: number } {
  if (!samples.length) throw new RangeError("Cannot summarise timings: samples must not be empty, got []");
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { min: s[0], median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2 };
}
