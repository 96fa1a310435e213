"""vnsearch's Whoosh codec: round trips, and Whoosh answering exactly as on W3.

* Property tests: random posting lists (empty, single, huge id gaps, many blocks,
  weights that are not the frequencies) round-trip through the integer packing and
  through the codec's postings writer, array methods and Whoosh matcher.
* Real archive: the seeds and 1,500 VNTC articles, written in 3 commits (several
  segments), with deletions, then optimized (a merge through the codec), once with
  Whoosh's W3 codec and once with :class:`VnCodec`: the same queries give the same
  hits, order and scores, the same stored fields, and the codec's arrays equal what
  Whoosh's matchers yield.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import index
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import TEXT
from whoosh.filedb.filestore import RamStorage
from whoosh.formats import Existence, Frequency, Positions
from whoosh.reading import TermNotFound
from whoosh.sorting import Count, FieldFacet
from whoosh.system import pack_uint

from search.analysis import FOLDED
from search.archive import Record, read_archive
from search.bulk.merging import merge_all
from search.codec import postings as codec_postings
from search.codec import version
from search.codec.packing import absolute_positions, pack_ints, position_gaps, unpack_ints
from search.codec.postings import (
    BLOCK_POSTINGS,
    EXISTENCE,
    PostingColumns,
    PostingList,
    SmallLists,
    VnLeafMatcher,
    VnPostingsWriter,
    VnTermInfo,
    format_kind,
)
from search.codec.terms import TERMS_REMEMBERED, VnFieldWriter
from search.codec.vncodec import VnCodec, segment_arrays
from search.documents import analyse, to_document
from search.schema import MATCH_FIELD, TITLE_FIELD, build_schema
from tests.conftest import CORPUS, vntc_documents

# --------------------------------------------------------------------------- properties

_MAX_ID = 2**32 - 2


@st.composite
def posting_lists(draw: st.DrawFn) -> tuple[list[int], list[list[int]], list[float]]:
    """Sorted unique document ids (dense or with huge gaps), each with sorted unique
    positions, and weights (usually the frequencies, sometimes boosted). Short lists
    are drawn value by value (so they shrink); long ones, spanning many blocks, come
    from a drawn seed."""
    spread = draw(st.sampled_from(["dense", "sparse", "huge"]))
    boost = draw(st.sampled_from([1.0, 1.0, 1.5, 0.3]))
    if draw(st.booleans()):
        count = draw(st.integers(0, 12))
        top = {"dense": 2 * count + 1, "sparse": 1000, "huge": _MAX_ID}[spread]
        ids = sorted(draw(st.sets(st.integers(0, top), min_size=count, max_size=count)))
        positions = [sorted(draw(st.sets(st.integers(0, 70_000), min_size=1, max_size=5)))
                     for _ in ids]
    else:
        rng = np.random.default_rng(draw(st.integers(0, 2**32)))
        count = int(rng.integers(1, 3000))
        top = {"dense": 2 * count, "sparse": 50 * count, "huge": _MAX_ID}[spread]
        ids = np.unique(rng.integers(0, top + 1, count)).tolist()
        positions = [np.unique(rng.integers(0, rng.choice([60, 70_000]), rng.integers(1, 9)))
                     .tolist() for _ in ids]
    return ids, positions, [len(p) * boost for p in positions]


@settings(deadline=None)  # a loaded machine overruns the default
@given(st.lists(st.integers(0, 2**63 - 1), max_size=300))
def test_packed_integers_round_trip(values: list[int]) -> None:
    packed = pack_ints(np.array(values, dtype=np.uint64).astype(np.int64))
    assert unpack_ints(packed, 0, len(values)).tolist() == values


@settings(deadline=None)  # a loaded machine overruns the default
@given(posting_lists())
def test_position_gaps_round_trip(postings: tuple) -> None:
    _, positions, _ = postings
    freqs = np.array([len(p) for p in positions], dtype=np.int64)
    flat = np.array(list(itertools.chain.from_iterable(positions)), dtype=np.int64)
    assert absolute_positions(position_gaps(flat, freqs), freqs).tolist() == flat.tolist()


@settings(deadline=None)  # a loaded machine overruns the default
@given(st.lists(st.lists(st.integers(0, 2**40), max_size=6, unique=True), max_size=40))
def test_position_gaps_round_trip_in_place_with_empty_documents(docs: list[list[int]]) -> None:
    positions = [sorted(p) for p in docs]  # some documents without positions
    freqs = np.array([len(p) for p in positions], dtype=np.int64)
    flat = np.array(list(itertools.chain.from_iterable(positions)), dtype=np.int64)
    pgaps = position_gaps(flat, freqs)
    assert absolute_positions(pgaps.copy(), freqs).tolist() == flat.tolist()
    assert absolute_positions(pgaps, freqs, in_place=True).tolist() == flat.tolist()


def _write_list(ids: list[int], values: list[bytes], weights: list[float],
                fmt) -> PostingList:
    storage = RamStorage()
    out = storage.create_file("p")
    writer = VnPostingsWriter(out)
    writer.start_postings(fmt, VnTermInfo())
    for doc, value, weight in zip(ids, values, weights, strict=True):
        writer.add_posting(doc, weight, value, 10)
    info = VnTermInfo.from_bytes(writer.finish_postings().to_bytes())
    out.close()
    return PostingList(storage.open_file("p"), info)


@settings(max_examples=60, deadline=None)
@given(posting_lists(), st.randoms(use_true_random=False))
def test_positions_round_trip_through_the_codec(postings: tuple, rnd) -> None:
    ids, positions, weights = postings
    fmt = Positions()
    stored = _write_list(ids, [fmt.encode(p) for p in positions], weights, fmt)
    got_ids, got_weights = stored.ids(), stored.weights()
    assert got_ids.tolist() == ids
    assert got_weights.tolist() == np.asarray(weights, dtype=np.float32).tolist()
    asked = sorted(rnd.sample(ids, min(len(ids), 40))) + [_MAX_ID + 1]
    found, starts, flat = stored.positions(np.array(asked, dtype=np.int64))
    by_id = dict(zip(ids, positions, strict=True))
    assert found.tolist() == asked[:-1]
    assert [flat[starts[i]:starts[i + 1]].tolist() for i in range(len(found))] == \
        [by_id[d] for d in asked[:-1]]
    whole_ids, whole_starts, whole = stored.positions(np.array(ids, dtype=np.int64))
    assert whole_ids.tolist() == ids  # the whole list, as the cache of lists reads it
    assert [whole[whole_starts[i]:whole_starts[i + 1]].tolist()
            for i in range(len(ids))] == positions
    matcher = VnLeafMatcher(stored, fmt)
    walked = []
    while matcher.is_active():
        walked.append((matcher.id(), matcher.weight(), matcher.value_as("positions"),
                       matcher.value()))
        matcher.next()
    assert walked == [(d, float(np.float32(w)), p, fmt.encode(p))
                      for d, w, p in zip(ids, weights, positions, strict=True)]


@settings(max_examples=30, deadline=None)
@given(posting_lists(), st.integers(0, _MAX_ID))
def test_matcher_skips_like_a_walk(postings: tuple, target: int) -> None:
    ids, positions, weights = postings
    fmt = Frequency()
    stored = _write_list(ids, [pack_uint(len(p)) for p in positions], weights, fmt)
    matcher = VnLeafMatcher(stored, fmt)
    if not ids:
        assert not matcher.is_active()
        return
    matcher.skip_to(target)
    rest = [d for d in ids if d >= target]
    assert (matcher.id() if matcher.is_active() else None) == (rest[0] if rest else None)
    if rest:
        assert matcher.value_as("frequency") == len(positions[ids.index(rest[0])])


@st.composite
def term_lists(draw: st.DrawFn) -> list[tuple[list[int], list[list[int]], list[int]]]:
    """Several terms' lists, mostly of one block: ids, positions (their count the
    frequency) and each document's length (zero too: a field without lengths)."""
    terms = []
    for _ in range(draw(st.integers(1, 6))):
        top = draw(st.sampled_from([300, 70_000, _MAX_ID]))
        most = draw(st.sampled_from([BLOCK_POSTINGS, BLOCK_POSTINGS, 3 * BLOCK_POSTINGS]))
        ids = sorted(draw(st.sets(st.integers(0, top), min_size=1, max_size=most)))
        freqs = draw(st.sampled_from(["one", "some"]))
        positions = [sorted(draw(st.sets(st.integers(0, draw(st.sampled_from([200, 70_000]))),
                                         min_size=1, max_size=1 if freqs == "one" else 4)))
                     for _ in ids]
        lengths = [draw(st.sampled_from([0, 1, 7, 300, 90_000, 200_000])) for _ in ids]
        terms.append((ids, positions, lengths))
    return terms


