"""Autocomplete, pinyin and "did you mean" (searchapp.engine.suggest) on the fixture index, and
on real news from ../shared/corpus when it is there."""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Deployed, engine_for, shared_corpus_or_skip

from searchapp.engine import suggest
from searchapp.engine.search import Engine


def make_engine(corpus: Path, index: Path) -> Engine:
    return engine_for(corpus, index)


@pytest.fixture(scope="module")
def engine(deployed: Deployed) -> Iterator[Engine]:
    eng = deployed.engine()
    yield eng
    eng.close()


def vocab_of(engine: Engine) -> suggest.Vocabulary:
    """The engine's suggestion vocabulary for its index as it is now."""
    with engine.pinned():
        found = engine.vocabulary.get(engine.view())
    assert found is not None
    return found


@pytest.fixture(scope="module")
def searcher(engine: Engine) -> suggest.Vocabulary:
    return vocab_of(engine)


def texts(items: list[suggest.Suggestion]) -> list[tuple[str, str]]:
    return [(s.text, s.kind) for s in items]


def counter(engine: Engine) -> Any:
    calls: list[str] = []

    def count(text: str) -> int:
        calls.append(text)
        page = engine.search(text, pagelen=1)
        return page.total if page.mode == "all" else 0

    count.calls = calls  # type: ignore[attr-defined]
    return count


# -- autocomplete -------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["rengongzhineng", "rgzn", "RenGongZhiNeng", "ｒｇｚｎ"])
def test_full_pinyin_and_initials_suggest_the_chinese_word(searcher: Any, typed: str) -> None:
    out = suggest.suggest(searcher, typed)
    assert texts(out)[0] == ("人工智能", "pinyin")
    # ... then the titles that contain it, as articles.
    assert ("开源模型推动人工智能发展", "title") in texts(out)


def test_partial_pinyin_completes(searcher: Any) -> None:
    out = texts(suggest.suggest(searcher, "rengong"))
    assert out[:3] == [("人工", "pinyin"), ("人工智能", "pinyin"), ("人工智慧", "pinyin")]
    assert texts(suggest.suggest(searcher, "masike"))[0] == ("马斯克", "pinyin")
    # Initials need as many letters as characters (or one fewer): rgz already finds it.
    assert texts(suggest.suggest(searcher, "rgz"))[:2] == [
        ("人工智能", "pinyin"),
        ("人工智慧", "pinyin"),
    ]


def test_chinese_prefix_completes_from_index_terms(searcher: Any) -> None:
    out = suggest.suggest(searcher, "人工")
    assert texts(out)[:2] == [("人工智能", "term"), ("人工智慧", "term")]
    assert texts(suggest.suggest(searcher, "寒"))[0] == ("寒潮", "term")


def test_mixed_input_completes_only_the_last_word(searcher: Any) -> None:
    out = texts(suggest.suggest(searcher, "deepseek 开"))
    completions = [t for t, kind in out if kind == "term"]
    assert "deepseek 开源" in completions
    assert all(t.startswith("deepseek 开") for t in completions)
    assert texts(suggest.suggest(searcher, "DeepSeek 人工"))[:2] == [
        ("DeepSeek 人工智能", "term"),
        ("DeepSeek 人工智慧", "term"),
    ]


def test_a_word_typed_without_spaces_completes_its_last_part(searcher: Any) -> None:
    completions = [t for t, _ in texts(suggest.suggest(searcher, "人工智能开"))]
    assert "人工智能开源" in completions
    assert all(t.startswith("人工智能开") for t in completions)


def test_english_is_shown_as_titles_spell_it(searcher: Any) -> None:
    assert texts(suggest.suggest(searcher, "deep"))[0] == ("DeepSeek", "term")
    # The index has the stem "model"; the title says "models".
    assert texts(suggest.suggest(searcher, "mod"))[0] == ("models", "term")


def test_traditional_input_gets_traditional_forms(searcher: Any) -> None:
    out = texts(suggest.suggest(searcher, "軟"))
    assert ("軟體", "term") in out  # as the traditional title writes it, not 软体
    assert ("台灣人工智慧軟體產業快速成長", "title") in out


