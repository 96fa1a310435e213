"""Known-item search quality: can an engine find an article from a few of its words?

For a seeded sample of articles, a query is cut from a *distinctive* span of 3–6
consecutive words (the span with the highest summed IDF) of the body, and another
from the title, then typed in five forms:

* ``as_written`` — the words as the article has them;
* ``unaccented`` — every word folded to ASCII (``đảng`` → ``dang``);
* ``tone_swapped`` — old ↔ new tone placement (``hòa`` ↔ ``hoà``); spans without
  such a syllable stay as written (the report counts how many changed);
* ``typo`` — one letter deleted, swapped or replaced in one word of ≥ 4 letters;
* ``shuffled`` — the same words in another order.

The rank of the source article in the engine's top 10 gives MRR@10 and recall@10,
over all items and over two fixed halves (split by a hash of the article's id):
ranking is tuned on ``tune`` and quoted on ``report``. Results before this split was
added tuned and reported on the same items.

A span is not always the article's alone: a title span like ``trường đại học`` is
written, word for word and in a title too, by hundreds of articles, and then no
engine can tell which of them the query was cut from. Each item therefore counts
the articles whose same part (title or body) holds its span as written
(``shared``), and the report gives, beside MRR over all items:

* ``_ceiling`` — the best MRR@10 any engine could reach on these items, ranking the
  source article at random among the articles holding its span in the same part
  (``H(k)/k`` for *k* such articles; articles holding it only elsewhere are
  assumed to be beaten, so the bound is generous);
* ``mrr10_distinct`` (and per half) — MRR over the items whose span no other
  article holds in that part: the queries that do name one article.
"""

from __future__ import annotations

import hashlib
import math
import random
import unicodedata
from collections import Counter
from dataclasses import dataclass

from search.normalize import canonical_tone, fold, nfc, tokens

FORMS = ("as_written", "unaccented", "tone_swapped", "typo", "shuffled")
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxy"


@dataclass
class Item:
    """One known item: the article id and its query words (surface forms)."""

    doc_id: str
    words: list[str]
    part: str  # "body" or "title"
    shared: int = 1  # articles whose same part holds the span as written (≥ 1)


def surface_words(text: str) -> list[str]:
    """The article's words as written (NFC, lower case; glued parts kept whole)."""
    text = nfc(text)
    seen_pos, out = set(), []
    for tok in tokens(text):
        if tok.pos in seen_pos:
            continue
        seen_pos.add(tok.pos)
        out.append(text[tok.start : tok.end].lower())
    return out


def document_frequencies(texts) -> tuple[Counter, int]:
    df: Counter = Counter()
    n = 0
    for text in texts:
        df.update({fold(w) for w in surface_words(text)})
        n += 1
    return df, n


def distinctive_span(words: list[str], df: Counter, n: int, rng: random.Random) -> list[str]:
    """The 3–6 word span (length drawn by *rng*) with the highest summed IDF."""
    size = rng.randint(3, 6)
    words = words[:400]
    if len(words) < size:
        return words
    idf = [math.log((n + 1) / (df.get(fold(w), 0) + 1)) for w in words]
    best = max(range(len(words) - size + 1), key=lambda i: sum(idf[i : i + size]))
    return words[best : best + size]


def new_style(word: str) -> str:
    """The other tone placement of an oa/oe/uy open syllable (``hòa`` → ``hoà``)."""
    old = canonical_tone(word)
    if old != unicodedata.normalize("NFC", word):
        return old  # the word was new style: give the old
    d = unicodedata.normalize("NFD", old)
    tone = next((c for c in d if c in _TONES), None)
    base = unicodedata.normalize("NFC", d.replace(tone, "")) if tone else old
    low = base.lower()
    for nucleus in ("oa", "oe", "uy"):
        if low.endswith(nucleus) and not low.endswith("q" + nucleus) and tone:
            i = len(base) - 1
            moved = base[:i] + unicodedata.normalize("NFC", base[i] + tone)
            return unicodedata.normalize("NFC", moved)
    return word


def typo(words: list[str], rng: random.Random) -> list[str]:
    candidates = [i for i, w in enumerate(words) if len(w) >= 4]
    if not candidates:
        return list(words)
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(len(w) - 1)
    op = rng.choice(("delete", "swap", "replace"))
    if op == "delete":
        w = w[:j] + w[j + 1 :]
    elif op == "swap":
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    else:
        w = w[:j] + rng.choice([c for c in _LETTERS if c != w[j]]) + w[j + 1 :]
    return words[:i] + [w] + words[i + 1 :]


