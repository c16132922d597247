"""Search the index: parse, rank (BM25F), paginate, highlight. Returns plain data.

No Flask here: the web page, the JSON API, the CLI and the benchmark all call
:class:`Engine`. One :class:`Engine` per process is enough; it keeps one Whoosh searcher
per thread and refreshes it when the index changes, so a rebuild or update made by
another process is served without a restart.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from whoosh import query as Q
from whoosh import scoring
from whoosh.searching import Searcher as WhooshSearcher
from whoosh.util.times import datetime_to_long, long_to_datetime

from searchapp.backends.whoosh import scorer as fastscore
from searchapp.backends.whoosh import store
from searchapp.backends.whoosh.schema import TEXT_FIELDS
from searchapp.engine import explain, suggest
from searchapp.text import analysis, highlight
from searchapp.text.query import Clause, ParsedQuery, Unit, parse

SORTS = ("relevance", "newest", "oldest")
FACET_FIELDS = ("source", "tags", "script", "lang")
FACET_LIMIT = 12
MAX_PAGE = 1000
#: The BM25F parameters; see bench/ for how they were chosen.
K1 = 1.2
B = 0.75
FIELD_B = {"title": 0.5, "summary": 0.6, "body": 0.75}
PAIR_SLOP = 1
PAIR_WEIGHT = 0.5
MAX_SPLIT_WORD = 6
#: How many of the best documents get the proximity bonus (see Engine._rerank).
RERANK_DEPTH = 100
#: When fewer articles than this have every word, articles with some of the words follow
#: them (ranked after all of them), as a reader would look next.
FILL_BELOW = 10

T = TypeVar("T")
BM25_PARAMS = fastscore.Bm25(k1=K1, default_b=B, field_b=FIELD_B, text_fields=tuple(TEXT_FIELDS))


@dataclass(frozen=True)
class Hit:
    """One search result, ready to show."""

    id: str
    rank: int
    score: float
    title: str
    title_html: str
    snippet_html: str
    date: datetime | None = None
    source: str = ""
    source_url: str = ""
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    lang: str = ""
    script: str = ""
    thumbnail: str = ""


@dataclass(frozen=True)
class ResultPage:
    """A page of results and what the searcher did to get it."""

    query: str
    hits: tuple[Hit, ...]
    total: int
    page: int
    pagelen: int
    took_ms: float
    #: "all" (every word matched), "any" (fallback: some words), "empty" (nothing to search)
    mode: str
    sort: str = "relevance"
    terms: tuple[str, ...] = ()
    segmented: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: True when a long query's words past ``query.MAX_UNITS`` were left out
    truncated: bool = False
    filters: tuple[tuple[str, str], ...] = ()
    #: field -> ((value, count), ...) over every matching document, most frequent first
    facets: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    date_from: datetime | None = None
    date_to: datetime | None = None
    #: How many of ``total`` have every word; they rank first, the rest (partial matches,
    #: see :data:`FILL_BELOW`) follow. ``None``: all of them (no partial matches added).
    exact: int | None = None

    @property
    def every_word(self) -> int:
        """How many results have every word (0 when none has: mode "any")."""
        return self.total if self.exact is None else self.exact

    @property
    def partial(self) -> int:
        """How many results have only some of the words."""
        return self.total - self.every_word

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.pagelen)) if self.pagelen else 1


@dataclass(frozen=True)
class Article:
    """A whole document for the article page, with the query's terms highlighted."""

    id: str
    title: str
    title_html: str
    paragraphs_html: tuple[str, ...]
    date: datetime | None
    source: str
    source_url: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    lang: str
    script: str
    summary: str
    thumbnail: str
    matches: int = 0


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in (value or "").split(",") if v)


def clamp_page(page: Any) -> int:
    """A page number from user input: non-numbers and values below 1 become 1."""
    try:
        number = int(str(page).strip())
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


@dataclass
class _Local(threading.local):
    searcher: WhooshSearcher | None = None
    #: the FileIndex the searcher came from (a rebuild that changes the metadata reopens it)
    ix: Any = None
    #: depth of :meth:`Engine.pinned` blocks on this thread
    pins: int = 0
    #: True once the searcher was refreshed inside the current outermost pinned block
    current: bool = False
    extra: dict[Any, Any] = field(default_factory=dict)


