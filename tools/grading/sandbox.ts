/**
 * Runs a notebook's code in the grading sandbox (sandbox_main.ts, in a Deno subprocess) and reads back what it
 * reports. Everything read back is untrusted and validated (frames.ts); nothing the submission prints can be
 * taken for a report, and the submission's output is only counted, never shown.
 *
 * The subprocess resolves modules from the course's deno.json, lockfile and node_modules only (`--frozen
 * --cached-only --no-remote`, node_modules read-only and never installed into), with an empty HOME (no .npmrc
 * of the instructor's). Deno writes its caches (transpiled and compiled modules, dependency analyses, the Cache
 * API's storage) into DENO_DIR without asking for any permission, and a submission decides what it loads
 * (`import("data:…")` of generated modules, a nested Worker's `caches`): so each process gets its own copy of
 * the grader's warm DENO_DIR ({@linkcode SandboxDirs.denoDir}, filled once by trusted code, see
 * {@linkcode runSandbox}'s `warm`), which is watched for growth (at most {@linkcode MAX_CACHE_GROWTH} bytes) and
 * deleted when the process ends. Nothing one process writes there reaches another process, or fills the disk.
 * Its localStorage and Cache API also live under a fresh `--location` per process.
 * @module
 */
import { dirname, join } from "node:path";
import { ROOT } from "../setup.ts";
import {
  type CallRecord,
  FrameReader,
  type Item,
  parseFrame,
  ProtocolError,
  type SandboxConfig,
  type StopReason,
  WALL_FACTOR,
  type Wire,
} from "./frames.ts";

/** Grading limits. */
export interface Limits {
  /**
   * Processor seconds (all threads of the sandbox) one item (an exercise's visible or hidden cases) may use;
   * also the notebook's cells together. Waiting without computing is stopped after WALL_FACTOR times as long.
   */
  timeoutS: number;
  /** Resident memory of one sandbox process, every thread and Worker included, in MiB. */
  memoryMb: number;
  /** Bytes a sandbox may print (stdout and stderr) before it is stopped. */
  maxOutputBytes: number;
}

/** Where sandboxes keep their (runtime-written) files: made and owned by the grader. */
export interface SandboxDirs {
  /** An empty folder: the sandboxes' HOME and working folder. */
  home: string;
  /**
   * The sandboxes' warm DENO_DIR (module caches): each process runs on a copy of it, in a folder beside it
   * (`<dirname>/runs/`), deleted after the process.
   */
  denoDir: string;
}

/** Bytes a sandbox process may add to its copy of DENO_DIR (an honest notebook adds next to nothing). */
export const MAX_CACHE_GROWTH = 128 << 20;

/** One attempt's work. */
export interface SandboxRequest {
  lesson: string;
  backend: string;
  cells: SandboxConfig["cells"];
  items: Item[];
  hiddenArgs: (Wire[][] | null)[];
  /**
   * Called once every visible item is reported (with the reports so far): which hidden items (indices into
   * `items`) to run. Without it every item runs.
   */
  chooseHidden?: (done: SandboxOutcome["done"]) => Promise<number[]>;
}

/** Why an attempt ended early; `item` is the request's item in progress (null: while loading the cells). */
export interface Stop {
  item: number | null;
  reason: StopReason | "output" | "disk" | "crash";
  /** While loading: the cell being evaluated. */
  cell?: number;
  /** For "memory": the resident memory measured, in MiB. */
  mib?: number;
  /** For "crash": V8 reported running out of memory. */
  oom?: boolean;
  /** For "crash": the crash that awaiting a Promise that never settles causes. */
  stuck?: boolean;
}

/** What one attempt reported. */
export interface SandboxOutcome {
  /** The cells that threw while loading (only when they all ran). */
  cellErrors?: { cell: number; error: string }[];
  done: Map<number, { records: CallRecord[]; notFunction?: Wire }>;
  stop?: Stop;
  /** The end of what the process printed on stderr: for the instructor's diagnostics, never for students. */
  stderr?: string;
}

const HERE = join(ROOT, "tools", "grading");
/** What the sandbox may read: the course library, its data and packages, and the sandbox's own three files. */
const READABLE = [
  join(ROOT, "lib"),
  join(ROOT, "datasets"),
  join(ROOT, "node_modules"),
  join(HERE, "sandbox_worker.ts"),
  join(HERE, "protocol.ts"),
  join(HERE, "frames.ts"),
];
/** Most bytes of frames one attempt may send (larger values are recorded as opaque well before this). */
const MAX_FRAME_BYTES = 256 << 20;

