import { assertEquals } from "../lib/_testing.ts";
import { join } from "node:path";
import { checkReferences, findReferences } from "./references.ts";

Deno.test("findReferences() reads single lessons, ranges, lists, course paths and vague promises", () => {
  const refs = findReferences(
    "See lesson 03, §2 and lessons 05–07; lessons 01 and 04 too. Open `notebooks/02-queries-keys-values.ipynb`, " +
      "then exercises/09-….\nA later\nlesson builds it. Seeds like lesson-03/word are not references; nor is 2048.",
  );
  assertEquals(refs.map((r) => r.kind), ["lesson", "lesson", "lesson", "path", "path", "vague"]);
  assertEquals(refs.slice(0, 3).map((r) => r.lessons), [["03"], ["05", "06", "07"], ["01", "04"]]);
  assertEquals(refs[3].path, { folder: "notebooks", lesson: "02", rest: "queries-keys-values.ipynb" });
  assertEquals(refs[4].path, { folder: "exercises", lesson: "09", rest: "" });
  assertEquals(refs[5].text, "A later\nlesson");
});

Deno.test("checkReferences() names each reference to a lesson or file that does not exist", async () => {
  const root = await Deno.makeTempDir({ prefix: "references-" });
  try {
    await Deno.mkdir(join(root, "notebooks"));
    await Deno.mkdir(join(root, "exercises"));
    const cell = (source: string) => ({ cell_type: "markdown", metadata: {}, source: [source] });
    await Deno.writeTextFile(join(root, "notebooks", "01-a.ipynb"), JSON.stringify({ cells: [cell("Lesson 01.")] }));
    await Deno.writeTextFile(
      join(root, "notebooks", "02-b.ipynb"),
      JSON.stringify({
        cells: [
          cell("Back to lesson 01; `notebooks/01-a.ipynb` and `notebooks/01-…` exist."),
          cell("Lessons 02–04 are about that price; see `exercises/02-b.ipynb`, then `notebooks/05-…`."),
          cell("Coming with the next lessons."),
        ],
      }),
    );
    await Deno.writeTextFile(join(root, "README.md"), "Start with lesson 01, then lesson 07.\n");
    // No allowance for lessons being written: a late lesson's reference to a missing one is broken like any other
    // (lessons 05–09 once had one), and so is a path to a missing exercise of its own lesson.
    await Deno.writeTextFile(
      join(root, "notebooks", "09-c.ipynb"),
      JSON.stringify({ cells: [cell("After lesson 05 and lesson 02; then `exercises/09-…`.")] }),
    );
    const broken = await checkReferences(root);
    assertEquals(broken.map((b) => `${b.file}, ${b.where}: ${b.text}`), [
      "notebooks/02-b.ipynb, cell 1: Lessons 02–04",
      "notebooks/02-b.ipynb, cell 1: exercises/02-b.ipynb",
      "notebooks/02-b.ipynb, cell 1: notebooks/05-…",
      "notebooks/02-b.ipynb, cell 2: Coming with the next lessons",
      "notebooks/09-c.ipynb, cell 0: lesson 05",
      "notebooks/09-c.ipynb, cell 0: exercises/09-…",
      "README.md, line 1: lesson 07",
    ]);
    assertEquals(broken[0].reason, "no lesson 03, 04 in notebooks/ (no notebooks/NN-….ipynb)");
    assertEquals(broken[1].reason, "no such file: exercises/02-b.ipynb");
    assertEquals(broken[5].reason, "no such file: exercises/09-…");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("every cross-reference in the course material points at a lesson or notebook that exists", async () => {
  const broken = await checkReferences();
  assertEquals(broken.map((b) => `${b.file}, ${b.where}: "${b.text}": ${b.reason}`), []);
});
