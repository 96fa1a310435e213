"""The bulk segment builder writes the segment Whoosh's own writer writes.

Same documents, two ways: Whoosh's ``SegmentWriter`` (``add_document`` per
article, the codec's per-posting writer) and :class:`SegmentBuilder` (whole
batches, whole posting lists). The segments must be the same bytes, file by file,
and answer every query alike: hits, order, scores, stored fields, facets, sorting,
before and after Whoosh merges them, on a multi-segment VNTC sample with
deletions. The indexer's runs through the builders (one and two processes) are
checked to give the same index as each other.
"""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import index
from whoosh import query as wq
from whoosh.codec.base import Segment
from whoosh.sorting import Count, FieldFacet
from whoosh.writing import IndexWriter

from search import store
from search.analysis import FOLDED
from search.bulk import grouped
from search.bulk.builder import SegmentBuilder
from search.codec.postings import BLOCK_POSTINGS
from search.codec.vncodec import VnCodec
from search.indexer import index_paths
from search.query import run
from search.schema import BODY, ID, MATCH_FIELD, TITLE, TITLE_FIELD, build_schema
from tests.conftest import shared_file, vntc_documents

VNTC_ARTICLES = 1500
BATCHES = 3


def appending(segment: Segment) -> Callable[[IndexWriter, list[Segment]], list[Segment]]:
    """A merge policy that keeps every segment and adds *segment* (no merging)."""
    return lambda writer, segments: [*segments, segment]


def build_with_whoosh(docs: list[dict], target: Path, batches: int) -> index.Index:
    """*batches* commits of Whoosh's writer (a segment each)."""
    target.mkdir()
    ix = index.create_in(target, build_schema())
    size = len(docs) // batches + 1
    for start in range(0, len(docs), size):
        with ix.writer(codec=VnCodec()) as writer:
            writer.merge = False
            for doc in docs[start:start + size]:
                writer.add_document(**doc)
    return ix


def build_with_builder(docs: list[dict], target: Path, batches: int) -> index.Index:
    """The same batches, each a builder's segment committed by Whoosh's writer."""
    target.mkdir()
    ix = index.create_in(target, build_schema())
    size = len(docs) // batches + 1
    for start in range(0, len(docs), size):
        builder = SegmentBuilder(ix.storage, ix.schema, indexname=ix.indexname,
                                 codec=VnCodec())
        for doc in docs[start:start + size]:
            builder.add_document(doc)
        writer = ix.writer(codec=VnCodec())
        writer.commit(mergetype=appending(builder.finish()))
    return ix


def delete_some(ix: index.Index, docs: list[dict]) -> None:
    with ix.writer(codec=VnCodec()) as writer:
        writer.merge = False
        for doc in docs[7::97]:
            writer.delete_by_term(ID, doc[ID])


def segment_files(ix: index.Index) -> list[dict[str, bytes]]:
    """Each segment's files (extension → bytes), read through Whoosh's public
    segment API."""
    out = []
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            segment = leaf.segment()
            files = segment.open_compound_file(ix.storage)
            out.append({name.split(".", 1)[1]: files.open_file(name).read()
                        for name in files.list()})
            files.close()
    return out


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A multi-segment VNTC sample with deletions, written both ways."""
    tmp = tmp_path_factory.mktemp("builder")
    docs = vntc_documents(tmp, VNTC_ARTICLES)
    whoosh_ix = build_with_whoosh(docs, tmp / "whoosh", BATCHES)
    built_ix = build_with_builder(docs, tmp / "built", BATCHES)
    for ix in (whoosh_ix, built_ix):
        delete_some(ix, docs)
    return {"whoosh": whoosh_ix, "built": built_ix, "docs": docs}


FACETS = {"place": FieldFacet("place_name", allow_overlap=True), "year": FieldFacet("year"),
          "source": FieldFacet("source_name")}


def folded(word: str) -> str:
    return next(t.text for t in FOLDED(word))


def whoosh_queries() -> list[tuple[wq.Query, dict]]:
    """Query shapes that run on Whoosh's own matchers, with their search() options."""
    def term(word: str, field: str = MATCH_FIELD, boost: float = 1.0) -> wq.Term:
        return wq.Term(field, folded(word), boost=boost)

    return [
        (term("chính"), {}),
        (term("bóng"), {"limit": None}),
        (wq.Or([term("vàng"), term("vàng", TITLE_FIELD, 2.0), wq.Term(BODY, "vàng", boost=1.5)]),
         {"limit": 50}),
        (wq.Term(TITLE, "hà"), {"limit": None}),
        (wq.Phrase(MATCH_FIELD, [folded(w) for w in "thành phố Hồ Chí Minh".split()]), {}),
        (wq.Prefix(MATCH_FIELD, "thi"), {}),
        (wq.DateRange("date", dt.datetime(2000, 1, 1), dt.datetime(2030, 1, 1)), {"limit": None}),
        (wq.NumericRange("word_count", 200, 400), {"limit": 30}),
        (term("bộ"), {"sortedby": "date", "reverse": True, "limit": 30}),
        (term("đồng"), {"groupedby": FACETS, "maptype": Count, "limit": 10}),
        (wq.Every(), {"groupedby": FACETS, "limit": 5}),
    ]


def answers(ix: index.Index) -> list:
    out = []
    with ix.searcher() as searcher:
        for q, options in whoosh_queries():
            results = searcher.search(q, **options)
            groups = ({name: results.groups(name) for name in FACETS}
                      if "groupedby" in options else None)
            out.append((repr(q), len(results), [(h.docnum, h.score) for h in results], groups,
                        [h.fields() for h in itertools.islice(results, 10)]))
        for text in ("hà nội", "kinh tế việt nam", '"uy ban nhan dan"', "bóng đá", "title:hà"):
            found = run(searcher, text, limit=30)
            out.append((text, found.total, [(h.id, h.score) for h in found.hits], None, []))
    return out


