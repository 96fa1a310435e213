"""Short-query evaluation on baomoi-2017: does a 1–3 word query find what the user meant?

The known-item evaluation (bench/quality.py) asks for one article by a long span of
its words. Real users type two words without accents — ``da nang``, ``bong da`` —
and mean the frequent accented phrase (Đà Nẵng, bóng đá), not the other readings
that fold to the same letters ("da … nắng", "bóng đã"). This measures that.

**Queries** (``bench/short_queries.tsv``, committed so the set is fixed and
reviewable) are made once, deterministically, by ``--make-queries`` from the crawl's
own statistics:

* *ambiguous* — accented bigrams counted by the number of articles holding them,
  grouped by their folded spelling; kept when the group has
  at least two accented spellings, the most frequent one is in ≥ 100 articles
  (:data:`MIN_ARTICLES`) and its words are not function words (:data:`STOPWORDS`:
  ``của các`` is not a query anyone types). Ranked by how much the other spellings
  compete (the smaller of the top spelling's count and the others' sum), so the
  hardest cases come first. The intended reading is the most frequent spelling.
  Bigrams mostly seen inside one longer phrase (``viện đa`` of ``bệnh viện đa
  khoa``) are dropped (:func:`fragments`), and a few on review (:data:`REJECTED`).
  The issue's own examples and a few everyday single words (:data:`CURATED`) are
  added, whatever their rank.
* *everyday* — places, people, organisations, events: the most frequent Title-Case
  2–3-grams that carry accents and stand as a unit (``Nguyễn Xuân Phúc``, ``Hà
  Nội``; not ``Hồ Chí`` of ``Hồ Chí Minh``), skipping names cut short (``Nguyễn
  Văn``, ``Bộ Công``: :data:`CUT_SHORT`) and any that overlap one already chosen.

**Relevance**: an article is relevant when it holds the intended words side by side,
in order — compared as :func:`search.normalize.tokens` sees words: NFC,
case-insensitive, tone placement canonicalised (``hoà`` = ``hòa``).

**Metrics**: P@10 and nDCG@10 with binary gains, for each query typed without
accents and with them, per engine (bench/engines.py: vnsearch, FTS5, Tantivy).
Queries are split into two fixed halves by a hash of the folded query: tune ranking
on ``tune``, report on ``report``.

    python bench/short_queries.py                        # whole crawl, both halves
    python bench/short_queries.py --limit-articles 5000 --half report
    python bench/short_queries.py --make-queries         # rewrite the TSV (slow)

The crawl is unpacked once into bench/work/ (git-ignored); indexes are kept there and
reused while the archive folder and the code each index depends on are unchanged.
Writes bench/results/short_queries.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import bench_core  # noqa: E402
from bench.corpora import BAOMOI  # noqa: E402
from bench.engines import ENGINES, records  # noqa: E402
from search.normalize import fold, nfc, token_tuples  # noqa: E402

WORK = REPO / "bench" / "work"
QUERIES = REPO / "bench" / "short_queries.tsv"
RESULTS = REPO / "bench" / "results" / "short_queries.json"

#: Engines compared (names of bench.engines.ENGINES).
ENGINE_NAMES = ("vnsearch", "fts5", "tantivy")
#: Cut-off of both metrics.
K = 10
#: A phrase must be in at least this many articles to be a query.
MIN_ARTICLES = 100
#: …and a competing spelling in at least this many, to count as ambiguous.
MIN_RIVAL_ARTICLES = 10
#: How many queries of each kind ``--make-queries`` picks.
AMBIGUOUS_BIGRAMS, EVERYDAY = 50, 40
#: A bigram is a fragment when one longer phrase holds this share of its articles.
FRAGMENT_SHARE = 0.5
#: A Title-Case trigram is a name when it holds this share of each of its bigrams.
UNIT_SHARE = 0.6
#: Single syllables in more articles than this are grammar, not topics.
UNIGRAM_CAP = 8000
HALVES = ("tune", "report")
KINDS = ("ambiguous", "everyday")

#: Function words: a phrase holding one is not a query a user types.
STOPWORDS = frozenset("""
của các và là có với cho này đó do đã những nhưng được trong thì khi để từ về nay
vẫn còn cũng cùng chỉ tôi anh cô chị ông em họ mình chúng ta bị sẽ đang rất nhiều
một hai ba bốn năm sáu bảy tám chín mười không chưa ra vào lên xuống tại theo như
mà nên vì nếu hay hoặc đến tới sau trước trên dưới giữa ngoài đây đấy thế nào gì
ai sao bao mỗi mọi cả lại đi làm nói biết thấy phải muốn cần người việc
""".split())

#: Always in the set (folded query → intended reading): the issue's own examples (but
#: ``siêu bão``: in 2 articles only, P@10 could not pass 0.2; the ranking tests hold it), and
#: single words of everyday news whose spelling without accents is shared (``vang``:
#: vàng, vâng, văng; ``lu``: lũ, lú …). Single syllables are not picked automatically:
#: the most contested ones are halves of words (``trị``, ``tượng``, ``nghị``).
CURATED = {
    "da nang": "Đà Nẵng",
    "bong da": "bóng đá",
    "ba dinh": "Ba Đình",
    "tai nan": "tai nạn",
    "bao": "bão",
    "vang": "vàng",
    "lu": "lũ",
    "tet": "Tết",
    "xang": "xăng",
    "dien": "điện",
    "gao": "gạo",
}

#: Picked by the statistics, rejected on review: parts of longer words or names
#: (``quan trọng hơn``, ``Bộ Tư pháp``), given names cut short (``Nguyễn Văn``).
REJECTED = frozenset({
    "trọng hơn", "bộ tư", "nhận tin", "mỹ donald trump", "tin tức", "trí thức trẻ",
})
#: A two-word Title-Case name that starts with one of these is cut short: a surname
#: and a middle name (``Nguyễn Văn``), a middle and a given name (``Thị Thu``), an
#: office (``Bộ Công``, ``Phó Chủ``).
CUT_SHORT = frozenset("""
nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ ngô lý đinh trương thị văn
bộ phó sở ủy ban tổng cục viện
""".split())


@dataclass(frozen=True)
class ShortQuery:
    """One query: the reading the user means, as the archive writes it."""

    intended: str  # "Đà Nẵng"
    kind: str  # "ambiguous" or "everyday"
    articles: int = 0  # articles holding it, when the list was made

    @property
    def accented(self) -> str:
        """The query typed with accents (as the archive writes it)."""
        return self.intended

    @property
    def unaccented(self) -> str:
        """The query typed without accents (``da nang``)."""
        return " ".join(fold(w) for w in self.intended.split())

    @property
    def half(self) -> str:
        return half_of(self.unaccented)


# --------------------------------------------------------------------------- words


def positioned_words(text: str) -> list[tuple[str, str, int, int]]:
    """``(exact term, surface, start, end)`` per word position of *text* (NFC).

    A CamelCase-glued word yields the whole and its parts at the same position; the
    parts are what stand side by side with the neighbours, so the last one wins.
    """
    text = nfc(text)
    by_pos: dict[int, tuple[str, str, int, int]] = {}
    for exact, _folded, start, end, pos in token_tuples(text):
        by_pos[pos] = (exact, text[start:end], start, end)
    return [by_pos[p] for p in sorted(by_pos)]


def word_sequence(text: str) -> list[tuple[str, str]]:
    """``(exact term, surface)`` per word position of *text*."""
    return [(exact, surface) for exact, surface, _, _ in positioned_words(text)]


def title_case_runs(text: str) -> list[list[tuple[str, str]]]:
    """Runs of Title-Case words (``Nguyễn Xuân Phúc``) separated by spaces only: a
    name does not run across punctuation (``… Quảng Ninh. Bóng đá …``)."""
    text = nfc(text)
    runs: list[list[tuple[str, str]]] = []
    last_end = -1
    for exact, surface, start, end in positioned_words(text):
        if not (surface.istitle() and surface.isalpha()):
            last_end = -1
            continue
        if last_end >= 0 and text[last_end:start].isspace():
            runs[-1].append((exact, surface))
        else:
            runs.append([(exact, surface)])
        last_end = end
    return runs


def phrase_key(text: str) -> str:
    """The words of *text* as relevance compares them: `` w1 w2 … `` (exact terms,
    space-padded so a substring test matches whole words only)."""
    return " " + " ".join(exact for exact, _ in word_sequence(text)) + " "


def is_relevant(article_key: str, query: ShortQuery | str) -> bool:
    """Does the article (its :func:`phrase_key`) hold the intended words side by side?"""
    intended = query.intended if isinstance(query, ShortQuery) else query
    return phrase_key(intended) in article_key


def half_of(query: str) -> str:
    """``tune`` or ``report``: a fixed split by a hash of the folded query."""
    digest = hashlib.sha1(fold(query).encode("utf-8")).digest()
    return HALVES[digest[0] % 2]


# --------------------------------------------------------------------------- metrics


def precision_at(ranked: list[str], relevant: set[str], k: int = K) -> float:
    """Share of the first *k* places holding a relevant article (empty places count 0)."""
    return sum(doc in relevant for doc in ranked[:k]) / k


def ndcg_at(ranked: list[str], relevant: set[str], k: int = K) -> float:
    """nDCG@k with binary gains; the ideal ranking puts min(k, |relevant|) first."""
    dcg = sum(1 / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if doc in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


# --------------------------------------------------------------------------- query set


@dataclass
class Counts:
    """Article frequencies of the crawl's n-grams, as :func:`count_ngrams` gathers them."""

    unigrams: Counter
    bigrams: Counter
    titled: dict[tuple[str, ...], Counter]  # Title-Case 2/3-grams: key → surface forms
    sequences: list[list[str]]  # every article's exact terms, for a second look


