"""What the page and the API share: the app's engine, one index generation per request,
the request log line and security headers, and the search glue (run a request, "did you
mean", related articles) with its failures kept out of the answer."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, request, url_for

from searchapp.engine import Engine, IndexUnavailable
from searchapp.engine.explain import Explanation
from searchapp.engine.related import Related, RelatedDoc
from searchapp.engine.request import SearchRequest, read_request
from searchapp.engine.results import ResultPage
from searchapp.engine.suggest import Suggestion

log = logging.getLogger("searchapp.web")

EXTENSION = "searchapp"
WARMED = "searchapp.vocabulary-warmed"
PIN = "searchapp_pin"
#: Below this many results (or with only some words matched) a "did you mean" query is
#: offered.
FEW_RESULTS = 3

CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def engine() -> Engine:
    """The current app's search engine."""
    return current_app.extensions[EXTENSION]


def pin_index() -> None:
    """Before a request: one index generation for the whole request (a rebuild committed
    while it runs must not swap, and close, the readers it is using)."""
    pin = engine().pinned()
    pin.__enter__()
    g.setdefault(PIN, pin)


def unpin_index(exc: BaseException | None) -> None:
    """After a request: release its index generation."""
    pin = g.pop(PIN, None)
    if pin is not None:
        pin.__exit__(None, None, None)


def start_timer() -> None:
    """Before a request: note the time; the first request of a server starts the
    suggestion vocabulary's warm-up (not for CLI commands, not in tests)."""
    g.searchapp_started = time.perf_counter()
    if not current_app.testing and not current_app.extensions.get(WARMED):
        warm_up(current_app)


def warm_up(app: Flask) -> Any:
    """Prepare what the first request would otherwise pay for (once per app): the page
    templates compiled, the segmenter set up, the suggestion vocabulary loaded (or built
    in the background when the index has none saved: that thread is returned)."""
    if app.extensions.get(WARMED):
        return None
    app.extensions[WARMED] = True
    for name in app.jinja_env.list_templates(extensions=["html"]):
        app.jinja_env.get_template(name)
    return app.extensions[EXTENSION].warm_up()


def preload(app: Flask) -> None:
    """Prepare ``app`` in a process that forks the workers (gunicorn's master, with
    ``preload_app``): warm it up (:func:`warm_up`) and wait for a vocabulary being
    built, so that every worker starts with the segmenter and the vocabulary ready and
    shares their memory with the others. What is per process (index searchers, cluster
    connections) is opened by each worker itself: the warm-up closes its searcher, and
    the OpenSearch backend reconnects in a forked child."""
    thread = warm_up(app)
    if thread is not None:
        thread.join()


def finish_response(response: Response) -> Response:
    """After a request: security headers and one log line."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    started = g.get("searchapp_started")
    took = (time.perf_counter() - started) * 1000 if started is not None else 0.0
    log.info(
        "method=%s path=%s status=%d duration_ms=%.1f",
        request.method,
        _logfmt(request.path),
        response.status_code,
        took,
    )
    return response


def _logfmt(value: str) -> str:
    """A value safe for one key=value log line (quoted when it has spaces or quotes)."""
    value = value.replace("\n", "\\n").replace("\r", "\\r")
    if not value or any(c in value for c in ' "='):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def search_request(default_size: int | None = None) -> tuple[SearchRequest, str | None]:
    """The search this request's query string asks for (see ``read_request``)."""
    args = request.args
    return read_request(args.get, args.getlist, default_size=default_size)


def search_url(params: dict[str, Any], anchor: str = "") -> str:
    """The search page's URL with ``params``."""
    return url_for("web.search") + ("?" + urlencode(params, doseq=True) if params else "") + anchor


def doc_url(doc_id: str, q: str = "") -> str:
    """An article page's URL, the query's words to highlight in it."""
    return url_for("web.doc", doc_id=doc_id, q=q or None)


def did_you_mean(sr: SearchRequest, result: ResultPage) -> dict[str, str] | None:
    """A better query when this one found fewer than :data:`FEW_RESULTS` articles, or
    none with every word; checked with the engine and the page's filters."""
    if not sr.q or result.mode not in ("all", "any"):
        return None
    if result.every_word >= FEW_RESULTS:
        return None
    try:
        better = engine().did_you_mean(
            sr.q,
            found=result.every_word,
            filters=sr.filters,
            date_from=sr.date_from,
            date_to=sr.date_to,
        )
    except IndexUnavailable:
        raise
    except Exception:  # a suggestion is optional: never let it break the results
        log.exception("did-you-mean failed for %r", sr.q)
        return None
    if not better:
        return None
    return {"q": better, "url": search_url(sr.params(q=better, page=None))}


def explanations(sr: SearchRequest, result: ResultPage) -> dict[str, Explanation]:
    """hit id -> its score split by field and term (``explain=1``)."""
    return engine().explain(sr.q, result.hits)


def related(doc_id: str) -> Related | None:
    """Related articles and other sources; an article page never fails because of them."""
    try:
        return engine().related(doc_id)
    except IndexUnavailable:
        raise
    except Exception:
        log.exception("related articles failed for %r", doc_id)
        return None


def related_dict(doc: RelatedDoc) -> dict[str, Any]:
    """A related article as JSON."""
    return {
        "id": doc.id,
        "title": doc.title,
        "url": doc_url(doc.id),
        "date": doc.date.isoformat(sep=" ") if doc.date else None,
        "source": doc.source,
        "score": doc.score,
        "title_similarity": doc.title_similarity,
        "body_similarity": doc.body_similarity,
    }


def suggestion_dict(item: Suggestion) -> dict[str, str]:
    """A suggestion as JSON, with the URL it leads to."""
    url = doc_url(item.doc_id) if item.kind == "title" else search_url({"q": item.text})
    return {"text": item.text, "kind": item.kind, "url": url}


_stats_cache: dict[tuple[Any, ...], dict[str, Any]] = {}


def stats() -> dict[str, Any]:
    """engine.stats(), cached until the index changes."""
    eng = engine()
    with eng.pinned():
        key = (id(eng), eng.view().generation)
        if key not in _stats_cache:
            found = eng.stats()
            _stats_cache.clear()
            _stats_cache[key] = found
        return _stats_cache[key]
