/**
 * Exercise checks: the runner, comparison helpers and each lesson's checks (one template per exercise; see
 * README.md in this folder for how to add one).
 * @module
 */
export * from "./core.ts";
export * from "./compare.ts";
export * from "./lesson01.ts";
export * from "./lesson02.ts";
export * from "./lesson03.ts";
export * from "./lesson04.ts";
export * from "./lesson05.ts";
export * from "./lesson06.ts";
export * from "./lesson07.ts";
export * from "./lesson08.ts";
export * from "./lesson09.ts";

import type { Exercise } from "./core.ts";
import { lesson01Exercises } from "./lesson01.ts";
import { lesson02Exercises } from "./lesson02.ts";
import { lesson03Exercises } from "./lesson03.ts";
import { lesson04Exercises } from "./lesson04.ts";
import { lesson05Exercises } from "./lesson05.ts";
import { lesson06Exercises } from "./lesson06.ts";
import { lesson07Exercises } from "./lesson07.ts";
import { lesson08Exercises } from "./lesson08.ts";
import { lesson09Exercises } from "./lesson09.ts";

/** Every lesson's exercises, by lesson number ("01") and function name, for the grader. */
export const exercisesByLesson: Record<string, Record<string, Exercise>> = {
  "01": lesson01Exercises,
  "02": lesson02Exercises,
  "03": lesson03Exercises,
  "04": lesson04Exercises,
  "05": lesson05Exercises,
  "06": lesson06Exercises,
  "07": lesson07Exercises,
  "08": lesson08Exercises,
  "09": lesson09Exercises,
};