def count_ngrams(texts: Iterable[str]) -> Counts:
    """Article frequencies of unigrams and bigrams, and of Title-Case 2–3-grams with
    their surface forms (to write names as the archive does)."""
    unigrams: Counter = Counter()
    bigrams: Counter = Counter()
    titled: dict[tuple[str, ...], Counter] = defaultdict(Counter)
    sequences = []
    for text in texts:
        words = [w for w, _ in word_sequence(text)]
        sequences.append(words)
        unigrams.update(set(words))
        bigrams.update(set(zip(words, words[1:], strict=False)))
        seen: set[tuple[str, ...]] = set()
        for run in title_case_runs(text):
            for n in (2, 3):
                for i in range(len(run) - n + 1):
                    key = tuple(w for w, _ in run[i : i + n])
                    if key not in seen:
                        seen.add(key)
                        titled[key][" ".join(s for _, s in run[i : i + n])] += 1
    return Counts(unigrams, bigrams, dict(titled), sequences)


def ambiguous(counts: Counter, *, cap: int | None = None) -> list[tuple[tuple[str, ...], int]]:
    """Folded spellings shared by several accented n-grams, most contested first:
    ``(top accented n-gram, its articles)``; *cap* drops top spellings more frequent
    than that (single syllables that frequent are grammar, not topics)."""
    groups: dict[tuple[str, ...], list[tuple[int, tuple[str, ...]]]] = defaultdict(list)
    for key, n in counts.items():
        gram = key if isinstance(key, tuple) else (key,)
        if all(w.isalpha() for w in gram):
            groups[tuple(fold(w) for w in gram)].append((n, gram))
    ranked = []
    for spellings in groups.values():
        spellings.sort(key=lambda s: (-s[0], s[1]))
        (top, gram), rivals = spellings[0], spellings[1:]
        if (top < MIN_ARTICLES or (cap and top > cap) or not rivals
                or rivals[0][0] < MIN_RIVAL_ARTICLES
                or gram == tuple(fold(w) for w in gram) or set(gram) & STOPWORDS):
            continue
        ranked.append((-min(top, sum(n for n, _ in rivals)), gram, top))
    ranked.sort()
    return [(gram, top) for _, gram, top in ranked]


