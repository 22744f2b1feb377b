/**
 * The planted set's entry type and the two ways to write an entry (tools/cases/planted.ts for lessons 01–04,
 * planted_late.ts for lessons 05–09).
 * @module
 */

/** One planted entry. */
export interface Planted {
  /** Unique, also the student folder name in the grader's run. */
  id: string;
  lesson: "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09";
  /** The exercise (function) it replaces. */
  name: string;
  /** A mistake, or a correct solution written another way. */
  kind: "bug" | "correct";
  /** For a bug: text the named cause (or the message) must contain. */
  cause?: string;
  /** The function declaration as the student writes it. */
  source: string;
  /** Other functions of the same notebook replaced too (e.g. the exercise this one calls). */
  also?: Record<string, string>;
  /**
   * The mistake is in the function of `also` that this one calls: this exercise must keep its points (the mistake
   * is charged once, to the other one) and its note name the other one (`cause`).
   */
  chargedOnce?: boolean;
  /** A cell added after the set-up cell (an extra import). */
  prelude?: string;
}

export const bug = (
  lesson: Planted["lesson"],
  name: string,
  id: string,
  cause: string,
  source: string,
  extra: Partial<Planted> = {},
): Planted => ({
  id: `${lesson}-${name}-${id}`,
  lesson,
  name,
  kind: "bug",
  cause,
  source,
  ...extra,
});
export const correct = (
  lesson: Planted["lesson"],
  name: string,
  id: string,
  source: string,
  extra: Partial<Planted> = {},
): Planted => ({
  id: `${lesson}-${name}-${id}`,
  lesson,
  name,
  kind: "correct",
  source,
  ...extra,
});