def _columns(ids: list[int], positions: list[list[int]], lengths: list[int],
             kind: int) -> PostingColumns:
    freqs = [len(p) if kind != EXISTENCE else 1 for p in positions]
    return PostingColumns(ids=ids, freqs=freqs, weights=[float(f) for f in freqs],
                          lengths=lengths, positions=[x for p in positions for x in p])


@settings(max_examples=80, deadline=None)
@given(term_lists(), st.sampled_from([Positions(), Frequency(), Existence()]))
def test_terms_written_at_once_are_written_one_by_one(terms: list, fmt) -> None:
    """The field writer's batch way (one-block lists encoded together) writes the
    term dictionary and postings its one-list way writes."""
    kind = format_kind(fmt)
    field = TEXT()
    field.format = fmt
    storage = RamStorage()
    files = []
    for at_once in (False, True):
        segment = VnCodec().new_segment(storage, "x")
        writer = VnFieldWriter(storage, segment)
        writer.start_field("f", field)
        btexts = [f"t{k:02d}".encode() for k in range(len(terms))]
        columns = [_columns(*term, kind) for term in terms]
        if at_once:
            small = [c for c in columns if len(c.ids) <= BLOCK_POSTINGS]
            writer.write_terms(btexts, SmallLists(
                counts=np.array([len(c.ids) for c in small], dtype=np.int64),
                **{name: np.array([x for c in small for x in getattr(c, name)], dtype=np.int64)
                   for name in ("ids", "freqs", "lengths", "positions")}),
                {k: c for k, c in enumerate(columns) if len(c.ids) > BLOCK_POSTINGS})
        else:
            for btext, c in zip(btexts, columns, strict=True):
                writer.write_list(btext, c)
        writer.finish_field()
        writer.close()
        files.append({name.split(".", 1)[1]: storage.open_file(name).read()
                      for name in segment.list_files(storage)})
    assert files[0] == files[1]


