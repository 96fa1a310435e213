"""Generate a realistic synthetic archive of N Vietnamese news articles.

For going past the real data (300k, 1M articles). Deterministic for a seed. Text
comes from a word-bigram model trained on real Vietnamese news (the seeds in
corpus/ and the first VNTC articles, when ../shared is present), so term
statistics resemble news; articles carry real places (the gazetteer), person
names and dates spread over 2015–2025, laid out like the seeds:

    title line / byline / "dd/mm/yyyy - hh:mm" / "Source - lead …" / paragraphs / author

    .venv/bin/python bench/make_archive.py 300000 /tmp/arch300k            # .txt tree
    .venv/bin/python bench/make_archive.py 300000 /tmp/a.jsonl --format jsonl

Output streams (memory stays bounded); .txt files are sharded 1,000 per folder.
The trained model is cached in bench/work/bigrams.pickle.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import json
import pickle
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.corpora import VNTC  # noqa: E402
from search.places import gazetteer  # noqa: E402

MODEL = REPO / "bench" / "work" / "bigrams.pickle"
TRAIN_ARTICLES = 3000
SURNAMES = "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý".split()
MIDDLE = "Văn Thị Minh Ngọc Đức Thanh Quang Hữu Thu Hồng Xuân Anh".split()
GIVEN = (
    "An Anh Bình Chi Dũng Hà Hải Hoa Hùng Lan Long Mai Nam Phong Quân Tâm Thảo Tú Tuấn Vy"
).split()
SOURCES = ["Kinhtedothi", "TĐKT", "NTL", "Hanoimoi", "SGGP", "TTXVN"]
TITLES = ["Bí thư Quận ủy", "Chủ tịch UBND quận", "Phó Bí thư Thường trực", "đồng chí"]

Model = dict[str, tuple[list[str], list[int]]]


def training_texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((REPO / "corpus").glob("*.txt"))]
    if VNTC.exists():
        with gzip.open(VNTC, "rt", encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                if i == TRAIN_ARTICLES:
                    break
                texts.append(json.loads(line)["text"])
    return texts


def train(texts: list[str]) -> Model:
    """Bigram successor lists with cumulative counts; sentence ends as "</s>"."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for text in texts:
        for sentence in text.replace("\n", " . ").split(". "):
            words = sentence.split()
            if len(words) < 4:
                continue
            prev = "<s>"
            for w in words:
                counts[prev][w] += 1
                prev = w
            counts[prev]["</s>"] += 1
    model: Model = {}
    for prev, nxt in counts.items():
        words, cum, total = [], [], 0
        for w, c in sorted(nxt.items()):
            total += c
            words.append(w)
            cum.append(total)
        model[prev] = (words, cum)
    return model


def load_model() -> Model:
    if MODEL.exists():
        return pickle.loads(MODEL.read_bytes())
    model = train(training_texts())
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    MODEL.write_bytes(pickle.dumps(model, pickle.HIGHEST_PROTOCOL))
    return model


def sentence(model: Model, rng: random.Random, max_words: int = 40) -> str:
    out, prev = [], "<s>"
    while len(out) < max_words:
        words, cum = model.get(prev) or model["<s>"]
        w = words[bisect.bisect_right(cum, rng.randrange(cum[-1]))]
        if w == "</s>":
            break
        out.append(w)
        prev = w
    text = " ".join(out).strip(" ,;")
    return (text[:1].upper() + text[1:] + ".") if text else "Tin tức."


def person(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def article(model: Model, rng: random.Random, places: list[str]) -> tuple[str, dict]:
    """One article as raw text (the seeds' layout) and its metadata."""
    when = datetime(2015, 1, 1) + timedelta(minutes=rng.randrange(11 * 365 * 24 * 60))
    place = rng.choice(places)
    source = rng.choice(SOURCES)
    title = sentence(model, rng, 14).rstrip(".")
    title = f"{title} tại {place}" if rng.random() < 0.6 else title
    lead = f"{source} - Ngày {when.day}/{when.month}, {sentence(model, rng)}"
    paragraphs = [lead]
    for _ in range(rng.randint(3, 9)):
        body = " ".join(sentence(model, rng) for _ in range(rng.randint(2, 5)))
        if rng.random() < 0.3:
            body += f" {rng.choice(TITLES)} {place} {person(rng)} nhấn mạnh {sentence(model, rng)}"
        paragraphs.append(body)
    author = person(rng)
    byline = author if rng.random() < 0.5 else ""
    date_line = when.strftime("%d/%m/%Y - %H:%M")
    text = "\n\n".join(
        [title] + ([byline] if byline else []) + [date_line] + paragraphs + [author]
    )
    return text + "\n", {"date": when.isoformat(), "source": source, "place": place}


def generate(n: int, out: Path, fmt: str, seed: int) -> None:
    model = load_model()
    rng = random.Random(seed)
    places = sorted(gazetteer().by_name)
    started = time.perf_counter()
    if fmt == "jsonl":
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as fh:
            for i in range(n):
                text, meta = article(model, rng, places)
                fh.write(json.dumps({"id": f"gen-{i:07d}", "text": text, **meta},
                                    ensure_ascii=False) + "\n")
    else:
        for i in range(n):
            text, _ = article(model, rng, places)
            folder = out / f"{i // 1000:04d}"
            if i % 1000 == 0:
                folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{i:07d}.txt").write_text(text, encoding="utf-8")
    rate = n / (time.perf_counter() - started)
    print(f"wrote {n:,} articles to {out} ({rate:,.0f} articles/s)", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of articles (up to 1,000,000)")
    parser.add_argument("out", type=Path, help="output directory (txt) or file (jsonl)")
    parser.add_argument("--format", choices=("txt", "jsonl"), default="txt")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not 1 <= args.n <= 1_000_000:
        parser.error("n must be between 1 and 1,000,000")
    generate(args.n, args.out, args.format, args.seed)


if __name__ == "__main__":
    main()
