/** Input checks shared by the figure helpers (private to lib/display). */

/** A figure title or axis title: a non-empty string (the course labels every figure and axis). */
export function checkLabel(action: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new TypeError(`Cannot ${action}: ${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Anything with `arraySync()`, such as a TensorFlow.js tensor (lib/display does not import TensorFlow.js). */
export interface ArrayLikeTensor {
  shape: number[];
  arraySync(): unknown;
}

/** A matrix as rows of numbers, or a rank-2 tensor. */
export type MatrixInput = ArrayLike<ArrayLike<number>> | ArrayLikeTensor;

function shapeText(value: unknown): string {
  if (value && typeof value === "object" && Array.isArray((value as ArrayLikeTensor).shape)) {
    return `a tensor of shape [${(value as ArrayLikeTensor).shape}]`;
  }
  return Array.isArray(value) ? `an array of length ${value.length}` : typeof value;
}

/** Reads a non-empty rectangular matrix into plain number rows, or throws a TypeError naming `name`. */
export function readMatrix(action: string, name: string, value: unknown): number[][] {
  let rows: unknown = value;
  if (value && typeof value === "object" && typeof (value as ArrayLikeTensor).arraySync === "function") {
    const shape = (value as ArrayLikeTensor).shape;
    if (!Array.isArray(shape) || shape.length !== 2) {
      throw new TypeError(`Cannot ${action}: ${name} must be a matrix [rows, columns], got ${shapeText(value)}`);
    }
    rows = (value as ArrayLikeTensor).arraySync();
  }
  const ok = rows !== null && typeof rows === "object" && typeof (rows as ArrayLike<unknown>).length === "number" &&
    (rows as ArrayLike<unknown>).length > 0;
  if (!ok) throw new TypeError(`Cannot ${action}: ${name} must be a non-empty matrix, got ${shapeText(rows)}`);
  const list = Array.from(rows as ArrayLike<unknown>);
  const width = (list[0] as ArrayLike<number> | undefined)?.length;
  const out = list.map((row, i) => {
    const r = row as ArrayLike<unknown> | null;
    if (!r || typeof r !== "object" || r.length !== width || !width) {
      throw new TypeError(
        `Cannot ${action}: ${name} must be a rectangular matrix of numbers, row ${i} has ` +
          `${r && typeof r === "object" ? `${r.length} entries` : typeof r} (row 0 has ${width})`,
      );
    }
    return Array.from(r, (x, j) => {
      if (typeof x !== "number") {
        throw new TypeError(`Cannot ${action}: ${name} must hold numbers, got ${typeof x} at (${i}, ${j})`);
      }
      return x;
    });
  });
  return out;
}

/** Reads a series of numbers (an array or typed array) of a given length. */
export function readNumbers(action: string, name: string, value: unknown, length?: number): number[] {
  if (!value || typeof value !== "object" || typeof (value as ArrayLike<unknown>).length !== "number") {
    throw new TypeError(`Cannot ${action}: ${name} must be an array of numbers, got ${typeof value}`);
  }
  const out = Array.from(value as ArrayLike<unknown>, (x, i) => {
    if (typeof x !== "number") {
      throw new TypeError(`Cannot ${action}: ${name} must hold numbers, got ${typeof x} at index ${i}`);
    }
    return x;
  });
  if (length !== undefined && out.length !== length) {
    throw new TypeError(`Cannot ${action}: ${name} must have ${length} entries, got ${out.length}`);
  }
  return out;
}