@settings(deadline=None)  # a loaded machine overruns the default
@given(st.lists(st.integers(0, 10**6), unique=True, max_size=400))
def test_existence_lists_round_trip(ids: list[int]) -> None:
    ids = sorted(ids)
    stored = _write_list(ids, [b""] * len(ids), [1.0] * len(ids), Existence())
    assert stored.ids().tolist() == ids
    assert stored.weights().tolist() == [1.0] * len(ids)


# --------------------------------------------------------------------------- real archive

VNTC_ARTICLES = 1500
COMMITS = 3


def _build(docs: list[dict], target: Path, codec) -> index.Index:
    """Several commits (so several segments), then deletions in a last one. The
    segments are left as separate files, so their sizes can be compared by kind (the
    merge later writes a compound file, the other way Whoosh stores a segment)."""
    target.mkdir()
    ix = index.create_in(target, build_schema())
    size = len(docs) // COMMITS + 1
    for start in range(0, len(docs), size):
        with ix.writer(codec=codec, compound=False) as writer:
            writer.merge = False
            for doc in docs[start:start + size]:
                writer.add_document(**doc)
    with ix.writer(codec=codec, compound=False) as writer:
        writer.merge = False
        for doc in docs[7::97]:
            writer.delete_by_term("id", doc["id"])
    return ix


#: File name endings of the stored fields, per codec.
STORED_FILES = ("._stored.col", ".vst", ".vsx")


