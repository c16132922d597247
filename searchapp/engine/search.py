"""The search engine: what a person typed -> a ranked, highlighted page of articles.

This is the search policy, written against the Backend protocol
(:mod:`searchapp.backends.base`) only: which words must match and which only add to the
score, script variants, synonyms and pinyin, words the index never saw, the proximity
bonus, the article a query names by its title, partial matches below a divider when too
few articles have every word, facets, pages, snippets, the article view, suggestions,
related articles and explanations. No Flask here: the web page, the JSON API, the CLI
and the benchmark all call :class:`Engine`. One per process is enough; it is thread-safe.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from searchapp.backends.base import (
    And,
    AndMaybe,
    Backend,
    Every,
    Health,
    IndexUnavailable,
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
    View,
)
from searchapp.documents import Document
from searchapp.engine import explain as explaining
from searchapp.engine import related as relating
from searchapp.engine import suggest as suggesting
from searchapp.engine.request import SearchRequest
from searchapp.engine.results import MAX_PAGE, SORTS, Article, Hit, ResultPage, clamp_page
from searchapp.fields import FACET_FIELDS, TEXT_FIELDS
from searchapp.indexing import BuildStats, Progress
from searchapp.text import analysis, highlight, naming
from searchapp.text.analysis import Analyzer
from searchapp.text.query import Clause, ParsedQuery, Unit, parse

FACET_LIMIT = 12
#: The BM25F parameters; see bench/ for how they were chosen.
RANKING = Ranking(k1=1.2, default_b=0.75, field_b={"title": 0.5, "summary": 0.6, "body": 0.75})
#: Query words typed one after the other earn a bonus where the article has them within
#: this many positions, in this order (sequential dependence), weighted by PAIR_WEIGHT.
PAIR_SLOP = 1
PAIR_WEIGHT = 0.5
MAX_SPLIT_WORD = 6
#: How many of the best documents get the proximity bonus.
RERANK_DEPTH = 100
#: When fewer articles than this have every word, articles with some of the words follow
#: them (ranked after all of them), as a reader would look next.
FILL_BELOW = 10
#: Related-article answers remembered (per index generation).
RELATED_MEMO = 512

T = TypeVar("T")

__all__ = ["MAX_PAGE", "SORTS", "Article", "Engine", "Hit", "ResultPage", "clamp_page"]


class GenerationCache:
    """A small LRU memo whose entries belong to one index generation: a new generation
    drops the old entries (an article's related list changes with the index)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Hashable, Hashable], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, generation: Hashable, key: Hashable, build: Callable[[], T]) -> T:
        """``build()``'s result for ``key`` in ``generation``, computed once."""
        full = (generation, key)
        with self._lock:
            if full in self._items:
                self._items.move_to_end(full)
                return self._items[full]
        value = build()
        with self._lock:
            if any(g != generation for g, _ in self._items):
                self._items = OrderedDict(
                    (k, v) for k, v in self._items.items() if k[0] == generation
                )
            self._items[full] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


class Engine:
    """Searches one index through its backend. Thread-safe; keep one per process."""

    def __init__(
        self,
        backend: Backend,
        analyzer: Analyzer,
        *,
        page_size: int = 10,
    ) -> None:
        self.backend = backend
        #: the analysis to build with (the corpus's user dictionary); a view answers
        #: with the analysis its generation was built with (``View.analyzer``)
        self.analyzer = analyzer
        self.page_size = page_size
        self.vocabulary = suggesting.VocabularyKeeper(self._fresh_view)
        self._related = GenerationCache(RELATED_MEMO)

    def __repr__(self) -> str:
        return f"Engine({self.backend!r})"

    # -- the index -------------------------------------------------------------------------

    def pinned(self) -> contextlib.AbstractContextManager[None]:
        """Read one index generation for the whole block (a web request)."""
        return self.backend.pinned()

    def view(self) -> View:
        """This thread's view of the index (see :meth:`Backend.view`)."""
        return self.backend.view()

    @contextlib.contextmanager
    def _fresh_view(self) -> Iterator[View]:
        """A view for a background thread, released after use."""
        try:
            with self.backend.pinned():
                yield self.backend.view()
        finally:
            self.backend.close()

    def close(self) -> None:
        """Release this thread's resources."""
        self.backend.close()

    def warm_up(self) -> threading.Thread | None:
        """Make the first request as fast as the next: set up the segmenter of the index's
        analysis (0.2-0.4 s) and load the suggestion vocabulary saved with the index
        (0.1-0.5 s: unpickling it holds the interpreter lock, so loading it in the
        background held the first searches up by as much). When none is saved, start
        building one in the background and return that thread."""
        try:
            with self._fresh_view() as view:
                view.analyzer.segment("")
                if self.vocabulary.load_saved(view):
                    return None
        except IndexUnavailable:
            pass  # no index yet: the first request says so
        return self.vocabulary.refresh()

    # -- writing -----------------------------------------------------------------------

    def rebuild(
        self,
        corpus_dir: Path,
        *,
        progress: Progress | None = None,
        procs: int | None = None,
        learn: bool = True,
    ) -> BuildStats:
        """Index every article of ``corpus_dir`` again, learning new words from them
        first with ``learn`` (see ``Backend.rebuild``), and save what readers derive
        from it (:meth:`save_derived`)."""
        stats = self.backend.rebuild(corpus_dir, progress=progress, procs=procs, learn=learn)
        self.save_derived()
        return stats

    def update(self, corpus_dir: Path, *, progress: Progress | None = None) -> BuildStats:
        """Index what changed in ``corpus_dir`` (see ``Backend.update``)."""
        return self.backend.update(corpus_dir, progress=progress)

    def index_documents(
        self,
        docs: Iterable[Document],
        *,
        progress: Progress | None = None,
        procs: int | None = None,
        total: int = 0,
        learn: bool = True,
    ) -> BuildStats:
        """Rebuild from documents that do not come from a folder."""
        stats = self.backend.index_documents(
            docs, progress=progress, procs=procs, total=total, learn=learn
        )
        self.save_derived()
        return stats

    def save_derived(self) -> None:
        """Build what readers derive from the index (the suggestion vocabulary) and save
        it with the index, so that no reading process computes it: a server answers
        suggestions, pinyin and "did you mean" from its first request. ``rebuild`` does
        it; after ``update`` the CLI does (the changed articles are visible before)."""
        with self.pinned():
            self.vocabulary.save(self.backend, self.view())

    def needs_rebuild(self) -> bool:
        """True when there is no index this code can search."""
        return self.backend.needs_rebuild()

    # -- query building ----------------------------------------------------------------

    def forms(self, term: str, view: View) -> tuple[tuple[str, ...], ...]:
        """A term and every other form it should match (script variants, synonyms, the
        Chinese words a pinyin word spells). Each form is a sequence of terms: one term,
        or a phrase for a multi-word synonym."""
        out: list[tuple[str, ...]] = [(term,), *((v,) for v in analysis.variants(term))]
        out.extend(view.synonyms.expand(term))
        if term.isascii() and term.isalpha() and len(term) > 2:
            # rengongzhineng / rgzn -> 人工智能, once the suggestion vocabulary is built
            # (the web builds it at start; it is None until then and never blocks).
            vocab = self.vocabulary.peek()
            if vocab is not None:
                for word in suggesting.pinyin_candidates(term, vocab):
                    out.extend([(word,), *((v,) for v in analysis.variants(word))])
        return tuple(dict.fromkeys(out))

    def _known(self, view: View, term: str, fields: Sequence[str]) -> bool:
        return any(
            view.has_term(f, word)
            for form in self.forms(term, view)
            for word in form
            for f in fields
        )

    def _split_unknown(self, view: View, term: str, fields: Sequence[str]) -> tuple[str, ...]:
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
                if j == i + 1 or self._known(view, piece, fields):
                    parts.append(piece)
                    i = j
                    break
        return tuple(parts)

    def _resolve(self, parsed: ParsedQuery, view: View) -> ParsedQuery:
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
                or self._known(view, term, fields)
            ):
                return (unit,)
            parts = self._split_unknown(view, term, fields)
            if len(parts) < 2 or not all(self._known(view, p, fields) for p in parts):
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
    def _form_node(fieldname: str, form: tuple[str, ...]) -> Node:
        boost = TEXT_FIELDS[fieldname]
        if len(form) == 1:
            return Term(fieldname, form[0], boost)
        return Phrase(fieldname, form, boost)

    def _unit_node(self, unit: Unit, view: View) -> Node:
        if unit.fields and unit.fields[0] not in TEXT_FIELDS:
            return Keyword(unit.fields[0], unit.terms[0])
        if unit.phrase:
            return Or(tuple(Phrase(f, unit.terms, TEXT_FIELDS[f]) for f in unit.fields))
        forms = self.forms(unit.terms[0], view)
        return Or(tuple(self._form_node(f, form) for f in unit.fields for form in forms))

    def _all_node(self, parsed: ParsedQuery, view: View) -> Node:
        """Every word required, but function and question words (``Unit.optional``) when
        the query has other words: those only add to the score of documents that have
        them."""
        relax = any(not u.optional for u in parsed.units())
        required: list[Node] = []
        optional: list[Node] = []
        for clause in parsed.clauses:
            if relax and all(u.optional for alt in clause.alternatives for u in alt):
                optional.extend(
                    self._unit_node(u, view) for alt in clause.alternatives for u in alt
                )
                continue
            alts: list[Node] = []
            for alt in clause.alternatives:
                need = [u for u in alt if not (relax and u.optional)] or list(alt)
                maybe = [u for u in alt if u not in need]
                node: Node = And(tuple(self._unit_node(u, view) for u in need))
                if maybe:
                    node = AndMaybe(node, Or(tuple(self._unit_node(u, view) for u in maybe)))
                alts.append(node)
            required.append(alts[0] if len(alts) == 1 else Or(tuple(alts)))
        if not required:
            return Every()
        node = And(tuple(required))
        return AndMaybe(node, Or(tuple(optional))) if optional else node

    def _any_node(self, parsed: ParsedQuery, view: View) -> Node:
        """Any of the words; function and question words only count if nothing else is
        typed (an article is not a partial match for having 的)."""
        return Or(tuple(self._unit_node(u, view) for u in parsed.words()))

    @staticmethod
    def _pairs(parsed: ParsedQuery) -> tuple[Node, ...]:
        """Sequential dependence: reward query words that occur close together, as typed."""
        units = parsed.units()
        return tuple(
            Phrase(f, (a.terms[-1], b.terms[0]), TEXT_FIELDS[f] * PAIR_WEIGHT, slop=PAIR_SLOP)
            for a, b in zip(units, units[1:], strict=False)
            if not a.phrase and not b.phrase and a.fields == b.fields
            for f in a.fields
            if f in TEXT_FIELDS
        )

    @staticmethod
    def _proximity(parsed: ParsedQuery) -> tuple[Node, ...]:
        """Reward documents where a space-less typed word appears as typed (terms adjacent)."""
        return tuple(
            Phrase(f, tuple(terms), TEXT_FIELDS[f])
            for _, terms in parsed.segmented
            for f in ("title", "body")
        )

    def _naming(self, parsed: ParsedQuery, view: View) -> tuple[Node, ...]:
        """An article whose whole title the query has in it (:mod:`searchapp.text.naming`)
        is the one the reader names: its title's score counts twice."""
        keys = tuple(
            k for k in dict.fromkeys(map(naming.title_key, parsed.runs)) if len(k) >= naming.MIN_KEY
        )
        title = tuple(
            self._unit_node(replace(u, fields=("title",)), view)
            for u in parsed.units()
            if "title" in u.fields
        )
        return (Named(keys, Or(title)),) if keys and title else ()

    def _excluded(self, parsed: ParsedQuery, view: View) -> Node | None:
        if not parsed.excluded:
            return None
        return Or(tuple(self._unit_node(u, view) for u in parsed.excluded))

    # -- searching ---------------------------------------------------------------------

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
        """Search and return one page of highlighted hits. User input never raises; an
        unusable index raises :class:`searchapp.backends.base.IndexUnavailable`.

        ``filters`` are (field, value) pairs (``("tags", "qq")``); with ``facets`` the
        page also counts sources, tags and languages over all matching documents.
        """
        with self.pinned():
            return self._search(
                text, page, sort, pagelen, tuple(filters), date_from, date_to, facets
            )

    def _search(
        self,
        text: str,
        page: Any,
        sort: str,
        pagelen: int | None,
        filters: tuple[tuple[str, str], ...],
        date_from: datetime | None,
        date_to: datetime | None,
        facets: bool,
    ) -> ResultPage:
        started = time.perf_counter()
        page = clamp_page(page)
        pagelen = max(1, min(int(pagelen or self.page_size), 100))
        sort = sort if sort in SORTS else "relevance"
        view = self.view()
        parsed = self._resolve(parse(text, view.analyzer), view)
        base = MatchRequest(
            query=Every(),
            limit=page * pagelen,
            exclude=self._excluded(parsed, view),
            filters=(*parsed.filters, *filters),
            date_from=date_from,
            date_to=date_to,
            sort=sort,
            facets=FACET_FIELDS if facets else (),
        )
        mode = "empty"
        partial_from: int | None = None
        found: list[tuple[float, Ref]] = []
        total = 0
        counts: dict[str, dict[str, int]] = {}
        if base.filtered and not parsed.clauses:
            # Filters without words: browse what they allow, newest first.
            mode = "browse"
            if sort == "relevance":
                sort = "newest"
            answer = view.match(replace(base, sort=sort))
            found, total = list(answer.ranked), answer.total
            _add_counts(counts, answer)
        elif parsed.clauses:
            mode = "all"
            every = self._all_node(parsed, view)
            named = self._naming(parsed, view)
            answer = view.match(
                replace(
                    base,
                    query=every,
                    bonus=(*self._proximity(parsed), *named),
                    rerank_depth=RERANK_DEPTH,
                )
            )
            found, total = list(answer.ranked), answer.total
            _add_counts(counts, answer)
            if total < FILL_BELOW and len(parsed.words()) > 1:
                # Too few have every word: those with some follow (all of them, if none).
                exact = total
                skip = every if base.exclude is None else Or((base.exclude, every))
                more = view.match(
                    replace(
                        base,
                        query=self._any_node(parsed, view),
                        exclude=skip,
                        bonus=(*self._pairs(parsed), *named),
                        rerank_depth=RERANK_DEPTH,
                    )
                )
                if more.total:
                    found = found + list(more.ranked)
                    total += more.total
                    _add_counts(counts, more)
                    mode = "all" if exact else "any"
                    partial_from = exact
        start = (page - 1) * pagelen
        window = found[start : start + pagelen]
        terms = parsed.highlight_terms()
        hits = self._hits(view, window, terms, start)
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
            facets={f: _top(c) for f, c in counts.items()} if facets and total else {},
            date_from=date_from,
            date_to=date_to,
            exact=partial_from,
        )

    def run(self, request: SearchRequest, *, facets: bool = True) -> ResultPage:
        """:meth:`search` for a :class:`SearchRequest` (the page, the API, the CLI)."""
        return self.search(
            request.q,
            request.page,
            sort=request.sort,
            pagelen=request.size,
            filters=request.filters,
            date_from=request.date_from,
            date_to=request.date_to,
            facets=facets,
        )

    def count(
        self,
        text: str,
        *,
        filters: Sequence[tuple[str, str]] = (),
        date_from: datetime | None = None,
        date_to: datetime | None = None,
    ) -> int:
        """How many articles match every word of ``text`` (no fallback, no hits)."""
        with self.pinned():
            view = self.view()
            parsed = self._resolve(parse(text, view.analyzer), view)
            if not parsed.clauses:
                return 0
            request = MatchRequest(
                query=self._all_node(parsed, view),
                limit=0,
                exclude=self._excluded(parsed, view),
                filters=(*parsed.filters, *filters),
                date_from=date_from,
                date_to=date_to,
            )
            return view.match(request).total

    def _words(self, terms: Iterable[str], view: View) -> dict[str, str]:
        """indexed word -> the query term it stands for: every written form of ``terms``."""
        wanted = {(t, word) for t in terms for form in self.forms(t, view) for word in form}
        return {word: t for t, word in sorted(wanted)}

    def _hits(
        self, view: View, window: list[tuple[float, Ref]], terms: set[str], start: int
    ) -> list[Hit]:
        if not window:
            return []
        refs = [ref for _, ref in window]
        words = self._words(terms, view) if terms else {}
        body_spans = view.spans("body", refs, words) if terms else {}
        title_spans = view.spans("title", refs, words) if terms else {}
        hits = []
        for i, ((score, ref), doc) in enumerate(zip(window, view.stored(refs), strict=True)):
            spans = body_spans.get(ref, {})
            if spans:
                snippet = highlight.snippet(doc.body, list(spans), spans)
            else:
                snippet = highlight.snippet(doc.summary or doc.body, [])
            title = doc.title or doc.id
            hits.append(
                Hit(
                    id=doc.id,
                    rank=start + i + 1,
                    score=round(float(score or 0.0), 4),
                    title=title,
                    title_html=highlight.mark(title, title_spans.get(ref, {})),
                    snippet_html=snippet,
                    **_about(doc),
                )
            )
        return hits

    # -- why this result -----------------------------------------------------------------

    def explain_terms(self, text: str) -> list[explaining.Leaf]:
        """The (field, term, boost) leaves of the main query the engine runs for ``text``."""
        with self.pinned():
            view = self.view()
            return self._leaves(self._resolve(parse(text, view.analyzer), view), view)

    def _leaves(self, parsed: ParsedQuery, view: View) -> list[explaining.Leaf]:
        return explaining.leaves(self._all_node(parsed, view)) if parsed.clauses else []

    def explain(self, text: str, hits: Sequence[Hit]) -> dict[str, explaining.Explanation]:
        """hit id -> the hit's score split by field and term of the query for ``text``,
        the bonus for being named by its title, and what is left: the proximity bonus."""
        with self.pinned():
            view = self.view()
            parsed = self._resolve(parse(text, view.analyzer), view)
            terms = self._leaves(parsed, view)
            named = self._naming(parsed, view)
            out = {}
            for hit in hits:
                ref = view.lookup(hit.id)
                if ref is None:
                    continue
                title = view.stored([ref])[0].title if named else ""
                bonus = sum(
                    view.scores(n.node, [ref])[0]
                    for n in named
                    if isinstance(n, Named) and naming.names(title, n.keys)
                )
                out[hit.id] = explaining.explain(
                    terms, _leaf_scorer(view, ref), score=hit.score, named=bonus
                )
            return out

    # -- documents and stats -------------------------------------------------------------

    def article(self, doc_id: str, text: str = "") -> Article | None:
        """The stored document ``doc_id`` with ``text``'s terms highlighted, or None."""
        with self.pinned():
            view = self.view()
            ref = view.lookup(doc_id)
            if ref is None:
                return None
            doc = view.stored([ref])[0]
            terms = (
                self._resolve(parse(text, view.analyzer), view).highlight_terms() if text else set()
            )
            spans: dict[Span, str] = {}
            title_spans: dict[Span, str] = {}
            if terms:
                words = self._words(terms, view)
                spans = view.spans("body", [ref], words).get(ref, {})
                title_spans = view.spans("title", [ref], words).get(ref, {})
            paragraphs = []
            offset = 0
            for line in doc.body.split("\n"):
                end = offset + len(line)
                if line.strip():
                    inside = [sp for sp in spans if sp[0] < end and sp[1] > offset]
                    shifted = [(s - offset, e - offset) for s, e in inside]
                    paragraphs.append(highlight.mark(line, shifted))
                offset = end + 1
            title = doc.title or doc_id
            return Article(
                id=doc_id,
                title=title,
                title_html=highlight.mark(title, title_spans),
                paragraphs_html=tuple(paragraphs),
                summary=doc.summary,
                matches=len(spans),
                **_about(doc),
            )

    def learned_words(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The words the index learned from the corpus, best first (at most ``limit``),
        without those the corpus's user dictionary now bans (``-词语``): they take
        effect at the next rebuild."""
        banned = self.analyzer.banned()
        words = [w for w in self.backend.learned_words() if w.get("word") not in banned]
        return words[:limit] if limit is not None else words

    def health(self) -> Health:
        """Whether the index answers, with its document count (never raises)."""
        return self.backend.health()

    def stats(self) -> dict[str, Any]:
        """Document count, date range, build metadata and index size."""
        with self.pinned():
            view = self.view()
            first, last = view.date_range()
            info = self.backend.info()
            built = info.pop("userdict", None)
            if built is not None:
                # The index answers with the dictionary it was built with; a different one
                # in the corpus takes effect at the next rebuild.
                info["dictionary"] = (
                    "the corpus's userdict.txt"
                    if built == self.analyzer.userdict_sha1
                    else "changed in the corpus since this build: run rebuild to use it"
                )
            return {"documents": view.doc_count(), "first_date": first, "last_date": last, **info}

    # -- suggestions and related articles ------------------------------------------------

    def suggest(self, text: str, limit: int = suggesting.LIMIT) -> list[suggesting.Suggestion]:
        """Completions, pinyin readings and titles for what is being typed (empty while
        a server's warm-up builds the first vocabulary: a request never waits)."""
        with self.pinned():
            vocab = self.vocabulary.get(self.view(), wait=False)
            return suggesting.suggest(vocab, text, limit) if vocab is not None else []

    def did_you_mean(
        self,
        text: str,
        *,
        found: int = 0,
        filters: Sequence[tuple[str, str]] = (),
        date_from: datetime | None = None,
        date_to: datetime | None = None,
    ) -> str | None:
        """A query close to ``text`` that finds more with the same filters, or None."""
        with self.pinned():
            vocab = self.vocabulary.get(self.view(), wait=False)
            if vocab is None:
                return None

            def count(candidate: str) -> int:  # every word, no fallback, no highlighting
                return self.count(candidate, filters=filters, date_from=date_from, date_to=date_to)

            return suggesting.did_you_mean(text, vocab, count, found=found)

    def related(
        self,
        doc_id: str,
        *,
        limit: int = relating.LIMIT,
        duplicate_limit: int = relating.DUPLICATE_LIMIT,
    ) -> relating.Related | None:
        """Related articles and other sources of the same story (None: no such article).
        Remembered per index generation: an article opened again costs nothing."""
        with self.pinned():
            view = self.view()
            return self._related.get(
                view.generation,
                (doc_id, limit, duplicate_limit),
                lambda: relating.related(view, view.analyzer, doc_id, limit, duplicate_limit),
            )


def _about(doc: Stored) -> dict[str, Any]:
    """What a hit and an article page show of an article besides its text."""
    return {
        "date": doc.date,
        "source": doc.source,
        "source_url": doc.source_url,
        "categories": doc.categories,
        "tags": doc.tags,
        "lang": doc.lang,
        "script": doc.script,
        "thumbnail": doc.thumbnail,
    }


def _leaf_scorer(view: View, ref: Ref) -> Callable[[Node], float]:
    """One document's score for a single term or phrase."""
    return lambda node: view.scores(node, [ref])[0]


def _add_counts(counts: dict[str, dict[str, int]], answer: Matches) -> None:
    for fieldname, values in answer.facets.items():
        mine = counts.setdefault(fieldname, {})
        for value, n in values.items():
            mine[value] = mine.get(value, 0) + n


def _top(values: dict[str, int]) -> tuple[tuple[str, int], ...]:
    ordered = sorted(values.items(), key=lambda vc: (-vc[1], vc[0]))
    return tuple(ordered[:FACET_LIMIT])
