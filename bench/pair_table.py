"""What an index-time spelling table of word pairs would cost: size and indexing time.

    .venv/bin/python bench/pair_table.py --size 84132
    .venv/bin/python bench/pair_table.py --size 84132 --out bench/results/pair-table-84k.md

The likely reading and the did-you-mean learn how the archive spells a folded word
pair (``da nang`` → "Đà Nẵng") by reading up to 48 articles that hold it, the largest
part of a query's cold cost (bench/cold_profile.py). A table written by the bulk
builders would answer from the index instead. This measures, over the first N VNTC
articles, what such a table would hold and what counting it would add to indexing:

* distinct folded pairs and their distinct spellings (lower case), with the number
  of articles writing each — what the reading needs;
* distinct (spelling, side, neighbouring folded word) triples — what the fragment
  check needs for a two-word query (``dụng xe`` inside ``sử dụng xe``);
* the seconds spent counting, given the tokens the builder already has, a thousand
  articles at a time: to set beside the indexing CPU bench/run.py reports.

Words count as neighbours as the span reading counts them: consecutive tokens with
at most three characters between them. Sizes are estimated at 8 bytes an entry
(two word ids and a count, delta-coded), a rough figure for a packed column.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.engines import records, split_article  # noqa: E402
from bench.run import archive_for  # noqa: E402
from search.normalize import token_tuples  # noqa: E402

#: Word ids fit in this many bits (VNTC 84k has well under a million distinct words).
ID_BITS = 21
#: Bytes an entry of a packed table would take, roughly.
ENTRY_BYTES = 8
#: Most characters between two words that still stand together (as text_spans has it).
GAP = 3


class Ids:
    """Words to small integers, as the builder's term ids would be."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {"": 0}

    def __call__(self, word: str) -> int:
        found = self.ids.get(word)
        if found is None:
            found = self.ids[word] = len(self.ids)
        return found


Token = tuple[str, str, int, int, int]


def id_arrays(toks: list[Token], *, exact: Ids, folded: Ids) -> np.ndarray:
    """A text's tokens as rows of (exact id, folded id, start, end): what the bulk
    builder holds already (it turns tokens into term ids with numpy)."""
    return np.array([(exact(t[0]), folded(t[1]), t[2], t[3]) for t in toks],
                    dtype=np.int64).reshape(-1, 4)


def batch_keys(rows: np.ndarray, text: np.ndarray,
               article: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A batch's keys, an entry each time two words of one text stand together: the
    folded pair, its spelling once an article, and its two (spelling, side,
    neighbour) triples. *rows* are every text's token rows one after another,
    *text* and *article* say whose each row is."""
    together = (rows[1:, 2] - rows[:-1, 3] <= GAP) & (text[1:] == text[:-1])
    at = np.flatnonzero(together)
    spelling = (rows[at, 0] << ID_BITS) | rows[at + 1, 0]
    pairs = (rows[at, 1] << ID_BITS) | rows[at + 1, 1]
    has_before = np.zeros(len(rows), dtype=bool)
    has_before[1:] = together  # word i - 1 stands next to word i
    before = np.where(has_before[at], rows[np.maximum(at - 1, 0), 1], 0)
    has_after = np.zeros(len(rows) + 1, dtype=bool)
    has_after[: len(together)] = together  # word i + 2 stands next to word i + 1
    after = np.where(has_after[at + 1], rows[np.minimum(at + 2, len(rows) - 1), 1], 0)
    base = spelling.astype(np.uint64) << np.uint64(ID_BITS + 1)
    around = np.concatenate([base | (before.astype(np.uint64) << np.uint64(1)),
                             base | (after.astype(np.uint64) << np.uint64(1)) | np.uint64(1)])
    once = np.unique((spelling << ARTICLE_BITS) | article[at]) >> ARTICLE_BITS
    return pairs, once, around


#: Articles counted together, as a builder's batch, and the bits that number them.
BATCH = 1000
ARTICLE_BITS = 10


def measure(size: int) -> dict[str, float]:
    """Tokenise the first *size* VNTC articles and give the words ids (what the
    builder does anyway), then count their pairs a batch at a time, as a builder
    would, timing each."""
    archive, _ = archive_for("vntc", size)
    exact, folded = Ids(), Ids()
    started = time.perf_counter()
    texts = []
    for rec in records(archive):
        title, body = split_article(rec["text"])
        # The title ends a sentence: no pair across it and the body.
        texts += [id_arrays(token_tuples(t), exact=exact, folded=folded) for t in (title, body)]
    tokenise_s = time.perf_counter() - started
    assert max(len(exact.ids), len(folded.ids)) < 1 << ID_BITS, "word ids overflow the keys"
    pair_keys, spelling_keys, triple_keys = [], [], []
    started = time.perf_counter()
    for first in range(0, len(texts), 2 * BATCH):
        batch = texts[first: first + 2 * BATCH]
        lengths = [len(rows) for rows in batch]
        text = np.repeat(np.arange(len(batch)), lengths)
        keys = batch_keys(np.concatenate(batch), text, text // 2)
        for kept, found in zip((pair_keys, spelling_keys, triple_keys), keys, strict=True):
            kept.append(np.unique(found))
    # Over batches: the distinct keys (a spelling's articles are the sum of its batches').
    pairs = np.unique(np.concatenate(pair_keys))
    spellings = np.unique(np.concatenate(spelling_keys))
    triples = np.unique(np.concatenate(triple_keys))
    count_s = time.perf_counter() - started
    return {"articles": len(texts) // 2, "words": sum(len(rows) for rows in texts),
            "folded_pairs": len(pairs), "spellings": len(spellings), "triples": len(triples),
            "tokenise_s": tokenise_s, "count_s": count_s}


def report(m: dict[str, float]) -> str:
    """The markdown report."""
    per_k = 1000 / m["articles"]
    mb = (m["spellings"] + m["triples"]) * ENTRY_BYTES / 2**20
    return "\n".join([
        f"# A spelling table of word pairs, {m['articles']:,} VNTC articles", "",
        f"`bench/pair_table.py --size {m['articles']}`", "",
        "| | |", "|---|---|",
        f"| words | {m['words']:,} |",
        f"| distinct folded pairs | {m['folded_pairs']:,} |",
        f"| distinct spellings (lower case), with article counts | {m['spellings']:,} |",
        f"| distinct (spelling, side, neighbour) triples | {m['triples']:,} |",
        f"| table at {ENTRY_BYTES} bytes an entry | {mb:.0f} MB |",
        f"| tokenising and word ids (the builder does both anyway), s per 1,000 articles "
        f"| {m['tokenise_s'] * per_k:.2f} |",
        f"| counting the pairs with numpy, one process, s per 1,000 articles "
        f"| {m['count_s'] * per_k:.2f} |",
        ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="first N VNTC articles")
    parser.add_argument("--out", type=Path, help="write the markdown report here too")
    args = parser.parse_args()
    text = report(measure(args.size))
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
