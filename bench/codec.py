"""vnsearch's codec against Whoosh's W3 on real VNTC articles.

Writes the first N articles (default 5,000) of $VNSEARCH_SHARED/corpora/vntc.jsonl.gz once
with each codec (one segment), then reports:

* index size on disk (and of the stored fields alone), and write time;
* decoding every posting (ids + weights) of the 200 most frequent ``text_f`` words:
  Whoosh's matcher on W3, Whoosh's matcher on this codec, and the codec's arrays;
* decoding positions of those words in a sample of documents (what phrase checks do);
* the integer encodings measured for the posting lists (bytes per posting and decode
  µs per 1,000 postings on the same real postings), which chose the codec's.

    .venv/bin/python bench/codec.py                 # 5,000 articles
    .venv/bin/python bench/codec.py --articles 1000

Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from whoosh import index
from whoosh.codec.base import Codec
from whoosh.codec.whoosh3 import W3Codec

from search.archive import Record, read_archive
from search.codec.packing import (
    absolute_positions,
    gaps,
    pack_ints,
    packed_size,
    position_gaps,
    unpack_ints,
)
from search.codec.vncodec import VnCodec, segment_arrays
from search.documents import analyse, to_document
from search.schema import MATCH_FIELD, build_schema

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.corpora import VNTC  # noqa: E402


def documents(n: int, workdir: Path) -> list[dict]:
    """The Whoosh documents of the first *n* VNTC articles, built as the indexer does."""
    archive = workdir / f"vntc-{n}.jsonl"
    with gzip.open(VNTC, "rt", encoding="utf-8") as fh, archive.open("w", encoding="utf-8") as out:
        out.writelines(itertools.islice(fh, n))
    return [to_document(r, str(archive), analyse(r))
            for r in read_archive([archive]) if isinstance(r, Record)]


#: File name endings of the stored fields (W3's column, VnCodec's blocks and index).
STORED_FILES = ("._stored.col", ".vst", ".vsx")


def write(docs: list[dict], codec: Codec, target: Path) -> tuple[float, int, int]:
    """Index *docs* in one segment with *codec* (files left apart, not compound):
    seconds taken, bytes on disk, and bytes of stored fields."""
    target.mkdir()
    ix = index.create_in(target, build_schema())
    start = time.perf_counter()
    writer = ix.writer(codec=codec, compound=False)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    seconds = time.perf_counter() - start
    files = list(target.iterdir())
    return (seconds, sum(p.stat().st_size for p in files),
            sum(p.stat().st_size for p in files if p.name.endswith(STORED_FILES)))


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of *fn* in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def whoosh_postings(reader, words: list[bytes]) -> int:
    """Walk every posting of *words* with Whoosh's matcher (id and weight)."""
    count = 0
    for word in words:
        m = reader.postings(MATCH_FIELD, word)
        while m.is_active():
            m.id()
            m.weight()
            count += 1
            m.next()
    return count


def whoosh_positions(reader, words: list[bytes], sample: np.ndarray) -> None:
    """Positions of *words* in the *sample* documents through Whoosh's matcher."""
    for word in words:
        m = reader.postings(MATCH_FIELD, word)
        for doc in sample.tolist():
            if not m.is_active():
                break
            m.skip_to(doc)
            if m.is_active() and m.id() == doc:
                m.value_as("positions")


def measure_reads(ix_dir: Path, words: list[bytes], sample: np.ndarray, arrays: bool) -> dict:
    """Decode timings on one index: Whoosh's matcher, and the arrays when *arrays*."""
    ix = index.open_dir(ix_dir)
    with ix.reader() as reader:
        out = {"postings": timed(lambda: whoosh_postings(reader, words)),
               "positions": timed(lambda: whoosh_positions(reader, words, sample))}
        if arrays:
            seg = segment_arrays(reader)
            out["postings_arrays"] = timed(
                lambda: [seg.postings_arrays(MATCH_FIELD, w) for w in words])
            out["positions_arrays"] = timed(
                lambda: [seg.positions_arrays(MATCH_FIELD, w, sample) for w in words])
            every = np.arange(reader.doc_count_all())
            out["lists"] = [(*seg.postings_arrays(MATCH_FIELD, w),
                             seg.positions_arrays(MATCH_FIELD, w, every)) for w in words]
            seg.close()
    return out


