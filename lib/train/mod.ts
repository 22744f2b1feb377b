/**
 * Training: a seeded loop with a live progress line, early stopping and a loss-curve plot.
 * `import { train } from "attention-course";`
 * @module
 */
export { type StepInfo, type StopReason, train, type TrainOptions, type TrainResult } from "./trainer.ts";