def fragments(sequences: list[list[str]], grams: dict[tuple[str, str], int]) -> set:
    """The bigrams of *grams* (→ their article counts) that are mostly part of one
    longer phrase (``viện đa`` of ``bệnh viện đa khoa``): no one types those."""
    extensions: Counter = Counter()
    for words in sequences:
        seen = set()
        for i in range(len(words) - 1):
            pair = (words[i], words[i + 1])
            if pair in grams:
                if i > 0:
                    seen.add((words[i - 1], *pair))
                if i + 2 < len(words):
                    seen.add((*pair, words[i + 2]))
        extensions.update(seen)
    out = set()
    for tri, n in extensions.items():
        for pair in (tri[:2], tri[1:]):
            if pair in grams and n >= FRAGMENT_SHARE * grams[pair]:
                out.add(pair)
    return out


def units(titled: dict[tuple[str, ...], Counter]) -> list[tuple[int, tuple[str, ...]]]:
    """Title-Case names that stand as a unit: a trigram that most uses of both its
    bigrams belong to (``Hồ Chí Minh``, not ``Mỹ Donald Trump``), a bigram that no such
    trigram swallows (``Hà Nội``, not ``Hồ Chí``). ``(articles, key)``, most first."""
    total = {key: sum(c.values()) for key, c in titled.items()}
    trigrams = [(n, key) for key, n in total.items() if len(key) == 3 and all(
        n >= UNIT_SHARE * total.get(pair, n) for pair in (key[:2], key[1:]))]
    swallowed = {pair for _, key in trigrams for pair in (key[:2], key[1:])}
    bigrams = [(n, key) for key, n in total.items() if len(key) == 2 and key not in swallowed]
    return sorted(trigrams + bigrams, key=lambda u: (-u[0], u[1]))


