/**
 * `deno task cases`: regenerates every locked table of the exercise checks (lib/check/lessonNN_cases.ts) and
 * of the hidden cases (tools/grading/hiddenNN_cases.ts) from their generators, tools/cases/make_lessonNN.ts.
 * `deno task cases --check` writes nothing and fails when a file differs from its generator's output (the
 * test suite runs the same comparison, tools/cases/cases_test.ts).
 * @module
 */
import { join } from "node:path";
import { ROOT, writeAtomic } from "../setup.ts";
import type { GeneratedFile } from "./_gen.ts";
import { files as lesson01 } from "./make_lesson01.ts";
import { files as lesson02 } from "./make_lesson02.ts";
import { files as lesson03 } from "./make_lesson03.ts";
import { files as lesson04 } from "./make_lesson04.ts";
import { files as lesson05 } from "./make_lesson05.ts";
import { files as lesson06 } from "./make_lesson06.ts";
import { files as lesson07 } from "./make_lesson07.ts";
import { files as lesson08 } from "./make_lesson08.ts";
import { files as lesson09 } from "./make_lesson09.ts";

/** Every generated file, from every generator. */
export function generatedFiles(): GeneratedFile[] {
  return [
    ...lesson01(),
    ...lesson02(),
    ...lesson03(),
    ...lesson04(),
    ...lesson05(),
    ...lesson06(),
    ...lesson07(),
    ...lesson08(),
    ...lesson09(),
  ];
}

/** The generated files whose text on disk differs from their generator's output (or that are missing). */
export async function caseDrift(): Promise<string[]> {
  const stale: string[] = [];
  for (const f of generatedFiles()) {
    const onDisk = await Deno.readTextFile(join(ROOT, f.path)).catch(() => undefined);
    if (onDisk !== f.text) stale.push(onDisk === undefined ? `${f.path} is missing` : `${f.path} differs`);
  }
  return stale;
}

if (import.meta.main) {
  if (Deno.args.includes("--check")) {
    const stale = await caseDrift();
    if (stale.length) {
      console.error(`case tables out of date (run \`deno task cases\`):\n  ${stale.join("\n  ")}`);
      Deno.exit(1);
    }
    console.log("case tables match their generators");
  } else {
    for (const f of generatedFiles()) await writeAtomic(join(ROOT, f.path), f.text);
    console.log(`wrote ${generatedFiles().map((f) => f.path).join(", ")}`);
  }
}
