"""Articles into the cluster: rows from real samples, incremental runs, deletions,
replica repair, and a replica killed while batches are written.

Rows are checked without searchd (against the local analysis and the local
index's article JSON); the rest runs on one real 2 shards x 2 replicas cluster
(Debian's sphinxsearch, started with ``daemons.up``, stopped after the module),
skipped with the reason when searchd or the shared corpora are absent. Each test
indexes its own archive (ids prefixed by the test), so deletion scopes keep the
tests apart on the one cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from search import documents, lexicon
from search.archive import Record, read_file
from search.indexer import index_paths as local_index_paths
from search.lock import IndexBusy
from search.normalize import fold, nfc, terms
from search.results import article_json, get_article
from search.schema import MATCH_FIELD
from search.sphinx import daemons, ingest, rows, vocabulary, writer_lock
from search.sphinx.replicas import ShardDown
from search.sphinx.rtindex import META_INDEX, SHARD_INDEX
from search.sphinx.topology import Daemon, Topology, connect, document_id, shard_of
from search.sphinx.topology import daemons as daemons_of
from search.store import open_index
from tests.cluster_checks import sigkill
from tests.conftest import VNTC_SCAN, vntc_records

# --------------------------------------------------------------------------- rows


def _records(root: Path) -> list[Record]:
    found = []
    for file in sorted(root.rglob("*.txt")):
        found += [r for r in read_file(file, root) if isinstance(r, Record)]
    return found


@pytest.fixture(scope="module")
def utf16_subset(utf16_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 raw UTF-16 files plus every NFD one of the sample, copied to their own root."""
    target = tmp_path_factory.mktemp("utf16-subset")
    files = sorted(utf16_sample.rglob("*.txt"))
    for n, file in enumerate(files):
        nfd = unicodedata.normalize("NFC", file.read_bytes().decode("utf-16")) != \
            file.read_bytes().decode("utf-16")
        if n < 40 or nfd:
            dest = target / file.relative_to(utf16_sample)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, dest)
    return target


def test_rows_hold_the_local_analysis_aligned(utf16_subset: Path) -> None:
    records = _records(utf16_subset)
    assert len(records) > 40  # the NFD ones too
    nfd = 0
    for record in records:
        nfd += nfc(record.text) != record.text
        article = documents.analyse(record)
        row = rows.to_row(record, str(utf16_subset), article)
        value = dict(zip(rows.COLUMNS, row.values, strict=True))
        for part, text in (("title", article.title), ("body", article.body)):
            folded = str(value[part]).split()
            exact = str(value[f"{part}_exact"]).split()
            assert len(folded) == len(exact)  # position-aligned
            assert [fold(e) for e in exact if e != rows.GAP] == \
                [f for f in folded if f != rows.GAP]
            assert exact == [unicodedata.normalize("NFC", e) for e in exact]
            assert sorted(e for e in exact if e != rows.GAP) == sorted(terms(text))
        assert value["id"] == document_id(record.id)
        assert value["content_hash"] == record.hash
    assert nfd >= 1


def test_stored_article_is_the_local_article_json(utf16_subset: Path, tmp_path: Path) -> None:
    local_index_paths(tmp_path / "ix", [utf16_subset])
    with open_index(tmp_path / "ix").searcher() as searcher:
        for record in _records(utf16_subset)[:15]:
            row = rows.to_row(record, str(utf16_subset.resolve()), documents.analyse(record))
            stored = dict(zip(rows.COLUMNS, row.values, strict=True))["stored"]
            local = get_article(searcher, record.id)
            assert local is not None
            assert article_json(rows.article(stored)) == article_json(local)


def test_article_without_place_date_or_author(tmp_path: Path) -> None:
    archive = tmp_path / "bare.jsonl"
    archive.write_text(json.dumps({"id": "bare/1", "text": "Bài viết kiểm thử\nKhông có gì "
                                   "ngoài chữ và chữ."}, ensure_ascii=False) + "\n",
                       encoding="utf-8")
    (record,) = [r for r in read_file(archive, tmp_path) if isinstance(r, Record)]
    row = rows.to_row(record, str(archive), documents.analyse(record))
    value = dict(zip(rows.COLUMNS, row.values, strict=True))
    assert (value["date"], value["year"], value["author"], value["source"]) == (0, 0, "", "")
    assert value["places"] == [] and value["provinces"] == []
    assert value["title_exact"] == "bài viết kiểm thử"
    stored = rows.article(value["stored"])
    assert stored["date"] is None and stored["author"] is None and stored["places"] == []


