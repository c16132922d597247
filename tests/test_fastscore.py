"""The numpy scorer over the sidecars gives what an independent evaluation gives.

The reference here segments every document's stored text again and computes BM25F from
scratch: term frequencies, document frequencies (deleted documents count until a merge,
as in Whoosh), Whoosh's lossy field lengths, one IDF per term over the whole document,
phrases at consecutive positions. Every query shape the engine builds (words in several
fields and written forms, phrases, OR, exclusions, the fallback and the proximity bonus)
is compared, on a one-segment index and on a multi-segment index with deleted documents
and merged segments. A missing or damaged sidecar is a damaged index.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from conftest import engine_for
from whoosh import query as Q
from whoosh.util.numeric import byte_to_length, length_to_byte

from searchapp.backends.base import Or
from searchapp.backends.whoosh import sidecar, store
from searchapp.engine.search import Engine
from searchapp.fields import TEXT_FIELDS
from searchapp.text import naming
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


class Reference:
    """BM25F of every document, from its stored text segmented again."""

    def __init__(self, view, analyzer: Analyzer) -> None:
        self.view = view
        self.params = view.backend.params
        reader = view.reader
        self.n = reader.doc_count_all()
        self.live = [d for d in range(self.n) if not reader.is_deleted(d)]
        #: (field, docnum) -> term -> positions
        self.at: dict[tuple[str, int], dict[str, list[int]]] = {}
        self.length: dict[tuple[str, int], float] = {}
        self.df: dict[str, Counter[str]] = {f: Counter() for f in TEXT_FIELDS}
        for docnum in range(self.n):  # deleted documents too: they count in df
            for field, text in zip(("title", "summary", "body"), view.texts(docnum), strict=True):
                tokens = analyzer.tokens(text)
                at = defaultdict(list)
                for term, pos, _, _ in tokens:
                    at[term].append(pos)
                self.at[field, docnum] = at
                self.length[field, docnum] = byte_to_length(length_to_byte(len(tokens)))
                self.df[field].update(at.keys())
        self.avgfl = {f: view.searcher.avg_field_length(f) or 1 for f in TEXT_FIELDS}

    def bm25(self, field: str, term: str, docnum: int) -> float:
        tf = len(self.at[field, docnum].get(term, ()))
        if not tf:
            return 0.0
        p = self.params
        b, k1 = p.field_b.get(field, p.default_b), p.k1
        df = max(self.df[f][term] for f in TEXT_FIELDS)
        idf = math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))
        norm = (1 - b) + b * self.length[field, docnum] / self.avgfl[field]
        return idf * ((tf * (k1 + 1)) / (tf + k1 * norm))

    def scores(self, q: Q.Query) -> dict[int, float]:
        """docnum -> score of every live document ``q`` matches."""
        if q is Q.NullQuery:
            return {}
        if isinstance(q, Q.Term):
            return {
                d: self.bm25(q.fieldname, q.text, d) * q.boost
                for d in self.live
                if q.text in self.at[q.fieldname, d]
            }
        if isinstance(q, Q.Phrase):
            words = list(q.words)
            out = {}
            for d in self.live:
                at = self.at[q.fieldname, d]
                if not all(w in at for w in words):
                    continue
                positions = {w: set(at[w]) for w in words}
                if any(
                    all(p + i in positions[w] for i, w in enumerate(words)) for p in at[words[0]]
                ):
                    out[d] = sum(self.bm25(q.fieldname, w, d) for w in words) * q.boost
            return out
        parts = [self.scores(child) for child in q.subqueries]
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


def assert_same_as_reference(engine: Engine) -> int:
    compared = checked = 0
    with engine.pinned():
        view = engine.view()
        ref = Reference(view, engine.analyzer)
        for text in QUERIES:
            for q in queries_for(engine, text):
                expected = ref.scores(q)
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


def assert_filters_and_dates_as_indexed(engine: Engine) -> None:
    """The sidecars' filter postings, dates, titles and title keys' lengths are Whoosh's
    filter postings, the stored dates and the stored titles', document for document
    (after merges and deletions too)."""
    with engine.pinned():
        view = engine.view()
        reader, live = view.reader, view.scorer.live
        for fieldname in ("categories", "tags", "source", "lang", "script"):
            ours = {
                v: sorted(d[live[d]].tolist()) for v, d in view._postings_arrays(fieldname).items()
            }
            whoosh = {
                v: sorted(n for n in reader.postings(fieldname, v).all_ids() if live[n])
                for v in reader.field_terms(fieldname)
            }
            assert {v: d for v, d in ours.items() if d} == {v: d for v, d in whoosh.items() if d}
        titles = [(t.id, t.title, t.date) for t in view.titles()]
        assert titles == [
            (
                reader.stored_fields(n)["id"],
                view.texts(n)[0],
                reader.stored_fields(n).get("date"),
            )
            for n in reader.all_doc_ids()
        ]
        keys = view._title_keys()
        for docnum in reader.all_doc_ids():
            assert keys[docnum] == len(naming.title_key(view.texts(docnum)[0])), docnum
        dates = view._dates()
        for docnum in reader.all_doc_ids():
            when = reader.stored_fields(docnum).get("date")
            want = view.searcher.schema["date"].to_column_value(when) if when else 0
            assert dates[docnum] == want, docnum


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
    assert assert_same_as_reference(engine) > 100
    assert_filters_and_dates_as_indexed(engine)


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
    assert assert_same_as_reference(engine) > 100
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
    assert assert_same_as_reference(engine) > 100
    assert_filters_and_dates_as_indexed(engine)
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
            body = view.texts(docnum)[2]
            for term, _, start, end in engine.analyzer.tokens(body):
                if term in words:
                    expected[docnum][(start, end)] = term
    assert fast == expected
    assert sum(len(v) for v in fast.values()) > 10


def test_stored_text_comes_back_from_the_compressed_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sidecar, "BLOCK_BYTES", 40)  # a block every two or three documents
    texts = [
        ("标题一", "", "正文 DeepSeek 😀 ＡＢＣ"),
        ("", "摘要", ""),
        ("習近平", "summary", "body " * 20),
        ("最后", "", "\u2028行分隔\x00零字节"),
    ]
    rec = sidecar.SidecarRecorder(("title", "summary", "body"))
    for n, three in enumerate(texts):
        rec.add_document(n, f"doc{n}", f"fp{n}", three)
        rec.add_tokens(n, "body", [("正文", 0, 0, 2)] if n == 0 else [])
    for name in ("title", "summary", "body"):
        rec.set_lengths(name, None)
    rec.finish(len(texts))
    path = tmp_path / "seg.sap"
    rec.write(path)
    side = sidecar.Sidecar(path)
    assert len(side._block_first) - 1 >= 2  # several blocks
    assert [side.texts(n) for n in range(len(texts))] == texts
    assert [side.texts(n) for n in reversed(range(len(texts)))] == texts[::-1]  # from the cache
    assert [sidecar.decode_texts(r, 3) for r in side.records()] == texts
    assert side.doc_ids() == ["doc0", "doc1", "doc2", "doc3"]
    with pytest.raises(IndexError):
        side.texts(4)


def test_the_sidecar_takes_the_narrowest_types(index: Path) -> None:
    [path] = sidecars(index)
    side = sidecar.Sidecar(path)
    body = side.fields["body"]
    assert side.doc_count < 256
    assert body.docs.dtype == np.uint8  # document numbers of a small segment
    assert body.span.dtype == np.uint8  # token lengths
    assert body.pos.dtype in (np.uint8, np.uint16)
    assert body.tf.dtype in (np.uint8, np.uint16)
    # An occurrence's place is summed from the term frequencies: every posting's
    # occurrences are where its spans say the word is.
    found = body.find(b"deepseek")
    assert found is not None
    a, b, first = found
    assert first == int(body.term_occ[np.searchsorted(body.term_postings, a)])
    assert sum(len(body.spans(found, i)) for i in range(a, b)) == int(body.tf[a:b].sum())


def test_damaged_stored_text_is_a_damaged_index(corpus: Path, index: Path) -> None:
    [path] = sidecars(index)
    side = sidecar.Sidecar(path)
    data = bytearray(path.read_bytes())
    for offset in side._block_offsets[:-1]:  # inside every compressed block
        at = side._block_data + offset
        data[at + 2 : at + 40] = b"\xff" * 38
    del side
    path.unlink()  # a new file: this process's maps and caches of the old one are not used
    path.write_bytes(bytes(data))
    engine = engine_for(corpus, index)
    with pytest.raises(store.IndexCorrupt, match="stored text"):
        engine.search("DeepSeek OR 芯片 OR 马克思", pagelen=50)
