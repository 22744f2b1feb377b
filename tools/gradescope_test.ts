/**
 * `deno task gradescope`: the zip as Gradescope's autograder specification lays it out, read back by Python's
 * zipfile (an independent reader); then a simulated /autograder (a temporary folder: the zip unpacked into
 * source/, run_autograder copied beside it, the course's installed node_modules hard-linked instead of `deno
 * install`, this Deno instead of PyPI's), setup.sh run there, and run_autograder run on three submissions (a
 * solution, a stub among other files, a hostile notebook), each results.json checked against the specification.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../lib/_testing.ts";
import { codeOf, secretRegions, squash } from "./_testing.ts";
import { autograderEntries, writeAutograders } from "./gradescope.ts";
import { DEFAULT_BACKEND, DEFAULT_LIMITS } from "./grading/grade.ts";
import { LESSON01, lesson01 } from "./grading/corpus.ts";
import { pickNotebook } from "./grading/gradescope.ts";
import { serializeNotebook } from "./notebook.ts";
import { ROOT } from "./setup.ts";

const decoder = new TextDecoder();

async function run(cmd: string, args: string[], env: Record<string, string> = {}, cwd = ROOT) {
  const r = await new Deno.Command(cmd, { args, cwd, env: { NO_COLOR: "1", ...env }, stdin: "null" }).output();
  return { code: r.code, out: decoder.decode(r.stdout), err: decoder.decode(r.stderr) };
}

const python = async (script: string, ...args: string[]) => {
  const r = await run("python3", ["-c", script, ...args]);
  assertEquals(r.code, 0, r.err);
  return r.out;
};

// ------------------------------------------------------------------- the specification, as the test reads it

const VISIBILITY = ["hidden", "after_due_date", "after_published", "visible"];
const FORMATS = ["text", "html", "simple_format", "md", "ansi"];
const TOP_KEYS = [
  "score",
  "execution_time",
  "output",
  "output_format",
  "test_output_format",
  "test_name_format",
  "visibility",
  "stdout_visibility",
  "extra_data",
  "tests",
  "leaderboard",
];
const TEST_KEYS = [
  "score",
  "max_score",
  "status",
  "name",
  "name_format",
  "number",
  "output",
  "output_format",
  "tags",
  "visibility",
  "extra_data",
];

type Json = Record<string, unknown>;

/** Checks results.json against the autograder specification and the course's points; returns it. */
function checkResults(text: string, maxPoints: number): Json & { tests: Json[]; score: number } {
  const r = JSON.parse(text);
  for (const k of Object.keys(r)) assert(TOP_KEYS.includes(k), `results.json: unknown key ${k}`);
  assert(typeof r.score === "number" && Number.isFinite(r.score) && r.score >= 0, "score");
  assert(Number.isInteger(r.execution_time) && r.execution_time >= 0, "execution_time: whole seconds");
  assert(typeof r.output === "string" && r.output.length > 0, "output");
  for (const k of ["output_format", "test_output_format", "test_name_format"]) {
    assert(r[k] === undefined || FORMATS.includes(r[k]), `${k}: ${r[k]}`);
  }
  assert(r.visibility === undefined || VISIBILITY.includes(r.visibility), "visibility");
  // The submission's own printing must never reach students.
  assertEquals(r.stdout_visibility, "hidden");
  assert(Array.isArray(r.tests) && r.tests.length > 0, "tests");
  const names = new Set<string>();
  for (const t of r.tests as Json[]) {
    for (const k of Object.keys(t)) assert(TEST_KEYS.includes(k), `test: unknown key ${k}`);
    assert(typeof t.name === "string" && t.name && !names.has(t.name), `test name ${t.name}`);
    names.add(t.name as string);
    assert(typeof t.number === "string" && /^\d+(\.\d+)*$/.test(t.number), `number ${t.number}`);
    assert(typeof t.score === "number" && typeof t.max_score === "number", `${t.name}: scores`);
    assert(0 <= (t.score as number) && (t.score as number) <= (t.max_score as number), `${t.name}: 0 ≤ score ≤ max`);
    assert(t.status === "passed" || t.status === "failed", `${t.name}: status ${t.status}`);
    assert(VISIBILITY.includes(t.visibility as string), `${t.name}: visibility ${t.visibility}`);
    assert(typeof t.output === "string", `${t.name}: output`);
    assert(Array.isArray(t.tags) && t.tags.every((x) => typeof x === "string"), `${t.name}: tags`);
  }
  const sum = (k: string) => (r.tests as Json[]).reduce((a, t) => a + (t[k] as number), 0);
  assertEquals(sum("score"), r.score, "the score is the tests' sum");
  assertEquals(sum("max_score"), maxPoints, "the tests' points are the lesson's points");
  return r;
}

