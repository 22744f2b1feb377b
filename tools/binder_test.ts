/**
 * The Binder / JupyterHub image configuration (binder/, read by repo2docker) stays in step with the rest of the
 * course: the Deno it installs is the README's, the packages it shares with tools/requirements.txt have the same
 * pins, its Python is one the course supports, its scripts are valid bash and open a lesson that exists with the
 * kernel the set-up registers. (Building the image needs Docker: docs/instructors.md says how it was checked.)
 */
import { join } from "node:path";
import { assert, assertEquals } from "../lib/_testing.ts";
import { KERNEL_NAME, PYTHON_FLOOR, ROOT } from "./setup.ts";
import { pinsFor, requirementPins } from "./requirements.ts";

const read = (path: string) => Deno.readTextFile(join(ROOT, path));

/** `name==version` lines of a requirements file (comments and options dropped), names lower-cased. */
export function pins(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const m = /^([A-Za-z0-9._-]+)==([^\s;]+)/.exec(line);
    if (!m) throw new Error(`not an exact pin (name==version): "${line}"`);
    out.set(m[1].toLowerCase().replace(/[._]/g, "-"), m[2]);
  }
  return out;
}

Deno.test("pins(): reads exact pins, normalises names, refuses a line that is not one", () => {
  const p = pins("# c\nFoo_Bar==1.2 # why\n\nbaz==3.0 --hash=sha256:00\n");
  assertEquals([...p], [["foo-bar", "1.2"], ["baz", "3.0"]]);
  let err = "";
  try {
    pins("jupyterlab>=4\n");
  } catch (e) {
    err = (e as Error).message;
  }
  assertEquals(err, 'not an exact pin (name==version): "jupyterlab>=4"');
});

Deno.test("binder/requirements.txt: exact pins; Deno is the README's; shared packages pinned as in tools/", async () => {
  const binder = pins(await read("binder/requirements.txt"));
  // The image's Python is 3.11 at its latest patch release (binder/runtime.txt): the pins as frozen.
  const course = pinsFor(requirementPins(await read("tools/requirements.txt")), [3, 11, 99]);
  const readme = await read("README.md");
  const denoVersions = new Set([...readme.matchAll(/npx --yes deno@(\d+\.\d+\.\d+)/g)].map((m) => m[1]));
  assertEquals(denoVersions.size, 1, `the README names one Deno version, got ${[...denoVersions]}`);
  assertEquals(binder.get("deno"), [...denoVersions][0], "binder/requirements.txt's deno is not the README's");
  const bundle = await read("tools/bundle.ts");
  assert(bundle.includes(`npx --yes deno@${binder.get("deno")} task lab`), "the student README's Deno differs");
  assert(binder.has("plotly"), "the server needs plotly's JupyterLab extension to render the course's figures");
  for (const [name, version] of binder) {
    if (course.has(name)) {
      assertEquals(version, course.get(name), `${name}: binder/requirements.txt and tools/requirements.txt differ`);
    }
  }
});

Deno.test("binder/runtime.txt names a Python the course supports (from setup's floor; 3.11, as tools/ was frozen)", async () => {
  const runtime = (await read("binder/runtime.txt")).trim();
  const m = /^python-3\.(\d+)$/.exec(runtime);
  assert(m, `runtime.txt must read python-3.N, got "${runtime}"`);
  assert(Number(m[1]) >= PYTHON_FLOOR[1], `Python 3.${m[1]} is older than the course's floor (tools/setup.ts)`);
  // tools/requirements.txt was frozen on 3.11 (its header); older Pythons get marked, older pins.
  assertEquals(runtime, "python-3.11", "the image should run the pins as frozen");
});

Deno.test("binder/postBuild and binder/start: executable bash that parses; postBuild sets up the course", async () => {
  for (const script of ["binder/postBuild", "binder/start"]) {
    const path = join(ROOT, script);
    const text = await Deno.readTextFile(path);
    assert(text.startsWith("#!/bin/bash\n"), `${script} must start with #!/bin/bash`);
    assert(((await Deno.stat(path)).mode ?? 0o755) & 0o100, `${script} must be executable (git mode 755)`);
    const r = await new Deno.Command("bash", { args: ["-n", path], stderr: "piped" }).output();
    assertEquals(r.code, 0, `${script} does not parse: ${new TextDecoder().decode(r.stderr)}`);
  }
  const post = await read("binder/postBuild");
  assert(/^deno task setup$/m.test(post), "postBuild must run `deno task setup`");
  const tasks = JSON.parse(await read("deno.json")).tasks;
  assert(tasks.setup, "deno.json has no setup task");
  const lesson = /^lesson="([^"]+)"$/m.exec(post)?.[1];
  assert(lesson, "postBuild must name the lesson the server opens");
  assert(await Deno.stat(join(ROOT, lesson)).then((s) => s.isFile, () => false), `${lesson} does not exist`);
  assert(post.includes('"/lab/tree/${course}${lesson}"'), "postBuild must make the lesson the default page");
  const kernel = /^kernel="([^"]+)"$/m.exec(post)?.[1];
  assertEquals(kernel, KERNEL_NAME, "postBuild's default kernel is not the one tools/setup.ts registers");
  assert((await read("binder/start")).trimEnd().endsWith('exec "$@"'), "start must end by running its arguments");
});

Deno.test("binder/start on a hub: copies the course into ~/attention-course once, links node_modules and .venv", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "binder-start-test-" });
  const image = join(tmp, "srv", "attention-course"), home = join(tmp, "home");
  const start = (repoDir: string, args: string[]) =>
    new Deno.Command(join(ROOT, "binder", "start"), {
      args,
      env: { HOME: home, REPO_DIR: repoDir, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
  try {
    for (const dir of ["notebooks", "node_modules/pkg", ".venv/lib", ".git"]) {
      await Deno.mkdir(join(image, dir), { recursive: true });
    }
    await Deno.writeTextFile(join(image, "notebooks", "01-x.ipynb"), "lesson");
    await Deno.writeTextFile(join(image, ".git", "HEAD"), "ref: refs/heads/main\n");
    await Deno.mkdir(home);

    // Binder (the course is the home folder): nothing is made; the command runs with its arguments.
    const binder = await start(home, ["echo", "ran", "with args"]);
    assertEquals([binder.code, new TextDecoder().decode(binder.stdout)], [0, "ran with args\n"]);
    assertEquals([...Deno.readDirSync(home)], []);

    // A hub's first start: a copy with the history, without the installed folders, which are links instead.
    const first = await start(image, ["true"]);
    assertEquals(first.code, 0, new TextDecoder().decode(first.stderr));
    const course = join(home, "attention-course");
    assertEquals(await Deno.readTextFile(join(course, "notebooks", "01-x.ipynb")), "lesson");
    assert(await Deno.stat(join(course, ".git", "HEAD")).then(() => true, () => false), "the history was not copied");
    for (const installed of ["node_modules", ".venv"]) {
      assertEquals(await Deno.readLink(join(course, installed)), join(image, installed));
    }

    // Later starts keep the student's work, even where the image changed.
    await Deno.writeTextFile(join(course, "notebooks", "01-x.ipynb"), "my answers");
    await Deno.writeTextFile(join(image, "notebooks", "01-x.ipynb"), "lesson, week 2");
    assertEquals((await start(image, ["true"])).code, 0);
    assertEquals(await Deno.readTextFile(join(course, "notebooks", "01-x.ipynb")), "my answers");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
