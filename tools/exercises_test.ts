import { assert, assertEquals, assertThrows } from "../lib/_testing.ts";
import { MarkerError, stripCell, studentVersion } from "./exercises.ts";
import type { Notebook } from "./notebook.ts";

Deno.test("a solution region becomes a NotImplementedError stub that keeps the signature and indentation", () => {
  const src = [
    "function area(w: number, h: number): number {",
    "  // BEGIN SOLUTION",
    "  return w * h;",
    "  // END SOLUTION",
    "}",
    "await check(area);",
  ].join("\n");
  assertEquals(
    stripCell(src, "x"),
    [
      "function area(w: number, h: number): number {",
      "  // Your code here.",
      '  throw new NotImplementedError("area");',
      "}",
      "await check(area);",
    ].join("\n"),
  );
});

Deno.test("hidden regions disappear without a trace", () => {
  const src = "const a = 1;\n// BEGIN HIDDEN\nconst secret = 42;\n// END HIDDEN\nconst b = 2;";
  assertEquals(stripCell(src, "x"), "const a = 1;\nconst b = 2;");
});

Deno.test("unmatched and nested markers fail with file, cell and line", () => {
  assertThrows(
    () => stripCell("// BEGIN SOLUTION\nx", "s.ipynb, cell 3"),
    MarkerError,
    "s.ipynb, cell 3, line 1: BEGIN SOLUTION is never closed",
  );
  assertThrows(
    () => stripCell("x\n// END SOLUTION", "s.ipynb, cell 3"),
    MarkerError,
    "line 2: END SOLUTION without a BEGIN SOLUTION",
  );
  assertThrows(
    () => stripCell("// BEGIN SOLUTION\n// BEGIN HIDDEN\n// END HIDDEN\n// END SOLUTION", "f, cell 1"),
    MarkerError,
    "line 2: BEGIN HIDDEN inside the BEGIN SOLUTION of line 1: markers cannot nest",
  );
  assertThrows(
    () => stripCell("// BEGIN HIDDEN\n// END SOLUTION", "f, cell 1"),
    MarkerError,
    "line 2: END SOLUTION closes the BEGIN HIDDEN of line 1",
  );
});

Deno.test("the student version drops solution-only cells and clears outputs", () => {
  const solution: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", metadata: { tags: ["solution-only"] }, source: "instructor notes" },
      {
        cell_type: "code",
        metadata: {},
        source: "function f(): number {\n  // BEGIN SOLUTION\n  return 1;\n  // END SOLUTION\n}\n",
        outputs: [{ output_type: "stream", name: "stdout", text: "1" }],
        execution_count: 3,
      },
    ],
  };
  const student = studentVersion(solution, "solutions/99-test.ipynb");
  assertEquals(student.cells.length, 1);
  assertEquals(student.cells[0].outputs, []);
  assertEquals(student.cells[0].execution_count, null);
  const text = (student.cells[0].source as string[]).join("");
  assert(!text.includes("return 1"), "the solution body must not reach students");
  assert(text.includes('throw new NotImplementedError("f");'));
});
