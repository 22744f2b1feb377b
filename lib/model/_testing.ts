/**
 * Test helpers for lib/model: whether the pretrained model files are installed. Without them a test that needs
 * them is ignored (shown as "ignored", with the reason in its name), except under CI=true, where it runs and
 * fails with findMiniLM()'s message ("run `deno task setup`"): CI must have the files. Private to lib/model.
 * @module
 */
import { findMiniLM, type MiniLMFiles } from "./files.ts";

const found: MiniLMFiles | Error = await findMiniLM().catch((err) => err);

/** The model files, or the error that says why they are missing. */
export const MODEL_FILES = found;

/** Deno.test's `ignore` for tests that need the model: true only outside CI when the files are missing. */
export const IGNORE_WITHOUT_MODEL = found instanceof Error && Deno.env.get("CI") !== "true";

/** A suffix for test names saying why a test is ignored. */
export const MODEL_NOTE = found instanceof Error ? " (model files missing: run `deno task setup`)" : "";
