"""The two peer engines, fed exactly the segmentation our engine uses.

Both index each text field as space-joined tokens from :meth:`Analyzer.tokenize`
in search mode (jieba on the width- and script-folded text, sub-words after the word that
contains them, ASCII words stemmed), and split it again on spaces, so the three engines
see the same terms. Queries are our precise-mode terms (:meth:`Analyzer.query_terms`);
quoted text becomes a phrase. Every word must match in some field (title weighted 3,
summary 1.2, body 1, like ours); when nothing matches, any word may match (ours does the
same fallback).

Differences worth knowing when reading the numbers:

* the peers store and highlight the *segmented* text (tokens separated by spaces); ours
  highlights the original text;
* with sub-words as separate positions, a phrase that starts after a long word
  (``"开源 人工智能"``) can miss in the peers; ours puts sub-words at the word's position.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from searchapp.documents import Document
from searchapp.text.analysis import Analyzer

#: The analysis the peers share with ours (no user dictionary).
ANALYZER = Analyzer()

FIELDS = ("title", "summary", "body")
WEIGHTS = {"title": 3.0, "summary": 1.2, "body": 1.0}
SNIPPET_CHARS = 150
_QUOTED = re.compile(r"[\"“”「」『』]([^\"“”「」『』]*)[\"“”「」『』]?")


@dataclass(frozen=True)
class SegDoc:
    """A document as the peers index it: id and space-joined tokens per field."""

    id: str
    title: str
    summary: str
    body: str


def _seg_text(text: str) -> str:
    return " ".join(t.text for t in ANALYZER.tokenize(text, search_mode=True)) if text else ""


def segment_document(doc: Document) -> SegDoc:
    """Search-mode tokens of each text field, joined by spaces."""
    return SegDoc(doc.id, _seg_text(doc.title), _seg_text(doc.summary), _seg_text(doc.body))


def segment_all(docs: Sequence[Document], procs: int | None = None) -> list[SegDoc]:
    """Segment every document, in ``procs`` worker processes (default: up to 2 cores)."""
    ANALYZER.segment("")  # set the segmenter up before the workers fork
    procs = procs or min(2, os.cpu_count() or 1)
    if procs <= 1 or len(docs) < 200:
        return [segment_document(d) for d in docs]
    with get_context("fork").Pool(procs) as pool:
        return pool.map(segment_document, docs, chunksize=16)


def parse_query(text: str) -> list[tuple[str, ...]]:
    """Units of a query: a 1-tuple per word, a longer tuple per quoted phrase."""
    units: list[tuple[str, ...]] = []
    rest = []
    pos = 0
    for m in _QUOTED.finditer(text):
        rest.append(text[pos : m.start()])
        terms = ANALYZER.query_terms(m.group(1))
        if len(terms) > 1:
            units.append(tuple(terms))
        else:
            units.extend((t,) for t in terms)
        pos = m.end()
    rest.append(text[pos:])
    units.extend((t,) for t in ANALYZER.query_terms(" ".join(rest)))
    return list(dict.fromkeys(units))


class TantivyEngine:
    """tantivy-py over a whitespace tokenizer (the tokens are already made)."""

    name = "tantivy"

    def __init__(self, index_dir: Path) -> None:
        import tantivy

        self.t = tantivy
        self.index_dir = Path(index_dir)
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("id", stored=True, tokenizer_name="raw")
        for f in FIELDS:
            sb.add_text_field(f, stored=True, tokenizer_name="whitespace")
        self.schema = sb.build()
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(self.index_dir))
        self._searcher = None

    def build(self, docs: Sequence[SegDoc], heap: int = 256_000_000) -> None:
        """Index every document and commit once."""
        writer = self.index.writer(heap, min(2, os.cpu_count() or 1))
        writer.delete_all_documents()
        for d in docs:
            writer.add_document(
                self.t.Document(id=d.id, title=d.title, summary=d.summary, body=d.body)
            )
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()

    def _query(self, units: list[tuple[str, ...]], occur):
        t = self.t
        clauses = []
        for unit in units:
            per_field = []
            for f in FIELDS:
                if len(unit) == 1:
                    q = t.Query.term_query(self.schema, f, unit[0])
                else:
                    q = t.Query.phrase_query(self.schema, f, list(unit))
                if WEIGHTS[f] != 1.0:
                    q = t.Query.boost_query(q, WEIGHTS[f])
                per_field.append((t.Occur.Should, q))
            clauses.append((occur, t.Query.boolean_query(per_field)))
        return t.Query.boolean_query(clauses)

    def _run(self, text: str, k: int):
        searcher = self.searcher()
        units = parse_query(text)
        if not units:
            return searcher, None, []
        q = self._query(units, self.t.Occur.Must)
        hits = searcher.search(q, k).hits
        if not hits and len(units) > 1:
            q = self._query(units, self.t.Occur.Should)
            hits = searcher.search(q, k).hits
        return searcher, q, hits

    def searcher(self):
        """A searcher on the latest commit (kept for the process)."""
        if self._searcher is None:
            self._searcher = self.index.searcher()
        return self._searcher

    def search(self, text: str, k: int = 10) -> list[str]:
        """Top-k ids."""
        searcher, _, hits = self._run(text, k)
        return [searcher.doc(addr)["id"][0] for _, addr in hits]

    def search_snippets(self, text: str, k: int = 10) -> list[tuple[str, str]]:
        """Top-k ids with a highlighted body snippet each."""
        searcher, q, hits = self._run(text, k)
        if not hits:
            return []
        gen = self.t.SnippetGenerator.create(searcher, q, self.schema, "body")
        gen.set_max_num_chars(SNIPPET_CHARS)
        out = []
        for _, addr in hits:
            doc = searcher.doc(addr)
            out.append((doc["id"][0], gen.snippet_from_doc(doc).to_html()))
        return out


class Fts5Engine:
    """SQLite FTS5 (stdlib ``sqlite3``), unicode61 tokenizer over the space-joined tokens."""

    name = "fts5"

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.index_dir / "fts5.db"
        self._db: sqlite3.Connection | None = None

    def build(self, docs: Sequence[SegDoc]) -> None:
        """Create the table, insert everything in one transaction, optimize."""
        if self.path.exists():
            self.path.unlink()
        db = sqlite3.connect(self.path)
        db.execute(
            "CREATE VIRTUAL TABLE docs USING fts5("
            "id UNINDEXED, title, summary, body, tokenize='unicode61 remove_diacritics 0')"
        )
        weights = ", ".join(str(WEIGHTS[f]) for f in FIELDS)
        db.execute(f"INSERT INTO docs(docs, rank) VALUES('rank', 'bm25(0, {weights})')")
        with db:
            db.executemany(
                "INSERT INTO docs(id, title, summary, body) VALUES (?, ?, ?, ?)",
                ((d.id, d.title, d.summary, d.body) for d in docs),
            )
        db.execute("INSERT INTO docs(docs) VALUES('optimize')")
        db.commit()
        db.close()

    def db(self) -> sqlite3.Connection:
        """The connection (opened once per process)."""
        if self._db is None:
            self._db = sqlite3.connect(self.path)
        return self._db

    @staticmethod
    def _match(units: list[tuple[str, ...]], op: str) -> str:
        def quote(unit: tuple[str, ...]) -> str:
            return '"' + " ".join(unit).replace('"', '""') + '"'

        return f" {op} ".join(quote(u) for u in units)

    def _run(self, text: str, k: int, snippets: bool) -> list[tuple]:
        units = parse_query(text)
        if not units:
            return []
        cols = "id, snippet(docs, -1, '<mark>', '</mark>', '…', 24)" if snippets else "id"
        sql = f"SELECT {cols} FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?"
        rows = self.db().execute(sql, (self._match(units, "AND"), k)).fetchall()
        if not rows and len(units) > 1:
            rows = self.db().execute(sql, (self._match(units, "OR"), k)).fetchall()
        return rows

    def search(self, text: str, k: int = 10) -> list[str]:
        """Top-k ids."""
        return [r[0] for r in self._run(text, k, False)]

    def search_snippets(self, text: str, k: int = 10) -> list[tuple[str, str]]:
        """Top-k ids with a highlighted snippet each."""
        return [(r[0], r[1]) for r in self._run(text, k, True)]


PEERS = {"tantivy": TantivyEngine, "fts5": Fts5Engine}