def everyday(titled: dict[tuple[str, ...], Counter], *, taken: set[str], skip: set,
             how_many: int) -> list[tuple[str, int]]:
    """Frequent Title-Case names with accents (:func:`units`), none in *skip*, none
    sharing a word pair with one already chosen."""
    pairs: set[tuple[str, str]] = set()
    chosen: list[tuple[str, int]] = []
    for total, key in units(titled):
        own = set(zip(key, key[1:], strict=False))
        if (total < MIN_ARTICLES or own & pairs or " ".join(key) in taken or key in skip
                or (len(key) == 2 and key[0] in CUT_SHORT)
                or all(w.isascii() for w in key) or set(key) & STOPWORDS):
            continue
        pairs |= own
        chosen.append((titled[key].most_common(1)[0][0], total))
        if len(chosen) == how_many:
            break
    return chosen


def written_form(gram: tuple[str, ...], titled: dict[tuple[str, ...], Counter],
                 articles: int) -> str:
    """The n-gram as the archive mostly writes it: Title Case when most of its
    articles do (``Đà Nẵng``), lower case otherwise (``bóng đá``)."""
    forms = titled.get(gram)
    if forms and sum(forms.values()) * 2 >= articles:
        return forms.most_common(1)[0][0]
    return " ".join(gram)


def make_queries(texts: Iterable[str]) -> list[ShortQuery]:
    """The query set, from the crawl's statistics (see the module docstring)."""
    counts = count_ngrams(texts)
    out: dict[str, ShortQuery] = {}
    for folded, intended in CURATED.items():
        key = tuple(phrase_key(intended).split())
        n = counts.bigrams.get(key, 0) if len(key) == 2 else counts.unigrams.get(key[0], 0)
        out[folded] = ShortQuery(intended, "ambiguous", n)
    bigrams = ambiguous(counts.bigrams)[: 3 * AMBIGUOUS_BIGRAMS]
    names = [key for n, key in units(counts.titled) if len(key) == 2 and n >= MIN_ARTICLES]
    grams = dict(bigrams) | {key: counts.bigrams.get(key, 0) for key in names}
    skip = fragments(counts.sequences, grams) | {tuple(r.split()) for r in REJECTED}
    for gram, n in [(g, n) for g, n in bigrams if g not in skip][:AMBIGUOUS_BIGRAMS]:
        query = ShortQuery(written_form(gram, counts.titled, n), "ambiguous", n)
        out.setdefault(query.unaccented, query)
    taken = {" ".join(phrase_key(q.intended).split()) for q in out.values()}
    for intended, n in everyday(counts.titled, taken=taken, skip=skip, how_many=EVERYDAY):
        query = ShortQuery(intended, "everyday", n)
        out.setdefault(query.unaccented, query)
    return list(out.values())


