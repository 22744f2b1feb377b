import { assert, assertEquals, assertThrows } from "../_testing.ts";
import {
  bundleOf,
  displayable,
  findTslab,
  inNotebook,
  type KernelSink,
  markdown,
  setKernelSinkForTesting,
  show,
  tex,
  update,
} from "./bundle.ts";
import { plot, PLOTLY_MIME } from "./plot.ts";
import { progress } from "./progress.ts";

Deno.test("markdown() and tex() keep their source as the text fallback", () => {
  assertEquals(bundleOf(markdown("**a**")), { "text/markdown": "**a**", "text/plain": "**a**" });
  assertEquals(bundleOf(tex("\\frac{a}{b}")), { "text/latex": "$$\\frac{a}{b}$$", "text/plain": "\\frac{a}{b}" });
  assertThrows(() => markdown(3 as never), TypeError, "expected a string, got number");
});

Deno.test("displayable() needs a text fallback and bundleOf() rejects what is not displayable", () => {
  assertThrows(() => displayable({ "text/html": "<b>x</b>" }), TypeError, "without a text/plain fallback");
  assertThrows(() => bundleOf({} as never), TypeError, "expected the result of plot()");
});

Deno.test("outside a notebook, show() and progress() print their text", async () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    await show(markdown("hello"));
    const bar = await progress(3, "work");
    for (let i = 1; i <= 3; i++) await bar.update(i);
    await bar.finish();
  } finally {
    console.log = log;
  }
  assertEquals(lines[0], "hello");
  assert(/^work █{30} 3\/3 \(\d+\.\d s\)$/.test(lines[1]), lines[1]);
  assertEquals(lines.length, 2);
  await assert.rejects(() => progress(0), RangeError);
});

// ---------------------------------------------------------------- the kernels: Deno's and tslab's

/** A fake kernel that records what lib/display sends. */
function recordingKernel(kind: KernelSink["kind"]) {
  const sent: { type: string; data: Record<string, unknown>; id?: string }[] = [];
  const sink: KernelSink = {
    kind,
    send: (type, content) => {
      sent.push({ type, data: content.data, id: content.transient.display_id });
      return Promise.resolve();
    },
  };
  return { sink, sent };
}

const INSPECT = Symbol.for("nodejs.util.inspect.custom");
const figure = () => plot({ data: [{ type: "scatter", x: [1, 2], y: [3, 4], name: "line" }] });

Deno.test("tslab's jupyter module is found among loaded modules by its path, and only there", () => {
  const jupyter = { lastWriteDisplayData: null };
  assertEquals(findTslab({ "/a/node_modules/tslab/dist/jupyter.js": { exports: jupyter } }), jupyter);
  assertEquals(findTslab({ "C:\\x\\tslab\\dist\\jupyter.js": { exports: jupyter } }), jupyter);
  assertEquals(findTslab({ "/a/node_modules/other/dist/jupyter.js": { exports: jupyter } }), undefined);
  assertEquals(findTslab({ "/a/tslab/dist/jupyter.js": { exports: {} } }), undefined, "not tslab's module");
  assertEquals(findTslab({ "/a/tslab/dist/jupyter.js": undefined }), undefined);
});

Deno.test("show(), update() and progress() send whole MIME bundles to either kernel", async () => {
  for (const kind of ["deno", "tslab"] as const) {
    const { sink, sent } = recordingKernel(kind);
    setKernelSinkForTesting(sink);
    try {
      assert(inNotebook());
      await show(figure());
      assertEquals(sent.length, 1);
      assertEquals(sent[0].type, "display_data");
      assertEquals(Object.keys(sent[0].data).sort(), [PLOTLY_MIME, "text/plain"], `one output, both types (${kind})`);
      assertEquals(sent[0].id, undefined);
      await show(markdown("a"), "id-1");
      await update(markdown("b"), "id-1");
      assertEquals(sent.slice(1).map((s) => [s.type, s.id, s.data["text/markdown"]]), [
        ["display_data", "id-1", "a"],
        ["update_display_data", "id-1", "b"],
      ]);
      sent.length = 0;
      const bar = await progress(2, "steps");
      await bar.finish();
      assertEquals(sent.map((s) => s.type), ["display_data", "update_display_data"], "redrawn in place");
      assertEquals(sent[0].id, sent[1].id);
      assert(sent[1].data["text/html"] && /2\/2/.test(sent[1].data["text/plain"] as string));
    } finally {
      setKernelSinkForTesting(undefined);
    }
  }
});

Deno.test("in tslab, a displayable printed as a cell's last value is displayed, and console.log's newline dropped", () => {
  const { sink, sent } = recordingKernel("tslab");
  const proc = (globalThis as unknown as { process: { stdout: { write: (...a: unknown[]) => boolean } } }).process;
  const realWrite = proc.stdout.write;
  const written: unknown[] = [];
  proc.stdout.write = (chunk: unknown) => (written.push(chunk), true);
  setKernelSinkForTesting(sink);
  try {
    const fig = figure() as unknown as Record<symbol, (depth: number, options: { depth: number }) => string>;
    // tslab runs console.log(value): util.inspect calls the hook with depth === options.depth.
    assertEquals(fig[INSPECT](2, { depth: 2 }), "");
    proc.stdout.write("\n");
    proc.stdout.write("next line\n");
    proc.stdout.write("\n");
    assertEquals(sent.map((s) => [s.type, Object.keys(s.data).sort()]), [["display_data", [
      PLOTLY_MIME,
      "text/plain",
    ]]]);
    assertEquals(written, ["next line\n", "\n"], "only the newline right after the display is dropped");
    // Nested inside another value: the text fallback, nothing displayed.
    assert(fig[INSPECT](1, { depth: 2 }).startsWith("Plot (1 trace)"));
    assertEquals(sent.length, 1);
  } finally {
    proc.stdout.write = realWrite;
    setKernelSinkForTesting(undefined);
  }
});

Deno.test("outside tslab a printed displayable shows its text fallback", () => {
  setKernelSinkForTesting(null);
  try {
    assert(!inNotebook());
    const fig = figure() as unknown as Record<symbol, (depth: number, options: { depth: number }) => string>;
    assertEquals(fig[INSPECT](2, { depth: 2 }), "Plot (1 trace)\n  - line: scatter, 2 points");
  } finally {
    setKernelSinkForTesting(undefined);
  }
});