def test_titles_contain_every_word_and_repeat_once(searcher: Any) -> None:
    out = suggest.suggest(searcher, "寒潮")
    # Three sources carry the same title: it is offered once, the newest article.
    assert [(s.text, s.kind, s.doc_id) for s in out] == [
        ("寒潮来袭气温骤降", "title", "dup/weather-2025-01-07.txt")
    ]
    assert suggest.suggest(searcher, "寒潮 DeepSeek") == []


def test_limit_and_title_share(searcher: Any) -> None:
    out = suggest.suggest(searcher, "ma")
    assert len(out) == suggest.LIMIT
    assert sum(s.kind == "title" for s in out) >= 1
    assert len(suggest.suggest(searcher, "ma", limit=3)) == 3


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "\x00\x01", '"', "title:", "(", "-", "OR", "a" * 5000, "人" * 3000, "🙂", "\u200b"],
)
def test_odd_input_never_raises(searcher: Any, typed: str) -> None:
    out = suggest.suggest(searcher, typed)
    assert len(out) <= suggest.LIMIT
    assert all(len(s.text) <= suggest.MAX_TEXT for s in out)


def test_empty_input_suggests_nothing(searcher: Any) -> None:
    assert suggest.suggest(searcher, "") == []
    assert suggest.suggest(searcher, "  ") == []


def test_script_in_a_title_is_returned_as_plain_text(searcher: Any) -> None:
    out = suggest.suggest(searcher, "<script")
    assert texts(out) == [("<script>alert('title')</script>安全测试", "title")]


def test_suggest_is_fast_on_the_fixture(searcher: Any) -> None:
    suggest.suggest(searcher, "人")  # the vocabulary is built once
    prefixes = ["人", "人工", "rg", "rgzn", "deep", "寒", "ma", "开源", "習", "xj"] * 5
    times = []
    for prefix in prefixes:
        started = time.perf_counter()
        suggest.suggest(searcher, prefix)
        times.append((time.perf_counter() - started) * 1000)
    assert statistics.median(times) < 20


# -- pinyin for the searcher --------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("rengongzhineng", ["人工智能"]),
        ("rgzn", ["人工智能"]),
        ("kaiyuan", ["开源"]),
        ("masike", ["马斯克"]),
        ("mks", ["马克思"]),
        ("xijinping", ["习近平"]),
        ("xjp", ["习近平"]),
        ("huangrenxun", ["黄仁勋"]),
        # English words of the index, not pinyin
        ("deepseek", []),
        ("running", []),
        ("open", []),
        # too short for initials, not letters, not pinyin of any indexed word
        ("ky", []),
        ("人工智能", []),
        ("r2d2", []),
        ("zzzz", ["重中之重"]),  # initials: zhong zhong zhi zhong
        ("zzzzz", []),
        ("", []),
    ],
)
def test_pinyin_candidates(searcher: Any, word: str, expected: list[str]) -> None:
    assert suggest.pinyin_candidates(word, searcher) == expected


def test_a_stemmed_pinyin_word_still_maps(searcher: Any) -> None:
    # The analyzer stems "xijinping" to "xijinp" (Porter2 drops -ing): still 习近平.
    assert suggest.pinyin_candidates("xijinp", searcher) == ["习近平"]


def test_an_english_word_as_common_as_its_pinyin_reading_is_english(tmp_path: Path) -> None:
    articles = {
        "moon.txt": "嫦娥探月\n来源:测试社 2025年01月01日 08时00分\n\n嫦娥六号带回月球样本。",
        "en1.txt": "Climate change\n来源:test 2025年01月02日 08时00分\n\nThe change is fast.",
        "en2.txt": "Policy change\n来源:test 2025年01月03日 08时00分\n\nA change of plan.",
    }

    def candidates(names: list[str]) -> list[str]:
        corpus = tmp_path / "-".join(names)
        corpus.mkdir()
        for name in names:
            (corpus / name).write_text(articles[name], encoding="utf-8")
        index = tmp_path / f"{corpus.name}.index"
        eng = engine_for(corpus, index)
        eng.rebuild(corpus, procs=1)
        try:
            return suggest.pinyin_candidates("change", vocab_of(eng))
        finally:
            eng.close()

    assert candidates(["moon.txt"]) == ["嫦娥"]
    # Two English articles say "change", one Chinese article 嫦娥: it is English.
    assert candidates(["moon.txt", "en1.txt", "en2.txt"]) == []


