"""The numpy scorer over the sidecars gives what an independent evaluation gives.

The reference here scores every word with Whoosh's own matchers (its postings keep the
documents and weights of the text fields) and checks phrases on the stored text, segmented
again. Every query shape the engine builds (words in several fields and written forms,
phrases, OR, exclusions, the fallback and the proximity bonus) is compared, on a
one-segment index and on a multi-segment index with deleted documents and merged
segments. A missing or damaged sidecar is a damaged index.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from conftest import engine_for
from whoosh import query as Q

from searchapp.backends.base import Or
from searchapp.backends.whoosh import sidecar, store
from searchapp.engine.search import Engine
from searchapp.text.analysis import Analyzer
from searchapp.text.query import parse

ANALYZER = Analyzer()

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
    "英伟达发布了什么芯片",  # optional words: AndMaybe
    "什么 OR 人工智能 开源 的",
    "的 了",
]


def reference(searcher, q: Q.Query, analyzer: Analyzer = ANALYZER) -> dict[int, float]:
    """docnum -> score: Whoosh scores the terms, phrases are found in the stored text."""
    if q is Q.NullQuery:
        return {}
    if isinstance(q, Q.Term):
        return {hit.docnum: hit.score for hit in searcher.search(q, limit=None)}
    if isinstance(q, Q.Phrase):
        words = list(q.words)
        every = reference(searcher, Q.And([Q.Term(q.fieldname, w) for w in words]), analyzer)
        out = {}
        for docnum, score in every.items():
            text = searcher.stored_fields(docnum).get(q.fieldname, "")
            at = defaultdict(set)
            for term, pos, _, _ in analyzer.tokens(text):  # as it was indexed
                at[term].add(pos)
            if any(all(p + i in at[w] for i, w in enumerate(words)) for p in at[words[0]]):
                out[docnum] = score * q.boost
        return out
    parts = [reference(searcher, child, analyzer) for child in q.subqueries]
    if isinstance(q, Q.AndMaybe):  # the first part's documents, the second adding score
        docs = set(parts[0])
    elif isinstance(q, Q.And):
        docs = set.intersection(*(set(p) for p in parts)) if parts else set()
    else:
        docs = set().union(*parts)
    return {d: sum(p.get(d, 0.0) for p in parts) * q.boost for d in docs}


def fast_scores(view, q: Q.Query) -> dict[int, float]:
    scores, matched = view.scorer.evaluate(q)
    return {int(d): float(scores[d]) for d in np.flatnonzero(matched)}


def queries_for(engine: Engine, text: str) -> list[Q.Query]:
    """The Whoosh queries the engine's trees for ``text`` become: all words, any word,
    the bonuses, the exclusions."""
    view = engine.view()
    parsed = engine._resolve(parse(text, view.analyzer), view)
    out = []
    if parsed.clauses:
        out += [engine._all_node(parsed, view), engine._any_node(parsed, view)]
        out += [*engine._proximity(parsed), *engine._pairs(parsed)]
    if parsed.excluded:
        out.append(Or(tuple(engine._unit_node(u, view) for u in parsed.excluded)))
    return [view._query(node) for node in out]


def assert_same_as_whoosh(engine: Engine) -> int:
    compared = checked = 0
    with engine.pinned():
        view = engine.view()
        searcher = view.searcher
        for text in QUERIES:
            for q in queries_for(engine, text):
                expected = reference(searcher, q, engine.analyzer)
                got = fast_scores(view, q)
                assert got.keys() == expected.keys(), (text, q)
                for docnum, score in expected.items():
                    assert got[docnum] == pytest.approx(score, rel=1e-12, abs=1e-12), (text, q)
                compared += len(expected)
                if isinstance(q, Q.Phrase):
                    # The bonus looks only at the candidates: every other document here.
                    every = np.flatnonzero(view.scorer.live)  # no deleted ones
                    for some in (
                        every,
                        every[::-2].copy(),
                        np.array(sorted(expected)[1:], dtype=np.int64),
                    ):
                        bonus = view.scorer.bonus([q], some)
                        want = [expected.get(int(d), 0.0) for d in some]
                        assert bonus.tolist() == pytest.approx(want, rel=1e-12), (text, q)
                        checked += sum(1 for w in want if w)
    assert checked > 20  # proximity bonuses that were not zero
    return compared


def sidecars(index: Path) -> list[Path]:
    return sorted(store.generation_folder(index).glob(f"*{sidecar.EXTENSION}"))


@pytest.fixture
def index(corpus: Path, tmp_path: Path) -> Path:
    index = tmp_path / "ix"
    engine_for(corpus, index).rebuild(corpus, procs=1)
    return index


def test_every_segment_has_a_sidecar_that_is_used(corpus: Path, index: Path) -> None:
    assert len(sidecars(index)) == 1
    engine = engine_for(corpus, index)
    with engine.pinned():
        scorer = engine.view().scorer
        assert [seg.side is not None for seg in scorer.segments] == [True]
    assert assert_same_as_whoosh(engine) > 100


def test_multi_segment_index_with_deletions_and_a_merge(corpus: Path, index: Path) -> None:
    engine = engine_for(corpus, index)
    (corpus / "tech" / "chips.md").unlink()
    marx = corpus / "politics" / "marx.txt"
    marx.write_text(marx.read_text("utf-8") + "\n马克思主义与人工智能。\n", "utf-8")
    (corpus / "extra.txt").write_text("DeepSeek 开源模型\n\n英伟达芯片与开源模型。\n", "utf-8")
    stats = engine_for(corpus, index).update(corpus)
    assert (stats.indexed, stats.deleted) == (2, 1)
    with engine.pinned():
        scorer = engine.view().scorer
        assert len(scorer.segments) == 2
        assert not scorer.live.all()  # deleted documents are still in the first segment
    assert assert_same_as_whoosh(engine) > 100
    # More small updates: Whoosh merges the small segments, and the merged segment's
    # sidecar is built from theirs (documents renumbered, deleted ones dropped).
    for n in range(6):
        (corpus / f"more{n}.txt").write_text(f"寒潮 第{n}篇\n\n寒潮来袭，DeepSeek。\n", "utf-8")
        if n == 3:
            (corpus / "extra.txt").write_text("DeepSeek 开源模型\n\n英伟达芯片。\n", "utf-8")
        engine_for(corpus, index).update(corpus)
    with engine.pinned():
        scorer = engine.view().scorer
        counts = [seg.count for seg in scorer.segments]
        assert len(counts) < 8  # eight commits: some of their segments were merged
        assert all(seg.side is not None for seg in scorer.segments)
    assert assert_same_as_whoosh(engine) > 100
    page = engine.search("英伟达芯片")
    assert "tech/chips.md" not in [h.id for h in page.hits]
    assert "extra.txt" in [h.id for h in page.hits]


@pytest.mark.parametrize("damage", ["missing", "truncated", "not a sidecar"])
def test_a_missing_or_damaged_sidecar_is_a_damaged_index(
    corpus: Path, index: Path, damage: str
) -> None:
    [path] = sidecars(index)
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        path.write_bytes(b"not a sidecar")
    with pytest.raises(store.IndexCorrupt, match=rf"\(file {path.name} is missing or damaged\)"):
        engine_for(corpus, index).search("DeepSeek")
    engine_for(corpus, index).rebuild(corpus, procs=1)
    assert engine_for(corpus, index).search("DeepSeek").total == 5


def test_highlight_spans_are_where_the_words_are_in_the_stored_text(
    corpus: Path, index: Path
) -> None:
    engine = engine_for(corpus, index)
    words = ("人工智能", "开源", "deepseek", "芯片", "马克思", "马克")
    with engine.pinned():
        view = engine.view()
        docnums = list(view.reader.all_doc_ids())
        fast = view.spans("body", docnums, {w: w for w in words})
        expected: dict[int, dict[tuple[int, int], str]] = {d: {} for d in docnums}
        for docnum in docnums:
            body = view.searcher.stored_fields(docnum).get("body", "")
            for term, _, start, end in engine.analyzer.tokens(body):
                if term in words:
                    expected[docnum][(start, end)] = term
    assert fast == expected
    assert sum(len(v) for v in fast.values()) > 10
