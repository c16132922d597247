"""One JSON shape of search results, for the API and ``search --json``; and the terminal's
plain snippets."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

from searchapp.engine.explain import Explanation
from searchapp.engine.results import Hit, ResultPage
from searchapp.fields import FACET_FIELDS

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)
_TAG = re.compile(r"<[^>]+>")


def hit_to_dict(hit: Hit, url: str = "") -> dict[str, Any]:
    """A hit as JSON-ready data. ``snippet`` is HTML: text escaped, matches in ``<mark>``."""
    return {
        "id": hit.id,
        "rank": hit.rank,
        "title": hit.title,
        "title_html": hit.title_html,
        "date": hit.date.isoformat(sep=" ") if hit.date else None,
        "source": hit.source,
        "source_url": hit.source_url,
        "categories": list(hit.categories),
        "tags": list(hit.tags),
        "lang": hit.lang,
        "script": hit.script,
        "score": hit.score,
        "snippet": hit.snippet_html,
        "url": url,
    }


def page_to_dict(
    page: ResultPage,
    url_for_hit: Callable[[Hit], str] | None = None,
    *,
    explanations: Mapping[str, Explanation] | None = None,
    suggestion: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A result page as JSON-ready data: the hits, counts, facets, dates and, when given,
    each hit's explanation and a "did you mean" suggestion."""
    hits = [hit_to_dict(h, url_for_hit(h) if url_for_hit else "") for h in page.hits]
    if explanations is not None:
        for hit in hits:
            found = explanations.get(hit["id"])
            hit["explain"] = found.as_dict() if found else None
    return {
        "query": page.query,
        "total": page.total,
        "exact": page.every_word,
        "page": page.page,
        "pages": page.pages,
        "page_size": page.pagelen,
        "sort": page.sort,
        "mode": page.mode,
        "took_ms": round(page.took_ms, 2),
        "terms": list(page.terms),
        "truncated": page.truncated,
        "filters": [{"field": f, "value": v} for f, v in page.filters],
        "hits": hits,
        "suggestion": suggestion,
        "facets": {
            fieldname: [{"value": v, "count": n} for v, n in page.facets.get(fieldname, ())]
            for fieldname in FACET_FIELDS
        },
        "date_from": page.date_from.isoformat(sep=" ") if page.date_from else None,
        "date_to": page.date_to.isoformat(sep=" ") if page.date_to else None,
    }


def plain_snippet(snippet_html: str, color: bool = False) -> str:
    """Snippet HTML as terminal text: marks become bold (on a terminal) or [brackets]."""
    repl = "\033[1;33m\\1\033[0m" if color else "[\\1]"
    return html.unescape(_TAG.sub("", _MARK.sub(repl, snippet_html)))
