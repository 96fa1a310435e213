"""Folding speed: vnsearch's tokenizer vs. calling unidecode per token.

Tokenises the bundled corpus repeated N times (default ×1000) both ways and prints
the ratio. Run: .venv/bin/python bench/bench_normalize.py [--repeat N]
"""

from __future__ import annotations

import argparse
import re
import time
import unicodedata
from pathlib import Path

from unidecode import unidecode

from search.normalize import normalize_term, tokens

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
WORD = re.compile(r"[^\W_]+")


def naive(text: str) -> list[str]:
    """What a straightforward implementation does: NFC, regex, unidecode each token."""
    text = unicodedata.normalize("NFC", text)
    return [unidecode(m.group()).lower() for m in WORD.finditer(text)]


def ours(text: str) -> list[str]:
    return [t.folded for t in tokens(text)]


def timed(fn, texts: list[str], repeat: int) -> tuple[float, int]:
    started = time.perf_counter()
    n = 0
    for _ in range(repeat):
        for text in texts:
            n += len(fn(text))
    return time.perf_counter() - started, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1000)
    args = parser.parse_args()
    texts = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))]
    t_naive, n_naive = timed(naive, texts, args.repeat)
    t_ours, n_ours = timed(ours, texts, args.repeat)
    print(f"seeds x{args.repeat}: {n_ours:,} tokens")
    print(f"  unidecode per token : {t_naive:6.2f} s  {n_naive / t_naive / 1e6:5.2f} M tokens/s")
    print(f"  vnsearch tokens()   : {t_ours:6.2f} s  {n_ours / t_ours / 1e6:5.2f} M tokens/s")
    print(f"  ratio               : {t_naive / t_ours:.2f}x faster (whole tokenizer)")

    # The folding step alone: unidecode on every token vs. vnsearch's memoised lookup.
    words = [m.group() for text in texts for m in WORD.finditer(unicodedata.normalize("NFC", text))]
    words *= args.repeat
    started = time.perf_counter()
    for w in words:
        unidecode(w).lower()
    t_uni = time.perf_counter() - started
    started = time.perf_counter()
    for w in words:
        normalize_term(w)
    t_lookup = time.perf_counter() - started
    print(f"fold step only, {len(words):,} tokens:")
    print(f"  unidecode per token : {t_uni:6.2f} s")
    print(f"  memoised lookup     : {t_lookup:6.2f} s  (exact + folded term, tone placement)")
    print(f"  ratio               : {t_uni / t_lookup:.2f}x faster")


if __name__ == "__main__":
    main()
