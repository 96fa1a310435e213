"""Building and updating the index from an archive.

Runs are incremental: every document carries the hash of the bytes it came from, so
an unchanged file is skipped, a changed one replaced, and a document whose file has
gone (under an archive root indexed in this run) is removed. ``rebuild=True`` starts
over in a staging directory and swaps the result in only after it has committed.

Safety: a file that cannot be read is reported and skipped; any other error cancels
the writer, which leaves the last committed index exactly as it was.

Speed: big runs use Whoosh's multiprocessing writer, so analysis runs on both cores
while this process reads files and extracts metadata.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from whoosh.index import Index, LockError

from search import pool as _pool  # noqa: F401 - faster posting-pool spills (see pool.py)
from search import store
from search.archive import Failure, Record, archive_root, read_file, walk
from search.extract import Article, extract
from search.normalize import nfc, place_key
from search.schema import match_text, pack_body

#: Above this many bytes of input, index with both cores.
PARALLEL_THRESHOLD_BYTES = 4 * 1024 * 1024
#: JSON record keys that become index fields rather than stored metadata.
EXTRACTED_KEYS = frozenset({"title", "date", "author", "source"})
#: Memory budget per Whoosh writer process, in MB.
WRITER_LIMIT_MB = 256


class IndexBusy(Exception):
    """Another process is writing to the index."""


@dataclass
class IndexSummary:
    """What an indexing run did: counts, failures with reasons, and timing."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    failed: list[Failure] = field(default_factory=list)
    documents: int = 0
    seconds: float = 0.0
    rebuilt: bool = False

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.removed

    def as_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "skipped": self.skipped,
            "failed": [{"path": f.path, "reason": f.reason} for f in self.failed],
            "documents": self.documents,
            "seconds": round(self.seconds, 3),
            "rebuilt": self.rebuilt,
        }


#: Called as ``progress(files_done, files_total, articles_seen, stage)``; the stage is
#: "indexing", then "committing" while Whoosh writes the new segments.
Progress = Callable[[int, int, int, str], None]


def to_document(record: Record, root: str, article: Article) -> dict:
    """The Whoosh fields of one article (fields with no value are left out)."""
    doc: dict = {
        "id": record.id,
        "path": record.path,
        "root": root,
        "hash": record.hash,
        "title": article.title,
        "title_f": article.title,
        "body": article.body,
        "body_z": pack_body(article.body, article.summary),
        "text_f": match_text(article.title, article.body),
        "word_count": article.word_count,
        "places": list(article.places),
    }
    if article.author:
        doc["author"] = doc["author_name"] = article.author
    if article.source:
        doc["source"] = doc["source_name"] = article.source
    if article.people:
        doc["people"] = ", ".join(article.people)
        doc["people_name"] = ",".join(p.replace(",", " ") for p in article.people)
    if article.places:
        doc["place"] = ",".join(place_key(p) for p in article.places)
        doc["place_name"] = ",".join(article.places)
    if article.provinces_2025:
        doc["province"] = ",".join(place_key(p) for p in article.provinces_2025)
    if article.date:
        doc["date"] = article.date
        doc["year"] = article.date.year
    meta = {k: v for k, v in record.fields.items() if k not in EXTRACTED_KEYS}
    meta["has_time"] = article.has_time
    if article.provinces_2025:
        meta["provinces_2025"] = list(article.provinces_2025)
    doc["meta"] = meta
    return doc


def article_fields(article: Article) -> dict:
    """Every extracted field of an article, JSON-ready (for ``vnsearch extract``)."""
    return {
        "title": article.title,
        "date": article.date.isoformat() if article.date else None,
        "has_time": article.has_time,
        "author": article.author,
        "source": article.source,
        "places": list(article.places),
        "provinces_2025": list(article.provinces_2025),
        "people": list(article.people),
        "summary": article.summary,
        "word_count": article.word_count,
        "body": article.body,
    }


def analyse(record: Record) -> Article:
    """Extract an article's metadata and clean text (NFC throughout)."""
    return extract(nfc(record.text), record.fields or None)


