import { assert, assertEquals, assertThrows } from "../lib/_testing.ts";
import { initBackend } from "../lib/backend.ts";
import { loadMiniLM } from "../lib/model/minilm.ts";
import { cumulativeSpectrum } from "../lib/analysis/low_rank.ts";
import { singularValues } from "../lib/analysis/svd.ts";
import { corpusPassages } from "./corpus.ts";
import { attentionSpectra, SPECTRA_SOURCE } from "./spectra.ts";

Deno.test("attentionSpectra() holds 6 rising curves ending at 1, and masses consistent with them", () => {
  for (const n of [128, 512]) {
    const s = attentionSpectra(n);
    assertEquals([s.n, s.sequences, s.layerCurves.length, s.perSequence.length], [n, 50, 6, 50]);
    for (const curve of s.layerCurves) {
      assertEquals(curve.length, n);
      assert(curve.every((c, k) => c >= 0 && c <= 1 && (k === 0 || c >= curve[k - 1])), `n=${n}: a curve falls`);
      assertEquals(curve[n - 1], 1);
    }
    for (let l = 0; l < 6; l++) {
      for (let h = 0; h < 12; h++) {
        // The stored mean is the mean of the stored per-sequence values (up to their rounding).
        const mean = s.perSequence.reduce((a, seq) => a + seq[l][h], 0) / s.sequences;
        assert(Math.abs(mean - s.massAtQuarter[l][h]) < 2e-5, `n=${n} layer ${l} head ${h}: ${mean}`);
        assert(s.massAtQuarterStd[l][h] >= 0 && s.massAtQuarterStd[l][h] < 0.5);
      }
      // A layer's curve at k = n/4 is the mean of its heads' masses.
      const heads = s.massAtQuarter[l].reduce((a, b) => a + b, 0) / 12;
      assert(Math.abs(s.layerCurves[l][n / 4 - 1] - heads) < 2e-5, `n=${n} layer ${l}: curve vs heads`);
    }
  }
  assertEquals(SPECTRA_SOURCE.safetensorsSha256, "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db");
  assertThrows(
    () => attentionSpectra(256),
    RangeError,
    "Cannot read the attention spectra: n must be 128 or 512, got 256",
  );
});

Deno.test("the stored spectra match lib/model and lib/analysis on the first passage at n = 128", async () => {
  await initBackend({ backend: "wasm", print: false }); // the cpu backend takes ~20 s for this forward pass
  const s = attentionSpectra(128);
  const model = await loadMiniLM();
  const [text] = corpusPassages(s.words, { count: 1, stride: s.stride });
  const out = model.encode(text, { maxTokens: 128 });
  const A = out.attentions.arraySync() as number[][][][];
  out.dispose();
  assertEquals([A.length, A[0].length, A[0][0].length], [6, 12, 128]);
  let worst = 0;
  for (const l of [0, 5]) {
    for (let h = 0; h < 12; h++) {
      const c = cumulativeSpectrum(singularValues(A[l][h]));
      worst = Math.max(worst, Math.abs(c[31] - s.perSequence[0][l][h]));
    }
  }
  // float32 attention against the float64 reference: measured 1e-5 or less; 1e-3 still fails a wrong passage.
  assert(worst < 1e-3, `largest difference ${worst}`);
});
