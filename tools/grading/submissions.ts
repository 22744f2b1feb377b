/**
 * Which notebooks of a submissions folder get graded, and why every other path does not.
 *
 * Layout: `<submissions>/<student>/NN-name.ipynb`. Graded: a regular file directly in a student's folder whose
 * lesson NN has exercises. Not followed or not graded, each listed with its reason: symbolic links (they could
 * point at a classmate's work or anywhere on the instructor's disk), hidden entries (`.ipynb_checkpoints`…),
 * names with control characters, sub-folders, other files.
 *
 * **Several notebooks for one lesson** (`01-weighted-sums (1).ipynb` beside `01-weighted-sums.ipynb`): the one
 * named exactly as the course's exercise notebook is graded and the others are listed as not graded. If none has
 * that name, none is graded: the lesson scores 0 with a message asking to keep one notebook or to rename the one
 * to grade. A single notebook for a lesson is graded whatever follows its `NN-`.
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";

/** A notebook to grade. */
export interface Submission {
  student: string;
  lesson: string;
  /** The notebook's file name. */
  notebook: string;
  path: string;
}

/** A path that is not graded, relative to the submissions folder, and why. */
export interface Skipped {
  path: string;
  reason: string;
  /** The student whose folder holds it, if any. */
  student?: string;
}

/** A lesson a student sent several notebooks for, none with the course's name: graded 0. */
export interface Ambiguous {
  student: string;
  lesson: string;
  notebooks: string[];
  message: string;
}

export interface Found {
  submissions: Submission[];
  skipped: Skipped[];
  ambiguous: Ambiguous[];
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const NOTEBOOK = /^(\d\d)-.*\.ipynb$/;

/** Sorts by UTF-16 code units: the same order on every machine and locale. */
function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Shows a name with its control characters escaped (for messages). */
export function printable(name: string): string {
  return name.replace(new RegExp(CONTROL, "g"), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

async function entries(dir: string): Promise<Deno.DirEntry[]> {
  const list: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(dir)) list.push(e);
  return list.sort(byName);
}

/**
 * Finds the notebooks to grade.
 *
 * @param dir The submissions folder.
 * @param lessons For each lesson with exercises, the course's notebook name (e.g. "01" → "01-weighted-sums.ipynb").
 */
export async function findSubmissions(dir: string, lessons: Record<string, string>): Promise<Found> {
  const found: Found = { submissions: [], skipped: [], ambiguous: [] };
  const skip = (path: string, reason: string, student?: string) =>
    found.skipped.push({ path: printable(path), reason, ...(student === undefined ? {} : { student }) });
  const common = (e: Deno.DirEntry): string | undefined =>
    CONTROL.test(e.name)
      ? "its name contains a control character (e.g. a line break): rename it"
      : e.name.startsWith(".")
      ? "a hidden entry (its name starts with a dot)"
      : e.isSymlink
      ? "a symbolic link (links are not followed)"
      : undefined;

  for (const s of await entries(dir)) {
    const why = common(s) ?? (s.isDirectory ? undefined : "not a student folder");
    if (why) {
      skip(s.name, why);
      continue;
    }
    const student = s.name;
    const byLesson = new Map<string, string[]>();
    for (const f of await entries(join(dir, student))) {
      const path = `${student}/${f.name}`;
      const lesson = NOTEBOOK.exec(f.name)?.[1];
      const why = common(f) ??
        (f.isDirectory
          ? "a folder (only notebooks directly in the student's folder are graded)"
          : !f.isFile || !lesson
          ? "not a lesson notebook (NN-name.ipynb)"
          : !lessons[lesson]
          ? `lesson ${lesson} has no graded exercises`
          : undefined);
      if (why) skip(path, why, student);
      else byLesson.set(lesson!, [...byLesson.get(lesson!) ?? [], f.name]);
    }
    if (!byLesson.size) skip(`${student}/`, "no lesson notebook to grade in this folder", student);
    for (const [lesson, names] of [...byLesson].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const course = lessons[lesson];
      const chosen = names.length === 1 ? names[0] : names.find((n) => n === course);
      if (chosen) {
        found.submissions.push({ student, lesson, notebook: chosen, path: join(dir, student, chosen) });
        for (const n of names) {
          if (n !== chosen) {
            skip(`${student}/${n}`, `another notebook for lesson ${lesson} is graded: ${chosen}`, student);
          }
        }
      } else {
        const message = `${names.length} notebooks for lesson ${lesson} (${names.map(printable).join(", ")}) and ` +
          `none named ${course}: keep one, or name the one to grade ${course}`;
        found.ambiguous.push({ student, lesson, notebooks: names, message });
        for (const n of names) skip(`${student}/${n}`, message, student);
      }
    }
  }
  return found;
}

/**
 * A file-name-safe, injective form of a name: letters, digits, `_`, `-` and (after the first character) `.`
 * stay, every other character becomes `%XX` per UTF-8 byte (so `%` itself too); a form longer than 200
 * characters is cut and ends in `~` and a SHA-256 of the name. Distinct names never share a file.
 */
export function fileSafe(name: string): string {
  const safe = Array.from(new TextEncoder().encode(name), (b, i) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9_-]/.test(c) || (c === "." && i > 0) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }).join("");
  return safe.length <= 200 ? safe : `${safe.slice(0, 120)}~${createHash("sha256").update(name).digest("hex")}`;
}
