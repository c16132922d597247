"""The index is a self-contained artifact: generations, its own dictionary, learned words.

An index folder keeps what it was built with (the user dictionary, the words learned
from the corpus, the synonyms), so it answers the same from any folder and on any
machine; a dictionary change takes effect with a rebuild, which writes a new generation
aside and switches to it atomically, whatever happens to it halfway.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import engine_for

from searchapp.backends.whoosh import store
from searchapp.cli import cli

ROOT = Path(__file__).resolve().parent.parent
NEW_WORD = "蝴蝶鲸鱼"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def folders(corpus: Path, index: Path) -> list[str]:
    return ["--corpus", str(corpus), "--index", str(index)]


def test_a_copied_index_answers_the_same_from_anywhere(corpus: Path, tmp_path: Path) -> None:
    (corpus / "userdict.txt").write_text(f"{NEW_WORD} 1000 n\n", encoding="utf-8")
    (corpus / "whale.txt").write_text(
        f"鲸鱼新闻\n来源:测试社 2025年01月01日 08时00分\n\n研究人员发现了{NEW_WORD}。\n",
        encoding="utf-8",
    )
    index = tmp_path / "index"
    assert run("rebuild", *folders(corpus, index))[0] == 0
    before = engine_for(corpus, index).search(NEW_WORD)
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(index, moved)
    shutil.rmtree(index)
    # Another corpus folder, without that dictionary: the index keeps its own.
    empty = tmp_path / "empty-corpus"
    empty.mkdir()
    after = engine_for(empty, moved).search(NEW_WORD)
    assert after.terms == before.terms == (NEW_WORD,)
    assert [h.id for h in after.hits] == [h.id for h in before.hits] == ["whale.txt"]
    assert "<mark>蝴蝶鲸鱼</mark>" in after.hits[0].snippet_html
    done = subprocess.run(
        [sys.executable, "-m", "searchapp", "search", "--index", str(moved), NEW_WORD],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the project: the index is all it needs
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 results")


def test_a_dictionary_change_is_named_and_waits_for_a_rebuild(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert run("rebuild", *folders(corpus, index))[0] == 0
    eng = engine_for(corpus, index)
    assert eng.search(NEW_WORD).terms != (NEW_WORD,)
    (corpus / "userdict.txt").write_text(f"{NEW_WORD} 1000 n\n", encoding="utf-8")
    code, out = run("update", *folders(corpus, index))
    assert code == 1
    assert "user dictionary (userdict.txt) changed" in out and "rebuild" in out
    code, out = run("stats", *folders(corpus, index))
    assert code == 0
    assert "changed in the corpus since this build: run rebuild to use it" in out
    # The index keeps answering with the dictionary it was built with.
    assert engine_for(corpus, index).search(NEW_WORD).terms != (NEW_WORD,)
    assert run("rebuild", *folders(corpus, index))[0] == 0
    assert eng.search(NEW_WORD).terms == (NEW_WORD,)  # the running engine follows
    assert "the corpus's userdict.txt" in run("stats", *folders(corpus, index))[1]


KILL_SCRIPT = """
import os, sys, time
from pathlib import Path
from searchapp.backends.whoosh import store
from searchapp.config import Settings
from searchapp.engine import open_engine
corpus, index, marker, point = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]

def stop_here(*args, **kwargs):
    marker.write_text(f"{point} {os.getpid()}", encoding="utf-8")
    time.sleep(120)

if point == "learning":  # in the child process that learns the new words
    from searchapp import indexing
    indexing.learn_words = stop_here
if point == "switch":
    store.switch_generation = stop_here
elif point == "analysis":
    store.write_analysis = stop_here
def progress(done, total):
    if point == "writing" and done >= 1:
        stop_here()
