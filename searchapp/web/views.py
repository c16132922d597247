"""The web front end: the search page, the article page, a JSON API and a health check.

A thin shell over :class:`searchapp.searcher.Engine`: read the request, call the engine,
render. One engine per app lives in ``app.extensions["searchapp"]``. An unusable index
(:class:`searchapp.store.IndexUnavailable`) becomes a 503 page or 503 JSON naming the fix;
every other error becomes a friendly page, never a stack trace.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from werkzeug.exceptions import HTTPException, InternalServerError

from searchapp import config
from searchapp.backends.whoosh import store
from searchapp.backends.whoosh.schema import TEXT_FIELDS
from searchapp.engine import explain, related, suggest
from searchapp.engine.search import Engine, ResultPage, clamp_page
from searchapp.engine.serialize import page_to_dict
from searchapp.text.query import MAX_UNITS
from searchapp.text.synonyms import load_synonyms

log = logging.getLogger("searchapp.web")

bp = Blueprint("web", __name__)

EXTENSION = "searchapp"
API_MAX_SIZE = 50
#: Longest ``q`` /api/suggest reads (the rest is ignored) and echoes back.
SUGGEST_MAX_QUERY = 200
#: Below this many results (or with only some words matched) the page offers a
#: "did you mean" query.
FEW_RESULTS = 3
FIELD_LABELS = {"title": "标题", "summary": "摘要", "body": "正文"}
TRUE_WORDS = {"1", "true", "yes", "on"}
MAX_FILTERS = 20
#: URL parameter -> index field. ``tag`` and ``source`` may repeat.
FILTER_PARAMS = (("tag", "tags"), ("source", "source"), ("lang", "lang"), ("script", "script"))
FIELD_PARAM = {fieldname: param for param, fieldname in FILTER_PARAMS}
#: Fields whose values are stored lower-cased by the indexer (the CLI lower-cases them too).
LOWERCASE_FIELDS = {"tags", "source"}
SORT_LABELS = (("relevance", "相关度"), ("newest", "最新"), ("oldest", "最早"))
FACET_TITLES = (("source", "来源"), ("tags", "标签"), ("script", "简繁"), ("lang", "语言"))
SCRIPT_LABELS = {"hans": "简体", "hant": "繁体"}
LANG_LABELS = {
    "zh-CN": "中文（大陆）",
    "zh-Hans": "简体中文",
    "zh-TW": "中文（台湾）",
    "zh-HK": "中文（香港）",
    "zh-Hant": "繁体中文",
    "zh-SG": "中文（新加坡）",
    "en": "英文",
}
EXAMPLES = ("DeepSeek", "人工智能", '"开源模型"', "習近平", "黃仁勳 OR 马斯克", "tag:qq 关税")

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


class BadRequestInput(ValueError):
    """A request parameter that cannot be understood (a date that is not a date)."""


# -- app wiring ---------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Create the app's engine and register routes, error pages, headers and logging."""
    corpus = Path(app.config["CORPUS_DIR"])
    synonyms = load_synonyms(config.synonyms_path(corpus))
    app.extensions[EXTENSION] = Engine(
        Path(app.config["INDEX_DIR"]),
        userdict=config.userdict_path(corpus),
        page_size=int(app.config["PAGE_SIZE"]),
        expand=synonyms.expand,
    )
    app.register_blueprint(bp)
    app.register_error_handler(store.IndexUnavailable, _index_unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.before_request(_start_timer)
    app.before_request(_pin_index)
    app.teardown_request(_unpin_index)
    app.after_request(_finish_response)
    app.add_template_global(_static_url, "static_url")
    app.add_template_filter(_score, "score")
    app.add_template_filter(_day, "day")
    app.add_template_filter(_weight, "weight")
    if not log.handlers and not app.testing:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        log.addHandler(handler)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
    if app.config.get("WARM_UP"):
        warm_up(app)


def engine() -> Engine:
    """The current app's search engine."""
    return current_app.extensions[EXTENSION]


PIN = "searchapp_pin"


def _pin_index() -> None:
    # One index generation for the whole request: a rebuild committed while the request
    # runs must not swap (and close) the readers it is using.
    pin = engine().pinned()
    pin.__enter__()
    g.setdefault(PIN, pin)


def _unpin_index(exc: BaseException | None) -> None:
    pin = g.pop(PIN, None)
    if pin is not None:
        pin.__exit__(None, None, None)


def _start_timer() -> None:
    g.searchapp_started = time.perf_counter()
    # The suggestion vocabulary takes a second or two to read from a large index: start
    # it with the first request of a server (not for CLI commands, not in tests).
    if not current_app.testing and not current_app.extensions.get(WARMED):
        warm_up(current_app)


def warm_up(app: Flask) -> threading.Thread | None:
    """Start building the suggestion vocabulary in the background (once per app), so
    that the first searches do not share the processor with it. Returns the thread."""
    if app.extensions.get(WARMED):
        return None
    app.extensions[WARMED] = True
    eng = app.extensions[EXTENSION]
    return suggest.refresh(_owner(eng), _opener(eng))


WARMED = "searchapp.vocabulary-warmed"


def _owner(eng: Engine) -> str:
    return suggest.owner_for(eng.index_dir)


def _opener(eng: Engine) -> Any:
    index_dir = eng.index_dir

    def open_reader() -> Any:
        return store.open_index(index_dir).reader()

    return open_reader


def vocabulary() -> suggest.Vocabulary | None:
    """The current index's suggestion vocabulary (rebuilt in the background on change);
    None while a server's warm-up builds the first one: a request never waits for it."""
    eng = engine()
    return suggest.vocabulary(eng.searcher(), owner=_owner(eng), opener=_opener(eng), wait=False)


def _finish_response(response: Response) -> Response:
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


_static_hashes: dict[str, str] = {}


def _static_url(filename: str) -> str:
    """URL of a static file with a content hash, so browsers never keep a stale copy."""
    version = _static_hashes.get(filename)
    if version is None:
        path = Path(current_app.static_folder or "") / filename
        try:
            version = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        except OSError:
            version = "0"
        if not current_app.debug:
            _static_hashes[filename] = version
    return url_for("static", filename=filename, v=version)


def _weight(value: float) -> str:
    return f"{value:g}"


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


# -- errors -------------------------------------------------------------------------------


def _index_unavailable(exc: store.IndexUnavailable) -> tuple[Any, int]:
    log.warning("index unavailable: %s", exc)
    if _wants_json():
        body = {"error": "index unavailable", "reason": str(exc), "hint": exc.hint}
        if request.path == "/healthz":
            body = {"status": "unavailable", "reason": str(exc), "hint": exc.hint}
        return jsonify(body), 503
    if isinstance(exc, store.IndexStale):
        headline = "索引需要重建"
    elif isinstance(exc, store.IndexCorrupt):
        headline = "索引无法读取"
    else:
        headline = "索引尚未建立"
    html = render_template(
        "unavailable.html", headline=headline, reason=str(exc), q=request.args.get("q", "")
    )
    return html, 503


_ERROR_TEXT = {
    400: ("请求无法处理", "请求中的参数有误，请检查后再试。"),
    404: ("页面不存在", "没有找到这个页面，它可能已被移动或删除。"),
    405: ("不支持的请求方式", "这个地址不支持该请求方式。"),
    500: ("服务器出错了", "处理请求时出现了意外错误，请稍后再试。"),
}


def _error_response(status: int, message: str | None = None) -> tuple[Any, int]:
    title, text = _ERROR_TEXT.get(status, ("请求出错", "请求无法完成。"))
    if _wants_json():
        return jsonify({"error": message or title, "status": status}), status
    html = render_template(
        "error.html", status=status, title=title, text=message or text, q=request.args.get("q", "")
    )
    return html, status


def _http_error(exc: HTTPException) -> Any:
    if exc.code is None or exc.code < 400:
        return exc
    if isinstance(exc, InternalServerError):
        return _unexpected_error(exc.original_exception or exc)
    return _error_response(exc.code)


def _unexpected_error(exc: BaseException) -> tuple[Any, int]:
    if isinstance(exc, HTTPException) and not isinstance(exc, InternalServerError):
        return _http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return _error_response(500)


# -- request parsing ----------------------------------------------------------------------


@dataclass(frozen=True)
class SearchRequest:
    """What the search page and the API were asked for."""

    q: str
    page: int
    sort: str
    filters: tuple[tuple[str, str], ...]
    date_from: datetime | None
    date_to: datetime | None
    raw_from: str
    raw_to: str
    #: show why each hit ranks where it does (``explain=1``)
    explain: bool = False

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


def _parse_date(raw: str, end_of_day: bool) -> datetime | None:
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


def _filters_from_args() -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for param, fieldname in FILTER_PARAMS:
        for value in request.args.getlist(param):
            value = " ".join(value.split())
            if not value:
                continue
            if fieldname in LOWERCASE_FIELDS:
                value = value.lower()
            if (fieldname, value) not in out:
                out.append((fieldname, value))
    return tuple(out[:MAX_FILTERS])


def _search_request() -> tuple[SearchRequest, str | None]:
    """The search parameters and, for a bad date, an error message (dates then ignored)."""
    args = request.args
    raw_from, raw_to = args.get("from", "").strip(), args.get("to", "").strip()
    error = None
    try:
        date_from = _parse_date(raw_from, end_of_day=False)
        date_to = _parse_date(raw_to, end_of_day=True)
    except BadRequestInput as exc:
        error, date_from, date_to, raw_from, raw_to = str(exc), None, None, "", ""
    sort = args.get("sort", "relevance")
    return (
        SearchRequest(
            q=args.get("q", "").strip(),
            page=clamp_page(args.get("page", 1)),
            sort=sort if sort in dict(SORT_LABELS) else "relevance",
            filters=_filters_from_args(),
            date_from=date_from,
            date_to=date_to,
            raw_from=raw_from,
            raw_to=raw_to,
            explain=args.get("explain", "").strip().lower() in TRUE_WORDS,
        ),
        error,
    )


def _clamp_size(raw: Any, default: int) -> int:
    try:
        size = int(str(raw).strip())
    except (TypeError, ValueError):
        return default
    return min(max(size, 1), API_MAX_SIZE)


def _run_search(sr: SearchRequest, pagelen: int | None = None) -> ResultPage:
    return engine().search(
        sr.q,
        sr.page,
        sort=sr.sort,
        pagelen=pagelen,
        filters=list(sr.filters),
        date_from=sr.date_from,
        date_to=sr.date_to,
        facets=True,
    )


_stats_cache: dict[tuple[str, float | None], dict[str, Any]] = {}


def _stats() -> dict[str, Any]:
    """engine.stats(), cached until the index's metadata file changes."""
    eng = engine()
    try:
        mtime: float | None = (eng.index_dir / store.META_FILE).stat().st_mtime
    except OSError:
        mtime = None
    key = (str(eng.index_dir), mtime)
    if key not in _stats_cache:
        stats = eng.stats()
        _stats_cache.clear()
        _stats_cache[key] = stats
    return _stats_cache[key]


# -- view helpers -------------------------------------------------------------------------


def _search_url(params: dict[str, Any], anchor: str = "") -> str:
    return url_for("web.search") + ("?" + urlencode(params, doseq=True) if params else "") + anchor


def _doc_url(doc_id: str, q: str = "") -> str:
    return url_for("web.doc", doc_id=doc_id, q=q or None)


def _safe_link(url: str) -> str:
    """``url`` if it is a plain web address, else "" (never a javascript: or data: link)."""
    url = (url or "").strip()
    return url if url.lower().startswith(("http://", "https://")) else ""


def _page_window(page: int, pages: int, radius: int = 2) -> list[int | None]:
    """Page numbers to show around ``page``; None marks a gap (…)."""
    shown = {1, pages, *range(max(1, page - radius), min(pages, page + radius) + 1)}
    out: list[int | None] = []
    last = 0
    for n in sorted(shown):
        if n - last > 1:
            out.append(None)
        out.append(n)
        last = n
    return out


def _facet_label(fieldname: str, value: str) -> str:
    if fieldname == "script":
        return SCRIPT_LABELS.get(value, value)
    if fieldname == "lang":
        return LANG_LABELS.get(value, value)
    return value


def _facet_groups(sr: SearchRequest, result: ResultPage) -> list[dict[str, Any]]:
    groups = []
    active = set(sr.filters)
    for fieldname, title in FACET_TITLES:
        items = []
        values = list(result.facets.get(fieldname, ()))
        # An active filter whose value has no count here is still shown, to be removed.
        for fv in sr.filters:
            if fv[0] == fieldname and fv[1] not in {v for v, _ in values}:
                values.append((fv[1], 0))
        for value, count in values:
            selected = (fieldname, value) in active
            if selected:
                rest = [f for f in sr.filters if f != (fieldname, value)]
            else:
                rest = [*sr.filters, (fieldname, value)]
            items.append(
                {
                    "value": value,
                    "label": _facet_label(fieldname, value),
                    "count": count,
                    "selected": selected,
                    "url": _search_url(_with_filters(sr, rest)),
                }
            )
        if items:
            groups.append({"field": fieldname, "title": title, "items": items})
    return groups


def _with_filters(sr: SearchRequest, filters: Iterable[tuple[str, str]]) -> dict[str, Any]:
    params = sr.params(page=None, tag=None, source=None, lang=None, script=None)
    for fieldname, value in filters:
        params.setdefault(FIELD_PARAM[fieldname], []).append(value)
    return params


def _active_chips(sr: SearchRequest) -> list[dict[str, str]]:
    chips = []
    titles = dict(FACET_TITLES)
    for fv in sr.filters:
        rest = [f for f in sr.filters if f != fv]
        chips.append(
            {
                "label": f"{titles[fv[0]]}：{_facet_label(*fv)}",
                "url": _search_url(_with_filters(sr, rest)),
            }
        )
    if sr.raw_from or sr.raw_to:
        chips.append(
            {
                "label": f"日期：{sr.raw_from or '…'} 至 {sr.raw_to or '…'}",
                "url": _search_url(sr.params(page=None, **{"from": None, "to": None})),
            }
        )
    return chips


def _date_shortcuts(sr: SearchRequest, last: datetime | None) -> list[dict[str, Any]]:
    """最近7天 / 最近30天 / 今年, counted back from the newest article, not from today."""
    if last is None:
        return []
    end = last.strftime("%Y-%m-%d")
    ranges = (
        ("最近7天", (last - timedelta(days=6)).strftime("%Y-%m-%d")),
        ("最近30天", (last - timedelta(days=29)).strftime("%Y-%m-%d")),
        ("今年", f"{last.year}-01-01"),
    )
    out = []
    for label, start in ranges:
        params = sr.params(page=None, **{"from": start, "to": end})
        out.append(
            {
                "label": label,
                "url": _search_url(params),
                "active": sr.raw_from == start and sr.raw_to == end,
            }
        )
    return out


def _pagination(sr: SearchRequest, result: ResultPage) -> dict[str, Any] | None:
    if result.pages <= 1 and result.page <= 1:
        return None
    page, pages = result.page, result.pages

    def link(n: int) -> str:
        return _search_url(sr.params(page=n if n > 1 else None))

    return {
        "prev": link(min(page - 1, pages)) if page > 1 else None,
        "next": link(page + 1) if page < pages else None,
        "pages": [(n, link(n) if n else "") for n in _page_window(min(page, pages), pages)],
        "current": page,
        "last": pages,
    }


# -- did you mean, why this result, related articles ----------------------------------------


def _score(value: float) -> str:
    return f"{value:.2f}"


def _did_you_mean(sr: SearchRequest, result: ResultPage) -> dict[str, str] | None:
    """A better query when this one found fewer than :data:`FEW_RESULTS` articles, or
    none with every word; checked with the engine and the page's filters."""
    if not sr.q or result.mode not in ("all", "any"):
        return None
    if result.every_word >= FEW_RESULTS:
        return None
    eng = engine()

    def count(text: str) -> int:  # every word, no fallback, no highlighting
        return eng.count(text, filters=list(sr.filters), date_from=sr.date_from, date_to=sr.date_to)

    found = result.every_word
    try:
        vocab = vocabulary()
        if vocab is None:
            return None
        better = suggest.did_you_mean(sr.q, vocab, count, found=found)
    except store.IndexUnavailable:
        raise
    except Exception:  # a suggestion is optional: never let it break the results
        log.exception("did-you-mean failed for %r", sr.q)
        return None
    if not better:
        return None
    return {"q": better, "url": _search_url(sr.params(q=better, page=None))}


def _explanations(sr: SearchRequest, result: ResultPage) -> dict[str, explain.Explanation]:
    """hit id -> its score split by field and term (``explain=1``)."""
    return engine().explain(sr.q, result.hits)


def _related(doc_id: str) -> related.Related | None:
    """Related articles and other sources; an article page never fails because of them."""
    try:
        return related.related(engine().searcher(), doc_id)
    except store.IndexUnavailable:
        raise
    except Exception:
        log.exception("related articles failed for %r", doc_id)
        return None


def _related_dict(doc: related.RelatedDoc) -> dict[str, Any]:
    return {
        "id": doc.id,
        "title": doc.title,
        "url": _doc_url(doc.id),
        "date": doc.date.isoformat(sep=" ") if doc.date else None,
        "source": doc.source,
        "score": doc.score,
        "title_similarity": doc.title_similarity,
        "body_similarity": doc.body_similarity,
    }


def _suggestion_dict(item: suggest.Suggestion) -> dict[str, str]:
    url = _doc_url(item.doc_id) if item.kind == "title" else _search_url({"q": item.text})
    return {"text": item.text, "kind": item.kind, "url": url}


# -- routes -------------------------------------------------------------------------------


@bp.get("/")
def search() -> Any:
    """The search page; the start page when there is no query."""
    sr, date_error = _search_request()
    stats = _stats()
    last_date = stats.get("last_date")
    context: dict[str, Any] = {
        "sr": sr,
        "q": sr.q,
        "stats": stats,
        "date_error": date_error,
        "sort_links": [
            (key, label, _search_url(sr.params(sort=key, page=None))) for key, label in SORT_LABELS
        ],
        "date_shortcuts": _date_shortcuts(sr, last_date),
        "chips": _active_chips(sr),
        "hidden_filters": [(FIELD_PARAM[f], v) for f, v in sr.filters],
        "clear_filters_url": _search_url({"q": sr.q, "sort": sr.params().get("sort")}),
        "explain_url": _search_url(sr.params(explain=None if sr.explain else 1)),
    }
    if not sr.q and not sr.filters and not (sr.date_from or sr.date_to):
        context["examples"] = [(text, _search_url({"q": text})) for text in EXAMPLES]
        return render_template("home.html", **context), 400 if date_error else 200
    result = _run_search(sr)
    why = _explanations(sr, result) if sr.explain else {}
    context.update(
        result=result,
        suggestion=_did_you_mean(sr, result),
        field_labels=FIELD_LABELS,
        field_weights=TEXT_FIELDS,
        hits=[
            {
                "hit": hit,
                "url": _doc_url(hit.id, sr.q),
                "tags": [
                    (tag, _search_url(_with_filters(sr, [*sr.filters, ("tags", tag.lower())])))
                    for tag in hit.tags
                ],
                "why": why.get(hit.id),
            }
            for hit in result.hits
        ],
        facets=_facet_groups(sr, result),
        pagination=_pagination(sr, result),
        seconds=f"{result.took_ms / 1000:.3f}",
        max_units=MAX_UNITS,
    )
    return render_template("results.html", **context), 400 if date_error else 200


def _tag_url(tag: str, q: str) -> str:
    """Search within a tag: keep the query; with none, search by the tag itself."""
    if q:
        return _search_url({"q": q, "tag": tag.lower()})
    # The engine needs query text; ``tag:`` in the query is a filter on its own.
    value = f'"{tag}"' if any(c.isspace() for c in tag) else tag
    return _search_url({"q": f"tag:{value}"})


@bp.get("/doc/<path:doc_id>")
def doc(doc_id: str) -> Any:
    """One article, with the query's words highlighted."""
    q = request.args.get("q", "").strip()
    article = engine().article(doc_id, q)
    if article is None:
        html = render_template(
            "error.html",
            status=404,
            title="找不到这篇文章",
            text="这篇文章不在索引中，可能已被删除或移动。",
            q=q,
        )
        return html, 404
    return render_template(
        "article.html",
        article=article,
        related=_related(doc_id),
        q=q,
        source_link=_safe_link(article.source_url),
        back_url=_search_url({"q": q}) if q else url_for("web.search"),
        tags=[(tag, _tag_url(tag, q)) for tag in article.tags],
    )


@bp.get("/api/search")
def api_search() -> Any:
    """Search results as JSON (the shape of :func:`searchapp.serialize.page_to_dict`)."""
    args = request.args
    for key in ("from", "to"):
        try:
            _parse_date(args.get(key, ""), end_of_day=key == "to")
        except BadRequestInput as exc:
            return jsonify({"error": str(exc), "status": 400}), 400
    sr, _ = _search_request()
    size = _clamp_size(args.get("size"), engine().page_size)
    result = _run_search(sr, pagelen=size)
    body = page_to_dict(result, lambda hit: _doc_url(hit.id, sr.q))
    if sr.explain:
        why = _explanations(sr, result)
        for hit in body["hits"]:
            found = why.get(hit["id"])
            hit["explain"] = found.as_dict() if found else None
    body["suggestion"] = _did_you_mean(sr, result)
    body["facets"] = {
        fieldname: [{"value": v, "count": n} for v, n in result.facets.get(fieldname, ())]
        for fieldname, _ in FACET_TITLES
    }
    body["date_from"] = sr.date_from.isoformat(sep=" ") if sr.date_from else None
    body["date_to"] = sr.date_to.isoformat(sep=" ") if sr.date_to else None
    return jsonify(body)


@bp.get("/api/doc/<path:doc_id>")
def api_doc(doc_id: str) -> Any:
    """One article as JSON; ``paragraphs`` are escaped HTML with ``<mark>``."""
    q = request.args.get("q", "").strip()
    article = engine().article(doc_id, q)
    if article is None:
        return jsonify({"error": "document not found", "id": doc_id, "status": 404}), 404
    rel = _related(doc_id)
    return jsonify(
        {
            "id": article.id,
            "url": _doc_url(article.id, q),
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
            "related": [_related_dict(d) for d in rel.related] if rel else [],
            "duplicates": [_related_dict(d) for d in rel.duplicates] if rel else [],
        }
    )


@bp.get("/api/suggest")
def api_suggest() -> Any:
    """Suggestions for what is being typed in the search box (see :mod:`searchapp.engine.suggest`).

    Never a 500: an empty or odd ``q`` gives an empty list, an unexpected failure is
    logged and gives an empty list too (a missing index is still a 503)."""
    q = request.args.get("q", "")[:SUGGEST_MAX_QUERY]
    items: list[suggest.Suggestion] = []
    if q.strip():
        try:
            vocab = vocabulary()
            items = suggest.suggest(vocab, q) if vocab is not None else []
        except store.IndexUnavailable:
            raise
        except Exception:
            log.exception("suggestions failed for %r", q)
    response = jsonify({"q": q, "suggestions": [_suggestion_dict(i) for i in items]})
    response.headers["Cache-Control"] = "private, max-age=30"
    return response


@bp.get("/healthz")
def healthz() -> Any:
    """200 with the document count, or 503 (via the IndexUnavailable handler)."""
    return jsonify({"status": "ok", "documents": engine().searcher().doc_count()})


@bp.get("/favicon.ico")
def favicon() -> Any:
    """Browsers ask for /favicon.ico whatever the page says."""
    return send_from_directory(
        current_app.static_folder or "", "favicon.svg", mimetype="image/svg+xml"
    )
