"""Whoosh's whoosh3 posting blocks decoded in bulk (:mod:`search.whoosh3_blocks`)
give back exactly what Whoosh's unpickler does."""

from __future__ import annotations

import pickle
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.formats import Positions

from search import store
from search.whoosh3_blocks import Gaps, ids_and_weights, raw_blocks


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 70_000),
                          st.lists(st.integers(1, 300), max_size=1200)),
                min_size=0, max_size=12))
def test_positions_read_without_unpickling_are_whooshs(lists) -> None:
    """Whoosh's own encoding of positions, decoded in bulk, gives them back.

    Each posting is a first position and gaps: small gaps pickle as ``K``, bigger
    as ``M`` or ``J``, 1,000+ positions in batches; all must come back the same.
    """
    fmt = Positions()
    positions = [[first + sum(gaps[:i]) for i in range(len(gaps) + 1)] for first, gaps in lists]
    values = [fmt.encode(p) for p in positions]
    gaps = Gaps()
    gaps.add(values)
    starts, flat = gaps.positions()
    got = [flat[starts[i]:starts[i + 1]].tolist() for i in range(len(values))]
    assert got == [fmt.decode_positions(v) for v in values]


def test_everyday_positions_skip_the_unpickler() -> None:
    fmt = Positions()
    gaps = Gaps()
    gaps.add([fmt.encode([3]), fmt.encode([5, 9, 200]), fmt.encode([400, 410, 415])])
    gaps.positions()
    assert gaps.other == 0  # a big absolute first position is read without the unpickler


def test_block_heads_decode_as_whoosh_does(segmented_index) -> None:
    """Ids and weights read from a block's head equal the whole block's unpickling."""
    fast = 0
    with store.open_index(segmented_index).searcher() as searcher:
        for leaf, _ in searcher.leaf_searchers():
            reader = leaf.reader()
            for fieldname in ("text_f", "title_f", "body"):
                for btext in list(reader.lexicon(fieldname))[::7]:
                    m = reader.postings(fieldname, btext)
                    m = getattr(m, "child", m)
                    if not isinstance(m, W3LeafMatcher):
                        continue
                    for block in raw_blocks(m):
                        data = block.data
                        whole = pickle.loads(zlib.decompress(data) if block.compressed else data)
                        head = ids_and_weights(data, block.compressed, block.length)
                        assert head[:2] == whole[:2]
                        fast += head[2] is None and whole[2] is not None
    assert fast > 100  # the values were skipped, not just read again


@pytest.mark.parametrize("block", [
    ((1, 2), None, (b"ab", b"cd")),  # three values or fewer pickle without a MARK
    ((1, 2, 3, 4), (1.0, 2.0, 1.0, 3.0), None),  # no values at all
    ((5, 1, 1, 1), None, (b"(c_codecs\nencode\n", b"x", b"y", b"z")),  # a value spelling the marker
])
def test_unusual_blocks_are_read_whole(block) -> None:
    data = pickle.dumps(block, 2)
    for compressed, raw in ((False, data), (True, zlib.compress(data))):
        got = ids_and_weights(raw, compressed, len(block[0]))
        assert got[:2] == block[:2]
