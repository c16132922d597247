"""Property-based fuzzing: random queries and parameters never raise, never give a 5xx.

More than 10,000 queries in total go through :meth:`searchapp.searcher.Engine.search`
and the HTTP API (``/api/search``, ``/``, ``/api/suggest``, ``/api/doc``): Unicode from
every plane (no lone surrogates: they cannot be encoded in a URL), query syntax
(``"()-:|``, ``OR``/``AND``, field prefixes with nothing after them), very long and
empty text, and random page, size, sort, filter and date parameters. Every JSON answer is
checked for its keys and types, and every HTML fragment in it may only hold ``<mark>``.

One small index is built once per session (conftest's ``built``). Each property runs
inside a plain test function, over module-scoped objects, so no function-scoped fixture
is reused across examples (the situation Hypothesis's health check warns about), and the
test counts the examples it really ran.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import engine_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchapp import create_app
from searchapp.engine.search import MAX_PAGE, SORTS, Engine, ResultPage

SETTINGS = {
    "deadline": None,
    "database": None,  # nothing written into the working tree
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

ENGINE_EXAMPLES = 2500
API_EXAMPLES = 2500
PAGE_EXAMPLES = 600
SUGGEST_EXAMPLES = 4000
DOC_EXAMPLES = 400
TOTAL_QUERIES = ENGINE_EXAMPLES + API_EXAMPLES + PAGE_EXAMPLES + SUGGEST_EXAMPLES + DOC_EXAMPLES

# -- strategies --------------------------------------------------------------------------

#: Words the fixture corpus contains, so that some random queries really find articles.
WORDS = [
    "DeepSeek",
    "人工智能",
    "开源",
    "模型",
    "芯片",
    "关税",
    "马克思",
    "習近平",
    "人工智慧",
    "寒潮",
    "英伟达",
    "models",
    "Ｐｙｔｈｏｎ",
    "傅聪",
    "的",
    "是",
]
SYNTAX = [
    '"',
    "(",
    ")",
    "-",
    ":",
    "|",
    "||",
    "OR",
    "AND",
    "NOT",
    "or",
    "*",
    "?",
    "~",
    "^",
    "[",
    "]",
    "{",
    "}",
    "\\",
    "/",
    "&&",
    "“",
    "”",
    "「",
    "」",
    "：",
    "\u3000",
    "\t",
    "\n",
    "title:",
    "body:",
    "summary:",
    "tag:",
    "category:",
    "source:",
    "lang:",
    "script:",
    "TITLE:",
    "nope:",
    "title:[a TO",
    "-title:",
    '-"',
    '""',
    "()",
    "<script>alert(1)</script>",
    "%00",
    "\x00",
    "\x7f",
    "\u200b",
    "\ufeff",
    "\U0001f600",
    "\U00020000",
    "\U000e0001",
    "\U0010fffd",
]
#: Any code point but lone surrogates (which no URL or UTF-8 encoder accepts).
ANY_CHAR = st.characters(exclude_categories=("Cs",))
PUNCTUATION = st.text(
    st.characters(categories=("Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "So")), max_size=30
)

tokens = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(SYNTAX),
    st.text(ANY_CHAR, min_size=1, max_size=8),
    st.builds(lambda f, w: f"{f}{w}", st.sampled_from(SYNTAX), st.sampled_from(WORDS)),
)
queries = st.one_of(
    st.just(""),
    st.text(ANY_CHAR, max_size=60),
    PUNCTUATION,
    st.lists(tokens, max_size=12).map(" ".join),
    st.lists(tokens, max_size=12).map("".join),
    st.text(ANY_CHAR, min_size=600, max_size=2500),  # past the parser's 500-character cap
    st.builds(lambda w, n: (w + " ") * n, st.sampled_from(WORDS), st.integers(50, 400)),
)
numbers = st.one_of(
    st.integers(-(10**12), 10**12),
    st.sampled_from(
        ["", " ", "0", "-1", "1e3", "1.5", "0x10", "NaN", "inf", "９", "٣", "1" * 5000]
    ),
    st.text(ANY_CHAR, max_size=6),
).map(str)
sorts = st.one_of(st.sampled_from(SORTS), st.text(ANY_CHAR, max_size=8))
day = st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat)
dates = st.one_of(
    st.just(""),
    day,
    st.sampled_from(["2025-13-45", "2025-02-30", "tomorrow", "2025/01/01", "9999-99-99", "0"]),
    st.text(ANY_CHAR, max_size=12),
)
filter_values = st.lists(
    st.one_of(
        st.sampled_from(["qq", "hant", "hans", "zh-TW", "人民网", "test"]), st.text(ANY_CHAR)
    ),
    max_size=3,
)


@st.composite
def search_params(draw: Any) -> dict[str, Any]:
    """A query string for /api/search or /: q and any subset of the other parameters."""
    params: dict[str, Any] = {"q": draw(queries)}
    for key, strategy in (
        ("page", numbers),
        ("size", numbers),
        ("sort", sorts),
        ("from", dates),
        ("to", dates),
        ("explain", st.sampled_from(["", "1", "yes", "0", "x"])),
    ):
        if draw(st.booleans()):
            params[key] = draw(strategy)
    for key in ("tag", "source", "lang", "script"):
        if draw(st.integers(0, 3)) == 0:
            params[key] = draw(filter_values)
    return params


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine(built: tuple[Path, Path]) -> Engine:
    corpus, index = built
    eng = engine_for(corpus, index)
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def fuzz_app(built: tuple[Path, Path]):
    corpus, index = built
    return create_app({"TESTING": True, "CORPUS_DIR": str(corpus), "INDEX_DIR": str(index)})


@pytest.fixture(scope="module")
def doc_ids(engine: Engine) -> list[str]:
    view = engine.view()
    return sorted(d.id for d in view.stored(list(range(view.doc_count()))))


# -- checks ------------------------------------------------------------------------------

_ONLY_MARKS = re.compile(r"</?mark>")


def only_marks(fragment: str) -> bool:
    """True when the HTML fragment's only tags are <mark> and </mark>."""
    return "<" not in _ONLY_MARKS.sub("", fragment) and ">" not in _ONLY_MARKS.sub("", fragment)


