"""The numpy scorer over sidecar files gives exactly what Whoosh's own matchers give.

Every query shape the engine builds (words in several fields and written forms, phrases,
OR, exclusions, the fallback and the proximity bonus) is run both ways, on a one-segment
index, on a multi-segment index with deleted documents (an update merged into it), and
with the sidecar files gone or damaged (Whoosh then does the work).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from whoosh import query as Q

from searchapp import indexer, sidecar
from searchapp.config import synonyms_path, userdict_path
from searchapp.query import parse
from searchapp.searcher import Engine
from searchapp.synonyms import load_synonyms

QUERIES = [
    "DeepSeek",
    "人工智能开源模型",
    "芯片 英伟达",
    "黃仁勳 OR 马斯克",
    '"开源模型"',
    '"人工智能"',
    "AI",
    "models",
    "title:芯片",
    "寒潮 气温",
    "关税 -美国",
    "不存在的词语组合 DeepSeek",
    "马克思",
    "R1",
]


def engine_for(corpus: Path, index: Path) -> Engine:
    return Engine(
        index,
        userdict=userdict_path(corpus),
        expand=load_synonyms(synonyms_path(corpus)).expand,
    )


def whoosh_scores(searcher, q: Q.Query) -> dict[int, float]:
    results = searcher.search(q, limit=None)
    return {hit.docnum: hit.score for hit in results}


def fast_scores(engine: Engine, searcher, q: Q.Query) -> dict[int, float]:
    scores, matched = engine._scorer(searcher).evaluate(q)
    return {int(d): float(scores[d]) for d in np.flatnonzero(matched)}


def queries_for(engine: Engine, text: str) -> list[Q.Query]:
    """The queries the engine runs for ``text``: all words, any word, the bonuses."""
    parsed = engine._resolve(parse(text), engine.searcher().reader())
    out = []
    if parsed.clauses:
        out += [engine._all_query(parsed), engine._any_query(parsed)]
        out += engine._proximity(parsed) + engine._pairs(parsed)
    if parsed.excluded:
        out.append(Q.Or([engine._unit_query(u) for u in parsed.excluded]))
    return out


def assert_same_as_whoosh(engine: Engine) -> int:
    compared = 0
    with engine.pinned():
        searcher = engine.searcher()
        for text in QUERIES:
            for q in queries_for(engine, text):
                expected = whoosh_scores(searcher, q)
                got = fast_scores(engine, searcher, q)
                assert got.keys() == expected.keys(), (text, q)
                for docnum, score in expected.items():
                    assert got[docnum] == pytest.approx(score, rel=1e-12, abs=1e-12), (text, q)
                compared += len(expected)
    return compared


def sidecars(index: Path) -> list[Path]:
    return sorted(index.glob(f"*{sidecar.EXTENSION}"))


@pytest.fixture
def index(corpus: Path, tmp_path: Path) -> Path:
    index = tmp_path / "ix"
    indexer.rebuild(corpus, index, userdict=userdict_path(corpus), procs=1)
    return index


def test_every_segment_has_a_sidecar_that_is_used(corpus: Path, index: Path) -> None:
    assert len(sidecars(index)) == 1
    engine = engine_for(corpus, index)
    with engine.pinned():
        scorer = engine._scorer(engine.searcher())
        assert [seg.side is not None for seg in scorer.segments] == [True]
    assert assert_same_as_whoosh(engine) > 100


def test_multi_segment_index_with_deletions_and_a_merge(corpus: Path, index: Path) -> None:
    engine = engine_for(corpus, index)
    (corpus / "tech" / "chips.md").unlink()
    marx = corpus / "politics" / "marx.txt"
    marx.write_text(marx.read_text("utf-8") + "\n马克思主义与人工智能。\n", "utf-8")
    (corpus / "extra.txt").write_text("DeepSeek 开源模型\n\n英伟达芯片与开源模型。\n", "utf-8")
    stats = indexer.update(corpus, index, userdict=userdict_path(corpus))
    assert (stats.indexed, stats.deleted) == (2, 1)
    with engine.pinned():
        scorer = engine._scorer(engine.searcher())
        assert len(scorer.segments) == 2
        assert not scorer.live.all()  # deleted documents are still in the first segment
    assert assert_same_as_whoosh(engine) > 100
    # More small updates: Whoosh merges the small segments, and the merged segment's
    # sidecar is built from theirs (documents renumbered, deleted ones dropped).
    for n in range(6):
        (corpus / f"more{n}.txt").write_text(f"寒潮 第{n}篇\n\n寒潮来袭，DeepSeek。\n", "utf-8")
        if n == 3:
            (corpus / "extra.txt").write_text("DeepSeek 开源模型\n\n英伟达芯片。\n", "utf-8")
        indexer.update(corpus, index, userdict=userdict_path(corpus))
    with engine.pinned():
        scorer = engine._scorer(engine.searcher())
        counts = [seg.count for seg in scorer.segments]
        assert len(counts) < 8  # eight commits: some of their segments were merged
        assert all(seg.side is not None for seg in scorer.segments)
    assert assert_same_as_whoosh(engine) > 100
    page = engine.search("英伟达芯片")
    assert "tech/chips.md" not in [h.id for h in page.hits]
    assert "extra.txt" in [h.id for h in page.hits]


def test_without_sidecars_whoosh_does_the_work(corpus: Path, index: Path, tmp_path: Path) -> None:
    with_side = engine_for(corpus, index).search("人工智能开源模型", pagelen=20)
    bare = tmp_path / "bare"
    shutil.copytree(index, bare)
    for path in sidecars(bare):
        path.unlink()
    engine = engine_for(corpus, bare)
    with engine.pinned():
        assert all(seg.side is None for seg in engine._scorer(engine.searcher()).segments)
    assert assert_same_as_whoosh(engine) > 100
    without = engine.search("人工智能开源模型", pagelen=20)
    assert [(h.id, h.score, h.snippet_html) for h in without.hits] == [
        (h.id, h.score, h.snippet_html) for h in with_side.hits
    ]


def test_a_damaged_sidecar_is_ignored(corpus: Path, index: Path) -> None:
    [path] = sidecars(index)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    engine = engine_for(corpus, index)
    with engine.pinned():
        assert [seg.side for seg in engine._scorer(engine.searcher()).segments] == [None]
    assert engine.search("DeepSeek").total == 5
    path.write_bytes(b"not a sidecar")
    assert sidecar.Sidecar.__name__  # the module stays importable
    with pytest.raises(ValueError):
        sidecar.Sidecar(path)


def test_highlight_spans_match_whooshs_character_offsets(corpus: Path, index: Path) -> None:
    engine = engine_for(corpus, index)
    with engine.pinned():
        searcher = engine.searcher()
        docnums = list(searcher.reader().all_doc_ids())
        words = {w.encode("utf-8"): w for w in ("人工智能", "开源", "deepseek", "芯片", "马克思")}
        fast = engine._scorer(searcher).spans("body", docnums, words)
        assert fast is not None
        reader = searcher.reader()
        expected: dict[int, dict[tuple[int, int], str]] = {d: {} for d in docnums}
        for raw, word in words.items():
            if ("body", raw) not in reader:
                continue
            m = reader.postings("body", raw)
            while m.is_active():
                for _, s, e in m.value_as("characters"):
                    expected[m.id()][(s, e)] = word
                m.next()
        assert fast == expected
        assert sum(len(v) for v in fast.values()) > 10