def write_queries(queries: list[ShortQuery], path: Path = QUERIES) -> None:
    lines = ["# intended\tunaccented\tkind\tarticles\thalf  (made by bench/short_queries.py "
             "--make-queries)"]
    lines += [f"{q.intended}\t{q.unaccented}\t{q.kind}\t{q.articles}\t{q.half}" for q in queries]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_queries(path: Path = QUERIES) -> list[ShortQuery]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            intended, _unaccented, kind, articles, *_ = line.split("\t")
            out.append(ShortQuery(intended, kind, int(articles)))
    return out


# --------------------------------------------------------------------------- archive


def unpack(archive: Path = BAOMOI, work: Path = WORK) -> Path:
    """The crawl's folder of ``.txt`` files, unpacked once into *work*."""
    return bench_core.unpack(archive, into=work)


def subset(folder: Path, limit: int | None) -> Path:
    """*folder* itself, or a folder of hard links to its first *limit* files (sorted)."""
    if not limit:
        return folder
    target = folder.with_name(f"{folder.name}-{limit}")
    marker = target / ".complete"
    if not marker.exists():
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(folder.rglob("*.txt"))[:limit]:
            link = target / path.relative_to(folder)
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                os.link(path, link)
        marker.touch()
    return target


def relevance(archive: Path, queries: list[ShortQuery]) -> dict[str, set[str]]:
    """Relevant article ids per query (keyed by the intended form)."""
    out: dict[str, set[str]] = {q.intended: set() for q in queries}
    needles = {q.intended: phrase_key(q.intended) for q in queries}
    for rec in records(archive):
        key = phrase_key(rec["text"])
        for intended, needle in needles.items():
            if needle in key:
                out[intended].add(rec["id"])
    return out


# --------------------------------------------------------------------------- engines