HIT_KEYS = {
    "id": str,
    "rank": int,
    "title": str,
    "title_html": str,
    "date": (str, type(None)),
    "source": str,
    "source_url": str,
    "categories": list,
    "tags": list,
    "lang": str,
    "script": str,
    "score": (int, float),
    "snippet": str,
    "url": str,
}
SEARCH_KEYS = {
    "query": str,
    "total": int,
    "page": int,
    "pages": int,
    "page_size": int,
    "sort": str,
    "mode": str,
    "took_ms": (int, float),
    "terms": list,
    "truncated": bool,
    "filters": list,
    "hits": list,
    "facets": dict,
    "date_from": (str, type(None)),
    "date_to": (str, type(None)),
    "suggestion": (dict, type(None)),
}


def check_types(data: dict[str, Any], keys: dict[str, Any], where: str) -> None:
    missing = set(keys) - set(data)
    assert not missing, f"{where}: missing {missing}"
    for key, kind in keys.items():
        assert isinstance(data[key], kind), f"{where}: {key}={data[key]!r}"
        if kind is not bool:  # bool is an int subclass: no True where a count belongs
            assert not isinstance(data[key], bool), f"{where}: {key} is a bool"


def check_page(result: ResultPage, pagelen: int) -> None:
    assert result.mode in ("all", "any", "browse", "empty")
    assert 1 <= result.page <= MAX_PAGE
    shown = max(0, min(result.total - (result.page - 1) * pagelen, pagelen))
    assert len(result.hits) == shown  # the page holds what the count says it should
    assert result.pagelen == pagelen
    assert len(result.hits) <= pagelen
    assert result.sort in SORTS
    if result.hits:
        assert result.total >= (result.page - 1) * pagelen + len(result.hits)
        assert [h.rank for h in result.hits] == list(
            range(
                (result.page - 1) * pagelen + 1, (result.page - 1) * pagelen + 1 + len(result.hits)
            )
        )
    for hit in result.hits:
        assert only_marks(hit.snippet_html), hit.snippet_html
        assert only_marks(hit.title_html), hit.title_html


