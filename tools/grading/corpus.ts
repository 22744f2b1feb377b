/**
 * Submissions for testing the grader: honest notebooks written the ways students write them (re-run cells,
 * scratch cells that throw, old import paths, chained tensor methods…), and hostile ones, each trying one way to
 * crash the class's run, reach outside, forge or steal a grade, or learn the hidden cases. Each hostile case
 * states what the grade must be. Used by grade_test.ts, and to build a class for a throughput run:
 *
 *   deno run --allow-read --allow-write --allow-env tools/grading/corpus.ts <dir> [--honest N] [--hostile [--only a,b]]
 *
 * writes N honest students (each with every graded lesson) and, with --hostile, every hostile case (or those of
 * the students named by --only) into <dir>.
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Notebook, readNotebook, serializeNotebook, sourceOf } from "../notebook.ts";
import { ROOT } from "../setup.ts";
import { exercisesByLesson } from "../../lib/check/mod.ts";
import { hiddenCases } from "./hidden.ts";

/** Points of lesson 01's exercises. */
export const LESSON01 = {
  denseParamCount: 1,
  multiHeadParamCount: 1,
  causalAttentionFlops: 2,
  effectiveWeights: 3,
  attentionWeights: 3,
};
type Name01 = keyof typeof LESSON01;

/** What a hostile case's grade must be. */
export interface Expect {
  /** Points of these exercises (the others of the lesson must keep full marks, unless `othersAny`). */
  points?: Partial<Record<string, number>>;
  /** A text each of these exercises' messages must contain. */
  messages?: Partial<Record<string, string>>;
  /** Every exercise scores 0 and its message contains this. */
  allZero?: string;
  /** The other exercises may score anything (the submission broke its own code). */
  othersAny?: boolean;
  /** Texts the student's feedback must contain / must not contain. */
  feedback?: string[];
  notInFeedback?: string[];
  /** Paths (relative to the submissions) that must be listed as not graded, with a text of the reason. */
  skipped?: [string, string][];
  /** No notebook of this student is graded. */
  ungraded?: boolean;
  /** The gradebook row of this student must start so (for names that need CSV escaping). */
  csvRow?: string;
  /** Grading this notebook takes at most this many sandbox processes. */
  maxSandboxes?: number;
}

/** One case: a student folder, what it tries (and which issue item it covers), and the expected grade. */
export interface Case {
  student: string;
  /** The lesson whose grade `expect` describes (default "01"). */
  lesson?: string;
  what: string;
  write: (dir: string, student: string) => Promise<void>;
  expect: Expect;
}

const solutions = new Map<string, Notebook>();
async function solution(lesson: string): Promise<Notebook> {
  if (!solutions.has(lesson)) {
    const name = [...Deno.readDirSync(join(ROOT, "solutions"))].find((e) => e.name.startsWith(`${lesson}-`))!.name;
    solutions.set(lesson, await readNotebook(join(ROOT, "solutions", name)));
  }
  return structuredClone(solutions.get(lesson)!);
}

/** The course's file name of a lesson's notebook. */
export function lessonFile(lesson: string): string {
  return [...Deno.readDirSync(join(ROOT, "exercises"))].find((e) => e.name.startsWith(`${lesson}-`))!.name;
}

const code = (source: string) => ({
  cell_type: "code" as const,
  metadata: {},
  source,
  outputs: [],
  execution_count: null,
});

/** Lesson 01's solution with some function bodies replaced, cells added before the first exercise or at the end. */
export async function lesson01(
  options: {
    /** Replace these functions' bodies. */
    bodies?: Partial<Record<Name01, string>>;
    /** Run this code first in these functions, then their solution. */
    prefix?: Partial<Record<Name01, string>>;
    /** Replace the cells that define these functions. */
    cells?: Partial<Record<Name01, string>>;
    early?: string[];
    late?: string[];
  } = {},
): Promise<Notebook> {
  const nb = await solution("01");
  for (const cell of nb.cells) {
    for (const [name, body] of Object.entries(options.bodies ?? {})) {
      const src = sourceOf(cell);
      if (src.includes(`function ${name}(`)) {
        cell.source = src.replace(/\/\/ BEGIN SOLUTION[\s\S]*?\/\/ END SOLUTION/, body);
      }
    }
    for (const [name, source] of Object.entries(options.cells ?? {})) {
      if (sourceOf(cell).includes(`function ${name}(`)) cell.source = source;
    }
    for (const [name, first] of Object.entries(options.prefix ?? {})) {
      const src = sourceOf(cell);
      if (src.includes(`function ${name}(`)) {
        cell.source = src.replace("// BEGIN SOLUTION", `${first}\n  // BEGIN SOLUTION`);
      }
    }
  }
  const first = nb.cells.findIndex((c) => sourceOf(c).includes("function denseParamCount("));
  nb.cells.splice(first, 0, ...(options.early ?? []).map(code));
  nb.cells.push(...(options.late ?? []).map(code));
  return nb;
}

/**
 * Lesson 04's solution with softmaxWithTemperature (A) overflowing (`brokenA`), temperatureForMaxWeight (B) calling
 * A (`viaA`), and B wrong by itself: it searches for 1/τ (`wrongB`).
 */
