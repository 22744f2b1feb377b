/**
 * Sharded grading: the partition (shard.ts), the merge's refusals (merge.ts), and end to end — a small class graded
 * in 2 shards and merged gives the very files one unsharded run writes.
 */
import { join } from "node:path";
import { assert, assertEquals, assertThrows } from "../../lib/_testing.ts";
import { serializeNotebook } from "../notebook.ts";
import { ROOT } from "../setup.ts";
import { lesson01, lessonFile } from "./corpus.ts";
import type { RunRecord } from "./grade.ts";
import { MergeError, mergeRuns } from "./merge.ts";
import { inShard, parseShard, shardOf } from "./shard.ts";

Deno.test("parseShard(): i/n with 1 ≤ i ≤ n; anything else is refused with what is expected", () => {
  assertEquals(parseShard("1/1"), { index: 1, count: 1 });
  assertEquals(parseShard(" 3 / 8 "), { index: 3, count: 8 });
  for (const bad of ["0/2", "3/2", "1/0", "a/b", "1", "1/2/3", "-1/2", "1.5/2", "", "1/10001"]) {
    assertThrows(() => parseShard(bad), RangeError, `--shard must be i/n with 1 ≤ i ≤ n`);
  }
});

Deno.test("shardOf(): SHA-256 of the name, first 4 bytes big-endian, mod n, plus 1 (values from Python's hashlib)", () => {
  // python3 -c "import hashlib; v=int.from_bytes(hashlib.sha256(s.encode()).digest()[:4],'big'); print(1+v%n)"
  const want: [string, number[]][] = [
    ["alice", [2, 2, 1]],
    ["bob", [1, 1, 6]],
    ["honest-001", [2, 1, 3]],
    ["é🙂", [2, 3, 4]],
    [" =cmd", [1, 2, 1]],
  ];
  for (const [name, shards] of want) assertEquals([2, 3, 7].map((n) => shardOf(name, n)), shards, name);
});

Deno.test("the partition: every student in exactly one shard, near-even, unmoved when students are added", () => {
  const names = Array.from({ length: 300 }, (_, i) => `s${String(i).padStart(4, "0")}`);
  const count = 4;
  const sizes = [1, 2, 3, 4].map((index) => names.filter((n) => inShard(n, { index, count })).length);
  assertEquals(sizes.reduce((a, b) => a + b), 300);
  for (const size of sizes) assert(size > 50 && size < 100, `uneven shards: ${sizes}`);
  const before = new Map(names.map((n) => [n, shardOf(n, count)]));
  const more = [...names, ...Array.from({ length: 50 }, (_, i) => `late-${i}`)].sort();
  for (const n of more) if (before.has(n)) assertEquals(shardOf(n, count), before.get(n));
  // Entries of no student (a stray file beside the folders) are reported once, by shard 1.
  assertEquals([1, 2, 3].map((index) => inShard(undefined, { index, count: 3 })), [true, false, false]);
});

const record = (index: number, count: number, students: string[], more: Partial<RunRecord> = {}): RunRecord => ({
  format: 1,
  version: "v",
  classHash: "c",
  shard: { index, count },
  results: students.map((student) => ({
    student,
    lesson: "01",
    notebook: "01-x.ipynb",
    hash: "",
    grades: [],
    notes: [],
    seconds: 0,
  })),
  skipped: [],
  ...more,
});

Deno.test("mergeRuns(): refuses anything but shards 1…n of one class graded alike, saying why", () => {
  const ok = mergeRuns([{ dir: "b", run: record(2, 2, ["y"]) }, { dir: "a", run: record(1, 2, ["x"]) }]);
  assertEquals(ok.results.map((r) => r.student), ["x", "y"]);
  assertEquals(ok.shard, null);
  const refuse = (runs: { dir: string; run: RunRecord }[], text: string) =>
    assertThrows(() => mergeRuns(runs), MergeError, text);
  refuse([], "no shard folders given");
  refuse([{ dir: "a", run: record(1, 2, ["x"]) }], "missing shard 2/2");
  refuse([{ dir: "a", run: record(1, 3, []) }], "missing shards 2/3, 3/3");
  refuse([{ dir: "a", run: record(1, 2, []) }, { dir: "b", run: record(1, 2, []) }], "shard 1/2 given twice: a and b");
  refuse(
    [{ dir: "a", run: record(1, 2, []) }, { dir: "b", run: record(2, 3, []) }],
    "b is shard 2/3, but a is one of 2",
  );
  refuse(
    [{ dir: "a", run: record(1, 2, []) }, { dir: "b", run: record(2, 2, [], { version: "w" }) }],
    "b and a were graded with different grading code, limits or backend",
  );
  refuse(
    [{ dir: "a", run: record(1, 2, []) }, { dir: "b", run: record(2, 2, [], { classHash: "d" }) }],
    "saw different student folders",
  );
  refuse(
    [{ dir: "a", run: record(1, 2, ["x"]) }, { dir: "b", run: record(2, 2, ["x"]) }],
    'student "x" is in both a and b',
  );
});

