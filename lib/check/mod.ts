/**
 * Exercise checks: the runner, comparison helpers and each lesson's checks.
 * @module
 */
export * from "./core.ts";
export * from "./compare.ts";
export * from "./lesson01.ts";

import type { Exercise } from "./core.ts";
import { lesson01Exercises } from "./lesson01.ts";

/** Every lesson's exercises, by lesson number ("01"), for the grader. */
export const exercisesByLesson: Record<string, Record<string, Exercise<never>>> = {
  "01": lesson01Exercises as unknown as Record<string, Exercise<never>>,
};
