"""Faults, as they happen in production: a rebuild and an update while gunicorn serves
queries, ``kill -9`` of the command line midway through a rebuild and an update, damaged
index files, two rebuilds started at once.

Every writer here is a real ``python -m searchapp`` process (the update-crash test hooks
one point of the real CLI through a ``-c`` script, so it is killed at a known moment).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import engine_for

from searchapp import create_app
from searchapp.backends.whoosh import sidecar, store
from searchapp.backends.whoosh import writer as indexer
from searchapp.backends.whoosh.schema import INDEX_NAME
from searchapp.engine.search import Engine

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
#: Articles in the ``corpus`` fixture (tests/fixtures/corpus, the seeds, long.txt).
N_FIXTURES = 15
#: Fixture articles that match these queries (none of the articles added here says 关税).
DEEPSEEK = 5
TARIFF = 2
#: Generated articles: with the fixtures, more than ``indexer.POOL_THRESHOLD`` files, so a
#: rebuild runs worker processes and takes a few seconds (long enough to kill it midway).
N_GENERATED = 450
TRICKY_WARNING = (
    "warning tricky/script.md: thumbnail ignored: 'javascript:alert(1)' is not an http(s) URL"
)
SUMMARY_TAIL = r" documents in the index \(\d+\.\d s\)"


# -- helpers ---------------------------------------------------------------------------


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m searchapp ARGS`` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "searchapp", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


def folders(corpus: Path, index: Path) -> list[str]:
    return ["--corpus", str(corpus), "--index", str(index)]


def build(corpus: Path, index: Path) -> None:
    stats = engine_for(corpus, index).rebuild(corpus, procs=1)
    assert stats.total == N_FIXTURES


def engine(corpus: Path, index: Path) -> Engine:
    return engine_for(corpus, index)


def add_deepseek_article(corpus: Path, name: str) -> None:
    (corpus / name).write_text(f"DeepSeek 新文章 {name}\n\nDeepSeek 又有新消息。\n", "utf-8")


WORDS = (
    "人工智能 开源模型 市场 经济 政策 科技 企业 创新 发展 数据 芯片 能源 交通 教育 医疗 "
    "城市 乡村 农业 制造 出口 消费 投资 银行 研究 团队 产品 用户 平台 服务 安全"
).split()


def generate(corpus: Path, count: int = N_GENERATED) -> None:
    """``count`` articles of about 11 KB under ``generated/``, each with the word genmark."""
    rnd = random.Random(count)
    folder = corpus / "generated"
    folder.mkdir()
    for n in range(count):
        paragraphs = [
            "".join(rnd.choice(WORDS) for _ in range(60)) + f"，第{n}篇。" for _ in range(60)
        ]
        head = f"生成稿件第{n}篇 genmark\n来源:测试社 2024年12月01日 09时00分\n\n"
        (folder / f"a{n:04d}.txt").write_text(head + "\n\n".join(paragraphs) + "\n", "utf-8")


def expected_files(index: Path) -> set[str]:
    """What a clean index folder holds: ``CURRENT`` and the lock, the current generation
    (its TOC, its segments and their sidecars, the metadata, the analysis and synonyms it
    was built with) and at most the one before it; no temporary folders, no files of
    uncommitted segments, no other generation."""
    current = store.generation_folder(index)
    out = {store.CURRENT_FILE, store.LOCK_FILE}
    others = [p for p in index.glob("gen-*") if p != current]
    assert len(others) <= 1, others
    for folder in others:  # the generation before, kept as it was for readers still on it
        out.add(folder.name)
        out.update(f"{folder.name}/{p.name}" for p in folder.iterdir())
    for folder in [current]:
        ix = store.MappedStorage(str(folder)).open_index(INDEX_NAME)
        segments = [segment.segment_id() for segment in ix._segments()]
        names = {p.name for p in folder.iterdir()}
        of_segments = {name for name in names if name.split(".")[0] in segments}
        for segment in segments:  # each one's postings, terms and sidecar
            assert {f"{segment}{ext}" for ext in (".pst", ".trm", sidecar.EXTENSION)} <= of_segments
        out.add(folder.name)
        derived = [name for name in names if name.startswith("derived-vocabulary-")]
        assert len(derived) == 1, derived  # the vocabulary saved for this state, only
        out.update(
            f"{folder.name}/{name}"
            for name in (
                *derived,
                f"_{INDEX_NAME}_{ix.latest_generation()}.toc",
                *of_segments,
                f"{INDEX_NAME}_WRITELOCK",
                store.META_FILE,
                store.ANALYSIS_FILE,
                store.SYNONYMS_FILE,
                store.WORDS_FILE,
            )
        )
    return out


def files_in(index: Path) -> set[str]:
    """The index folder's entries, and those of its generation folders."""
    out = set()
    for top in index.iterdir():
        out.add(top.name)
        if top.is_dir():
            out.update(f"{top.name}/{p.name}" for p in top.iterdir())
    return out


