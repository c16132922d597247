"""The searcher on the fixture corpus: ranking, syntax, fallback, pagination, snippets."""

from __future__ import annotations

import re

import pytest
from conftest import Deployed

from searchapp.engine.search import Engine, clamp_page
from searchapp.text import query
from searchapp.text.analysis import Analyzer

ANALYZER = Analyzer()


@pytest.fixture(scope="module")
def engine(deployed: Deployed) -> Engine:
    return deployed.engine(PAGE_SIZE=3)


def ids(page) -> list[str]:
    return [h.id for h in page.hits]


def marks(html: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", html)


def test_deepseek_finds_all_four_seeds_and_the_fixture(engine: Engine) -> None:
    page = engine.search("DeepSeek", pagelen=10)
    assert page.total == 5
    assert page.mode == "all"
    assert {h.id for h in page.hits} == {
        "seeds/deepseek-wins-china-ai-voice.txt",
        "seeds/paris-ai-summit-china-success.txt",
        "seeds/deepseek-reshapes-global-ai.txt",
        "seeds/zhao-minghao-beyond-winning-and-losing.txt",
        "tech/open-model.md",
    }


def test_fu_cong_finds_the_two_seeds_that_quote_him(engine: Engine) -> None:
    page = engine.search("傅聪", pagelen=10)
    assert set(ids(page)) == {
        "seeds/deepseek-reshapes-global-ai.txt",
        "seeds/deepseek-wins-china-ai-voice.txt",
    }


def test_spaceless_query_is_segmented_and_the_best_article_is_first(engine: Engine) -> None:
    page = engine.search("人工智能开源模型", pagelen=10)
    assert page.mode == "all"
    assert ids(page)[0] == "tech/open-model.md"
    assert page.segmented == (("人工智能开源模型", ("人工智能", "开源", "模型")),)


def test_title_matches_outrank_body_matches(engine: Engine) -> None:
    assert ids(engine.search("英伟达"))[0] == "tech/chips.md"
    assert ids(engine.search("关税"))[0] == "econ/tariff.md"


def test_quoted_phrase_needs_adjacent_words(engine: Engine) -> None:
    phrase = engine.search('"开源模型"', pagelen=10)
    assert ids(phrase)[0] == "tech/open-model.md"
    assert "econ/tariff.md" not in ids(phrase)
    # "模型开源" never appears in that order
    assert engine.search('"模型开源"').total == 0


def test_whole_word_highlight(engine: Engine) -> None:
    page = engine.search("马克思")
    assert ids(page) == ["politics/marx.txt"]
    hit = page.hits[0]
    assert marks(hit.title_html) == ["马克思"]
    assert marks(hit.snippet_html) == ["马克思", "马克思", "马克思"]
    assert "<mark>马克</mark>思" not in hit.snippet_html


def test_traditional_and_simplified_find_each_other(engine: Engine) -> None:
    assert "tw/ai-software.md" in ids(engine.search("习近平", pagelen=10))
    assert "seeds/paris-ai-summit-china-success.txt" in ids(engine.search("習近平", pagelen=10))
    # phrase-level vocabulary: 软件 <-> 軟體
    page = engine.search("软件", pagelen=10)
    assert ids(page)[0] == "tw/ai-software.md"
    assert marks(page.hits[0].title_html) == ["軟體"]


def test_or_and_field_filters(engine: Engine) -> None:
    either = engine.search("黄仁勋 OR 马斯克", pagelen=10)
    assert {"econ/tariff.md", "tech/chips.md", "tw/ai-software.md"} <= set(ids(either))
    assert ids(engine.search("tag:qq 关税")) == ["econ/tariff.md"]
    assert ids(engine.search("source:人民网")) == ["politics/marx.txt"]
    assert ids(engine.search("title:芯片")) == ["tech/chips.md"]


def test_exclusion(engine: Engine) -> None:
    page = engine.search("DeepSeek -巴黎", pagelen=10)
    assert page.total == 3
    assert "seeds/paris-ai-summit-china-success.txt" not in ids(page)


def test_and_falls_back_to_or_when_nothing_has_every_word(engine: Engine) -> None:
    page = engine.search("开源 量子计算", pagelen=10)
    assert page.mode == "any"
    assert ids(page)[0] == "tech/open-model.md"
    assert "long.txt" in ids(page)


def test_function_and_question_words_are_not_required(engine: Engine) -> None:
    # 了 and 什么 are the question's grammar: the answer need not contain them.
    page = engine.search("英伟达发布了什么芯片", pagelen=10)
    assert page.mode == "all"
    assert ids(page)[0] == "tech/chips.md"
    assert page.exact == engine.count("英伟达 发布 芯片") == 2
    assert engine.count("英伟达发布了什么芯片") == 2
    # Nor are they marked: 了 is in almost every sentence.
    assert "了" not in page.terms and "什么" not in page.terms
    shown = [m for h in page.hits for m in marks(h.title_html + h.snippet_html)]
    assert "芯片" in shown and "了" not in shown
    assert "了" in engine.search("了").terms  # typed alone, it is what is looked for


def test_a_function_word_alone_or_quoted_is_required(engine: Engine) -> None:
    assert query.parse("的", ANALYZER).clauses[0].alternatives[0][0].optional
    assert not query.parse('"的"', ANALYZER).clauses[0].alternatives[0][0].optional
    assert not query.parse("title:的", ANALYZER).clauses[0].alternatives[0][0].optional
    assert engine.search("的", pagelen=10).total == 7
    assert engine.count('芯片 "什么"') == 0 < engine.count("芯片 什么")


def test_too_few_with_every_word_are_followed_by_those_with_some(engine: Engine) -> None:
    page = engine.search("量子计算", pagelen=10)
    assert ids(page) == ["long.txt", "tech/chips.md"]  # chips.md has 计算, not 量子
    assert (page.mode, page.total, page.exact, page.partial) == ("all", 2, 1, 1)
    # A function word does not make an article a partial match (7 articles have 的).
    assert ids(engine.search("的 量子计算", pagelen=10)) == ["long.txt", "tech/chips.md"]


def test_partial_matches_page_after_the_exact_ones(engine: Engine) -> None:
    full = engine.search("黄仁勋在哪里发布芯片", pagelen=10)
    assert (full.total, full.exact) == (7, 1)
    assert ids(full)[0] == "tech/chips.md"
    paged = [engine.search("黄仁勋在哪里发布芯片", n, pagelen=2) for n in (1, 2, 3, 4)]
    assert [p.total for p in paged] == [7, 7, 7, 7]
    assert [p.pages for p in paged] == [4, 4, 4, 4]
    assert [i for p in paged for i in ids(p)] == ids(full)
    assert [h.rank for p in paged for h in p.hits] == list(range(1, 8))
    newest = engine.search("黄仁勋在哪里发布芯片", pagelen=10, sort="newest")
    assert ids(newest)[0] == "tech/chips.md"  # every word first, in any order
    assert sorted(ids(newest)) == sorted(ids(full))


def test_enough_exact_matches_are_not_padded(engine: Engine) -> None:
    page = engine.search("DeepSeek", pagelen=10)
    assert (page.exact, page.partial) == (None, 0)
    page = engine.search("DeepSeek 人工智能", pagelen=10)  # 5 have both: too few, padded
    assert page.exact == 5 and page.total == engine.count("DeepSeek OR 人工智能") > 5


def test_ties_are_broken_by_date_newest_first(engine: Engine) -> None:
    assert ids(engine.search("寒潮")) == [
        "dup/weather-2025-01-07.txt",
        "dup/weather-2025-01-06.txt",
        "dup/weather-2025-01-05.txt",
    ]


def test_sort_by_date(engine: Engine) -> None:
    newest = engine.search("DeepSeek", sort="newest", pagelen=10)
    dates = [h.date for h in newest.hits]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True)
    assert dates[-1] is None  # the undated seed goes last
    oldest = engine.search("DeepSeek", sort="oldest", pagelen=10)
    assert [d for d in (h.date for h in oldest.hits) if d] == sorted(dated)


