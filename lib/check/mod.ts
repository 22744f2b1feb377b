/**
 * Exercise checks: the runner, comparison helpers and each lesson's checks.
 * @module
 */
export * from "./core.ts";
export * from "./compare.ts";
export * from "./lesson01.ts";
export * from "./lesson02.ts";
export * from "./lesson03.ts";
export { check04, lesson04Exercises } from "./lesson04.ts";

import type { Exercise } from "./core.ts";
import { lesson01Exercises } from "./lesson01.ts";
import { lesson02Exercises } from "./lesson02.ts";
import { lesson03Exercises } from "./lesson03.ts";
import { lesson04Exercises } from "./lesson04.ts";

/** Every lesson's exercises, by lesson number ("01"), for the grader. */
export const exercisesByLesson: Record<string, Record<string, Exercise<never>>> = {
  "01": lesson01Exercises as unknown as Record<string, Exercise<never>>,
  "02": lesson02Exercises as unknown as Record<string, Exercise<never>>,
  "03": lesson03Exercises as unknown as Record<string, Exercise<never>>,
  "04": lesson04Exercises as unknown as Record<string, Exercise<never>>,
};