/** `deno task <name>` as deno.json defines it (its own permissions), in the course folder. */
async function runTask(name: string, args: string[]): Promise<{ code: number; text: string }> {
  const [deno, ...flags] = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).tasks[name].split(/\s+/);
  assertEquals(deno, "deno");
  const r = await new Deno.Command(Deno.execPath(), {
    args: [...flags, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: r.code, text: new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr) };
}

async function task(name: string, args: string[]): Promise<string> {
  const { code, text } = await runTask(name, args);
  assertEquals(code, 0, `deno task ${name} failed:\n${text}`);
  return text;
}

/** Every file of the reports (not state/, .sandbox/ or the lock), path → text. */
async function reports(out: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const f of ["gradebook.csv", "gradebook-canvas.csv", "skipped.txt"]) {
    files[f] = await Deno.readTextFile(join(out, f));
  }
  for await (const e of Deno.readDir(join(out, "feedback"))) {
    files[`feedback/${e.name}`] = await Deno.readTextFile(join(out, "feedback", e.name));
  }
  const run = JSON.parse(await Deno.readTextFile(join(out, "run.json"))) as RunRecord;
  for (const r of run.results) r.seconds = 0; // timing is the one thing that differs between runs
  files["run.json"] = JSON.stringify(run, null, 1);
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)));
}

Deno.test({
  name: "grade --shard 1/2 and 2/2, then grade-merge: the same reports as one unsharded run",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "shard-test-" });
    const subs = join(tmp, "submissions");
    const put = async (student: string, file: string, text: string) => {
      await Deno.mkdir(join(subs, student), { recursive: true });
      await Deno.writeTextFile(join(subs, student, file), text);
    };
    try {
      const file = lessonFile("01");
      // Graded: alice (shard 2 of 2) full marks, bob (shard 1) a wrong body; not graded: carol's two notebooks
      // without the course's name, erin's (shard 1) folder without a notebook, and a stray file beside the folders.
      await put("alice", file, serializeNotebook(await lesson01()));
      await put("bob", file, serializeNotebook(await lesson01({ bodies: { denseParamCount: "return 0;" } })));
      await put("carol", "01-a.ipynb", serializeNotebook(await lesson01()));
      await put("carol", "01-b.ipynb", serializeNotebook(await lesson01()));
      await put("erin", "notes.txt", "no notebook here");
      await Deno.writeTextFile(join(subs, "README.txt"), "stray");
      assertEquals(["alice", "bob", "carol", "erin"].map((s) => shardOf(s, 2)), [2, 1, 2, 1]);

      const args = ["--jobs", "2", "--timeout", "30"];
      await task("grade", [subs, "--out", join(tmp, "all"), ...args]);
      const one = await task("grade", [subs, "--out", join(tmp, "s1"), ...args, "--shard", "1/2"]);
      const two = await task("grade", [subs, "--out", join(tmp, "s2"), ...args, "--shard", "2/2"]);
      assert(one.includes("graded 1 notebook(s), 0 unchanged") && one.includes("shard 1/2"), one);
      assert(two.includes("graded 1 notebook(s), 0 unchanged") && two.includes("shard 2/2"), two);
      const merged = await task("grade-merge", ["--out", join(tmp, "merged"), join(tmp, "s2"), join(tmp, "s1")]);
      assert(merged.includes("merged 2 shard(s): 3 graded lesson(s) of 3 student(s)"), merged);

      const whole = await reports(join(tmp, "all"));
      assertEquals(await reports(join(tmp, "merged")), whole);
      // What the files hold (so that equal files are also right ones).
      const csv = whole["gradebook.csv"].split("\r\n");
      assert(csv[1].startsWith('"alice",') && csv[1].endsWith(",10"), csv[1]);
      assert(csv[2].startsWith('"bob",') && csv[2].endsWith(",9"), csv[2]);
      assert(csv[3].startsWith('"carol",') && csv[3].endsWith(",0"), csv[3]);
      const skipped = whole["skipped.txt"].split("\n");
      assertEquals(skipped.map((l) => l.split(":")[0]), [
        "README.txt",
        "carol/01-a.ipynb",
        "carol/01-b.ipynb",
        "erin/",
        "erin/notes.txt",
        "",
      ]);
      assert(whole["feedback/erin.md"].includes("no lesson notebook to grade"), whole["feedback/erin.md"]);

      // A shard missing, or a shard of another split: refused, nothing written.
      const refused = await runTask("grade-merge", ["--out", join(tmp, "m2"), join(tmp, "s1")]);
      assertEquals([refused.code, refused.text.trim()], [1, "error: missing shard 2/2"]);
      assert(!(await Deno.stat(join(tmp, "m2")).then(() => true, () => false)), "a refused merge wrote a folder");
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});
