/**
 * Reads the exact pins of the course's requirements files (tools/requirements.txt, tools/requirements-model.txt,
 * binder/requirements.txt), with the environment markers they use, and says which pins apply on a given Python —
 * as pip does, offline. tools/requirements_test.ts and tools/binder_test.ts use it.
 * @module
 */

/** A Python version: major, minor[, micro]. */
export type Version = number[];

/** One `name==version[; marker]` line; `marker` is null when the pin applies everywhere. */
export interface Pin {
  name: string;
  version: string;
  marker: { key: "python_version" | "python_full_version"; op: "<" | ">="; at: Version } | null;
}

/**
 * The pins of a requirements file (comments and `--hash` options dropped, names normalised). Markers are limited
 * to one `python_version` or `python_full_version` comparison with `<` or `>=`, which is all the file needs and
 * what {@link applies} can evaluate; anything else is refused.
 */
export function requirementPins(text: string): Pin[] {
  const out: Pin[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").replace(/\s--hash=\S+/g, "").trim();
    if (!line) continue;
    const m = /^([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)\s*(?:;\s*(.*))?$/.exec(line);
    if (!m) throw new Error(`not an exact pin (name==version[; marker]): "${line}"`);
    let marker: Pin["marker"] = null;
    if (m[3] !== undefined) {
      const k = /^(python_version|python_full_version)\s*(<|>=)\s*"(\d+(?:\.\d+){1,2})"$/.exec(m[3].trim());
      if (!k) throw new Error(`unsupported marker (python_version or python_full_version, < or >=): "${line}"`);
      marker = { key: k[1] as "python_version", op: k[2] as "<", at: k[3].split(".").map(Number) };
    }
    out.push({ name: m[1].toLowerCase().replace(/[._]+/g, "-"), version: m[2], marker });
  }
  return out;
}

export function compare(a: Version, b: Version): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** Whether a pin applies on Python `python` (major, minor, micro), as pip evaluates the marker. */
export function applies(pin: Pin, python: Version): boolean {
  if (!pin.marker) return true;
  const mine = pin.marker.key === "python_version" ? python.slice(0, 2) : python;
  const c = compare(mine, pin.marker.at);
  return pin.marker.op === "<" ? c < 0 : c >= 0;
}

/**
 * The version of each package that applies on `python`. A package pinned by one marked line only (a dependency that
 * older Pythons alone need: `tomli==2.5.0; python_version < "3.11"`) is left out above its version; any other
 * package must have exactly one line that applies (marked pairs split at one version: no gap, no overlap).
 */
export function pinsFor(pins: Pin[], python: Version): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of new Set(pins.map((p) => p.name))) {
    const lines = pins.filter((p) => p.name === name);
    const versions = new Set(lines.filter((p) => applies(p, python)).map((p) => p.version));
    if (versions.size === 0 && lines.length === 1 && lines[0].marker?.op === "<") continue;
    if (versions.size !== 1) {
      throw new Error(`${name}: ${versions.size} pins apply on Python ${python.join(".")} (${[...versions]})`);
    }
    out.set(name, [...versions][0]);
  }
  return out;
}