def query_forms(words: list[str], rng: random.Random) -> dict[str, str]:
    shuffled = list(words)
    for _ in range(5):
        rng.shuffle(shuffled)
        if shuffled != words:
            break
    return {
        "as_written": " ".join(words),
        "unaccented": " ".join(fold(w) for w in words),
        "tone_swapped": " ".join(new_style(w) for w in words),
        "typo": " ".join(typo(words, rng)),
        "shuffled": " ".join(shuffled),
    }


def build_items(records: list[dict], count: int, seed: int = 7) -> list[Item]:
    """Body and title known items for *count* sampled records."""
    from bench.engines import split_article

    df, n = document_frequencies(r["text"] for r in records)
    rng = random.Random(seed)
    sample = rng.sample(records, min(count, len(records)))
    items = []
    for rec in sample:
        title, body = split_article(rec["text"])
        body_words = surface_words(body)
        if len(body_words) >= 6:
            items.append(Item(rec["id"], distinctive_span(body_words, df, n, rng), "body"))
        title_words = surface_words(title)
        if len(title_words) >= 3:
            items.append(Item(rec["id"], distinctive_span(title_words, df, n, rng), "title"))
    count_shared(items, records)
    return items


def count_shared(items: list[Item], records: list[dict]) -> None:
    """Set each item's ``shared``: how many articles hold its span, as written, in
    the same part (title or body) — the item's own article among them."""
    from bench.engines import split_article

    wanted = {w for item in items for w in item.words}
    texts: list[dict[str, str]] = []
    holding: dict[str, set[int]] = {}
    for i, rec in enumerate(records):
        title, body = split_article(rec["text"])
        parts = {"title": title, "body": body}
        texts.append({k: " " + " ".join(surface_words(v)) + " " for k, v in parts.items()})
        for w in wanted.intersection(texts[-1]["title"].split() + texts[-1]["body"].split()):
            holding.setdefault(w, set()).add(i)
    for item in items:
        span = " " + " ".join(item.words) + " "
        candidates = set.intersection(*(holding.get(w, set()) for w in item.words))
        item.shared = max(1, sum(span in texts[i][item.part] for i in candidates))


def ceiling(items: list[Item]) -> float:
    """The best expected MRR@10 on *items* for a ranker that sees only the query:
    the source article drawn at random among the *shared* articles holding its
    span in the same part (``H(k)/k``, or ``H(10)/k`` past the tenth)."""
    def best(k: int) -> float:
        return sum(1 / r for r in range(1, min(k, 10) + 1)) / k
    return round(sum(best(item.shared) for item in items) / len(items), 4) if items else 0.0


#: The two fixed halves of the items: tune ranking on one, report on the other.
HALVES = ("tune", "report")


def half_of(doc_id: str) -> str:
    """The half an item belongs to, by a stable hash of its article's id (the same
    article is in the same half in every run and at every archive size)."""
    return HALVES[hashlib.blake2b(doc_id.encode("utf-8"), digest_size=1).digest()[0] % 2]


def evaluate(engine, items: list[Item], seed: int = 11) -> dict:
    """MRR@10 and recall@10 per query form for one engine, over all items and (as
    ``mrr10_tune`` / ``mrr10_report``) over each half: ranking changes are tuned on
    the tune half and quoted on the report half."""
    rng = random.Random(seed)
    ranks: dict[str, list[int | None]] = {f: [] for f in FORMS}
    changed = 0
    for item in items:
        forms = query_forms(item.words, rng)
        changed += forms["tone_swapped"] != forms["as_written"]
        for form, query in forms.items():
            ids = engine.search(query, snippets=False)
            ranks[form].append(ids.index(item.doc_id) + 1 if item.doc_id in ids else None)
    halves = [half_of(item.doc_id) for item in items]
    distinct = [item.shared == 1 for item in items]
    out = {}
    for form, rs in ranks.items():
        found = [r for r in rs if r]
        out[form] = {
            "mrr10": round(sum(1 / r for r in found) / len(rs), 4) if rs else 0.0,
            "recall10": round(len(found) / len(rs), 4) if rs else 0.0,
        }
        out[form]["mrr10_distinct"] = _mrr(rs, distinct)
        for half in HALVES:
            in_half = [h == half for h in halves]
            out[form][f"mrr10_{half}"] = _mrr(rs, in_half)
            out[form][f"mrr10_distinct_{half}"] = _mrr(
                rs, [a and b for a, b in zip(in_half, distinct, strict=True)])
    out["_items"] = len(items)
    out["_distinct"] = sum(distinct)
    out["_ceiling"] = ceiling(items)
    out["_tone_swapped_changed"] = changed
    return out


def _mrr(ranks: list[int | None], chosen: list[bool]) -> float:
    """MRR@10 over the ranks whose item is *chosen* (0.0 for none)."""
    part = [r for r, c in zip(ranks, chosen, strict=True) if c]
    return round(sum(1 / r for r in part if r) / len(part), 4) if part else 0.0
