"""What a search returns: hits, a page of them, one article. Plain frozen data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SORTS = ("relevance", "newest", "oldest")
MAX_PAGE = 1000


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
    #: see ``search.FILL_BELOW``) follow. ``None``: all of them (no partial matches added).
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


def clamp_page(page: Any) -> int:
    """A page number from user input: non-numbers and values below 1 become 1."""
    try:
        number = int(str(page).strip())
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)