def _pinned(method: Callable[..., T]) -> Callable[..., T]:
    """Run an :class:`Engine` method on one searcher throughout (see ``Engine.pinned``)."""

    @functools.wraps(method)
    def wrapper(self: Engine, *args: Any, **kwargs: Any) -> T:
        with self.pinned():
            return method(self, *args, **kwargs)

    return wrapper


class _DocumentIdfScorer(scoring.BM25FScorer):
    """BM25 per field, with one IDF per term taken over the whole document.

    Whoosh's BM25F computes IDF per field, so a function word that is rare in titles
    (的, 是, 人) gets a large title IDF and, times the title boost, outranks the words
    that matter. Real BM25F has one IDF per term: we use the largest document frequency
    of the term over the text fields.
    """

    def __init__(
        self, searcher: Any, fieldname: str, text: bytes, B: float, K1: float, qf: float = 1
    ):
        parent = searcher.get_parent()
        df = max(parent.doc_frequency(f, text) for f in TEXT_FIELDS)
        n = parent.doc_count_all()
        # Lucene's BM25 IDF: near zero for words in almost every article (是, 的), where
        # Whoosh's log(N/(df+1))+1 never drops below 1 and lets them outvote rare words.
        self.idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        self.avgfl = parent.avg_field_length(fieldname) or 1
        self.B = B
        self.K1 = K1
        self.qf = qf
        self.setup(searcher, fieldname, text)


class _Weighting(scoring.BM25F):
    def scorer(self, searcher: Any, fieldname: str, text: bytes, qf: float = 1) -> Any:
        if fieldname not in TEXT_FIELDS:
            return super().scorer(searcher, fieldname, text, qf=qf)
        b = self._field_B.get(fieldname, self.B)
        return _DocumentIdfScorer(searcher, fieldname, text, b, self.K1, qf=qf)


