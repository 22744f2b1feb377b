/**
 * What `deno task grade` writes for people: the gradebook, Canvas's import file and each student's feedback.
 *
 * Student folder names are untrusted text. In the CSV files every text cell is quoted (RFC 4180) and one that a
 * spreadsheet would read as a formula — starting with `=`, `+`, `-`, `@`, a tab, a carriage return or a NUL
 * (or their full-width forms), after any leading spaces — gets a leading `'`, as OWASP's CSV-injection guidance
 * says; numbers are written as numbers.
 * @module
 */
import type { Skipped } from "./submissions.ts";
import { printable } from "./submissions.ts";

/** The result of one exercise of one submission. */
export interface ExerciseGrade {
  exercise: string;
  name: string;
  points: number;
  maxPoints: number;
  status: "passed" | "failed" | "not-implemented" | "error";
  /** For the student: the first failing visible case, or why the code could not be graded. */
  message?: string;
  /** The hidden cases' verdict, when they ran (the exercise has some and its visible cases all passed). */
  hidden?: "passed" | "failed";
}

/** One graded lesson of one student, as stored in <out>/state/. */
export interface SubmissionGrade {
  student: string;
  lesson: string;
  /** The graded notebook's file name (empty when none could be chosen). */
  notebook: string;
  hash: string;
  grades: ExerciseGrade[];
  /** Notes for the student, e.g. cells that threw when the grader ran the notebook. */
  notes: string[];
  seconds: number;
  /** Sandbox processes the grading took (attempts; a stop is re-tried in a fresh one, see grade_notebook.ts). */
  sandboxes?: number;
}

// deno-lint-ignore no-control-regex
const FORMULA = /^[\s\u3000]*[=+\-@\t\r\u0000\uFF1D\uFF0B\uFF0D\uFF20]/;

/** One CSV cell: numbers as they are; text quoted, and defused if a spreadsheet would run it as a formula. */
export function csvCell(value: string | number): string {
  if (typeof value === "number") return String(value);
  const text = FORMULA.test(value) ? `'${value}` : value;
  return `"${text.replaceAll('"', '""')}"`;
}

function csv(rows: (string | number)[][]): string {
  return rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

const total = (r: SubmissionGrade) => r.grades.reduce((a, g) => a + g.points, 0);
const maxTotal = (r: SubmissionGrade) => r.grades.reduce((a, g) => a + g.maxPoints, 0);
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** The gradebook: a row per student, a column per exercise (points), then the total. */
export function gradebookCsv(results: SubmissionGrade[]): string {
  const columns = sorted(results.flatMap((r) => r.grades.map((g) => g.exercise)));
  const rows: (string | number)[][] = [["student", ...columns, "total"]];
  for (const s of sorted(results.map((r) => r.student))) {
    const points = new Map(
      results.filter((r) => r.student === s).flatMap((r) => r.grades.map((g) => [g.exercise, g.points] as const)),
    );
    rows.push([s, ...columns.map((c) => points.get(c) ?? 0), [...points.values()].reduce((a, b) => a + b, 0)]);
  }
  return csv(rows);
}

/**
 * The gradebook in Canvas's import layout (what Canvas's own export writes): Student, ID, SIS User ID, SIS Login
 * ID, Section, then one column per lesson titled after the course's notebook ("01-weighted-sums"), and under the
 * header a "Points Possible" row with each lesson's points. Canvas reads a title ending in a number in parentheses
 * as the id of an existing assignment, so the titles carry none: a column Canvas does not know becomes a new
 * assignment with those points. The student folder name goes into Student and SIS Login ID (Canvas matches
 * students by ID, then SIS User ID, then SIS Login ID, then name): name the folders by SIS Login ID.
 */
export function canvasCsv(results: SubmissionGrade[], lessonNames: Record<string, string>): string {
  const lessons = sorted(results.map((r) => r.lesson));
  const max = (l: string) => maxTotal(results.find((r) => r.lesson === l)!);
  const title = (l: string) => (lessonNames[l] ?? `lesson ${l}`).replace(/\.ipynb$/, "");
  const rows: (string | number)[][] = [
    ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ...lessons.map(title)],
    [CANVAS_POINTS_POSSIBLE, "", "", "", "", ...lessons.map(max)],
  ];
  for (const s of sorted(results.map((r) => r.student))) {
    const of = (l: string) => results.find((r) => r.student === s && r.lesson === l);
    rows.push([s, "", "", s, "", ...lessons.map((l) => (of(l) ? total(of(l)!) : ""))]);
  }
  return csv(rows);
}

/** The first cell of the second row of Canvas's gradebook export, which its import reads as the points. */
export const CANVAS_POINTS_POSSIBLE = "    Points Possible";

/** The feedback file of one student: each lesson's points, per exercise, and what was not graded. */
export function feedbackMarkdown(student: string, results: SubmissionGrade[], skipped: Skipped[]): string {
  const lines = [`# Feedback for ${printable(student)}`, ""];
  for (const r of [...results].sort((a, b) => (a.lesson < b.lesson ? -1 : 1))) {
    lines.push(
      `## ${r.notebook ? printable(r.notebook) : `lesson ${r.lesson}`}: ${total(r)}/${maxTotal(r)} points`,
      "",
    );
    for (const g of r.grades) {
      const mark = g.status === "passed" ? "✔" : g.status === "not-implemented" ? "…" : "✘";
      lines.push(`- ${mark} **${g.name}** ${g.points}/${g.maxPoints}${g.message ? ` — ${g.message}` : ""}`);
    }
    if (r.notes.length) lines.push("", ...r.notes.map((n) => `> ${n}`));
    lines.push("");
  }
  if (skipped.length) {
    lines.push("## Not graded", "", ...skipped.map((s) => `- \`${s.path}\`: ${s.reason}`), "");
  }
  return lines.join("\n");
}

/** Every path that was not graded, one per line: `path: reason`. */
export function skippedText(skipped: Skipped[]): string {
  return skipped.map((s) => `${s.path}: ${s.reason}\n`).join("");
}
