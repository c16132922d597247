"""The Backend protocol: everything the engine and the indexer need from an index.

The engine (:mod:`searchapp.engine`) decides *what* to ask: which words must match, which
only add to the score, the proximity bonus, the fallback to partial matches, facets,
pages. A backend answers those questions over its own index, to the engine's terms:

- a query is a small tree of :data:`Node` values (terms and phrases of the full-text
  fields, filter values, And / Or / AndMaybe), already analysed: the backend never
  segments text of its own;
- ranking is BM25F over the text fields with one IDF per term taken over the whole
  article (Lucene's BM25 IDF), the parameters in :class:`Ranking`;
- a :class:`View` is one committed generation of the index: everything read through it
  is consistent even while a writer commits; ``Backend.view()`` returns the calling
  thread's current view, and ``Backend.pinned()`` keeps it for a whole request.

Writing goes through the same object (``rebuild``, ``update``), so the shells never
import a backend module: :func:`searchapp.backends.open_backend` picks one from the
settings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from searchapp.documents import Document
from searchapp.fields import TEXT_FIELDS
from searchapp.indexing import BuildStats, Progress
from searchapp.text.analysis import Analyzer
from searchapp.text.synonyms import Synonyms

# -- the query tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A term of a full-text field; its BM25 score times ``boost``."""

    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase:
    """Words of a full-text field at consecutive positions (``slop`` 1), or each next word
    within ``slop`` positions after the one before; scored as the sum of the words' BM25
    scores, times ``boost``."""

    field: str
    words: tuple[str, ...]
    boost: float = 1.0
    slop: int = 1


@dataclass(frozen=True)
class Keyword:
    """A filter: ``field`` (tags, categories, source, lang, script) has ``value``, in any
    letter case. A value no article has matches nothing. Never scored."""

    field: str
    value: str


@dataclass(frozen=True)
class And:
    """Every child matches; the scores add up."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Any child matches; the scores of those that match add up."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class AndMaybe:
    """``required`` must match; ``optional`` only adds its score where it matches too."""

    required: Node
    optional: Node


@dataclass(frozen=True)
class Named:
    """The articles a query names (:mod:`searchapp.text.naming`): those whose whole title
    is within one of ``keys`` (the query's typed runs, as ``naming.title_key`` gives
    them), each scored by ``node`` (0 where it does not match). Only a bonus
    (:attr:`MatchRequest.bonus`): it is looked for among the ranked candidates."""

    keys: tuple[str, ...]
    node: Node


@dataclass(frozen=True)
class Every:
    """Every live article, score 0 (browsing by filters)."""


@dataclass(frozen=True)
class Nothing:
    """No article."""


Node = Term | Phrase | Keyword | And | Or | AndMaybe | Named | Every | Nothing

#: One document of one index generation, as the backend names it (opaque to the engine).
Ref = Hashable
#: A character span (start, end) in a stored field.
Span = tuple[int, int]


def leaves(node: Node) -> Iterator[Term | Phrase]:
    """Every term and phrase of ``node``, depth first (filters left out)."""
    if isinstance(node, Term | Phrase):
        yield node
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from leaves(child)
    elif isinstance(node, AndMaybe):
        yield from leaves(node.required)
        yield from leaves(node.optional)
    elif isinstance(node, Named):
        yield from leaves(node.node)


# -- requests and answers -------------------------------------------------------------------


@dataclass(frozen=True)
class Ranking:
    """BM25F parameters: ``k1``, ``b`` per field (``default_b`` otherwise); the field
    weights are the boosts the engine puts on each field's terms
    (:data:`searchapp.fields.TEXT_FIELDS`)."""

    k1: float = 1.2
    default_b: float = 0.75
    field_b: Mapping[str, float] = field(
        default_factory=lambda: {"title": 0.5, "summary": 0.6, "body": 0.75}
    )
    text_fields: tuple[str, ...] = tuple(TEXT_FIELDS)


@dataclass(frozen=True)
class MatchRequest:
    """What to find and how many of the best to return.

    ``query`` decides what matches and its BM25F score; ``exclude`` removes what it
    matches; every ``filters`` pair must hold (any letter case); dates are inclusive and
    leave undated articles out. With ``sort="relevance"``, the ``rerank_depth`` best get
    the summed scores of ``bonus`` (proximity phrases, :class:`Named`) added before the
    final order;
    equal scores go newest first. ``newest`` / ``oldest`` order by date, undated last.
    ``facets`` names the filter fields to count values of over *every* match.
    """

    query: Node
    limit: int = 10
    exclude: Node | None = None
    filters: tuple[tuple[str, str], ...] = ()
    date_from: datetime | None = None
    date_to: datetime | None = None
    sort: str = "relevance"
    bonus: tuple[Node, ...] = ()
    rerank_depth: int = 0
    facets: tuple[str, ...] = ()

    @property
    def filtered(self) -> bool:
        """True when filters or dates narrow the request."""
        return bool(self.filters or self.date_from or self.date_to)


@dataclass(frozen=True)
class Matches:
    """The best ``limit`` matches in order, how many matched, and facet counts."""

    ranked: tuple[tuple[float, Ref], ...]
    total: int
    #: field -> value (as indexed) -> how many matches have it
    facets: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Stored:
    """The stored fields of one article."""

    id: str
    title: str = ""
    summary: str = ""
    body: str = ""
    date: datetime | None = None
    source: str = ""
    source_url: str = ""
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    lang: str = ""
    script: str = ""
    thumbnail: str = ""

    @classmethod
    def from_fields(cls, doc_id: str, fields: Mapping[str, Any], **given: Any) -> Stored:
        """The article ``doc_id`` from a backend's stored values, where categories and tags
        are comma-joined; ``given`` values (the text, the date) take precedence."""
        values = {name: fields.get(name, "") for name in _PLAIN_STORED}
        values["categories"] = _split(fields.get("categories", ""))
        values["tags"] = _split(fields.get("tags", ""))
        return cls(id=doc_id, **{**values, **given})


#: The stored values that are plain strings.
_PLAIN_STORED = ("title", "summary", "body", "source", "source_url", "lang", "script", "thumbnail")


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in (value or "").split(",") if v)


@dataclass(frozen=True)
class TitleEntry:
    """One article's title, for title suggestions."""

    id: str
    title: str
    date: datetime | None


