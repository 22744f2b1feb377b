/**
 * `deno task grade` end to end, run as the task runs: with deno.json's own permissions for it (read, write, run,
 * env — not the --allow-all this test runner has), on the hostile corpus of corpus.ts plus honest students, then
 * the bookkeeping: re-runs, limits in the cache key, two graders on one folder, and kill -9.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../../lib/_testing.ts";
import { ROOT } from "../setup.ts";
import { exercisesByLesson } from "../../lib/check/mod.ts";
import { type Case, gradedLessons, hostileCases, writeHonestClass } from "./corpus.ts";
import type { SubmissionGrade } from "./report.ts";
import { fileSafe } from "./submissions.ts";

/** The grade task's command line from deno.json: `deno run <its permissions> tools/grading/grade.ts`. */
async function gradeCommand(): Promise<string[]> {
  const task: string = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).tasks.grade;
  const [deno, ...args] = task.split(/\s+/);
  assertEquals(deno, "deno");
  assert(!args.includes("--allow-all") && !args.includes("-A"), "the grade task runs without --allow-all");
  return args;
}

const DENO_DIR = Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache", "deno");

/** Starts the grader as the task does (cwd: the course, the given HOME and extra environment). */
async function startGrader(subs: string, out: string, extra: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: [...await gradeCommand(), subs, "--out", out, ...extra],
    cwd: ROOT,
    env: { DENO_DIR, NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function grade(subs: string, out: string, extra: string[], env: Record<string, string> = {}) {
  const r = await (await startGrader(subs, out, extra, env)).output();
  const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  assertEquals(r.code, 0, `the grader failed:\n${text}`);
  return text;
}

async function state(out: string, student: string, lesson = "01"): Promise<SubmissionGrade | undefined> {
  return await Deno.readTextFile(join(out, "state", fileSafe(student), `${lesson}.json`)).then(
    JSON.parse,
    () => undefined,
  );
}

const points = (r: SubmissionGrade) => Object.fromEntries(r.grades.map((g) => [g.name, g.points]));

/** A folder's entries, recursively (names only), to see that nothing was installed into node_modules. */
async function listing(dir: string, depth = 2): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    names.push(e.name);
    if (e.isDirectory && depth > 1) {
      names.push(...(await listing(join(dir, e.name), depth - 1)).map((n) => `${e.name}/${n}`));
    }
  }
  return names.sort();
}

/** A local "registry" that records every request (it must get none). */
function fakeRegistry() {
  const requests: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    requests.push(req.url);
    return new Response("{}", { status: 404 });
  });
  return { requests, url: `http://127.0.0.1:${server.addr.port}/`, close: () => server.shutdown() };
}

function checkCase(
  c: Case,
  r: SubmissionGrade | undefined,
  feedback: string,
  { skipped, csv, log }: { skipped: string; csv: string; log: string },
): void {
  const e = c.expect;
  const label = `${JSON.stringify(c.student)} (${c.what})`;
  // Every path not graded is listed with its reason: in skipped.txt, in the output, and (inside a student's
  // folder) in that student's feedback.
  for (const [path, reason] of e.skipped ?? []) {
    assert(
      skipped.split("\n").some((l) => l.startsWith(`${path}: `) && l.includes(reason)),
      `${label}: ${path} not listed as "${reason}" in:\n${skipped}`,
    );
    assert(
      log.split("\n").some((l) => l.startsWith(`not graded: ${path}: `) && l.includes(reason)),
      `${label}: ${path} not listed in the output`,
    );
    if (path.includes("/")) {
      assert(feedback.includes(`- \`${path}\`: `), `${label}: ${path} not listed in the feedback:\n${feedback}`);
    }
  }
  if (e.ungraded) {
    assertEquals(r, undefined, `${label}: must not be graded`);
    return;
  }
  assert(r, `${label}: not graded`);
  if (e.maxSandboxes !== undefined) {
    assert((r.sandboxes ?? 0) <= e.maxSandboxes, `${label}: ${r.sandboxes} sandboxes, more than ${e.maxSandboxes}`);
  }
  const messages = Object.fromEntries(r.grades.map((g) => [g.name, g.message ?? ""]));
  const detail = `${label}: ${JSON.stringify(r.grades.map((g) => [g.name, g.points, g.message]))}`;
  assert(!Object.values(messages).some((m) => m.includes("grader failed")), `${label}: a grader error`);
  if (e.allZero) {
    for (const g of r.grades) {
      assertEquals(g.points, 0, detail);
      assert(g.message?.includes(e.allZero), `${detail}\nexpected "${e.allZero}" in every message`);
    }
    return;
  }
  const got = points(r);
  for (const { name, points: full } of Object.values(exercisesByLesson[c.lesson ?? "01"])) {
    const want = e.points?.[name] ?? (e.othersAny ? undefined : full);
    if (want !== undefined) assertEquals(got[name], want, `${detail}\n${name}`);
  }
  for (const [name, text] of Object.entries(e.messages ?? {})) {
    assert(text && messages[name]?.includes(text), `${detail}\nexpected "${text}" in ${name}'s message`);
  }
  for (const text of e.feedback ?? []) {
    assert(feedback.includes(text), `${label}: "${text}" not in feedback:\n${feedback}`);
  }
  for (const text of e.notInFeedback ?? []) {
    assert(!feedback.includes(text), `${label}: "${text}" leaked into feedback:\n${feedback}`);
  }
  if (e.csvRow) assert(csv.includes(`\r\n${e.csvRow}`), `${label}: no row starting ${e.csvRow} in\n${csv}`);
}