def test_english_stemming(engine: Engine) -> None:
    page = engine.search("models")
    assert ids(page) == ["en/models.md"]
    assert marks(page.hits[0].snippet_html)[:2] == ["models", "model"]


@pytest.mark.parametrize("raw, expected", [(0, 1), (-1, 1), ("abc", 1), ("2", 2), (None, 1)])
def test_page_numbers_are_clamped(raw: object, expected: int) -> None:
    assert clamp_page(raw) == expected


def test_pagination(engine: Engine) -> None:
    first = engine.search("DeepSeek", 1)
    second = engine.search("DeepSeek", 2)
    assert first.pages == 2 and len(first.hits) == 3 and len(second.hits) == 2
    assert not set(ids(first)) & set(ids(second))
    assert [h.rank for h in second.hits] == [4, 5]
    beyond = engine.search("DeepSeek", 99999)
    assert beyond.hits == () and beyond.total == 5


def test_snippets_escape_document_html(engine: Engine) -> None:
    page = engine.search("安全测试")
    hit = page.hits[0]
    assert hit.id == "tricky/script.md"
    assert "<script" not in hit.snippet_html and "<script" not in hit.title_html
    assert "&lt;script&gt;" in hit.title_html
    assert "&amp;" in hit.snippet_html


def test_match_deep_inside_a_long_article_is_highlighted(engine: Engine) -> None:
    page = engine.search("量子计算")
    # The one article with both words, then (too few for a page) one with only 计算.
    assert ids(page) == ["long.txt", "tech/chips.md"]
    assert (page.exact, page.partial) == (1, 1)
    assert "<mark>量子计算</mark>" in page.hits[0].snippet_html.replace("</mark><mark>", "")


