/**
 * The grader against hostile submissions. Each submission is the correct
 * solution of lesson 01 with one function body replaced, so the test also
 * proves that the other exercises are still graded correctly.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../../lib/_testing.ts";
import { gradeAll, type Limits, type SubmissionGrade } from "./grade.ts";
import { readNotebook, sourceOf, toSourceLines, writeNotebook } from "../notebook.ts";
import { ROOT } from "../setup.ts";

const LIMITS: Limits = { timeoutS: 10, memoryMb: 700, maxOutputBytes: 1 << 20 };
const ALL = {
  attentionWeights: 3,
  causalAttentionFlops: 2,
  denseParamCount: 1,
  effectiveWeights: 3,
  multiHeadParamCount: 1,
};

/** A solution notebook whose `name` body is `body` (top-level code may be added too). */
async function submission(dir: string, student: string, name: string | null, body: string, topLevel = "") {
  const nb = await readNotebook(join(ROOT, "solutions", "01-weighted-sums.ipynb"));
  for (const cell of nb.cells) {
    const src = sourceOf(cell);
    if (name && src.includes(`function ${name}(`)) {
      cell.source = toSourceLines(src.replace(/\/\/ BEGIN SOLUTION[\s\S]*?\/\/ END SOLUTION/, body));
    }
  }
  if (topLevel) {
    nb.cells.push({ cell_type: "code", metadata: {}, source: topLevel, outputs: [], execution_count: null });
  }
  await Deno.mkdir(join(dir, student), { recursive: true });
  await writeNotebook(join(dir, student, "01-weighted-sums.ipynb"), nb);
}

function pointsOf(r: SubmissionGrade): Record<string, number> {
  return Object.fromEntries(r.grades.map((g) => [g.name, g.points]));
}

