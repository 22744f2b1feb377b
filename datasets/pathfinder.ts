/**
 * A Pathfinder-like image task for the Long Range Arena capstone (the LRA task is Tay et al. 2021, §3.1.5,
 * after Linsley et al. 2018): a small grey-scale image holds several dashed curves and two round markers; the
 * label says whether the markers sit on the two ends of the same curve (1) or on ends of different curves (0).
 * Flattened row by row, a 32×32 image is a sequence of 1,024 pixel tokens, so a model must relate pixels far
 * apart in the sequence to follow a curve.
 *
 * Each curve is a smooth random walk: unit steps whose heading turns by a bounded random amount at every step.
 * It is drawn dashed (`dash` pixels on, `gap` off) and kept more than `gap + 2` pixels (Chebyshev distance)
 * from every other curve and marker, so that "connected when gaps up to `gap` pixels are bridged" is the same
 * as "the same curve" — which is how the tests check every label independently of how it was made.
 * Labels are balanced exactly over each pair of examples (one of each, in seeded order).
 *
 * @module
 */
import { type Rng, rng } from "../lib/random.ts";

/** Options for {@linkcode makePathfinder}. */
export interface PathfinderOptions {
  /** Image side in pixels (default 32: 1,024 tokens). */
  size?: number;
  /** Curves in the image, the two marked ones included (default 3; 2 below 24 pixels). */
  curves?: number;
  /** Steps per curve (default 20 for a 32-pixel image, scaled with the size). */
  length?: number;
  /** Pixels drawn per dash (default 2). */
  dash?: number;
  /** Pixels left blank between dashes (default 1). */
  gap?: number;
  /** The largest turn per step, in radians (default 0.35). */
  maxTurn?: number;
}

/** One image and its label. */
export interface PathfinderExample {
  /** Grey levels 0–255, row by row: `pixels[y * size + x]`. Curves are 255, markers 255, background 0. */
  pixels: Uint8Array;
  /** Image side in pixels. */
  size: number;
  /** 1 when the markers are the two ends of one curve, 0 when they are ends of two different curves. */
  label: 0 | 1;
  /** The two marker centres, [x, y] each. */
  markers: [[number, number], [number, number]];
}

const MAX_DRAWS = 20_000;
const CURVE_TRIES = 100; // walks tried for one curve before the image is started again
const MARKER = 1; // marker radius in pixels: a 3×3 square

/**
 * Makes `n` Pathfinder-like examples, the same ones for the same seed and options everywhere.
 *
 * @param seed Any number or string.
 * @param n How many examples.
 * @param options Image size, number and shape of the curves.
 * @returns The examples, labels alternating in a seeded order (exactly balanced over each pair).
 * @throws {RangeError} If an option is out of range, or the curves do not fit the image.
 * @example
 * ```ts
 * import { makePathfinder } from "./pathfinder.ts";
 * const [a, b] = makePathfinder(7, 2);
 * if (a.pixels.length !== 32 * 32 || a.label + b.label !== 1) throw new Error("expected one of each label");
 * ```
 */
export function makePathfinder(
  seed: number | string,
  n: number,
  options: PathfinderOptions = {},
): PathfinderExample[] {
  const size = options.size ?? 32;
  checkInt("options.size", size, 16);
  const { curves = size < 24 ? 2 : 3, dash = 2, gap = 1, maxTurn = 0.35 } = options;
  const length = options.length ?? Math.round(20 * size / 32);
  checkInt("n", n, 0);
  checkInt("options.curves", curves, 2);
  checkInt("options.length", length, 4);
  checkInt("options.dash", dash, 1);
  checkInt("options.gap", gap, 0);
  if (!(maxTurn >= 0 && maxTurn <= Math.PI)) {
    throw new RangeError(`Cannot make Pathfinder images: options.maxTurn must be in [0, π], got ${maxTurn}`);
  }
  const source = rng(seed);
  const draw = source.fork("images"), order = source.fork("labels");
  const out: PathfinderExample[] = [];
  let pair: (0 | 1)[] = [];
  for (let i = 0; i < n; i++) {
    if (pair.length === 0) pair = order.uniform() < 0.5 ? [0, 1] : [1, 0];
    const label = pair.shift()!;
    out.push(drawImage(draw, size, curves, length, dash, gap, maxTurn, label));
  }
  return out;
}

/**
 * Whether the two markers of an image are connected, bridging blank runs of up to `gap` pixels: a flood fill
 * over lit pixels, where two lit pixels are neighbours when their Chebyshev distance is at most `gap + 1`.
 * For images from {@linkcode makePathfinder} (curves kept apart) this equals the label.
 *
 * @param example An image with its markers.
 * @param gap The longest blank run to bridge (the `gap` the image was made with; default 1).
 * @returns True when a chain of lit pixels joins the markers.
 * @example
 * ```ts
 * import { makePathfinder, markersConnected } from "./pathfinder.ts";
 * for (const ex of makePathfinder(3, 4)) {
 *   if (markersConnected(ex) !== (ex.label === 1)) throw new Error("label disagrees with the flood fill");
 * }
 * ```
 */
