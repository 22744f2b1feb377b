/**
 * The lesson-09 capstone: a small Long Range Arena (Tay et al. 2021) for the course's kernels — the nine kernels as
 * tiny-transformer attention kinds with an equal parameter budget, the runner (training over seeds, costs against
 * T, a JSON cache) and the summary, Pareto front and bubble chart.
 * @module
 */
export {
  LRA_KERNELS,
  type LraKernel,
  type LraKernelSettings,
  lraKind,
  type LraModel,
  lraModel,
  type LraModelShape,
} from "./kernels.ts";
export {
  type CachedLraResults,
  LRA_VERSION,
  type LraConfig,
  lraConfig,
  type LraCost,
  lraKeys,
  type LraResults,
  lraResults,
  type LraResultsOptions,
  type LraRun,
  type LraTask,
  runLra,
  type RunLraOptions,
} from "./run.ts";
export { LRA_COLORS, lraBubbleChart, type LraSummary, paretoFront, summarizeLra } from "./summary.ts";