async function lesson04(options: { brokenA?: boolean; viaA?: boolean; wrongB?: boolean }): Promise<Notebook> {
  const nb = await solution("04");
  const a = nb.cells.find((c) => sourceOf(c).includes("function softmaxWithTemperature("));
  const b = nb.cells.find((c) => sourceOf(c).includes("function temperatureForMaxWeight("));
  const stable = /const largest = \(tau: number\) => [^\n]*/;
  if (!a || !b || !stable.test(sourceOf(b)) || !/lo = mid;[^\n]*\n\s*else hi = mid;/.test(sourceOf(b))) {
    throw new Error("the solution of lesson 04 changed: update corpus.ts's lesson04");
  }
  if (options.brokenA) {
    a.source = sourceOf(a).replace(
      /\/\/ BEGIN SOLUTION[\s\S]*?\/\/ END SOLUTION/,
      "const e = logits.map((z) => Math.exp(z / tau)); // no max subtracted: overflows\n" +
        "  const total = e.reduce((a, b) => a + b, 0);\n  return e.map((x) => x / total);",
    );
  }
  if (options.viaA) {
    b.source = sourceOf(b).replace(
      stable,
      `const largest = (tau: number) => Math.max(...softmaxWithTemperature(logits, ${
        options.wrongB ? "1 / tau" : "tau"
      }));`,
    );
    if (options.wrongB) {
      // largest(τ) is now the max weight at 1/τ, which grows with τ: the search turns round.
      b.source = sourceOf(b).replace(/lo = mid;([^\n]*\n\s*)else hi = mid;/, "hi = mid;$1else lo = mid;");
    }
  }
  return nb;
}

async function put(dir: string, student: string, file: string, content: Notebook | string): Promise<void> {
  await Deno.mkdir(join(dir, student), { recursive: true });
  await Deno.writeTextFile(
    join(dir, student, file),
    typeof content === "string" ? content : serializeNotebook(content),
  );
}

const nb01 = (options: Parameters<typeof lesson01>[0]) => async (dir: string, student: string) =>
  put(dir, student, lessonFile("01"), await lesson01(options));

// ---------------------------------------------------------------------------------------------------- honest

/** The honest ways of writing a notebook, applied to a solution notebook (variant i of {@linkcode HONEST_STYLES}). */
export const HONEST_STYLES: [string, (nb: Notebook) => void][] = [
  ["as written", () => {}],
  ["a wrong first try of each function, re-declared by a later cell (a re-run)", (nb) => {
    for (let i = nb.cells.length - 1; i >= 0; i--) {
      const src = sourceOf(nb.cells[i]);
      if (!src.includes("// BEGIN SOLUTION")) continue;
      const wrong = src.replace(/\/\/ BEGIN SOLUTION[\s\S]*?\/\/ END SOLUTION/, 'throw new Error("first try");');
      nb.cells.splice(i, 0, code(wrong));
    }
  }],
  ["`let scratch` in two cells, and scratch cells that throw", (nb) => {
    nb.cells.splice(2, 0, code("let scratch = 1;\nconsole.log(scratch);"), code("undefinedHelper(scratch);"));
    nb.cells.push(code("let scratch = [1, 2, 3];\nthrow new Error(`trying ${scratch}`);"), code("const x = 1;"));
    nb.cells.push(code("const x = 2; // re-run with another value"));
  }],
  ["relative imports of the older notebooks (../lib/…)", (nb) => {
    for (const c of nb.cells) {
      c.source = sourceOf(c).replaceAll('"attention-course/check"', '"../lib/check/mod.ts"')
        .replaceAll('"attention-course/datasets"', '"../datasets/mod.ts"')
        .replaceAll('"attention-course"', '"../lib/mod.ts"');
    }
  }],
  ["display calls, exports, type-only declarations and a floating rejected Promise", (nb) => {
    nb.cells.push(
      code('await Deno.jupyter.display({ "text/plain": "hello" }, { raw: true });\nconsole.log("done");'),
      code(
        "interface Point { x: number }\ntype Pair = [number, number];\nenum Mode { A, B }\nconst p: Point = { x: Mode.B };",
      ),
      code('Promise.reject(new Error("nobody awaits me"));\nsetTimeout(() => console.log("later"), 10);'),
    );
    for (const c of nb.cells) c.source = sourceOf(c).replace(/^function /m, "export function ");
  }],
];

/** The lessons with exercises and a solution notebook. */
export function gradedLessons(): string[] {
  return [...Deno.readDirSync(join(ROOT, "solutions"))].map((e) => e.name.slice(0, 2))
    .filter((l) => exercisesByLesson[l]).sort();
}

/** Writes `n` honest students, each with every graded lesson in one of the honest styles. */
export async function writeHonestClass(dir: string, n: number): Promise<string[]> {
  const students: string[] = [];
  for (let i = 0; i < n; i++) {
    const student = `honest-${String(i + 1).padStart(3, "0")}`;
    for (const lesson of gradedLessons()) {
      const nb = await solution(lesson);
      HONEST_STYLES[(i + Number(lesson)) % HONEST_STYLES.length][1](nb);
      await put(dir, student, lessonFile(lesson), nb);
    }
    students.push(student);
  }
  return students;
}

// ---------------------------------------------------------------------------------------------------- hostile

/** Where the grader must not let a sandbox write or read, for the probes (known to the test). */
export interface Places {
  /** A file the sandbox must not create. */
  canary: string;
  /** The submissions folder (holds classmates' work). */
  submissions: string;
}