def test_words_outside_the_charset_stay_one_token() -> None:
    tokens = rows.tokens_of("Giá vàng 中国 tăng ½")
    folded, exact = tokens.folded.split(), tokens.exact.split()
    assert len(folded) == len(exact) == 5
    assert exact[:2] == ["giá", "vàng"] and exact[2] == "_4e2d__56fd_"
    assert folded[2] == "zhongguo" and tokens.words[("vang", "vàng")] == 1
    assert rows.cluster_word("đà") == "đà"


def test_glued_words_keep_their_parts_in_place_and_their_wholes_at_the_end() -> None:
    tokens = rows.tokens_of("Trường TUYểN sinh NamTừ nay")
    assert tokens.exact == "trường tu yể n sinh nam từ nay _ tuyển _ namtừ"
    assert tokens.folded == "truong tu ye n sinh nam tu nay _ tuyen _ namtu"
    assert tokens.words[("tuyen", "tuyển")] == 1 and tokens.words[("tu", "từ")] == 1


def test_duplicate_texts_get_their_own_rows(tmp_path: Path) -> None:
    """VNTC holds thousands of exact duplicate texts under different ids: each is an
    article of its own, with the same fields."""
    first: dict[str, str] = {}
    pair: list[str] = []
    for line in vntc_records(VNTC_SCAN):
        text = json.loads(line)["text"]
        if text in first:
            pair = [first[text], line]
            break
        first[text] = line
    assert pair, f"no duplicate in the first {VNTC_SCAN:,} VNTC articles"
    archive = tmp_path / "dups.jsonl"
    archive.write_text("".join(pair), encoding="utf-8")
    a, b = [r for r in read_file(archive, tmp_path) if isinstance(r, Record)]
    row_a = rows.to_row(a, "r", documents.analyse(a))
    row_b = rows.to_row(b, "r", documents.analyse(b))
    assert a.id != b.id and row_a.id != row_b.id
    assert row_a.values[1:5] == row_b.values[1:5]  # the four token fields


# --------------------------------------------------------------------------- cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Topology]]:
    """2 shards x 2 replicas + a coordinator, shared by the module's tests."""
    if shutil.which(daemons.SEARCHD) is None:
        pytest.skip(f"{daemons.SEARCHD} (Debian's sphinxsearch) is not installed")
    directory = tmp_path_factory.mktemp("ingest-cluster")
    try:
        yield directory, daemons.up(directory, shards=2, replicas=2)
    finally:
        if (directory / daemons.CLUSTER_FILE).exists():
            daemons.down(directory)


def _vntc(path: Path, prefix: str, lines: list[str]) -> dict[str, str]:
    """Write VNTC *lines* as a JSONL archive with ids ``prefix/<id>``; id → text."""
    out = {}
    with path.open("w", encoding="utf-8") as fh:
        for line in lines:
            record = json.loads(line)
            record["id"] = f"{prefix}/{record['id']}"
            out[record["id"]] = record["text"]
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out


def _held(topology: Topology, prefix: str) -> list[dict[str, str]]:
    """Per replica (shard by shard), doc_id → content_hash of the articles whose id
    starts with *prefix* (empty for a replica that is down)."""
    out = []
    for shard in topology.shards:
        for node in shard.replicas:
            try:
                conn = connect(node)
            except ConnectionError:
                out.append({})
                continue
            try:
                with conn.cursor() as cur:
                    cur.execute(f"SELECT doc_id, content_hash FROM "
                                f"{SHARD_INDEX.format(shard=shard.number)} "
                                f"LIMIT 100000 OPTION max_matches=100000")
                    out.append({d: h for d, h in cur.fetchall() if d.startswith(prefix)})
            finally:
                conn.close()
    return out


def _check_complete(topology: Topology, prefix: str, ids: set[str]) -> None:
    """Every replica holds exactly its shard's share of *ids*, with the same hashes."""
    held = _held(topology, prefix)
    replicas = len(topology.shards[0].replicas)
    for shard in topology.shards:
        mine = {i for i in ids if shard_of(i, len(topology.shards)) == shard.number}
        copies = held[shard.number * replicas : (shard.number + 1) * replicas]
        assert all(set(c) == mine for c in copies), shard.number
        assert all(c == copies[0] for c in copies)


