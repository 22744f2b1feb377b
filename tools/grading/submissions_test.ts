/** Which notebooks get graded, what is listed as not graded and why; file names for any folder name; the CSVs. */
import { join } from "node:path";
import { assert, assertEquals } from "../../lib/_testing.ts";
import { canvasCsv, csvCell, feedbackMarkdown, gradebookCsv, type SubmissionGrade } from "./report.ts";
import { fileSafe, findSubmissions } from "./submissions.ts";

const LESSONS = { "01": "01-weighted-sums.ipynb", "02": "02-queries-keys-values.ipynb" };

Deno.test("findSubmissions: one notebook per lesson by a fixed rule, and every other path listed with its reason", async () => {
  const dir = await Deno.makeTempDir({ prefix: "subs-" });
  try {
    const touch = async (path: string) => {
      await Deno.mkdir(join(dir, path, ".."), { recursive: true });
      await Deno.writeTextFile(join(dir, path), "{}");
    };
    await touch("bob/01-weighted-sums.ipynb");
    await touch("bob/01-weighted-sums (1).ipynb"); // a copy: the course's name wins
    await touch("bob/02-mine.ipynb"); // the only one for lesson 02: graded whatever its name
    await touch("carol/01-a.ipynb");
    await touch("carol/01-b.ipynb"); // two, neither with the course's name: neither graded
    await touch("carol/09-later.ipynb");
    await touch("carol/notes.txt");
    await touch("carol/.ipynb_checkpoints/01-weighted-sums-checkpoint.ipynb");
    await touch("carol/sub/01-weighted-sums.ipynb");
    await touch(".hidden/01-weighted-sums.ipynb");
    await touch("line\nbreak/01-weighted-sums.ipynb");
    await touch("loose-file.ipynb");
    await Deno.mkdir(join(dir, "empty"));
    await Deno.symlink(join(dir, "bob"), join(dir, "linked"));
    await Deno.mkdir(join(dir, "dave"));
    await Deno.symlink("/etc/passwd", join(dir, "dave", "01-weighted-sums.ipynb"));

    const found = await findSubmissions(dir, LESSONS);
    assertEquals(found.submissions.map((s) => `${s.student}/${s.notebook}`), [
      "bob/01-weighted-sums.ipynb",
      "bob/02-mine.ipynb",
    ]);
    assertEquals(found.ambiguous.map((a) => [a.student, a.lesson, a.notebooks]), [["carol", "01", [
      "01-a.ipynb",
      "01-b.ipynb",
    ]]]);
    assert(
      found.ambiguous[0].message.includes("name the one to grade 01-weighted-sums.ipynb"),
      found.ambiguous[0].message,
    );
    const reasons = Object.fromEntries(found.skipped.map((s) => [s.path, s.reason]));
    const expect: Record<string, string> = {
      ".hidden": "hidden entry",
      "bob/01-weighted-sums (1).ipynb": "another notebook for lesson 01 is graded: 01-weighted-sums.ipynb",
      "carol/.ipynb_checkpoints": "hidden entry",
      "carol/01-a.ipynb": "none named 01-weighted-sums.ipynb",
      "carol/01-b.ipynb": "none named 01-weighted-sums.ipynb",
      "carol/09-later.ipynb": "lesson 09 has no graded exercises",
      "carol/notes.txt": "not a lesson notebook",
      "carol/sub": "a folder",
      "dave/01-weighted-sums.ipynb": "symbolic link",
      "dave/": "no lesson notebook to grade",
      "empty/": "no lesson notebook to grade",
      "line\\u000abreak": "control character",
      "linked": "symbolic link",
      "loose-file.ipynb": "not a student folder",
    };
    assertEquals(Object.keys(reasons).sort(), Object.keys(expect).sort());
    for (const [path, reason] of Object.entries(expect)) {
      assert(reasons[path].includes(reason), `${path}: ${reasons[path]}`);
    }
    assertEquals(found.skipped.find((s) => s.path === "carol/notes.txt")?.student, "carol");
    assertEquals((await findSubmissions(dir, LESSONS)).skipped, found.skipped, "the same order every time");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fileSafe: distinct names never share a file, and stay readable when they can", () => {
  const names = [
    "x",
    "x__01-weighted-sums.ipynb",
    "x%5F",
    "x_",
    ".x",
    "%2Ex",
    "a/b",
    "a%2Fb",
    "Zoë",
    "=SUM(1)",
    "l".repeat(250),
    "l".repeat(251),
  ];
  const safe = names.map(fileSafe);
  assertEquals(new Set(safe).size, names.length, JSON.stringify(safe));
  for (const s of safe) assert(/^[A-Za-z0-9_%~.-]+$/.test(s) && !s.startsWith(".") && s.length <= 200, s);
  assertEquals(fileSafe("alice.smith"), "alice.smith");
});

Deno.test("csvCell: formulas are defused as OWASP says, quotes doubled, numbers left as numbers", () => {
  for (const risky of ["=1+1", "+1", "-1", "@SUM(1)", "\t=1", "\r=1", "  =1", "\uFF1D1", "\u0000x"]) {
    assert(csvCell(risky).startsWith(`"'`), `${JSON.stringify(risky)} → ${csvCell(risky)}`);
  }
  assertEquals(csvCell('say "hi", ok'), '"say ""hi"", ok"');
  assertEquals(csvCell("alice"), '"alice"');
  assertEquals(csvCell(-3), "-3");
});

Deno.test("gradebooks: a column per exercise, one Canvas column per lesson named after the course's notebook", () => {
  const grade = (student: string, notebook: string, points: number): SubmissionGrade => ({
    student,
    lesson: "01",
    notebook,
    hash: "",
    grades: [{ exercise: "01.f", name: "f", points, maxPoints: 2, status: points ? "passed" : "failed" }],
    notes: [],
    seconds: 0,
  });
  const results = [grade("b", "01-weighted-sums (1).ipynb", 2), grade("a", "01-weighted-sums.ipynb", 0)];
  assertEquals(gradebookCsv(results), '"student","01.f","total"\r\n"a",0,0\r\n"b",2,2\r\n');
  assertEquals(
    canvasCsv(results, LESSONS),
    '"Student","ID","SIS User ID","SIS Login ID","Section","01-weighted-sums"\r\n' +
      '"    Points Possible","","","","",2\r\n"a","","","a","",0\r\n"b","","","b","",2\r\n',
  );
  const feedback = feedbackMarkdown("b", [results[0]], [{
    path: "b/notes.txt",
    reason: "not a lesson notebook",
    student: "b",
  }]);
  assert(feedback.includes("## Not graded\n\n- `b/notes.txt`: not a lesson notebook"), feedback);
});

/** RFC 4180 fields of a CSV text (quoted fields may hold commas, doubled quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = "", quoted = false, i = 0;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), (i += 2);
      else if (c === '"') (quoted = false), i++;
      else (field += c), i++;
    } else if (c === '"') (quoted = true), i++;
    else if (c === ",") row.push(field), (field = ""), i++;
    else if (c === "\r" && text[i + 1] === "\n") row.push(field), rows.push(row), (row = []), (field = ""), (i += 2);
    else (field += c), i++;
  }
  assertEquals(field + row.join(""), "", "the CSV ends with CRLF");
  return rows;
}

Deno.test("gradebook-canvas.csv reads as Canvas's gradebook import reads it", () => {
  const grade = (student: string, lesson: string, points: number[]): SubmissionGrade => ({
    student,
    lesson,
    notebook: "",
    hash: "",
    grades: points.map((p, i) => ({
      exercise: `${lesson}.f${i}`,
      name: `f${i}`,
      points: p,
      maxPoints: 2,
      status: "passed",
    })),
    notes: [],
    seconds: 0,
  });
  const results = [
    grade("jdoe", "01", [2, 0, 2]),
    grade('=HYPERLINK("x")', "01", [0, 0, 0]),
    grade("jdoe", "02", [2, 2]),
    grade('amy, "the" best', "02", [0, 2]),
  ];
  const rows = parseCsv(canvasCsv(results, LESSONS));
  // Canvas's importer: the header's first columns are Student, ID, then SIS User ID, SIS Login ID and Section.
  assertEquals(rows[0].slice(0, 5), ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]);
  const titles = rows[0].slice(5);
  assertEquals(titles, ["01-weighted-sums", "02-queries-keys-values"]);
  // A title ending " (digits)" would be read as the id of an existing assignment (Assignment.title_and_id).
  for (const t of titles) assert(!/^(.*)\s\((\d+)\)$/.test(t), `"${t}" reads as an assignment id`);
  // The row whose first cell matches /Points Possible/ gives each new assignment's points.
  assert(/Points Possible/.test(rows[1][0]));
  assertEquals(rows[1].slice(1), ["", "", "", "", "6", "4"]);
  // Every student row: as many cells as the header, a SIS Login ID to match on, numbers or blank per lesson.
  const students = rows.slice(2);
  assertEquals(students.length, 3);
  for (const r of students) {
    assertEquals(r.length, rows[0].length);
    assert(r[3] !== "" && r[0] === r[3], JSON.stringify(r));
    for (const cell of r.slice(5)) assert(cell === "" || /^\d+(\.\d+)?$/.test(cell), JSON.stringify(r));
  }
  const byLogin = Object.fromEntries(students.map((r) => [r[3], r.slice(5)]));
  assertEquals(byLogin, {
    '\'=HYPERLINK("x")': ["0", ""], // defused: a spreadsheet shows the text, never runs it
    'amy, "the" best': ["", "2"],
    jdoe: ["4", "4"],
  });
  // The plain gradebook defuses the same name, and has one header per column.
  const plain = parseCsv(gradebookCsv(results));
  assertEquals(new Set(plain[0]).size, plain[0].length);
  assert(plain.some((r) => r[0] === '\'=HYPERLINK("x")'));
});