# -- did you mean -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("人工智障", "人工智能"),  # a known word one character away
        ("开源模形", "开源模型"),  # a homophone typed by mistake
        ("寒朝", "寒潮"),
        ("deepsek", "DeepSeek"),  # English within two edits
        ("寒潮 北极熊", "寒潮"),  # a word nothing has is dropped
        ("马斯克 企鹅", "马斯克"),  # not 马斯克 企业: 企鹅 has no homophone in the index
        ("人工智能 zzzqqq", "人工智能"),
    ],
)
def test_did_you_mean(engine: Engine, searcher: Any, query: str, expected: str) -> None:
    page = engine.search(query, pagelen=1)
    assert page.mode == "any" or page.total == 0
    count = counter(engine)
    assert suggest.did_you_mean(query, searcher, count) == expected
    assert count(expected) > 0  # only queries that find something


@pytest.mark.parametrize(
    ("query", "expected"), [("rengongzhineng", "人工智能"), ("kaiyuan moxing", "开源 模型")]
)
def test_did_you_mean_reads_pinyin(
    engine: Engine, searcher: Any, query: str, expected: str
) -> None:
    count = counter(engine)
    assert suggest.did_you_mean(query, searcher, count) == expected
    # Once the vocabulary is built the search reads the pinyin itself: same articles.
    found = engine.search(query, pagelen=50)
    assert found.mode == "all"
    assert {h.id for h in found.hits} == {h.id for h in engine.search(expected, pagelen=50).hits}


def test_did_you_mean_leaves_one_word_out_when_words_exist_but_never_together(
    engine: Engine, searcher: Any
) -> None:
    # Each word is in the index, no article has all three: drop the one that finds most.
    assert suggest.did_you_mean("寒潮 马克思 芯片", searcher, counter(engine)) is None
    assert suggest.did_you_mean("寒潮 气温 马克思", searcher, counter(engine)) == "寒潮 气温"


def test_did_you_mean_gives_up_when_nothing_is_close(engine: Engine, searcher: Any) -> None:
    for query in ("zzzqqq", "北极熊吃企鹅", "", "   ", '"', "-DeepSeek"):
        assert suggest.did_you_mean(query, searcher, counter(engine)) is None


def test_did_you_mean_needs_more_than_the_few_already_found(engine: Engine, searcher: Any) -> None:
    # With two results found, a suggestion must find at least three.
    assert suggest.did_you_mean("寒朝", searcher, lambda q: 2, found=2) is None
    assert suggest.did_you_mean("寒朝", searcher, lambda q: 3, found=2) == "寒潮"
    # Leaving a word out is no correction when articles have every word.
    assert suggest.did_you_mean("寒潮 气温 马克思", searcher, lambda q: 5, found=1) is None


def test_did_you_mean_checks_a_bounded_number_of_queries(engine: Engine, searcher: Any) -> None:
    count = counter(engine)
    suggest.did_you_mean("寒潮 马克思 芯片 北极熊 企鹅 英伟达", searcher, count)
    assert 0 < len(count.calls) <= suggest.MAX_CHECKS


def test_chinese_neighbours_prefer_homophones(searcher: Any) -> None:
    vocab = searcher
    assert vocab.cjk_neighbours("模形") == ["模型"]
    assert vocab.cjk_neighbours("企鹅") == []
    assert vocab.cjk_neighbours("人工智障")[:1] == ["人工智能"]
    assert vocab.title_neighbours("开源模形") == ["开源模型"]
    assert vocab.ascii_neighbours("deepsek") == ["DeepSeek"]
    assert vocab.ascii_neighbours("runing") == ["Running"]


# -- the vocabulary follows the index -----------------------------------------------------


NEW_ARTICLE = (
    "量子霸权新进展\n来源:测试社 2025年03月02日 08时00分\n\n霍格沃茨魔法学校宣布量子霸权。\n"
)


