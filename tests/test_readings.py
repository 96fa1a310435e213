"""The probable accented readings of a query, weighed by the archive's own spellings."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import store
from search.readings import readings
from tests.test_spelling import build_decoy_index


@pytest.fixture(scope="module")
def decoy_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_decoy_index(tmp_path_factory.mktemp("decoy"))


def test_readings_weigh_the_archives_spellings(decoy_index) -> None:
    """Alone, "dinh" is mostly "đinh" here; next to "ba", the archive writes "Ba Đình"."""
    with store.open_index(decoy_index).searcher() as s:
        alone = readings(s, "dinh")
        assert alone[0].words == ("đinh",) and len(alone) <= 3
        assert abs(sum(r.probability for r in alone) - 1) < 1e-9
        assert [r.probability for r in alone] == sorted((r.probability for r in alone), reverse=True)
        pair = readings(s, "ba dinh", limit=5)
        assert pair[0].words == ("ba", "đình") and pair[0].probability > pair[1].probability
        assert ("bà", "đinh") in [r.words for r in pair]  # a rarer reading still counts
        assert readings(s, "Bà") == [readings(s, "Bà")[0]] and readings(s, "Bà")[0].words == ("bà",)
        assert readings(s, "bà dinh")[0].words[0] == "bà"  # typed accents stand
        assert readings(s, '"ba dinh"') == [] and readings(s, "") == []
