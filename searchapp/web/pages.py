"""The search page, the article page, and what a browser asks for besides (the icon, the
search-engine description that lets a browser add the page to its search bar)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    render_template,
    request,
    send_from_directory,
    url_for,
)

from searchapp.engine.request import FIELD_PARAM, SearchRequest
from searchapp.engine.results import ResultPage
from searchapp.fields import TEXT_FIELDS
from searchapp.text.query import MAX_UNITS
from searchapp.web.common import (
    EXTENSION,
    did_you_mean,
    doc_url,
    engine,
    explanations,
    related,
    search_request,
    search_url,
    stats,
)

bp = Blueprint("web", __name__)

#: How the footer names the backend.
BACKEND_LABELS = {"whoosh": "Whoosh", "opensearch": "OpenSearch"}

FIELD_LABELS = {"title": "标题", "summary": "摘要", "body": "正文"}


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


def engine_of(app: Flask) -> Any:
    """The engine ``app`` was made with (outside a request)."""
    return app.extensions[EXTENSION]


def register(app: Flask) -> None:
    """The page's template helpers."""
    app.add_template_global(_static_url, "static_url")
    app.add_template_filter(_score, "score")
    app.add_template_filter(_day, "day")
    app.add_template_filter(_weight, "weight")
    label = BACKEND_LABELS.get(engine_of(app).backend.name, engine_of(app).backend.name)
    app.add_template_global(label, "backend_label")


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


def _score(value: float) -> str:
    return f"{value:.2f}"


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
                    "url": search_url(_with_filters(sr, rest)),
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
                "url": search_url(_with_filters(sr, rest)),
            }
        )
    if sr.raw_from or sr.raw_to:
        chips.append(
            {
                "label": f"日期：{sr.raw_from or '…'} 至 {sr.raw_to or '…'}",
                "url": search_url(sr.params(page=None, **{"from": None, "to": None})),
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
                "url": search_url(params),
                "active": sr.raw_from == start and sr.raw_to == end,
            }
        )
    return out


def _pagination(sr: SearchRequest, result: ResultPage) -> dict[str, Any] | None:
    if result.pages <= 1 and result.page <= 1:
        return None
    page, pages = result.page, result.pages

    def link(n: int) -> str:
        return search_url(sr.params(page=n if n > 1 else None))

    return {
        "prev": link(min(page - 1, pages)) if page > 1 else None,
        "next": link(page + 1) if page < pages else None,
        "pages": [(n, link(n) if n else "") for n in _page_window(min(page, pages), pages)],
        "current": page,
        "last": pages,
    }


@bp.get("/")
def search() -> Any:
    """The search page; the start page when there is no query."""
    sr, date_error = search_request()
    counts = stats()
    last_date = counts.get("last_date")
    context: dict[str, Any] = {
        "sr": sr,
        "q": sr.q,
        "stats": counts,
        "date_error": date_error,
        "sort_links": [
            (key, label, search_url(sr.params(sort=key, page=None))) for key, label in SORT_LABELS
        ],
        "date_shortcuts": _date_shortcuts(sr, last_date),
        "chips": _active_chips(sr),
        "hidden_filters": [(FIELD_PARAM[f], v) for f, v in sr.filters],
        "clear_filters_url": search_url({"q": sr.q, "sort": sr.params().get("sort")}),
        "explain_url": search_url(sr.params(explain=None if sr.explain else 1)),
    }
    if not sr.q and not sr.filters and not (sr.date_from or sr.date_to):
        context["examples"] = [(text, search_url({"q": text})) for text in EXAMPLES]
        return render_template("home.html", **context), 400 if date_error else 200
    result = engine().run(sr)
    why = explanations(sr, result) if sr.explain else {}
    context.update(
        result=result,
        suggestion=did_you_mean(sr, result),
        field_labels=FIELD_LABELS,
        field_weights=TEXT_FIELDS,
        hits=[
            {
                "hit": hit,
                "url": doc_url(hit.id, sr.q),
                "tags": [
                    (tag, search_url(_with_filters(sr, [*sr.filters, ("tags", tag.lower())])))
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
        return search_url({"q": q, "tag": tag.lower()})
    # The engine needs query text; ``tag:`` in the query is a filter on its own.
    value = f'"{tag}"' if any(c.isspace() for c in tag) else tag
    return search_url({"q": f"tag:{value}"})


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
        related=related(doc_id),
        q=q,
        source_link=_safe_link(article.source_url),
        back_url=search_url({"q": q}) if q else url_for("web.search"),
        tags=[(tag, _tag_url(tag, q)) for tag in article.tags],
    )


@bp.get("/favicon.ico")
def favicon() -> Any:
    """Browsers ask for /favicon.ico whatever the page says."""
    return send_from_directory(
        current_app.static_folder or "", "favicon.svg", mimetype="image/svg+xml"
    )


@bp.get("/opensearch.xml")
def opensearch() -> Any:
    """The search-engine description a browser reads to add this page to its search bar
    (with suggestions as you type, from ``/api/suggest?format=opensearch``)."""
    xml = render_template(
        "opensearch.xml",
        search=url_for("web.search", _external=True),
        suggest=url_for("api.api_suggest", _external=True),
        icon=url_for("static", filename="favicon.svg", _external=True),
    )
    return current_app.response_class(xml, mimetype="application/opensearchdescription+xml")
