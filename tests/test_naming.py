"""A query that has an article's whole title in it names that article: it ranks first.

Two fish, as in an encyclopedia: 红钻鱼 and 丝尾红钻鱼, whose article says 红钻鱼, 分布 and
广泛 more often. By word counts alone the longer title wins a question about 红钻鱼; the
reader named the shorter one. Runs on every configured backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BACKENDS, Deployed, deploy

from searchapp import create_app
from searchapp.cli import cli
from searchapp.engine import Engine
from searchapp.text import naming, query
from searchapp.text.analysis import Analyzer
from searchapp.text.scripts import fold_table

ARTICLES = {
    "hongzuan.md": (
        "红钻鱼",
        "红钻鱼为辐鳍鱼纲金眼鲷目的一种海水鱼。本鱼广泛分布于印度洋及太平洋的热带海域，"
        "栖息在深海的岩礁区，体长可达四十公分。",
    ),
    "siwei.md": (
        "丝尾红钻鱼",
        "丝尾红钻鱼与红钻鱼同属，外形与红钻鱼相近，尾鳍延长如丝。丝尾红钻鱼广泛分布于"
        "太平洋，红钻鱼分布的海域它也广泛分布，常与红钻鱼同群。",
    ),
    "watch.md": (
        "Apple Watch",
        "苹果公司的智能手表 Apple Watch 发布新款，续航更长，售价不变。",
    ),
    "watch-review.md": (
        "Apple Watch 评测：续航与屏幕",
        "我们评测了 Apple Watch 新款的续航与屏幕。Apple Watch 的续航提升明显，"
        "Apple Watch 的屏幕更亮，Apple Watch 值得购买。",
    ),
    "water.md": ("水", "水是生命之源，水资源分布不均，海水占地球水量的绝大部分。"),
}


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, (title, body) in ARTICLES.items():
        (folder / name).write_text(
            f'---\ntitle: "{title}"\ndate: "2025-03-01 08:00:00"\n---\n\n{body}\n',
            encoding="utf-8",
        )
    return folder


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    base = tmp_path_factory.mktemp(f"naming-{request.param}")
    corpus = write_corpus(base / "corpus")
    found = deploy(request.param, corpus, base / "index", "naming")
    builder = found.engine()
    builder.rebuild(corpus, procs=1)
    builder.close()
    yield found


@pytest.fixture(scope="module")
def engine(site: Deployed) -> Iterator[Engine]:
    found = site.engine()
    yield found
    found.close()


def ids(engine: Engine, text: str) -> list[str]:
    return [h.id for h in engine.search(text, pagelen=10).hits]


def test_a_question_with_the_whole_title_puts_that_article_first(engine: Engine) -> None:
    assert ids(engine, "红钻鱼广泛分布在哪里")[:2] == ["hongzuan.md", "siwei.md"]
    # The longer title is named when it is typed.
    assert ids(engine, "丝尾红钻鱼广泛分布在哪里")[:2] == ["siwei.md", "hongzuan.md"]


def test_without_the_title_the_word_counts_decide(engine: Engine) -> None:
    # 钻鱼 names neither article: the one that says the words more often leads.
    assert ids(engine, "钻鱼 广泛 分布")[:2] == ["siwei.md", "hongzuan.md"]


def test_the_title_is_matched_in_any_script_width_and_case(engine: Engine) -> None:
    assert ids(engine, "紅鑽魚廣泛分佈在哪裡")[0] == "hongzuan.md"
    assert ids(engine, "ＡＰＰＬＥ ｗａｔｃｈ 续航")[0] == "watch.md"


def test_an_english_title_is_named_across_the_space(engine: Engine) -> None:
    # The review says every word more often; "apple watch" names the short article.
    assert ids(engine, "apple watch 续航") == ["watch.md", "watch-review.md"]
    assert ids(engine, "apple watch 评测 续航 屏幕")[0] == "watch-review.md"


def test_a_one_character_title_names_nothing(engine: Engine) -> None:
    # 水 is typed, and its title's word scores, but one character is too short to name it.
    page = engine.search("水 分布", pagelen=10)
    assert "water.md" in [h.id for h in page.hits]
    why = engine.explain("水 分布", page.hits)["water.md"]
    assert [p.term for p in why.parts if p.field == "title"] == ["水"]
    assert why.named == 0.0


def test_the_bonus_is_what_explain_reports_beyond_the_terms(engine: Engine) -> None:
    text = "红钻鱼广泛分布在哪里"
    page = engine.search(text, pagelen=10)
    why = engine.explain(text, page.hits)
    first = why["hongzuan.md"]
    title_parts = sum(p.score for p in first.parts if p.field == "title")
    # Its title's score counts twice (no proximity bonus: the question is not in the text).
    assert first.named == pytest.approx(title_parts, abs=1e-3)
    assert first.bonus == 0.0
    assert first.total == pytest.approx(sum(p.score for p in first.parts) + first.named, abs=1e-3)
    assert why["siwei.md"].named == why["siwei.md"].bonus == 0.0


def test_the_page_the_api_and_the_cli_show_the_bonus(site: Deployed) -> None:
    app = create_app({"TESTING": True, **site.app_config()})
    client = app.test_client()
    html = client.get("/?q=红钻鱼广泛分布在哪里&explain=1").get_data(as_text=True)
    assert html.count("查询含完整标题加分") == 1
    data = client.get("/api/search?q=红钻鱼广泛分布在哪里&explain=1").get_json()
    named = {h["id"]: h["explain"]["named"] for h in data["hits"]}
    assert named["hongzuan.md"] > 0 and named["siwei.md"] == 0
    env = {f"SEARCHAPP_{k}": str(v) for k, v in site.app_config().items()}
    out = CliRunner().invoke(cli, ["search", "--explain", "红钻鱼广泛分布在哪里"], env=env)
    assert out.exit_code == 0, out.output
    assert out.output.count("+ named by its title") == 1


def test_runs_are_broken_by_or_exclusions_and_filters() -> None:
    analyzer = Analyzer()
    assert query.parse("红钻鱼 广泛 分布", analyzer).runs == ["红钻鱼 广泛 分布"]
    assert query.parse("红钻 -丝尾 鱼", analyzer).runs == ["红钻", "鱼"]
    assert query.parse("红钻 OR 金眼鲷 鱼", analyzer).runs == ["红钻", "金眼鲷 鱼"]
    assert query.parse("红钻 source:新华社 鱼", analyzer).runs == ["红钻", "鱼"]
    assert query.parse('title:红钻 "鱼 类" body:深海', analyzer).runs == ["红钻 鱼 类"]


def test_folding_keeps_letters_and_digits_apart_from_the_rest() -> None:
    # title_key drops the rest before folding: the same as after, for every folded character.
    for source, target in fold_table().items():
        assert chr(source).isalnum() == chr(target).isalnum(), (chr(source), chr(target))


def test_title_keys() -> None:
    assert naming.title_key("Apple Watch 評測：續航") == "applewatch评测续航"
    assert naming.names("红钻鱼", ["红钻鱼广泛分布"])
    assert not naming.names("丝尾红钻鱼", ["红钻鱼广泛分布"])
    assert not naming.names("水", ["海水分布"])
    assert not naming.names("——", ["——"])
    assert not naming.names("红钻鱼", [])
    titles = ["红钻鱼", "丝尾红钻鱼", "红钻\n鱼", "紅鑽魚", "", "红_钻_鱼"]
    assert naming.named(titles, ["红钻鱼广泛分布"]) == [True, False, True, True, False, True]
    assert naming.named(titles[:2], ["丝尾红钻鱼", "x"]) == [True, True]