def _replica(topology: Topology, shard: int, replica: int) -> Daemon:
    return next(d for d in daemons_of(topology) if (d.shard, d.replica) == (shard, replica))


@pytest.mark.slow
def test_incremental_runs(cluster: tuple[Path, Topology], tmp_path: Path) -> None:
    _, topology = cluster
    lines = vntc_records(301)
    archive = tmp_path / "inc.jsonl"
    texts = _vntc(archive, "inc", lines[:300])
    first = ingest.index_paths(topology, [archive], procs=2)  # analysed by two workers
    assert (first.added, first.updated, first.removed, first.failed) == (300, 0, 0, [])
    _check_complete(topology, "inc", set(texts))
    again = ingest.index_paths(topology, [archive])
    assert (again.added, again.updated, again.removed, again.skipped) == (0, 0, 0, 300)

    records = [json.loads(line) for line in archive.read_text(encoding="utf-8").splitlines()]
    changed, gone = records[0]["id"], records[1]["id"]
    records[0]["text"] += "\nĐoạn thêm xtingestmoi."
    new = json.loads(lines[300]) | {"id": "inc/new"}
    records = [records[0], *records[2:], new]
    archive.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                       encoding="utf-8")
    third = ingest.index_paths(topology, [archive])
    assert (third.added, third.updated, third.removed, third.skipped) == (1, 1, 1, 298)
    assert third.documents >= 300
    ids = {r["id"] for r in records}
    _check_complete(topology, "inc", ids)
    assert gone not in ids and changed in ids
    assert vocabulary.load(topology).accent_forms("xtingestmoi") == [("xtingestmoi", 1)]

    records[0]["text"] = records[0]["text"].replace("xtingestmoi", "")
    archive.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                       encoding="utf-8")
    assert ingest.index_paths(topology, [archive]).updated == 1
    assert vocabulary.load(topology).frequency("xtingestmoi") == 0


def test_vocabulary_counts_the_words_written(cluster: tuple[Path, Topology],
                                             tmp_path: Path) -> None:
    _, topology = cluster
    before = vocabulary.load(topology)
    archive = tmp_path / "voc.json"
    archive.write_text(json.dumps([
        {"id": "voc/1", "title": "Đà Nẵng xtvocab", "body": "Đà Nẵng đã nắng xtvocab."},
        {"id": "voc/2", "title": "Da nang xtvocab", "body": "Trời đà nắng."},
    ], ensure_ascii=False), encoding="utf-8")
    ingest.index_paths(topology, [archive])
    after = vocabulary.load(topology)
    assert after.accent_forms("xtvocab") == [("xtvocab", 3)]
    gained = {form: n - dict(before.accent_forms("nang")).get(form, 0)
              for form, n in after.accent_forms("nang")}
    assert {k: v for k, v in gained.items() if v} == {"nắng": 2, "nẵng": 2, "nang": 1}
    assert after.total - before.total == 3 + 5 + 3 + 3  # total_words() is 1 when empty
    assert ("xtvocab", 3) in after.near_words("xtvocav")


def test_delete(cluster: tuple[Path, Topology], tmp_path: Path) -> None:
    _, topology = cluster
    archive = tmp_path / "del.jsonl"
    ids = sorted(_vntc(archive, "del", vntc_records(40)))
    ingest.index_paths(topology, [archive])
    assert ingest.delete(topology, [*ids[:3], "del/unknown"]) == 3
    _check_complete(topology, "del", set(ids[3:]))
    assert ingest.delete(topology, ids[:3]) == 0
    rerun = ingest.index_paths(topology, [archive])
    assert (rerun.added, rerun.skipped) == (3, 37)
    _check_complete(topology, "del", set(ids))


def test_deletions_reach_a_replica_that_was_down(cluster: tuple[Path, Topology],
                                                 tmp_path: Path) -> None:
    directory, topology = cluster
    archive = tmp_path / "deldown.jsonl"
    ids = sorted(_vntc(archive, "deldown", vntc_records(30)))
    ingest.index_paths(topology, [archive])
    doomed = [i for i in ids if shard_of(i, 2) == 0][:4]
    sigkill(directory, _replica(topology, 0, 0))
    assert ingest.delete(topology, doomed) == 4
    daemons.up(directory, shards=2, replicas=2)
    assert len(_held(topology, "deldown")[0]) > len(_held(topology, "deldown")[1])
    other = tmp_path / "other.jsonl"  # a run over another archive repairs the cluster
    _vntc(other, "deldown-other", vntc_records(2))
    ingest.index_paths(topology, [other])
    _check_complete(topology, "deldown/", set(ids) - set(doomed))


