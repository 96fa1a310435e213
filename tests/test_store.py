"""Damaged and foreign index directories: one clear line with the --rebuild hint for
every command, a rebuild that recovers, and the user's own files never touched."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from search import store
from tests.conftest import CORPUS, SEED_IDS

READ_COMMANDS = [("search", "dang vien"), ("stats",), ("show", SEED_IDS[0]), ("suggest", "ba d")]


def damage(index_dir: Path, how: str) -> None:
    """Break a copy of an index the way a crash, a disk fault or a user might."""
    if how == "truncated toc":
        toc = next(index_dir.glob("_MAIN_*.toc"))
        toc.write_bytes(toc.read_bytes()[:60])
    elif how == "segment removed":
        next(index_dir.glob("MAIN_*.seg")).unlink()
    elif how == "toc removed":
        next(index_dir.glob("_MAIN_*.toc")).unlink()
    else:
        raise AssertionError(how)


@pytest.fixture
def broken(tmp_path: Path, seed_index: Path) -> Callable[[str], Path]:
    def make(how: str) -> Path:
        copy = tmp_path / how.replace(" ", "-")
        shutil.copytree(seed_index, copy)
        damage(copy, how)
        return copy

    return make


def one_error_line(result) -> str:
    assert "Traceback" not in result.output, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize("how", ["truncated toc", "segment removed", "toc removed"])
def test_a_damaged_index_gives_one_line_with_the_rebuild_hint(cli, broken, how) -> None:
    index_dir = broken(how)
    for args in [*READ_COMMANDS, ("index", CORPUS)]:
        result = cli(*args, "--index", index_dir)
        assert result.exit_code == 1, (args, result.output)
        line = one_error_line(result)
        assert "damaged" in line and f"vnsearch index --rebuild --index {index_dir}" in line, line


def test_a_missing_segment_is_found_when_the_index_is_opened(broken) -> None:
    """Whoosh would only notice when a searcher reads the segment; open_index looks."""
    with pytest.raises(store.IndexCorrupt, match=r"segment file MAIN_\w+\.seg is missing"):
        store.open_index(broken("segment removed"))


@pytest.mark.parametrize("how", ["truncated toc", "segment removed", "toc removed"])
def test_rebuild_recovers_a_damaged_index(cli, broken, how) -> None:
    index_dir = broken(how)
    result = cli("index", CORPUS, "--rebuild", "--index", index_dir, "--quiet")
    assert result.exit_code == 0, result.output
    stats = cli("stats", "--index", index_dir, "--json")
    assert '"documents": 5' in stats.stdout
    assert cli("search", "dang vien", "--index", index_dir).exit_code == 0
    assert not index_dir.with_name(index_dir.name + ".building").exists()


def foreign_dir(tmp_path: Path) -> Path:
    """Somebody's directory: files, a subdirectory, nothing of an index."""
    d = tmp_path / "photos"
    (d / "2023").mkdir(parents=True)
    (d / "notes.txt").write_text("do not lose me", encoding="utf-8")
    (d / "2023" / "img.jpg").write_bytes(b"\xff\xd8\xff")
    return d


def snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("rebuild", [False, True])
def test_a_foreign_directory_is_refused_and_kept(cli, tmp_path, rebuild) -> None:
    d = foreign_dir(tmp_path)
    before = snapshot(d)
    args = ("index", CORPUS, "--index", d) + (("--rebuild",) if rebuild else ())
    result = cli(*args)
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "is not a vnsearch index" in line and "notes.txt" in line
    assert snapshot(d) == before and sorted(p.name for p in d.iterdir()) == ["2023", "notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"]  # no lock, no staging left
    for args in READ_COMMANDS:
        line = one_error_line(cli(*args, "--index", d))
        assert "is not a vnsearch index" in line


def test_a_file_where_the_index_should_be(cli, tmp_path) -> None:
    f = tmp_path / "ix"
    f.write_bytes(b"")
    for args in [*READ_COMMANDS, ("index", CORPUS), ("index", CORPUS, "--rebuild")]:
        result = cli(*args, "--index", f)
        assert result.exit_code == 1, args
        assert "is a file, not an index directory" in one_error_line(result)
    assert f.is_file() and f.read_bytes() == b""


def test_rebuild_refuses_an_index_holding_a_subdirectory(cli, tmp_path, seed_index) -> None:
    """A rebuild swaps in a new directory; a subdirectory would have to be moved across,
    and a move cut short could lose it: refuse, and say what is in the way."""
    index_dir = tmp_path / "ix"
    shutil.copytree(seed_index, index_dir)
    (index_dir / "mine").mkdir()
    (index_dir / "mine" / "keep.txt").write_text("x", encoding="utf-8")
    result = cli("index", CORPUS, "--rebuild", "--index", index_dir)
    assert result.exit_code == 1 and "mine" in one_error_line(result)
    assert (index_dir / "mine" / "keep.txt").read_text(encoding="utf-8") == "x"
    assert cli("stats", "--index", index_dir).exit_code == 0


def test_a_readme_only_directory_takes_a_first_index(cli, tmp_path) -> None:
    """The repository's index/ holds a README.md: that is an empty index directory."""
    d = tmp_path / "index"
    d.mkdir()
    (d / "README.md").write_text("about this directory", encoding="utf-8")
    assert cli("index", CORPUS, "--index", d, "--quiet").exit_code == 0
    assert (d / "README.md").read_text(encoding="utf-8") == "about this directory"
    assert '"documents": 5' in cli("stats", "--index", d, "--json").stdout


def test_the_library_takes_paths_as_strings(tmp_path) -> None:
    """Paths given as strings work like Path objects (they once read as a damaged
    index: "'str' object has no attribute 'stat'"), and a missing index is named."""
    from search.engine import open_engine
    from search.indexer import index_paths

    where = str(tmp_path / "ix")
    assert index_paths(where, [str(CORPUS)]).added == len(SEED_IDS)
    assert store.open_index(where).doc_count() == len(SEED_IDS)
    assert open_engine(where).documents() == len(SEED_IDS)
    with pytest.raises(store.IndexMissing, match="no index at"):
        store.open_index(str(tmp_path / "nothing"))
