/**
 * Exercise checks: the runner, comparison helpers and each lesson's checks.
 * @module
 */
export * from "./core.ts";
export * from "./compare.ts";
export * from "./lesson01.ts";
