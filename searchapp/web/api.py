"""The JSON API: search, one article, suggestions as you type, and a health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from searchapp.engine import IndexUnavailable
from searchapp.engine.request import BadRequestInput, parse_date
from searchapp.engine.serialize import page_to_dict
from searchapp.engine.suggest import Suggestion
from searchapp.web.common import (
    did_you_mean,
    doc_url,
    engine,
    explanations,
    log,
    related,
    related_dict,
    search_request,
    suggestion_dict,
)

bp = Blueprint("api", __name__)

#: Longest ``q`` /api/suggest reads (the rest is ignored) and echoes back.
SUGGEST_MAX_QUERY = 200


@bp.get("/api/search")
def api_search() -> Any:
    """Search results as JSON (the shape of :func:`searchapp.engine.serialize.page_to_dict`)."""
    args = request.args
    for key in ("from", "to"):
        try:
            parse_date(args.get(key, ""), end_of_day=key == "to")
        except BadRequestInput as exc:
            return jsonify({"error": str(exc), "status": 400}), 400
    sr, _ = search_request(default_size=engine().page_size)
    result = engine().run(sr)
    body = page_to_dict(
        result,
        lambda hit: doc_url(hit.id, sr.q),
        explanations=explanations(sr, result) if sr.explain else None,
        suggestion=did_you_mean(sr, result),
    )
    return jsonify(body)


@bp.get("/api/doc/<path:doc_id>")
def api_doc(doc_id: str) -> Any:
    """One article as JSON; ``paragraphs`` are escaped HTML with ``<mark>``."""
    q = request.args.get("q", "").strip()
    article = engine().article(doc_id, q)
    if article is None:
        return jsonify({"error": "document not found", "id": doc_id, "status": 404}), 404
    rel = related(doc_id)
    return jsonify(
        {
            "id": article.id,
            "url": doc_url(article.id, q),
            "title": article.title,
            "title_html": article.title_html,
            "date": article.date.isoformat(sep=" ") if article.date else None,
            "source": article.source,
            "source_url": article.source_url,
            "categories": list(article.categories),
            "tags": list(article.tags),
            "lang": article.lang,
            "script": article.script,
            "summary": article.summary,
            "matches": article.matches,
            "paragraphs": list(article.paragraphs_html),
            "related": [related_dict(d) for d in rel.related] if rel else [],
            "duplicates": [related_dict(d) for d in rel.duplicates] if rel else [],
        }
    )


@bp.get("/api/suggest")
def api_suggest() -> Any:
    """Suggestions for what is being typed in the search box.

    Never a 500: an empty or odd ``q`` gives an empty list, an unexpected failure is
    logged and gives an empty list too (a missing index is still a 503)."""
    q = request.args.get("q", "")[:SUGGEST_MAX_QUERY]
    items: list[Suggestion] = []
    if q.strip():
        try:
            items = engine().suggest(q)
        except IndexUnavailable:
            raise
        except Exception:
            log.exception("suggestions failed for %r", q)
    if request.args.get("format") == "opensearch":
        # What a browser's search bar reads: [query, [completions]] (titles left out:
        # choosing one would search for the title).
        texts = [i.text for i in items if i.kind != "title"]
        response = jsonify([q, texts])
    else:
        response = jsonify({"q": q, "suggestions": [suggestion_dict(i) for i in items]})
    response.headers["Cache-Control"] = "private, max-age=30"
    return response


@bp.get("/healthz")
def healthz() -> Any:
    """200 with the document count, or 503 with the reason and the fix."""
    health = engine().health()
    if not health.ok:
        return jsonify({"status": health.status, "reason": health.reason, "hint": health.hint}), 503
    return jsonify({"status": health.status, "documents": health.documents})