/** The arguments of the sandbox subprocess (exported for the test that checks its permissions). */
export function sandboxArgs(origin: string, limits: Limits): string[] {
  return [
    "run",
    "--no-prompt",
    `--config=${join(ROOT, "deno.json")}`,
    "--node-modules-dir=manual",
    "--frozen",
    "--cached-only",
    "--no-remote",
    `--location=${origin}/`,
    `--allow-read=${READABLE.join(",")}`,
    "--allow-env=ATTN_BACKEND",
    "--allow-sys", // only to connect the Worker's inspector session; revoked before any student code runs
    // The resident-memory watchdog (sandbox_main.ts) is the limit; V8's own cap is a backstop above it, since
    // Deno ends a Worker at its heap cap without a word, which would look like a timeout.
    `--v8-flags=--max-old-space-size=${limits.memoryMb}`,
    join(HERE, "sandbox_main.ts"),
  ];
}

/** The folder that holds the sandbox processes' copies of DENO_DIR. */
export function runsDir(dirs: SandboxDirs): string {
  return join(dirname(dirs.denoDir), "runs");
}

/** Copies a folder tree (regular files and folders only); returns the bytes copied. */
async function copyTree(from: string, to: string): Promise<number> {
  await Deno.mkdir(to, { recursive: true });
  let bytes = 0;
  for await (const e of Deno.readDir(from)) {
    if (e.name === "location_data") continue; // storage: never carried from one process to another
    if (e.isDirectory) bytes += await copyTree(join(from, e.name), join(to, e.name));
    else if (e.isFile) {
      await Deno.copyFile(join(from, e.name), join(to, e.name));
      bytes += (await Deno.stat(join(to, e.name))).size;
    }
  }
  return bytes;
}

/** The bytes of the regular files under `dir` (entries that vanish meanwhile count as empty). */
async function treeSize(dir: string): Promise<number> {
  let bytes = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) bytes += await treeSize(path);
      else if (e.isFile) bytes += await Deno.stat(path).then((s) => s.size, () => 0);
    }
  } catch { /* removed meanwhile */ }
  return bytes;
}

/**
 * Runs one attempt; never throws because of the submission.
 *
 * @param warm Run on `dirs.denoDir` itself rather than a copy, to fill the caches every copy starts from: only
 *   for requests whose cells are the grader's own (the preflight), never a submission's.
 */
export async function runSandbox(
  request: SandboxRequest,
  limits: Limits,
  dirs: SandboxDirs,
  { warm = false } = {},
): Promise<SandboxOutcome> {
  const nonce = crypto.randomUUID();
  const origin = `http://s${crypto.randomUUID().replaceAll("-", "")}.invalid`;
  const denoDir = warm ? dirs.denoDir : join(runsDir(dirs), crypto.randomUUID());
  try {
    const base = warm ? 0 : await copyTree(dirs.denoDir, denoDir);
    return await runIn(request, limits, dirs.home, denoDir, origin, nonce, warm ? undefined : base);
  } finally {
    if (warm) await removeStorage(denoDir, origin);
    else await Deno.remove(denoDir, { recursive: true }).catch(() => {});
  }
}