def test_snippets_are_cut_at_sentence_boundaries(engine: Engine) -> None:
    hit = engine.search("关税").hits[0]
    text = re.sub(r"</?mark>", "", hit.snippet_html)
    assert (
        text
        == "美国政府宣布对进口商品加征关税，特斯拉首席执行官马斯克表示担忧，认为关税将推高成本。"
    )


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "(",
        ")",
        "title:",
        "tag:",
        '"',
        '""',
        "AND AND",
        "OR",
        "-",
        "-DeepSeek",
        "x" * 2000,
        "人工\x00智能\x07",
        "\u200b\ufeff",
        "body:[a TO",
        "*",
        "???",
        "🙂🙂",
    ],
)
def test_strange_queries_never_raise(engine: Engine, query: str) -> None:
    page = engine.search(query)
    assert page.mode in ("all", "any", "empty")
    assert len(page.hits) == min(page.total, page.pagelen)
    assert page.total == 0 or page.mode != "empty"


def test_a_pasted_paragraph_uses_only_its_first_32_words(engine: Engine) -> None:
    words = ["DeepSeek"] + [f"qz{chr(97 + n % 26)}{chr(97 + n // 26)}" for n in range(40)]
    parsed = query.parse(" ".join(words), ANALYZER)
    units = [u for c in parsed.clauses for alt in c.alternatives for u in alt]
    assert len(units) == query.MAX_UNITS == 32 and parsed.truncated
    assert units[0].terms == ("deepseek",)
    page = engine.search(" ".join(words))
    assert page.truncated and page.mode == "any"  # the qz.. words are in no article
    assert "seeds/deepseek-reshapes-global-ai.txt" in ids(
        engine.search(" ".join(words), pagelen=10)
    )
    short = engine.search("DeepSeek 开源")
    assert not short.truncated and not query.parse("DeepSeek 开源", ANALYZER).truncated


def test_only_exclusions_or_nothing_is_an_empty_search(engine: Engine) -> None:
    assert engine.search("-DeepSeek").mode == "empty"
    assert engine.search("（）").total == 0


def test_facets_count_every_matching_document(engine: Engine) -> None:
    page = engine.search("DeepSeek", facets=True)
    assert dict(page.facets["source"]) == {"qq": 3, "中国金融网": 1}
    assert dict(page.facets["script"]) == {"hans": 5}


def test_article_view_highlights_the_query(engine: Engine) -> None:
    art = engine.article("politics/marx.txt", "马克思")
    assert art is not None
    assert art.title == "马克思主义理论研究取得新进展"
    assert art.matches == 3
    assert marks(art.paragraphs_html[0]) == ["马克思", "马克思"]
    assert engine.article("../../etc/passwd") is None


def test_stats(engine: Engine) -> None:
    info = engine.stats()
    assert info["documents"] == 15
    assert info["last_date"].isoformat() == "2025-03-01T09:30:00"


def test_filters_match_whatever_the_case_of_the_indexed_value(engine: Engine) -> None:
    upper = engine.search("芯片", filters=[("lang", "zh-CN")], pagelen=10)
    lower = engine.search("芯片 lang:zh-cn", pagelen=10)
    assert (
        ids(upper)
        == ids(lower)
        == [
            "tech/chips.md",
            "seeds/zhao-minghao-beyond-winning-and-losing.txt",
        ]
    )


def test_a_filter_value_that_matches_nothing_finds_nothing(engine: Engine) -> None:
    # Whoosh reads an empty allow-set as "no filter": this must not return everything.
    for page in (
        engine.search("芯片", filters=[("tags", "no-such-tag")]),
        engine.search("芯片 OR 关税 tag:no-such-tag"),
        engine.search("source:nowhere"),
    ):
        assert page.total == 0
        assert page.hits == ()


