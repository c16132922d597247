"""Rebuild and update semantics, readers during a rebuild, the writer lock, bad indexes."""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path

import pytest
from conftest import engine_for

from searchapp import indexing
from searchapp.backends.whoosh import store
from searchapp.config import userdict_path
from searchapp.documents import Document
from searchapp.engine.search import Engine

N_FIXTURES = 15


def build(corpus: Path, index: Path, **kw) -> indexing.BuildStats:
    return engine_for(corpus, index).rebuild(corpus, procs=1, **kw)


def update(corpus: Path, index: Path) -> indexing.BuildStats:
    return engine_for(corpus, index).update(corpus)


def engine(corpus: Path, index: Path) -> Engine:
    return engine_for(corpus, index)


def later(path: Path) -> None:
    """Make sure a rewritten file gets a different mtime even on coarse clocks."""
    st = path.stat()
    os.utime(path, (st.st_atime, st.st_mtime + 5))


def test_rebuild_indexes_every_article_and_reports_stats(corpus: Path, tmp_path: Path) -> None:
    stats = build(corpus, tmp_path / "ix")
    assert (stats.indexed, stats.total, stats.skipped) == (N_FIXTURES, N_FIXTURES, [])
    assert (
        "tricky/script.md",
        "thumbnail ignored: 'javascript:alert(1)' is not an http(s) URL",
    ) in (stats.warnings)
    assert stats.summary().startswith(f"rebuild: {N_FIXTURES} indexed, 0 skipped;")
    assert store.read_meta(tmp_path / "ix")["documents"] == N_FIXTURES


def test_rebuild_skips_bad_files_with_reasons(corpus: Path, tmp_path: Path) -> None:
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    stats = build(corpus, tmp_path / "ix")
    assert stats.indexed == N_FIXTURES
    reasons = {s.id: s.reason for s in stats.skipped}
    assert set(reasons) == {"empty.md", "binary.md"}
    assert "empty" in reasons["empty.md"]
    assert "binary" in reasons["binary.md"]


def test_rebuild_in_worker_processes_gives_the_same_index(corpus: Path, tmp_path: Path) -> None:
    one = build(corpus, tmp_path / "one")
    two = engine_for(corpus, tmp_path / "two").rebuild(corpus, procs=2)
    assert one.total == two.total == N_FIXTURES
    a = engine(corpus, tmp_path / "one").search("人工智能开源模型", pagelen=10)
    b = engine(corpus, tmp_path / "two").search("人工智能开源模型", pagelen=10)
    assert [(h.id, h.score, h.snippet_html) for h in a.hits] == [
        (h.id, h.score, h.snippet_html) for h in b.hits
    ]


