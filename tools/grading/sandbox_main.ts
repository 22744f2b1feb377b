/**
 * The grading sandbox's main thread: one process per attempt, started by sandbox.ts with read access to lib/,
 * datasets/, node_modules/ and the three sandbox files of tools/grading/ only (never hidden.ts or the grader),
 * no write, network, run or FFI access, and only ATTN_BACKEND of the environment.
 *
 * It runs no student code. It reads its {@linkcode SandboxConfig} from the first line of stdin, starts one Worker
 * (sandbox_worker.ts) that runs the notebook's cells and then each item in order, and reports on stdout in frames
 * (frames.ts) that only it can write, since only it knows the nonce. It alone decides which item a stop belongs
 * to: the item it has sent and not yet had an answer for. It stops the process, with a `stopped` frame, when an
 * item or the loading uses more processor time than the timeout (or waits WALL_FACTOR times as long), when
 * the process's resident memory (every thread, every Worker) exceeds the limit, or when the Worker stops itself. It exits when stdin closes, so no sandbox outlives a grader
 * that was killed.
 * @module
 */
import process from "node:process";
import {
  encodeFrame,
  type Frame,
  parseRecords,
  parseWire,
  type SandboxConfig,
  type StopReason,
  WALL_FACTOR,
} from "./frames.ts";
import type { FromWorker, ToWorker } from "./sandbox_worker.ts";

// stdin: the config, then (when asked) the grader's answer. Its end means the grader is gone: exit.
const lines: string[] = [];
let wake: (() => void) | undefined;
(async () => {
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of Deno.stdin.readable) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let nl; (nl = buffer.indexOf("\n")) >= 0; buffer = buffer.slice(nl + 1)) lines.push(buffer.slice(0, nl));
      wake?.();
    }
  } catch { /* closed */ }
  Deno.exit(0);
})();
async function readLine(): Promise<string> {
  while (!lines.length) await new Promise<void>((r) => (wake = r));
  return lines.shift()!;
}
const config: SandboxConfig = JSON.parse(await readLine());

let frames = 0;
let writing = Promise.resolve();
function emit(frame: Frame): Promise<void> {
  const lines = encodeFrame(config.nonce, frames++, frame);
  writing = writing.then(async () => {
    for (const line of lines) {
      for (let done = 0; done < line.length;) done += await Deno.stdout.write(line.subarray(done));
    }
  });
  return writing;
}

let state: "starting" | "loading" | "running" | "stopping" = "starting"; // "running" from the first item on
let current: number | null = null; // the item in progress; null while loading and between items
let nextItem = 0;
// The clock of the phase in progress (starting, loading, an item): processor time of the whole process (every
// thread), so that a busy machine — or another submission's threads — cannot run an honest notebook out of time;
// and wall-clock time, WALL_FACTOR times as long, for code that waits without computing.
let clock: { cpu: number; wall: number } | undefined;
const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
const arm = () => (clock = { cpu: cpuSeconds(), wall: performance.now() / 1000 });
const disarm = () => (clock = undefined);

async function stop(reason: StopReason, mib?: number): Promise<void> {
  if (state === "stopping") return;
  state = "stopping";
  // Report first, then exit (which ends the Worker too). Terminating a Worker while a cell awaits a Promise
  // crashes Deno 2.9 ("Fatal error in v8::HandleScope::CreateHandle()").
  await emit({
    kind: "stopped",
    item: current,
    reason,
    ...(mib !== undefined ? { mib } : {}),
  });
  Deno.exit(0);
}

const limit = config.memoryMb * 2 ** 20;
setInterval(() => {
  const rss = Deno.memoryUsage().rss;
  if (rss > limit) return void stop("memory", Math.round(rss / 2 ** 20));
  if (!clock) return;
  if (cpuSeconds() - clock.cpu > config.timeoutS) stop("timeout");
  else if (performance.now() / 1000 - clock.wall > WALL_FACTOR * config.timeoutS) stop("stalled");
}, 50);

let hiddenAllowed: Set<number> | undefined;

async function next(): Promise<void> {
  let i = nextItem++;
  if (config.askBeforeHidden && !hiddenAllowed && config.items[i]?.phase === "hidden") {
    await emit({ kind: "await-hidden" });
    const answer: unknown = JSON.parse(await readLine());
    hiddenAllowed = new Set(Array.isArray(answer) ? answer.filter(Number.isSafeInteger) : []);
  }
  while (hiddenAllowed && i < config.items.length && !hiddenAllowed.has(i)) i = nextItem++;
  if (i >= config.items.length) {
    state = "stopping";
    await emit({ kind: "end" });
    Deno.exit(0);
  }
  current = i;
  state = "running";
  await emit({ kind: "start", item: i });
  arm();
  send({ type: "run", item: i, ...config.items[i], hiddenArgs: config.hiddenArgs[i] ?? null });
}

const worker = new Worker(new URL("./sandbox_worker.ts", import.meta.url).href, { type: "module" });
const send = (m: ToWorker) => worker.postMessage(m);
arm();

worker.onerror = (e) => {
  e.preventDefault();
  stop("uncaught");
};
worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  if (m === null || typeof m !== "object" || state === "stopping") return; // stray posts from student code
  if (m.type === "stopping") return void stop(m.how === "exit" ? "exit" : "close");
  if (m.type === "broken") return void stop("broken");
  if (m.type === "ready" && state === "starting") {
    Deno.permissions.revokeSync({ name: "sys" }); // the Worker has connected its inspector session
    state = "loading";
    arm();
    send({ type: "init", lesson: config.lesson, backend: config.backend, cells: config.cells });
  } else if (m.type === "cell" && state === "loading" && Number.isSafeInteger(m.cell) && m.cell >= 0) {
    emit({ kind: "cell", cell: m.cell }); // so that even a crash while loading says which cell
  } else if (m.type === "loaded" && state === "loading") {
    const cellErrors = Array.isArray(m.cellErrors)
      ? m.cellErrors.filter((x) => Number.isSafeInteger(x?.cell) && typeof x?.error === "string").slice(0, 100)
        .map((x) => ({ cell: x.cell, error: x.error.slice(0, 500) }))
      : [];
    state = "running"; // a second "loaded" (student code can post one) is ignored
    emit({ kind: "loaded", cellErrors }).then(next);
  } else if (m.type === "result" && state === "running" && m.item === current) {
    let frame: Frame;
    try {
      frame = { kind: "done", item: current, records: parseRecords(m.records) };
      if (m.notFunction !== undefined) frame.notFunction = parseWire(m.notFunction);
    } catch {
      return void stop("broken");
    }
    disarm();
    current = null; // a stop from now until the next item starts is the next item's (sandbox.ts)
    emit(frame).then(next);
  }
};