open_engine(Settings(corpus, index)).rebuild(corpus, procs=1, progress=progress)
"""


@pytest.mark.slow
@pytest.mark.parametrize("point", ["learning", "writing", "analysis", "switch"])
def test_a_killed_rebuild_with_a_new_dictionary_leaves_the_old_one_serving(
    corpus: Path, tmp_path: Path, point: str
) -> None:
    index = tmp_path / "index"
    assert run("rebuild", *folders(corpus, index))[0] == 0
    eng = engine_for(corpus, index)
    old = eng.stats()
    (corpus / "userdict.txt").write_text(f"{NEW_WORD} 1000 n\n", encoding="utf-8")
    marker = tmp_path / "marker"
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(corpus), str(index), str(marker), point],
        cwd=ROOT,
    )
    try:
        deadline = time.time() + 90
        while not marker.exists() and time.time() < deadline and child.poll() is None:
            time.sleep(0.05)
        stopped, pid = marker.read_text(encoding="utf-8").split()
        assert stopped == point
        assert (int(pid) == child.pid) == (point != "learning")
        # Meanwhile, and after the kill, the old generation answers with its dictionary.
        assert eng.search(NEW_WORD).terms != (NEW_WORD,)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    if point == "learning":  # the learning process died with the rebuild
        deadline = time.time() + 10
        while Path(f"/proc/{pid}").exists() and time.time() < deadline:
            time.sleep(0.05)
        assert not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(
            f"/proc/{pid}/status"
        ).read_text(encoding="ascii")
    again = engine_for(corpus, index)
    assert again.stats()["generation"] == old["generation"]
    assert again.stats()["analyzer"] == old["analyzer"]
    assert again.search("DeepSeek").total == 5
    assert again.search(NEW_WORD).terms != (NEW_WORD,)
    # The dead rebuild's half generation (none yet while it was learning).
    assert len(list(index.glob("gen-*"))) == (1 if point == "learning" else 2)
    assert run("rebuild", *folders(corpus, index))[0] == 0  # the lock died with it
    assert eng.search(NEW_WORD).terms == (NEW_WORD,)
    current = store.generation_folder(index)
    assert sorted(p.name for p in index.glob("gen-*")) == sorted(
        [old["generation"], current.name]
    )  # the half one is gone, the one before stays for readers still on it


def test_update_picks_up_an_edited_synonyms_file(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    eng = engine_for(corpus, index)
    eng.rebuild(corpus, procs=1)
    assert eng.search("寒流").total == 0
    (corpus / "synonyms.txt").write_text("寒流, 寒潮\n", encoding="utf-8")
    stats = eng.update(corpus)
    assert not stats.changed  # no article changed, the synonyms did
    assert eng.search("寒流").total == eng.search("寒潮").total > 0  # no restart


def _name_corpus(folder: Path, name: str, docs: int = 40) -> None:
    """Articles where ``name`` (a made-up word jieba cuts) appears in varied contexts."""
    rng = random.Random(5)
    subjects = ["中国", "美国", "公司", "政府", "银行", "企业", "市场", "学校"]
    verbs = ["认为", "发布", "计划", "报道", "投资", "合作", "关注", "支持"]
    objects = ["经济", "增长", "产品", "科技", "数据", "项目", "技术", "服务"]
    before = ["据", "与", "和", "由", "，", "“", "（", *subjects]
    after = ["。", "，", "的", "”", "）", "表示", *verbs]
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(docs):
        parts = [
            f"{rng.choice(subjects)}{rng.choice(verbs)}{rng.choice(objects)}。"
            for _ in range(rng.randint(6, 10))
        ]
        for _ in range(rng.randint(1, 3)):
            sentence = f"{rng.choice(before)}{name}{rng.choice(after)}{rng.choice(objects)}。"
            parts.insert(rng.randrange(len(parts) + 1), sentence)
        title = f"第{n}篇报道"
        body = "".join(parts)
        head = f"{title}\n来源:测试社 2025年01月{n % 28 + 1:02d}日 08时00分\n\n"
        (folder / f"n{n:03d}.txt").write_text(head + body + "\n", encoding="utf-8")


def test_a_rebuild_learns_the_words_the_dictionary_splits(tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    _name_corpus(corpus, "魁斯拉德")
    eng = engine_for(corpus, index)
    assert eng.analyzer.query_terms("魁斯拉德") != ["魁斯拉德"]  # jieba alone cuts it
    stats = eng.rebuild(corpus, procs=1)
    assert stats.learned >= 1
    learned = {w["word"]: w for w in eng.learned_words()}
    assert "魁斯拉德" in learned and learned["魁斯拉德"]["docs"] >= 3
    page = eng.search("魁斯拉德")
    assert page.terms == ("魁斯拉德",)  # one query term, not fragments
    assert page.total == 40
    assert all("<mark>魁斯拉德</mark>" in h.snippet_html for h in page.hits)
    code, out = run("words", "--json", *folders(corpus, index))
    assert code == 0
    words = json.loads(out)
    assert words[0].keys() >= {"word", "count", "docs", "score", "cohesion", "frequency"}
    assert "魁斯拉德" in [w["word"] for w in words]
    code, out = run("stats", *folders(corpus, index))
    assert f"learned      {len(learned)}" in out
    # A user dictionary line bans a learned word: listed no more, gone at the rebuild.
    (corpus / "userdict.txt").write_text("-魁斯拉德\n", encoding="utf-8")
    again = engine_for(corpus, index)
    assert "魁斯拉德" not in [w["word"] for w in again.learned_words()]
    again.rebuild(corpus, procs=1)
    assert again.search("魁斯拉德").terms != ("魁斯拉德",)


def test_suggestions_pinyin_and_did_you_mean_answer_from_the_first_request(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The vocabulary is saved with the index by the CLI: a new server loads it, never
    builds it, and follows what ``update`` adds and deletes."""
    from searchapp import create_app
    from searchapp.engine import suggest

    index = tmp_path / "index"
    assert run("rebuild", *folders(corpus, index))[0] == 0

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a reader built the vocabulary")

    monkeypatch.setattr(suggest, "build_vocabulary", never)
    app = create_app({"CORPUS_DIR": str(corpus), "INDEX_DIR": str(index)})  # not TESTING
    client = app.test_client()
    first = client.get("/api/suggest?q=rgzn").get_json()
    assert first["suggestions"][0]["text"] == "人工智能"
    assert client.get("/api/search?q=hanchao").get_json()["total"] > 0
    found = client.get("/api/search?q=开源模形").get_json()
    assert found["suggestion"]["q"] == "开源模型"

    app.extensions["searchapp"].vocabulary.REFRESH_INTERVAL = 0  # look again at once
    (corpus / "quantum.txt").write_text(
        "量子霸权新进展\n来源:测试社 2025年03月02日 08时00分\n\n霍格沃茨宣布量子霸权。\n",
        encoding="utf-8",
    )
    (corpus / "tech" / "chips.md").unlink()
    done = subprocess.run(  # the writer is another process, as in production
        [sys.executable, "-m", "searchapp", "update", *folders(corpus, index)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 indexed, 1 deleted" in done.stdout
    titles = [s["text"] for s in client.get("/api/suggest?q=量子").get_json()["suggestions"]]
    assert "量子霸权新进展" in titles  # a title only the added article has
    gone = client.get("/api/suggest?q=芯片").get_json()["suggestions"]
    assert all(s.get("url") != "/doc/tech/chips.md" for s in gone)  # the deleted one's


def test_a_rebuild_reads_each_article_once_and_leaves_no_spool(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from searchapp import documents
    from searchapp.backends.whoosh import writer

    index = tmp_path / "index"
    index.mkdir()
    stale = index / f"{writer.SPOOL_PREFIX}999999"  # left by a rebuild killed while learning
    stale.write_bytes(b"old")
    reads = tmp_path / "reads"
    real = documents.load_document

    def counting(path: Path, *args: object, **kwargs: object) -> documents.Document:
        with open(reads, "a", encoding="utf-8") as fh:  # also from the forked processes
            fh.write(f"{path}\n")
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(documents, "load_document", counting)
    stats = engine_for(corpus, index).rebuild(corpus)
    read = reads.read_text(encoding="utf-8").splitlines()
    assert len(read) == len(set(read)) == stats.indexed + len(stats.skipped)
    assert not list(index.glob(f"{writer.SPOOL_PREFIX}*"))
    assert engine_for(corpus, index).search("DeepSeek").total == 5
    reads.unlink()
    engine_for(corpus, index).rebuild(corpus, learn=False)  # without learning: read once too
    assert len(reads.read_text(encoding="utf-8").splitlines()) == len(read)
