"""Related articles and other sources of the same story (searchapp.engine.related)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Deployed, engine_for, shared_corpus_or_skip

from searchapp.engine import related
from searchapp.engine.search import Engine

SEEDS = {
    "seeds/deepseek-reshapes-global-ai.txt",
    "seeds/deepseek-wins-china-ai-voice.txt",
    "seeds/paris-ai-summit-china-success.txt",
    "seeds/zhao-minghao-beyond-winning-and-losing.txt",
}


@pytest.fixture(scope="module")
def searcher(deployed: Deployed) -> Iterator[Any]:
    eng = deployed.engine()
    yield eng
    eng.close()


def test_the_same_story_from_other_sources_is_grouped_apart(searcher: Any) -> None:
    found = searcher.related("dup/weather-2025-01-05.txt")
    assert found is not None
    # The two other copies, first report first; nothing else shares enough.
    assert [d.id for d in found.duplicates] == [
        "dup/weather-2025-01-06.txt",
        "dup/weather-2025-01-07.txt",
    ]
    assert [d.source for d in found.duplicates] == ["气象台", "气象台"]
    assert all(d.title_similarity == 1.0 and d.body_similarity == 1.0 for d in found.duplicates)
    assert found.related == ()
    assert "寒潮" in found.terms


def test_related_articles_exclude_the_article_itself(searcher: Any) -> None:
    found = searcher.related("tech/open-model.md")
    assert found is not None
    assert {d.id for d in found.related} == SEEDS
    assert found.duplicates == ()
    assert "开源" in found.terms and "deepseek" in found.terms
    scores = [d.score for d in found.related]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    for doc_id in ("tech/chips.md", "seeds/deepseek-wins-china-ai-voice.txt", "long.txt"):
        again = searcher.related(doc_id)
        assert again is not None
        assert doc_id not in {d.id for d in again.related + again.duplicates}


def test_limits(searcher: Any) -> None:
    found = searcher.related("tech/open-model.md", limit=2)
    assert found is not None and len(found.related) == 2
    found = searcher.related("dup/weather-2025-01-05.txt", duplicate_limit=1)
    assert found is not None
    assert [d.id for d in found.duplicates] == ["dup/weather-2025-01-06.txt"]


def test_unknown_article(searcher: Any) -> None:
    assert searcher.related("no/such.md") is None


def test_similarity_measures() -> None:
    assert related.title_similarity("寒潮来袭气温骤降", "寒潮来袭，气温骤降！") == 1.0
    assert related.title_similarity("寒潮來襲氣溫驟降", "寒潮来袭气温骤降") == 1.0  # script folded
    assert related.title_similarity("寒潮来袭", "芯片出口") == 0.0
    assert round(related.title_similarity("ABCD", "ABCE"), 3) == 0.5  # {ab,bc,cd} vs {ab,bc,ce}
    assert related.jaccard(frozenset(), frozenset()) == 0.0
    text = "受寒潮影响，北方地区气温骤降，请注意防寒保暖。"
    assert related.jaccard(related.shingles(text), related.shingles(text + "另据报道")) > 0.7


@pytest.mark.parametrize(
    ("title_sim", "body_sim", "both", "expected"),
    [
        (0.2, 0.9, True, True),  # the same text under another title
        (1.0, 0.3, True, True),  # the same title, a rewritten body
        (1.0, 0.12, True, False),  # a daily report under a fixed title
        (1.0, 0.0, False, True),  # no body to compare: the title decides
        (0.5, 0.5, True, False),
    ],
)
def test_duplicate_rule(title_sim: float, body_sim: float, both: bool, expected: bool) -> None:
    assert related.is_duplicate(title_sim, body_sim, both) is expected


@pytest.fixture(scope="module")
def cna(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, list[str]]]:
    """100 CNA articles in Big5 beside their UTF-8 originals: 100 real duplicate pairs."""
    big5 = shared_corpus_or_skip("encodings", "reencoded", "big5_txt_from_agora_cna")
    originals = shared_corpus_or_skip("news-txt", "cna")
    base = tmp_path_factory.mktemp("cna-related")
    corpus = base / "corpus"
    (corpus / "big5").mkdir(parents=True)
    (corpus / "utf8").mkdir()
    names = sorted(p.name for p in big5.iterdir())
    for name in names:
        shutil.copy(big5 / name, corpus / "big5" / name)
        shutil.copy(originals / name, corpus / "utf8" / name)
    eng = engine_for(corpus, base / "index")
    eng.rebuild(corpus, procs=1)
    yield eng, names
    eng.close()


@pytest.mark.corpus
def test_real_duplicates_are_found(cna: tuple[Engine, list[str]]) -> None:
    eng, names = cna
    searcher = eng
    missed = []
    for name in names:
        found = searcher.related(f"big5/{name}")
        assert found is not None
        ids = {d.id for d in found.duplicates}
        if f"utf8/{name}" not in ids:
            missed.append(name)
        assert f"big5/{name}" not in ids | {d.id for d in found.related}
    assert missed == []


def test_answers_are_remembered_until_the_index_changes(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    engine_for(corpus, index).rebuild(corpus, procs=1)
    eng = engine_for(corpus, index)
    try:
        first = eng.related("dup/weather-2025-01-05.txt")
        assert eng.related("dup/weather-2025-01-05.txt") is first
        copy = (corpus / "dup" / "weather-2025-01-05.txt").read_text(encoding="utf-8")
        (corpus / "dup" / "weather-copy.txt").write_text(copy, encoding="utf-8")
        engine_for(corpus, index).update(corpus)
        again = eng.related("dup/weather-2025-01-05.txt")
        assert again is not first and again is not None
        assert "dup/weather-copy.txt" in {d.id for d in again.duplicates}
    finally:
        eng.close()