def test_filters_without_words_browse_newest_first(engine: Engine) -> None:
    page = engine.search("tag:qq", pagelen=10)
    assert page.mode == "browse"
    assert page.sort == "newest"
    assert ids(page) == [
        "seeds/paris-ai-summit-china-success.txt",
        "seeds/zhao-minghao-beyond-winning-and-losing.txt",
        "econ/tariff.md",
    ]
    same = engine.search("", filters=[("tags", "qq")], pagelen=10)
    assert ids(same) == ids(page)
    oldest = engine.search("", filters=[("tags", "qq")], sort="oldest", pagelen=10)
    assert ids(oldest) == list(reversed(ids(page)))
    assert engine.search("", filters=[("lang", "zh-cn")], pagelen=10).total == 6


def test_excluding_a_filter_value_ignores_case(engine: Engine) -> None:
    page = engine.search("人工智能 -lang:ZH-cn", pagelen=10)
    assert "tech/open-model.md" in ids(engine.search("人工智能", pagelen=10))
    assert set(ids(page)) == {
        "tw/ai-software.md",
        "seeds/deepseek-reshapes-global-ai.txt",
        "seeds/deepseek-wins-china-ai-voice.txt",
    }


def test_a_word_the_index_never_saw_is_split_into_words_it_did(engine: Engine) -> None:
    # jieba's HMM glues an unknown name to its neighbour (潘淑是); the index has 马斯克
    # and 担忧 but never 马斯克担忧 as one word... unless split again.
    view = engine.view()
    assert engine._split_unknown(view, "马斯克担忧", ("body",)) == ("马斯克", "担忧")
    page = engine.search("title:马斯克担忧")
    assert page.mode == "all"
    assert ids(page) == ["econ/tariff.md"]
    # A piece the index does not know either: the word is kept, nothing is guessed.
    assert engine._split_unknown(view, "梁文锋", ("body",))[0] == "梁"
    assert engine.search("梁文锋").total == 0


def test_an_unknown_english_word_is_never_cut_into_letters(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if every single letter were in the index and the vocabulary (pinyin) not built:
    # rgzn must stay one word (it finds nothing), not become r AND g AND z AND n.
    monkeypatch.setattr(Engine, "_known", lambda self, view, term, fields: len(term) == 1)
    view = engine.view()

    def words(text: str) -> list[tuple[str, ...]]:
        parsed = engine._resolve(query.parse(text, view.analyzer), view)
        return [u.terms for c in parsed.clauses for alt in c.alternatives for u in alt]

    assert words("rgzn") == [("rgzn",)]
    assert words("潘淑") == [("潘",), ("淑",)]  # Chinese runs are still split


def test_one_idf_per_term_over_the_whole_article(engine: Engine) -> None:
    # Per-field IDF would make 的 rare (so heavy) in titles; BM25F has one IDF per term:
    # a word in every article weighs next to nothing, in the title as in the body.
    view = engine.view()
    title, body = view.term_stats("title", ["的"]), view.term_stats("body", ["的"])
    assert title["的"][0] < body["的"][0]
    from searchapp.backends.base import Term

    ref = view.lookup("tech/chips.md")
    common = view.scores(Term("title", "的"), [ref])[0]
    rare = view.scores(Term("title", "芯片"), [ref])[0]
    assert 0 <= common < 0.8 < 1.2 < rare


def test_count_is_every_word_without_fallback(engine: Engine) -> None:
    assert engine.count("DeepSeek") == 5
    assert engine.count("DeepSeek tag:qq") == 2
    assert engine.count("马斯克 不存在的词语组合") == 0
    assert engine.count("") == 0


def test_pinyin_finds_chinese_words_once_the_vocabulary_is_built(engine: Engine) -> None:
    with engine.pinned():
        engine.vocabulary.get(engine.view())
    for typed in ("rengongzhineng", "rgzn"):
        page = engine.search(typed, pagelen=10)
        assert "tech/open-model.md" in ids(page)
        assert "人工智能" in marks(page.hits[0].title_html + page.hits[0].snippet_html) or any(
            "人工智能" in marks(h.snippet_html) for h in page.hits
        )
    # A real English word is not read as pinyin.
    assert ids(engine.search("laptop", pagelen=10)) == ["en/models.md"]
