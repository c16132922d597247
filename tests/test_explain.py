"""Why a result ranks where it does (searchapp.engine.explain): the parts add up to the score."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import Deployed

from searchapp.engine import explain
from searchapp.engine.search import Engine


@pytest.fixture(scope="module")
def engine(deployed: Deployed) -> Iterator[Engine]:
    eng = deployed.engine()
    yield eng
    eng.close()


def explained(engine: Engine, text: str, **kwargs: Any) -> list[tuple[Any, explain.Explanation]]:
    page = engine.search(text, **kwargs)
    why = engine.explain(text, page.hits)
    return [(hit, why[hit.id]) for hit in page.hits]


def parts(why: explain.Explanation) -> list[tuple[str, str, float]]:
    return [(p.field, p.term, p.score) for p in why.parts]


@pytest.mark.parametrize(
    "text", ["芯片", "AI", "黃仁勳 OR 马斯克", "models", "title:芯片", '"开源模型"', "DeepSeek"]
)
def test_parts_add_up_to_the_engine_score(engine: Engine, text: str) -> None:
    results = explained(engine, text)
    assert results
    for hit, why in results:
        assert why.total == hit.score
        assert why.bonus == 0.0
        assert sum(p.score for p in why.parts) == pytest.approx(hit.score, abs=1e-3)
        assert all(p.score > 0 for p in why.parts)


def test_one_word_in_three_fields(engine: Engine) -> None:
    hit, why = explained(engine, "芯片")[0]
    assert hit.id == "tech/chips.md"
    assert [(f, t) for f, t, _ in parts(why)] == [
        ("body", "芯片"),
        ("title", "芯片"),
        ("summary", "芯片"),
    ]
    # Only the title field for title:芯片, with the same BM25F score as before.
    _, title_only = explained(engine, "title:芯片")[0]
    assert parts(title_only) == parts(why)[1:2]


def test_synonyms_and_variants_are_the_terms_that_matched(engine: Engine) -> None:
    hit, why = explained(engine, "AI")[0]
    assert hit.id == "tw/ai-software.md"
    assert {t for _, t, _ in parts(why)} == {"人工智慧"}  # 人工智能 written the Taiwan way


def test_a_phrase_is_one_part(engine: Engine) -> None:
    hit, why = explained(engine, '"开源模型"')[0]
    assert hit.id == "tech/open-model.md"
    assert [(f, t) for f, t, _ in parts(why)] == [
        ("body", '"开源模型"'),
        ("title", '"开源模型"'),
        ("summary", '"开源模型"'),
    ]


def test_words_found_together_earn_a_bonus(engine: Engine) -> None:
    hit, why = explained(engine, "人工智能开源")[0]
    assert hit.id == "tech/open-model.md"
    assert why.bonus > 0
    assert why.total == hit.score
    assert sum(p.score for p in why.parts) + why.bonus == pytest.approx(hit.score, abs=1e-3)
    assert {t for _, t, _ in parts(why)} == {"人工智能", "开源"}


def test_sorted_by_date_the_total_is_the_sum(engine: Engine) -> None:
    for hit, why in explained(engine, "寒潮", sort="newest"):
        assert hit.score == 0.0
        assert why.total > 0
        assert why.total == pytest.approx(sum(p.score for p in why.parts), abs=1e-3)


def test_a_document_without_the_words_has_no_parts(engine: Engine) -> None:
    marx = SimpleNamespace(id="politics/marx.txt", score=0.0)
    why = engine.explain("芯片", [marx])["politics/marx.txt"]
    assert why == explain.Explanation(total=0.0, parts=(), bonus=0.0)
    assert why.as_dict() == {"total": 0.0, "parts": [], "bonus": 0.0, "named": 0.0}


def test_the_terms_are_those_of_the_query_the_engine_runs(engine: Engine) -> None:
    assert engine.explain_terms("title:芯片 -英伟达 tag:qq") == [
        ("title", "芯片", 1.5),
        ("title", "晶片", 1.5),
    ]
    assert engine.explain_terms("") == []


def test_leaves_of_a_query_tree() -> None:
    from searchapp.backends.base import And, AndMaybe, Keyword, Or, Phrase, Term

    q = Or(
        (
            Term("title", "a", 2.0),
            AndMaybe(And((Term("body", "b"),)), Phrase("body", ("c", "d"), 0.5)),
            Keyword("tags", "qq"),
            Term("title", "a", 1.0),  # the same leaf again counts once
        )
    )
    assert explain.leaves(q) == [
        ("title", "a", 2.0),
        ("body", "b", 1.0),
        ("body", ("c", "d"), 0.5),
    ]


def test_cli_search_explain(built: tuple[Path, Path]) -> None:
    from click.testing import CliRunner

    from searchapp.cli import cli

    corpus, index = built
    args = ["search", "芯片", "--corpus", str(corpus), "--index", str(index), "--limit", "1"]
    result = CliRunner().invoke(cli, [*args, "--explain"])
    assert result.exit_code == 0, result.output
    assert "score 5.77 = body:芯片 2.41, title:芯片 2.06, summary:芯片 1.30" in result.output
    data = json.loads(CliRunner().invoke(cli, [*args, "--explain", "--json"]).output)
    assert data["hits"][0]["explain"]["total"] == data["hits"][0]["score"]
    assert "score " not in CliRunner().invoke(cli, args).output