def indexed_ids(index: Path) -> list[str]:
    """The id of every live document, duplicates kept."""
    with store.open_index(index).reader() as reader:
        return [reader.stored_fields(n)["id"] for n in reader.all_doc_ids()]


def corpus_ids(corpus: Path) -> set[str]:
    return {
        p.relative_to(corpus).as_posix()
        for p in corpus.rglob("*")
        if p.suffix in {".md", ".txt"} and p.name not in {"userdict.txt", "synonyms.txt"}
    }


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def children(pid: int) -> list[int]:
    """Live child processes of ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None and st[0] != "Z" and int(st[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    st = _stat(pid)
    return st is not None and st[0] != "Z"


def wait_for(what: str, predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout} s waiting for {what}")
        time.sleep(0.02)


def assert_lock_is_free(index: Path) -> None:
    """The kernel dropped the killed writer's lock: taking it again does not block."""
    with store.write_lock(index):
        pass
    assert (index / store.LOCK_FILE).read_text(encoding="utf-8") == ""


# -- 1. rebuild and update while gunicorn serves -------------------------------------------


@contextlib.contextmanager
def gunicorn(corpus: Path, index: Path, logs: Path) -> Iterator[int]:
    """``gunicorn -w 2 wsgi:app`` on a free port of 127.0.0.1; yields the port."""
    env = {
        **os.environ,
        "SEARCHAPP_CORPUS_DIR": str(corpus),
        "SEARCHAPP_INDEX_DIR": str(index),
    }
    errors, access = logs / "gunicorn.err", logs / "access.log"
    cmd = [str(GUNICORN), "-w", "2", "-b", "127.0.0.1:0", "--access-logfile", str(access)]
    cmd += ["--graceful-timeout", "5", "--no-control-socket", "wsgi:app"]
    with open(errors, "w", encoding="utf-8") as err:
        server = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        port = 0

        def listening() -> bool:
            nonlocal port
            assert server.poll() is None, errors.read_text(encoding="utf-8")
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", errors.read_text("utf-8"))
            port = int(found.group(1)) if found else 0
            return bool(port)

        wait_for("gunicorn to listen", listening, 30)
        wait_for("a worker to answer /healthz", lambda: get(port, "/healthz")[0] == 200, 30)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)