class Engine:
    """Searches one index directory. Thread-safe; cheap to keep for the process lifetime."""

    def __init__(
        self,
        index_dir: Path,
        *,
        userdict: Path | None = None,
        page_size: int = 10,
        expand: Any = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.userdict = userdict
        self.page_size = page_size
        #: term -> extra query forms (synonyms); script variants are always added
        self.expand = expand
        self._local = _Local()
        self._lock = threading.Lock()
        self._ix: Any = None
        self._meta_mtime: float | None = None
        #: (segments, what) -> data derived from one index generation, for every thread
        self._shared: dict[Any, Any] = {}
        self.weighting = _Weighting(B=B, K1=K1, **{f"{name}_B": b for name, b in FIELD_B.items()})
        analysis.configure(userdict)

    # -- index access --------------------------------------------------------------

    def _index(self) -> Any:
        meta = self.index_dir / store.META_FILE
        try:
            mtime = meta.stat().st_mtime
        except OSError:
            mtime = None
        with self._lock:
            if self._ix is None or mtime != self._meta_mtime:
                self._ix = store.open_index(self.index_dir)
                self._meta_mtime = mtime
            return self._ix

    def searcher(self) -> WhooshSearcher:
        """This thread's Whoosh searcher on the latest committed index.

        Inside a :meth:`pinned` block every call returns the same searcher: refreshing
        it midway would close segment readers that the block is still reading.
        """
        local = self._local
        if local.pins and local.current and local.searcher is not None:
            return local.searcher
        ix = self._index()
        try:
            if local.searcher is None or local.ix is not ix:
                # Another thread reopened the index: this thread's old searcher is its own
                # and not in use (we are not inside a pinned block that already holds it).
                if local.searcher is not None:
                    local.searcher.close()
                local.searcher = None
                local.searcher = ix.searcher(weighting=self.weighting)
                local.ix = ix
                local.extra = {}
            else:
                fresh = local.searcher.refresh()
                if fresh is not local.searcher:
                    # refresh() has closed the old readers the new searcher does not reuse;
                    # the others are shared with it, so the old searcher must not be closed.
                    local.searcher = fresh
                    local.extra = {}
                    store.verify_segments(ix)  # the segments a rebuild or update added
        except store.IndexUnavailable:
            raise
        except Exception as exc:
            local.searcher = None
            store.drop_leaked_files()
            raise store.IndexCorrupt(
                f"the index in {self.index_dir} cannot be read ({exc})"
            ) from exc
        local.current = local.pins > 0
        return local.searcher

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """Use one searcher (one index generation) for the whole block.

        The first :meth:`searcher` call inside the outermost block picks up the latest
        commit; later calls, nested blocks included, get that same searcher. The web app
        pins each request, so a rebuild committed mid-request never changes the index
        under it.
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
        if self._local.searcher is not None:
            self._local.searcher.close()
            self._local.searcher = None
            self._local.ix = None

    # -- query building --------------------------------------------------------------

    def forms(self, term: str) -> tuple[tuple[str, ...], ...]:
        """A term and every other form it should match (script variants, synonyms).

        Each form is a sequence of terms: one term, or a phrase for a multi-word synonym.
        """
        out: list[tuple[str, ...]] = [(term,), *((v,) for v in analysis.variants(term))]
        if self.expand is not None:
            out.extend(self.expand(term))
        if term.isascii() and term.isalpha() and len(term) > 2:
            # rengongzhineng / rgzn -> 人工智能, once the suggestion vocabulary is built
            # (the web builds it at start; it is None until then and never blocks).
            vocab = suggest.peek(suggest.owner_for(self.index_dir))
            if vocab is not None:
                for word in suggest.pinyin_candidates(term, vocab):
                    out.extend([(word,), *((v,) for v in analysis.variants(word))])
        return tuple(dict.fromkeys(out))

    def _known(self, reader: Any, term: str, fields: Sequence[str]) -> bool:
        return any(
            (f, word) in reader for form in self.forms(term) for word in form for f in fields
        )

    def _split_unknown(self, reader: Any, term: str, fields: Sequence[str]) -> tuple[str, ...]:
        """Split a word the index never saw into the longest words it did see.

        jieba's HMM joins unknown names with their neighbours at query time (潘淑是怎么死的
        gives 潘淑是), while the article was segmented in another context (潘淑 / 为).
        Greedy longest match against the index vocabulary recovers 潘淑 + 是.
        """
        parts: list[str] = []
        i = 0
        while i < len(term):
            for j in range(min(len(term), i + MAX_SPLIT_WORD), i, -1):
                piece = term[i:j]
                if j == i + 1 or self._known(reader, piece, fields):
                    parts.append(piece)
                    i = j
                    break
        return tuple(parts)

    def _resolve(self, parsed: ParsedQuery, reader: Any) -> ParsedQuery:
        """Replace words unknown to the index by known pieces (see :meth:`_split_unknown`)."""

        def fix(unit: Unit) -> tuple[Unit, ...]:
            term = unit.terms[0]
            fields = [f for f in unit.fields if f in TEXT_FIELDS]
            # Only Chinese runs are split: jieba glues unknown Chinese names to their
            # neighbours, while an unknown English word or pinyin (rgzn, before the
            # vocabulary is built) cut into single letters would match nearly anything.
            if (
                unit.phrase
                or not fields
                or len(term) < 2
                or term.isascii()
                or self._known(reader, term, fields)
            ):
                return (unit,)
            parts = self._split_unknown(reader, term, fields)
            if len(parts) < 2 or not all(self._known(reader, p, fields) for p in parts):
                return (unit,)
            return tuple(Unit((p,), fields=unit.fields, quoted=unit.quoted) for p in parts)

        changed = False
        clauses = []
        for clause in parsed.clauses:
            alts = []
            for alt in clause.alternatives:
                new = tuple(u for unit in alt for u in fix(unit))
                changed = changed or new != alt
                alts.append(new)
            clauses.append(Clause(tuple(alts)))
        if not changed:
            return parsed
        return replace(parsed, clauses=clauses)

    @staticmethod
    def _form_query(fieldname: str, form: tuple[str, ...]) -> Q.Query:
        boost = TEXT_FIELDS[fieldname]
        if len(form) == 1:
            return Q.Term(fieldname, form[0], boost=boost)
        return Q.Phrase(fieldname, list(form), boost=boost)

    def _unit_query(self, unit: Unit) -> Q.Query:
        if unit.fields and unit.fields[0] not in TEXT_FIELDS:
            return self._keyword_query(self.searcher().reader(), unit.fields[0], unit.terms[0])
        if unit.phrase:
            return Q.Or([Q.Phrase(f, list(unit.terms), boost=TEXT_FIELDS[f]) for f in unit.fields])
        forms = self.forms(unit.terms[0])
        return Q.Or([self._form_query(f, form) for f in unit.fields for form in forms])

    def _all_query(self, parsed: ParsedQuery) -> Q.Query:
        """Every word required, but function and question words (``Unit.optional``) when
        the query has other words: those only add to the score of documents that have
        them."""
        relax = any(not u.optional for u in parsed.units())
        required, optional = [], []
        for clause in parsed.clauses:
            if relax and all(u.optional for alt in clause.alternatives for u in alt):
                optional.extend(self._unit_query(u) for alt in clause.alternatives for u in alt)
                continue
            alts = []
            for alt in clause.alternatives:
                need = [u for u in alt if not (relax and u.optional)] or list(alt)
                maybe = [u for u in alt if u not in need]
                q: Q.Query = Q.And([self._unit_query(u) for u in need])
                if maybe:
                    q = Q.AndMaybe(q, Q.Or([self._unit_query(u) for u in maybe]))
                alts.append(q)
            required.append(alts[0] if len(alts) == 1 else Q.Or(alts))
        if not required:
            return Q.Every()
        q = Q.And(required)
        return Q.AndMaybe(q, Q.Or(optional)) if optional else q

    def _any_query(self, parsed: ParsedQuery) -> Q.Query:
        """Any of the words; function and question words only count if nothing else is
        typed (an article is not a partial match for having 的)."""
        return Q.Or([self._unit_query(u) for u in parsed.words()])

    @staticmethod
    def _pairs(parsed: ParsedQuery) -> list[Q.Query]:
        """Sequential dependence: reward query words that occur close together, as typed."""
        units = parsed.units()
        return [
            Q.Phrase(
                f, [a.terms[-1], b.terms[0]], slop=PAIR_SLOP, boost=TEXT_FIELDS[f] * PAIR_WEIGHT
            )
            for a, b in zip(units, units[1:], strict=False)
            if not a.phrase and not b.phrase and a.fields == b.fields
            for f in a.fields
            if f in TEXT_FIELDS
        ]

    def _proximity(self, parsed: ParsedQuery) -> list[Q.Query]:
        """Reward documents where a space-less typed word appears as typed (terms adjacent)."""
        return [
            Q.Phrase(f, list(terms), slop=1, boost=TEXT_FIELDS[f])
            for _, terms in parsed.segmented
            for f in ("title", "body")
        ]

    def _derived(self, reader: Any, what: tuple[Any, ...], build: Callable[[], T]) -> T:
        """``build()``'s result for this index generation, shared by all threads.

        Each thread has its own Whoosh searcher, but what is computed from the index
        (dates, filter postings) is the same for all: computing it once per thread made
        the first request of every new server thread slow (0.3 s on 68k documents).
        """
        segments = tuple(
            (leaf.segment().segment_id(), leaf.segment().deleted_count())
            for leaf, _ in reader.leaf_readers()
        )
        key = (segments, what)
        found = self._shared.get(key)
        if found is None:
            found = build()
            with self._lock:
                if any(k[0] != segments for k in self._shared):  # an older generation
                    self._shared = {k: v for k, v in self._shared.items() if k[0] == segments}
                self._shared[key] = found
        return found

    def _field_values(self, reader: Any, fieldname: str) -> dict[str, tuple[str, ...]]:
        """lowercased value -> the values as indexed (lang keeps zh-CN's case, tags don't)."""

        def build() -> dict[str, tuple[str, ...]]:
            values: dict[str, list[str]] = {}
            for value in reader.field_terms(fieldname) if fieldname in reader.schema else ():
                values.setdefault(value.lower(), []).append(value)
            return {k: tuple(v) for k, v in values.items()}

        return self._derived(reader, ("values", fieldname), build)

    def _keyword_query(self, reader: Any, fieldname: str, value: str) -> Q.Query:
        """Match a filter value whatever its case; a value not in the index matches nothing."""
        found = self._field_values(reader, fieldname).get(value.strip().lower(), ())
        if not found:
            return Q.NullQuery
        return (
            Q.Or([Q.Term(fieldname, v) for v in found])
            if len(found) > 1
            else Q.Term(fieldname, found[0])
        )

    def _scorer(self, searcher: WhooshSearcher) -> fastscore.Scorer:
        """This searcher's vectorized scorer (built once per index generation)."""
        key = ("scorer", id(searcher.reader()))
        cache = self._local.extra
        scorer = cache.get(key)
        if scorer is None:
            scorer = cache[key] = fastscore.Scorer(searcher, BM25_PARAMS)
        return scorer

    def _dates(self, searcher: WhooshSearcher) -> np.ndarray:
        """Every document's raw date value (0 when undated), by document number."""
        return self._derived(searcher.reader(), ("dates",), lambda: _DateColumn(searcher).array())

    def _allowed(
        self,
        searcher: WhooshSearcher,
        parsed: ParsedQuery,
        filters: Sequence[tuple[str, str]],
        date_from: datetime | None,
        date_to: datetime | None,
    ) -> np.ndarray | None:
        """The documents the filters allow, as a mask (None: no filter at all)."""
        reader = searcher.reader()
        pairs = [*parsed.filters, *filters]
        if not pairs and not (date_from or date_to):
            return None
        allowed = np.ones(reader.doc_count_all(), dtype=bool)
        for fieldname, value in pairs:
            allowed &= self._keyword_mask(searcher, fieldname, value)
        if date_from or date_to:
            dates = self._dates(searcher)
            allowed &= dates != 0
            if date_from:
                allowed &= dates >= datetime_to_long(date_from)
            if date_to:
                allowed &= dates <= datetime_to_long(date_to)
        return allowed

    def _keyword_mask(self, searcher: WhooshSearcher, fieldname: str, value: str) -> np.ndarray:
        """Documents whose ``fieldname`` has ``value`` (any letter case)."""
        mask = np.zeros(searcher.reader().doc_count_all(), dtype=bool)
        postings = self._postings_arrays(searcher, fieldname)
        for indexed in self._field_values(searcher.reader(), fieldname).get(
            value.strip().lower(), ()
        ):
            mask[postings[indexed]] = True
        return mask

    def _excluded(self, searcher: WhooshSearcher, parsed: ParsedQuery) -> np.ndarray | None:
        if not parsed.excluded:
            return None
        q = Q.Or([self._unit_query(u) for u in parsed.excluded])
        return self._scorer(searcher).matching(q)

    @_pinned
    def count(
        self,
        text: str,
        *,
        filters: Sequence[tuple[str, str]] = (),
        date_from: datetime | None = None,
        date_to: datetime | None = None,
    ) -> int:
        """How many articles match every word of ``text`` (no fallback, no hits)."""
        searcher = self.searcher()
        parsed = self._resolve(parse(text), searcher.reader())
        if not parsed.clauses:
            return 0
        allowed = self._allowed(searcher, parsed, filters, date_from, date_to)
        matched = self._scorer(searcher).matching(self._all_query(parsed))
        return int(
            np.count_nonzero(self._narrow(matched, allowed, self._excluded(searcher, parsed)))
        )

    @staticmethod
    def _narrow(
        matched: np.ndarray, allowed: np.ndarray | None, excluded: np.ndarray | None
    ) -> np.ndarray:
        if allowed is not None:
            matched &= allowed
        if excluded is not None:
            matched &= ~excluded
        return matched

    @_pinned
    def explain_terms(self, text: str) -> list[Any]:
        """The (field, term, boost) leaves of the main query the engine runs for ``text``."""
        parsed = self._resolve(parse(text), self.searcher().reader())
        if not parsed.clauses:
            return []
        return explain.leaves(self._all_query(parsed))

    @_pinned
    def explain(self, text: str, hits: Sequence[Hit]) -> dict[str, explain.Explanation]:
        """hit id -> the hit's score split by field and term of the query for ``text``
        (what is left over is the proximity bonus)."""
        searcher = self.searcher()
        terms = self.explain_terms(text)
        scorer = self._scorer(searcher)
        scored: dict[Q.Query, np.ndarray] = {}

        def leaf_score(q: Q.Query, docnum: int) -> float:
            if q not in scored:
                scored[q] = scorer.evaluate(q)[0]
            return float(scored[q][docnum])

        out = {}
        for hit in hits:
            docnum = searcher.document_number(id=hit.id)
            if docnum is not None:
                out[hit.id] = explain.explain(docnum, terms, leaf_score, score=hit.score)
        return out

    # -- searching ---------------------------------------------------------------------

    @_pinned
    def search(
        self,
        text: str,
        page: Any = 1,
        *,
        sort: str = "relevance",
        pagelen: int | None = None,
        filters: Sequence[tuple[str, str]] = (),
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        facets: bool = False,
    ) -> ResultPage:
        """Search and return one page of highlighted hits. User input never raises;
        an unusable index raises :class:`store.IndexUnavailable`.

        ``filters`` are (field, value) pairs (``("tags", "qq")``); with ``facets`` the
        page also counts sources, tags and languages over all matching documents.
        """
        started = time.perf_counter()
        page = clamp_page(page)
        pagelen = max(1, min(int(pagelen or self.page_size), 100))
        sort = sort if sort in SORTS else "relevance"
        parsed = parse(text)
        searcher = self.searcher()
        parsed = self._resolve(parsed, searcher.reader())
        allowed = self._allowed(searcher, parsed, filters, date_from, date_to)
        excluded = self._excluded(searcher, parsed)
        mode = "empty"
        partial_from: int | None = None
        found: list[tuple[float, int]] = []
        total = 0
        matched: np.ndarray | None = None
        if allowed is not None and not parsed.clauses:
            # Filters without words: browse what they allow, newest first.
            mode = "browse"
            if sort == "relevance":
                sort = "newest"
            found, total, matched = self._run(
                searcher, Q.Every(), page, pagelen, sort, allowed, excluded
            )
        elif parsed.clauses:
            mode = "all"
            q = self._all_query(parsed)
            bonus = self._proximity(parsed)
            found, total, matched = self._run(
                searcher, q, page, pagelen, sort, allowed, excluded, bonus
            )
            if (
                total < FILL_BELOW
                and len(parsed.words()) > 1
                and (allowed is None or allowed.any())
            ):
                # Too few have every word: those with some follow (all of them, if none).
                exact = total
                skip = matched if excluded is None else (excluded | matched)
                more, extra, also = self._run(
                    searcher,
                    self._any_query(parsed),
                    page,
                    pagelen,
                    sort,
                    allowed,
                    skip,
                    self._pairs(parsed),
                )
                if extra:
                    found, total, matched = found + more, total + extra, matched | also
                    mode = "all" if exact else "any"
                    partial_from = exact
        counts = self._facets(searcher, matched) if facets and matched is not None and total else {}
        start = (page - 1) * pagelen
        window = found[start : start + pagelen]
        terms = parsed.highlight_terms()
        hits = self._hits(searcher, window, terms, start)
        return ResultPage(
            query=parsed.text,
            hits=tuple(hits),
            total=total,
            page=page,
            pagelen=pagelen,
            took_ms=(time.perf_counter() - started) * 1000,
            mode=mode,
            sort=sort,
            terms=tuple(sorted(terms)),
            segmented=tuple(parsed.segmented),
            truncated=parsed.truncated,
            filters=tuple(parsed.filters) + tuple(filters),
            facets=counts,
            date_from=date_from,
            date_to=date_to,
            exact=partial_from,
        )

    def _facets(
        self, searcher: WhooshSearcher, matched: np.ndarray
    ) -> dict[str, tuple[tuple[str, int], ...]]:
        """Count facet values over every matching document (not only this page)."""
        out = {}
        for fieldname in FACET_FIELDS:
            counts = []
            for value, docs in self._postings_arrays(searcher, fieldname).items():
                n = int(np.count_nonzero(matched[docs]))
                if n:
                    counts.append((value, n))
            counts.sort(key=lambda vc: (-vc[1], vc[0]))
            out[fieldname] = tuple(counts[:FACET_LIMIT])
        return out

    def _postings_arrays(self, searcher: WhooshSearcher, fieldname: str) -> dict[str, np.ndarray]:
        """value -> its live documents' numbers, cached for the searcher's generation."""
        reader = searcher.reader()

        def build() -> dict[str, np.ndarray]:
            arrays = {}
            if fieldname in reader.schema:
                for value in reader.field_terms(fieldname):
                    ids = reader.postings(fieldname, value).all_ids()
                    arrays[value] = np.fromiter(ids, dtype=np.int64)
            return arrays

        return self._derived(reader, ("postings", fieldname), build)

    def _run(
        self,
        searcher: WhooshSearcher,
        q: Q.Query,
        page: int,
        pagelen: int,
        sort: str,
        allowed: np.ndarray | None,
        excluded: np.ndarray | None,
        bonus: Sequence[Q.Query] = (),
    ) -> tuple[list[tuple[float, int]], int, np.ndarray]:
        """(the first ``page`` pages of (score, docnum), total, match mask)."""
        scores, matched = self._scorer(searcher).evaluate(q)
        matched = self._narrow(matched, allowed, excluded)
        docs = np.flatnonzero(matched)
        total = len(docs)
        limit = page * pagelen
        dates = self._dates(searcher)
        if sort == "relevance":
            depth = max(limit, RERANK_DEPTH) if bonus else limit
            best = scores[docs]
            if total > depth:
                # The `depth` best; ties at the cut go to the newer articles.
                kth = np.partition(best, total - depth)[total - depth]
                keep = np.flatnonzero(best >= kth)
                if len(keep) > depth:
                    keep = keep[np.lexsort((-dates[docs[keep]], -best[keep]))[:depth]]
                docs, best = docs[keep], best[keep]
            if bonus:
                # Proximity: only the best `depth` documents compete for the bonus.
                best = best + self._scorer(searcher).bonus(list(bonus), docs)
            scored = list(zip(best.tolist(), docs.tolist(), strict=True))
            when = dict(zip(docs.tolist(), dates[docs].tolist(), strict=True))
            # BM25 ties (same words, same lengths) are common in news: newer first.
            found = sorted(scored, key=lambda sd: (-round(sd[0], 7), -when[sd[1]]))
            return found[:limit], total, matched
        day = dates[docs]
        sign = -1 if sort == "newest" else 1
        # Undated articles go last in both orders.
        order = np.lexsort((docs, sign * day, day == 0))[:limit]
        return [(0.0, int(d)) for d in docs[order]], total, matched

    def _spans(
        self, searcher: WhooshSearcher, fieldname: str, docnums: list[int], terms: set[str]
    ) -> dict[int, dict[highlight.Span, str]]:
        """docnum -> {span: term}: the character spans of ``terms`` (every written form of
        them) that the index recorded for those documents."""
        wanted = {(t, word) for t in terms for form in self.forms(t) for word in form}
        return self._scorer(searcher).spans(
            fieldname, docnums, {word.encode("utf-8"): t for t, word in sorted(wanted)}
        )

    def _hits(
        self, searcher: WhooshSearcher, window: list[tuple[float, int]], terms: set[str], start: int
    ) -> list[Hit]:
        if not window:
            return []
        docnums = [d for _, d in window]
        body_spans = self._spans(searcher, "body", docnums, terms) if terms else {}
        title_spans = self._spans(searcher, "title", docnums, terms) if terms else {}
        hits = []
        for i, (score, docnum) in enumerate(window):
            stored = searcher.stored_fields(docnum)
            body = stored.get("body", "")
            spans = body_spans.get(docnum, {})
            if spans:
                snippet = highlight.snippet(body, list(spans), spans)
            else:
                snippet = highlight.snippet(stored.get("summary") or body, [])
            title = stored.get("title", "") or stored.get("id", "")
            hits.append(
                Hit(
                    id=stored["id"],
                    rank=start + i + 1,
                    score=round(float(score or 0.0), 4),
                    title=title,
                    title_html=highlight.mark(title, title_spans.get(docnum, {})),
                    snippet_html=snippet,
                    date=stored.get("date"),
                    source=stored.get("source", ""),
                    source_url=stored.get("source_url", ""),
                    categories=_split(stored.get("categories", "")),
                    tags=_split(stored.get("tags", "")),
                    lang=stored.get("lang", ""),
                    script=stored.get("script", ""),
                    thumbnail=stored.get("thumbnail", ""),
                )
            )
        return hits

    # -- documents and stats -------------------------------------------------------

    @_pinned
    def article(self, doc_id: str, text: str = "") -> Article | None:
        """The stored document ``doc_id`` with ``text``'s terms highlighted, or None."""
        searcher = self.searcher()
        docnum = searcher.document_number(id=doc_id)
        if docnum is None:
            return None
        stored = searcher.stored_fields(docnum)
        terms = self._resolve(parse(text), searcher.reader()).highlight_terms() if text else set()
        body = stored.get("body", "")
        spans = self._spans(searcher, "body", [docnum], terms)[docnum] if terms else {}
        title_spans = self._spans(searcher, "title", [docnum], terms)[docnum] if terms else {}
        paragraphs = []
        offset = 0
        for line in body.split("\n"):
            end = offset + len(line)
            if line.strip():
                inside = [sp for sp in spans if sp[0] < end and sp[1] > offset]
                shifted = [(s - offset, e - offset) for s, e in inside]
                paragraphs.append(highlight.mark(line, shifted))
            offset = end + 1
        title = stored.get("title", "") or doc_id
        return Article(
            id=doc_id,
            title=title,
            title_html=highlight.mark(title, title_spans),
            paragraphs_html=tuple(paragraphs),
            date=stored.get("date"),
            source=stored.get("source", ""),
            source_url=stored.get("source_url", ""),
            categories=_split(stored.get("categories", "")),
            tags=_split(stored.get("tags", "")),
            lang=stored.get("lang", ""),
            script=stored.get("script", ""),
            summary=stored.get("summary", ""),
            thumbnail=stored.get("thumbnail", ""),
            matches=len(spans),
        )

    @_pinned
    def stats(self) -> dict[str, Any]:
        """Document count, date range, build metadata and index size."""
        searcher = self.searcher()
        reader = searcher.reader()
        dates = _DateColumn(searcher)
        real = [v for v in (dates[n] for n in reader.all_doc_ids()) if v]
        meta = store.read_meta(self.index_dir)
        return {
            "documents": searcher.doc_count(),
            "first_date": _from_column(min(real)) if real else None,
            "last_date": _from_column(max(real)) if real else None,
            "built_at": meta.get("built_at"),
            "updated_at": meta.get("updated_at"),
            "version": meta.get("version"),
            "analyzer": meta.get("analyzer"),
            "index_bytes": store.index_size(self.index_dir),
        }


