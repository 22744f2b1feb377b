/**
 * Cross-references in the course material a student reads (notebooks/, exercises/, solutions/, README.md,
 * docs/): every "lesson NN" (also "lessons NN–MM", "lessons NN and MM") must name a lesson that exists as
 * notebooks/NN-….ipynb, every path `notebooks/NN-…`, `exercises/NN-…`, `solutions/NN-…` must name a file that
 * exists (an ellipsis after "NN-" stands for any name), and no text may promise "a later lesson" or "the next
 * lessons" without naming them. `references_test.ts` runs this on the repository, so `deno task test` checks it.
 *
 * Every lesson of the course plan exists (01–09), so the check is strict: a reference from any file — a lesson,
 * an exercise, README, docs — to a lesson or notebook that does not exist is broken. (While lessons 05–09 were
 * written in parallel, references between them to a lesson not yet landed were reported as "pending"; that
 * allowance ended when lesson 09 landed.)
 *
 *     deno run --allow-read tools/references.ts
 * @module
 */
import { join, relative } from "node:path";
import { ROOT } from "./setup.ts";

/** A reference found in a text. */
export interface Reference {
  /** "lesson": lesson numbers; "path": a file under notebooks/, exercises/ or solutions/; "vague": a promise. */
  kind: "lesson" | "path" | "vague";
  /** The text as written. */
  text: string;
  /** Lesson numbers referred to ("05"), for kind "lesson" (a range lists every lesson in it). */
  lessons?: string[];
  /** The path, for kind "path" (folder/NN-rest, trailing punctuation removed); `rest` "" means any name. */
  path?: { folder: string; lesson: string; rest: string };
}

/** One reference that points at nothing. */
export interface BrokenReference {
  /** File, relative to the course root. */
  file: string;
  /** Where in the file: "line 12", or "cell 7" in a notebook. */
  where: string;
  /** The reference as written. */
  text: string;
  /** Why it is broken. */
  reason: string;
}