@dataclass(frozen=True)
class Health:
    """Whether the index can answer, and what to say about it."""

    ok: bool
    documents: int
    #: "ok", "unavailable", or a cluster's own word ("yellow": answering, replicas missing)
    status: str = "ok"
    reason: str = ""
    hint: str = ""


# -- errors ---------------------------------------------------------------------------------


class IndexUnavailable(Exception):
    """The index cannot be searched; ``str()`` says why and ``hint`` how to fix it."""

    hint = "Build it with: python -m searchapp rebuild"


class IndexMissing(IndexUnavailable):
    """No index has been built yet."""


class IndexStale(IndexUnavailable):
    """The index was built by another analyzer or schema version."""


class IndexCorrupt(IndexUnavailable):
    """The index exists but cannot be read."""

    hint = "Rebuild it with: python -m searchapp rebuild"


class ServiceUnavailable(IndexUnavailable):
    """The search service (a cluster) cannot be reached or is not healthy."""

    hint = "Check that the search cluster is running and reachable"


class IndexBusy(Exception):
    """Another process is writing the index."""


# -- the protocol ---------------------------------------------------------------------------


@runtime_checkable
class View(Protocol):
    """One committed generation of the index, as the engine reads it."""

    #: the analysis this generation was built with: queries are analysed the same way
    analyzer: Analyzer
    #: the synonyms this generation answers with (kept with the index, see ``update``)
    synonyms: Synonyms

    @property
    def generation(self) -> Hashable:
        """What identifies this generation (equal views read the same documents)."""
        ...

    def doc_count(self) -> int:
        """Live articles."""
        ...

    def has_term(self, field: str, term: str) -> bool:
        """True when some article has ``term`` in the full-text ``field``."""
        ...

    def match(self, request: MatchRequest) -> Matches:
        """Run one request (see :class:`MatchRequest`)."""
        ...

    def lookup(self, doc_id: str) -> Ref | None:
        """The reference of the article ``doc_id``, or None."""
        ...

    def stored(self, refs: Sequence[Ref]) -> list[Stored]:
        """The stored fields of each of ``refs``, in order."""
        ...

    def spans(
        self, field: str, refs: Sequence[Ref], words: Mapping[str, str]
    ) -> dict[Ref, dict[Span, str]]:
        """ref -> {character span: what it stands for}: where the indexed ``words``
        (indexed term -> the query term it stands for) occur in ``field`` of ``refs``."""
        ...

    def scores(self, node: Node, refs: Sequence[Ref]) -> list[float]:
        """``node``'s score for each of ``refs`` (0 where it does not match)."""
        ...

    def field_length(self, field: str) -> int:
        """How many tokens ``field`` holds over the whole index (0: the field is empty)."""
        ...

    def term_stats(self, field: str, terms: Iterable[str]) -> dict[str, tuple[int, int]]:
        """term -> (document frequency, collection frequency) in ``field``, for the terms
        the field has."""
        ...

    def containing(
        self, refs: Sequence[Ref], fields: Sequence[str], terms: Sequence[str]
    ) -> dict[Ref, set[str]]:
        """ref -> which of ``terms`` it has in any of ``fields``."""
        ...

    def document_frequencies(self) -> Mapping[str, int]:
        """Every term of the text fields -> its largest document frequency over them."""
        ...

    def titles(self) -> Iterable[TitleEntry]:
        """Every live article's title and date."""
        ...

    def date_range(self) -> tuple[datetime | None, datetime | None]:
        """The first and last article dates."""
        ...

    def load_derived(self, name: str) -> tuple[bytes, bool] | None:
        """What the engine derived from the index and saved with it (``Backend.save_derived``)
        under ``name``: (data, True) when it was derived from this very generation,
        (data, False) from an earlier state of it (an update committed since), None when
        there is none."""
        ...