def get(port: int, path: str) -> tuple[int | None, bytes | str]:
    """(status, body), or (None, the error) when the request failed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        return None, repr(exc)
    finally:
        conn.close()


#: What the index holds in each phase of the test: DeepSeek's total in it.
PHASES = ("before", "rebuild", "between", "update", "after")
DEEPSEEK_IN_PHASE = (
    {DEEPSEEK},
    {DEEPSEEK, DEEPSEEK + 1},
    {DEEPSEEK + 1},
    {DEEPSEEK + 1, DEEPSEEK + 2},
    {DEEPSEEK + 2},
)


@dataclass(frozen=True)
class Answer:
    query: str
    started: int  # phase when the request was sent
    finished: int  # phase when its answer came back
    status: int | None
    total: int | None
    error: str = ""


def _client(port: int, phase: list[int], stop: threading.Event, answers: list[Answer]) -> None:
    """Sequential requests, one at a time, about 100 a second at most."""
    while not stop.is_set():
        for query in ("DeepSeek", "关税"):
            started = phase[0]
            status, body = get(port, f"/api/search?q={quote(query)}")
            total, error = None, ""
            if status is None:
                error = str(body)
            else:
                try:
                    total = json.loads(body)["total"]
                except (ValueError, KeyError, TypeError) as exc:
                    error = f"bad JSON ({exc!r}): {body[:400]!r}"
            answers.append(Answer(query, started, phase[0], status, total, error))
            time.sleep(0.01)


def _wrong(answers: list[Answer]) -> list[Answer]:
    """Failed requests and answers the index never held while they ran."""
    bad = []
    for a in answers:
        if a.query == "DeepSeek":
            allowed = set().union(*DEEPSEEK_IN_PHASE[a.started : a.finished + 1])
        else:
            allowed = {TARIFF}
        if a.status != 200 or a.error or a.total not in allowed:
            bad.append(a)
    return bad


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_rebuild_and_update_while_gunicorn_serves(corpus: Path, tmp_path: Path) -> None:
    """Two clients query gunicorn while the CLI rebuilds (in worker processes) and then
    updates the index: no request fails, every total is one the index held meanwhile."""
    index = tmp_path / "ix"
    build(corpus, index)
    phase = [0]
    per_client: list[list[Answer]] = [[], []]
    stop = threading.Event()
    started = time.monotonic()
    with gunicorn(corpus, index, tmp_path) as port:
        # Two clients, so both workers answer while the index changes under them.
        clients = [
            threading.Thread(target=_client, args=(port, phase, stop, mine), daemon=True)
            for mine in per_client
        ]
        for thread in clients:
            thread.start()
        try:
            time.sleep(1.5)
            add_deepseek_article(corpus, "extra-1.txt")
            phase[0] = 1
            rebuild = run_cli("rebuild", "--procs", "2", *folders(corpus, index))
            phase[0] = 2
            time.sleep(1.5)
            add_deepseek_article(corpus, "extra-2.txt")
            phase[0] = 3
            update = run_cli("update", *folders(corpus, index))
            phase[0] = 4
            time.sleep(1.5)
        finally:
            stop.set()
            for thread in clients:
                thread.join(30)
        seconds = time.monotonic() - started
    server_log = (tmp_path / "gunicorn.err").read_text(encoding="utf-8")
    access_log = (tmp_path / "access.log").read_text(encoding="utf-8")

    assert rebuild.returncode == 0, rebuild.stderr
    assert re.fullmatch(rf"rebuild: 16 indexed, 0 skipped; 16{SUMMARY_TAIL}\n", rebuild.stdout)
    assert update.returncode == 0, update.stderr
    assert re.fullmatch(
        rf"update: 1 indexed, 0 deleted, 16 unchanged, 0 skipped; 17{SUMMARY_TAIL}\n",
        update.stdout,
    )

    answers = [a for mine in per_client for a in mine]
    per_phase = [sum(1 for a in answers if a.finished == n) for n in range(len(PHASES))]
    wrong = _wrong(answers)
    figures = (
        f"{len(answers)} requests in {seconds:.1f} s, {len(wrong)} failed or wrong "
        f"(by phase: {', '.join(f'{name} {n}' for name, n in zip(PHASES, per_phase, strict=True))})"
    )
    print(f"\nserving during rebuild and update: {figures}")
    assert wrong == [], f"{figures}; the first: {wrong[:3]}"
    # Every phase was served, the writes included, and the answers settled on the new index.
    assert min(per_phase) >= 5, figures
    last = {a.total for a in answers if a.query == "DeepSeek" and a.started == len(PHASES) - 1}
    assert last == {DEEPSEEK + 2}, figures
    # A client that saw the new index never gets an older one back.
    for mine in per_client:
        totals = [a.total or 0 for a in mine if a.query == "DeepSeek"]
        assert totals == sorted(totals), figures
    # The server answered the same requests, all 200, and logged no error.
    served = len(re.findall(r'"GET /api/search\?q=\S+ HTTP/1\.1" 200 ', access_log))
    assert served == len(answers), figures
    assert "Traceback" not in server_log
    assert " ERROR " not in server_log and "index unavailable" not in server_log


# -- 2. kill -9 of a rebuild -----------------------------------------------------------------


def _query_until(eng: Engine, stop: threading.Event, totals: list[int]) -> None:
    while not stop.is_set():
        totals.append(eng.search("DeepSeek").total)
        time.sleep(0.01)


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_killed_cli_rebuild_leaves_the_old_index_and_no_stuck_lock(
    corpus: Path, tmp_path: Path
) -> None:
    """``kill -9`` of ``python -m searchapp rebuild`` while its two workers write: readers
    keep the old index, the workers die too, and the next rebuild works and cleans up."""
    index = tmp_path / "ix"
    build(corpus, index)
    old_files = files_in(index)
    eng = engine(corpus, index)
    generate(corpus)
    add_deepseek_article(corpus, "extra.txt")
    total = N_FIXTURES + N_GENERATED + 1
    assert total >= indexer.POOL_THRESHOLD

    during: list[int] = []  # what the old index answered while the rebuild ran and died
    stop = threading.Event()
    reader = threading.Thread(target=_query_until, args=(eng, stop, during), daemon=True)
    reader.start()
    with open(tmp_path / "rebuild.out", "w", encoding="utf-8") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "searchapp", "rebuild", "--procs", "2"] + folders(corpus, index),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        # Midway: both workers are writing their segments.
        wait_for(
            "the rebuild's two workers to start writing",
            lambda: child.poll() is not None or len(list(index.glob("gen-*/*.tmp"))) == 3,
            60,
        )
        time.sleep(0.3)
        workers = children(child.pid)
        assert child.poll() is None and len(workers) == 2, workers
        child.send_signal(signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        stop.set()
        reader.join(30)
    wait_for("the workers to die with the rebuild", lambda: not any(map(alive, workers)), 10)
    assert (tmp_path / "rebuild.out").read_text(encoding="utf-8") == ""

    # The old index, whole, answered all along, and still does.
    print(f"\nkilled rebuild: the old index answered {len(during)} searches meanwhile")
    assert during and set(during) == {DEEPSEEK}, during
    assert eng.search("DeepSeek").total == DEEPSEEK
    assert eng.stats()["documents"] == N_FIXTURES
    assert eng.search("genmark").total == 0
    left = files_in(index) - old_files  # the dead rebuild's generation, half written
    temporary = {f"{INDEX_NAME}.tmp"} | {f"{INDEX_NAME}.{pid}.tmp" for pid in workers}
    assert temporary <= {name.split("/")[-1] for name in left}
    assert store.generation_folder(index).name not in {name.split("/")[0] for name in left}
    assert_lock_is_free(index)

    again = run_cli("rebuild", *folders(corpus, index))
    assert again.returncode == 0, again.stderr
    assert re.fullmatch(
        rf"rebuild: {total} indexed, 0 skipped; {total}{SUMMARY_TAIL}\n", again.stdout
    )
    assert again.stderr == TRICKY_WARNING + "\n"
    assert eng.search("DeepSeek").total == DEEPSEEK + 1
    assert eng.search("genmark").total == N_GENERATED
    assert eng.stats()["documents"] == total
    assert files_in(index) == expected_files(index)  # the dead rebuild's leftovers are gone
    assert (index / store.LOCK_FILE).read_text(encoding="utf-8") == ""


# -- 3. kill -9 of an update ---------------------------------------------------------------

#: ``python -m searchapp update ARGS`` that stops for good at one point of the write.
UPDATE_KILL_SCRIPT = """
import sys, time
from pathlib import Path
from whoosh.writing import SegmentWriter
from searchapp.backends.whoosh import store
from searchapp.cli import main
from searchapp.backends.whoosh.writer import _Writer