def assert_same_answers(a_ix: index.Index, b_ix: index.Index) -> None:
    for a, b in zip(answers(a_ix), answers(b_ix), strict=True):
        assert a[:2] == b[:2], a[0]
        assert [d for d, _ in a[2]] == [d for d, _ in b[2]], a[0]
        assert np.allclose([s or 0 for _, s in a[2]], [s or 0 for _, s in b[2]],
                           rtol=0, atol=1e-9), a[0]
        assert a[3:] == b[3:], a[0]
    assert all(n > 0 for _, n, *_ in answers(b_ix))


@pytest.mark.slow
def test_builder_segments_are_whoosh_writer_segments(twins: dict) -> None:
    whoosh_files, built_files = segment_files(twins["whoosh"]), segment_files(twins["built"])
    assert len(built_files) == len(whoosh_files) == BATCHES
    for a, b in zip(whoosh_files, built_files, strict=True):
        assert sorted(a) == sorted(b)
        for ext in a:
            assert a[ext] == b[ext], ext
    with twins["whoosh"].reader() as a, twins["built"].reader() as b:
        assert b.has_deletions() and b.doc_count() == a.doc_count()
        assert list(b.all_stored_fields()) == list(a.all_stored_fields())


@pytest.mark.slow
def test_builder_segments_answer_as_whoosh_writer_segments(twins: dict) -> None:
    assert_same_answers(twins["whoosh"], twins["built"])


@pytest.mark.slow
def test_merged_builder_segments_answer_alike(twins: dict) -> None:
    """Whoosh's merge reads builder segments as it reads its own."""
    for name in ("whoosh", "built"):
        twins[name].writer(codec=VnCodec()).commit(optimize=True)
    with twins["built"].reader() as reader:
        assert len(reader.leaf_readers()) == 1 and not reader.has_deletions()
    assert segment_files(twins["whoosh"]) == segment_files(twins["built"])
    assert_same_answers(twins["whoosh"], twins["built"])


WORDS = ["hà", "nội", "ha", "noi", "việt", "nam", "kinh", "tế", "đồng", "bóng", "đá", "1990",
         "tp", "hcm", "người", "dân", "ủy", "ban"]


@st.composite
def small_documents(draw: st.DrawFn) -> list[dict]:
    """Random short articles over a small vocabulary: common words make lists of
    several blocks, rare ones lists of one posting."""
    n = draw(st.integers(1, 2 * BLOCK_POSTINGS + 5))
    common = st.sampled_from(WORDS[:4])
    rare = st.sampled_from(WORDS)
    docs = []
    for k in range(n):
        words = draw(st.lists(st.one_of(common, rare), min_size=0, max_size=12))
        title = " ".join(draw(st.lists(rare, max_size=3)))
        body = " ".join(words)
        docs.append({ID: f"d{k}", "path": f"p{k}", "root": "r", "hash": f"h{k % 7}",
                     TITLE: title, TITLE_FIELD: title, BODY: body,
                     MATCH_FIELD: f"{title}\u2029{body}", "word_count": len(words)})
    return docs


@pytest.mark.slow
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(docs=small_documents())
def test_random_documents_make_the_same_segment(docs: list[dict], tmp_path_factory) -> None:
    tmp = tmp_path_factory.mktemp("random")
    a = build_with_whoosh(docs, tmp / "whoosh", 1)
    b = build_with_builder(docs, tmp / "built", 1)
    assert segment_files(a) == segment_files(b)


def test_remembered_short_terms_make_the_same_segment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Short field values' terms are remembered per value (ids never repeat, roots,
    years, dates, places do) and forgotten when a field holds too many: the segment
    stays Whoosh's either way."""
    monkeypatch.setattr(grouped, "SHORT_VALUES_REMEMBERED", 4)
    docs = [{ID: f"d{k}", "path": f"p{k}", "root": "r", "hash": f"h{k % 7}",
             TITLE: "Hà Nội", TITLE_FIELD: "Hà Nội", BODY: "kinh tế",
             MATCH_FIELD: "Hà Nội\u2029kinh tế", "word_count": k % 5,
             "date": dt.datetime(2020, 1, 1 + k % 3, 9, k % 2), "year": 2020 + k % 2,
             "place": "ha noi,ba dinh" if k % 2 else "da nang"}
            for k in range(40)]
    a = build_with_whoosh(docs, tmp_path / "whoosh", 1)
    b = build_with_builder(docs, tmp_path / "built", 1)
    assert segment_files(a) == segment_files(b)


@pytest.mark.slow
def test_one_and_two_builder_processes_index_alike(tmp_path: Path) -> None:
    """Two processes build two segments; the index answers as the one-process one."""
    archive = tmp_path / "vntc.jsonl"
    with gzip.open(shared_file("vntc.jsonl.gz"), "rt", encoding="utf-8") as fh:
        archive.write_text("".join(itertools.islice(fh, 600)), encoding="utf-8")
    for procs in (1, 2):
        assert index_paths(tmp_path / f"ix{procs}", [archive], procs=procs).added == 600
    hits = []
    for procs in (1, 2):
        with store.open_index(tmp_path / f"ix{procs}").searcher() as searcher:
            found = run(searcher, "kinh tế", limit=50)
            ranked = sorted((-round(h.score, 6), h.id) for h in found.hits)
            hits.append((found.total, ranked))
    assert hits[0] == hits[1] and hits[0][0] > 0
