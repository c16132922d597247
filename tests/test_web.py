"""The web front end through Flask's test client: what a person (or an API client) gets."""

from __future__ import annotations

import logging
import re
from html import unescape
from pathlib import Path

import pytest
from conftest import engine_for

from searchapp import create_app

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def text_of(response) -> str:
    """The page's visible text: tags removed, entities decoded, spaces collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def html_of(response) -> str:
    return response.get_data(as_text=True)


# -- start page -------------------------------------------------------------------------


def test_start_page_shows_stats_examples_and_help(client):
    r = client.get("/")
    assert r.status_code == 200
    html, text = html_of(r), text_of(r)
    assert '<html lang="zh-CN">' in html
    assert "autofocus" in html  # no query: the box takes the focus
    assert "15 篇" in text  # 10 fixture articles, 4 seeds and the long one
    assert "2024-12-01 至 2025-03-01" in text
    assert "最近更新" in text
    for example in (
        "DeepSeek",
        "人工智能",
        '"开源模型"',
        "習近平",
        "黃仁勳 OR 马斯克",
        "tag:qq 关税",
    ):
        assert example in text
    assert "搜索语法" in text
    for landmark in ("<header", "<main", "<footer"):
        assert landmark in html


def test_example_links_round_trip(client):
    html = html_of(client.get("/"))
    links = re.findall(r'class="chip chip--example" href="([^"]+)"', html)
    assert len(links) == 6
    for link in links:
        r = client.get(unescape(link))
        assert r.status_code == 200
        assert "找到" in text_of(r)


# -- results ------------------------------------------------------------------------------


def test_search_count_marks_and_links(client):
    r = client.get("/?q=DeepSeek")
    assert r.status_code == 200
    html, text = html_of(r), text_of(r)
    assert re.search(r"找到 5 条结果（\d+\.\d{3} 秒）", text)
    assert "<mark>DeepSeek</mark>" in html
    assert 'value="DeepSeek"' in html  # the query stays in the box
    assert "autofocus" not in html
    assert 'href="/doc/tech/open-model.md?q=DeepSeek"' in html
    assert html.count('class="hit"') == 5


def test_results_show_date_source_tags_and_traditional_label(client):
    text = text_of(client.get("/?q=人工智能"))
    assert "找到 7 条结果" in text
    assert "2025-02-18" in text and "cna" in text
    assert "繁体" in text  # tw/ai-software.md is in traditional script
    assert "#开源" in text


def test_traditional_query_finds_simplified(client):
    r = client.get("/?q=習近平")
    assert "找到 2 条结果" in text_of(r)
    assert "<mark>" in html_of(r)


def test_or_query_and_tag_filter_in_query(client):
    assert "找到 5 条结果" in text_of(client.get("/?q=黃仁勳 OR 马斯克"))
    r = client.get("/?q=tag:qq 关税")
    assert "找到 1 条结果" in text_of(r)
    assert "<mark>关税</mark>" in html_of(r)


def test_any_mode_notice(client):
    text = text_of(client.get("/?q=DeepSeek 寒潮"))
    assert "没有同时包含所有词的文章，以下结果只包含部分词语" in text
    assert "找到 8 条结果" in text


def test_no_results_empty_state(client):
    r = client.get("/?q=zzzqqq")
    assert r.status_code == 200
    text = text_of(r)
    assert "找到 0 条结果" in text
    assert "没有找到与「zzzqqq」相关的文章" in text
    assert "减少关键词" in text and "简体和繁体" in text


def test_empty_state_shows_segmentation(client):
    text = text_of(client.get("/?q=北极熊吃企鹅"))
    assert "搜索词是这样切分的" in text


def test_only_exclusions_asks_for_words(client):
    r = client.get("/?q=-DeepSeek")
    assert r.status_code == 200
    assert "请输入要搜索的词语" in text_of(r)


def test_sort_links_and_orders(client):
    html = html_of(client.get("/?q=寒潮&sort=oldest"))
    ids = re.findall(r'href="/doc/(dup/[^"?]+)', html)
    assert ids == [
        "dup/weather-2025-01-05.txt",
        "dup/weather-2025-01-06.txt",
        "dup/weather-2025-01-07.txt",
    ]
    assert re.search(r'class="sort-link is-selected"[^>]*aria-current="true"[^>]*>最早<', html)
    newest = html_of(client.get("/?q=寒潮&sort=newest"))
    assert re.findall(r'href="/doc/(dup/[^"?]+)', newest) == ids[::-1]
    # An unknown sort falls back to relevance.
    assert client.get("/?q=寒潮&sort=bogus").status_code == 200


def test_facets_counts_and_links(client):
    html = html_of(client.get("/?q=人工智能"))
    text = text_of(client.get("/?q=人工智能"))
    for title in ("来源", "标签", "简繁", "语言"):
        assert title in text
    assert re.search(r'href="/\?q=[^"]*&amp;source=cna"', html)
    assert re.search(r'href="/\?q=[^"]*&amp;script=hant"', html)
    assert "<details" in html  # collapsible on phones


def test_facet_filter_narrows_and_chip_removes(client):
    r = client.get("/?q=人工智能&script=hant")
    html, text = html_of(r), text_of(r)
    assert "找到 1 条结果" in text
    assert "简繁：繁体" in text  # the active filter chip
    chip = re.search(r'class="chip chip--active" href="([^"]+)"', html).group(1)
    assert "script" not in unescape(chip)
    assert "找到 7 条结果" in text_of(client.get(unescape(chip)))
    # The search box keeps the filter when a new query is typed.
    assert '<input type="hidden" name="script" value="hant">' in html


def test_repeatable_tag_and_source_filters(client):
    text = text_of(client.get("/?q=DeepSeek&tag=qq&source=qq"))
    assert "找到 2 条结果" in text
    # Tags are matched case-insensitively (the index lower-cases them).
    assert "找到 1 条结果" in text_of(client.get("/?q=人工智能&tag=AI&tag=开源"))


def test_date_range_and_quick_links_follow_newest_article(client):
    assert "找到 2 条结果" in text_of(client.get("/?q=寒潮&from=2025-01-06"))
    assert "找到 2 条结果" in text_of(client.get("/?q=寒潮&to=2025-01-06"))
    html = html_of(client.get("/?q=寒潮"))
    # The newest article is 2025-03-01: "最近30天" means from 2025-01-31, not from today.
    assert "from=2025-01-31&amp;to=2025-03-01" in html
    assert "from=2025-02-23&amp;to=2025-03-01" in html
    assert "from=2025-01-01&amp;to=2025-03-01" in html


def test_bad_date_on_the_page_is_explained(client):
    r = client.get("/?q=寒潮&from=yesterday")
    assert r.status_code == 400
    text = text_of(r)
    assert "日期格式不正确" in text
    assert "找到 3 条结果" in text


@pytest.mark.parametrize("page", ["0", "-1", "abc", "", "1.5", "99999"])
def test_pagination_edges_never_fail(client, page):
    r = client.get(f"/?q=DeepSeek&page={page}")
    assert r.status_code == 200
    assert "找到 5 条结果" in text_of(r)


def test_page_past_the_end_says_so(client):
    text = text_of(client.get("/?q=DeepSeek&page=99999"))
    assert "这一页没有结果" in text


def test_pagination_links(app):
    small = create_app({**app.config, "PAGE_SIZE": 2})
    client = small.test_client()
    r = client.get("/?q=DeepSeek&page=2")
    html = html_of(r)
    assert 'rel="prev"' in html and 'rel="next"' in html
    assert re.search(r'href="/\?q=DeepSeek&amp;page=3"[^>]*aria-label="第 3 页"', html)
    assert 'aria-current="page"' in html
    assert '<link rel="next" href="/?q=DeepSeek&amp;page=3">' in html
    last = html_of(client.get("/?q=DeepSeek&page=3"))
    assert 'rel="next"' not in last
    assert html_of(client.get("/?q=DeepSeek")).count('rel="prev"') == 0


# -- escaping and unsafe links ---------------------------------------------------------


def test_script_in_title_is_escaped_in_results(client):
    r = client.get("/?q=安全测试")
    html = html_of(r)
    assert "只有 1 篇文章包含所有词语，其后的 2 条结果只包含部分词语。" in text_of(r)
    assert "&lt;script&gt;alert(" in html
    assert "<script>alert" not in html
    assert "<img" not in html
    assert "javascript:" not in html


def test_script_in_article_is_escaped(client):
    r = client.get("/doc/tricky/script.md?q=安全")
    assert r.status_code == 200
    html = html_of(r)
    assert "&lt;script&gt;alert(" in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "javascript:" not in html
    assert not re.search(r"<a [^>]*href=\"javascript", html, re.I)


def test_query_is_escaped_everywhere(client):
    evil = '"><script>alert(1)</script>'
    r = client.get("/", query_string={"q": evil})
    html = html_of(r)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html


# -- article page -------------------------------------------------------------------------


def test_article_page(client):
    r = client.get("/doc/tech/open-model.md?q=开源模型")
    assert r.status_code == 200
    html, text = html_of(r), text_of(r)
    assert "开源模型推动人工智能发展" in text
    assert "2025-03-01 09:30" in text
    assert "<mark>" in html
    assert re.search(r"本文共有 \d+ 处匹配「开源模型」", text)
    assert 'href="/?q=%E5%BC%80%E6%BA%90%E6%A8%A1%E5%9E%8B"' in html  # 返回搜索结果
    assert "返回搜索结果" in text
    assert 'href="https://new.qq.com/rain/a/20250301A00001"' in html
    assert "#开源" in text


def test_article_without_query(client):
    r = client.get("/doc/politics/marx.txt")
    assert r.status_code == 200
    html = html_of(r)
    assert "<mark>" not in html
    assert "返回首页" in text_of(r)


def test_article_tag_links_search_by_tag(client):
    html = html_of(client.get("/doc/econ/tariff.md"))
    link = re.search(r'class="tag" href="([^"]+)"', html).group(1)
    r = client.get(unescape(link))
    assert "找到 3 条结果" in text_of(r)


def test_long_article_far_match(client):
    r = client.get("/doc/long.txt?q=量子计算")
    assert r.status_code == 200
    assert "<mark>量子</mark>" in html_of(r) or "<mark>量子计算</mark>" in html_of(r)


def test_unknown_article_is_a_friendly_404(client):
    r = client.get("/doc/no/such/file.md")
    assert r.status_code == 404
    text = text_of(r)
    assert "找不到这篇文章" in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    "path",
    ["/doc/../conftest.py", "/doc/..%2F..%2Fetc%2Fpasswd", "/doc/%2E%2E/pyproject.toml"],
)
def test_dot_dot_ids_never_read_files(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert "import" not in html_of(r)


def test_unknown_page_is_a_friendly_404(client):
    r = client.get("/no-such-page")
    assert r.status_code == 404
    assert "页面不存在" in text_of(r)
    assert r.headers["Content-Type"].startswith("text/html")


@pytest.fixture(scope="module")
def odd_ids(tmp_path_factory: pytest.TempPathFactory):
    """An app over articles whose ids have Chinese, spaces and URL characters."""
    base = tmp_path_factory.mktemp("odd")
    corpus = base / "corpus"
    folder = corpus / "2025-02" / "新闻 专题"
    folder.mkdir(parents=True)
    names = ["文章 一.txt", "a#b?c=d&e.txt", "100% 真.txt"]
    for i, name in enumerate(names):
        (folder / name).write_text(
            f"奇特文件名测试{i}\n来源:测试社 2025年02月0{i + 1}日 08时00分\n\n正文提到星舰发射。\n",
            encoding="utf-8",
        )
    index = base / "index"
    engine_for(corpus, index).rebuild(corpus, procs=1)
    app = create_app({"TESTING": True, "CORPUS_DIR": str(corpus), "INDEX_DIR": str(index)})
    return app, [f"2025-02/新闻 专题/{n}" for n in names]


def test_odd_ids_round_trip_through_urls(odd_ids):
    app, ids = odd_ids
    client = app.test_client()
    html = html_of(client.get("/?q=星舰"))
    links = [unescape(u) for u in re.findall(r'<h2 class="hit-title"><a href="([^"]+)"', html)]
    assert len(links) == 3
    seen = set()
    for link in links:
        r = client.get(link)
        assert r.status_code == 200, link
        seen.add(re.search(r"文件：\s*<code>([^<]+)</code>", html_of(r)).group(1))
    assert {unescape(s) for s in seen} == set(ids)
    for doc_id in ids:
        with app.test_request_context():
            from flask import url_for

            url = url_for("api.api_doc", doc_id=doc_id)
        assert client.get(url).get_json()["id"] == doc_id


# -- JSON API -----------------------------------------------------------------------------


def test_api_search_shape(client):
    r = client.get("/api/search?q=DeepSeek&size=2")
    assert r.status_code == 200
    data = r.get_json()
    assert data["total"] == 5
    assert data["pages"] == 3
    assert data["page"] == 1 and data["page_size"] == 2
    assert data["mode"] == "all" and data["sort"] == "relevance"
    assert len(data["hits"]) == 2
    hit = data["hits"][0]
    for key in ("id", "rank", "title", "title_html", "date", "source", "tags", "snippet", "url"):
        assert key in hit
    assert hit["url"].startswith("/doc/") and "q=DeepSeek" in hit["url"]
    assert "<mark>" in hit["snippet"]
    assert set(data["facets"]) == {"source", "tags", "script", "lang"}
    assert {"value": "qq", "count": 3} in data["facets"]["source"]


def test_partial_matches_follow_the_exact_ones_under_a_divider(client):
    r = client.get("/?q=量子计算")
    html, text = html_of(r), text_of(r)
    assert "找到 2 条结果" in text
    assert "只有 1 篇文章包含所有词语，其后的 1 条结果只包含部分词语。" in text
    assert html.count('<h2 class="partial-divider">以下结果只包含部分词语</h2>') == 1
    exact, divider, partial = (
        html.index('href="/doc/long.txt'),
        html.index('class="partial-divider"'),
        html.index('href="/doc/tech/chips.md'),
    )
    assert exact < divider < partial
    assert html.count('class="hit hit--partial"') == 1
    data = client.get("/api/search?q=量子计算").get_json()
    assert (data["mode"], data["total"], data["exact"]) == ("all", 2, 1)
    assert [h["id"] for h in data["hits"]] == ["long.txt", "tech/chips.md"]
    assert client.get("/api/search?q=DeepSeek").get_json()["exact"] == 5


def test_api_filters_and_dates(client):
    data = client.get("/api/search?q=人工智能&script=hant").get_json()
    assert data["total"] == 1
    assert {"field": "script", "value": "hant"} in data["filters"]
    data = client.get("/api/search?q=寒潮&from=2025-01-06&to=2025-01-06").get_json()
    assert data["total"] == 1
    assert data["date_to"] == "2025-01-06 23:59:59"


@pytest.mark.parametrize(
    ("query", "page", "size"),
    [
        ("page=0", 1, 10),
        ("page=-1", 1, 10),
        ("page=abc", 1, 10),
        ("page=99999", 1000, 10),
        ("size=0", 1, 1),
        ("size=-5", 1, 1),
        ("size=500", 1, 50),
        ("size=x", 1, 10),
        ("page=2&size=3", 2, 3),
    ],
)
def test_api_clamps_page_and_size(client, query, page, size):
    r = client.get(f"/api/search?q=DeepSeek&{query}")
    assert r.status_code == 200
    data = r.get_json()
    assert data["page"] == page
    assert data["page_size"] == size


@pytest.mark.parametrize("param", ["from=2025-13-45", "to=tomorrow", "from=2025/01/01"])
def test_api_bad_dates_are_400(client, param):
    r = client.get(f"/api/search?q=寒潮&{param}")
    assert r.status_code == 400
    assert "error" in r.get_json()


def test_api_doc(client):
    r = client.get("/api/doc/tech/chips.md?q=芯片")
    assert r.status_code == 200
    data = r.get_json()
    assert data["id"] == "tech/chips.md"
    assert data["matches"] >= 2
    assert any("<mark>芯片</mark>" in p for p in data["paragraphs"])
    missing = client.get("/api/doc/nope.md")
    assert missing.status_code == 404
    assert missing.get_json()["error"]


def test_api_unknown_route_is_json_404(client):
    r = client.get("/api/nothing")
    assert r.status_code == 404
    assert r.get_json()["status"] == 404


# -- health, headers, logging, errors ---------------------------------------------------


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "documents": 15}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?q=DeepSeek",
        "/doc/tech/chips.md",
        "/api/search?q=x",
        "/api/suggest?q=x",
        "/nope",
        "/healthz",
    ],
)
def test_security_headers_everywhere(client, path):
    r = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value


def test_no_inline_scripts_or_styles(client):
    for path in (
        "/",
        "/?q=人工智能",
        "/doc/tech/open-model.md?q=开源",
        "/?q=芯片&explain=1",
        "/?q=人工智障",
        "/doc/dup/weather-2025-01-05.txt",
    ):
        html = html_of(client.get(path))
        assert "style=" not in html
        assert "<style" not in html
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag
        assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
        assert "http://" not in html.replace('href="http://', "")  # nothing from a CDN


def test_static_files_served(client):
    html = html_of(client.get("/"))
    hrefs = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert len(hrefs) == 3  # favicon, stylesheet, script
    for href in [*hrefs, "/favicon.ico"]:
        with client.get(unescape(href)) as r:
            assert r.status_code == 200, href
            assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_request_log_line(client, caplog):
    caplog.set_level(logging.INFO, logger="searchapp.web")
    client.get("/healthz")
    lines = [r.getMessage() for r in caplog.records if r.name == "searchapp.web"]
    assert any(
        re.fullmatch(r"method=GET path=/healthz status=200 duration_ms=\d+\.\d", line)
        for line in lines
    ), lines


def test_unexpected_error_is_a_friendly_500(app, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    engine = app.extensions["searchapp"]

    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(engine, "search", boom)
    client = app.test_client()
    r = client.get("/?q=DeepSeek")
    assert r.status_code == 500
    text = text_of(r)
    assert "服务器出错了" in text
    assert "secret internal detail" not in text and "Traceback" not in text
    assert r.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    api = client.get("/api/search?q=DeepSeek")
    assert api.status_code == 500
    assert api.get_json()["status"] == 500


@pytest.fixture
def empty_app(tmp_path: Path):
    """An app whose index folder has no index."""
    (tmp_path / "index").mkdir()
    (tmp_path / "corpus").mkdir()
    return create_app(
        {
            "TESTING": True,
            "CORPUS_DIR": str(tmp_path / "corpus"),
            "INDEX_DIR": str(tmp_path / "index"),
        }
    )


@pytest.mark.parametrize("path", ["/", "/?q=DeepSeek", "/doc/tech/chips.md"])
def test_missing_index_is_a_503_page(empty_app, path):
    r = empty_app.test_client().get(path)
    assert r.status_code == 503
    text = text_of(r)
    assert "索引尚未建立" in text
    assert "python -m searchapp rebuild" in text
    assert "Traceback" not in text
    assert r.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path", ["/api/search?q=DeepSeek", "/api/doc/tech/chips.md", "/api/suggest?q=rgzn"]
)
def test_missing_index_is_503_json(empty_app, path):
    r = empty_app.test_client().get(path)
    assert r.status_code == 503
    data = r.get_json()
    assert data["error"] == "index unavailable"
    assert "rebuild" in data["hint"]


def test_healthz_without_index(empty_app):
    r = empty_app.test_client().get("/healthz")
    assert r.status_code == 503
    data = r.get_json()
    assert data["status"] == "unavailable"
    assert data["reason"]


# -- autocomplete -------------------------------------------------------------------------


def test_api_suggest_shape(client):
    r = client.get("/api/suggest?q=rgzn")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "private, max-age=30"
    data = r.get_json()
    assert data["q"] == "rgzn"
    assert data["suggestions"][0] == {
        "text": "人工智能",
        "kind": "pinyin",
        "url": "/?q=%E4%BA%BA%E5%B7%A5%E6%99%BA%E8%83%BD",
    }
    titles = [s for s in data["suggestions"] if s["kind"] == "title"]
    article = {
        "text": "开源模型推动人工智能发展",
        "kind": "title",
        "url": "/doc/tech/open-model.md",
    }
    assert article in titles
    for item in data["suggestions"]:
        assert set(item) == {"text", "kind", "url"}
        assert item["kind"] in {"term", "pinyin", "title"}
        assert client.get(item["url"]).status_code == 200


def test_api_suggest_completes_the_last_word(client):
    data = client.get("/api/suggest", query_string={"q": "DeepSeek 人工"}).get_json()
    assert [s["text"] for s in data["suggestions"] if s["kind"] == "term"] == [
        "DeepSeek 人工智能",
        "DeepSeek 人工智慧",
    ]


@pytest.mark.parametrize("query", ["", "q=", "q=%20%20", "q=%00", 'q="', "q=title:", "q=("])
def test_api_suggest_empty_and_odd_input(client, query):
    r = client.get(f"/api/suggest?{query}")
    assert r.status_code == 200
    data = r.get_json()
    assert isinstance(data["suggestions"], list)
    if query in ("", "q=", "q=%20%20"):
        assert data["suggestions"] == []


def test_api_suggest_is_bounded(client):
    data = client.get("/api/suggest", query_string={"q": "人" * 5000}).get_json()
    assert len(data["q"]) == 200
    assert len(data["suggestions"]) <= 8
    assert all(len(s["text"]) <= 120 for s in data["suggestions"])


def test_api_suggest_text_with_script_is_data_not_markup(client):
    r = client.get("/api/suggest", query_string={"q": "<script"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.get_json()["suggestions"] == [
        {
            "text": "<script>alert('title')</script>安全测试",
            "kind": "title",
            "url": "/doc/tricky/script.md",
        }
    ]


def test_api_suggest_never_fails(app, monkeypatch, caplog):
    from searchapp.engine import suggest

    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(suggest, "suggest", boom)
    r = app.test_client().get("/api/suggest?q=rgzn")
    assert r.status_code == 200
    assert r.get_json() == {"q": "rgzn", "suggestions": []}
    assert "secret internal detail" not in r.get_data(as_text=True)


def test_search_form_points_the_script_at_the_suggest_api(client):
    html = html_of(client.get("/"))
    assert 'data-suggest-url="/api/suggest"' in html
    # Without JavaScript it stays a plain search form.
    assert 'action="/" method="get"' in html and 'name="q"' in html


# -- did you mean ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "better"),
    [
        ("人工智障", "人工智能"),
        ("开源模形", "开源模型"),
        ("deepsek", "DeepSeek"),
        ("寒潮 北极熊", "寒潮"),
    ],
)
def test_did_you_mean_on_the_page(client, query, better):
    r = client.get("/", query_string={"q": query})
    html, text = html_of(r), text_of(r)
    assert f"您是不是要找： {better}" in text
    link = re.search(r'class="did-you-mean"[^>]*>您是不是要找：<a href="([^"]+)"', html).group(1)
    followed = client.get(unescape(link))
    assert "找到" in text_of(followed) and "您是不是要找" not in text_of(followed)


def test_did_you_mean_in_the_api(client):
    data = client.get("/api/search?q=deepsek").get_json()
    assert data["total"] == 0
    assert data["suggestion"] == {"q": "DeepSeek", "url": "/?q=DeepSeek"}
    assert client.get("/api/search?q=DeepSeek").get_json()["suggestion"] is None
    # The page's filters stay in the suggestion.
    data = client.get("/api/search?q=deepsek&source=qq").get_json()
    assert data["suggestion"]["q"] == "DeepSeek"
    assert "source=qq" in data["suggestion"]["url"]
    # Pinyin needs no suggestion: the search itself reads it as the Chinese word.
    data = client.get("/api/search?q=hanchao&source=气象台").get_json()
    assert data["total"] >= 1 and data["suggestion"] is None
    assert "<mark>寒潮</mark>" in data["hits"][0]["title_html"] + data["hits"][0]["snippet"]


def test_a_found_query_is_never_corrected_by_leaving_a_word_out(client):
    # Two articles quote 傅聪 on DeepSeek; DeepSeek alone finds five, but the reader asked
    # for both: that is not a correction.
    data = client.get("/api/search?q=傅聪 DeepSeek").get_json()
    assert data["exact"] == 2 and client.get("/api/search?q=DeepSeek").get_json()["total"] == 5
    assert data["suggestion"] is None


def test_raw_utf8_in_the_query_string_is_read_as_utf8(client):
    """curl 'http://.../api/search?q=黃仁勳' sends the bytes unencoded; WSGI hands them over
    as Latin-1 text."""
    raw = "q=黃仁勳 OR 寒潮&source=气象台".encode().decode("latin-1")
    data = client.get("/api/search", environ_overrides={"QUERY_STRING": raw}).get_json()
    assert data["query"] == "黃仁勳 OR 寒潮"
    assert data["filters"] == [{"field": "source", "value": "气象台"}]
    assert data["total"] >= 1


def test_a_browser_can_add_the_page_as_a_search_engine(client):
    page = client.get("/?q=DeepSeek").get_data(as_text=True)
    assert '<link rel="search" type="application/opensearchdescription+xml"' in page
    found = client.get("/opensearch.xml")
    assert found.status_code == 200
    assert found.mimetype == "application/opensearchdescription+xml"
    xml = found.get_data(as_text=True)
    assert 'template="http://localhost/?q={searchTerms}"' in xml
    assert 'template="http://localhost/api/suggest?format=opensearch&amp;q={searchTerms}"' in xml
    bar = client.get("/api/suggest?format=opensearch&q=rgzn").get_json()
    assert bar[0] == "rgzn" and bar[1][0] == "人工智能"


def test_no_suggestion_when_nothing_is_close(client):
    assert "您是不是要找" not in text_of(client.get("/?q=zzzqqq"))
    assert client.get("/api/search?q=zzzqqq").get_json()["suggestion"] is None


# -- why this result ------------------------------------------------------------------------


def test_api_explain(client):
    data = client.get("/api/search?q=芯片&explain=1").get_json()
    assert data["hits"]
    for hit in data["hits"]:
        why = hit["explain"]
        assert why["total"] == hit["score"]
        assert sum(p["score"] for p in why["parts"]) == pytest.approx(hit["score"], abs=1e-3)
    first = data["hits"][0]
    assert first["id"] == "tech/chips.md"
    assert [(p["field"], p["term"]) for p in first["explain"]["parts"]] == [
        ("body", "芯片"),
        ("title", "芯片"),
        ("summary", "芯片"),
    ]
    assert "explain" not in client.get("/api/search?q=芯片").get_json()["hits"][0]


def test_explain_on_the_page(client):
    plain = html_of(client.get("/?q=芯片"))
    assert 'class="why"' not in plain
    toggle = re.search(r'class="explain-toggle" href="([^"]+)"[^>]*>显示评分依据<', plain).group(1)
    r = client.get(unescape(toggle))
    html, text = html_of(r), text_of(r)
    assert html.count('<details class="why">') == 4
    assert text.count("为什么是这个结果") == 4
    assert "标题 芯片 2.06" in text  # field, term, BM25F part of tech/chips.md
    assert "标题权重 1.5、摘要 1.2、正文 1）" in text
    assert "<meter" in html
    back = re.search(r'class="explain-toggle is-selected" href="([^"]+)"', html).group(1)
    assert "explain" not in unescape(back)
    # Filters, sorting and new searches keep it on.
    assert '<input type="hidden" name="explain" value="1">' in html
    assert "explain=1" in unescape(re.search(r'class="sort-link[^"]*" href="([^"]+)"', html)[1])


# -- related articles -----------------------------------------------------------------------


def test_article_page_groups_other_sources_and_related(client):
    r = client.get("/doc/dup/weather-2025-01-05.txt")
    html, text = html_of(r), text_of(r)
    assert "同一新闻的其他来源" in text
    assert 'href="/doc/dup/weather-2025-01-06.txt"' in html
    assert 'href="/doc/dup/weather-2025-01-07.txt"' in html
    assert 'href="/doc/dup/weather-2025-01-05.txt"' not in html
    other = text_of(client.get("/doc/tech/open-model.md"))
    assert "相关文章" in other and "同一新闻的其他来源" not in other
    assert "DeepSeek 为中国在国际市场争取到 AI 话语权" in other


def test_api_doc_related_and_duplicates(client):
    data = client.get("/api/doc/dup/weather-2025-01-05.txt").get_json()
    assert [d["id"] for d in data["duplicates"]] == [
        "dup/weather-2025-01-06.txt",
        "dup/weather-2025-01-07.txt",
    ]
    dup = data["duplicates"][0]
    assert dup["url"] == "/doc/dup/weather-2025-01-06.txt"
    assert dup["title"] == "寒潮来袭气温骤降" and dup["source"] == "气象台"
    assert dup["date"] == "2025-01-06 08:00:00"
    assert data["related"] == []
    data = client.get("/api/doc/tech/open-model.md").get_json()
    assert {d["id"] for d in data["related"]} == {
        "seeds/deepseek-reshapes-global-ai.txt",
        "seeds/deepseek-wins-china-ai-voice.txt",
        "seeds/paris-ai-summit-china-success.txt",
        "seeds/zhao-minghao-beyond-winning-and-losing.txt",
    }


def test_related_failure_never_breaks_the_article(app, monkeypatch):
    from searchapp.engine import related

    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(related, "related", boom)
    client = app.test_client()
    r = client.get("/doc/tech/chips.md")
    assert r.status_code == 200
    assert "英伟达发布新一代芯片" in text_of(r)
    assert client.get("/api/doc/tech/chips.md").get_json()["related"] == []


def test_a_too_long_query_says_which_words_were_used(client):
    words = " ".join(["DeepSeek"] + [f"qz{chr(97 + n % 26)}{chr(97 + n // 26)}" for n in range(40)])
    page = client.get("/", query_string={"q": words})
    assert page.status_code == 200
    assert "搜索词太多，只使用了前 32 个词。" in page.get_data(as_text=True)
    data = client.get("/api/search", query_string={"q": words}).get_json()
    assert data["truncated"] is True and data["total"] >= 4
    assert client.get("/api/search?q=DeepSeek").get_json()["truncated"] is False
