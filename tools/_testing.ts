/**
 * Test helpers of tools/ (not shipped: the bundle leaves out `_testing.ts`): the solutions' secret regions, to
 * check that what leaves the repository (the student bundle, the Gradescope autograder) holds none of them.
 * @module
 */
import { join } from "node:path";
import { listNotebooks, readNotebook, sourceOf } from "./notebook.ts";
import { ROOT } from "./setup.ts";

/** The SOLUTION and HIDDEN regions of solutions/, each as its list of trimmed, non-empty lines. */
export async function secretRegions(): Promise<string[][]> {
  const regions: string[][] = [];
  for (const path of await listNotebooks(join(ROOT, "solutions"))) {
    for (const cell of (await readNotebook(path)).cells) {
      let region: string[] | null = null;
      for (const line of sourceOf(cell).split("\n")) {
        if (/\/\/\s*BEGIN (SOLUTION|HIDDEN)/.test(line)) region = [];
        else if (/\/\/\s*END (SOLUTION|HIDDEN)/.test(line)) {
          if (region) regions.push(region);
          region = null;
        } else if (region && line.trim()) region.push(line.trim());
      }
    }
  }
  return regions;
}

/** Text with all white space removed, to find a region however it was re-indented or re-wrapped. */
export const squash = (s: string) => s.replace(/\s+/g, "");

/** The code cells of a notebook's JSON text, joined. */
export function codeOf(json: string): string {
  const nb = JSON.parse(json) as { cells: { cell_type: string; source: string | string[] }[] };
  return nb.cells.filter((c) => c.cell_type === "code").map((c) => sourceOf(c as never)).join("\n");
}
