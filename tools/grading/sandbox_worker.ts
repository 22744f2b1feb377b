/**
 * The grading sandbox's Worker: the only place a submission's code runs. Started by sandbox_main.ts, which
 * sends it, in order: `init` (the notebook's cells, see program.ts), then one `run` per item, waiting for each
 * answer. It evaluates the cells as Deno's Jupyter kernel does (V8's REPL mode through an inspector session on
 * this isolate), then calls the student's functions through lib/check's runCheck with every call recorded
 * (protocol.ts) and posts the records back.
 *
 * Nothing here is trusted: student code shares this realm and may patch anything in it. What it cannot reach is
 * the main thread (another isolate: its own intrinsics, the nonce, stdout framing, the clock and the memory
 * watchdog) and the grader (another process, which judges the records). The captures below only keep the harness
 * working when a submission breaks globals by accident.
 * @module
 */
/// <reference lib="deno.worker" />
import { Session } from "node:inspector";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { runCheck } from "../../lib/check/core.ts";
import { exercisesByLesson } from "../../lib/check/mod.ts";
import { callsOnly, fromWire, recorder, toWire } from "./protocol.ts";
import type { CallRecord, SandboxConfig, Wire } from "./frames.ts";

/** Messages from the main thread. */
export type ToWorker =
  | { type: "init"; lesson: string; backend: string; cells: SandboxConfig["cells"] }
  | { type: "run"; item: number; exercise: string; phase: "visible" | "hidden"; hiddenArgs: Wire[][] | null };
/** Messages to the main thread. */
export type FromWorker =
  | { type: "ready" }
  | { type: "cell"; cell: number }
  | { type: "loaded"; cellErrors: { cell: number; error: string }[] }
  | { type: "result"; item: number; records: CallRecord[]; notFunction?: Wire }
  | { type: "stopping"; how: "close" | "exit" }
  | { type: "broken"; error: string };

const post = globalThis.postMessage.bind(globalThis) as (m: FromWorker) => void;
const realClose = globalThis.close.bind(globalThis);
const realExit = Deno.exit.bind(Deno);
const indirectEval = globalThis.eval;

// The kernel's evaluator. Connecting needs --allow-sys; it is revoked before any student code runs, and the main
// thread revokes its own as soon as this worker says "ready".
const session = new Session();
session.connect();
Deno.permissions.revokeSync({ name: "sys" });

// As in the kernel, an error thrown by a timer or a rejected Promise nobody awaits is shown and forgotten.
globalThis.addEventListener("error", (e) => e.preventDefault());
globalThis.addEventListener("unhandledrejection", (e) => e.preventDefault());
// Stopping this Worker is reported first (a message posted after close() is never delivered), so the main
// thread can charge the stop to the call in progress at once instead of waiting for its timeout.
globalThis.close = () => {
  post({ type: "stopping", how: "close" });
  realClose();
};
Deno.exit = ((code?: number) => {
  post({ type: "stopping", how: "exit" });
  realExit(code);
}) as typeof Deno.exit;
// Storage is per process already (a fresh --location); without it a submission cannot fill the disk either.
delete (globalThis as { caches?: unknown }).caches;
// Display calls do nothing here (in the kernel they show output; outside one, Deno.jupyter throws).
(Deno as unknown as { jupyter: unknown }).jupyter = {
  display: () => Promise.resolve(),
  broadcast: () => Promise.resolve(),
  format: () => ({}),
  md: () => ({}),
  html: () => ({}),
  svg: () => ({}),
  image: () => ({}),
  $display: Symbol.for("Jupyter.display"),
};

/** Where a `toJSON` would change the inspector's own JSON messages (as a notebook polluting them would). */
const PROTOTYPES = [Object.prototype, Array.prototype, String.prototype, Number.prototype, Boolean.prototype];

/** Runs `fn` with any (configurable) `toJSON` the notebook put on the built-in prototypes set aside. */
function withoutToJSON<T>(fn: () => T): T {
  const saved = PROTOTYPES.map((p) => Object.getOwnPropertyDescriptor(p, "toJSON"));
  PROTOTYPES.forEach((p, i) => saved[i]?.configurable && delete (p as { toJSON?: unknown }).toJSON);
  try {
    return fn();
  } finally {
    PROTOTYPES.forEach((p, i) => saved[i]?.configurable && Object.defineProperty(p, "toJSON", saved[i]!));
  }
}

function evaluate(expression: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    withoutToJSON(() =>
      session.post(
        "Runtime.evaluate",
        { expression, replMode: true, awaitPromise: true },
        (err: Error | null, result?: object) => {
          if (err) return resolve(String(err.message ?? err));
          const details = (result as { exceptionDetails?: { text?: string; exception?: { description?: string } } })
            ?.exceptionDetails;
          if (!details) return resolve(undefined);
          resolve(String(details.exception?.description ?? details.text ?? "an error").split("\n")[0]);
        },
      )
    );
  });
}

let lesson = "", backend = "";

async function init(m: Extract<ToWorker, { type: "init" }>): Promise<void> {
  lesson = m.lesson;
  backend = m.backend;
  await initBackend({ backend: backend as "cpu", print: false });
  const cellErrors: { cell: number; error: string }[] = [];
  for (const { cell, js } of m.cells) {
    post({ type: "cell", cell });
    const error = await evaluate(js);
    if (error !== undefined) cellErrors.push({ cell, error: error.slice(0, 500) });
  }
  post({ type: "loaded", cellErrors });
}

async function run(m: Extract<ToWorker, { type: "run" }>): Promise<void> {
  const exercise = exercisesByLesson[lesson]?.[m.exercise];
  if (!exercise || !/^[A-Za-z_$][\w$]*$/.test(m.exercise)) throw new Error("unknown exercise");
  // The value the name has after the notebook ran, as a later cell would see it.
  let fn: unknown;
  try {
    fn = indirectEval(`typeof ${m.exercise} === "undefined" ? undefined : ${m.exercise}`);
  } catch {
    fn = undefined;
  }
  if (typeof fn !== "function") return post({ type: "result", item: m.item, records: [], notFunction: toWire(fn) });
  // The cases' arguments are built on the pinned backend, as in the grader, whatever the notebook switched to.
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
  const records: CallRecord[] = [];
  const cases = m.phase === "visible" ? exercise.cases : (m.hiddenArgs ?? []).map((args) => ({
    label: "hidden",
    args: () => args.map(fromWire) as never,
    verify: () => ({ ok: true as const }),
  }));
  const after = m.phase === "visible" ? exercise.after : undefined;
  await runCheck(callsOnly({ ...exercise, cases, after }), recorder(fn as (...a: unknown[]) => unknown, records));
  post({ type: "result", item: m.item, records });
}

// A listener, not `onmessage`, which a notebook may assign to.
globalThis.addEventListener("message", (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  (m.type === "init" ? init(m) : run(m)).catch((err) => {
    // The harness itself failed (e.g. the notebook replaced a built-in it needs).
    post({ type: "broken", error: String(err instanceof Error ? err.message : err).slice(0, 300) });
  });
});
post({ type: "ready" });