# --------------------------------------------------------------------------- encodings


def _encode(ids: np.ndarray, freqs: np.ndarray, positions: np.ndarray, *,
            narrow: bool, level: int) -> bytes:
    """One posting list's columns (id gaps, freqs, position gaps), each at its
    narrowest width or as raw uint32, optionally zlib over the whole."""
    columns = (gaps(ids), freqs, position_gaps(positions, freqs))
    body = b"".join(pack_ints(c) if narrow else b"\x02" + c.astype("<u4").tobytes()
                    for c in columns)
    return zlib.compress(body, level) if level else body


def _decode(data: bytes, count: int, *, level: int) -> tuple:
    body = zlib.decompress(data) if level else data
    id_gaps = unpack_ints(body, 0, count)
    at = packed_size(body, 0, count)
    freqs = unpack_ints(body, at, count)
    at += packed_size(body, at, count)
    pgaps = unpack_ints(body, at, int(freqs.sum()))
    return np.cumsum(id_gaps), freqs, absolute_positions(pgaps, freqs)


def measure_encodings(lists: list) -> list[tuple[str, float, float]]:
    """(encoding, bytes per posting, decode µs per 1,000 postings) of the real
    posting lists (ids, frequencies, positions), each list decoded whole."""
    postings = sum(len(ids) for ids, _, _ in lists)
    rows = []
    for name, narrow, level in (("raw uint32", False, 0), ("raw uint32 + zlib", False, 1),
                                ("narrowest width (chosen)", True, 0),
                                ("narrowest width + zlib", True, 1)):
        encoded = [(_encode(ids, np.diff(starts), flat, narrow=narrow, level=level), len(ids))
                   for ids, _, (_, starts, flat) in lists]
        size = sum(len(e) for e, _ in encoded)
        seconds = timed(lambda enc=encoded, lv=level: [_decode(e, n, level=lv) for e, n in enc])
        rows.append((name, size / postings, seconds * 1e6 * 1000 / postings))
    return rows


# --------------------------------------------------------------------------- report


def _row(label: str, w3: float, vn: float, unit: str) -> str:
    return f"| {label} | {w3:.1f} {unit} | {vn:.1f} {unit} | {vn / w3:.3f}× |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--words", type=int, default=200)
    parser.add_argument("--sample", type=int, default=200, help="documents for positions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vnsearch-codec-") as tmp:
        work = Path(tmp)
        docs = documents(args.articles, work)
        w3_secs, w3_bytes, w3_stored = write(docs, W3Codec(), work / "w3")
        vn_secs, vn_bytes, vn_stored = write(docs, VnCodec(), work / "vn")
        with index.open_dir(work / "w3").reader() as reader:
            words = [t for _, t in reader.most_frequent_terms(MATCH_FIELD, args.words)]
            total = sum(reader.doc_frequency(MATCH_FIELD, w) for w in words)
        sample = np.sort(np.random.default_rng(42).choice(len(docs), args.sample, replace=False))
        w3 = measure_reads(work / "w3", words, sample, arrays=False)
        vn = measure_reads(work / "vn", words, sample, arrays=True)
    print(f"## {len(docs):,} VNTC articles; {args.words} most frequent words = {total:,} postings; "
          f"positions in {args.sample} sampled documents\n")
    print("| | W3 (Whoosh default) | VnCodec | ratio |\n|---|---:|---:|---:|")
    print(_row("index size", w3_bytes / 1e6, vn_bytes / 1e6, "MB"))
    print(_row("of which stored fields", w3_stored / 1e6, vn_stored / 1e6, "MB"))
    print(_row("write time (Whoosh writer)", w3_secs, vn_secs, "s"))
    for what in ("postings", "positions"):
        print(_row(f"{what}, Whoosh matcher", w3[what] * 1e3, vn[what] * 1e3, "ms"))
        print(_row(f"{what}, W3 matcher vs arrays", w3[what] * 1e3,
                   vn[f"{what}_arrays"] * 1e3, "ms"))
    print("\n| integer encoding (same real lists) | bytes/posting | decode µs / 1k postings |")
    print("|---|---:|---:|")
    for name, per_posting, micros in measure_encodings(vn["lists"]):
        print(f"| {name} | {per_posting:.2f} | {micros:.0f} |")


if __name__ == "__main__":
    main()
