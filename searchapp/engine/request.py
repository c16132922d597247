"""One search request model for every shell: the page, the JSON API and ``search --json``.

:func:`read_request` turns raw parameters (a URL's query string, the CLI's options) into a
:class:`SearchRequest`: dates parsed (``to`` is the end of its day), page and size
clamped, filters normalised and de-duplicated, the sort checked. A parameter that cannot
be understood is reported, never raised past the shell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from searchapp.engine.results import SORTS, clamp_page

#: Largest page size the JSON API gives (the CLI allows the engine's own limit, 100).
MAX_SIZE = 50
MAX_FILTERS = 20
TRUE_WORDS = {"1", "true", "yes", "on"}
#: URL parameter -> index field. Each may repeat.
FILTER_PARAMS = (("tag", "tags"), ("source", "source"), ("lang", "lang"), ("script", "script"))
FIELD_PARAM = {fieldname: param for param, fieldname in FILTER_PARAMS}
#: Fields whose values the indexer stores lower-cased.
LOWERCASE_FIELDS = {"tags", "source"}


class BadRequestInput(ValueError):
    """A request parameter that cannot be understood (a date that is not a date)."""


@dataclass(frozen=True)
class SearchRequest:
    """What a person asked for, checked and normalised."""

    q: str
    page: int = 1
    sort: str = "relevance"
    filters: tuple[tuple[str, str], ...] = ()
    date_from: datetime | None = None
    date_to: datetime | None = None
    raw_from: str = ""
    raw_to: str = ""
    #: show why each hit ranks where it does (``explain=1``)
    explain: bool = False
    #: results per page; None: the engine's default
    size: int | None = None

    def params(self, **changes: Any) -> dict[str, Any]:
        """URL parameters for this search, with ``changes`` applied (None drops a key)."""
        out: dict[str, Any] = {"q": self.q}
        if self.sort != "relevance":
            out["sort"] = self.sort
        for fieldname, value in self.filters:
            out.setdefault(FIELD_PARAM[fieldname], []).append(value)
        if self.raw_from:
            out["from"] = self.raw_from
        if self.raw_to:
            out["to"] = self.raw_to
        if self.page > 1:
            out["page"] = self.page
        if self.explain:
            out["explain"] = 1
        out.update(changes)
        return {k: v for k, v in out.items() if v not in (None, "", [])}


def parse_date(raw: str, end_of_day: bool) -> datetime | None:
    """A ``YYYY-MM-DD`` (or ISO) date; with ``end_of_day`` a bare date means its last
    second. Raises :class:`BadRequestInput` with a message for people."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequestInput(f"日期格式不正确：{raw!r}（请使用 YYYY-MM-DD）") from None
    if end_of_day and len(raw) <= 10:
        value = value.replace(hour=23, minute=59, second=59)
    return value.replace(tzinfo=None)


def clamp_size(raw: Any, default: int | None, most: int = MAX_SIZE) -> int | None:
    """A page size from user input, within 1..``most``; ``default`` when it is missing or
    not a number."""
    try:
        size = int(str(raw).strip())
    except (TypeError, ValueError):
        return default
    return min(max(size, 1), most)


def read_filters(getlist: Callable[[str], Sequence[str]]) -> tuple[tuple[str, str], ...]:
    """The filter parameters (``tag``, ``source``, ``lang``, ``script``; each may repeat)."""
    out: list[tuple[str, str]] = []
    for param, fieldname in FILTER_PARAMS:
        for value in getlist(param):
            value = " ".join(str(value).split())
            if not value:
                continue
            if fieldname in LOWERCASE_FIELDS:
                value = value.lower()
            if (fieldname, value) not in out:
                out.append((fieldname, value))
    return tuple(out[:MAX_FILTERS])


def read_request(
    get: Callable[[str], str | None],
    getlist: Callable[[str], Sequence[str]],
    *,
    default_size: int | None = None,
    max_size: int = MAX_SIZE,
) -> tuple[SearchRequest, str | None]:
    """The request the parameters ask for and, for a bad date, a message for people (the
    dates are then left out). ``get(name)`` gives one parameter, ``getlist(name)`` all."""
    raw_from, raw_to = (get("from") or "").strip(), (get("to") or "").strip()
    error = None
    try:
        date_from = parse_date(raw_from, end_of_day=False)
        date_to = parse_date(raw_to, end_of_day=True)
    except BadRequestInput as exc:
        error, date_from, date_to, raw_from, raw_to = str(exc), None, None, "", ""
    sort = get("sort") or "relevance"
    return (
        SearchRequest(
            q=(get("q") or "").strip(),
            page=clamp_page(get("page") or 1),
            sort=sort if sort in SORTS else "relevance",
            filters=read_filters(getlist),
            date_from=date_from,
            date_to=date_to,
            raw_from=raw_from,
            raw_to=raw_to,
            explain=(get("explain") or "").strip().lower() in TRUE_WORDS,
            size=clamp_size(get("size"), default_size, max_size),
        ),
        error,
    )
