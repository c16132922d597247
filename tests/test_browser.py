"""The search page in a real headless Chromium (Playwright): what a person sees and does.

Needs Debian's chromium at /usr/bin/chromium (Playwright never downloads a browser
here). Screenshots go to artifacts/ at the repository root.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from searchapp import create_app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
HOW_TO_RUN = (
    "run the README's test command, `bash scripts/test.sh`, which installs Debian's chromium "
    "and the dev requirements (or: apt-get install -y chromium fonts-noto-cjk)"
)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
#: Collects Content-Security-Policy violations; Playwright's init scripts bypass the CSP.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture(scope="session")
def server(built: tuple[Path, Path]) -> Iterator[str]:
    """The app over the fixture index on 127.0.0.1 and a free port; yields its base URL."""
    from searchapp.web.server import make_pooled_server

    corpus_dir, index_dir = built
    # Four results a page, so the fixture queries have more than one page.
    app = create_app({"CORPUS_DIR": str(corpus_dir), "INDEX_DIR": str(index_dir), "PAGE_SIZE": 4})
    srv = make_pooled_server("127.0.0.1", 0, app)  # the server of `searchapp serve`
    thread = threading.Thread(target=srv.serve_forever, name="web-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium; a missing browser is a failure, never a skip."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"{CHROMIUM} is not installed: {HOW_TO_RUN}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(f"the playwright package is not installed: {HOW_TO_RUN}")
    with sync_playwright() as p:
        try:
            chromium = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except Exception as exc:  # noqa: BLE001 - any launch failure means the same fix
            pytest.fail(f"cannot start {CHROMIUM} ({exc}): {HOW_TO_RUN}")
        yield chromium
        chromium.close()


@dataclass
class Tab:
    """A page plus everything that went wrong on it."""

    page: Any
    base: str
    problems: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"

    def assert_clean(self) -> None:
        """No console errors, page errors, failed requests or CSP violations so far."""
        csp = self.page.evaluate("window.__cspViolations || []")
        assert not self.problems and not csp, self.problems + csp

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _cancelled_suggestion(request: Any) -> bool:
    """A suggestion request cancelled on purpose (a newer keystroke, or the form was
    submitted and the page left): expected, not a failure."""
    return "/api/suggest" in request.url and "ERR_ABORTED" in (request.failure or "")


def open_tab(browser: Any, base: str, viewport: dict[str, int]) -> Tab:
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.add_init_script(CSP_LISTENER)
    tab = Tab(context.new_page(), base)
    page = tab.page
    page.set_default_timeout(10_000)
    page.on(
        "console",
        lambda m: tab.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: tab.problems.append(f"page error: {e}"))
    page.on(
        "requestfailed",
        lambda r: (
            None if _cancelled_suggestion(r) else tab.problems.append(f"request failed: {r.url}")
        ),
    )
    page.on(
        "response",
        lambda r: tab.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    return tab


@pytest.fixture
def desktop(browser: Any, server: str) -> Iterator[Tab]:
    tab = open_tab(browser, server, DESKTOP)
    yield tab
    tab.page.context.close()


@pytest.fixture
def phone(browser: Any, server: str) -> Iterator[Tab]:
    tab = open_tab(browser, server, PHONE)
    yield tab
    tab.page.context.close()


def count_line(page: Any) -> str:
    return page.locator(".count").inner_text()


def test_type_a_query_and_see_highlighted_results(desktop: Tab) -> None:
    page = desktop.page
    desktop.goto("/")
    # The script makes the search box an ARIA combobox (it has suggestions).
    box = page.get_by_role("combobox", name="搜索新闻")
    assert page.evaluate("document.activeElement && document.activeElement.id") == "q"
    desktop.shot("desktop-home")
    box.fill("人工智能")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/\?q="))
    assert re.fullmatch(r"找到 7 条结果（\d+\.\d{3} 秒）", count_line(page))
    marks = page.locator(".hit mark")
    assert marks.count() >= 4
    assert marks.first.is_visible()
    # The mark is styled subtly, not the browser's default yellow.
    assert marks.first.evaluate("m => getComputedStyle(m).backgroundColor") == "rgb(255, 243, 176)"
    assert page.locator(".hit .label--hant").count() == 1
    assert page.get_by_role("combobox", name="搜索新闻").input_value() == "人工智能"
    # The filter panel is open on a wide screen.
    assert page.locator(".facet-link").first.is_visible()
    desktop.shot("desktop-results")
    desktop.assert_clean()


def test_click_a_facet_to_narrow_then_remove_it(desktop: Tab) -> None:
    page = desktop.page
    desktop.goto("/?q=人工智能")
    page.locator(".facet-link", has_text="繁体").click()
    page.wait_for_url(re.compile(r"script=hant"))
    assert count_line(page).startswith("找到 1 条结果")
    assert page.locator(".hit").count() == 1
    assert "台灣" in page.locator(".hit-title").inner_text()
    chip = page.locator(".chip--active", has_text="简繁：繁体")
    assert chip.is_visible()
    desktop.shot("desktop-filtered")
    chip.click()
    page.wait_for_url(lambda url: "script=" not in url)
    assert count_line(page).startswith("找到 7 条结果")
    desktop.assert_clean()


def test_sort_by_newest(desktop: Tab) -> None:
    page = desktop.page
    desktop.goto("/?q=寒潮")
    page.get_by_role("link", name="最新").click()
    page.wait_for_url(re.compile(r"sort=newest"))
    dates = page.locator(".hit-meta time").all_inner_texts()
    assert dates == ["2025-01-07", "2025-01-06", "2025-01-05"]
    assert page.get_by_role("link", name="最新").get_attribute("aria-current") == "true"
    desktop.assert_clean()


def test_open_an_article_and_see_marks(desktop: Tab) -> None:
    page = desktop.page
    desktop.goto("/?q=芯片")
    page.locator(".hit-title a").first.click()
    page.wait_for_url(re.compile(r"/doc/"))
    assert page.locator("h1").inner_text() == "英伟达发布新一代芯片"
    marks = page.locator(".article-body mark")
    assert marks.count() >= 2
    assert re.search(r"本文共有 \d+ 处匹配「芯片」", page.locator(".match-count").inner_text())
    next_match = page.locator("[data-next-match]")
    next_match.click()
    assert page.locator(".article-body mark.is-current").count() == 1
    desktop.shot("desktop-article")
    page.get_by_role("link", name="返回搜索结果").click()
    page.wait_for_url(re.compile(r"/\?q="))
    assert count_line(page).startswith("找到")
    desktop.assert_clean()


def test_page_through_results_with_the_keyboard(desktop: Tab) -> None:
    page = desktop.page
    desktop.goto("/?q=人工智能")
    assert page.locator(".hit").count() == 4
    first_page = page.locator(".hit-title").all_inner_texts()
    nav = page.get_by_role("navigation", name="分页")
    nav.locator("a[rel=next]").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"page=2"))
    assert page.locator(".hit").count() == 3
    assert not set(first_page) & set(page.locator(".hit-title").all_inner_texts())
    assert nav.locator("[aria-current=page]").inner_text() == "2"
    assert nav.locator("a[rel=next]").count() == 0
    nav.get_by_role("link", name="第 1 页").click()
    page.wait_for_url(lambda url: "page=" not in url)
    assert page.locator(".hit-title").all_inner_texts() == first_page
    desktop.assert_clean()


def test_slash_focuses_the_box_and_escape_leaves_it(desktop: Tab) -> None:
    page = desktop.page
    desktop.goto("/?q=DeepSeek")
    active = "document.activeElement && document.activeElement.id"
    assert page.evaluate(active) != "q"  # no autofocus when there is a query
    page.locator("body").click(position={"x": 5, "y": 400})
    page.keyboard.press("/")
    assert page.evaluate(active) == "q"
    assert page.get_by_role("combobox").input_value() == "DeepSeek"  # "/" was not typed
    page.keyboard.press("Escape")
    assert page.evaluate(active) != "q"
    # Tab reaches the box with a visible focus ring.
    desktop.assert_clean()


def test_no_results_and_error_pages_render_cleanly(desktop: Tab) -> None:
    page = desktop.page
    desktop.goto("/?q=北极熊吃企鹅")
    assert "没有找到与「北极熊吃企鹅」相关的文章" in page.locator(".empty").inner_text()
    desktop.shot("desktop-empty")
    response = page.goto(desktop.base + "/doc/no/such.md")
    assert response is not None and response.status == 404
    assert "找不到这篇文章" in page.locator("h1").inner_text()
    desktop.problems.clear()  # the 404 itself is expected
    desktop.assert_clean()


def test_phone_layout(phone: Tab) -> None:
    page = phone.page
    phone.goto("/")
    phone.shot("phone-home")
    phone.goto("/?q=DeepSeek")
    # Facets sit above the results in a collapsed <details>.
    details = page.locator("details.filters")
    assert details.get_attribute("open") is None
    assert not page.locator(".facet-link").first.is_visible()
    assert page.locator(".hit").first.is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    phone.shot("phone-results")
    page.locator("summary", has_text="筛选").click()
    assert page.locator(".facet-link").first.is_visible()
    phone.shot("phone-filters-open")
    page.locator(".hit-title a").first.click()
    page.wait_for_url(re.compile(r"/doc/"))
    assert page.locator(".article-body mark").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.shot("phone-article")
    phone.assert_clean()


# -- suggestions, did you mean, why this result, related articles ---------------------------


def suggestions(page: Any) -> Any:
    return page.get_by_role("listbox", name="搜索建议")


def test_suggestions_appear_while_typing_and_the_keyboard_picks_one(desktop: Tab) -> None:
    from playwright.sync_api import expect

    page = desktop.page
    desktop.goto("/")
    box = page.get_by_role("combobox", name="搜索新闻")
    assert box.get_attribute("aria-expanded") == "false"
    box.press_sequentially("rgzn", delay=40)
    listbox = suggestions(page)
    listbox.wait_for(state="visible")
    assert box.get_attribute("aria-expanded") == "true"
    assert box.get_attribute("aria-controls") == listbox.get_attribute("id")
    options = listbox.get_by_role("option")
    # The list shows up after the first key; wait until it answers the whole "rgzn".
    expect(options.first).to_have_text(re.compile(r"^人工智能"))
    assert "拼音" in options.first.inner_text()
    assert "开源模型推动人工智能发展" in listbox.inner_text()  # a title, as an article
    desktop.shot("desktop-suggest")
    box.press("ArrowDown")
    assert options.first.get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    box.press("ArrowDown")
    box.press("ArrowUp")
    assert options.first.get_attribute("aria-selected") == "true"
    box.press("Enter")
    page.wait_for_url(re.compile(r"/\?q=%E4%BA%BA%E5%B7%A5%E6%99%BA%E8%83%BD"))
    assert count_line(page).startswith("找到 7 条结果")
    desktop.assert_clean()


def test_escape_closes_the_suggestions_and_keeps_the_focus(desktop: Tab) -> None:
    page = desktop.page
    desktop.goto("/?q=DeepSeek")
    box = page.get_by_role("combobox", name="搜索新闻")
    box.fill("")
    box.press_sequentially("人工", delay=40)
    suggestions(page).wait_for(state="visible")
    box.press("Escape")
    assert suggestions(page).is_hidden()
    assert box.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.id") == "q"
    box.press("Enter")  # no option picked: the form submits what was typed
    page.wait_for_url(re.compile(r"/\?q=%E4%BA%BA%E5%B7%A5$"))
    desktop.assert_clean()


def test_clicking_a_title_suggestion_opens_the_article(desktop: Tab) -> None:
    page = desktop.page
    desktop.goto("/")
    box = page.get_by_role("combobox", name="搜索新闻")
    box.press_sequentially("寒潮", delay=40)
    suggestions(page).get_by_role("option", name=re.compile("寒潮来袭气温骤降")).click()
    page.wait_for_url(re.compile(r"/doc/dup/weather-2025-01-07\.txt$"))
    assert page.locator("h1").inner_text() == "寒潮来袭气温骤降"
    desktop.assert_clean()


def test_suggestion_text_is_never_markup(desktop: Tab) -> None:
    page = desktop.page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    desktop.goto("/")
    box = page.get_by_role("combobox", name="搜索新闻")
    box.press_sequentially("<script", delay=30)
    listbox = suggestions(page)
    listbox.wait_for(state="visible")
    assert (
        listbox.get_by_role("option")
        .first.inner_text()
        .startswith("<script>alert('title')</script>安全测试")
    )
    assert listbox.locator("script, img").count() == 0
    page.wait_for_timeout(200)
    assert dialogs == []
    desktop.assert_clean()


def test_did_you_mean_link(desktop: Tab) -> None:
    page = desktop.page
    desktop.goto("/?q=人工智障")
    note = page.locator(".did-you-mean")
    assert note.inner_text() == "您是不是要找：人工智能"
    desktop.shot("desktop-did-you-mean")
    note.get_by_role("link", name="人工智能").click()
    page.wait_for_url(re.compile(r"q=%E4%BA%BA%E5%B7%A5%E6%99%BA%E8%83%BD"))
    assert count_line(page).startswith("找到 7 条结果")
    desktop.assert_clean()


def test_why_this_result_toggle(desktop: Tab) -> None:
    page = desktop.page
    desktop.goto("/?q=芯片")
    assert page.locator("details.why").count() == 0
    page.get_by_role("link", name="显示评分依据").click()
    page.wait_for_url(re.compile(r"explain=1"))
    first = page.locator("details.why").first
    table = first.locator("table")
    assert not table.is_visible()
    first.locator("summary", has_text="为什么是这个结果").click()
    assert table.is_visible()
    rows = table.locator("tbody tr").all_inner_texts()
    assert [r.split("\t")[:2] for r in rows] == [
        ["正文", "芯片"],
        ["标题", "芯片"],
        ["摘要", "芯片"],
    ]
    desktop.shot("desktop-explain")
    page.get_by_role("link", name="隐藏评分依据").click()
    page.wait_for_url(lambda url: "explain" not in url)
    assert page.locator("details.why").count() == 0
    desktop.assert_clean()


def test_date_filter_narrows_and_its_chip_removes_it(desktop: Tab) -> None:
    page = desktop.page
    desktop.goto("/?q=寒潮")
    assert count_line(page).startswith("找到 3 条结果")
    page.locator("#date-from").fill("2025-01-06")
    page.get_by_role("button", name="应用日期").click()
    page.wait_for_url(re.compile(r"from=2025-01-06"))
    assert count_line(page).startswith("找到 2 条结果")
    chip = page.locator(".chip--active", has_text="日期：2025-01-06 至 …")
    chip.click()
    page.wait_for_url(lambda url: "from=" not in url)
    assert count_line(page).startswith("找到 3 条结果")
    desktop.assert_clean()


def test_article_shows_other_sources_and_related(desktop: Tab) -> None:
    page = desktop.page
    desktop.goto("/doc/dup/weather-2025-01-05.txt")
    group = page.get_by_role("region", name=re.compile("同一新闻的其他来源"))
    assert group.get_by_role("link").all_inner_texts() == ["寒潮来袭气温骤降", "寒潮来袭气温骤降"]
    desktop.shot("desktop-article-duplicates")
    desktop.goto("/doc/tech/open-model.md")
    related = page.get_by_role("region", name="相关文章")
    assert related.get_by_role("link").count() == 4
    desktop.shot("desktop-article-related")
    related.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/doc/seeds/"))
    desktop.assert_clean()


def test_phone_suggestions_and_explain(phone: Tab) -> None:
    page = phone.page
    phone.goto("/?q=芯片&explain=1")
    box = page.get_by_role("combobox", name="搜索新闻")
    box.fill("")
    box.press_sequentially("rengong", delay=40)
    listbox = suggestions(page)
    listbox.wait_for(state="visible")
    assert listbox.bounding_box()["width"] <= PHONE["width"]
    phone.shot("phone-suggest")
    box.press("Escape")
    page.locator("details.why summary").first.click()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.shot("phone-explain")
    phone.goto("/doc/dup/weather-2025-01-05.txt")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.shot("phone-article-duplicates")
    phone.assert_clean()
