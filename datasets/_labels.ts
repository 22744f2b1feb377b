/**
 * Exactly balanced labels for the seeded generators (private to datasets/).
 * @module
 */
import type { Rng } from "../lib/random.ts";

/** 0 … classes − 1 repeated to n labels, shuffled (Fisher–Yates) within each block of `classes`. */
export function balancedLabels(r: Rng, n: number, classes: number): number[] {
  const out: number[] = [];
  for (let start = 0; start < n; start += classes) {
    const block = Array.from({ length: classes }, (_, i) => i);
    for (let i = classes - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [block[i], block[j]] = [block[j], block[i]];
    }
    out.push(...block.slice(0, n - start));
  }
  return out;
}