class _DateColumn:
    """Raw date column values (microsecond counts); 0 for an undated document."""

    MISSING = 2**64 - 1

    def __init__(self, searcher: WhooshSearcher) -> None:
        # Per segment: Whoosh's MultiReader.column_reader leaves out segments that have no
        # date column (every article in them undated) and then maps the remaining
        # segments' documents to the wrong reader, or past the end of its list.
        self._offsets: list[int] = []
        self._cols: list[Any] = []
        self._sizes: list[int] = []
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            has = reader.has_column("date")
            self._offsets.append(offset)
            self._sizes.append(reader.doc_count_all())
            self._cols.append(reader.column_reader("date", translate=False) if has else None)

    def __getitem__(self, docnum: int) -> int:
        i = bisect.bisect_right(self._offsets, docnum) - 1
        col = self._cols[i]
        if col is None:
            return 0
        value = col[docnum - self._offsets[i]]
        return 0 if value == self.MISSING else value

    def array(self) -> np.ndarray:
        """Every document's value, by document number, as int64 (0: undated)."""
        parts = []
        for col, size in zip(self._cols, self._sizes, strict=True):
            if col is None:
                parts.append(np.zeros(size, dtype=np.int64))
                continue
            raw = np.fromiter(iter(col), dtype=np.uint64, count=size)
            raw[raw == self.MISSING] = 0
            parts.append(raw.astype(np.int64))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _from_column(value: int) -> datetime | None:
    try:
        return long_to_datetime(value)
    except (ValueError, OverflowError):
        return None
