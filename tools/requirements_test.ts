/**
 * The Python floor the course promises (README, the student README of the bundle, docs/instructors.md) is the one
 * tools/setup.ts enforces (PYTHON_FLOOR), and tools/requirements.txt has, on every Python from that floor on,
 * exactly one pin per package: its environment markers split at versions above the floor and leave no gap or
 * overlap. setup's refusal of an older Python names the version found and the one needed.
 *
 * What this cannot check offline is that each pin really installs on the Pythons its marker gives it to (PyPI's
 * Requires-Python). That needs real interpreters (pip's --python-version does not apply to markers), as the
 * header of tools/requirements.txt says: after changing a pin, resolve the file with
 *   pythonX.Y -m venv /tmp/v && /tmp/v/bin/pip install --dry-run -r tools/requirements.txt
 * on 3.10, on 3.11.2 (Debian 12) and on a 3.11.5 or newer.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../lib/_testing.ts";
import { checkVenvPython, findPython, PYTHON_FLOOR, ROOT, SetupError } from "./setup.ts";
import { compare, pinsFor, requirementPins, type Version } from "./requirements.ts";

const read = (path: string) => Deno.readTextFile(join(ROOT, path));

Deno.test("requirementPins()/pinsFor(): markers choose one pin per Python; bad lines and gaps are refused", () => {
  const pins = requirementPins(
    'a==1 # why\nB_c==9.1; python_version >= "3.11"\nb.c==8.0 ; python_version<"3.11"\n' +
      'd==4; python_full_version >= "3.11.5"\nd==2; python_full_version < "3.11.5"\ne==1 --hash=sha256:00\nf==0.5; python_version < "3.11"\n',
  );
  const on = (v: string) => Object.fromEntries(pinsFor(pins, v.split(".").map(Number)));
  assertEquals(on("3.10.13"), { a: "1", "b-c": "8.0", d: "2", e: "1", f: "0.5" });
  assertEquals(on("3.11.2"), { a: "1", "b-c": "9.1", d: "2", e: "1" });
  assertEquals(on("3.11.5"), { a: "1", "b-c": "9.1", d: "4", e: "1" });
  const fails = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    return "no error";
  };
  assertEquals(
    fails(() => requirementPins("jupyterlab>=4\n")),
    'not an exact pin (name==version[; marker]): "jupyterlab>=4"',
  );
  assertEquals(
    fails(() => requirementPins('x==1; sys_platform == "win32"\n')),
    'unsupported marker (python_version or python_full_version, < or >=): "x==1; sys_platform == "win32""',
  );
  const gap = requirementPins('x==2; python_version >= "3.12"\nx==1; python_version < "3.11"\n');
  assertEquals(fails(() => pinsFor(gap, [3, 11, 4])), "x: 0 pins apply on Python 3.11.4 ()");
  const overlap = requirementPins('x==2; python_version >= "3.10"\nx==1; python_version < "3.11"\n');
  assertEquals(fails(() => pinsFor(overlap, [3, 10, 0])), "x: 2 pins apply on Python 3.10.0 (2,1)");
});

Deno.test("tools/requirements*.txt: one pin per package on every Python from the floor on; markers split above it", async () => {
  const floor = [...PYTHON_FLOOR, 0];
  for (const file of ["tools/requirements.txt", "tools/requirements-model.txt"]) {
    const pins = requirementPins(await read(file));
    assert(pins.length > 0, `${file} has no pins`);
    // Every boundary a marker uses, and the versions just below it, from the floor to a Python not yet released.
    const probes: Version[] = [floor, [3, 10, 99], [3, 11, 0], [3, 12, 0], [3, 13, 0], [3, 14, 0], [3, 99, 0]];
    for (const p of pins) {
      if (!p.marker) continue;
      const at = [...p.marker.at, 0, 0].slice(0, 3);
      assert(
        compare(at, floor) > 0,
        `${file}: ${p.name}'s marker splits at ${p.marker.at.join(".")}, not above the floor`,
      );
      probes.push(at, at[2] > 0 ? [at[0], at[1], at[2] - 1] : [at[0], at[1] - 1, 99]);
    }
    for (const python of probes) pinsFor(pins, python); // throws on a gap or an overlap
  }
});

Deno.test("the README, the bundle's student README and the instructors' guide state setup's Python floor", async () => {
  const floor = PYTHON_FLOOR.join(".");
  for (const file of ["README.md", "tools/bundle.ts", "docs/instructors.md"]) {
    const stated = [...(await read(file)).matchAll(/Python (3\.\d+)\+/g)].map((m) => m[1]);
    assert(stated.length > 0, `${file} states no Python floor ("Python 3.N+")`);
    assertEquals([...new Set(stated)], [floor], `${file} states a floor other than setup's PYTHON_FLOOR`);
  }
});

Deno.test("findPython() and checkVenvPython() refuse an older Python, naming the version found and the one needed", async () => {
  if (Deno.build.os === "windows") return; // the stand-in Pythons below are shell scripts
  const dir = await Deno.makeTempDir({ prefix: "find-python-test-" });
  const saved = Deno.env.get("PATH");
  const fake = async (version: string) => {
    await Deno.writeTextFile(join(dir, "python3"), `#!/bin/sh\necho ${version}\n`, { mode: 0o755 });
  };
  const error = async () => {
    try {
      return `found ${await findPython()}`;
    } catch (e) {
      assert(e instanceof SetupError, String(e));
      return e.message;
    }
  };
  try {
    Deno.env.set("PATH", dir); // only the stand-in: no python3 or python of the machine's
    const floor = PYTHON_FLOOR.join(".");
    assert((await error()).startsWith(`Python 3 was not found: install Python ${floor} or newer`), await error());
    await fake("3 9 18");
    const message = await error();
    assert(message.startsWith(`python3 is Python 3.9.18; the course needs Python ${floor} or newer`), message);
    await fake(`3 ${PYTHON_FLOOR[1] - 1} 2`);
    assert((await error()).startsWith(`python3 is Python 3.${PYTHON_FLOOR[1] - 1}.2;`), await error());
    await fake(`${PYTHON_FLOOR[0]} ${PYTHON_FLOOR[1]} 0`);
    assertEquals(await error(), "found python3");
    await fake("3 13 1");
    assertEquals(await error(), "found python3");
    // A .venv left by an older Python (say a set-up that failed in pip before this check existed).
    const venv = async () => {
      try {
        await checkVenvPython(join(dir, "python3"));
        return "accepted";
      } catch (e) {
        assert(e instanceof SetupError, String(e));
        return e.message;
      }
    };
    assertEquals(await venv(), "accepted");
    await fake("3 9 18");
    const old = await venv();
    assert(old.startsWith(`.venv was made with Python 3.9.18; the course needs Python ${floor} or newer`), old);
    assert(old.endsWith("delete the folder .venv and run again"), old);
  } finally {
    saved === undefined ? Deno.env.delete("PATH") : Deno.env.set("PATH", saved);
    await Deno.remove(dir, { recursive: true });
  }
});
