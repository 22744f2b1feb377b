/**
 * The canonical text of a generator's examples and its SHA-256, for the locked checksums in
 * checksums_cases.ts (made by tools/cases/make_dataset_checksums.ts) and the tests that compare against them.
 * @module
 */
import { makeListOps } from "./listops.ts";
import { makePathfinder } from "./pathfinder.ts";
import { makeRecall } from "./recall.ts";
import { makeSelectiveCopy } from "./selective_copy.ts";

/** The generators whose first 1,000 examples are locked, with the seed and options of the lock. */
export const LOCKED: Record<string, () => string[]> = {
  "listops seed 0, lengths 128–512": () => makeListOps(0, 1000).map((e) => `${e.label}\t${e.tokens.join(" ")}`),
  "pathfinder seed 0, 32×32": () =>
    makePathfinder(0, 1000).map((e) => `${e.label}\t${btoa(String.fromCharCode(...e.pixels))}`),
  "recall seed 0, T = 64": () => makeRecall(0, 1000, { length: 64 }).map((e) => `${e.label}\t${e.ids.join(" ")}`),
  "selective copy seed 0, T = 64": () =>
    makeSelectiveCopy(0, 1000, { length: 64 }).map((e) => `${e.label}\t${e.ids.join(" ")}`),
};

/** Hex SHA-256 of the lines joined by newlines. */
export async function checksum(lines: string[]): Promise<string> {
  const bytes = new TextEncoder().encode(lines.join("\n"));
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
