"""Abbreviations: the shipped table, the query rewrite, and searches in either form."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import abbrev, store, syntax
from search.errors import QueryError
from search.query import run


def expand(text: str) -> object:
    """The query the parser reads from *text*, abbreviations expanded."""
    return syntax.parser().parse(text)


def written(text: str) -> object:
    """The query *text* spells out as written (no expansion): what :func:`expand`
    must equal."""
    return syntax.parser(abbreviations=False).parse(text)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("UBND quận", '(ubnd OR "ủy ban nhân dân") quận'),
        ("uy ban nhan dan", '(ubnd OR "ủy ban nhân dân")'),
        ("HĐND", '(hđnd OR "hội đồng nhân dân")'),
        ("MTTQ", '(mttq OR "mặt trận tổ quốc")'),
        ("TP.HCM", '("tp hcm" OR tphcm OR "tp hồ chí minh" OR "thành phố hồ chí minh")'),
        ("tphcm", '("tp hcm" OR tphcm OR "tp hồ chí minh" OR "thành phố hồ chí minh")'),
        ("Thành phố Hồ Chí Minh", '("tp hcm" OR tphcm OR "tp hồ chí minh" OR "thành phố hồ chí minh")'),
        ("thành phố", '(tp OR "thành phố")'),  # the longest form wins above, this one here
        ("TUV", '(tuv OR "thành ủy viên" OR "tỉnh ủy viên")'),  # two meanings
        ("Thành ủy viên", '(tuv OR "thành ủy viên")'),
        ("KT-XH", '("kt xh" OR "kinh tế xã hội")'),
        # Left alone: phrases, fielded and excluded words, patterns, plain words.
        ('"UBND quận"', '"UBND quận"'),
        ("source:UBND", "source:UBND"),
        ("-UBND", "-UBND"),
        ("UBND*", "UBND*"),
        ("quận ủy", "quận ủy"),
    ],
)
def test_expand(query, expected) -> None:
    assert expand(query) == written(expected)


def test_words_must_be_adjacent(seed_index) -> None:
    assert expand("ủy ban, nhân dân") == written("ủy ban, nhân dân")
    assert expand("TP. HCM") != written("TP. HCM")  # "TP. HCM" is still one name


def search_total(index_dir: Path, text: str) -> set[str]:
    with store.open_index(index_dir).searcher() as s:
        return {h.id for h in run(s, text, limit=100, exact=True, suggest=False).hits}


@pytest.mark.parametrize(
    ("short", "full"),
    [("UBND", "Ủy ban nhân dân"), ("HĐND", "Hội đồng nhân dân"),
     ("MTTQ", "Mặt trận Tổ quốc"), ("TP.HCM", "Thành phố Hồ Chí Minh"),
     ("TPHCM", "thanh pho ho chi minh")],
)
def test_either_form_finds_both_on_vntc(vntc_index, short, full) -> None:
    with store.open_index(vntc_index).searcher() as s:
        only_short = run(s, f'"{short}"', limit=100, exact=True, suggest=False).total
        only_full = run(s, f'"{full}"', limit=100, exact=True, suggest=False).total
        both = run(s, short, limit=100, exact=True, suggest=False).total
        assert run(s, full, limit=100, exact=True, suggest=False).total == both
    # The real archive writes both forms, and a query in either finds more than each.
    assert only_short and only_full and both > max(only_short, only_full)


def test_seed_abbreviations_found_by_full_form(seed_index) -> None:
    assert search_total(seed_index, "Mặt trận Tổ quốc") == search_total(seed_index, "MTTQ")
    assert search_total(seed_index, "MTTQ")
    assert search_total(seed_index, "Ban Thường vụ") >= search_total(seed_index, '"ban thuong vu"')
    assert "002_7f5c0ff51dbfc99e.txt" in search_total(seed_index, "Ban Thường vụ")  # says BTV


def test_edited_file_is_used(tmp_path, monkeypatch) -> None:
    table = tmp_path / "abbr.txt"
    table.write_text("# mine\nBCĐ = Ban Chỉ đạo\n", encoding="utf-8")
    monkeypatch.setenv(abbrev.ENV_VAR, str(table))
    assert expand("BCĐ") == written('(bcđ OR "ban chỉ đạo")')
    assert expand("UBND") == written("UBND")  # the shipped table is replaced
    table.write_text("BCĐ = Ban Chỉ đạo = BCD\n", encoding="utf-8")  # edits apply at once
    assert expand("ban chi dao") == written('(bcđ OR "ban chỉ đạo" OR bcd)')


@pytest.mark.parametrize(
    ("content", "message"),
    [("UBND\n", "abbr.txt:1: a group needs two or more forms"),
     ("ok = fine\n = \n", "abbr.txt:2"),
     ("UBND = ...\n", "form '...' has no words")],
)
def test_bad_file_is_reported_with_file_and_line(tmp_path, monkeypatch, content, message) -> None:
    table = tmp_path / "abbr.txt"
    table.write_text(content, encoding="utf-8")
    monkeypatch.setenv(abbrev.ENV_VAR, str(table))
    with pytest.raises(abbrev.AbbreviationError, match=message.replace(".", r"\.")):
        abbrev.table()


def test_missing_file_is_a_query_error(seed_index, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(abbrev.ENV_VAR, str(tmp_path / "nope.txt"))
    with store.open_index(seed_index).searcher() as s, pytest.raises(QueryError, match="nope.txt"):
        run(s, "UBND")
