"""The real-time index every shard replica holds: its full-text fields and attributes.

One definition, rendered into every searchd configuration the cluster commands
write and filled by the cluster engine's ingestion, so the two never disagree.

Full-text fields hold tokens vnsearch produced (:mod:`search.analysis`), separated
by spaces and aligned by position: token *i* of ``title_exact`` is the exact
(canonical-accent, lower-case) form of token *i* of ``title``. searchd only splits
on spaces, so its charset table need not know Vietnamese beyond the letters the
exact forms use.
"""

from __future__ import annotations

#: The distributed index on the coordinator, and the shard replicas' local indexes.
DISTRIBUTED_INDEX = "vnsearch"
SHARD_INDEX = "vnsearch_shard{shard}"
#: A small real-time index on the coordinator holding cluster-wide state (the topology).
META_INDEX = "vnsearch_meta"

#: Full-text fields, in the order searchd numbers them.
FIELDS: tuple[str, ...] = ("title", "title_exact", "body", "body_exact")

#: Attributes: (name, searchd type). ``doc_id`` is vnsearch's article id (searchd's
#: own document id is a 63-bit hash of it); ``content_hash`` is what incremental runs
#: and replica repair compare; ``stored`` is the article JSON shown and highlighted.
#: Places and provinces are 63-bit hashes of their folded keys (searchd's
#: multi-value attributes hold integers), for ``place:`` filters and facets; the
#: names behind the hashes are in ``stored``.
ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("doc_id", "string"),
    ("content_hash", "string"),
    ("path", "string"),
    ("root", "string"),
    ("date", "timestamp"),
    ("year", "uint"),
    ("word_count", "uint"),
    ("author", "string"),
    ("source", "string"),
    ("places", "multi_64"),
    ("provinces", "multi_64"),
    ("stored", "json"),
)

#: Tokens are vnsearch's: ASCII letters and digits for folded words, plus the
#: Vietnamese letters of exact forms (Latin-1 Supplement, Latin Extended-A/B, and
#: Latin Extended Additional, where the tone-marked vowels live).
CHARSET_TABLE = "0..9, a..z, _, U+00E0..U+00FF, U+0100..U+024F, U+1EA0..U+1EFF"


def index_settings(path: str) -> list[str]:
    """The body of a shard's ``index {...}`` block, one setting per line."""
    lines = ["type = rt", f"path = {path}", f"charset_table = {CHARSET_TABLE}"]
    lines += [f"rt_field = {name}" for name in FIELDS]
    lines += [f"rt_attr_{kind} = {name}" for name, kind in ATTRIBUTES]
    return lines


def meta_index_settings(path: str) -> list[str]:
    """The body of the coordinator's :data:`META_INDEX` block: named JSON values by key.

    Row 1 (key ``topology``) is the cluster's topology (:mod:`search.sphinx.topology`).
    """
    return ["type = rt", f"path = {path}", "rt_field = name",
            "rt_attr_string = key", "rt_attr_json = value"]
