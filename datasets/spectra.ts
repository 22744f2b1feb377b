/**
 * Linformer's Figure 1 (Wang et al. 2020) measured on the pretrained all-MiniLM-L6-v2, for lesson 06: the
 * normalised cumulative singular values c_k = (σ₁ + … + σ_k) / Σᵢ σᵢ of its 6 × 12 attention matrices on 50 corpus
 * passages at n = 128 and n = 512 tokens. The data is minilm_spectra.json, made by make_minilm_spectra.py (see
 * README.md) with PyTorch and numpy in float64 — 3,600 SVDs of 512 × 512 matrices, too slow to redo in a notebook.
 * It is a module import: nothing is read or downloaded at run time.
 * @module
 */
import data from "./minilm_spectra.json" with { type: "json" };

/** The sequence lengths measured. */
export const SPECTRA_LENGTHS = [128, 512] as const;

/** A length of {@linkcode SPECTRA_LENGTHS}. */
export type SpectraLength = typeof SPECTRA_LENGTHS[number];

/** The measurements at one sequence length n. */
export interface AttentionSpectra {
  /** n, the tokens per sequence ([CLS] and [SEP] included). */
  n: number;
  /** Words per corpus passage (`corpusPassages(words, { count, stride })`) before cutting to n tokens. */
  words: number;
  /** Words between the starts of consecutive passages. */
  stride: number;
  /** How many passages (sequences) were measured. */
  sequences: number;
  /** [6][n]: c_k for k = 1 … n, averaged over the sequences and the 12 heads of each layer. */
  layerCurves: number[][];
  /** [6][12]: c_{n/4} (the mass of the top quarter of the singular values), averaged over the sequences. */
  massAtQuarter: number[][];
  /** [6][12]: its standard deviation over the sequences. */
  massAtQuarterStd: number[][];
  /** [sequences][6][12]: c_{n/4} of every sequence, layer and head. */
  perSequence: number[][][];
}

/** Where the numbers come from. */
export const SPECTRA_SOURCE: Readonly<{ about: string; safetensorsSha256: string; versions: Record<string, string> }> =
  Object.freeze({ about: data.about, safetensorsSha256: data.safetensorsSha256, versions: { ...data.versions } });

/**
 * The attention spectra of all-MiniLM-L6-v2 at one sequence length (fresh copies).
 *
 * @param n 128 or 512.
 * @returns The layer curves, the mass at n/4 per layer and head, and the per-sequence masses.
 * @throws {RangeError} If n is not 128 or 512.
 * @example
 * ```ts
 * import { attentionSpectra } from "./spectra.ts";
 * const s = attentionSpectra(128);
 * if (s.layerCurves.length !== 6 || s.layerCurves[0].length !== 128 || s.layerCurves[0][127] !== 1) {
 *   throw new Error("six curves of 128 values ending at 1");
 * }
 * ```
 */
export function attentionSpectra(n: number): AttentionSpectra {
  if (!SPECTRA_LENGTHS.includes(n as SpectraLength)) {
    throw new RangeError(`Cannot read the attention spectra: n must be 128 or 512, got ${n}`);
  }
  const d = data[String(n) as "128" | "512"];
  return {
    n,
    words: d.words,
    stride: d.stride,
    sequences: data.sequences,
    layerCurves: d.layerCurves.map((row) => [...row]),
    massAtQuarter: d.massAtQuarter.map((row) => [...row]),
    massAtQuarterStd: d.massAtQuarterStd.map((row) => [...row]),
    perSequence: d.perSequence.map((s) => s.map((row) => [...row])),
  };
}
