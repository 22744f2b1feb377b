/**
 * Runs inside the grading sandbox (a Deno subprocess started by tools/grading/grade.ts
 * with read access to lib/, node_modules/ and its own work folder only; no
 * write, network, environment or subprocess permissions; a heap cap).
 *
 * Usage: harness.ts <submission.ts> <lesson> <exercise>…, with a nonce and hidden arguments on stdin.
 * For each exercise it runs the checks (visible, then the hidden cases whose
 * arguments arrive on stdin) against the student's function with every call
 * recorded, and prints one line `@@grade <nonce> <json>` per exercise. The nonce is read before any student code loads, so student code
 * cannot forge these lines; and the grader recomputes every verdict from the
 * recorded calls anyway.
 * @module
 */
import { pathToFileURL } from "node:url";
import { initBackend } from "../../lib/backend.ts";
import { runCheck } from "../../lib/check/core.ts";
import { exercisesByLesson } from "../../lib/check/mod.ts";
import { type CallRecord, fromWire, recorder, toWire, type Wire } from "./protocol.ts";

// Captured before student code can replace them.
const out = Deno.stdout;
const write = out.write.bind(out);
const encoder = new TextEncoder();
const encode = encoder.encode.bind(encoder);
const stringify = JSON.stringify;

// stdin: the nonce on the first line, then the hidden cases' arguments as JSON. Read whole
// before any student code loads, so student code can see neither.
const decoder = new TextDecoder();
let input = "";
for await (const chunk of Deno.stdin.readable) input += decoder.decode(chunk, { stream: true });
const newline = input.indexOf("\n");
const nonce = (newline < 0 ? input : input.slice(0, newline)).trim();
const hiddenArgs: Record<string, Wire[][]> = newline < 0 ? {} : JSON.parse(input.slice(newline + 1) || "{}");

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
  const records: CallRecord[] = [], hiddenRecords: CallRecord[] = [];
  if (exercise && typeof fn === "function") {
    const record = (into: CallRecord[]) => recorder(fn as (...a: unknown[]) => unknown, into);
    const visible = await runCheck(exercise, record(records));
    // Hidden cases: only the calls are recorded here; the grader outside judges them.
    const cases = (hiddenArgs[name] ?? []).map((args) => ({
      label: "hidden",
      args: () => args.map(fromWire) as never,
      verify: () => ({ ok: true as const }),
    }));
    // (The grader looks at them only when every visible case passed.)
    if (visible.status === "passed" && cases.length) {
      await runCheck({ ...exercise, cases, after: undefined }, record(hiddenRecords));
    }
  }
  await emit({
    kind: "done",
    name,
    records,
    hiddenRecords,
    notFunction: typeof fn === "function" ? undefined : toWire(fn),
  });
}
await emit({ kind: "end" });
// Student code may have left timers or promises behind: do not wait for them.
Deno.exit(0);
