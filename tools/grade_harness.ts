/**
 * Runs inside the grading sandbox (a Deno subprocess started by tools/grade.ts
 * with read access to lib/, node_modules/ and its own work folder only; no
 * write, network, environment or subprocess permissions; a heap cap).
 *
 * Usage: grade_harness.ts <submission.ts> <lesson> <exercise>…, with a nonce on stdin.
 * For each exercise it runs the checks against the student's function with
 * every call recorded, and prints one line `@@grade <nonce> <json>` per
 * exercise. The nonce is read before any student code loads, so student code
 * cannot forge these lines; and the grader recomputes every verdict from the
 * recorded calls anyway.
 * @module
 */
import { pathToFileURL } from "node:url";
import { initBackend } from "../lib/backend.ts";
import { runCheck } from "../lib/check/core.ts";
import { exercisesByLesson } from "../lib/check/mod.ts";
import { type CallRecord, recorder, toWire } from "./grade_protocol.ts";

// Captured before student code can replace them.
const out = Deno.stdout;
const write = out.write.bind(out);
const encoder = new TextEncoder();
const encode = encoder.encode.bind(encoder);
const stringify = JSON.stringify;

const chunks: Uint8Array[] = [];
for await (const chunk of Deno.stdin.readable) chunks.push(chunk);
const nonce = new TextDecoder().decode(chunks.length ? chunks[0] : new Uint8Array()).trim();

async function emit(message: Record<string, unknown>): Promise<void> {
  const bytes = encode(`\n@@grade ${nonce} ${stringify(message)}\n`);
  for (let done = 0; done < bytes.length;) done += await write(bytes.subarray(done));
}

const [submission, lesson, ...names] = Deno.args;
await initBackend({ backend: "cpu", print: false });
let functions: Record<string, unknown> = {};
try {
  const mod = await import(pathToFileURL(submission).href);
  functions = mod.__functions ?? {};
} catch (err) {
  await emit({ kind: "load-error", message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  Deno.exit(0);
}
for (const name of names) {
  await emit({ kind: "start", name });
  const exercise = exercisesByLesson[lesson]?.[name];
  const fn = functions[name];
  const records: CallRecord[] = [];
  if (exercise) {
    await runCheck(exercise, typeof fn === "function" ? recorder(fn as (...a: unknown[]) => unknown, records) : fn);
  }
  await emit({ kind: "done", name, records, notFunction: typeof fn === "function" ? undefined : toWire(fn) });
}
await emit({ kind: "end" });
// Student code may have left timers or promises behind: do not wait for them.
Deno.exit(0);
