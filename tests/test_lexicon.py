"""The index's vocabulary: accent spellings, near words, word pairs."""

from __future__ import annotations

import pytest

from search import lexicon, store
from search.normalize import fold, token_tuples


@pytest.fixture(scope="module")
def searcher(seed_index):
    with store.open_index(seed_index).searcher() as s:
        yield s


def test_accent_forms_count_every_spelling(searcher) -> None:
    forms = dict(lexicon.accent_forms(searcher.reader(), "dinh"))
    assert forms["đình"] >= 2  # Ba Đình, in titles and bodies
    assert all(fold(w) == "dinh" for w in forms)
    assert lexicon.accent_forms(searcher.reader(), "xyzzy") == []


def test_unaccented_spelling_is_what_remains(searcher) -> None:
    reader = searcher.reader()
    forms = dict(lexicon.accent_forms(reader, "ba"))
    assert sum(forms.values()) == lexicon.frequency(reader, "ba")
    assert forms.get("ba", 0) > 0  # "Ba Đình" is written without a mark on "Ba"


def test_accent_counts_add_up_over_segments_and_fields(segmented_index) -> None:
    """Each spelling's count is its title and body occurrences in every segment, as
    Whoosh's own term statistics give them."""
    with store.open_index(segmented_index).searcher() as s:
        reader = s.reader()
        assert len(s.leaf_searchers()) > 1
        for folded in ("viet", "nam", "dong", "cua", "nguoi", "thanh"):
            forms = lexicon.accent_forms(reader, folded)
            accented = [(w, n) for w, n in forms if w != folded]
            assert accented and all(fold(w) == folded for w, _ in accented)
            for word, n in accented:
                assert n == sum(int(reader.frequency(f, word)) for f in ("title", "body"))
            assert sum(n for _, n in forms) == lexicon.frequency(reader, folded)
            assert [n for _, n in forms] == sorted((n for _, n in forms), reverse=True)


def test_edits1() -> None:
    near = lexicon.edits1("hoa")
    assert {"hoat", "ho", "hao", "koa", "hoan"} <= near and "hoa" not in near
    assert len(lexicon.edits1("abcde")) == len(set(lexicon.edits1("abcde")))


def test_near_words_are_index_words(searcher) -> None:
    found = dict(lexicon.near_words(searcher.reader(), "nhiemm"))
    assert "nhiem" in found and found["nhiem"] == lexicon.frequency(searcher.reader(), "nhiem")
    assert all((lexicon.MATCH_FIELD, w) in searcher.reader() for w in found)


def test_pairs(searcher) -> None:
    assert lexicon.pair_count(searcher, ["ba", "dinh"]) >= 2
    assert lexicon.pair_count(searcher, ["dinh", "ba"]) < lexicon.pair_count(searcher, ["ba", "dinh"])
    spelled = lexicon.pair_surfaces(searcher, ["quan", "uy", "ba", "dinh"])
    assert spelled.most_common(1)[0][0] == ("Quận", "ủy", "Ba", "Đình")
    assert lexicon.pair_count(searcher, ["duc", "hoat"]) == 2
    assert lexicon.pair_seen(searcher, ["ba", "dinh"]) and not lexicon.pair_seen(searcher, ["dinh", "ba"])


def test_span_docs_counts_every_article_of_a_small_archive(searcher) -> None:
    found, scale = lexicon.span_docs(searcher, ["ba", "dinh"])
    assert scale == 1.0 and sum(times for _, _, times in found) == lexicon.pair_count(searcher, ["ba", "dinh"])
    assert lexicon.span_docs(searcher, ["xyzzy", "dinh"]) == ([], 1.0)


def test_span_docs_samples_evenly_and_scales(vntc_index) -> None:
    """Past the sample size, a spread of candidates stands for all of them: the
    estimate lands near the true count, and articles from late in the index are seen."""
    with store.open_index(vntc_index).searcher() as s:
        full, one = lexicon.span_docs(s, ["cho", "biet"], sample=100_000)
        part, scale = lexicon.span_docs(s, ["cho", "biet"], sample=300)
        assert one == 1.0 and scale > 2
        true = sum(t for _, _, t in full)
        assert abs(sum(t for _, _, t in part) * scale - true) < 0.25 * true
        for leaf, _ in s.leaf_searchers():  # every segment, to its end
            last = max(d for held, d, _ in full if held is leaf)
            assert max(d for held, d, _ in part if held is leaf) > 0.8 * last


def test_pair_surfaces_leave_out_sentence_starts(tmp_path) -> None:
    """A capital after a full stop is the sentence's: "ủy ban" mid-sentence wins."""
    from search.indexer import index_paths

    body = "Ủy ban họp sáng nay. " * 5 + "Hôm qua ủy ban đã họp. " * 2
    (tmp_path / "a.txt").write_text("Tin ngắn\n\n" + body, encoding="utf-8")
    index_paths(tmp_path / "ix", [tmp_path / "a.txt"])
    with store.open_index(tmp_path / "ix").searcher() as s:
        assert lexicon.pair_surfaces(s, ["uy", "ban"]) == {("ủy", "ban"): 2}


def test_text_spans_find_whole_words_in_a_row() -> None:
    inside, starting, around = lexicon.text_spans(
        "Đà Nẵng mưa lớn", "Bão vào Đà Nẵng. Đà Nẵng sơ tán; xđà Nẵng, đà nẵngx, đà - nẵng", ["da", "nang"])
    assert starting == {("Đà", "Nẵng"): 2}  # the title's start and after the full stop
    assert inside == {("Đà", "Nẵng"): 1, ("đà", "nẵng"): 1}  # not "xđà", not "nẵngx"
    assert around[(("Đà", "Nẵng"), -1, "vao")] == 1 and around[(("Đà", "Nẵng"), 1, "mua")] == 1


def test_text_spans_agree_with_the_tokenizer_on_real_articles() -> None:
    import json
    import unicodedata

    from tests.conftest import vntc_records

    for line in vntc_records(200):
        text = json.loads(line)["text"]
        if not unicodedata.is_normalized("NFC", text):
            continue  # read as None: offsets into a fold of NFD would not point into it
        title, _, body = text.partition("\n")
        toks = token_tuples(text)
        for a, b in list(zip(toks, toks[1:], strict=False))[:40:7]:
            glued = text[a[2] - 1 : a[2]].isalnum() or text[b[3] : b[3] + 1].isalnum()
            if glued or b[2] - a[3] > 3 or not (a[1].isalnum() and b[1].isalnum()):
                continue  # parts of a glued word ("TPHCm") are not words of their own here
            inside, starting, _ = lexicon.text_spans(title, body, [a[1], b[1]])
            found = inside + starting
            assert found[(text[a[2]:a[3]], text[b[2]:b[3]])] >= 1, (a, b)
            assert all(fold(" ".join(s)) == f"{a[1]} {b[1]}" for s in found)
