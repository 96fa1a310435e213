"""The engines compared by ``bench/run.py``, behind one small interface.

* ``vnsearch`` — this project, through its public library API, as a user gets it.
* ``vnsearch-exact`` — the same with ``exact=True, suggest=False``: no typo tolerance
  and no automatic correction, to measure what they add.
* ``fts5`` — SQLite FTS5 (stdlib), ``unicode61 remove_diacritics 2``, content stored,
  ``bm25()`` ranking with the title weighted 3× the body, ``snippet()`` for snippets.
  ``remove_diacritics`` strips marks but leaves ``đ`` (a letter of its own, not a
  ``d`` with a mark), so ``dang`` would never find ``Đảng``. A competent user folds
  it: ``đ``/``Đ`` become ``d``/``D`` in the title and body given to FTS5 and in every
  query (:func:`fold_d`). We fold in the stored columns rather than add a folded
  copy: one column pair keeps the index the size a user would have, and only the
  snippets (unused by the quality runs) show ``d`` for ``đ``.
* ``tantivy`` — Tantivy (PyPI ``tantivy``, benchmark extra), a simple tokenizer with
  lowercase + ASCII folding (which does fold ``đ``), BM25 over title and body with the
  title boosted 3×, ``SnippetGenerator``. Queries are parsed with
  ``conjunction_by_default=True``: every word must match, as in vnsearch and FTS5
  (Tantivy's default ORs the words, which ranks articles holding one word of three).

Every engine reads the same archive — JSONL (``id``, ``text``, ``source`` …) or a
directory of raw ``.txt`` files — through :func:`records`. The peers take the first
line of ``text`` as the title and the rest as the body, as a user loading VNTC into
them would; vnsearch applies its own extraction.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from search import store
from search.errors import QueryError
from search.filters import Filters
from search.generations import retire
from search.indexer import index_paths
from search.query import run


def split_article(text: str) -> tuple[str, str]:
    """``(title, body)`` of a raw article: first line, rest."""
    title, _, body = text.strip().partition("\n")
    return title.strip(), body.strip()


def records(archive: Path):
    """The archive's articles as dicts: JSONL lines, or every ``.txt`` file of a
    directory (``id`` = its relative path; undecodable bytes replaced)."""
    if archive.is_dir():
        for path in sorted(archive.rglob("*.txt")):
            text = path.read_bytes().decode("utf-8", errors="replace")
            yield {"id": path.relative_to(archive).as_posix(), "text": text}
        return
    with archive.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Vnsearch:
    name = "vnsearch"
    #: Query options: the defaults a user gets (typo tolerance, did you mean).
    options: dict = {}

    def __init__(self, workdir: Path):
        self.index_dir = workdir / "vnsearch"  # one index, whatever the query options
        self._searcher = None

    def build(self, archive: Path) -> dict:
        summary = index_paths(self.index_dir, [archive], rebuild=True)
        return {"documents": summary.documents, "failed": len(summary.failed)}

    def open(self) -> None:
        self._searcher = store.open_index(self.index_dir).searcher()

    def search(self, query: str, source: str | None = None, snippets: bool = True) -> list[str]:
        try:
            result = run(self._searcher, query, limit=10, filters=Filters(source=source),
                         with_snippets=snippets, **self.options)
        except QueryError:
            return []
        return [h.id for h in result.hits]

    def size(self) -> int:
        return dir_size(self.index_dir)

    def close(self) -> None:
        if self._searcher is not None:
            retire(self._searcher)  # as closing SQLite or Tantivy frees their caches


class VnsearchExact(Vnsearch):
    """vnsearch with ``--exact`` and no did-you-mean: the same index, the query
    intelligence off — to measure what typo tolerance and correction add."""

    name = "vnsearch-exact"
    options = {"exact": True, "suggest": False}
    #: Same index as ``vnsearch``: run.py reuses it rather than build it twice.
    shares_index_of = "vnsearch"


_FTS_TOKEN = re.compile(r"[^\W_]+")
_D_FOLD = str.maketrans("đĐ", "dD")


def fold_d(text: str) -> str:
    """``đ``/``Đ`` as ``d``/``D``: the one fold FTS5's ``remove_diacritics`` lacks."""
    return text.translate(_D_FOLD)


