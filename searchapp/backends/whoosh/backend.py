"""The embedded backend: an index folder on this machine, read with Whoosh and numpy.

:class:`WhooshBackend` keeps one Whoosh searcher per thread and refreshes it when another
process commits (a rebuild or an update), so a long-running server follows the index
without a restart; :class:`WhooshView` answers the engine's questions on one searcher
(one index generation) with the vectorised scorer of :mod:`.scorer`.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import struct
import threading
import zlib
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
from whoosh import query as Q
from whoosh import scoring
from whoosh.searching import Searcher as WhooshSearcher
from whoosh.util.times import datetime_to_long, long_to_datetime

from searchapp import documents
from searchapp.backends import base
from searchapp.backends.base import (
    And,
    AndMaybe,
    Every,
    Health,
    Keyword,
    Matches,
    MatchRequest,
    Named,
    Node,
    Or,
    Phrase,
    Ranking,
    Ref,
    Span,
    Stored,
    Term,
    TitleEntry,
)
from searchapp.backends.whoosh import scorer as fastscore
from searchapp.backends.whoosh import sidecar, store
from searchapp.backends.whoosh import writer as indexer
from searchapp.documents import Document
from searchapp.fields import TEXT_FIELDS
from searchapp.indexing import BuildStats, Progress
from searchapp.text import naming
from searchapp.text.analysis import Analyzer
from searchapp.text.synonyms import Synonyms, load_synonyms

T = TypeVar("T")


def weighting(ranking: Ranking) -> scoring.BM25F:
    """Whoosh's weighting for ``ranking``: what Whoosh's own matchers score the filter
    fields with (the full text is scored by :mod:`.scorer`, from the sidecars)."""
    return scoring.BM25F(
        B=ranking.default_b,
        K1=ranking.k1,
        **{f"{name}_B": b for name, b in ranking.field_b.items()},
    )


@dataclass(frozen=True)
class _Opened:
    """One open generation: Whoosh's index and what it was built and answers with."""

    ix: Any
    analyzer: Analyzer
    synonyms: Synonyms


@dataclass
class _Local(threading.local):
    searcher: WhooshSearcher | None = None
    #: the generation the searcher came from (a rebuild or update reopens it)
    opened: _Opened | None = None
    #: depth of pinned() blocks on this thread
    pins: int = 0
    #: True once the searcher was refreshed inside the current outermost pinned block
    current: bool = False
    view: WhooshView | None = None