def test_vocabulary_is_cached_and_rebuilt_when_the_index_changes(corpus: Path, tmp_path: Path):
    index = tmp_path / "index"
    eng = engine_for(corpus, index)
    eng.rebuild(corpus, procs=1)
    try:
        first = vocab_of(eng)
        assert vocab_of(eng) is first
        assert not first.in_titles("量子霸权")
        (corpus / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        engine_for(corpus, index).update(corpus)
        stale = vocab_of(eng)
        assert stale is first  # no waiting: the old one answers while a thread builds
        eng.vocabulary.wait()
        second = vocab_of(eng)
        assert second is not first and second.key != first.key
        assert ("量子霸权新进展", "title") in texts(suggest.suggest(second, "量子"))
    finally:
        eng.close()


def test_a_request_never_waits_for_the_first_build(corpus: Path, tmp_path: Path) -> None:
    """A server's warm-up builds the first vocabulary in the background: a request asking
    meanwhile gets no suggestions instead of waiting for it."""
    index = tmp_path / "index"
    eng = engine_for(corpus, index)
    eng.rebuild(corpus, procs=1)
    for saved in index.glob("gen-*/derived-*.bin"):  # an index saved without it
        saved.unlink()
    eng = engine_for(corpus, index)
    try:
        with eng.vocabulary._build_lock:  # what the warm-up thread holds while it builds
            assert eng.suggest("芯") == []
        assert eng.suggest("芯片")
        warm = engine_for(corpus, index)
        thread = warm.warm_up()
        assert thread is not None
        thread.join(60)
        assert warm.vocabulary.peek() is not None
    finally:
        eng.close()


# -- real news (../shared/corpus) ---------------------------------------------------------


@pytest.fixture(scope="module")
def cna(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """100 CNA articles in Big5 and the same 100 in UTF-8, indexed."""
    big5 = shared_corpus_or_skip("encodings", "reencoded", "big5_txt_from_agora_cna")
    originals = shared_corpus_or_skip("news-txt", "cna")
    base = tmp_path_factory.mktemp("cna")
    corpus = base / "corpus"
    (corpus / "big5").mkdir(parents=True)
    (corpus / "utf8").mkdir()
    for path in sorted(big5.iterdir()):
        shutil.copy(path, corpus / "big5" / path.name)
        shutil.copy(originals / path.name, corpus / "utf8" / path.name)
    eng = engine_for(corpus, base / "index")
    eng.rebuild(corpus, procs=1)
    yield eng
    eng.close()


@pytest.mark.corpus
def test_real_news_pinyin(cna: Engine) -> None:
    searcher = vocab_of(cna)
    assert texts(suggest.suggest(searcher, "chuanpu"))[0] == ("川普", "pinyin")
    assert texts(suggest.suggest(searcher, "lizaiming"))[0] == ("李在明", "pinyin")
    assert texts(suggest.suggest(searcher, "zhongguo"))[0] == ("中国", "pinyin")
    assert suggest.pinyin_candidates("chuanpu", searcher) == ["川普"]
    # Titles are traditional here: a traditional prefix keeps its characters.
    out = [t for t, kind in texts(suggest.suggest(searcher, "美國")) if kind == "term"]
    assert out and all(t.startswith("美國") for t in out)


@pytest.mark.corpus
def test_real_news_did_you_mean(cna: Engine) -> None:
    searcher = vocab_of(cna)
    assert suggest.did_you_mean("高市早描", searcher, counter(cna)) == "高市早苗"
    assert suggest.did_you_mean("chuanpu", searcher, counter(cna)) == "川普"
    assert suggest.did_you_mean("李在明 企鹅", searcher, counter(cna)) == "李在明"


@pytest.mark.corpus
def test_real_news_suggest_latency(cna: Engine) -> None:
    searcher = vocab_of(cna)
    suggest.suggest(searcher, "川")
    prefixes = ["川", "川普", "美", "美國", "cp", "chuan", "apec", "李", "lzm", "台"] * 5
    times = []
    for prefix in prefixes:
        started = time.perf_counter()
        suggest.suggest(searcher, prefix)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    assert times[len(times) // 2] < 10 and times[int(len(times) * 0.95)] < 50