class Fts5:
    name = "fts5"

    def __init__(self, workdir: Path):
        self.path = workdir / "fts5.db"
        self._db: sqlite3.Connection | None = None

    def build(self, archive: Path) -> dict:
        self.path.unlink(missing_ok=True)
        db = sqlite3.connect(self.path)
        db.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, source UNINDEXED, title, body, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
        n = 0
        with db:
            for rec in records(archive):
                title, body = split_article(rec["text"])
                db.execute("INSERT INTO docs VALUES (?, ?, ?, ?)",
                           (rec["id"], rec.get("source", ""), fold_d(title), fold_d(body)))
                n += 1
        db.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        db.commit()
        db.close()
        return {"documents": n, "failed": 0}

    def open(self) -> None:
        self._db = sqlite3.connect(self.path)

    @staticmethod
    def to_fts(query: str) -> str:
        """Plain words (and "phrases") as FTS5 syntax, every token quoted, đ folded."""
        parts = []
        for phrase, word in re.findall(r'"([^"]*)"|(\S+)', fold_d(query)):
            tokens = _FTS_TOKEN.findall(phrase or word)
            if tokens:
                parts.append('"' + " ".join(tokens) + '"')
        return " ".join(parts)

    def search(self, query: str, source: str | None = None, snippets: bool = True) -> list[str]:
        match = self.to_fts(query)
        if not match:
            return []
        snip = "snippet(docs, 3, '<b>', '</b>', '…', 24)" if snippets else "''"
        sql = f"SELECT id, {snip} FROM docs WHERE docs MATCH ?"
        args: list = [match]
        if source:
            sql += " AND source = ?"
            args.append(source)
        sql += " ORDER BY bm25(docs, 0, 0, 3.0, 1.0) LIMIT 10"
        try:
            return [row[0] for row in self._db.execute(sql, args)]
        except sqlite3.OperationalError:
            return []

    def size(self) -> int:
        return self.path.stat().st_size

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


class Tantivy:
    name = "tantivy"

    def __init__(self, workdir: Path):
        self.index_dir = workdir / "tantivy"
        self._ix = None

    def _schema(self):
        import tantivy

        sb = tantivy.SchemaBuilder()
        sb.add_text_field("id", stored=True, tokenizer_name="raw")
        sb.add_text_field("source", stored=True, tokenizer_name="raw")
        sb.add_text_field("title", stored=True, tokenizer_name="vi")
        sb.add_text_field("body", stored=True, tokenizer_name="vi")
        return sb.build()

    def _index(self):
        import tantivy

        ix = tantivy.Index(self._schema(), path=str(self.index_dir))
        analyzer = (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .build()
        )
        ix.register_tokenizer("vi", analyzer)
        return ix

    def build(self, archive: Path) -> dict:
        import shutil

        import tantivy

        shutil.rmtree(self.index_dir, ignore_errors=True)
        self.index_dir.mkdir(parents=True)
        ix = self._index()
        writer = ix.writer(heap_size=256_000_000, num_threads=2)
        n = 0
        for rec in records(archive):
            title, body = split_article(rec["text"])
            writer.add_document(tantivy.Document(
                id=rec["id"], source=rec.get("source", ""), title=title, body=body))
            n += 1
        writer.commit()
        writer.wait_merging_threads()
        return {"documents": n, "failed": 0}

    def open(self) -> None:
        self._ix = self._index()
        self._ix.reload()
        self._searcher = self._ix.searcher()

    def search(self, query: str, source: str | None = None, snippets: bool = True) -> list[str]:
        import tantivy

        words = " ".join(
            f'"{" ".join(_FTS_TOKEN.findall(p))}"' if p else " ".join(_FTS_TOKEN.findall(w))
            for p, w in re.findall(r'"([^"]*)"|(\S+)', query)
        ).strip()
        if not words or words == '""':
            return []
        try:
            q = self._ix.parse_query(words, ["title", "body"], field_boosts={"title": 3.0},
                                     conjunction_by_default=True)
        except ValueError:
            return []
        if source:
            q = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, q),
                (tantivy.Occur.Must, tantivy.Query.term_query(self._ix.schema, "source", source)),
            ])
        hits = self._searcher.search(q, 10).hits
        docs = [self._searcher.doc(addr) for _, addr in hits]
        if snippets and docs:
            generator = tantivy.SnippetGenerator.create(self._searcher, q, self._ix.schema, "body")
            for doc in docs:
                generator.snippet_from_doc(doc).to_html()
        return [doc["id"][0] for doc in docs]

    def size(self) -> int:
        return dir_size(self.index_dir)

    def close(self) -> None:
        self._ix = None


ENGINES = {"vnsearch": Vnsearch, "vnsearch-exact": VnsearchExact, "fts5": Fts5,
           "tantivy": Tantivy}
