/**
 * `deno task lab`: sets the course up (first run only) and starts JupyterLab
 * on it with the course's TypeScript kernel (Deno) as the default; the second kernel, tslab on Node.js, is
 * registered beside it when the set-up could install it. Extra arguments go
 * to JupyterLab (e.g. `deno task lab --port 9000`). No browser is opened when
 * there is no display or under CI; the URL is printed either way.
 * @module
 */
import { KERNEL_DISPLAY, KERNEL_NAME, ROOT, setup, SetupError, TSLAB_KERNEL_DISPLAY } from "./setup.ts";

const t0 = performance.now();
let installed;
try {
  installed = await setup();
} catch (err) {
  if (!(err instanceof SetupError)) throw err;
  console.error(`error: ${err.message}`);
  Deno.exit(1);
}
const headless = Deno.env.get("CI") === "true" ||
  (Deno.build.os === "linux" && !Deno.env.get("DISPLAY") && !Deno.env.get("WAYLAND_DISPLAY"));
console.log(
  `Ready in ${
    ((performance.now() - t0) / 1000).toFixed(1)
  } s. Starting JupyterLab with the kernel "${KERNEL_DISPLAY}"` +
    ("kernelName" in installed.tslab
      ? ` (also registered: "${TSLAB_KERNEL_DISPLAY}")`
      : ` (tslab not available: ${installed.tslab.skipped})`) +
    (headless ? " (no display: open the URL below in a browser)" : "") + " …",
);

const args = [
  "lab",
  `--ServerApp.root_dir=${ROOT}`,
  `--MappingKernelManager.default_kernel_name=${KERNEL_NAME}`,
  "--LabApp.news_url=",
  "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
  ...(headless ? ["--no-browser"] : []),
  // Containers and CI often run as root, where JupyterLab otherwise refuses to start.
  ...(Deno.uid() === 0 ? ["--allow-root"] : []),
  ...Deno.args,
];
const child = new Deno.Command(installed.jupyter, {
  args,
  cwd: ROOT,
  env: { JUPYTER_PLATFORM_DIRS: "1" },
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
// Ctrl+C reaches JupyterLab too (same process group); it asks to confirm and shuts down cleanly.
Deno.addSignalListener("SIGINT", () => {});
Deno.exit((await child.status).code);