// ------------------------------------------------------------------------------------------------ the tests

Deno.test("pickNotebook: the course's name nearest the top, else the only notebook of the lesson; never another lesson's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gs-pick-" });
  const touch = async (path: string) => {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, path), "{}");
  };
  const pick = async () => {
    const p = await pickNotebook(dir, "01", "01-weighted-sums.ipynb");
    return "name" in p ? p.name : `none: ${p.message}`;
  };
  try {
    assert((await pick()).startsWith("none: no notebook for this lesson was submitted"));
    await touch("02-queries-keys-values.ipynb"); // another lesson's: never graded
    assert((await pick()).startsWith("none:"));
    await touch("mine.ipynb");
    assertEquals(await pick(), "mine.ipynb");
    await touch("repo/exercises/01-weighted-sums.ipynb");
    assertEquals(await pick(), "repo/exercises/01-weighted-sums.ipynb");
    await touch("01-weighted-sums.ipynb");
    assertEquals(await pick(), "01-weighted-sums.ipynb");
    await touch(".ipynb_checkpoints/01-weighted-sums-checkpoint.ipynb");
    await Deno.symlink("/etc/passwd", join(dir, "link.ipynb"));
    assertEquals(await pick(), "01-weighted-sums.ipynb");
    const p = await pickNotebook(dir, "01", "01-weighted-sums.ipynb");
    assert(p.ignored.some((i) => i.startsWith("link.ipynb (not followed)")), JSON.stringify(p.ignored));
    assert(p.ignored.some((i) => i.startsWith("02-queries-keys-values.ipynb (lesson 02")), JSON.stringify(p.ignored));
    await Deno.remove(join(dir, "01-weighted-sums.ipynb"));
    await touch("a/01-weighted-sums.ipynb"); // nearest the top now …
    assertEquals(await pick(), "a/01-weighted-sums.ipynb");
    await touch("b/01-weighted-sums.ipynb"); // … but two at the same depth: neither
    assert((await pick()).includes("none can be told apart"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "Gradescope autograder: the zip, setup.sh and run_autograder in a simulated /autograder, results.json per the spec",
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "gs-" });
    // The simulated /autograder lies in .cache/ (ignored by git): on the file system of node_modules, which it
    // hard-links.
    await Deno.mkdir(join(ROOT, ".cache"), { recursive: true });
    const ag = await Deno.makeTempDir({ dir: join(ROOT, ".cache"), prefix: "gradescope-autograder-" });
    try {
      const [zip] = await writeAutograders(join(tmp, "out"), { lessons: ["01"] });
      assert(zip.endsWith("/gradescope-01-weighted-sums.zip"), zip);

      // 1. The zip, read by Python's zipfile: CRCs check, the two scripts at the root and executable.
      const modes: Record<string, number> = JSON.parse(
        await python(
          "import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n" +
            "print(json.dumps({i.filename: i.external_attr >> 16 for i in z.infolist()}))",
          zip,
        ),
      );
      assertEquals(modes["setup.sh"], 0o100755);
      assertEquals(modes["run_autograder"], 0o100755);
      for (
        const f of [
          "autograder.json",
          "course/deno.json",
          "course/deno.lock",
          "course/exercises/01-weighted-sums.ipynb",
        ]
      ) {
        assert(f in modes, `missing ${f}`);
      }
      const names = Object.keys(modes);
      assert(
        !names.some((f) =>
          f.includes("solutions/") || f.endsWith("_test.ts") || f === "course/tools/grading/corpus.ts"
        ),
        "solutions, tests or the test corpus in the zip",
      );
      // Every local module of the grader's and the sandbox's module graphs is inside.
      for (const entry of ["gradescope.ts", "sandbox_main.ts", "sandbox_worker.ts"]) {
        const info = await run(Deno.execPath(), ["info", "--json", `tools/grading/${entry}`]);
        assertEquals(info.code, 0, info.err);
        for (const m of JSON.parse(info.out).modules as { specifier: string }[]) {
          if (!m.specifier.startsWith(`file://${ROOT}/`)) continue;
          const rel = m.specifier.slice(`file://${ROOT}/`.length);
          assert(`course/${rel}` in modes, `${entry} imports ${rel}, which is not in the zip`);
        }
      }
      // Unpacked (Python's zipfile), as Gradescope puts it in /autograder/source.
      const src = join(ag, "source");
      await python("import sys, zipfile\nzipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])", zip, src);
      const regions = await secretRegions();
      for (const f of names) {
        const text = await Deno.readTextFile(join(src, f)).catch(() => "");
        assert(!/BEGIN (SOLUTION|HIDDEN)/.test(text), `${f} holds a solution marker`);
        const flat = squash(f.endsWith(".ipynb") ? codeOf(text) : text);
        for (const region of regions) assert(!flat.includes(squash(region.join(""))), `${f} holds a solution body`);
      }

      // 2. The image build: setup.sh with this Deno and the course's node_modules (hard links: the sandbox may
      //    read only below course/), so it installs nothing; it ends with the self-check on the exercise stub.
      await Deno.chmod(join(src, "setup.sh"), 0o755); // zipfile does not restore modes; Gradescope runs the scripts
      await Deno.chmod(join(src, "run_autograder"), 0o755);
      await Deno.copyFile(join(src, "run_autograder"), join(ag, "run_autograder"));
      await Deno.chmod(join(ag, "run_autograder"), 0o755);
      const cp = await run("cp", ["-al", join(ROOT, "node_modules"), join(src, "course", "node_modules")]);
      assertEquals(cp.code, 0, cp.err);
      const env = { AUTOGRADER_ROOT: ag, DENO: Deno.execPath(), HOME: join(tmp, "home"), PATH: Deno.env.get("PATH")! };
      const setup = await run("bash", [join(src, "setup.sh")], env, ag);
      assertEquals(setup.code, 0, `setup.sh failed:\n${setup.out}\n${setup.err}`);
      assert(setup.out.includes("self-check passed"), setup.out);

      // 3. Submissions.
      const max = Object.values(LESSON01).reduce((a, b) => a + b, 0);
      const grade = async (files: Record<string, string>) => {
        for (const d of ["submission", "results"]) {
          await Deno.remove(join(ag, d), { recursive: true }).catch(() => {});
          await Deno.mkdir(join(ag, d));
        }
        for (const [path, text] of Object.entries(files)) {
          await Deno.mkdir(join(ag, "submission", path, ".."), { recursive: true });
          await Deno.writeTextFile(join(ag, "submission", path), text);
        }
        const r = await run(join(ag, "run_autograder"), [], env, ag);
        assertEquals(r.code, 0, `run_autograder failed:\n${r.out}\n${r.err}`);
        const text = await Deno.readTextFile(join(ag, "results", "results.json"));
        return { text, results: checkResults(text, max), log: r.out + r.err };
      };
      const test = (r: { tests: Json[] }, name: string) => {
        const t = r.tests.find((x) => x.name === name);
        assert(t, `no test "${name}" in ${r.tests.map((x) => x.name).join(", ")}`);
        return t!;
      };

      // A solution: every point, on tests whose visibility the spec knows; hidden cases after publishing.
      const solution = await Deno.readTextFile(join(ROOT, "solutions", "01-weighted-sums.ipynb"));
      const full = await grade({ "01-weighted-sums.ipynb": solution });
      assertEquals(full.results.score, max);
      assert(full.results.tests.every((t) => t.status === "passed"));
      assertEquals(test(full.results, "Exercise 1: denseParamCount (hidden cases)").visibility, "after_published");
      assertEquals(test(full.results, "Exercise 1: denseParamCount (visible cases)").visibility, "visible");
      await Deno.writeTextFile(join(tmp, "results-solution.json"), full.text); // kept for a look while debugging

      // The stub, renamed, in a folder, beside another lesson's notebook: graded, 0 points, "not implemented".
      const stub = await Deno.readTextFile(join(ROOT, "exercises", "01-weighted-sums.ipynb"));
      const zero = await grade({ "work/my attempt.ipynb": stub, "02-queries-keys-values.ipynb": stub });
      assertEquals(zero.results.score, 0);
      assert(String(zero.results.output).includes("Graded work/my attempt.ipynb"), String(zero.results.output));
      assert(String(zero.results.output).includes("02-queries-keys-values.ipynb (lesson 02's notebook)"));
      for (const t of zero.results.tests.filter((t) => t.visibility === "visible")) {
        assert(String(t.output).startsWith("Not implemented"), JSON.stringify(t));
      }

      // Hostile: the visible answers hard-coded (the hidden cases catch it: visible passed, hidden failed), and a
      // function that tries to write results.json and the config and to read the hidden cases before answering
      // (it answers wrongly if any of that works), plus forged results printed on stdout.
      const canary = join(ag, "results", "pwned.json");
      const probe = `for (const f of [
    () => Deno.writeTextFileSync(${JSON.stringify(canary)}, '{"score": 1000}'),
    () => Deno.writeTextFileSync(${JSON.stringify(join(src, "autograder.json"))}, "{}"),
    () => Deno.readTextFileSync(${JSON.stringify(join(src, "course", "tools", "grading", "hidden01_cases.ts"))}),
  ]) { try { f(); return -1; } catch { /* denied */ } }`;
      const hostile = await lesson01({
        bodies: {
          denseParamCount:
            'return ({ "1,1": 2, "2,3": 42, "4,8": 1056, "16,64": 1049600, "2048,12288": 633318722764800 } as Record<string, number>)[`${T},${d}`] ?? 0;',
        },
        prefix: { multiHeadParamCount: probe },
        early: ["console.log(JSON.stringify({ score: 1000, tests: [] }));"],
      });
      const bad = await grade({ "01-weighted-sums.ipynb": serializeNotebook(hostile) });
      assertEquals(bad.results.score, max - LESSON01.denseParamCount, bad.text);
      const vis = test(bad.results, "Exercise 1: denseParamCount (visible cases)");
      const hid = test(bad.results, "Exercise 1: denseParamCount (hidden cases)");
      assertEquals([vis.status, vis.score, hid.status, hid.score], ["passed", 0, "failed", 0]);
      assertEquals(hid.output, "Passed the visible cases but not the hidden cases.");
      assertEquals(test(bad.results, "Exercise 2: multiHeadParamCount (hidden cases)").score, 1);
      assert(!await Deno.stat(canary).then(() => true, () => false), "the sandbox wrote into results/");
      assertEquals(
        JSON.parse(await Deno.readTextFile(join(src, "autograder.json"))).lesson,
        "01",
        "the config is intact",
      );
      // The exercise notebook of the zip is the course's (the self-check graded it).
      assertEquals(await Deno.readTextFile(join(src, "course", "exercises", "01-weighted-sums.ipynb")), stub);
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      await Deno.remove(ag, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("gradescope: a lesson whose exercises call earlier ones ships those earlier ones' solution cells only", async () => {
  // The grader judges temperatureForMaxWeight again with the course's softmaxWithTemperature (grade_notebook.ts
  // withCourseVersions), so lesson 04's zip holds that one cell of solutions/, and no other solution body.
  const notebook = "04-scaling.ipynb";
  const entries = await autograderEntries({
    lesson: "04",
    notebook,
    backend: DEFAULT_BACKEND,
    limits: DEFAULT_LIMITS,
    hiddenVisibility: "after_published",
  });
  const solutions = entries.filter((e) => e.path.includes("solutions/"));
  assertEquals(solutions.map((e) => e.path), [`course/solutions/${notebook}`]);
  const cells = JSON.parse(new TextDecoder().decode(solutions[0].data)).cells as { source: string | string[] }[];
  assertEquals(cells.length, 1);
  const code = [cells[0].source].flat().join("");
  assert(/function softmaxWithTemperature\(/.test(code), code);
  const shipped = squash(code);
  const inside = (await secretRegions()).filter((r) => shipped.includes(squash(r.join(""))));
  assertEquals(inside.length, 1, "exactly one solution body (softmaxWithTemperature's)");
  assert(inside[0].some((line) => line.includes("Math.max(...logits)")), inside[0].join("\n"));
  // Lesson 01's exercises call none of each other: no solutions at all.
  const l01 = await autograderEntries({
    lesson: "01",
    notebook: "01-weighted-sums.ipynb",
    backend: DEFAULT_BACKEND,
    limits: DEFAULT_LIMITS,
    hiddenVisibility: "after_published",
  });
  assert(!l01.some((e) => e.path.includes("solutions/")));
});
