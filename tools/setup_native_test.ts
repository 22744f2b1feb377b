import { join } from "node:path";
import { assert, assertEquals } from "../lib/_testing.ts";
import { ROOT } from "./setup.ts";
import { installNative } from "./setup_native.ts";

Deno.test("installNative() carries on, saying why, on a machine with neither the wheels nor a compiler", async () => {
  const root = await Deno.makeTempDir({ prefix: "native-setup-test-" });
  const saved = Object.fromEntries(["PATH", "CC", "CXX"].map((k) => [k, Deno.env.get(k)]));
  try {
    await Deno.mkdir(join(root, "lib", "native"), { recursive: true });
    await Deno.copyFile(join(ROOT, "lib", "native", "kernels.c"), join(root, "lib", "native", "kernels.c"));
    const tfjsNode = await Deno.realPath(join(ROOT, "node_modules", "@tensorflow", "tfjs-node")).catch(() => null);
    if (tfjsNode) {
      await Deno.mkdir(join(root, "node_modules", "@tensorflow"), { recursive: true });
      await Deno.symlink(tfjsNode, join(root, "node_modules", "@tensorflow", "tfjs-node"));
    }
    // No program on PATH (no node, cc, gcc, clang, g++), and a "Python" whose pip always fails.
    Deno.env.set("PATH", join(root, "empty"));
    Deno.env.delete("CC");
    Deno.env.delete("CXX");
    const logged: string[] = [];
    const lines = await installNative({ root, venv: join(root, ".venv"), python: "/bin/false" }, (l) => logged.push(l));
    assertEquals(lines.length, 3, lines.join("\n"));
    assert(lines[0].startsWith("pip could not install scipy-openblas32=="), lines[0]);
    assert(lines[0].endsWith("the native backend is off"), lines[0]);
    assert(
      lines[1].startsWith("no C compiler worked (cc: cc not found; gcc: gcc not found; clang: clang not found)"),
      lines[1],
    );
    assert(
      tfjsNode
        ? lines[2].includes("standard install: node not found") && lines[2].includes("no C++ compiler")
        : lines[2].includes("not in node_modules"),
      lines[2],
    );
    assert(logged.some((l) => l.startsWith("native OpenBLAS: pip could not install")), logged.join("\n"));
  } finally {
    for (const [k, v] of Object.entries(saved)) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    await Deno.remove(root, { recursive: true });
  }
});