point, marker = sys.argv[1], Path(sys.argv[2])

def pause():
    marker.write_text(point, encoding="utf-8")
    time.sleep(120)

if point == "adding":  # one changed article is in the writer's pool, nothing on disk yet
    original = _Writer.add_prepared
    def add_prepared(self, prepared):
        original(self, prepared)
        pause()
    _Writer.add_prepared = add_prepared
elif point == "committing":  # the new segment's files are written, the new TOC is not
    def commit_toc(self, segments):
        pause()
    SegmentWriter._commit_toc = commit_toc
else:  # "committed": the new TOC is written, the metadata is not
    def write_meta(index_dir, **values):
        pause()
    store.write_meta = write_meta
sys.argv = ["python -m searchapp", "update", *sys.argv[3:]]
main()
"""

#: query -> (total before the update, total after it)
UPDATE_QUERIES = {"DeepSeek": (5, 6), "关税": (2, 1), "配额": (0, 1), "马克思": (1, 0)}


def _change_corpus(corpus: Path) -> None:
    """One article added, one changed, one deleted: 15 articles before and after."""
    add_deepseek_article(corpus, "extra.txt")
    path = corpus / "econ" / "tariff.md"
    path.write_text(path.read_text(encoding="utf-8").replace("关税", "配额"), encoding="utf-8")
    st = path.stat()
    os.utime(path, (st.st_atime, st.st_mtime + 5))
    (corpus / "politics" / "marx.txt").unlink()


def _totals(eng: Engine) -> dict[str, int]:
    return {query: eng.search(query).total for query in UPDATE_QUERIES}


@pytest.mark.slow
@pytest.mark.timeout(90)
@pytest.mark.parametrize("point", ["adding", "committing", "committed"])
def test_killed_cli_update_leaves_a_whole_index_and_the_next_update_works(
    point: str, corpus: Path, tmp_path: Path
) -> None:
    """``kill -9`` of ``python -m searchapp update`` at three points of its write: readers
    see the whole index before or after it, never a part, and the next update finishes it."""
    index = tmp_path / "ix"
    build(corpus, index)
    before = {query: old for query, (old, _) in UPDATE_QUERIES.items()}
    after = {query: new for query, (_, new) in UPDATE_QUERIES.items()}
    eng = engine(corpus, index)
    assert _totals(eng) == before
    _change_corpus(corpus)

    marker = tmp_path / "marker"
    args = [sys.executable, "-c", UPDATE_KILL_SCRIPT, point, str(marker), *folders(corpus, index)]
    child = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(f"the update to reach {point!r}", lambda: marker.exists(), 60)
        # Paused midway: a reader sees the whole old index, or with the TOC written, the
        # whole new one.
        assert _totals(eng) == (after if point == "committed" else before)
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert (out, err) == (b"", b"")

    assert _totals(eng) == (after if point == "committed" else before)
    assert eng.stats()["documents"] == N_FIXTURES
    assert_lock_is_free(index)

    again = run_cli("update", *folders(corpus, index))
    assert again.returncode == 0, again.stderr
    if point == "committed":
        assert re.fullmatch(
            rf"update: index is up to date \(15 unchanged\), 0 skipped; 15{SUMMARY_TAIL}\n",
            again.stdout,
        )
    else:
        assert re.fullmatch(
            rf"update: 2 indexed, 1 deleted, 13 unchanged, 0 skipped; 15{SUMMARY_TAIL}\n",
            again.stdout,
        )
    assert again.stderr == ""
    assert _totals(eng) == after
    assert sorted(indexed_ids(index)) == sorted(corpus_ids(corpus))
    assert files_in(index) == expected_files(index)  # the dead update's segment is gone
    assert (index / store.LOCK_FILE).read_text(encoding="utf-8") == ""


# -- 4. damaged index files ----------------------------------------------------------------


def _truncate_segment(index: Path) -> str:
    """Half of the postings file: Whoosh would only notice in the middle of a search; the
    sizes the sidecar recorded tell at once."""
    (postings,) = store.generation_folder(index).glob("*.pst")
    size = postings.stat().st_size
    with open(postings, "r+b") as fh:
        fh.truncate(size // 2)
    return f"file {postings.name} has {size // 2} bytes, {size} were written"


def _delete_segment(index: Path) -> str:
    (terms,) = store.generation_folder(index).glob("*.trm")
    terms.unlink()
    return "FileNotFoundError"


def _truncate_toc(index: Path) -> str:
    (toc,) = store.generation_folder(index).glob("*.toc")
    with open(toc, "r+b") as fh:
        fh.truncate(toc.stat().st_size // 2)
    return "UnpicklingError"


DAMAGES = {
    "truncated segment": _truncate_segment,
    "deleted segment": _delete_segment,
    "truncated TOC": _truncate_toc,
}


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_index_is_reported_in_one_line_served_as_503_and_rebuild_repairs(
    damage: str, corpus: Path, tmp_path: Path
) -> None:
    """A damaged index: ``stats`` says so in one line naming the fix, the web answers 503
    with it (never a 500), and ``rebuild`` repairs it for the running app."""
    index = tmp_path / "ix"
    build(corpus, index)
    reason = DAMAGES[damage](index)
    message = f"the index in {index} cannot be read ({reason})"
    hint = "Rebuild it with: python -m searchapp rebuild"

    stats = run_cli("stats", *folders(corpus, index))
    assert (stats.returncode, stats.stdout) == (1, "")
    assert stats.stderr == f"Error: {message}. {hint}\n"

    app = create_app({"TESTING": True, "CORPUS_DIR": str(corpus), "INDEX_DIR": str(index)})
    client = app.test_client()
    for path in ("/", "/?q=DeepSeek"):
        page = client.get(path)
        text = page.get_data(as_text=True)
        assert page.status_code == 503, path
        assert "索引无法读取" in text and message in text and "python -m searchapp rebuild" in text
        assert "Traceback" not in text
    api = client.get("/api/search?q=DeepSeek")
    assert api.status_code == 503
    assert api.get_json() == {"error": "index unavailable", "reason": message, "hint": hint}
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json() == {"status": "unavailable", "reason": message, "hint": hint}

    repair = run_cli("rebuild", *folders(corpus, index))
    assert repair.returncode == 0, repair.stderr
    assert re.fullmatch(rf"rebuild: 15 indexed, 0 skipped; 15{SUMMARY_TAIL}\n", repair.stdout)
    # The same app serves the repaired index without a restart.
    api = client.get("/api/search?q=DeepSeek")
    assert api.status_code == 200 and api.get_json()["total"] == DEEPSEEK
    assert client.get("/?q=DeepSeek").status_code == 200
    assert client.get("/healthz").get_json()["documents"] == N_FIXTURES
    assert files_in(index) == expected_files(index)


# -- 5. two rebuilds at once -----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_two_rebuilds_at_once_one_is_refused_in_one_line_and_no_duplicates(
    corpus: Path, tmp_path: Path
) -> None:
    """Two ``python -m searchapp rebuild`` started together: one builds, the other stops
    at once with one line; the index then holds every article exactly once."""
    index = tmp_path / "ix"
    build(corpus, index)
    generate(corpus)
    total = N_FIXTURES + N_GENERATED
    cmd = [sys.executable, "-m", "searchapp", "rebuild", *folders(corpus, index)]
    both = [
        subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=80) for p in both]
    codes = [p.returncode for p in both]
    assert sorted(codes) == [0, 1], (codes, outputs)
    won = codes.index(0)
    (win_out, win_err), (lose_out, lose_err) = outputs[won], outputs[1 - won]
    assert re.fullmatch(rf"rebuild: {total} indexed, 0 skipped; {total}{SUMMARY_TAIL}\n", win_out)
    assert win_err == TRICKY_WARNING + "\n"
    # The other one is refused at once, in one line naming the process that holds the lock.
    assert lose_out == ""
    assert re.fullmatch(
        rf"Error: the index is being rebuilt or updated by another process \(pid {both[won].pid} "
        r"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\); try again when it has finished\n",
        lose_err,
    ), lose_err

    ids = indexed_ids(index)
    assert len(ids) == len(set(ids)) == total
    assert set(ids) == corpus_ids(corpus)
    assert engine(corpus, index).search("genmark").total == N_GENERATED
    assert files_in(index) == expected_files(index)
    assert (index / store.LOCK_FILE).read_text(encoding="utf-8") == ""
