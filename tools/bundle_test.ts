import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "../lib/_testing.ts";
import { writeBundle } from "./bundle.ts";
import { codeOf, secretRegions, squash } from "./_testing.ts";
import { ROOT } from "./setup.ts";

async function allText(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else files.set(p.slice(dir.length + 1), await Deno.readTextFile(p).catch(() => ""));
    }
  };
  await walk(dir);
  return files;
}

Deno.test("the student bundle ships lessons, exercises and lib, but no solution body, hidden case or test", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const out = join(tmp, "bundle");
    await writeBundle(out);
    const files = await allText(out);
    for (
      const must of [
        "README.md",
        "deno.json",
        "deno.lock",
        "lib/mod.ts",
        "tools/setup.ts",
        "tools/setup_native.ts",
        "lib/native/kernels.c",
        "tools/lab.ts",
        "tools/requirements.txt",
        "tools/requirements-model.txt",
        "tools/build_node.ts",
        "tools/tsconfig.node.json",
        "tools/tslab/package.json",
        "tools/tslab/package-lock.json",
        "tools/tslab/.npmrc",
        "binder/requirements.txt",
        "binder/postBuild",
        "binder/start",
      ]
    ) {
      assert(files.has(must), `missing ${must}`);
    }
    assert([...files.keys()].some((f) => f.startsWith("exercises/") && f.endsWith(".ipynb")), "no exercise notebooks");
    assert(
      ![...files.keys()].some((f) => f.startsWith("solutions/") || f.endsWith("_test.ts") || f.includes("/testdata/")),
      "solutions, tests or test data leaked",
    );
    const regions = await secretRegions();
    assert(regions.length > 0, "the solutions have solution regions to look for");
    for (const [file, text] of files) {
      assert(!/BEGIN (SOLUTION|HIDDEN)/.test(text), `${file} contains a solution marker`);
      // No whole solution body anywhere in the bundle.
      const flat = squash(file.endsWith(".ipynb") ? codeOf(text) : text);
      for (const region of regions) assert(!flat.includes(squash(region.join(""))), `${file} contains a solution body`);
      // Exercise notebooks: not even one line of any solution body.
      if (file.startsWith("exercises/")) {
        const code = new Set(codeOf(text).split("\n").map((l) => l.trim()));
        const substantive = regions.flat().filter((l) => l.length >= 10 && /[A-Za-z0-9]/.test(l));
        for (const line of substantive) assert(!code.has(line), `${file} contains the solution line: ${line}`);
      }
    }
    assert(![...files.keys()].some((f) => f.startsWith("tools/tslab/node_modules/")), "installed tslab shipped");
    const tasks = Object.keys(JSON.parse(files.get("deno.json")!).tasks).sort();
    assertEquals(tasks, ["lab", "setup"], "the student deno.json has only the lab task and the setup binder/ runs");
    for (const script of ["binder/postBuild", "binder/start"]) {
      assert(((await Deno.stat(join(out, script))).mode ?? 0o755) & 0o100, `${script} lost its executable bit`);
    }
    const imports = JSON.parse(files.get("deno.json")!).imports;
    assert(
      !("mathjax" in imports) && !("plotly.js-dist-min" in imports),
      "the site's packages are not installed for students",
    );
    assert("@tensorflow/tfjs" in imports, "the course's own packages stay");
    await assertRejects(() => writeBundle(out), RangeError, "the folder is not empty");
    await assertRejects(
      () => writeBundle(join(ROOT, "x")),
      RangeError,
      "choose a folder outside the course repository",
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