def existing_documents(ix: Index) -> dict[str, tuple[str, str]]:
    """``id → (hash, root)`` of every live document, read from columns (no bodies)."""
    out: dict[str, tuple[str, str]] = {}
    with ix.reader() as reader:
        if reader.doc_count() == 0:
            return out
        ids = reader.column_reader("id")
        hashes = reader.column_reader("hash")
        roots = reader.column_reader("root")
        for docnum in reader.all_doc_ids():
            out[ids[docnum]] = (hashes[docnum], roots[docnum])
    return out


def _input_bytes(files: Iterable[Path]) -> int:
    total = 0
    for f in files:
        try:
            total += f.stat().st_size
        except OSError:
            pass
    return total


def index_paths(
    index_dir: Path,
    paths: list[Path],
    rebuild: bool = False,
    progress: Progress | None = None,
    procs: int | None = None,
) -> IndexSummary:
    """Index (or re-index) the archives at *paths* into *index_dir*.

    *procs* forces the number of writer processes (default: 2 for big inputs, else 1).
    """
    started = time.perf_counter()
    summary = IndexSummary(rebuilt=rebuild)
    target = store.staging_dir(index_dir) if rebuild else index_dir
    if rebuild or not store.index_exists(index_dir):
        ix = store.create_index(target)
    else:
        ix = store.open_index(index_dir)
    previous = store.read_manifest(index_dir)

    roots = [archive_root(p) for p in paths]
    plan = [(root, list(walk(p))) for p, root in zip(paths, roots, strict=True)]
    all_files = [f for _, files in plan for f in files]
    existing = {} if rebuild else existing_documents(ix)
    if procs is None:
        procs = 2 if _input_bytes(all_files) > PARALLEL_THRESHOLD_BYTES else 1

    try:
        writer = (
            ix.writer(procs=procs, multisegment=True, limitmb=WRITER_LIMIT_MB)
            if procs > 1
            else ix.writer(limitmb=WRITER_LIMIT_MB)
        )
    except LockError as exc:
        raise IndexBusy(
            f"the index at '{index_dir}' is locked by another vnsearch run; wait for it to finish"
        ) from exc

    seen: set[str] = set()
    files_done = 0
    try:
        for root, files in plan:
            root_s = str(root)
            for file in files:
                for item in read_file(file, root):
                    _index_one(item, root_s, writer, existing, seen, summary)
                files_done += 1
                if progress:
                    articles = len(seen) + len(summary.failed)
                    progress(files_done, len(all_files), articles, "indexing")
        scoped = {str(r) for r in roots}
        for doc_id, (_, root) in existing.items():
            if root in scoped and doc_id not in seen:
                writer.delete_by_term("id", doc_id)
                summary.removed += 1
        if summary.changed:
            if progress:
                progress(files_done, len(all_files), len(seen) + len(summary.failed), "committing")
            writer.commit()
        else:
            writer.cancel()
    except BaseException:
        writer.cancel()
        if rebuild:
            import shutil

            shutil.rmtree(target, ignore_errors=True)
        raise

    with ix.reader() as reader:
        summary.documents = reader.doc_count()
    old_roots = [] if rebuild else previous.get("roots", [])
    store.write_manifest(target, old_roots + [str(r) for r in roots], summary.documents)
    if rebuild:
        store.swap_in(target, index_dir)
    summary.seconds = time.perf_counter() - started
    return summary


def _index_one(
    item: Record | Failure,
    root: str,
    writer,
    existing: dict[str, tuple[str, str]],
    seen: set[str],
    summary: IndexSummary,
) -> None:
    """Add, replace or skip one record; record a failure instead of raising."""
    if isinstance(item, Failure):
        # Keep whatever the index already holds for it: bad input never loses data.
        summary.failed.append(item)
        seen.add(item.path)
        return
    if item.id in seen:
        summary.failed.append(Failure(item.path, f"duplicate id '{item.id}' (kept the first)"))
        return
    seen.add(item.id)
    old = existing.get(item.id)
    if old is not None and old[0] == item.hash:
        summary.skipped += 1
        return
    try:
        article = analyse(item)
    except MemoryError:
        raise  # the machine's trouble, not this file's: stop and keep the old index
    except Exception as exc:  # a bug in extraction must not stop the run
        summary.failed.append(Failure(item.path, f"metadata extraction failed: {exc!r}"))
        return
    if old is not None:
        writer.delete_by_term("id", item.id)
        summary.updated += 1
    else:
        summary.added += 1
    writer.add_document(**to_document(item, root, article))
