/**
 * Grading a large class on several machines: `deno task grade … --shard i/n` grades the students of shard i of n,
 * and `deno task grade-merge` (merge.ts) joins the shards' outputs into one gradebook.
 *
 * A student's shard depends on the student's folder name only: 1 + (the first four bytes of the SHA-256 of its
 * UTF-8 bytes, as a big-endian unsigned integer) mod n. So every machine computes the same partition without
 * talking to the others, each student is in exactly one shard, and adding or removing students never moves
 * anyone else to another shard (a re-run of a shard re-grades only its new and changed notebooks). Entries of the
 * submissions folder that belong to no student (a stray file beside the student folders) are reported by shard 1.
 * @module
 */
import { createHash } from "node:crypto";

/** Shard `index` (1-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** The most shards a class can be split into. */
export const MAX_SHARDS = 10_000;

/**
 * Parses `i/n`, as `--shard` takes it (a Slurm array job passes `$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`).
 *
 * @throws {RangeError} Unless i and n are integers with 1 ≤ i ≤ n ≤ {@linkcode MAX_SHARDS}.
 */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = Number(m?.[1]), count = Number(m?.[2]);
  if (!m || !(count >= 1 && count <= MAX_SHARDS) || !(index >= 1 && index <= count)) {
    throw new RangeError(
      `--shard must be i/n with 1 ≤ i ≤ n ≤ ${MAX_SHARDS} (shard i of n, counted from 1), got "${text}"`,
    );
  }
  return { index, count };
}

/** The shard (1 … count) of a student folder name. */
export function shardOf(student: string, count: number): number {
  const digest = createHash("sha256").update(student, "utf8").digest();
  return 1 + (digest.readUInt32BE(0) % count);
}

/** Whether shard `shard` grades (or reports) this student; `undefined` (no student) belongs to shard 1. */
export function inShard(student: string | undefined, shard: Shard): boolean {
  return student === undefined ? shard.index === 1 : shardOf(student, shard.count) === shard.index;
}