/** Every hostile case, for lesson 01 (`places`: paths the probes try). */
export function hostileCases(places: Places): Case[] {
  // A probe is open unless it throws a denial (`denial`: the one the sandbox's own flags give, so that a probe that
  // fails only because this machine is offline still counts as open).
  const probe = (
    label: string,
    expr: string,
    denial = "NotCapable|Requires [a-z]+ access",
  ) =>
    `try { const r = await (async () => ${expr})(); if (r !== "denied") open.push(${JSON.stringify(label)}); } ` +
    `catch (e) { if (!/${denial}/i.test(String(e))) open.push(${
      JSON.stringify(label)
    } + ": " + String(e).slice(0, 120)); }`;
  const notInstalled = "in the node_modules directory"; // --node-modules-dir=manual: never installed into
  const noRemote = "A remote specifier was requested"; // --no-remote
  const hidden = `file://${ROOT}/tools/grading/hidden.ts`;
  const probes = [
    probe("read /etc/hostname", 'Deno.readTextFileSync("/etc/hostname")'),
    probe("read /proc/self/status", 'Deno.readTextFileSync("/proc/self/status")'),
    probe("read the grader's /proc", "Deno.readTextFileSync(`/proc/${Deno.ppid}/environ`)"),
    probe("read hidden.ts", `Deno.readTextFileSync(${JSON.stringify(hidden.slice(7))})`),
    probe("import hidden.ts", `import(${JSON.stringify(hidden)})`),
    probe("import ../tools/grading/hidden.ts", 'import("../tools/grading/hidden.ts")'),
    probe("read classmates", `Deno.readDirSync(${JSON.stringify(places.submissions)})`),
    probe("write outside", `Deno.writeTextFileSync(${JSON.stringify(places.canary)}, "pwned")`),
    probe("environment", 'Deno.env.get("HOME")'),
    probe("whole environment", "Deno.env.toObject()"),
    probe("subprocess", 'new Deno.Command("/bin/sh", { args: ["-c", "true"] }).outputSync()'),
    probe("node child_process", '(await import("node:child_process")).execSync("id")'),
    probe("kill the grader", 'Deno.kill(Deno.ppid, "SIGKILL")'),
    probe("network", 'fetch("http://127.0.0.1:8080/")'),
    probe("tcp connect", "Deno.connect({ port: 9 })"),
    probe("listen", "Deno.listen({ port: 0 })"),
    probe("ffi", 'Deno.dlopen("libc.so.6", {})'),
    probe("hostname (sys)", "Deno.hostname()"),
    probe("network interfaces (sys)", "Deno.networkInterfaces()"),
    probe("renice others (sys)", '(await import("node:os")).setPriority(1, 19)'),
    probe("inspector session", 'new (await import("node:inspector")).Session().connect()'),
    probe("node fs", '(await import("node:fs")).readFileSync("/etc/passwd")'),
    probe(
      "ask for permission",
      '(await Deno.permissions.request({ name: "read" })).state === "granted" ? "granted" : "denied"',
    ),
    probe("npm package not installed", 'import("npm:left-pad@1.3.0")', notInstalled),
    probe("npm exfiltration", 'import("npm:exfil-" + "secret-data")', notInstalled),
    probe("jsr", 'import("jsr:@std/path@1")', noRemote),
    probe("remote module", 'import("https://deno.land/std/path/mod.ts")', noRemote),
    probe("localStorage", 'localStorage.getItem("x")', "localStorage is not defined"), // none in a Worker
    probe("Cache API", 'caches.open("x")', "caches is not defined"),
    probe("KV store", 'Deno.openKv("kv")', "openKv is not a function"), // unstable: not enabled
  ].join("\n  ");

  const record = "globalThis.seen ??= []; globalThis.seen.push([T, d]);";
  // denseParamCount's hidden inputs as `record` prints them
  const hiddenArgs = (hiddenCases["01"].denseParamCount ?? []).map((c) => JSON.stringify(c.args()));
  if (!hiddenArgs.length) throw new Error("lesson 01's denseParamCount has no hidden cases: update the leak cases");
  return [
    // 1. The memory watchdog, under the task's own permissions
    {
      student: "mem-offheap",
      what: "1: 5 GiB of Float64Arrays off the V8 heap",
      write: nb01({
        bodies: {
          denseParamCount:
            "const k = []; for (let i = 0; i < 40; i++) k.push(new Float64Array(2 ** 24).fill(1)); return k.length;",
        },
      }),
      expect: { points: { denseParamCount: 0 }, messages: { denseParamCount: "used more than" } },
    },
    {
      student: "mem-workers",
      what: "1: 16 Workers growing buffers while the checked call waits",
      write: nb01({
        bodies: {
          // The call waits without computing (Atomics.wait): spinning instead would spend the processor-time limit
          // first on a busy machine, where the Workers get less of the processor than the spinning thread.
          denseParamCount: "const src = 'const k = []; for (;;) k.push(new Uint8Array(64 << 20).fill(1));';\n" +
            '  for (let i = 0; i < 16; i++) new Worker(`data:application/javascript,${encodeURIComponent(src)}`, { type: "module" });\n' +
            "  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30_000); return 0;",
        },
      }),
      expect: { points: { denseParamCount: 0 }, messages: { denseParamCount: "memory" } },
    },
    {
      student: "mem-touch",
      what: "1: an 8 GiB array touched page by page",
      write: nb01({
        bodies: {
          denseParamCount:
            "const a = new Float64Array(2 ** 30); for (let i = 0; i < a.length; i += 512) a[i] = 1; return a[0];",
        },
      }),
      expect: { points: { denseParamCount: 0 }, messages: { denseParamCount: "memory" } },
    },
    {
      student: "mem-wasm",
      what: "1: WebAssembly memory grown to 4 GiB",
      write: nb01({
        bodies: {
          denseParamCount: "const m = new WebAssembly.Memory({ initial: 1, maximum: 65536 });\n" +
            "  for (let i = 0; i < 4095; i++) { m.grow(16); new Uint8Array(m.buffer).fill(1, i << 20, (i + 1) << 20); }\n  return 0;",
        },
      }),
      expect: { points: { denseParamCount: 0 }, messages: { denseParamCount: "memory" } },
    },
    {
      student: "mem-heap",
      what: "1: the V8 heap",
      write: nb01({
        bodies: {
          denseParamCount: "const a = []; for (let i = 0; ; i++) a.push(new Array(1 << 24).fill(i)); return 0;",
        },
      }),
      expect: { points: { denseParamCount: 0 }, messages: { denseParamCount: "memory" } },
    },
    {
      student: "fork-bomb",
      what: "1: Workers that each start two more",
      write: nb01({
        bodies: {
          denseParamCount:
            'const bomb = \'for (let i = 0; i < 2; i++) new Worker(import.meta.url, { type: "module" }); ' +
            "const k = new Uint8Array(16 << 20).fill(1); for (;;) { /* spin */ }';\n" +
            "  new Worker(`data:application/javascript,${encodeURIComponent(bomb)}`, { type: 'module' });\n" +
            "  const end = Date.now() + 30_000; while (Date.now() < end) { /* wait */ } return 0;",
        },
      }),
      expect: { points: { denseParamCount: 0 }, messages: { denseParamCount: "the submission" } },
    },
    // 2. Nothing crashes the class's run
    {
      student: "ctor-math",
      what: "2: a typed array whose constructor claims to be Math, under an exercise's name",
      write: nb01({
        cells: {
          denseParamCount:
            'const denseParamCount = Object.defineProperty(new Uint8Array(1), "constructor", { value: { name: "Math" } });',
        },
        bodies: {
          multiHeadParamCount:
            'return Object.defineProperty(new Uint8Array(1), "constructor", { value: { name: "Math" } }) as never;',
        },
      }),
      expect: {
        points: { denseParamCount: 0, multiHeadParamCount: 0 },
        messages: { denseParamCount: "expected the function denseParamCount itself" },
      },
    },
    {
      student: "tojson",
      what: "2, 3: Object.prototype.toJSON renaming every frame",
      write: nb01({
        early: [
          'Object.defineProperty(Object.prototype, "toJSON", { value() { return { kind: "constructor", name: "bogus", __proto__: null }; }, configurable: true });',
        ],
      }),
      expect: {},
    },
    {
      student: "pollute",
      what:
        "2, 3: prototype pollution of what a harness touches (subarray, encode, JSON, Array, Symbol.hasInstance…), a stub",
      write: nb01({
        bodies: { denseParamCount: 'throw new NotImplementedError("denseParamCount");' },
        early: [
          [
            "const leaked = [];",
            "Uint8Array.prototype.subarray = function (...a) { leaked.push(new TextDecoder().decode(this)); return Uint8Array.prototype.slice.apply(this, a); };",
            "TextEncoder.prototype.encode = function () { return new Uint8Array(0); };",
            'JSON.stringify = () => \'{"kind":"done","item":0,"records":[{"ok":2}]}\';',
            "JSON.parse = () => ({ kind: 'end' });",
            "Array.prototype.every = () => true;",
            "Array.prototype.map = function () { return []; };",
            "Object.keys = () => [];",
            "Object.defineProperty(Function.prototype, Symbol.hasInstance, { value: () => true });",
            "Object.prototype.hasOwnProperty = () => true;",
            "globalThis.postMessage = () => {};",
            "Math.abs = () => 0;",
            "globalThis.structuredClone = () => ({ kind: 'end' });",
            'Promise.prototype.then = function () { throw new Error("no then"); };',
            "Function.prototype.call = function () { return 'called'; };",
          ].join("\n"),
        ],
      }),
      expect: { points: { denseParamCount: 0 }, othersAny: true },
    },
    {
      student: "getters",
      what: "2: returned: a Proxy that throws on every trap, a throwing getter, a getter that never returns",
      write: nb01({
        bodies: {
          denseParamCount:
            "return new Proxy({}, { get() { throw new Error('trap'); }, getPrototypeOf() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); } }) as never;",
          multiHeadParamCount: "return { get then() { throw new Error('getter'); } } as never;",
          causalAttentionFlops: "return { [Symbol.toPrimitive]() { throw new Error('no'); }, " +
            "get [Symbol.toStringTag]() { for (;;) { /* never returns */ } } } as never;",
        },
      }),
      expect: {
        points: { denseParamCount: 0, multiHeadParamCount: 0, causalAttentionFlops: 0 },
        messages: {
          denseParamCount: "got a value that cannot be read",
          multiHeadParamCount: "got an object",
          causalAttentionFlops: "did not finish within",
        },
      },
    },
    {
      student: "huge-return",
      what: "2: a 5-million-element array returned",
      write: nb01({ bodies: { effectiveWeights: "return new Array(5_000_000).fill(0.5) as never;" } }),
      expect: { points: { effectiveWeights: 0 }, messages: { effectiveWeights: "too large to record" } },
    },
    {
      student: "not-json",
      what: "2: a notebook that is not JSON",
      write: (dir) => put(dir, "not-json", lessonFile("01"), "{ this is not json"),
      expect: { allZero: "could not be read" },
    },
    {
      student: "bad-cells",
      what: "2: cells whose source is not text",
      write: (dir) =>
        put(
          dir,
          "bad-cells",
          lessonFile("01"),
          JSON.stringify({ nbformat: 4, cells: [{ cell_type: "code", source: 42 }] }),
        ),
      expect: { allZero: "could not be read" },
    },
    {
      student: "disposed-huge",
      what:
        "2: a fake disposed tensor of 2^52 elements, under an exercise's name and returned (the grader rebuilds it)",
      write: nb01({
        cells: {
          denseParamCount:
            "const fake = () => Object.create(tf.Tensor.prototype, { isDisposedInternal: { value: true }, " +
            'shape: { value: [2 ** 40, 2 ** 12] }, dtype: { value: "float32" }, size: { value: 2 ** 52 } });\n' +
            "const denseParamCount = fake();",
        },
        bodies: { multiHeadParamCount: "return fake() as never;" },
      }),
      expect: {
        points: { denseParamCount: 0, multiHeadParamCount: 0 },
        messages: { denseParamCount: "expected the function denseParamCount itself" },
      },
    },
    {
      student: "deep-nesting",
      what: "2: a cell nested 20000 brackets deep (TypeScript's parser runs out of stack)",
      write: nb01({ late: [`const deep = ${"(".repeat(20000)}1${")".repeat(20000)};`] }),
      expect: { feedback: ["nested too deeply"] },
    },
    {
      student: "disk-fill-imports",
      what: "2: generated modules imported (in a cell) until Deno's module cache would fill the disk",
      write: nb01({
        // In a cell, not a function: a function's Promise may take only 5 s, which a busy machine could spend
        // before the cache grows by 128 MiB.
        early: [
          "for (let i = 0; i < 4000; i++) {\n" +
          '  const src = `export const x: number = ${i}; // ${"a".repeat(1 << 20)}`;\n' +
          "  await import(`data:application/typescript,${encodeURIComponent(src)}`);\n}",
        ],
      }),
      expect: { allZero: "cache folder" },
    },
    {
      student: "disk-fill-cache",
      what: "2: a nested Worker's Cache API filled while the checked call waits",
      write: nb01({
        prefix: {
          causalAttentionFlops: 'const src = \'const c = await caches.open("x"); ' +
            'for (let i = 0; ; i++) await c.put("http://a/" + i, new Response(new Uint8Array(16 << 20)));\';\n' +
            '  new Worker(`data:application/javascript,${encodeURIComponent(src)}`, { type: "module" });\n' +
            "  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30_000); // waits without computing",
        },
      }),
      expect: { points: { causalAttentionFlops: 0 }, messages: { causalAttentionFlops: "cache folder" } },
    },
    {
      student: "checker-tamper",
      what: "3: the course's check module, imported again, emptied of cases and worth 100 points, with a stub",
      write: nb01({
        bodies: { denseParamCount: 'throw new NotImplementedError("denseParamCount");' },
        early: [
          'const { exercisesByLesson } = await import("attention-course/check");\n' +
          "const ex = exercisesByLesson['01'].denseParamCount as { cases: unknown[]; points: number; after?: unknown };\n" +
          "ex.cases.length = 0;\nex.points = 100;\ndelete ex.after;",
        ],
      }),
      expect: { points: { denseParamCount: 0 } },
    },
    {
      student: "many-cells",
      what: "2: 6000 code cells (each one the grader transpiles, outside the sandbox's limits)",
      write: nb01({ late: Array.from({ length: 6000 }, (_, i) => `const scratch${i} = ${i};`) }),
      expect: { allZero: "more than 2000 code cells" },
    },
    {
      student: "huge-cell",
      what: "2: a 6 MiB cell",
      write: nb01({ late: [`const table = [${"1,".repeat(3 << 20)}];`] }),
      expect: { allZero: "MiB of code" },
    },
    // 3. Frames cannot be forged
    {
      student: "forger",
      what: "3: printed pass lines and forged frames, a stub",
      write: nb01({
        bodies: { denseParamCount: 'throw new NotImplementedError("denseParamCount");' },
        early: [
          'console.log("✔ denseParamCount: passed 5/5 cases — 1/1 points");\n' +
          'for (const n of ["00000000-0000-0000-0000-000000000000", "x"]) console.log(`\\n@@grade ${n} 0 1/1 {"kind":"done","item":0,"records":[{"ok":2}]}`);',
        ],
      }),
      expect: { points: { denseParamCount: 0 }, messages: { denseParamCount: "not implemented" } },
    },
    {
      student: "forge-messages",
      what: "3: messages posted to the sandbox's main thread as the harness would, hard-coding visible answers",
      write: nb01({
        bodies: { denseParamCount: 'throw new NotImplementedError("denseParamCount");' },
        early: [
          "const fake = { type: 'result', item: 0, records: [2, 42, 1056, 1049600, 633318722764800].map((ok) => ({ ok })) };\n" +
          "postMessage(fake); postMessage({ type: 'loaded', cellErrors: [] }); addEventListener('message', () => postMessage(fake));",
        ],
      }),
      expect: { points: { denseParamCount: 0 }, othersAny: true },
    },
    {
      student: "hardcoder",
      what: "3: the visible answers hard-coded (the hidden cases catch it)",
      write: nb01({
        bodies: {
          denseParamCount:
            'return ({ "1,1": 2, "2,3": 42, "4,8": 1056, "16,64": 1049600, "2048,12288": 633318722764800 } as Record<string, number>)[`${T},${d}`] ?? 0;',
        },
      }),
      expect: {
        points: { denseParamCount: 0 },
        messages: { denseParamCount: "passed the visible cases but not the hidden cases" },
      },
    },
    // 4. Storage. Workers have no localStorage; a nested Worker has the Cache API, kept under DENO_DIR.
    {
      student: "storage-a-writer",
      what: "4: the visible answers written to the Cache API by a nested Worker, at load",
      write: nb01({
        early: [
          'const put = \'const c = await caches.open("answers"); for (const [T, d] of [[1, 1], [2, 3], [4, 8], [16, 64], ' +
          "[2048, 12288]]) await c.put(`http://answers/${T},${d}`, new Response(String((T * d) ** 2 + T * d))); " +
          'postMessage("done");\';\n' +
          "await new Promise((ok) => {\n" +
          '  const w = new Worker(`data:application/javascript,${encodeURIComponent(put)}`, { type: "module" });\n' +
          "  w.onmessage = ok;\n  setTimeout(ok, 5000);\n});",
        ],
      }),
      expect: {},
    },
    {
      student: "storage-b-reader",
      what: "4: a stub that reads a classmate's answers from the Cache API (through a nested Worker)",
      write: nb01({
        cells: {
          denseParamCount: [
            "// A nested Worker looks the answer up, waiting up to `ms` for a classmate's notebook to store it.",
            "const ask = (key: string, ms: number) =>",
            "  new Promise<string | null>((ok) => {",
            '    const src = `const c = await caches.open("answers"); const end = Date.now() + ${ms}; let r; ` +',
            '      `do { r = await c.match("http://answers/${key}"); if (!r) await new Promise((t) => setTimeout(t, 50)); } ` +',
            "      `while (!r && Date.now() < end); postMessage(r ? await r.text() : null);`;",
            '    const w = new Worker(`data:application/javascript,${encodeURIComponent(src)}`, { type: "module" });',
            "    w.onmessage = (e) => {",
            "      ok(e.data);",
            "      w.terminate();",
            "    };",
            "  });",
            "let asked = false, empty = false;",
            "async function denseParamCount(T: number, d: number): Promise<number> {",
            "  if (!empty) {",
            "    const v = await ask(`${T},${d}`, asked ? 0 : 1500);",
            "    asked = true;",
            "    if (v !== null) return Number(v);",
            "  }",
            "  empty = true;",
            '  throw new Error("storage empty");',
            "}",
          ].join("\n"),
        },
      }),
      expect: { points: { denseParamCount: 0 }, messages: { denseParamCount: "storage empty" } },
    },
    // 5, and every other probe of the sandbox's permissions
    {
      student: "probes",
      what:
        "5 and the rest: files, classmates, hidden.ts, env, subprocesses, network, FFI, sys, inspector, npm/jsr/remote imports, storage, KV",
      write: nb01({
        cells: {
          denseParamCount: "async function denseParamCount(T: number, d: number): Promise<number> {\n" +
            `  const open: string[] = [];\n  ${probes}\n  if (open.length) throw new Error("not denied: " + open.join("; "));\n` +
            "  return (T * d) ** 2 + T * d;\n}",
        },
        early: [
          'try { await import("npm:left-pad@1.3.0"); } catch { /* expected */ }',
          "console.log(import.meta.url);",
        ],
      }),
      expect: { feedback: ["cell 3: SyntaxError"] },
    },
    // 6. Hidden inputs never leak through feedback
    {
      student: "leak-throw",
      what: "6: a later exercise throws the recorded arguments of earlier calls",
      write: nb01({
        prefix: { denseParamCount: record },
        bodies: { causalAttentionFlops: 'throw new Error("seen=" + JSON.stringify(globalThis.seen));' },
      }),
      expect: {
        points: { causalAttentionFlops: 0 },
        messages: { causalAttentionFlops: "seen=" },
        notInFeedback: hiddenArgs,
      },
    },
    {
      student: "leak-exit",
      what: "6: an exit code derived from hidden inputs",
      write: nb01({
        prefix: {
          denseParamCount: record,
          causalAttentionFlops: "if (globalThis.seen.length > 5) Deno.exit(20 + globalThis.seen.at(-1)[0]);",
        },
      }),
      expect: {
        points: { causalAttentionFlops: 0 },
        messages: { causalAttentionFlops: "passed the visible cases but not the hidden cases" },
        notInFeedback: ["Deno.exit", "exit code", "29"],
      },
    },
    {
      student: "leak-output",
      what: "6: hidden inputs printed and thrown in the hidden cases",
      write: nb01({
        prefix: {
          denseParamCount: record,
          multiHeadParamCount:
            "console.log(JSON.stringify(globalThis.seen));\n  if (globalThis.seen.length > 5) throw new Error(JSON.stringify(globalThis.seen));",
        },
      }),
      expect: {
        points: { multiHeadParamCount: 0 },
        messages: { multiHeadParamCount: "not the hidden cases" },
        notInFeedback: hiddenArgs,
      },
    },
    // 7. self.close() and other stops, charged to the call that made them
    {
      student: "closes",
      what: "7: self.close() inside one exercise's function (the next one is correct)",
      write: nb01({ prefix: { multiHeadParamCount: "self.close();" } }),
      expect: { points: { multiHeadParamCount: 0 }, messages: { multiHeadParamCount: "self.close()" } },
    },
    {
      student: "exits",
      what: "7: Deno.exit() inside one exercise's function",
      write: nb01({ bodies: { causalAttentionFlops: "Deno.exit(3);" } }),
      expect: { points: { causalAttentionFlops: 0 }, messages: { causalAttentionFlops: "Deno.exit()" } },
    },
    {
      student: "close-timer",
      what: "7: a correct function that leaves a timer calling self.close() (costs no other exercise)",
      write: nb01({ prefix: { denseParamCount: "setTimeout(() => self.close(), 0);" } }),
      expect: {},
    },
    {
      student: "close-at-load",
      what: "7: self.close() in a cell",
      write: nb01({ late: ["self.close();"] }),
      expect: { allZero: "self.close()" },
    },
    {
      student: "loops",
      what: "timeout: an infinite loop in one function",
      write: nb01({ bodies: { denseParamCount: "while (true) { /* spin */ }" } }),
      expect: { points: { denseParamCount: 0 }, messages: { denseParamCount: "did not finish within" } },
    },
    {
      student: "never-settles",
      what: "a Promise that never settles",
      write: nb01({ bodies: { denseParamCount: "return new Promise<number>(() => {}) as unknown as number;" } }),
      expect: { points: { denseParamCount: 0 }, messages: { denseParamCount: "did not settle" } },
    },
    {
      student: "load-hang",
      what: "a module that never finishes loading: detected once",
      write: nb01({ early: ["while (true) { /* spin */ }"] }),
      // Detected once: one sandbox, not one per exercise.
      expect: { allZero: "did not finish within", maxSandboxes: 1 },
    },
    {
      student: "load-await-hang",
      what: "a cell awaiting a Promise that never settles",
      write: nb01({ early: ["await new Promise(() => {});"] }),
      expect: { allZero: "in code cell 2, so nothing could be checked", maxSandboxes: 1 },
    },
    {
      student: "chatty",
      what: "huge output from a function",
      write: nb01({ bodies: { denseParamCount: 'for (;;) console.log("x".repeat(1 << 16));' } }),
      expect: { points: { denseParamCount: 0 }, messages: { denseParamCount: "printed more than" } },
    },
    {
      student: "chatty-load",
      what: "huge output from a cell",
      write: nb01({ early: ['for (let i = 0; i < 64; i++) console.error("y".repeat(1 << 16));'] }),
      expect: { allZero: "printed more than" },
    },
    {
      student: "hasinstance",
      what: "Symbol.hasInstance on tf.Tensor and Array, and a thenable result",
      write: nb01({
        early: [
          "Object.defineProperty(tf.Tensor, Symbol.hasInstance, { value: () => true });\nObject.defineProperty(Array, Symbol.hasInstance, { value: () => true });",
        ],
        bodies: { denseParamCount: "return { then(ok: (v: number) => void) { ok(2); } } as unknown as number;" },
      }),
      expect: { points: { denseParamCount: 0 }, othersAny: true },
    },
    {
      student: "timers-and-rejections",
      what: "timers that fire after return, intervals, unhandled rejections (honest otherwise)",
      write: nb01({
        prefix: {
          denseParamCount:
            'setInterval(() => { globalThis.junk = new Array(1000).fill(1); }, 1);\n  Promise.reject(new Error("floating"));\n  setTimeout(() => { throw new Error("late"); }, 0);',
        },
        late: ['Promise.reject(new Error("top-level floating"));'],
      }),
      expect: {},
    },
    {
      student: "syntax",
      what: "a cell that does not parse costs only what it defines",
      write: nb01({ bodies: { effectiveWeights: "return await tf.zeros([1, 1]) +;" } }),
      expect: {
        points: { effectiveWeights: 0 },
        messages: { effectiveWeights: "expected the function effectiveWeights itself" },
        feedback: ["SyntaxError"],
      },
    },
    // Bookkeeping: names, links, duplicates
    {
      student: "dup-canonical",
      what: "two notebooks for lesson 01, one with the course's name: that one is graded",
      write: async (dir) => {
        await put(dir, "dup-canonical", lessonFile("01"), await lesson01());
        await put(
          dir,
          "dup-canonical",
          lessonFile("01").replace(".ipynb", " (1).ipynb"),
          await lesson01({
            bodies: { denseParamCount: 'throw new NotImplementedError("denseParamCount");' },
          }),
        );
      },
      expect: { skipped: [[`dup-canonical/${lessonFile("01").replace(".ipynb", " (1).ipynb")}`, "another notebook"]] },
    },
    {
      student: "dup-ambiguous",
      what: "two notebooks for lesson 01, neither with the course's name: none is graded",
      write: async (dir) => {
        await put(dir, "dup-ambiguous", lessonFile("01").replace(".ipynb", " (1).ipynb"), await lesson01());
        await put(dir, "dup-ambiguous", lessonFile("01").replace(".ipynb", "-copy.ipynb"), await lesson01());
      },
      expect: { allZero: "keep one" },
    },
    {
      student: "x",
      what: "state keys: folder x …",
      write: nb01({}),
      expect: {},
    },
    {
      student: `x__${lessonFile("01")}`,
      what: "… and folder x__01-….ipynb (a stub) keep separate state",
      write: async (dir) =>
        put(
          dir,
          `x__${lessonFile("01")}`,
          lessonFile("01"),
          await lesson01({
            bodies: { denseParamCount: 'throw new NotImplementedError("denseParamCount");' },
          }),
        ),
      expect: { points: { denseParamCount: 0 } },
    },
    {
      student: '=HYPERLINK("http:example.com?leak","click")',
      what: "CSV formula injection (=)",
      write: nb01({}),
      expect: { csvRow: `"'=HYPERLINK(""http:example.com?leak"",""click"")",3,2,1,3,1,` },
    },
    {
      student: "+cmd|' -C calc'!A0",
      what: "CSV formula injection (+)",
      write: nb01({}),
      expect: { csvRow: `"'+cmd|' -C calc'!A0",3,2,1,3,1,` },
    },
    {
      student: "@SUM(1+1)",
      what: "CSV formula injection (@)",
      write: nb01({}),
      expect: { csvRow: `"'@SUM(1+1)",3,2,1,3,1,` },
    },
    {
      student: 'Zoë O\'Brien, "Z" -1',
      what: "a name with non-ASCII letters, quotes, a comma and spaces",
      write: nb01({}),
      expect: { csvRow: `"Zoë O'Brien, ""Z"" -1",3,2,1,3,1,` },
    },
    {
      student: "\u202Egnp.exe",
      what: "a right-to-left override in a folder name",
      write: nb01({}),
      expect: { csvRow: '"\u202Egnp.exe",3,2,1,3,1,' },
    },
    {
      student: "l".repeat(250),
      what: "a 250-character folder name",
      write: nb01({}),
      expect: {},
    },
    {
      student: "linked-notebook",
      what: "a notebook that is a link to a classmate's",
      write: async (dir) => {
        await Deno.mkdir(join(dir, "linked-notebook"), { recursive: true });
        await Deno.symlink(join(dir, "x", lessonFile("01")), join(dir, "linked-notebook", lessonFile("01")));
      },
      expect: { ungraded: true, skipped: [[`linked-notebook/${lessonFile("01")}`, "symbolic link"]] },
    },
    {
      student: "linked-etc",
      what: "a notebook that is a link to /etc/passwd",
      write: async (dir) => {
        await Deno.mkdir(join(dir, "linked-etc"), { recursive: true });
        await Deno.symlink("/etc/passwd", join(dir, "linked-etc", lessonFile("01")));
      },
      expect: { ungraded: true, skipped: [[`linked-etc/${lessonFile("01")}`, "symbolic link"]] },
    },
    {
      student: "linked-folder",
      what: "a student folder that is a link to a classmate's",
      write: (dir) => Deno.symlink(join(dir, "x"), join(dir, "linked-folder")),
      expect: { ungraded: true, skipped: [["linked-folder", "symbolic link"]] },
    },
    {
      student: ".hidden",
      what: "a hidden folder",
      write: nb01({}),
      expect: { ungraded: true, skipped: [[".hidden", "hidden entry"]] },
    },
    {
      student: "new\nline",
      what: "a line break in a folder name",
      write: nb01({}),
      expect: { ungraded: true, skipped: [["new\\u000aline", "control character"]] },
    },
    {
      student: "odd-entries",
      what:
        "checkpoints, a folder named like a notebook, other files, a lesson without exercises, a line break in a notebook name",
      write: async (dir) => {
        await nb01({})(dir, "odd-entries");
        await put(dir, "odd-entries/.ipynb_checkpoints", "01-weighted-sums-checkpoint.ipynb", await lesson01());
        await Deno.mkdir(join(dir, "odd-entries", "02-queries-keys-values.ipynb"));
        await Deno.writeTextFile(join(dir, "odd-entries", "notes.txt"), "my notes");
        await put(dir, "odd-entries", "99-later.ipynb", await lesson01());
        await put(dir, "odd-entries", "03-a\nb.ipynb", await lesson01());
      },
      expect: {
        skipped: [
          ["odd-entries/.ipynb_checkpoints", "hidden entry"],
          ["odd-entries/02-queries-keys-values.ipynb", "a folder"],
          ["odd-entries/notes.txt", "not a lesson notebook"],
          ["odd-entries/99-later.ipynb", "no graded exercises"],
          ["odd-entries/03-a\\u000ab.ipynb", "control character"],
        ],
      },
    },
    // Honest notebooks written as the kernel runs them
    ...HONEST_STYLES.slice(1).map(([what, style], i): Case => ({
      student: `repl-${i + 1}`,
      what: `honest: ${what}`,
      write: async (dir) => {
        const nb = await lesson01();
        style(nb);
        await put(dir, `repl-${i + 1}`, lessonFile("01"), nb);
      },
      expect: {},
    })),
    // Issue 10 item 9, a mistake is charged once: temperatureForMaxWeight (B, exercise 5) may call
    // softmaxWithTemperature (A, exercise 2). The grader judges B again with the course's A.
    {
      student: "charged-once",
      lesson: "04",
      what: "charged once: a broken softmaxWithTemperature and a temperatureForMaxWeight that is right once it is",
      write: async (dir, student) => put(dir, student, lessonFile("04"), await lesson04({ brokenA: true, viaA: true })),
      expect: {
        points: { softmaxWithTemperature: 0 }, // B keeps full marks: the others of the lesson must
        messages: {
          temperatureForMaxWeight: "graded again with the course's own softmaxWithTemperature (exercise 2)",
        },
      },
    },
    {
      student: "charged-once-wrong",
      lesson: "04",
      what: "charged once: a broken softmaxWithTemperature and a temperatureForMaxWeight wrong by itself (1/τ) " +
        "scores 0 with its own cause",
      write: async (dir, student) =>
        put(dir, student, lessonFile("04"), await lesson04({ brokenA: true, viaA: true, wrongB: true })),
      expect: {
        points: { softmaxWithTemperature: 0, temperatureForMaxWeight: 0 },
        messages: { temperatureForMaxWeight: "likely cause: you found τ for softmax(z·τ) (your answer is 1/τ)" },
      },
    },
    {
      student: "charged-once-own",
      lesson: "04",
      what: "charged once: a right softmaxWithTemperature and a wrong temperatureForMaxWeight are judged as always",
      write: async (dir, student) => put(dir, student, lessonFile("04"), await lesson04({ viaA: true, wrongB: true })),
      expect: {
        points: { temperatureForMaxWeight: 0 },
        messages: { temperatureForMaxWeight: "your answer is 1/τ" },
        notInFeedback: ["graded again"],
      },
    },
    {
      student: "charged-once-hostile",
      lesson: "04",
      what: "charged once: a wrong temperatureForMaxWeight that detects the regrade (by the source of " +
        "softmaxWithTemperature or a global), puts the broken softmaxWithTemperature back and throws the course's source, gains " +
        "nothing and reads nothing back",
      write: async (dir, student) => {
        const nb = await lesson04({ brokenA: true, viaA: true });
        const b = nb.cells.find((c) => sourceOf(c).includes("function temperatureForMaxWeight("))!;
        b.source = sourceOf(b).replace(
          "// BEGIN SOLUTION",
          "const course = softmaxWithTemperature.toString();\n" +
            '  if (course.includes("no overflow") || "top" in globalThis) {\n' +
            "    // @ts-ignore: put the student's broken version back\n" +
            "    softmaxWithTemperature = (z: number[], t: number) => { const e = z.map((x) => Math.exp(x / t)); " +
            "const s = e.reduce((a, c) => a + c, 0); return e.map((x) => x / s); };\n" +
            '    throw new Error("LEAK " + course);\n' +
            "  }\n  // BEGIN SOLUTION",
        );
        await put(dir, student, lessonFile("04"), nb);
      },
      expect: {
        points: { softmaxWithTemperature: 0, temperatureForMaxWeight: 0 },
        messages: { temperatureForMaxWeight: "graded again with the course's own softmaxWithTemperature" },
        notInFeedback: ["LEAK", "no overflow", "Math.exp((z - top) / tau)"],
      },
    },
    {
      student: "repl-chained",
      what: "honest: chained tensor methods (K.transpose(), a.div(b)) and an async function",
      write: async (dir) => {
        const nb = await lesson01();
        for (const c of nb.cells) {
          c.source = sourceOf(c)
            .replace("tf.div(tf.matMul(Q, tf.transpose(K)), Math.sqrt(d))", "Q.matMul(K.transpose()).div(Math.sqrt(d))")
            .replace("function causalAttentionFlops(", "async function causalAttentionFlops(");
        }
        if (!nb.cells.some((c) => sourceOf(c).includes("K.transpose()"))) {
          throw new Error("the solution changed: update repl-chained");
        }
        await put(dir, "repl-chained", lessonFile("01"), nb);
      },
      expect: {},
    },
  ];
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      honest: { type: "string", default: "12" },
      hostile: { type: "boolean", default: false },
      only: { type: "string" },
    },
  });
  const only = values.only?.split(",");
  const [dir] = positionals;
  if (!dir) {
    console.error("usage: corpus.ts <dir> [--honest N] [--hostile [--only a,b]]");
    Deno.exit(2);
  }
  await Deno.mkdir(dir, { recursive: true });
  const honest = await writeHonestClass(dir, Number(values.honest));
  let hostile = 0;
  if (values.hostile) {
    for (const c of hostileCases({ canary: join(dir, "..", "canary"), submissions: dir })) {
      if (only && !only.includes(c.student)) continue;
      await c.write(dir, c.student);
      hostile++;
    }
  }
  const notebooks = honest.length * gradedLessons().length;
  console.log(`wrote ${honest.length} honest students (${notebooks} notebooks) and ${hostile} hostile cases`);
}