def test_update_touches_only_what_changed(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build(corpus, index)

    nothing = update(corpus, index)
    assert not nothing.changed
    assert nothing.unchanged == N_FIXTURES
    assert nothing.summary().startswith("update: index is up to date")

    (corpus / "new.txt").write_text(
        "新闻标题量子纠缠\n\n量子纠缠实验取得进展。\n", encoding="utf-8"
    )
    added = update(corpus, index)
    assert (added.indexed, added.deleted, added.total) == (1, 0, N_FIXTURES + 1)
    found = engine(corpus, index).search("量子纠缠")
    assert found.exact == 1 and found.hits[0].id == "new.txt"  # long.txt has only 量子

    path = corpus / "econ" / "tariff.md"
    path.write_text(path.read_text(encoding="utf-8").replace("关税", "配额"), encoding="utf-8")
    later(path)
    changed = update(corpus, index)
    assert (changed.indexed, changed.deleted) == (1, 0)
    eng = engine(corpus, index)
    assert "econ/tariff.md" not in [h.id for h in eng.search("关税", pagelen=20).hits]
    assert [h.id for h in eng.search("配额").hits] == ["econ/tariff.md"]

    (corpus / "politics" / "marx.txt").unlink()
    deleted = update(corpus, index)
    assert (deleted.indexed, deleted.deleted, deleted.total) == (0, 1, N_FIXTURES)
    assert engine(corpus, index).search("马克思").total == 0

    # a touched file with the same content is read but not re-indexed
    later(corpus / "tech" / "chips.md")
    touched = update(corpus, index)
    assert (touched.indexed, touched.deleted, touched.changed) == (0, 0, False)


def test_update_drops_a_file_that_became_unreadable(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build(corpus, index)
    path = corpus / "tech" / "chips.md"
    path.write_bytes(b"")
    later(path)
    stats = update(corpus, index)
    assert stats.deleted == 1 and [s.id for s in stats.skipped] == ["tech/chips.md"]
    assert engine(corpus, index).search("英伟达").total == 2  # only the seeds now


def test_readers_keep_the_old_index_until_the_rebuild_commits(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build(corpus, index)
    eng = engine(corpus, index)
    assert eng.search("DeepSeek").total == 5
    (corpus / "extra.txt").write_text(
        "DeepSeek 新文章\n\nDeepSeek 又有新消息。\n", encoding="utf-8"
    )

    halfway = threading.Event()
    resume = threading.Event()

    def progress(done: int, total: int) -> None:
        if done == total // 2:
            halfway.set()
            resume.wait(10)

    worker = threading.Thread(target=build, args=(corpus, index), kwargs={"progress": progress})
    worker.start()
    try:
        assert halfway.wait(10)
        during = eng.search("DeepSeek", pagelen=10)
        assert during.total == 5  # the old index, complete, not an empty or half one
        assert eng.stats()["documents"] == N_FIXTURES
    finally:
        resume.set()
        worker.join(30)
    after = eng.search("DeepSeek", pagelen=10)
    assert after.total == 6  # the same Engine sees the new commit without a restart
    assert "extra.txt" in [h.id for h in after.hits]


def test_a_commit_during_a_request_does_not_close_the_readers_it_uses(
    corpus: Path, tmp_path: Path
) -> None:
    """A request holds one searcher; a rebuild committed meanwhile (every segment new,
    so Whoosh's refresh closes all the old readers) must not pull it from under it."""
    index = tmp_path / "ix"
    build(corpus, index)
    eng = engine(corpus, index)
    add_extra = corpus / "extra.txt"
    with eng.pinned():
        held = eng.view()
        assert eng.search("DeepSeek").total == 5
        add_extra.write_text("DeepSeek 新文章\n\nDeepSeek 又有新消息。\n", encoding="utf-8")
        build(corpus, index)
        # Still inside the request: the same searcher, still readable, the old answer.
        assert eng.view() is held
        assert eng.search("DeepSeek").total == 5
        assert held.doc_count() == N_FIXTURES
        assert eng.article("extra.txt") is None
    # The next request sees the new commit.
    assert eng.search("DeepSeek").total == 6
    assert eng.view() is not held
    assert eng.article("extra.txt") is not None


def test_second_writer_gets_a_clear_message(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build(corpus, index)
    with store.write_lock(index):
        with pytest.raises(store.IndexBusy, match="being rebuilt or updated by another process"):
            build(corpus, index)
        with pytest.raises(store.IndexBusy):
            update(corpus, index)
    assert update(corpus, index).changed is False  # the lock is released afterwards


def test_missing_stale_and_corrupt_indexes_are_reported_and_rebuild_repairs(
    corpus: Path, tmp_path: Path
) -> None:
    index = tmp_path / "ix"
    with pytest.raises(store.IndexMissing):
        engine(corpus, index).search("DeepSeek")
    with pytest.raises(store.IndexMissing):
        update(corpus, index)

    build(corpus, index)
    store.write_meta(index, version="schema 0 / analyzer 0")
    with pytest.raises(store.IndexStale, match="schema 0"):
        engine(corpus, index).search("DeepSeek")
    assert engine(corpus, index).needs_rebuild()
    build(corpus, index)
    assert engine(corpus, index).search("DeepSeek").total == 5

    for terms in store.generation_folder(index).glob("*.trm"):
        terms.write_bytes(b"garbage")
    with pytest.raises(store.IndexCorrupt):
        engine(corpus, index).search("DeepSeek")
    build(corpus, index)
    assert engine(corpus, index).search("DeepSeek").total == 5


def test_index_documents_from_an_iterable(tmp_path: Path) -> None:
    docs = [
        Document(
            id=f"d{i}",
            title=f"标题{i}",
            body=f"第{i}篇文章谈到光伏产业。",
            date=datetime(2023, 1, i + 1),
        )
        for i in range(5)
    ]
    eng = engine_for(tmp_path, tmp_path / "ix")
    stats = eng.index_documents(docs, procs=1)
    assert stats.total == 5
    page = eng.search("光伏")
    assert page.total == 5 and page.hits[0].id == "d4"  # equal scores: newest first


def test_missing_corpus_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="corpus folder not found"):
        engine_for(tmp_path / "nope", tmp_path / "ix").rebuild(tmp_path / "nope")


def test_update_is_fast_to_notice_nothing_changed(corpus: Path, tmp_path: Path) -> None:
    """Not a timing assertion: checks that unchanged files are not even read."""
    index = tmp_path / "ix"
    build(corpus, index)
    calls = []
    from searchapp import documents

    real = documents.load_document

    def spy(path, *args, **kwargs):
        calls.append(path)
        return real(path, *args, **kwargs)

    documents.load_document = spy
    try:
        update(corpus, index)
        assert calls == []
        (corpus / "extra.txt").write_text("新文章\n\n新消息。\n", encoding="utf-8")
        update(corpus, index)
        assert [Path(p).name for p in calls] == ["extra.txt"]  # the check can fail
    finally:
        documents.load_document = real


# -- the fast segmenter and the parallel writer (issue #6) ---------------------------------

SEGMENTER_SAMPLES = [
    "DeepSeek-R1 与 GPT-o1 models running，3.5% 增长；c_d a.b www.qq.com 2025-02-06",
    "巴拉巴拉巴拉，哈哈哈哈哈。与日俱增,巴拉巴拉巴拉",
    "x\r\ny\r\n\r\n z\t中\u3000文 㐀中 é ² Ｐｙｔｈｏｎ３ 人工智慧 軟體 深度求索大模型",
    "我们中出了一个叛徒，我来到北京清华大学，他来到了网易杭研大厦",
    "",
]


COMPARE_SCRIPT = """
import json, sys
from pathlib import Path
import jieba
from searchapp.text import analysis, scripts
userdict = Path(sys.argv[1]) if sys.argv[1] else None
analyzer = analysis.Analyzer.from_file(userdict)
assert analyzer.fast  # rjieba is a pinned requirement
analysis.ensure_jieba()  # the reference, with the same words added
bad = []
for text in json.loads(Path(sys.argv[2]).read_text(encoding="utf-8")):
    folded = scripts.fold(text)
    if analyzer.segment(folded) != list(jieba.tokenize(folded)):
        bad.append(text[:60])
print(json.dumps(bad, ensure_ascii=False))
"""


def _same_as_jieba(texts: list[str], userdict: Path | None, tmp_path: Path) -> list[str]:
    """The texts rjieba (through our analyzer) cuts differently from jieba, compared in a
    fresh interpreter: jieba is one dictionary per process, and this one has seen others."""
    import json
    import subprocess
    import sys

    listing = tmp_path / "texts.json"
    listing.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", COMPARE_SCRIPT, str(userdict or ""), str(listing)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_fast_segmenter_gives_jiebas_tokens(corpus: Path, tmp_path: Path) -> None:
    from searchapp.documents import Skipped, load_corpus

    texts = list(SEGMENTER_SAMPLES)
    for doc in load_corpus(corpus):
        if not isinstance(doc, Skipped):
            texts += [doc.title, doc.summary, doc.body]
    assert _same_as_jieba(texts, userdict_path(corpus), tmp_path) == []


def test_fast_segmenter_on_the_shared_corpus_sample(tmp_path: Path) -> None:
    """Every 20th article of the real corpus (the whole corpus was checked: 0 differences)."""
    from searchapp.documents import Skipped, iter_corpus_files, load_document

    root = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
    if not (root / "news-txt").is_dir():
        pytest.skip("../shared/corpus is not present")
    texts = []
    for name in ("news-hugo", "news-txt"):
        for n, path in enumerate(iter_corpus_files(root / name)):
            if n % 20:
                continue
            try:
                doc = load_document(path, root / name)
            except Exception:
                continue
            if not isinstance(doc, Skipped):
                texts += [doc.title, doc.summary, doc.body]
    assert len(texts) > 1000
    assert _same_as_jieba(texts, None, tmp_path) == []


def test_dictionary_total_excess_matches_jiebas_dictionary() -> None:
    import jieba

    from searchapp.text import analysis

    last: dict[str, int] = {}
    total = 0
    with jieba.get_dict_file() as fh:
        for line in fh:
            parts = line.decode("utf-8").split()
            if parts:
                last[parts[0]] = int(parts[1])
                total += int(parts[1])
    assert total - sum(last.values()) == analysis.DICT_TOTAL_EXCESS


def test_parallel_rebuild_writes_one_segment_per_worker(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    stats = engine_for(corpus, index).rebuild(corpus, procs=2)
    assert stats.total == N_FIXTURES
    assert store.read_meta(index)["segments"] == 2
    assert not list(index.glob("gen-*/*.tmp"))  # the workers' temporary folders are gone
    one = build(corpus, tmp_path / "one")
    assert one.total == N_FIXTURES
    for query in ("DeepSeek", "人工智能开源模型", "关税", "英伟达"):
        a = engine(corpus, tmp_path / "one").search(query, pagelen=20)
        b = engine(corpus, index).search(query, pagelen=20)
        assert [(h.id, round(h.score, 6)) for h in a.hits] == [
            (h.id, round(h.score, 6)) for h in b.hits
        ]


KILL_SCRIPT = """
import os, sys, time
from pathlib import Path
from searchapp.config import Settings
from searchapp.engine import open_engine
corpus, index = Path(sys.argv[1]), Path(sys.argv[2])
def progress(done, total):
    if done >= 1:
        Path(sys.argv[3]).write_text("halfway", encoding="utf-8")
        time.sleep(60)
open_engine(Settings(corpus, index)).rebuild(corpus, procs=2, progress=progress)
"""


def test_killed_parallel_rebuild_leaves_the_old_index(corpus: Path, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    index = tmp_path / "ix"
    build(corpus, index)
    (corpus / "extra.txt").write_text("DeepSeek 新文章\n\nDeepSeek 又有新消息。\n", "utf-8")
    marker = tmp_path / "marker"
    root = Path(__file__).resolve().parent.parent
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(corpus), str(index), str(marker)], cwd=root
    )
    try:
        deadline = time.time() + 60
        while not marker.exists() and time.time() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert marker.exists()
        workers = [
            p.name for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == child.pid
        ]
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    deadline = time.time() + 10
    while any(_alive(Path("/proc", pid)) for pid in workers):
        assert time.time() < deadline, "worker processes outlived the killed rebuild"
        time.sleep(0.05)
    eng = engine(corpus, index)
    assert eng.search("DeepSeek").total == 5  # the old index, whole
    stats = build(corpus, index)  # the lock died with the process
    assert stats.total == N_FIXTURES + 1
    assert not list(index.glob("gen-*/*.tmp"))
    assert eng.search("DeepSeek").total == 6


def _ppid(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _alive(proc: Path) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        return (proc / "stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def test_a_segment_without_any_dates_sorts_and_ranks(tmp_path: Path) -> None:
    """Two worker segments, the first with no dated article: Whoosh's multi-segment date
    column would skip it and misplace every document (an IndexError on cmrc2018)."""
    undated = [Document(f"u{n}.txt", f"无日期{n}", "共同的词 开源模型。") for n in range(3)]
    dated = [
        Document(f"d{n}.txt", f"有日期{n}", "共同的词 开源模型。", date=datetime(2025, 1, n + 1))
        for n in range(3)
    ]
    index = tmp_path / "ix"
    eng = engine_for(tmp_path, index)
    eng.index_documents(undated + dated, procs=2)
    assert len(store.open_index(index)._segments()) == 2
    newest = eng.search("开源模型", sort="newest", pagelen=10)
    assert [h.id for h in newest.hits] == [
        "d2.txt",
        "d1.txt",
        "d0.txt",
        "u0.txt",
        "u1.txt",
        "u2.txt",
    ]
    # Equal scores: newer first, then the undated ones.
    assert [h.id for h in eng.search("开源模型", pagelen=10).hits][:3] == [
        "d2.txt",
        "d1.txt",
        "d0.txt",
    ]
    assert eng.stats()["last_date"] == datetime(2025, 1, 3)