Deno.test({
  name: "hostile submissions are graded correctly and never reach outside the sandbox",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "grade-test-" });
    const subs = join(tmp, "submissions"), out = join(tmp, "out"), canary = join(tmp, "pwned");
    try {
      const hostile: [string, string, string, string][] = [
        // student, function, body, message expected in the feedback
        ["honest", "", "", ""],
        ["loops", "denseParamCount", "while (true) {}", "ran longer than 10 s"],
        [
          "hoards",
          "denseParamCount",
          "const a: number[][] = []; while (true) a.push(new Array(1e6).fill(1)); return 0;",
          "memory",
        ],
        [
          "buffers",
          "denseParamCount",
          "const b = []; for (;;) b.push(new Float64Array(1 << 24).fill(1)); return 0;",
          "memory",
        ],
        [
          "reads",
          "denseParamCount",
          'Deno.readTextFileSync("/etc/hostname"); return (T * d) ** 2 + T * d;',
          "Requires read access",
        ],
        [
          "writes",
          "denseParamCount",
          `Deno.writeTextFileSync(${JSON.stringify(canary)}, "x"); return (T * d) ** 2 + T * d;`,
          "Requires write access",
        ],
        ["env", "denseParamCount", 'Deno.env.get("HOME"); return (T * d) ** 2 + T * d;', "Requires env access"],
        [
          "spawns",
          "denseParamCount",
          'new Deno.Command("/bin/sh", { args: ["-c", "true"] }).outputSync(); return 0;',
          "Requires run access",
        ],
        [
          "fetches",
          "causalAttentionFlops",
          'return fetch("http://127.0.0.1:8765").then(() => 0) as unknown as number;',
          "Requires net access",
        ],
        ["syntax", "effectiveWeights", "return await tf.zeros([1, 1]);", "failed to load"],
        ["never", "denseParamCount", "return new Promise<number>(() => {}) as unknown as number;", "did not settle"],
        [
          "chatty",
          "denseParamCount",
          'for (;;) console.log("x".repeat(1 << 16)); return 0;',
          "printed more than 1 MiB",
        ],
      ];
      for (const [student, name, body] of hostile) await submission(subs, student, name || null, body);
      // Hard-coded answers for the visible cases only: the hidden cases catch it.
      await submission(
        subs,
        "hardcoder",
        "denseParamCount",
        'return ({ "1,1": 2, "2,3": 42, "4,8": 1056, "16,64": 1049600, "2048,12288": 633318722764800 } as Record<string, number>)[`${T},${d}`] ?? 0;',
      );
      // Fake pass lines and a forged grading frame, printed at load time; the function is a stub.
      await submission(
        subs,
        "forger",
        "denseParamCount",
        'throw new NotImplementedError("denseParamCount");',
        'console.log("✔ denseParamCount: passed 5/5 cases — 1/1 points");\n' +
          'console.log(\'@@grade 00000000-0000-0000-0000-000000000000 {"kind":"done","name":"denseParamCount","records":[{"ok":2}]}\');',
      );
      // Tampering: replace check helpers, Math, prototypes and JSON; the function is wrong.
      await submission(
        subs,
        "tamperer",
        "denseParamCount",
        "return 1;",
        "(check01 as Record<string, unknown>).denseParamCount = async () => {};\n" +
          "Math.abs = () => 0;\n" +
          "Array.prototype.every = () => true;\n" +
          "Object.defineProperty(BigInt.prototype, 'valueOf', { value: () => 0n });\n" +
          'JSON.stringify = () => \'{"kind":"end"}\';',
      );

      const t0 = performance.now();
      const { results } = await gradeAll(subs, out, { jobs: 2, limits: LIMITS });
      const seconds = (performance.now() - t0) / 1000;
      const by = Object.fromEntries(results.map((r) => [r.student, r]));

      assertEquals(pointsOf(by.honest), ALL);
      for (const [student, name, , expected] of hostile.slice(1)) {
        const r = by[student];
        const want = student === "syntax" // a notebook that does not compile loses everything
          ? Object.fromEntries(Object.keys(ALL).map((k) => [k, 0]))
          : { ...ALL, [name]: 0 };
        assertEquals(
          pointsOf(r),
          want,
          `${student}: only ${name} loses its points; ${JSON.stringify(r.grades.map((g) => g.message))}`,
        );
        const g = r.grades.find((x) => x.name === name)!;
        assert(g.message?.includes(expected), `${student}: expected "${expected}" in: ${g.message}`);
      }
      assertEquals(pointsOf(by.hardcoder), { ...ALL, denseParamCount: 0 });
      const caught = by.hardcoder.grades.find((g) => g.name === "denseParamCount")!.message!;
      assertEquals(caught, "passed the 5 visible cases but failed hidden case 1 of 3");
      assertEquals(pointsOf(by.forger).denseParamCount, 0, "printed pass lines and forged frames award nothing");
      assertEquals(by.forger.grades.find((g) => g.name === "denseParamCount")!.status, "not-implemented");
      assertEquals(pointsOf(by.tamperer).denseParamCount, 0, "patched helpers and prototypes award nothing");
      assert(!(await Deno.stat(canary).then(() => true, () => false)), "the sandbox wrote a file");

      const csv = await Deno.readTextFile(join(out, "gradebook.csv"));
      assert(
        csv.startsWith(
          "student,01.attentionWeights,01.causalAttentionFlops,01.denseParamCount,01.effectiveWeights,01.multiHeadParamCount,total\r\n",
        ),
      );
      assert(csv.includes("honest,3,2,1,3,1,10\r\n"), csv);
      const canvas = await Deno.readTextFile(join(out, "gradebook-canvas.csv"));
      assert(canvas.startsWith("Student,ID,SIS User ID,SIS Login ID,Section,01-weighted-sums (10)\r\n"), canvas);
      assert(canvas.includes("honest,,,honest,,10\r\n"), canvas);
      const feedback = await Deno.readTextFile(join(out, "feedback", "loops.md"));
      assert(feedback.includes("✘ **denseParamCount** 0/1 — the submission ran longer than 10 s"), feedback);

      // A re-run skips every unchanged submission and writes the same gradebook.
      const again = await gradeAll(subs, out, { jobs: 2, limits: LIMITS });
      assertEquals([again.graded, again.skipped], [0, results.length]);
      assertEquals(await Deno.readTextFile(join(out, "gradebook.csv")), csv);
      console.log(`graded ${results.length} hostile submissions in ${seconds.toFixed(1)} s`);
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});