def _size(path: Path, endings: tuple[str, ...] = ("",)) -> int:
    return sum(p.stat().st_size for p in path.iterdir() if p.name.endswith(endings))


@pytest.fixture(scope="module")
def twin_indexes(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The same documents written with W3 and with VnCodec (multi-segment)."""
    tmp = tmp_path_factory.mktemp("codec")
    docs = vntc_documents(tmp, VNTC_ARTICLES)
    w3 = _build(docs, tmp / "w3", W3Codec())
    vn = _build(docs, tmp / "vn", VnCodec())
    return {"w3": w3, "vn": vn, "sizes": (_size(tmp / "w3"), _size(tmp / "vn")),
            "stored": (_size(tmp / "w3", STORED_FILES), _size(tmp / "vn", STORED_FILES))}


#: Facets as vnsearch counts them (places overlap: an article names several).
FACETS = {"place": FieldFacet("place_name", allow_overlap=True), "year": FieldFacet("year"),
          "source": FieldFacet("source_name")}


def _folded(text: str) -> list[str]:
    return [t.text for t in FOLDED(text)]


def _queries() -> list[tuple[wq.Query, dict]]:
    """Real query shapes, each with the search() options it runs with."""
    def term(word: str, field: str = MATCH_FIELD, boost: float = 1.0) -> wq.Term:
        return wq.Term(field, _folded(word)[0], boost=boost)

    return [
        (term("chính"), {}),
        (term("bóng"), {"limit": None}),
        (wq.And([term("kinh"), term("tế")]), {}),
        (wq.Or([term("vàng"), term("vàng", TITLE_FIELD, 2.0), wq.Term("body", "vàng", boost=1.5)]),
         {"limit": 50}),
        (wq.Phrase(MATCH_FIELD, _folded("Hà Nội")), {"limit": None}),
        (wq.Phrase(MATCH_FIELD, _folded("thành phố Hồ Chí Minh")), {}),
        (wq.AndNot(term("công"), term("ty")), {}),
        (wq.Prefix(MATCH_FIELD, "thi"), {}),
        (wq.Wildcard(MATCH_FIELD, "ng*n"), {}),
        (wq.FuzzyTerm(MATCH_FIELD, "chinhs", maxdist=1), {}),
        (wq.DateRange("date", dt.datetime(2000, 1, 1), dt.datetime(2030, 1, 1)), {"limit": None}),
        (wq.NumericRange("word_count", 200, 400), {"limit": 30}),
        (term("bộ"), {"sortedby": "date", "reverse": True, "limit": 30}),
        (term("người"), {"sortedby": "word_count", "limit": 30}),
        (term("đồng"), {"groupedby": FACETS, "maptype": Count, "limit": 10}),
        (wq.Every(), {"groupedby": FACETS, "limit": 5}),
    ]


def _answers(ix: index.Index) -> list:
    out = []
    with ix.searcher() as searcher:
        for q, options in _queries():
            results = searcher.search(q, **options)
            hits = [(h.docnum, h.score) for h in results]
            groups = ({name: results.groups(name) for name in FACETS}
                      if "groupedby" in options else None)
            fields = [h.fields() for h in itertools.islice(results, 10)]
            out.append((repr(q), len(results), hits, groups, fields))
    return out


def _same_answers(ix_a: index.Index, ix_b: index.Index) -> None:
    for a, b in zip(_answers(ix_a), _answers(ix_b), strict=True):
        assert a[0] == b[0]
        assert a[1] == b[1], a[0]
        assert [d for d, _ in a[2]] == [d for d, _ in b[2]], a[0]
        assert np.allclose([s or 0 for _, s in a[2]], [s or 0 for _, s in b[2]],
                           rtol=0, atol=1e-9), a[0]
        assert a[3] == b[3], a[0]
        assert a[4] == b[4], a[0]


@pytest.mark.slow
def test_whoosh_answers_as_on_w3(twin_indexes: dict) -> None:
    w3, vn = twin_indexes["w3"], twin_indexes["vn"]
    with w3.reader() as a, vn.reader() as b:
        assert len(b.leaf_readers()) == len(a.leaf_readers()) > COMMITS - 1
        assert b.has_deletions() and b.doc_count() == a.doc_count()
        assert b.doc_count_all() == a.doc_count_all()
        assert [b.field_length(f) for f in (MATCH_FIELD, TITLE_FIELD)] == \
            [a.field_length(f) for f in (MATCH_FIELD, TITLE_FIELD)]
        assert list(itertools.islice(b.lexicon(MATCH_FIELD), 5000)) == \
            list(itertools.islice(a.lexicon(MATCH_FIELD), 5000))
        assert list(b.all_stored_fields()) == list(a.all_stored_fields())
    _same_answers(w3, vn)
    answers = _answers(vn)
    assert all(n > 0 for _, n, *_ in answers), [q for q, n, *_ in answers if not n]


@pytest.mark.slow
def test_arrays_equal_whoosh_matchers(twin_indexes: dict) -> None:
    with twin_indexes["vn"].reader() as reader, twin_indexes["w3"].reader() as w3:
        words = [t for _, t in w3.most_frequent_terms(MATCH_FIELD, 40)]
        words += [t for _, t in w3.most_frequent_terms(TITLE_FIELD, 10)]
        pairs = zip(reader.leaf_readers(), w3.leaf_readers(), strict=True)
        for (leaf, _), (w3_leaf, _) in pairs:
            arrays = segment_arrays(leaf)
            assert segment_arrays(w3_leaf) is None
            every = np.arange(leaf.doc_count_all())
            deleted = arrays.deleted_docs()
            assert deleted.tolist() == [d for d in every.tolist() if leaf.is_deleted(d)]
            for field in (MATCH_FIELD, TITLE_FIELD):
                lengths = [w3_leaf.doc_field_length(d, field) or 0 for d in every.tolist()]
                assert arrays.field_lengths(field).tolist() == lengths
            for word in words:
                field = MATCH_FIELD if (MATCH_FIELD, word) in w3_leaf else TITLE_FIELD
                if (field, word) not in w3_leaf:
                    continue
                ids, weights = arrays.postings_arrays(field, word)
                found, starts, flat = arrays.positions_arrays(field, word, every)
                assert found.tolist() == ids.tolist()
                poses = [flat[starts[i]:starts[i + 1]].tolist() for i in range(len(found))]
                # The arrays hold deleted documents too (as the stored lists do);
                # Whoosh's segment reader filters them out of its matchers.
                live = (~np.isin(ids, deleted)).tolist()
                expected = [(d, w, p) for d, w, p, keep in
                            zip(ids.tolist(), weights.tolist(), poses, live, strict=True) if keep]
                for source in (leaf, w3_leaf):
                    m = source.postings(field, word)
                    walked = []
                    while m.is_active():
                        walked.append((m.id(), m.weight(), m.value_as("positions")))
                        m.next()
                    assert walked == expected
            arrays.close()


@pytest.mark.slow
def test_merged_index_answers_as_on_w3(twin_indexes: dict) -> None:
    # ix.optimize() would open a writer with Whoosh's default codec: pass ours.
    for name, codec in (("w3", W3Codec()), ("vn", VnCodec())):
        twin_indexes[name].writer(codec=codec).commit(optimize=True)
    with twin_indexes["vn"].reader() as reader:
        assert reader.is_atomic() and not reader.has_deletions()
        assert isinstance(reader.codec(), VnCodec) and reader.segment().is_compound()
    _same_answers(twin_indexes["w3"], twin_indexes["vn"])


@pytest.mark.slow
def test_dictionary_lookups_remembered_answer_as_the_file(twin_indexes: dict) -> None:
    """A segment's terms reader remembers its recent lookups: asked again, and asked
    about terms it lacks, it answers what its hash file says, and the memo stays
    within :data:`TERMS_REMEMBERED`."""
    with twin_indexes["vn"].reader() as reader:
        for leaf, _ in reader.leaf_readers():
            arrays = segment_arrays(leaf)
            assert arrays is not None
            terms = arrays.terms
            words = list(itertools.islice(leaf.lexicon(MATCH_FIELD), 300))
            for _ in range(2):  # the second time from the memo
                for btext in words:
                    assert (MATCH_FIELD, btext) in terms
                    info = terms.term_info(MATCH_FIELD, btext)
                    assert info.doc_frequency() == terms.doc_frequency(MATCH_FIELD, btext)
                    assert info.weight() == terms.frequency(MATCH_FIELD, btext)
                    assert info.doc_frequency() == leaf.doc_frequency(MATCH_FIELD, btext)
            for _ in range(2):
                assert (MATCH_FIELD, b"khongcotu") not in terms
                assert ("no such field", words[0]) not in terms
                with pytest.raises(TermNotFound):
                    terms.term_info(MATCH_FIELD, b"khongcotu")
                with pytest.raises(KeyError):
                    terms.frequency(MATCH_FIELD, b"khongcotu")
                with pytest.raises(KeyError):
                    terms.doc_frequency(MATCH_FIELD, b"khongcotu")
            for n in range(TERMS_REMEMBERED + 10):
                terms.record(MATCH_FIELD, f"x{n}".encode())
            assert len(terms.recent) <= TERMS_REMEMBERED
            assert terms.record(MATCH_FIELD, words[0]) is not None
            arrays.close()


def test_index_and_stored_fields_smaller_than_w3(twin_indexes: dict) -> None:
    w3_bytes, vn_bytes = twin_indexes["sizes"]
    print(f"\nindex size: W3 {w3_bytes:,} bytes, VnCodec {vn_bytes:,} bytes "
          f"({vn_bytes / w3_bytes:.2f}×)")
    assert vn_bytes < w3_bytes
    w3_stored, vn_stored = twin_indexes["stored"]
    print(f"stored fields: W3 {w3_stored:,} bytes, VnCodec {vn_stored:,} bytes "
          f"({vn_stored / w3_stored:.2f}×)")
    assert 0 < vn_stored <= w3_stored


def test_other_format_version_says_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ix = index.create_in(tmp_path, build_schema())
    with ix.writer(codec=VnCodec()) as writer:
        writer.add_document(id="a", text_f="một hai ba", title_f="một")
    with ix.searcher() as searcher:
        assert searcher.search(wq.Term(MATCH_FIELD, "hai")).scored_length() == 1
    monkeypatch.setattr(version, "FORMAT_VERSION", version.FORMAT_VERSION + 1)
    with pytest.raises(version.FormatVersionError, match="vnsearch index --rebuild"):
        ix.searcher()


@pytest.mark.slow
def test_parallel_writer_writes_codec_segments(tmp_path: Path) -> None:
    """Whoosh's multiprocess writer passes the codec to its worker processes."""
    docs = vntc_documents(tmp_path, VNTC_ARTICLES)[:300]
    (tmp_path / "ix").mkdir()
    ix = index.create_in(tmp_path / "ix", build_schema())
    with ix.writer(procs=2, multisegment=True, batchsize=50, codec=VnCodec()) as writer:
        for doc in docs:
            writer.add_document(**doc)
    with ix.searcher() as searcher:
        leaves = searcher.reader().leaf_readers()
        assert len(leaves) == 2 and all(isinstance(r.codec(), VnCodec) for r, _ in leaves)
        hits = searcher.search(wq.Term(MATCH_FIELD, "nam"), limit=None)
        expected = {d["id"] for d in docs if "nam" in _folded(d["text_f"])}
        assert {h["id"] for h in hits} == expected


def test_merging_w3_segments_rewrites_them_with_the_codec(tmp_path: Path) -> None:
    """W3 segments merged through a VnCodec writer answer as the same segments merged
    through a W3 writer (Whoosh reads each segment with its own codec; a merge sums
    the quantised field lengths, so both differ a little from before the merge)."""
    docs = [to_document(r, str(CORPUS), analyse(r))
            for r in read_archive([CORPUS]) if isinstance(r, Record)]
    q = wq.Or([wq.Term(MATCH_FIELD, w) for w in _folded("quận Hà Nội đảng")])
    answers = []
    for name, codec in (("w3", W3Codec()), ("vn", VnCodec())):
        (tmp_path / name).mkdir()
        ix = index.create_in(tmp_path / name, build_schema())
        for doc in docs:
            with ix.writer(codec=W3Codec()) as writer:
                writer.merge = False
                writer.add_document(**doc)
        with ix.writer(codec=codec) as writer:
            writer.optimize = True
        with ix.searcher() as searcher:
            assert type(searcher.reader().codec()) is type(codec)
            answers.append([(h["id"], h.score) for h in searcher.search(q, limit=None)])
    w3, vn = answers
    assert [d for d, _ in vn] == [d for d, _ in w3] and len(w3) == len(docs)
    assert np.allclose([s for _, s in vn], [s for _, s in w3], rtol=0, atol=1e-9)


# --------------------------------------------------------------------------- format 3


def _positions_as_gaps(positions: np.ndarray, freqs: np.ndarray) -> tuple[int, bytes]:
    """How codec format 3 stored the positions of a list of several blocks: each
    document's first position, then gaps (and no flag saying so)."""
    return 0, pack_ints(position_gaps(positions, freqs))


@pytest.fixture(scope="module")
def format_3_and_4(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The same documents written as codec format 3 (positions as gaps) and as now."""
    tmp = tmp_path_factory.mktemp("format3")
    docs = vntc_documents(tmp, FORMAT_3_ARTICLES)
    with pytest.MonkeyPatch.context() as old:
        old.setattr(version, "FORMAT_VERSION", 3)
        old.setattr("search.codec.terms.FORMAT_VERSION", 3)
        old.setattr(codec_postings, "large_positions", _positions_as_gaps)
        v3 = _build(docs, tmp / "v3", VnCodec())
    return {"v3": v3, "v4": _build(docs, tmp / "v4", VnCodec())}


#: Enough articles for everyday words' lists to span several blocks.
FORMAT_3_ARTICLES = 600


def _big_lists(ix: index.Index) -> dict:
    """Positions of the words whose lists span several blocks, per segment."""
    out = {}
    with ix.reader() as reader:
        for n, (leaf, _) in enumerate(reader.leaf_readers()):
            arrays = segment_arrays(leaf)
            for btext in leaf.lexicon(MATCH_FIELD):
                if leaf.doc_frequency(MATCH_FIELD, btext) > BLOCK_POSTINGS:
                    docs = arrays.postings_arrays(MATCH_FIELD, btext)[0]
                    found, starts, flat = arrays.positions_arrays(MATCH_FIELD, btext, docs)
                    out[n, btext] = (found.tolist(), starts.tolist(), flat.tolist())
    return out


@pytest.mark.slow
def test_format_3_positions_still_read(format_3_and_4: dict) -> None:
    """An index whose lists keep positions as gaps reads the same positions, and
    answers the same, as one written now (which keeps them as they are)."""
    v3, v4 = format_3_and_4["v3"], format_3_and_4["v4"]
    with v3.reader() as reader:
        assert {leaf.codec().__class__ for leaf, _ in reader.leaf_readers()} == {VnCodec}
    old, new = _big_lists(v3), _big_lists(v4)
    assert len(new) > 50 and old == new
    _same_answers(v3, v4)


@pytest.mark.slow
def test_merging_format_3_segments_writes_positions_as_they_are(format_3_and_4: dict) -> None:
    """vnsearch's own merge reads format 3's gaps and writes the lists anew: the
    merged index answers as the same documents merged from format 4 segments."""
    for name in ("v3", "v4"):
        format_3_and_4[name].writer(codec=VnCodec()).commit(mergetype=merge_all())
    for name in ("v3", "v4"):
        with format_3_and_4[name].reader() as reader:
            assert reader.is_atomic()
    assert _big_lists(format_3_and_4["v3"]) == _big_lists(format_3_and_4["v4"])
    _same_answers(format_3_and_4["v3"], format_3_and_4["v4"])