def test_a_replica_down_during_a_run_is_brought_back_in_line(
        cluster: tuple[Path, Topology], tmp_path: Path) -> None:
    directory, topology = cluster
    lines = vntc_records(260)
    archive = tmp_path / "rep.jsonl"
    _vntc(archive, "rep", lines[:200])
    ingest.index_paths(topology, [archive])
    victim = _replica(topology, 0, 1)
    sigkill(directory, victim)

    texts = _vntc(archive, "rep", lines[20:260])  # 20 gone, 60 new
    notices: list[str] = []
    summary = ingest.index_paths(topology, [archive], notice=notices.append)
    assert (summary.added, summary.removed, summary.failed) == (60, 20, [])
    assert any(victim.node.address in n and "is down" in n for n in notices)

    daemons.up(directory, shards=2, replicas=2)  # the victim comes back, stale
    stale = _held(topology, "rep")
    assert stale[1] != stale[0]
    notices.clear()
    healed = ingest.index_paths(topology, [archive], notice=notices.append)
    assert healed.changed == 0
    assert any("brought in line" in n for n in notices)
    _check_complete(topology, "rep", set(texts))


@pytest.mark.slow
def test_sigkill_of_a_replica_during_batches_loses_no_article(
        cluster: tuple[Path, Topology], tmp_path: Path) -> None:
    directory, topology = cluster
    archive = tmp_path / "kill.jsonl"
    texts = _vntc(archive, "kill", vntc_records(1200))
    victim = _replica(topology, 1, 0)
    killed = threading.Event()

    def kill_mid_run() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(_held(topology, "kill")[2]) >= 150:
                sigkill(directory, victim)
                killed.set()
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_mid_run)
    killer.start()
    notices: list[str] = []
    summary = ingest.index_paths(topology, [archive], notice=notices.append, procs=2)
    killer.join()
    assert killed.is_set()
    assert any(victim.node.address in n and "stopped answering" in n for n in notices)
    assert (summary.added, summary.failed) == (1200, [])
    survivor = _held(topology, "kill")[3]
    assert set(survivor) == {i for i in texts if shard_of(i, 2) == 1}

    daemons.up(directory, shards=2, replicas=2)
    healed = ingest.index_paths(topology, [archive])
    assert (healed.added, healed.skipped) == (0, 1200)
    _check_complete(topology, "kill", set(texts))


def test_one_run_at_a_time_and_a_dead_run_s_lock_is_cleared(
        cluster: tuple[Path, Topology], tmp_path: Path) -> None:
    _, topology = cluster
    archive = tmp_path / "lock.jsonl"
    _vntc(archive, "lock", vntc_records(3))
    conn = connect(topology.coordinator)
    try:
        with conn.cursor() as cur:
            for pid, fails in ((os.getppid(), True), (_dead_pid(), False)):
                holder = json.dumps({"host": socket.gethostname(), "pid": pid, "since": "x"})
                cur.execute(f"REPLACE INTO {META_INDEX} (id, name, key, value) VALUES "
                            f"({writer_lock.LOCK_ID}, 'writer', 'writer', '{holder}')")
                notices: list[str] = []
                if fails:
                    with pytest.raises(IndexBusy, match=f"pid {pid} on"):
                        ingest.index_paths(topology, [archive], notice=notices.append)
                    with pytest.raises(IndexBusy):
                        ingest.delete(topology, ["lock/x"])
                else:
                    assert ingest.index_paths(topology, [archive],
                                              notice=notices.append).added == 3
                    assert any(f"stale lock on the cluster at {topology.url}" in n
                               for n in notices)
        assert writer_lock.holder(conn) is None  # released by the run
    finally:
        conn.close()