Deno.test({
  name: "grade: the hostile corpus, under the grade task's own permissions, is graded as each case states",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "grade-test-" });
    const subs = join(tmp, "submissions"), out = join(tmp, "out"), home = join(tmp, "home");
    const canary = join(tmp, "pwned");
    const registry = fakeRegistry();
    try {
      await Deno.mkdir(home, { recursive: true });
      // The instructor's own npm settings point at a registry the sandbox must never contact.
      await Deno.writeTextFile(join(home, ".npmrc"), `registry=${registry.url}\n`);
      const honest = await writeHonestClass(subs, 2);
      const cases = hostileCases({ canary, submissions: subs });
      for (const c of cases) await c.write(subs, c.student);
      const lock = await Deno.readTextFile(join(ROOT, "deno.lock"));
      const modules = await listing(join(ROOT, "node_modules"));

      const t0 = performance.now();
      const log = await grade(subs, out, ["--jobs", "2", "--timeout", "8", "--memory", "700"], {
        HOME: home,
        NPM_CONFIG_REGISTRY: registry.url,
      });
      const seconds = (performance.now() - t0) / 1000;

      assert(!log.includes("grader error"), log);
      const csv = await Deno.readTextFile(join(out, "gradebook.csv"));
      const skipped = await Deno.readTextFile(join(out, "skipped.txt"));
      for (const s of honest) {
        for (const lesson of gradedLessons()) {
          const r = (await state(out, s, lesson))!;
          assert(r.grades.every((g) => g.points === g.maxPoints), `${s} ${lesson}: ${JSON.stringify(r.grades)}`);
        }
      }
      const failures: string[] = [];
      for (const c of cases) {
        const feedback = await Deno.readTextFile(join(out, "feedback", `${fileSafe(c.student)}.md`)).catch(() => "");
        try {
          checkCase(c, await state(out, c.student, c.lesson), feedback, { skipped, csv, log });
        } catch (err) {
          failures.push(err instanceof Error ? err.message : String(err));
        }
      }
      assertEquals(failures, [], failures.join("\n\n"));

      // Nothing reached outside: no file written, no package installed, no registry contacted.
      assert(!(await Deno.stat(canary).then(() => true, () => false)), "a sandbox wrote a file");
      assertEquals(await Deno.readTextFile(join(ROOT, "deno.lock")), lock, "deno.lock changed");
      assertEquals(await listing(join(ROOT, "node_modules")), modules, "node_modules changed");
      // The grader itself may look up its own packages there (the instructor's setting); a sandbox never.
      const own = Object.values(
        JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).imports as Record<string, string>,
      )
        .flatMap((s) => /^npm:(@?[^@]+)/.exec(s)?.[1] ?? []);
      const foreign = registry.requests.filter((url) =>
        !own.includes(decodeURIComponent(new URL(url).pathname.slice(1)))
      );
      assertEquals(foreign, [], "a sandbox contacted the instructor's npm registry");
      // Messages name paths relative to the submissions: no absolute path of this machine.
      for await (const f of Deno.readDir(join(out, "feedback"))) {
        const text = await Deno.readTextFile(join(out, "feedback", f.name));
        for (const abs of [ROOT, tmp]) assert(!text.includes(abs), `${f.name} shows ${abs}:\n${text}`);
      }
      // Every folder is one gradebook row, however odd its name; formulas are defused.
      assert(csv.startsWith('"student","01.attentionWeights",'), csv.slice(0, 200));
      for (const line of csv.split("\r\n").slice(1, -1)) assert(/^"[^=+@\-\t\r]/.test(line), `not defused: ${line}`);
      console.log(
        `graded ${cases.length} hostile cases and ${honest.length} honest students in ${seconds.toFixed(1)} s`,
      );
      console.log(log.split("\n").filter((l) => l.startsWith("graded")).join("\n"));
    } finally {
      await registry.close();
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "grade: re-runs reuse results, limit changes re-grade, two graders share a folder, kill -9 leaves nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "grade-test-" });
    const subs = join(tmp, "submissions"), out = join(tmp, "out");
    try {
      const [honest] = await writeHonestClass(subs, 1);
      const args = ["--jobs", "2", "--timeout", "30"];
      const n = gradedLessons().length;
      const first = await grade(subs, out, args);
      assert(first.includes(`graded ${n} notebook(s), 0 unchanged`), first);
      for (const lesson of gradedLessons()) {
        const r = (await state(out, honest, lesson))!;
        assert(r.grades.every((g) => g.points === g.maxPoints), `${lesson}: ${JSON.stringify(r.grades)}`);
      }
      const csv = await Deno.readTextFile(join(out, "gradebook.csv"));

      // Unchanged: nothing re-graded, the same gradebook. A different limit: everything re-graded.
      const again = await grade(subs, out, args);
      assert(again.includes(`graded 0 notebook(s), ${n} unchanged`), again);
      assertEquals(await Deno.readTextFile(join(out, "gradebook.csv")), csv);
      const more = await grade(subs, out, ["--jobs", "2", "--timeout", "30", "--memory", "1600"]);
      assert(more.includes(`graded ${n} notebook(s), 0 unchanged`), more);

      // Two graders into one folder: the second waits for the first, and both write the whole class.
      await Deno.remove(join(out, "state"), { recursive: true });
      const a = await startGrader(subs, out, args), b = await startGrader(subs, out, args);
      const [ra, rb] = await Promise.all([a.output(), b.output()]);
      const text = (r: Deno.CommandOutput) => new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
      assertEquals([ra.code, rb.code], [0, 0], text(ra) + text(rb));
      assert((text(ra) + text(rb)).includes("waiting for it to finish"), text(ra) + text(rb));
      assertEquals(await Deno.readTextFile(join(out, "gradebook.csv")), csv);

      // kill -9 of the grader while a sandbox loops: its sandboxes exit at once, and the next run completes.
      const loops = hostileCases({ canary: join(tmp, "c"), submissions: subs }).find((c) => c.student === "loops")!;
      await loops.write(subs, loops.student);
      const victim = await startGrader(subs, out, args);
      const sandboxes = async () => {
        const pids: number[] = [];
        for await (const p of Deno.readDir("/proc")) {
          if (!/^\d+$/.test(p.name)) continue;
          const env = await Deno.readTextFile(`/proc/${p.name}/environ`).catch(() => "");
          if (env.includes(`DENO_DIR=${join(out, ".sandbox", "deno")}`)) pids.push(Number(p.name));
        }
        return pids;
      };
      for (let i = 0; i < 600 && !(await sandboxes()).length; i++) await new Promise((r) => setTimeout(r, 100));
      assert((await sandboxes()).length > 0, "no sandbox started");
      await new Promise((r) => setTimeout(r, 3000)); // the looping one is looping by now
      victim.kill("SIGKILL");
      await victim.status;
      let left = await sandboxes();
      for (let i = 0; i < 50 && left.length; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = await sandboxes();
      }
      assertEquals(left, [], "sandboxes outlived the grader");
      await Deno.remove(join(subs, loops.student), { recursive: true });
      const after = await grade(subs, out, args);
      assert(after.includes(`${n} unchanged`), after);
      assertEquals(await Deno.readTextFile(join(out, "gradebook.csv")), csv);
      const storage = (await listing(join(out, ".sandbox", "deno"), 3)).filter((n) =>
        /^location_data\/(web_cache\/)?[0-9a-f]{64}/.test(n)
      );
      assertEquals(storage, [], "no sandbox's storage is left behind");
      // Nor any process's copy of the module cache (the killed grader's were removed when the next one started).
      const copies = await listing(join(out, ".sandbox", "runs"), 1).catch(() => []); // none: no folder
      assertEquals(copies, [], "a sandbox's module cache is left behind");
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});
