"""Index generations (:mod:`search.generations`): once an index is replaced, no cache
holds anything of the old one; the pool serves the new one; requests running across
a rebuild finish on the searcher they started with, and none is lost."""

from __future__ import annotations

import gc
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from whoosh.searching import Searcher

from search.complete import complete
from search.generations import Searchers, registry, stamp
from search.indexer import index_paths
from search.query import run
from tests.conftest import CORPUS, SEED_IDS, vntc_records

NEW_ARTICLE = "Tin mới zyxwvut\n\nNội dung zyxwvut ở quận Gò Vấp."


@pytest.fixture
def seeds(tmp_path: Path) -> tuple[Path, Path]:
    """A writable copy of the bundled corpus and an index of it."""
    archive = tmp_path / "archive"
    shutil.copytree(CORPUS, archive)
    index_dir = tmp_path / "ix"
    index_paths(index_dir, [archive])
    return archive, index_dir


def warm(searcher: Searcher) -> None:
    """Fill every per-generation cache: a search with a suggestion, one with typos
    (near words, word pairs), one with a date filter (a mask kept for the whole
    reader), one by date with facets (each segment's dates and groups), and
    completions of a place and a title."""
    assert run(searcher, "quan uy ba dinh").suggestion == "Quận ủy Ba Đình"
    assert run(searcher, "quan uy date:[2000 TO 2030]").total >= 2
    run(searcher, "quaanj uyr")
    assert run(searcher, "dang", sort="date", facets=True).facets
    assert complete(searcher, "ba d")[0].text == "Ba Đình"
    complete(searcher, "dang vi")


def nothing_held(searcher: Searcher, keep: Searcher | None = None) -> bool:
    return set(registry.held(searcher, keep).values()) == {0}


def test_a_rebuild_leaves_nothing_of_the_old_generation_in_any_cache(seeds) -> None:
    archive, index_dir = seeds
    (archive / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    index_paths(index_dir, [archive])  # a second segment
    arrays = registry.stats()["posting arrays"]
    pool = Searchers(index_dir)
    with pool.searcher() as old:
        assert len(old.leaf_searchers()) == 2
        warm(old)
    held = registry.held(old)
    assert held.keys() == registry.stats().keys() and all(held.values()), held
    (archive / SEED_IDS[0]).unlink()
    index_paths(index_dir, [archive], rebuild=True)
    with pool.searcher() as new:
        assert new is not old and new.doc_count() == len(SEED_IDS)
        warm(new)
    assert old.is_closed and nothing_held(old)  # the idle old searcher was retired
    assert all(registry.held(new).values())
    pool.close()
    assert new.is_closed and nothing_held(new)
    assert registry.stats()["posting arrays"] == arrays  # the whole reader's filter masks went too


def test_an_incremental_run_keeps_what_both_generations_read(seeds) -> None:
    archive, index_dir = seeds
    pool = Searchers(index_dir)
    with pool.searcher() as old:
        warm(old)
    (archive / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    index_paths(index_dir, [archive])  # a new segment beside the old one
    with pool.searcher() as new:
        assert run(new, "zyxwvut").total == 1
        warm(new)
    assert old.is_closed and nothing_held(old, keep=new)
    shared = registry.held(old)
    assert shared.pop("posting arrays") > 0  # the old segment's arrays: the new generation reads them
    assert set(shared.values()) == {0}  # per-reader values: the old reader is gone
    pool.close()


def test_a_request_running_across_a_rebuild_finishes_on_the_old_generation(seeds) -> None:
    archive, index_dir = seeds
    pool = Searchers(index_dir, size=2)
    with pool.searcher() as running:
        warm(running)
        (archive / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        index_paths(index_dir, [archive], rebuild=True)
        with pool.searcher() as new:
            assert new is not running and run(new, "zyxwvut").total == 1
        assert pool.generation is not None and pool.generation.stamp == stamp(index_dir)
        assert not running.is_closed
        assert run(running, "zyxwvut").total == 0  # still the old index, still readable
        assert run(running, "quan uy ba dinh").total - run(running, "quan uy ba dinh").missing_one == 2
    assert running.is_closed and nothing_held(running)  # retired as it came back
    with pool.searcher() as again:
        assert again is new  # the pool keeps the new generation's searcher
    pool.close()


def _vntc_archive(path: Path, n: int) -> None:
    path.write_text("".join(vntc_records(n)), encoding="utf-8")


@pytest.mark.slow
def test_concurrent_requests_across_a_rebuild_lose_none(tmp_path: Path) -> None:
    """Two threads take searchers without pause while a rebuild of real articles
    lands: every request answers, from the old index or the new one, and every
    searcher of the old one ends closed with nothing left in the caches."""
    archive = tmp_path / "vntc.jsonl"
    _vntc_archive(archive, 120)
    index_dir = tmp_path / "ix"
    index_paths(index_dir, [archive])
    pool = Searchers(index_dir, size=2)
    seen: list[tuple[Searcher, int, int]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def client() -> None:
        try:
            while not stop.is_set():
                with pool.searcher() as s:
                    found = run(s, "việt nam")
                    seen.append((s, s.doc_count(), found.total))
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(2)]
    for t in threads:
        t.start()
    _wait_for(lambda: len(seen) >= 10)
    _vntc_archive(archive, 150)
    index_paths(index_dir, [archive], rebuild=True)
    before = len(seen)
    _wait_for(lambda: sum(n == 150 for _, n, _ in seen[before:]) >= 10)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert {n for _, n, _ in seen} == {120, 150}
    assert all(total > 0 for _, _, total in seen)
    old = {id(s): s for s, n, _ in seen if n == 120}.values()
    assert old and all(s.is_closed and nothing_held(s) for s in old)
    pool.close()


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_cli_command_leaves_nothing_in_the_caches(cli, seeds) -> None:
    _, index_dir = seeds
    gc.collect()
    before = registry.stats()
    result = cli("search", "quan uy ba dinh", "--index", index_dir)
    assert result.exit_code == 0 and "Ba Đình" in result.output
    gc.collect()
    assert registry.stats() == before
