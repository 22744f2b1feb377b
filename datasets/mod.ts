/**
 * The course's data: notebooks import it as `attention-course/datasets` (mapped in deno.json).
 * @module
 */
export * from "./embeddings.ts";
export * from "./listops.ts";
export * from "./pathfinder.ts";
export * from "./recall.ts";
export * from "./selective_copy.ts";
export * from "./corpus.ts";
export * from "./toy_tasks.ts";
export * from "./spectra.ts";