def _dead_pid() -> int:
    """The pid of a process that has exited."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_shard_with_no_live_replica_fails_the_run_clearly(
        cluster: tuple[Path, Topology], tmp_path: Path) -> None:
    directory, topology = cluster
    archive = tmp_path / "down.jsonl"
    _vntc(archive, "down", vntc_records(20))
    for replica in range(2):
        sigkill(directory, _replica(topology, 1, replica))
    try:
        with pytest.raises(ShardDown, match="shard 1 has no live replica"):
            ingest.index_paths(topology, [archive], notice=lambda _m: None)
    finally:
        daemons.up(directory, shards=2, replicas=2)
    assert ingest.index_paths(topology, [archive]).added == 20


def test_rebuild_rewrites_its_archives_removes_the_rest_and_recounts_words(
        cluster: tuple[Path, Topology], tmp_path: Path) -> None:
    """A rebuild removes every other test's articles (each test indexes its own)."""
    _, topology = cluster
    archive = tmp_path / "reb.jsonl"
    texts = _vntc(archive, "reb", vntc_records(60))
    ingest.index_paths(topology, [archive])
    summary = ingest.index_paths(topology, [archive], rebuild=True)
    assert (summary.added, summary.skipped, summary.documents, summary.rebuilt) == \
        (60, 0, 60, True)
    assert summary.removed > 0  # the other tests' articles
    _check_complete(topology, "reb", set(texts))
    assert sum(len(h) for h in _held(topology, "")) == 60 * 2  # nothing else is left
    records = [r for r in read_file(archive, tmp_path) if isinstance(r, Record)]
    words = sum((rows.to_row(r, "", documents.analyse(r)).words for r in records),
                start=Counter[rows.WordForms]())
    assert vocabulary.load(topology).total_words() == sum(words.values())


@pytest.mark.slow
def test_the_vocabulary_is_the_local_lexicon(cluster: tuple[Path, Topology],
                                             tmp_path: Path) -> None:
    """Over the same articles, the cluster's words and accent counts are the local
    index's (:mod:`search.lexicon`), glued words' wholes included."""
    _, topology = cluster
    archive = tmp_path / "lex.jsonl"
    _vntc(archive, "lex", vntc_records(200))
    local_index_paths(tmp_path / "ix", [archive])
    ingest.index_paths(topology, [archive], rebuild=True)  # the cluster holds just these
    cluster_words = vocabulary.load(topology)
    with open_index(tmp_path / "ix").searcher() as searcher:
        reader = searcher.reader()
        local_words = {t.decode() if isinstance(t, bytes) else t
                       for t in reader.lexicon(MATCH_FIELD)}
        assert cluster_words.words == local_words
        differ = [(w, cluster_words.accent_forms(w), lexicon.accent_forms(reader, w))
                  for w in sorted(cluster_words.words)  # the same counts (ties in any order)
                  if dict(cluster_words.accent_forms(w)) != dict(lexicon.accent_forms(reader, w))]
    assert differ == []


@pytest.mark.slow
def test_big_articles_go_alone_and_too_big_ones_fail_alone(
        cluster: tuple[Path, Topology], tmp_path: Path) -> None:
    """searchd drops the connection on a statement over its packet size: a big
    article must not be taken for a dead replica."""
    _, topology = cluster
    root = tmp_path / "big"
    root.mkdir()
    (root / "big.txt").write_text("Bài lớn\n" + "chữ " * 250_000, encoding="utf-8")
    (root / "huge.txt").write_text("Bài quá lớn\n" + "chữ " * 900_000, encoding="utf-8")
    for n in range(5):
        (root / f"small{n}.txt").write_text(f"Bài nhỏ {n}\nVài chữ.", encoding="utf-8")
    notices: list[str] = []
    summary = ingest.index_paths(topology, [root], notice=notices.append)
    assert summary.added == 6 and notices == []
    (failure,) = summary.failed
    assert failure.path == "huge.txt" and "too large for the cluster" in failure.reason
    _check_complete(topology, "big.txt", {"big.txt"})
    _check_complete(topology, "small", {f"small{n}.txt" for n in range(5)})


def test_a_stored_article_with_a_raw_control_character_still_reads() -> None:
    """searchd once handed back a stored article with a control character unescaped
    (one of all 84k VNTC articles): it must still parse, the character kept."""
    value = b'{"id": "a/1", "title": "Tin\x07 nhanh", "date": "2017-01-02"}'
    article = rows.article(value)
    assert article["title"] == "Tin\x07 nhanh"
    assert article["date"] is not None and article["date"].year == 2017
