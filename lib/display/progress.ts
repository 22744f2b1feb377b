/**
 * A progress bar that redraws in place in the notebook.
 * @module
 */
import { bundleOf, displayable, inNotebook, show, update } from "./bundle.ts";
import { escapeHtml } from "./_html.ts";

/** A progress bar made by {@linkcode progress}. */
export interface ProgressBar {
  /** Sets the number of finished steps and redraws (at most ~10 times a second). */
  update(done: number): Promise<void>;
  /** Marks the bar finished and redraws it. */
  finish(): Promise<void>;
}

let progressCount = 0;

/**
 * A progress bar that updates in place in the notebook (one output, redrawn).
 * Outside a notebook it prints only when finished.
 *
 * @param total Number of steps.
 * @param label Text before the bar.
 * @returns A {@linkcode ProgressBar}; `await bar.update(i)` as work proceeds.
 * @example
 * ```ts
 * import { progress } from "./progress.ts";
 * const bar = await progress(2, "work");
 * await bar.update(1);
 * await bar.finish(); // outside a notebook: prints "work ██…██ 2/2 (0.0 s)"
 * ```
 */
export async function progress(total: number, label = ""): Promise<ProgressBar> {
  if (!Number.isInteger(total) || total <= 0) {
    throw new RangeError(`Cannot make a progress bar: total must be a positive integer, got ${total}`);
  }
  const id = `attention-course-progress-${Date.now()}-${++progressCount}`;
  const start = performance.now();
  let last = 0;
  const draw = (done: number) => {
    const frac = Math.min(1, Math.max(0, done / total));
    const secs = ((performance.now() - start) / 1000).toFixed(1);
    const bar = "█".repeat(Math.round(frac * 30)).padEnd(30, "░");
    const plain = `${label ? label + " " : ""}${bar} ${done}/${total} (${secs} s)`;
    return displayable({
      "text/html": `<div style="font-family:monospace">${escapeHtml(label)} <progress value="${done}" max="${total}" ` +
        `style="width:20em;vertical-align:middle"></progress> ${done}/${total} (${secs} s)</div>`,
      "text/plain": plain,
    });
  };
  if (inNotebook()) await show(draw(0), id);
  return {
    async update(done: number) {
      const now = performance.now();
      if (now - last < 100 && done < total) return;
      last = now;
      if (inNotebook()) await update(draw(done), id);
    },
    async finish() {
      if (inNotebook()) await update(draw(total), id);
      else console.log(bundleOf(draw(total))["text/plain"]);
    },
  };
}