def check_search_json(data: dict[str, Any], params: dict[str, Any]) -> None:
    check_types(data, SEARCH_KEYS, "/api/search")
    assert data["mode"] in ("all", "any", "browse", "empty")
    assert data["sort"] in SORTS
    assert 1 <= data["page"] <= MAX_PAGE
    assert 1 <= data["page_size"] <= 50
    assert data["pages"] == max(1, -(-data["total"] // data["page_size"]))
    shown = max(0, min(data["total"] - (data["page"] - 1) * data["page_size"], data["page_size"]))
    assert len(data["hits"]) == shown
    raw_page = str(params.get("page", "1")).strip()
    if re.fullmatch(r"[0-9]{1,4}", raw_page):
        assert data["page"] == min(max(int(raw_page), 1), MAX_PAGE)
    raw_size = str(params.get("size", "")).strip()
    if re.fullmatch(r"[0-9]{1,4}", raw_size):
        assert data["page_size"] == min(max(int(raw_size), 1), 50)
    for hit in data["hits"]:
        check_types(hit, HIT_KEYS, "hit")
        assert only_marks(hit["snippet"]), hit["snippet"]
        assert only_marks(hit["title_html"]), hit["title_html"]
        assert hit["url"].startswith("/doc/")
        assert all(isinstance(t, str) for t in hit["tags"] + hit["categories"])
    assert set(data["facets"]) == {"source", "tags", "script", "lang"}
    for values in data["facets"].values():
        for item in values:
            assert isinstance(item["value"], str) and isinstance(item["count"], int)
    for item in data["filters"]:
        assert set(item) == {"field", "value"}
    assert all(isinstance(t, str) for t in data["terms"])


def bad_date(value: Any) -> bool:
    from datetime import datetime

    value = str(value).strip()
    if not value:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return True
    return False


# -- properties --------------------------------------------------------------------------


def test_engine_search_never_raises(engine: Engine) -> None:
    ran = []

    @settings(max_examples=ENGINE_EXAMPLES, **SETTINGS)
    @given(
        text=queries,
        page=st.one_of(st.integers(-5, 2000), numbers),
        pagelen=st.integers(1, 100),
        sort=sorts,
        filters=st.lists(
            st.tuples(st.sampled_from(["tags", "source", "lang", "script"]), st.text(ANY_CHAR)),
            max_size=3,
        ),
        facets=st.booleans(),
    )
    def search(text, page, pagelen, sort, filters, facets) -> None:
        ran.append(text)
        result = engine.search(
            text, page, sort=sort, pagelen=pagelen, filters=filters, facets=facets
        )
        check_page(result, pagelen)

    search()
    assert len(ran) >= ENGINE_EXAMPLES


def test_api_search_never_fails(fuzz_app) -> None:
    client = fuzz_app.test_client()
    statuses: dict[int, int] = {}

    @settings(max_examples=API_EXAMPLES, **SETTINGS)
    @given(params=search_params())
    def api(params: dict[str, Any]) -> None:
        r = client.get("/api/search", query_string=params)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.mimetype == "application/json"
        data = r.get_json()
        if bad_date(params.get("from", "")) or bad_date(params.get("to", "")):
            assert r.status_code == 400, params
            assert set(data) == {"error", "status"} and data["status"] == 400
            return
        assert r.status_code == 200, (params, data)
        check_search_json(data, params)

    api()
    assert sum(statuses.values()) >= API_EXAMPLES
    assert set(statuses) <= {200, 400}, statuses


def test_search_page_never_fails(fuzz_app) -> None:
    client = fuzz_app.test_client()
    seen = []

    @settings(max_examples=PAGE_EXAMPLES, **SETTINGS)
    @given(params=search_params())
    def page(params: dict[str, Any]) -> None:
        seen.append(params)
        r = client.get("/", query_string=params)
        bad = bad_date(params.get("from", "")) or bad_date(params.get("to", ""))
        assert r.status_code == (400 if bad else 200), params
        assert r.mimetype == "text/html"
        html = r.get_data(as_text=True)
        assert "Traceback" not in html
        assert "<script>alert" not in html

    page()
    assert len(seen) >= PAGE_EXAMPLES


def test_api_suggest_never_fails(fuzz_app) -> None:
    client = fuzz_app.test_client()
    seen = []

    @settings(max_examples=SUGGEST_EXAMPLES, **SETTINGS)
    @given(q=queries)
    def suggest(q: str) -> None:
        seen.append(q)
        r = client.get("/api/suggest", query_string={"q": q})
        assert r.status_code == 200, q
        data = r.get_json()
        assert set(data) == {"q", "suggestions"}
        assert data["q"] == q[:200]
        assert isinstance(data["suggestions"], list)
        for item in data["suggestions"]:
            assert set(item) == {"text", "kind", "url"}
            assert all(isinstance(v, str) for v in item.values())
            assert item["url"].startswith("/")

    suggest()
    assert len(seen) >= SUGGEST_EXAMPLES


def test_api_doc_never_fails(fuzz_app, doc_ids: list[str]) -> None:
    """Random ids are 404 (JSON), real ids with random queries are 200 with only marks."""
    client = fuzz_app.test_client()
    seen = []

    @settings(max_examples=DOC_EXAMPLES, **SETTINGS)
    @given(
        doc_id=st.one_of(st.sampled_from(doc_ids), st.text(ANY_CHAR, min_size=1, max_size=40)),
        q=queries,
    )
    def doc(doc_id: str, q: str) -> None:
        seen.append(q)
        r = client.get("/api/doc/" + quote(doc_id, safe="/"), query_string={"q": q})
        if doc_id in doc_ids:
            assert r.status_code == 200, (doc_id, q)
            data = r.get_json()
            assert data["id"] == doc_id
            assert only_marks(data["title_html"])
            assert all(only_marks(p) for p in data["paragraphs"])
        else:
            assert r.status_code in (404, 405, 308), doc_id  # never a 5xx
            if r.status_code == 404:
                assert r.get_json()["status"] == 404

    doc()
    assert len(seen) >= DOC_EXAMPLES


def test_total_queries_fuzzed() -> None:
    """The budget the issue asks for: at least 10,000 random queries in all."""
    assert TOTAL_QUERIES >= 10_000