export function markersConnected(example: PathfinderExample, gap = 1): boolean {
  const { pixels, size, markers } = example;
  const reach = gap + 1;
  const seen = new Uint8Array(size * size);
  const [sx, sy] = markers[0], [tx, ty] = markers[1];
  const queue = [sy * size + sx];
  seen[queue[0]] = 1;
  while (queue.length) {
    const p = queue.pop()!;
    const x = p % size, y = (p - x) / size;
    if (x === tx && y === ty) return true;
    for (let dy = -reach; dy <= reach; dy++) {
      for (let dx = -reach; dx <= reach; dx++) {
        const nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= size || ny >= size) continue;
        const q = ny * size + nx;
        if (!seen[q] && pixels[q] > 0) {
          seen[q] = 1;
          queue.push(q);
        }
      }
    }
  }
  return false;
}

type Point = [number, number];

/** Draws one image with the given label, retrying until its curves fit and stay apart. */
function drawImage(
  r: Rng,
  size: number,
  curves: number,
  length: number,
  dash: number,
  gap: number,
  maxTurn: number,
  label: 0 | 1,
): PathfinderExample {
  const apart = gap + 3; // Chebyshev distance between pixels of different curves must be at least this
  for (let draws = 0; draws < MAX_DRAWS; draws++) {
    const owner = new Int16Array(size * size).fill(-1); // which curve (or its marker) claims a pixel
    const paths: Point[][] = [];
    let ok = true;
    for (let c = 0; c < curves && ok; c++) {
      ok = false;
      for (let tries = 0; tries < CURVE_TRIES && !ok; tries++) {
        const path = walk(r, size, length, maxTurn);
        ok = path !== undefined && claim(owner, size, path, c, apart);
        if (ok) paths.push(path!);
      }
    }
    if (!ok) continue;
    // Markers: both ends of curve 0 (label 1), or an end of curve 0 and an end of curve 1 (label 0).
    const a = paths[0][0];
    const b = label === 1 ? paths[0][paths[0].length - 1] : paths[1][r.int(2) ? 0 : paths[1].length - 1];
    const markerCurve = label === 1 ? 0 : 1;
    if (!claim(owner, size, disc(a, size), 0, apart) || !claim(owner, size, disc(b, size), markerCurve, apart)) {
      continue;
    }
    const pixels = new Uint8Array(size * size);
    for (const path of paths) {
      path.forEach(([x, y], step) => {
        if (step % (dash + gap) < dash) pixels[y * size + x] = 255;
      });
    }
    for (const [x, y] of [...disc(a, size), ...disc(b, size)]) pixels[y * size + x] = 255;
    return { pixels, size, label, markers: [a, b] };
  }
  throw new RangeError(
    `Cannot make Pathfinder images: ${curves} curves of ${length} steps do not fit apart in ${size}×${size} ` +
      `pixels; use fewer or shorter curves, or a larger image`,
  );
}

/** A smooth random walk of `length` unit steps on the pixel grid, or undefined if it leaves the image. */
function walk(r: Rng, size: number, length: number, maxTurn: number): Point[] | undefined {
  const margin = MARKER + 1;
  let x = margin + r.uniform() * (size - 2 * margin - 1);
  let y = margin + r.uniform() * (size - 2 * margin - 1);
  let heading = r.uniform() * 2 * Math.PI;
  const out: Point[] = [[Math.round(x), Math.round(y)]];
  while (out.length < length) {
    heading += (2 * r.uniform() - 1) * maxTurn;
    x += Math.cos(heading);
    y += Math.sin(heading);
    const p: Point = [Math.round(x), Math.round(y)];
    if (p[0] < margin || p[1] < margin || p[0] >= size - margin || p[1] >= size - margin) return undefined;
    const last = out[out.length - 1];
    if (p[0] === last[0] && p[1] === last[1]) continue; // a step that stays on the same pixel
    if (out.some((q, i) => i < out.length - 3 && Math.max(Math.abs(q[0] - p[0]), Math.abs(q[1] - p[1])) < 2)) {
      return undefined; // the curve comes back on itself
    }
    out.push(p);
  }
  return out;
}

/** Marks `points` as owned by `who`; false if any lies within `apart` of a pixel another owner holds. */
function claim(owner: Int16Array, size: number, points: Point[], who: number, apart: number): boolean {
  for (const [x, y] of points) {
    for (let dy = -apart + 1; dy < apart; dy++) {
      for (let dx = -apart + 1; dx < apart; dx++) {
        const nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= size || ny >= size) continue;
        const o = owner[ny * size + nx];
        if (o !== -1 && o !== who) return false;
      }
    }
  }
  for (const [x, y] of points) owner[y * size + x] = who;
  return true;
}

/** The pixels of a marker centred on `p`. */
function disc([cx, cy]: Point, size: number): Point[] {
  const out: Point[] = [];
  for (let dy = -MARKER; dy <= MARKER; dy++) {
    for (let dx = -MARKER; dx <= MARKER; dx++) {
      const x = cx + dx, y = cy + dy;
      if (x >= 0 && y >= 0 && x < size && y < size) out.push([x, y]);
    }
  }
  return out;
}

function checkInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`Cannot make Pathfinder images: ${name} must be an integer ≥ ${min}, got ${value}`);
  }
}