def source_stamp(engine: str) -> str:
    """A digest of the code *engine*'s index depends on: a change rebuilds it."""
    digest = hashlib.sha1()
    ours = sorted((REPO / "search").glob("*.py")) if engine.startswith("vnsearch") else []
    for path in [*ours, REPO / "bench" / "engines.py"]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def ready_engine(name: str, archive: Path, workdir: Path):
    """An open engine over *archive*: its index is built unless a stamp in *workdir*
    says the same archive and code built it already."""
    engine = ENGINES[name](workdir)
    stamp = workdir / f".built-{name}"
    want = f"{archive.resolve()} {source_stamp(name)}"
    if not stamp.exists() or stamp.read_text(encoding="utf-8") != want:
        print(f"{name}: indexing {archive} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        engine.build(archive)
        print(f"{name}: indexed in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        stamp.write_text(want, encoding="utf-8")
    engine.open()
    return engine


def evaluate(engine, queries: list[ShortQuery], relevant: dict[str, set[str]]) -> list[dict]:
    """Per query and typing: P@10 and nDCG@10 of *engine*'s top 10."""
    rows = []
    for q in queries:
        rel = relevant[q.intended]
        for typed, text in (("unaccented", q.unaccented), ("accented", q.accented)):
            ranked = engine.search(text, snippets=False)
            rows.append({"query": text, "intended": q.intended, "kind": q.kind, "half": q.half,
                         "typed": typed, "relevant": len(rel),
                         "p10": round(precision_at(ranked, rel), 4),
                         "ndcg10": round(ndcg_at(ranked, rel), 4)})
    return rows


def summary(rows: list[dict], half: str, kind: str | None = None) -> dict:
    """Mean P@10 and nDCG@10 per typing over one half (or ``both``), of one kind of
    query or all."""
    out = {}
    for typed in ("unaccented", "accented"):
        sel = [r for r in rows if r["typed"] == typed and half in ("both", r["half"])
               and kind in (None, r["kind"])]
        out[typed] = {
            "queries": len(sel),
            "p10": round(sum(r["p10"] for r in sel) / len(sel), 3) if sel else 0.0,
            "ndcg10": round(sum(r["ndcg10"] for r in sel) / len(sel), 3) if sel else 0.0,
        }
    return out


def markdown(report: dict) -> str:
    lines = [f"Short queries, {report['articles']:,} baomoi-2017 articles, "
             f"{report['queries']} queries ({report['date']}): P@10 / nDCG@10", ""]
    engines = list(report["engines"])
    lines.append("| half | typed | " + " | ".join(engines) + " |")
    lines.append("|---|---|" + "---|" * len(engines))
    for half in report["halves"]:
        for typed in ("unaccented", "accented"):
            cells = []
            for name in engines:
                s = report["engines"][name]["summary"][half][typed]
                cells.append(f"{s['p10']:.3f} / {s['ndcg10']:.3f}")
            n = report["engines"][engines[0]]["summary"][half][typed]["queries"]
            lines.append(f"| {half} ({n}) | {typed} | " + " | ".join(cells) + " |")
    half = "report" if "report" in report["halves"] else report["halves"][-1]
    lines += ["", f"By kind of query, {half} half:", "",
              "| kind | typed | " + " | ".join(engines) + " |",
              "|---|---|" + "---|" * len(engines)]
    for kind in KINDS:
        for typed in ("unaccented", "accented"):
            stats = [report["engines"][name]["by_kind"][half][kind][typed] for name in engines]
            cells = [f"{s['p10']:.3f} / {s['ndcg10']:.3f}" for s in stats]
            lines.append(f"| {kind} ({stats[0]['queries']}) | {typed} | " + " | ".join(cells)
                         + " |")
    return "\n".join(lines) + "\n"


def run(archive: Path, queries: list[ShortQuery], *, halves: list[str],
        engines: Iterable[str] = ENGINE_NAMES, work: Path = WORK) -> dict:
    """Every engine on *archive*: the report as JSON-ready dict (indexes in *work*)."""
    workdir = work / f"short-queries-{archive.name}"
    workdir.mkdir(parents=True, exist_ok=True)
    relevant = relevance(archive, queries)
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "archive": archive.name,
                    "articles": sum(1 for _ in archive.rglob("*.txt")),
                    "queries": len(queries), "halves": halves, "engines": {}}
    for name in engines:
        engine = ready_engine(name, archive, workdir)
        try:
            rows = evaluate(engine, queries, relevant)
        finally:
            engine.close()
        report["engines"][name] = {
            "summary": {h: summary(rows, h) for h in halves},
            "by_kind": {h: {k: summary(rows, h, k) for k in KINDS} for h in halves},
            "rows": rows,
        }
    return report


def texts_of(archive: Path) -> Iterator[str]:
    return (rec["text"] for rec in records(archive))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit-articles", type=int, default=0,
                        help="the first N articles of the crawl (sorted by file name)")
    parser.add_argument("--half", choices=("tune", "report", "both"), default="both",
                        help="which half of the queries to report (default: each, and both)")
    parser.add_argument("--engines", default=",".join(ENGINE_NAMES))
    parser.add_argument("--make-queries", action="store_true",
                        help=f"rebuild {QUERIES.name} from the crawl's statistics")
    args = parser.parse_args()
    if not BAOMOI.exists():
        sys.exit(f"baomoi archive not found at {BAOMOI} (set VNSEARCH_SHARED)")
    archive = subset(unpack(), args.limit_articles)
    if args.make_queries:
        queries = make_queries(texts_of(archive))
        write_queries(queries)
        print(f"{len(queries)} queries written to {QUERIES}")
        return
    halves = ["tune", "report", "both"] if args.half == "both" else [args.half]
    report = run(archive, read_queries(), halves=halves,
                 engines=[e.strip() for e in args.engines.split(",") if e.strip()])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print(markdown(report))


if __name__ == "__main__":
    main()