class WhooshBackend:
    """An index folder searched with Whoosh. Thread-safe; keep one per process."""

    name = "whoosh"

    def __init__(self, index_dir: Path, analyzer: Analyzer, ranking: Ranking | None = None):
        self.index_dir = Path(index_dir)
        self.analyzer = analyzer
        self.ranking = ranking or Ranking()
        self.weighting = weighting(self.ranking)
        self.params = fastscore.Bm25(
            k1=self.ranking.k1,
            default_b=self.ranking.default_b,
            field_b=self.ranking.field_b,
            text_fields=self.ranking.text_fields,
        )
        self._local = _Local()
        self._lock = threading.Lock()
        self._opened: _Opened | None = None
        self._marker: tuple[float | None, ...] | None = None
        #: (segments, what) -> data derived from one index generation, for every thread
        self._shared: dict[Any, Any] = {}

    def __repr__(self) -> str:
        return f"WhooshBackend({str(self.index_dir)!r})"

    # -- reading -------------------------------------------------------------------------

    def _index(self) -> _Opened:
        """The current generation, opened again when ``CURRENT`` or its metadata change
        (a rebuild switched generations, an update committed)."""
        marker = tuple(
            _mtime(path)
            for path in (
                self.index_dir / store.CURRENT_FILE,
                store.generation_folder(self.index_dir) / store.META_FILE,
            )
        )
        with self._lock:
            if self._opened is None or marker != self._marker:
                ix = store.open_index(self.index_dir)
                folder = Path(ix.storage.folder)
                analyzer = store.read_analysis(folder)
                synonyms = load_synonyms(folder / store.SYNONYMS_FILE, analyzer)
                self._opened = _Opened(ix, analyzer, synonyms)
                self._marker = marker
            return self._opened

    def _searcher(self) -> WhooshSearcher:
        local = self._local
        if local.pins and local.current and local.searcher is not None:
            return local.searcher
        opened = self._index()
        ix = opened.ix
        try:
            if local.searcher is None or local.opened is not opened:
                # Another thread reopened the index: this thread's old searcher is its own
                # and not in use (we are not inside a pinned block that already holds it).
                if local.searcher is not None:
                    local.searcher.close()
                local.searcher = None
                local.searcher = ix.searcher(weighting=self.weighting)
                local.opened = opened
                local.view = None
            else:
                fresh = local.searcher.refresh()
                if fresh is not local.searcher:
                    # refresh() has closed the old readers the new searcher does not reuse;
                    # the others are shared with it, so the old searcher must not be closed.
                    local.searcher = fresh
                    local.view = None
                    store.verify_segments(ix, self.index_dir)  # the segments an update added
        except base.IndexUnavailable:
            raise
        except Exception as exc:
            local.searcher = None
            local.view = None
            store.drop_leaked_files()
            raise base.IndexCorrupt(
                f"the index in {self.index_dir} cannot be read ({exc})"
            ) from exc
        local.current = local.pins > 0
        return local.searcher

    def view(self) -> WhooshView:
        """This thread's view of the latest commit (the same inside a pinned block)."""
        searcher = self._searcher()
        local = self._local
        if local.view is None or local.view.searcher is not searcher:
            assert local.opened is not None
            opened = local.opened
            local.view = WhooshView(self, searcher, opened.analyzer, opened.synonyms)
            local.view.folder = Path(opened.ix.storage.folder)
        return local.view

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """Use one searcher (one index generation) for the whole block.

        The first :meth:`view` inside the outermost block picks up the latest commit;
        later calls, nested blocks included, get that same one: refreshing midway would
        close segment readers the block is still reading.
        """
        local = self._local
        if local.pins == 0:
            local.current = False
        local.pins += 1
        try:
            yield
        finally:
            local.pins -= 1

    def close(self) -> None:
        """Close this thread's searcher."""
        local = self._local
        if local.searcher is not None:
            local.searcher.close()
        local.searcher = None
        local.opened = None
        local.view = None

    def derived(self, reader: Any, what: Hashable, build: Callable[[], T]) -> T:
        """``build()``'s result for this index generation, shared by all threads.

        Each thread has its own Whoosh searcher, but what is computed from the index
        (dates, filter postings) is the same for all: computing it once per thread made
        the first request of every new server thread slow (0.3 s on 68k documents).
        """
        segments = _segments_key(reader)
        key = (segments, what)
        found = self._shared.get(key)
        if found is None:
            found = build()
            with self._lock:
                if any(k[0] != segments for k in self._shared):  # an older generation
                    self._shared = {k: v for k, v in self._shared.items() if k[0] == segments}
                self._shared[key] = found
        return found

    def info(self) -> dict[str, Any]:
        """Build metadata and the index's size on disk."""
        meta = store.read_meta(self.index_dir)
        return {
            "index": str(self.index_dir),
            "backend": self.name,
            "built_at": meta.get("built_at"),
            "updated_at": meta.get("updated_at"),
            "version": meta.get("version"),
            "analyzer": meta.get("analyzer"),
            "userdict": meta.get("userdict", ""),
            "learned": meta.get("learned", 0),
            "generation": store.generation_folder(self.index_dir).name,
            "index_bytes": store.index_size(self.index_dir),
        }

    def health(self) -> Health:
        """Whether the index can be searched, with its document count."""
        try:
            with self.pinned():
                return Health(True, self.view().doc_count())
        except base.IndexUnavailable as exc:
            return Health(False, 0, "unavailable", str(exc), exc.hint)

    # -- writing -------------------------------------------------------------------------

    def rebuild(
        self,
        corpus_dir: Path,
        *,
        progress: Progress | None = None,
        procs: int | None = None,
        max_bytes: int = documents.DEFAULT_MAX_BYTES,
        learn: bool = True,
    ) -> BuildStats:
        """See :meth:`searchapp.backends.base.Backend.rebuild`."""
        return indexer.rebuild(
            corpus_dir,
            self.index_dir,
            analyzer=self.analyzer,
            progress=progress,
            procs=procs,
            max_bytes=max_bytes,
            learn=learn,
        )

    def update(
        self,
        corpus_dir: Path,
        *,
        progress: Progress | None = None,
        max_bytes: int = documents.DEFAULT_MAX_BYTES,
    ) -> BuildStats:
        """See :meth:`searchapp.backends.base.Backend.update`."""
        return indexer.update(
            corpus_dir,
            self.index_dir,
            analyzer=self.analyzer,
            progress=progress,
            max_bytes=max_bytes,
        )

    def index_documents(
        self,
        docs: Iterable[Document],
        *,
        progress: Progress | None = None,
        procs: int | None = None,
        total: int = 0,
        learn: bool = True,
    ) -> BuildStats:
        """See :meth:`searchapp.backends.base.Backend.index_documents`."""
        return indexer.index_documents(
            docs,
            self.index_dir,
            analyzer=self.analyzer,
            progress=progress,
            procs=procs,
            total=total,
            learn=learn,
        )

    def save_derived(self, view: base.View, name: str, data: bytes) -> None:
        """Save ``data`` for ``view``'s generation (older saves of ``name`` are removed)."""
        assert isinstance(view, WhooshView)
        folder = view.folder
        target = folder / _derived_name(name, view.generation)
        store.write_atomic_bytes(target, data)
        for old in folder.glob(f"derived-{name}-*.bin"):
            if old != target:
                old.unlink(missing_ok=True)

    def learned_words(self) -> list[dict[str, Any]]:
        """The current generation's learned words (``words.json``)."""
        folder = self._index().ix.storage.folder
        try:
            words = json.loads((Path(folder) / store.WORDS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [w for w in words if isinstance(w, dict)]

    def exists(self) -> bool:
        """True when the folder holds an index, usable or not."""
        return store.index_exists(self.index_dir)

    def needs_rebuild(self) -> bool:
        """True when there is no index in the folder that this code can search."""
        return indexer.needs_rebuild(self.index_dir)


def _segments_key(reader: Any) -> tuple[tuple[str, int], ...]:
    """What identifies one committed state: its segments (their ids are unique to each
    write) and their deletion counts."""
    return tuple(
        (leaf.segment().segment_id(), leaf.segment().deleted_count())
        for leaf, _ in reader.leaf_readers()
    )


def _derived_name(name: str, generation: Hashable) -> str:
    digest = hashlib.sha1(repr(generation).encode("utf-8")).hexdigest()[:16]
    return f"derived-{name}-{digest}.bin"


def _mtime_or_zero(path: Path) -> float:
    return _mtime(path) or 0.0


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _docnums(refs: Sequence[Ref]) -> list[int]:
    """This backend's references are Whoosh document numbers."""
    return [cast(int, r) for r in refs]


class WhooshView:
    """One Whoosh searcher (one index generation) answering the engine. Not shared
    between threads: each thread's :meth:`WhooshBackend.view` has its own."""

    def __init__(
        self,
        backend: WhooshBackend,
        searcher: WhooshSearcher,
        analyzer: Analyzer,
        synonyms: Synonyms,
    ) -> None:
        self.backend = backend
        #: the analysis this generation was built with (queries are analysed the same way)
        self.analyzer = analyzer
        #: the synonyms this generation answers with
        self.synonyms = synonyms
        self.searcher = searcher
        self.reader = searcher.reader()
        #: the generation folder this view reads
        self.folder = backend.index_dir
        self.scorer = fastscore.Scorer(searcher, backend.params)
        self._offsets = [seg.offset for seg in self.scorer.segments]
        self._generation = _segments_key(self.reader)

    @property
    def generation(self) -> Hashable:
        """The generation folder, its segments and their deletion counts (not where the
        index lives: a copied index is the same generation)."""
        return (self.folder.name, self._generation)

    def load_derived(self, name: str) -> tuple[bytes, bool] | None:
        """The newest data saved under ``name`` in this generation's folder."""
        folder = self.folder
        exact = folder / _derived_name(name, self.generation)
        candidates = [exact] if exact.is_file() else []
        candidates += sorted(folder.glob(f"derived-{name}-*.bin"), key=lambda p: -_mtime_or_zero(p))
        for path in candidates:
            try:
                return path.read_bytes(), path == exact
            except OSError:
                continue  # replaced meanwhile: the next one
        return None

    def doc_count(self) -> int:
        """Live documents."""
        return int(self.searcher.doc_count())

    def has_term(self, field: str, term: str) -> bool:
        """True when ``field`` has ``term``."""
        if field in TEXT_FIELDS:
            return self.scorer.has(field, term)
        return (field, term) in self.reader

    # -- queries -------------------------------------------------------------------------

    def _query(self, node: Node) -> Q.Query:
        """The Whoosh query of one node (the shapes :mod:`.scorer` evaluates)."""
        if isinstance(node, Term):
            return Q.Term(node.field, node.text, boost=node.boost)
        if isinstance(node, Phrase):
            return Q.Phrase(node.field, list(node.words), slop=node.slop, boost=node.boost)
        if isinstance(node, Keyword):
            return self._keyword_query(node.field, node.value)
        if isinstance(node, And):
            return Q.And([self._query(c) for c in node.children])
        if isinstance(node, Or):
            return Q.Or([self._query(c) for c in node.children])
        if isinstance(node, AndMaybe):
            return Q.AndMaybe(self._query(node.required), self._query(node.optional))
        if isinstance(node, Every):
            return Q.Every()
        return Q.NullQuery

    def _field_values(self, fieldname: str) -> dict[str, tuple[str, ...]]:
        """lowercased value -> the values as indexed (lang keeps zh-CN's case, tags don't)."""

        def build() -> dict[str, tuple[str, ...]]:
            values: dict[str, list[str]] = {}
            for value in sorted(self._postings_arrays(fieldname)):
                values.setdefault(value.lower(), []).append(value)
            return {k: tuple(v) for k, v in values.items()}

        return self.backend.derived(self.reader, ("values", fieldname), build)

    def _keyword_query(self, fieldname: str, value: str) -> Q.Query:
        """Match a filter value whatever its case; a value not in the index matches nothing."""
        found = self._field_values(fieldname).get(value.strip().lower(), ())
        if not found:
            return Q.NullQuery
        if len(found) > 1:
            return Q.Or([Q.Term(fieldname, v) for v in found])
        return Q.Term(fieldname, found[0])

    def _postings_arrays(self, fieldname: str) -> dict[str, np.ndarray]:
        """value -> its documents' numbers (deleted ones included), from the sidecars;
        joined once per generation."""

        def build() -> dict[str, np.ndarray]:
            parts: dict[str, list[np.ndarray]] = {}
            for seg in self.scorer.segments:
                for value, docs in seg.side.filter_postings(fieldname).items():
                    parts.setdefault(value, []).append(docs.astype(np.int64) + seg.offset)
            return {v: np.concatenate(p) if len(p) > 1 else p[0] for v, p in parts.items()}

        return self.backend.derived(self.reader, ("postings", fieldname), build)

    def _dates(self) -> np.ndarray:
        """Every document's date as a number (0 when undated), by document number, from
        the sidecars."""

        def build() -> np.ndarray:
            parts = [seg.side.dates for seg in self.scorer.segments]
            return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

        return self.backend.derived(self.reader, ("dates",), build)

    def _title_keys(self) -> np.ndarray:
        """The length of every document's title key, by document number (sidecars)."""

        def build() -> np.ndarray:
            parts = [seg.side.title_keys for seg in self.scorer.segments]
            return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint16)

        return self.backend.derived(self.reader, ("title_keys",), build)

    def _keyword_mask(self, fieldname: str, value: str) -> np.ndarray:
        mask = np.zeros(self.reader.doc_count_all(), dtype=bool)
        postings = self._postings_arrays(fieldname)
        for indexed in self._field_values(fieldname).get(value.strip().lower(), ()):
            mask[postings[indexed]] = True
        return mask

    def _allowed(self, request: MatchRequest) -> np.ndarray | None:
        """The documents the filters allow, as a mask (None: no filter at all)."""
        if not request.filtered:
            return None
        allowed = np.ones(self.reader.doc_count_all(), dtype=bool)
        for fieldname, value in request.filters:
            allowed &= self._keyword_mask(fieldname, value)
        if request.date_from or request.date_to:
            dates = self._dates()
            allowed &= dates != 0
            if request.date_from:
                allowed &= dates >= datetime_to_long(request.date_from)
            if request.date_to:
                allowed &= dates <= datetime_to_long(request.date_to)
        return allowed

    def match(self, request: MatchRequest) -> Matches:
        """Run one request: match, narrow, rank (with the proximity bonus), count."""
        scores, matched = self.scorer.evaluate(self._query(request.query))
        allowed = self._allowed(request)
        if allowed is not None:
            matched &= allowed
        if request.exclude is not None:
            matched &= ~self.scorer.matching(self._query(request.exclude))
        docs = np.flatnonzero(matched)
        total = len(docs)
        facets = self._facets(matched, request.facets) if request.facets and total else {}
        limit = request.limit
        if limit <= 0:
            return Matches(ranked=(), total=total, facets=facets)
        dates = self._dates()
        if request.sort == "relevance":
            bonus = request.bonus
            depth = max(limit, request.rerank_depth) if bonus else limit
            best = scores[docs]
            if total > depth:
                # The `depth` best; ties at the cut go to the newer articles.
                kth = np.partition(best, total - depth)[total - depth]
                keep = np.flatnonzero(best >= kth)
                if len(keep) > depth:
                    keep = keep[np.lexsort((-dates[docs[keep]], -best[keep]))[:depth]]
                docs, best = docs[keep], best[keep]
            if bonus:
                # Only the best `depth` documents compete for the bonus.
                best = best + self._bonus(bonus, docs)
            scored = list(zip(best.tolist(), docs.tolist(), strict=True))
            when = dict(zip(docs.tolist(), dates[docs].tolist(), strict=True))
            # BM25 ties (same words, same lengths) are common in news: newer first.
            found = sorted(scored, key=lambda sd: (-round(sd[0], 7), -when[sd[1]]))
            ranked: tuple[tuple[float, Ref], ...] = tuple(found[:limit])
        else:
            day = dates[docs]
            sign = -1 if request.sort == "newest" else 1
            # Undated articles go last in both orders.
            order = np.lexsort((docs, sign * day, day == 0))[:limit]
            ranked = tuple((0.0, int(d)) for d in docs[order])
        return Matches(ranked=ranked, total=total, facets=facets)

    def _bonus(self, nodes: Sequence[Node], docs: np.ndarray) -> np.ndarray:
        """The summed scores of the bonus ``nodes`` for ``docs``: proximity phrases from
        the sidecars' positions, :class:`Named` from the titles of ``docs``."""
        plain = [self._query(n) for n in nodes if not isinstance(n, Named)]
        extra = self.scorer.bonus(plain, docs) if plain else np.zeros(len(docs))
        for node in nodes:
            if isinstance(node, Named) and node.keys:
                # Only titles whose key is no longer than the query's are read.
                size = self._title_keys()[docs]
                maybe = np.flatnonzero(
                    (size >= naming.MIN_KEY) & (size <= max(map(len, node.keys)))
                )
                named = np.zeros(len(docs), dtype=bool)
                named[maybe] = naming.named(self._titles(docs[maybe]), node.keys)
                if named.any():
                    extra[named] += self.scorer.bonus([self._query(node.node)], docs[named])
        return extra

    def _titles(self, docs: np.ndarray) -> list[str]:
        """The titles of ``docs`` (document numbers), in their order."""
        out: list[str] = [""] * len(docs)
        where = np.searchsorted(self._offsets, docs, side="right") - 1
        for i in np.unique(where).tolist():
            seg = self.scorer.segments[i]
            mine = np.flatnonzero(where == i)
            for j, title in zip(
                mine.tolist(), seg.side.titles_of(docs[mine] - seg.offset), strict=True
            ):
                out[j] = title
        return out

    def _facets(self, matched: np.ndarray, fields: Sequence[str]) -> dict[str, dict[str, int]]:
        """Count filter values over every matching document (not only a page)."""
        out: dict[str, dict[str, int]] = {}
        for fieldname in fields:
            counts = {}
            for value, docs in self._postings_arrays(fieldname).items():
                n = int(np.count_nonzero(matched[docs]))
                if n:
                    counts[value] = n
            out[fieldname] = counts
        return out

    # -- documents -----------------------------------------------------------------------

    def lookup(self, doc_id: str) -> Ref | None:
        """The document number of ``doc_id``."""
        return self.searcher.document_number(id=doc_id)

    def stored(self, refs: Sequence[Ref]) -> list[Stored]:
        """Stored fields of the documents ``refs``."""
        out = []
        for ref in refs:
            f = self.searcher.stored_fields(ref)
            title, summary, body = self.texts(ref)
            out.append(
                Stored.from_fields(
                    f["id"], f, title=title, summary=summary, body=body, date=f.get("date")
                )
            )
        return out

    def texts(self, ref: Ref) -> tuple[str, str, str]:
        """The title, summary and body of document ``ref``, from its segment's sidecar."""
        docnum = cast(int, ref)
        segments = self.scorer.segments
        seg = segments[bisect.bisect_right(self._offsets, docnum) - 1]
        try:
            values = dict(
                zip(seg.side.text_fields, seg.side.texts(docnum - seg.offset), strict=True)
            )
        except (zlib.error, struct.error, UnicodeDecodeError, IndexError) as exc:
            raise base.IndexCorrupt(f"a segment's stored text cannot be read: {exc}") from exc
        return values.get("title", ""), values.get("summary", ""), values.get("body", "")

    def spans(
        self, field: str, refs: Sequence[Ref], words: Mapping[str, str]
    ) -> dict[Ref, dict[Span, str]]:
        """Character spans of ``words`` in ``field`` of ``refs``, from the sidecars."""
        encoded = {word.encode("utf-8"): term for word, term in words.items()}
        found = self.scorer.spans(field, _docnums(refs), encoded)
        return {ref: marks for ref, marks in found.items()}

    def scores(self, node: Node, refs: Sequence[Ref]) -> list[float]:
        """``node``'s score for each of ``refs``."""
        values = self.scorer.evaluate(self._query(node))[0]
        return [float(values[d]) for d in _docnums(refs)]

    def term_stats(self, field: str, terms: Iterable[str]) -> dict[str, tuple[int, int]]:
        """term -> (document frequency, collection frequency) in ``field``."""
        if field in TEXT_FIELDS:
            stats = {t: self.scorer.term_stats(field, t) for t in terms}
            return {t: s for t, s in stats.items() if s[0]}
        reader = self.reader
        return {
            t: (reader.doc_frequency(field, t), int(reader.frequency(field, t)))
            for t in terms
            if (field, t) in reader
        }

    def field_length(self, field: str) -> int:
        """The total number of tokens in ``field`` over the index."""
        return int(self.reader.field_length(field))

    def containing(
        self, refs: Sequence[Ref], fields: Sequence[str], terms: Sequence[str]
    ) -> dict[Ref, set[str]]:
        """ref -> which of ``terms`` it has in any of ``fields`` (from the sidecars)."""
        found: dict[Ref, set[str]] = {r: set() for r in refs}
        for fieldname in fields:
            spans = self.scorer.spans(
                fieldname,
                _docnums(refs),
                {t.encode("utf-8"): t for t in terms},
            )
            for ref, marks in spans.items():
                found[ref].update(marks.values())
        return found

    def document_frequencies(self) -> Mapping[str, int]:
        """term -> largest document frequency over the text fields (summed over
        segments), read from the sidecars."""
        best: dict[bytes, int] = {}
        for fieldname in TEXT_FIELDS:
            counts: dict[bytes, int] = {}
            for leaf, _ in self.reader.leaf_readers():
                side = sidecar.for_reader(leaf)
                if side is None:
                    raise base.IndexCorrupt("a segment of the index has no sidecar")
                terms, freqs = side.fields[fieldname].term_counts()
                for btext, n in zip(terms, freqs.tolist(), strict=True):
                    counts[btext] = counts.get(btext, 0) + n
            for btext, n in counts.items():
                if n > best.get(btext, 0):
                    best[btext] = n
        return {btext.decode("utf-8", "replace"): n for btext, n in best.items()}

    def titles(self) -> Iterator[TitleEntry]:
        """Every live document's title and date."""
        live = self.scorer.live
        for seg in self.scorer.segments:
            titles, ids = seg.side.titles(), seg.side.doc_ids()
            dates = seg.side.dates.tolist()
            for local in range(seg.count):
                if live[seg.offset + local]:
                    when = _from_column(dates[local]) if dates[local] else None
                    yield TitleEntry(ids[local], titles[local], when)

    def date_range(self) -> tuple[datetime | None, datetime | None]:
        """First and last article dates."""
        dates = self._dates()[self.scorer.live]
        real = dates[dates != 0]
        if not len(real):
            return None, None
        return _from_column(int(real.min())), _from_column(int(real.max()))


def _from_column(value: int) -> datetime | None:
    try:
        return long_to_datetime(value)
    except (ValueError, OverflowError):
        return None