const LESSONS = /\b[Ll]essons?\s+(\d{2})((?:\s*(?:–|—|-|to|and|or|,)\s*\d{2}\b)*)/g;
const PATHS = /\b(notebooks|exercises|solutions)\/(\d{2})-([^\s`'"()<>\]\[]*)/g;
const VAGUE =
  /\b(a\s+later\s+lesson|later\s+lessons|the\s+next\s+lessons|coming\s+(?:with|in)\s+the\s+next\s+lessons?)\b/gi;

/**
 * The cross-references in a text.
 *
 * @param text Markdown, or a notebook cell's source.
 * @returns Every lesson reference, course path and vague promise, in order of appearance.
 * @example
 * ```ts
 * import { findReferences } from "./references.ts";
 * const refs = findReferences("lessons 03–05 and `notebooks/02-…`");
 * if (refs[0].lessons!.join() !== "03,04,05" || refs[1].path!.rest !== "") throw new Error(JSON.stringify(refs));
 * ```
 */
export function findReferences(text: string): Reference[] {
  const found: { index: number; ref: Reference }[] = [];
  for (const m of text.matchAll(LESSONS)) {
    const lessons = [m[1]];
    for (const part of m[2].matchAll(/(–|—|-|to|and|or|,)\s*(\d{2})/g)) {
      const [sep, to] = [part[1], part[2]];
      if (["–", "—", "-", "to"].includes(sep)) {
        const from = Number(lessons.at(-1));
        for (let n = from + 1; n <= Number(to); n++) lessons.push(String(n).padStart(2, "0"));
      } else lessons.push(to);
    }
    found.push({ index: m.index!, ref: { kind: "lesson", text: m[0], lessons } });
  }
  for (const m of text.matchAll(PATHS)) {
    const rest = m[3].replace(/^(…|\.\.\.).*$/, "").replace(/[.,;:!?…]+$/, "");
    found.push({ index: m.index!, ref: { kind: "path", text: m[0], path: { folder: m[1], lesson: m[2], rest } } });
  }
  for (const m of text.matchAll(VAGUE)) found.push({ index: m.index!, ref: { kind: "vague", text: m[0] } });
  return found.sort((a, b) => a.index - b.index).map((f) => f.ref);
}

/** The texts of a file to scan: a notebook's cells (Markdown and code), or a text file's lines. */
async function textsOf(path: string): Promise<{ where: string; text: string }[]> {
  const raw = await Deno.readTextFile(path);
  if (!path.endsWith(".ipynb")) return raw.split("\n").map((text, i) => ({ where: `line ${i + 1}`, text }));
  const nb = JSON.parse(raw) as { cells: { source: string | string[] }[] };
  return nb.cells.map((c, i) => ({
    where: `cell ${i}`,
    text: Array.isArray(c.source) ? c.source.join("") : c.source,
  }));
}

async function list(dir: string, keep: (name: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory && !entry.name.startsWith(".")) out.push(...await list(path, keep));
      else if (entry.isFile && keep(entry.name)) out.push(path);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out.sort();
}

/** The course material a student reads: the three notebook folders, README.md and docs/. */
export async function courseFiles(root = ROOT): Promise<string[]> {
  const notebooks = (await Promise.all(
    ["notebooks", "exercises", "solutions"].map((d) => list(join(root, d), (n) => n.endsWith(".ipynb"))),
  )).flat();
  const readme = join(root, "README.md");
  const hasReadme = await Deno.stat(readme).then(() => true, () => false);
  return [...notebooks, ...(hasReadme ? [readme] : []), ...await list(join(root, "docs"), (n) => n.endsWith(".md"))];
}

/**
 * Every broken cross-reference in the course material.
 *
 * @param root The course root (default: this repository).
 * @param files Files to scan (default: {@linkcode courseFiles}).
 * @returns The broken references; empty when every reference points at something.
 */
export async function checkReferences(root = ROOT, files?: string[]): Promise<BrokenReference[]> {
  const names = (folder: string) =>
    Array.from(Deno.readDirSync(join(root, folder)), (e) => e.name).filter((n) => n.endsWith(".ipynb"));
  const existing: Record<string, string[]> = {};
  for (const folder of ["notebooks", "exercises", "solutions"]) {
    try {
      existing[folder] = names(folder);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      existing[folder] = [];
    }
  }
  const lessonExists = (nn: string) => existing.notebooks.some((n) => n.startsWith(`${nn}-`));
  const broken: BrokenReference[] = [];
  for (const file of files ?? await courseFiles(root)) {
    for (const { where, text } of await textsOf(file)) {
      for (const ref of findReferences(text)) {
        const at = { file: relative(root, file), where, text: ref.text };
        if (ref.kind === "vague") {
          broken.push({ ...at, reason: "a promise of lessons to come: name the lesson (lesson NN) once it exists" });
        } else if (ref.kind === "lesson") {
          const missing = ref.lessons!.filter((nn) => !lessonExists(nn));
          if (missing.length) {
            broken.push({ ...at, reason: `no lesson ${missing.join(", ")} in notebooks/ (no notebooks/NN-….ipynb)` });
          }
        } else {
          const { folder, lesson, rest } = ref.path!;
          const ok = rest === ""
            ? existing[folder].some((n) => n.startsWith(`${lesson}-`))
            : existing[folder].includes(`${lesson}-${rest}`);
          if (!ok) broken.push({ ...at, reason: `no such file: ${folder}/${lesson}-${rest || "…"}` });
        }
      }
    }
  }
  return broken;
}

if (import.meta.main) {
  const broken = await checkReferences();
  for (const b of broken) console.log(`broken: ${b.file}, ${b.where}: "${b.text}": ${b.reason}`);
  console.log(`${broken.length} broken reference(s)`);
  Deno.exit(broken.length ? 1 : 0);
}
