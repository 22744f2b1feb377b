/**
 * `deno task grade-merge --out <dir> <shard out>...`: joins the output folders of the shards of one class
 * (`deno task grade … --shard i/n`, shard.ts) into one gradebook.csv, gradebook-canvas.csv, skipped.txt and
 * feedback/ in <dir>, exactly as one unsharded run would have written them. It reads each shard's run.json and
 * refuses, saying why, unless the folders are the shards 1 … n of one n, each once, graded by the same grading
 * code, limits and backend, of the same class (the same student folders), with no student in two shards.
 * @module
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { courseNotebooks, type RunRecord, withLock, writeReports } from "./grade.ts";

/** Shard outputs that cannot be merged: the message says which folder and why. */
export class MergeError extends Error {
  override name = "MergeError";
}

async function readRun(dir: string): Promise<RunRecord> {
  const path = join(dir, "run.json");
  let run: RunRecord;
  try {
    run = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    throw new MergeError(
      `${path}: ${err instanceof Deno.errors.NotFound ? "missing" : `unreadable (${(err as Error).message})`}; ` +
        "is this a folder that `deno task grade … --shard i/n` wrote?",
    );
  }
  if (run?.format !== 1 || !Array.isArray(run.results) || !Array.isArray(run.skipped)) {
    throw new MergeError(`${path}: not a run record of this grader (format 1)`);
  }
  if (!run.shard) throw new MergeError(`${path}: an unsharded run; merge the folders of \`--shard i/n\` runs`);
  return run;
}

/**
 * Checks that the runs are the shards 1 … n of one class, graded alike, and joins them.
 *
 * @param runs Each shard's run.json, with the folder it came from (for messages).
 * @returns One record, as an unsharded run of the whole class would have written (`shard: null`).
 * @throws {MergeError} When they are not.
 */
export function mergeRuns(runs: { dir: string; run: RunRecord }[]): RunRecord {
  if (!runs.length) throw new MergeError("no shard folders given");
  const [first] = runs;
  const count = first.run.shard!.count;
  const byIndex = new Map<number, string>();
  for (const { dir, run } of runs) {
    const s = run.shard!;
    if (s.count !== count) {
      throw new MergeError(`${dir} is shard ${s.index}/${s.count}, but ${first.dir} is one of ${count} shards`);
    }
    if (byIndex.has(s.index)) {
      throw new MergeError(`shard ${s.index}/${count} given twice: ${byIndex.get(s.index)} and ${dir}`);
    }
    byIndex.set(s.index, dir);
    if (run.version !== first.run.version) {
      throw new MergeError(
        `${dir} and ${first.dir} were graded with different grading code, limits or backend: re-run one of them`,
      );
    }
    if (run.classHash !== first.run.classHash) {
      throw new MergeError(
        `${dir} and ${first.dir} saw different student folders (the submissions changed between the shards' runs): ` +
          "re-run the shards on the same submissions",
      );
    }
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length) {
    throw new MergeError(
      `missing shard${missing.length > 1 ? "s" : ""} ${missing.map((i) => `${i}/${count}`).join(", ")}`,
    );
  }
  const owner = new Map<string, string>();
  for (const { dir, run } of runs) {
    for (const r of run.results) {
      const other = owner.get(r.student);
      if (other !== undefined && other !== dir) {
        throw new MergeError(`student ${JSON.stringify(r.student)} is in both ${other} and ${dir}`);
      }
      owner.set(r.student, dir);
    }
  }
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...runs].sort((a, b) => a.run.shard!.index - b.run.shard!.index);
  return {
    format: 1,
    version: first.run.version,
    classHash: first.run.classHash,
    shard: null,
    results: sorted.flatMap(({ run }) => run.results)
      .sort((a, b) => compare(a.student, b.student) || compare(a.lesson, b.lesson)),
    skipped: sorted.flatMap(({ run }) => run.skipped), // writeReports puts them in path order
  };
}

/** Merges shard folders into `out`. */
export async function mergeShards(dirs: string[], out: string): Promise<RunRecord> {
  const runs = [];
  for (const dir of dirs) runs.push({ dir, run: await readRun(dir) });
  const merged = mergeRuns(runs);
  if (dirs.some((d) => resolve(d) === resolve(out))) throw new MergeError("--out must not be one of the shard folders");
  await Deno.mkdir(out, { recursive: true });
  await withLock(out, () => {}, async () => await writeReports(out, merged, await courseNotebooks()));
  return merged;
}

if (import.meta.main) {
  const usage = "usage: deno task grade-merge --out <dir> <shard output dir>...";
  let parsed;
  try {
    parsed = parseArgs({ args: Deno.args, allowPositionals: true, options: { out: { type: "string" } } });
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n${usage}`);
    Deno.exit(2);
  }
  const { values, positionals } = parsed;
  if (!values.out || !positionals.length) {
    console.error(`error: --out and at least one shard folder are required\n${usage}`);
    Deno.exit(2);
  }
  try {
    const run = await mergeShards(positionals, values.out);
    const students = new Set(run.results.map((r) => r.student)).size;
    console.log(
      `merged ${positionals.length} shard(s): ${run.results.length} graded lesson(s) of ${students} student(s), ` +
        `${run.skipped.length} path(s) not graded; wrote ${join(values.out, "gradebook.csv")}`,
    );
  } catch (err) {
    if (!(err instanceof MergeError)) throw err;
    console.error(`error: ${err.message}`);
    Deno.exit(1);
  }
}