async function runIn(
  request: SandboxRequest,
  limits: Limits,
  home: string,
  denoDir: string,
  origin: string,
  nonce: string,
  /** The copy's size at the start (undefined: not watched). */
  base: number | undefined,
): Promise<SandboxOutcome> {
  const child = new Deno.Command(Deno.execPath(), {
    args: sandboxArgs(origin, limits),
    cwd: home,
    clearEnv: true,
    env: {
      NO_COLOR: "1",
      HOME: home,
      DENO_DIR: denoDir,
      DENO_NO_UPDATE_CHECK: "1",
      ATTN_BACKEND: request.backend,
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const outcome: SandboxOutcome = { done: new Map() };
  const started: number[] = [];
  const inProgress = () => {
    const last = started.at(-1);
    return last !== undefined && !outcome.done.has(last) ? last : null;
  };
  let loaded = false;
  let cell: number | undefined; // the cell being evaluated while loading
  const end = (stop: Stop) => {
    outcome.stop ??= stop;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  };
  // The copy of DENO_DIR may not grow without bound (the disk is the class's).
  let watching = false;
  const diskWatch = base === undefined ? undefined : setInterval(async () => {
    if (watching) return;
    watching = true;
    if ((await treeSize(denoDir)) - base > MAX_CACHE_GROWTH) end({ item: inProgress(), reason: "disk" });
    watching = false;
  }, 250);
  // A backstop: the sandbox times every item itself.
  const deadline = setTimeout(
    () => end({ item: inProgress(), reason: "timeout" }),
    ((request.items.length + 2) * WALL_FACTOR * limits.timeoutS + 30) * 1000,
  );

  const { chooseHidden, ...work } = request;
  const config: SandboxConfig = {
    nonce,
    ...work,
    timeoutS: limits.timeoutS,
    memoryMb: limits.memoryMb,
    askBeforeHidden: chooseHidden !== undefined && request.items.some((it) => it.phase === "visible"),
  };
  // stdin stays open while the sandbox runs: it exits when it closes.
  const stdin = child.stdin.getWriter();
  stdin.write(new TextEncoder().encode(JSON.stringify(config) + "\n")).catch(() => {});

  let printed = 0, frameBytes = 0, ended = false;
  const countOutput = (n: number) => {
    printed += n;
    if (printed > limits.maxOutputBytes) end({ item: inProgress(), reason: "output" });
  };
  const reader = new FrameReader(nonce);
  const onLine = (line: string) => {
    let parsed: unknown[] | "output";
    try {
      parsed = reader.push(line);
    } catch {
      return end({ item: inProgress(), reason: "crash" });
    }
    if (parsed === "output") return countOutput(line.length + 1);
    frameBytes += line.length;
    if (frameBytes > MAX_FRAME_BYTES) return end({ item: inProgress(), reason: "output" });
    for (const raw of parsed) {
      let frame;
      try {
        frame = parseFrame(raw, request.items.length);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        return end({ item: inProgress(), reason: "crash" });
      }
      if (frame.kind === "cell") {
        cell = frame.cell;
      } else if (frame.kind === "loaded") {
        loaded = true;
        outcome.cellErrors = frame.cellErrors;
      } else if (frame.kind === "start") {
        started.push(frame.item);
      } else if (frame.kind === "done" && frame.item === inProgress()) {
        outcome.done.set(frame.item, { records: frame.records, notFunction: frame.notFunction });
      } else if (frame.kind === "stopped") {
        const { item, reason, mib } = frame;
        outcome.stop ??= { item: loaded ? item : null, reason, mib };
      } else if (frame.kind === "await-hidden" && chooseHidden) {
        chooseHidden(outcome.done).then(
          (allowed) => stdin.write(new TextEncoder().encode(JSON.stringify(allowed) + "\n")),
          () => end({ item: inProgress(), reason: "crash" }),
        ).catch(() => {});
      } else if (frame.kind === "end") {
        ended = true;
      }
    }
  };

  const readStdout = async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of child.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        onLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
      // A line with no end in sight is output (a frame line is at most a few KiB).
      if (pending.length > 65536) {
        countOutput(pending.length);
        pending = "";
      }
    }
  };
  let stderrTail = "";
  const readStderr = async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      countOutput(chunk.length);
      stderrTail = (stderrTail + decoder.decode(chunk, { stream: true })).slice(-65536);
    }
  };
  await Promise.all([readStdout(), readStderr()]).catch(() => {});
  const status = await child.status;
  clearTimeout(deadline);
  clearInterval(diskWatch);
  await stdin.close().catch(() => {});
  if (!ended && !outcome.stop) {
    const oom = /out of memory|Allocation failed|OOM/i.test(stderrTail) || status.signal === "SIGABRT" ||
      status.signal === "SIGTRAP";
    // Deno 2.9 crashes when the garbage collector frees a Promise that a cell awaits and that can never settle.
    const stuck = /DisallowJavascriptExecutionScope/.test(stderrTail);
    outcome.stop = { item: loaded ? inProgress() : null, reason: "crash", oom, stuck };
  }
  if (outcome.stop && loaded) {
    // A stop between two items belongs to the next one; a report for the item that was stopped does not count.
    const next = request.items.findIndex((_, i) => !outcome.done.has(i));
    outcome.stop.item ??= next >= 0 ? next : null;
    if (outcome.stop.item === null) delete outcome.stop; // everything was reported
    else outcome.done.delete(outcome.stop.item);
  }
  if (!loaded) {
    delete outcome.cellErrors;
    if (outcome.stop && cell !== undefined) outcome.stop.cell = cell;
  }
  outcome.stderr = stderrTail;
  return outcome;
}

/** Deletes the origin's localStorage and Cache API folders (Deno keys them by the SHA-256 of the origin). */
async function removeStorage(denoDir: string, origin: string): Promise<void> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(origin));
  const key = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  for (const dir of [join(denoDir, "location_data", key), join(denoDir, "location_data", "web_cache", key)]) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