@runtime_checkable
class Backend(Protocol):
    """An index the engine can search and the indexer can write."""

    name: str

    def view(self) -> View:
        """The calling thread's view of the latest committed generation (the same one
        throughout a :meth:`pinned` block)."""
        ...

    def pinned(self) -> contextlib.AbstractContextManager[None]:
        """Keep this thread's view for the whole block (a web request)."""
        ...

    def info(self) -> dict[str, Any]:
        """What ``stats`` shows beyond the counts: build times, versions, size."""
        ...

    def health(self) -> Health:
        """Whether the index answers (never raises)."""
        ...

    def close(self) -> None:
        """Release this thread's resources."""
        ...

    # -- writing (the CLI only; the web app never writes) --------------------------------

    def rebuild(
        self,
        corpus_dir: Path,
        *,
        progress: Progress | None = None,
        procs: int | None = None,
        learn: bool = True,
    ) -> BuildStats:
        """Index every article under ``corpus_dir`` again; readers keep the old index until
        the new one is complete. With ``learn``, words the dictionary does not know are
        learned from the articles first (``searchapp.indexing.learn_words``) and kept with
        the index. Raises :class:`IndexBusy` while another writer runs and
        :class:`FileNotFoundError` for a missing corpus."""
        ...

    def update(self, corpus_dir: Path, *, progress: Progress | None = None) -> BuildStats:
        """Index only added, changed (by checksum) and deleted articles."""
        ...

    def index_documents(
        self,
        docs: Iterable[Document],
        *,
        progress: Progress | None = None,
        procs: int | None = None,
        total: int = 0,
        learn: bool = True,
    ) -> BuildStats:
        """Rebuild from documents that do not come from a folder (a JSON-lines dump)."""
        ...

    def save_derived(self, view: View, name: str, data: bytes) -> None:
        """Keep ``data``, derived from ``view``'s generation, with the index (readers load
        it instead of computing it: the suggestion vocabulary)."""
        ...

    def learned_words(self) -> list[dict[str, Any]]:
        """The words the last rebuild learned from the corpus, best first, each with its
        statistics (``word``, ``count``, ``docs``, ``score``, ``cohesion``,
        ``left_entropy``, ``right_entropy``, ``frequency``)."""
        ...

    def exists(self) -> bool:
        """True when an index is there, usable or not (``update`` builds one otherwise)."""
        ...

    def needs_rebuild(self) -> bool:
        """True when there is no index this code can search."""
        ...
