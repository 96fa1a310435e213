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
    return items


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
    out = {}
    for form, rs in ranks.items():
        found = [r for r in rs if r]
        out[form] = {
            "mrr10": round(sum(1 / r for r in found) / len(rs), 4) if rs else 0.0,
            "recall10": round(len(found) / len(rs), 4) if rs else 0.0,
        }
        for half in HALVES:
            part = [r for r, h in zip(rs, halves, strict=True) if h == half]
            out[form][f"mrr10_{half}"] = (round(sum(1 / r for r in part if r) / len(part), 4)
                                          if part else 0.0)
    out["_items"] = len(items)
    out["_tone_swapped_changed"] = changed
    return out
