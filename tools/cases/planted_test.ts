/**
 * The planted set (tools/cases/planted.ts) through both routes a student's function takes: the exercise
 * notebook's checks (the notebook's code as a module, its check calls made in order on the backend the notebook
 * picks) and `deno task grade` (a submissions folder, graded in its sandbox on cpu). Goals of issue 10: every
 * mistake caught by the visible checks, the right cause named for ≥ 90%, no correct solution losing a point.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../../lib/_testing.ts";
import { assertCausePhrasing } from "../../lib/check/_testing.ts";
import { gradeAll, type Limits } from "../grading/grade.ts";
import { ROOT } from "../setup.ts";
import { judge, notebookRoute, type Outcome, PLANTED, type Planted, submissions, writeSubmissions } from "./planted.ts";

/** A tally line per route. */
function tally(route: string, entries: Planted[], outcomes: Map<string, Outcome>, by: "notebook" | "grader") {
  const bugs = entries.filter((e) => e.kind === "bug"), good = entries.filter((e) => e.kind === "correct");
  const caught = bugs.filter((e) => judge(e, outcomes.get(e.id)!, by).caught);
  const named = caught.filter((e) => judge(e, outcomes.get(e.id)!, by).named);
  const falseZeros = good.filter((e) => !outcomes.get(e.id)!.full);
  return {
    route,
    line: `${route}: caught ${caught.length}/${bugs.length}, cause named ${named.length}/${bugs.length}, ` +
      `correct alternatives with full marks ${good.length - falseZeros.length}/${good.length}`,
    missed: bugs.filter((e) => !caught.includes(e)).map((e) => e.id),
    unnamed: caught.filter((e) => !named.includes(e)).map((e) => `${e.id}: ${outcomes.get(e.id)!.text}`),
    falseZeros: falseZeros.map((e) => `${e.id}: ${outcomes.get(e.id)!.text}`),
    named: named.length,
    bugs: bugs.length,
  };
}

Deno.test({
  name:
    "the planted set: every mistake caught, ≥ 90% named, no correct solution loses a point — in the notebook and the grader",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const groups = submissions();
    const scratch = join(ROOT, ".cache", "planted");
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
    await Deno.mkdir(scratch, { recursive: true });
    try {
      // Route 1: the notebook's checks.
      const inNotebook = new Map<string, Outcome>();
      const collateral: string[] = [];
      for (const [i, group] of groups.entries()) {
        const results = await notebookRoute(group, scratch, `group${i}`);
        for (const e of group) inNotebook.set(e.id, results.get(e.name)!);
        for (const [name, o] of results) {
          if (o.diagnosis) assertCausePhrasing(o.diagnosis);
          const replaced = group.some((e) => e.name === name || (e.also && name in e.also));
          if (!replaced && !o.full) collateral.push(`group ${i}: the untouched ${name} lost points: ${o.text}`);
          const broken = group.find((e) => e.chargedOnce && e.also && name in e.also);
          if (broken && o.full) collateral.push(`group ${i}: ${name}, broken for ${broken.id}, kept its points`);
        }
      }
      // Route 2: deno task grade on a submissions folder.
      const subs = join(scratch, "submissions"), out = join(scratch, "graded");
      const byStudent = await writeSubmissions(subs, groups);
      const limits: Limits = { timeoutS: 120, memoryMb: 1536, maxOutputBytes: 4 << 20 };
      const { results } = await gradeAll(subs, out, { jobs: 2, limits });
      const graded = new Map<string, Outcome>();
      for (const r of results) {
        const group = byStudent.get(r.student)!;
        for (const g of r.grades) {
          const entry = group.find((e) => e.name === g.name);
          const o = {
            full: g.status === "passed" && g.points === g.maxPoints,
            points: g.points,
            text: g.message ?? "",
          };
          if (entry) graded.set(entry.id, o);
          else if (!o.full && !group.some((e) => e.also && g.name in e.also)) {
            collateral.push(`${r.student}: the untouched ${g.name} lost points in the grader: ${o.text}`);
          }
        }
      }
      // A notebook of correct alternatives only (chained methods, tf.einsum, loops …) scores full marks.
      for (const r of results) {
        if (byStudent.get(r.student)!.every((e) => e.kind === "correct")) {
          const [got, max] = [
            r.grades.reduce((s, g) => s + g.points, 0),
            r.grades.reduce((s, g) => s + g.maxPoints, 0),
          ];
          if (got !== max) collateral.push(`${r.student} (correct alternatives only) got ${got}/${max}`);
        }
      }
      const tallies = [
        tally("in-notebook checks", PLANTED, inNotebook, "notebook"),
        tally("deno task grade", PLANTED, graded, "grader"),
      ];
      for (const t of tallies) {
        console.log(t.line);
        for (const u of t.unnamed) console.log(`  cause not named: ${u}`);
      }
      assertEquals(collateral, []);
      for (const t of tallies) {
        assertEquals(t.missed, [], `${t.route}: mistakes not caught`);
        assertEquals(t.falseZeros, [], `${t.route}: correct solutions that lost points`);
        assert(t.named >= 0.9 * t.bugs, `${t.route}: causes named for only ${t.named}/${t.bugs}`);
      }
    } finally {
      await Deno.remove(scratch, { recursive: true }).catch(() => {});
    }
  },
});
