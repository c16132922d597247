"""The OpenSearch backend on a real cluster: what Whoosh has no equivalent of.

Safe rebuilds (the alias moves at once; a ``kill -9`` at any point leaves it on the old
index and the next rebuild cleans up), updates that send only what changed, the writer
lock, the index format, and the failures a cluster adds: unreachable, no alias, an alias
name taken by a plain index. The contract suite (test_search, test_web, ...) runs on this
backend too, through ``conftest.deployed``; a node killed under load is in
``test_zz_opensearch_faults.py`` (last: the node is restarted afterwards).

``scripts/test.sh`` starts a two-node cluster and sets ``SEARCHAPP_TEST_OPENSEARCH_URL``;
without it these tests fail and say so (they are never skipped).
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import OPENSEARCH_URL, Deployed, deploy, make_corpus
from opensearchpy import OpenSearch

from searchapp import create_app
from searchapp.backends.base import (
    Every,
    IndexBusy,
    IndexMissing,
    IndexUnavailable,
    MatchRequest,
    ServiceUnavailable,
)
from searchapp.backends.opensearch import mapping
from searchapp.backends.opensearch.backend import OpenSearchBackend, state_index
from searchapp.backends.opensearch.writer import WriterLock, is_concrete_of
from searchapp.cli import cli
from searchapp.config import Settings
from searchapp.engine import Engine
from searchapp.text.analysis import Analyzer

ROOT = Path(__file__).resolve().parent.parent
#: A port nothing listens on (the cluster is "unreachable").
CLOSED_URL = "http://127.0.0.1:9"


@pytest.fixture(scope="session")
def cluster() -> OpenSearch:
    """A client of the test cluster; these tests fail (never skip) without one."""
    if not OPENSEARCH_URL:
        pytest.fail(
            "no OpenSearch cluster: run scripts/test.sh, which starts one, or start one "
            "(bash scripts/opensearch.sh start 2) and set SEARCHAPP_TEST_OPENSEARCH_URL"
        )
    return OpenSearch(hosts=OPENSEARCH_URL.split(","), timeout=60)


def drop(client: OpenSearch, alias: str) -> None:
    """Delete an alias's concrete indexes and its state index."""
    for name in client.indices.get(index=f"{alias}-*", params={"expand_wildcards": "all"}):
        if is_concrete_of(alias, name) or name == state_index(alias):
            client.indices.delete(index=name)


@pytest.fixture
def site(cluster: OpenSearch, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Deployed]:
    """The fixture corpus (not yet indexed) on its own alias, removed afterwards."""
    corpus = make_corpus(tmp_path / "corpus")
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40]
    found = deploy("opensearch", corpus, tmp_path / "index", f"os-{name}")
    drop(cluster, found.config["OPENSEARCH_INDEX"])
    yield found
    drop(cluster, found.config["OPENSEARCH_INDEX"])


def alias_of(site: Deployed) -> str:
    return str(site.config["OPENSEARCH_INDEX"])


def concretes(client: OpenSearch, alias: str) -> list[str]:
    found = client.indices.get(index=f"{alias}-*", params={"expand_wildcards": "all"})
    return sorted(n for n in found if is_concrete_of(alias, n))


def behind(client: OpenSearch, alias: str) -> list[str]:
    if not client.indices.exists_alias(name=alias):
        return []
    return sorted(client.indices.get_alias(name=alias))


def live_count(engine: Engine) -> int:
    """How many articles a fresh request sees (the alias is resolved again)."""
    with engine.pinned():
        return engine.view().match(MatchRequest(query=Every(), limit=0)).total


def write_article(corpus: Path, rel: str, title: str, body: str, day: int = 1) -> None:
    path = corpus / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"{title}\n来源:测试社 2025年03月{day:02d}日 09时00分\n\n{body}\n", encoding="utf-8"
    )


# -- the index format ------------------------------------------------------------------------


def test_tokens_round_trip_with_their_positions_and_spans() -> None:
    analyzer = Analyzer()
    text = "人工智能推动models发展，人工智能"
    tokens = analyzer.tokens(text)
    encoded, starts, odd, distinct = mapping.encode_tokens(tokens)
    # one group per position; a word's sub-words share its position
    assert encoded.split(" ")[0] == "人工|智能|人工智能"
    assert len(encoded.split(" ")) == len({t[1] for t in tokens})
    assert mapping.decode_tokens(encoded, starts, odd) == [(t, s, e) for t, _, s, e in tokens]
    assert [t for t, *_ in tokens if t == "model"] and odd  # stemmed: span longer than term
    assert set(distinct) == {t for t, *_ in tokens}


def test_whoosh_lengths_and_dates() -> None:
    assert [mapping.whoosh_length(n) for n in (0, 1, 10, 11, 12, 500, 10**6)] == [
        0,
        1,
        10,
        12,
        12,
        508,
        106374,
    ]
    from datetime import datetime

    when = datetime(2025, 2, 20, 8, 0, 0, 123456)
    assert mapping.us_to_date(mapping.date_to_us(when)) == when
    assert mapping.doc_key("a/b.md") == "a/b.md"
    assert mapping.doc_key("x" * 600).startswith("sha1:")


def test_the_analyzer_turns_stacked_tokens_into_one_position(cluster: OpenSearch, site) -> None:
    engine = site.engine()
    engine.rebuild(site.corpus, procs=1)
    concrete = behind(cluster, alias_of(site))[0]
    found = cluster.indices.analyze(
        index=concrete,
        body={"analyzer": mapping.TOKENS_ANALYZER, "text": "人工|智能|人工智能 发展"},
    )
    assert [(t["token"], t["position"]) for t in found["tokens"]] == [
        ("人工", 0),
        ("智能", 0),
        ("人工智能", 0),
        ("发展", 1),
    ]
    # a phrase across a sub-word: 智能 (inside 人工智能) then the next word
    assert engine.search('"开源模型"').total >= 1


# -- rebuilds ----------------------------------------------------------------------------------


def test_rebuild_loads_a_new_index_and_moves_the_alias(cluster: OpenSearch, site) -> None:
    engine = site.engine()
    alias = alias_of(site)
    assert engine.needs_rebuild() and not engine.backend.exists()
    stats = engine.rebuild(site.corpus, procs=1)
    assert (stats.indexed, stats.total, stats.skipped) == (15, 15, [])
    first = behind(cluster, alias)
    assert len(first) == 1 and concretes(cluster, alias) == first
    settings = cluster.indices.get_settings(index=first[0])[first[0]]["settings"]["index"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == ("2", "1")
    assert not engine.needs_rebuild() and engine.backend.exists()
    info = engine.stats()
    assert info["backend"] == "opensearch" and info["index"] == alias
    assert info["concrete_index"] == first[0] and info["documents"] == 15
    assert info["index_bytes"] >= info["primary_bytes"] > 0
    assert engine.health().ok and engine.health().documents == 15

    write_article(site.corpus, "new/one.txt", "新增文章", "量子纠缠实验取得突破。")
    engine.rebuild(site.corpus, procs=1)
    second = behind(cluster, alias)
    assert second != first and concretes(cluster, alias) == second  # the old one is gone
    assert live_count(engine) == 16
    assert engine.count("量子纠缠") == 1 and engine.search("量子纠缠").hits[0].id == "new/one.txt"


def test_readers_see_the_old_or_the_new_index_never_a_half_one(cluster: OpenSearch, site) -> None:
    engine = site.engine()
    engine.rebuild(site.corpus, procs=1)
    for i in range(40):
        write_article(site.corpus, f"more/{i:03d}.txt", f"补充报道{i}", f"第{i}篇补充报道的正文。")
    seen: list[int] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        reader = site.engine()
        while not stop.is_set():
            try:
                seen.append(live_count(reader))
            except BaseException as exc:  # noqa: BLE001 - counted, then reported
                failures.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        time.sleep(0.5)
        engine.rebuild(site.corpus, procs=1)
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join()
    assert failures == []
    assert set(seen) == {15, 55}
    assert seen.index(55) > 0 and 15 not in seen[seen.index(55) :]  # once moved, it stays


def _big_corpus(corpus: Path, n: int) -> None:
    """``n`` more articles (several bulk requests' worth)."""
    bodies = [p.read_text(encoding="utf-8") for p in sorted(corpus.rglob("*.md"))]
    for i in range(n):
        body = bodies[i % len(bodies)].split("---")[-1].strip()
        write_article(
            corpus, f"bulk/{i // 500:02d}/{i:05d}.txt", f"批量文章{i}", f"{body}\n编号{i}。"
        )


def _rebuild_process(site: Deployed, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    settings = json.dumps(site.app_config())
    code = (
        "import json, sys; from pathlib import Path\n"
        "from searchapp.config import Settings\n"
        "from searchapp.engine import open_engine\n"
        "cfg = json.loads(sys.argv[1])\n"
        "open_engine(Settings.from_mapping(cfg)).rebuild(Path(cfg['CORPUS_DIR']), procs=2)\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, settings],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stderr=subprocess.PIPE,
        text=True,
    )


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _gone(pids: list[int], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not [p for p in pids if Path(f"/proc/{p}").exists() and _running(p)]:
            return True
        time.sleep(0.1)
    return False


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _indexed_into(client: OpenSearch, index: str) -> int:
    stats = client.indices.stats(index=index, metric="indexing")
    return int(stats["_all"]["primaries"]["indexing"]["index_total"])


@pytest.mark.slow
@pytest.mark.parametrize("point", ["after-bulk-requests", "before-alias"])
def test_a_killed_rebuild_leaves_the_alias_and_the_next_one_cleans_up(
    cluster: OpenSearch, site: Deployed, point: str
) -> None:
    alias = alias_of(site)
    engine = site.engine()
    engine.rebuild(site.corpus, procs=1)
    (old,) = behind(cluster, alias)
    _big_corpus(site.corpus, 2500)
    env = {"SEARCHAPP_OPENSEARCH_TEST_PAUSE": "before-alias"} if point == "before-alias" else {}
    proc = _rebuild_process(site, env)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            workers = sorted(set(workers) | set(_children(proc.pid)))
            if point == "before-alias":
                ready, _, _ = select.select([proc.stderr], [], [], 0.2)
                if ready and "paused before-alias" in proc.stderr.readline():  # type: ignore[union-attr]
                    break
            else:
                new = [n for n in concretes(cluster, alias) if n != old]
                if new and _indexed_into(cluster, new[0]) >= 1000:  # a bulk request or more
                    break
                time.sleep(0.1)
        else:
            pytest.fail(f"the rebuild never reached {point}")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        if proc.stderr:
            proc.stderr.close()
    assert workers and _gone(workers), "the worker processes outlived the killed rebuild"
    # The alias did not move: readers still get the old, complete index.
    assert behind(cluster, alias) == [old]
    assert live_count(site.engine()) == 15
    assert len(concretes(cluster, alias)) == 2  # the half-built one is left behind
    held = cluster.get(index=state_index(alias), id="lock")["_source"]
    assert held["pid"] == proc.pid  # and the dead writer's lock
    # The next rebuild takes the dead writer's lock, builds, and removes the leftover.
    stats = site.engine().rebuild(site.corpus, procs=2)
    assert stats.total == 2515 and not stats.skipped
    (new,) = behind(cluster, alias)
    assert new != old and concretes(cluster, alias) == [new]
    assert live_count(site.engine()) == 2515
    assert not cluster.exists(index=state_index(alias), id="lock")


def test_one_writer_at_a_time(cluster: OpenSearch, site: Deployed) -> None:
    engine = site.engine()
    engine.rebuild(site.corpus, procs=1)
    backend = engine.backend
    assert isinstance(backend, OpenSearchBackend)
    with WriterLock(backend, "rebuild"):
        with pytest.raises(IndexBusy, match="being rebuilt or updated by another process"):
            site.engine().rebuild(site.corpus, procs=1)
        with pytest.raises(IndexBusy):
            site.engine().update(site.corpus)
    assert site.engine().update(site.corpus).unchanged == 15  # released


# -- updates ------------------------------------------------------------------------------------


def test_update_sends_only_what_changed(cluster: OpenSearch, site: Deployed) -> None:
    engine = site.engine()
    engine.rebuild(site.corpus, procs=1)
    alias = alias_of(site)
    (concrete,) = behind(cluster, alias)

    def sent() -> tuple[int, int]:
        stats = cluster.indices.stats(index=concrete, metric="indexing")["_all"]["primaries"]
        return int(stats["indexing"]["index_total"]), int(stats["indexing"]["delete_total"])

    before = sent()
    with engine.pinned():
        generation = engine.view().generation

    (site.corpus / "politics" / "marx.txt").unlink()
    chips = site.corpus / "tech" / "chips.md"
    chips.write_text(chips.read_text(encoding="utf-8") + "\n新增一句：光刻机。\n", encoding="utf-8")
    write_article(site.corpus, "new/fresh.txt", "全新报道", "超导材料研究进展。")
    stats = engine.update(site.corpus)
    assert (stats.indexed, stats.deleted, stats.unchanged, stats.total) == (2, 1, 13, 15)
    after = sent()
    assert (after[0] - before[0], after[1] - before[1]) == (2, 1)  # nothing else was sent
    assert behind(cluster, alias) == [concrete]  # in place, no new index

    with engine.pinned():
        assert engine.view().generation != generation  # readers see a new generation
        assert engine.view().lookup("politics/marx.txt") is None
    assert engine.search("马克思").total == 0
    assert [h.id for h in engine.search("光刻机").hits] == ["tech/chips.md"]
    assert [h.id for h in engine.search("超导材料").hits] == ["new/fresh.txt"]
    assert engine.update(site.corpus).summary().startswith("update: index is up to date")
    assert sent() == after


def test_update_follows_an_edited_synonyms_file(site: Deployed) -> None:
    engine = site.engine()
    engine.rebuild(site.corpus, procs=1)
    assert engine.search("超导").total == 0
    write_article(site.corpus, "new/x.txt", "低温物理", "低温物理实验室的新设备。")
    with (site.corpus / "synonyms.txt").open("a", encoding="utf-8") as fh:
        fh.write("\n超导, 低温物理\n")
    engine.update(site.corpus)
    assert [h.id for h in engine.search("超导").hits] == ["new/x.txt"]


def test_the_index_answers_with_the_dictionary_it_was_built_with(site: Deployed) -> None:
    engine = site.engine()
    engine.rebuild(site.corpus, procs=1)
    with engine.pinned():
        built = engine.view().analyzer.fingerprint
    (site.corpus / "userdict.txt").write_text("量子纠缠态 100 n\n", encoding="utf-8")
    other = site.engine()
    assert other.analyzer.fingerprint != built
    with other.pinned():
        assert other.view().analyzer.fingerprint == built
    assert other.search("DeepSeek").total == 5
    with pytest.raises(IndexUnavailable, match="user dictionary"):
        other.update(site.corpus)
    other.rebuild(site.corpus, procs=1)
    with other.pinned():
        assert other.view().analyzer.fingerprint == other.analyzer.fingerprint


def test_learned_words_and_the_saved_vocabulary(
    cluster: OpenSearch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_generations import _name_corpus

    from searchapp.engine import suggest

    corpus = tmp_path / "corpus"
    _name_corpus(corpus, "魁斯拉德")
    site = deploy("opensearch", corpus, tmp_path / "ix", "os-learned")
    alias = alias_of(site)
    drop(cluster, alias)
    try:
        engine = site.engine()
        stats = engine.rebuild(corpus, procs=1)
        assert stats.learned >= 1
        learned = {w["word"]: w for w in engine.learned_words()}
        assert "魁斯拉德" in learned and learned["魁斯拉德"]["docs"] >= 3
        page = engine.search("魁斯拉德")
        assert page.terms == ("魁斯拉德",) and page.total == 40
        assert all("<mark>魁斯拉德</mark>" in h.snippet_html for h in page.hits)
        with engine.pinned():
            saved = engine.view().load_derived("vocabulary")
        assert saved is not None and saved[1] is True  # saved by the rebuild

        def never(*args: object, **kwargs: object) -> None:
            raise AssertionError("a reader built the vocabulary")

        monkeypatch.setattr(suggest, "build_vocabulary", never)
        reader = site.engine()  # a new server: loads the saved vocabulary
        assert reader.suggest("魁斯") and reader.suggest("魁斯")[0].text == "魁斯拉德"

        (corpus / "n000.txt").unlink()
        engine.update(corpus)
        with engine.pinned():
            saved = engine.view().load_derived("vocabulary")
        assert saved is not None and saved[1] is False  # of the state before the update
        monkeypatch.undo()
        engine.save_derived()
        with engine.pinned():
            saved = engine.view().load_derived("vocabulary")
        assert saved is not None and saved[1] is True
        parts = cluster.search(
            index=state_index(alias),
            body={"query": {"term": {"concrete": behind(cluster, alias)[0]}}, "size": 100},
        )["hits"]["hits"]
        generations = {h["_id"].split(":")[3] for h in parts if h["_id"].count(":") == 4}
        assert len(generations) == 1  # the parts of the replaced save are gone
    finally:
        drop(cluster, alias)


# -- failures -------------------------------------------------------------------------------


def _config(site: Deployed, **extra: Any) -> dict[str, Any]:
    return {"TESTING": True, **site.app_config(**extra)}


def test_an_unreachable_cluster_is_a_503_and_one_line(site: Deployed, tmp_path: Path) -> None:
    engine = site.engine(OPENSEARCH_URL=CLOSED_URL)
    with pytest.raises(ServiceUnavailable) as caught:
        engine.search("DeepSeek")
    assert CLOSED_URL in str(caught.value)
    assert "SEARCHAPP_OPENSEARCH_URL" in caught.value.hint
    assert not engine.health().ok and "SEARCHAPP_OPENSEARCH_URL" in engine.health().hint
    assert engine.needs_rebuild() and not engine.backend.exists()

    client = create_app(_config(site, OPENSEARCH_URL=CLOSED_URL)).test_client()
    api = client.get("/api/search?q=DeepSeek")
    assert api.status_code == 503
    assert CLOSED_URL in api.get_json()["reason"]
    assert "opensearch.sh start" in api.get_json()["hint"]
    page = client.get("/?q=DeepSeek")
    assert page.status_code == 503
    assert CLOSED_URL in page.get_data(as_text=True)
    assert "Traceback" not in page.get_data(as_text=True)
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "unavailable"

    env = {
        "SEARCHAPP_BACKEND": "opensearch",
        "SEARCHAPP_OPENSEARCH_URL": CLOSED_URL,
        "SEARCHAPP_OPENSEARCH_INDEX": alias_of(site),
    }
    common = ["--corpus", str(site.corpus), "--index", str(tmp_path / "ix")]
    for args in (["search", "DeepSeek"], ["stats"], ["rebuild"], ["update"]):
        proc = subprocess.run(
            [sys.executable, "-m", "searchapp", args[0], *common, *args[1:]],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        errors = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and CLOSED_URL in errors[0], proc.stderr
        assert "Traceback" not in proc.stderr


def test_a_missing_alias_is_a_503_naming_the_fix(site: Deployed) -> None:
    engine = site.engine()
    with pytest.raises(IndexMissing, match=alias_of(site)):
        engine.search("DeepSeek")
    assert engine.needs_rebuild() and not engine.backend.exists()
    client = create_app(_config(site)).test_client()
    api = client.get("/api/search?q=DeepSeek")
    assert api.status_code == 503 and "rebuild" in api.get_json()["hint"]
    assert client.get("/").status_code == 503
    assert client.get("/healthz").status_code == 503
    result = CliRunner().invoke(
        cli,
        ["search", "DeepSeek", "--corpus", str(site.corpus), "--index", "unused"],
        env={
            "SEARCHAPP_BACKEND": "opensearch",
            "SEARCHAPP_OPENSEARCH_URL": OPENSEARCH_URL,
            "SEARCHAPP_OPENSEARCH_INDEX": alias_of(site),
        },
    )
    assert result.exit_code == 1 and "no index" in result.output
    # update with no index builds it (the CLI asks exists() first)
    result = CliRunner().invoke(
        cli,
        ["update", "--corpus", str(site.corpus), "--index", "unused"],
        env={
            "SEARCHAPP_BACKEND": "opensearch",
            "SEARCHAPP_OPENSEARCH_URL": OPENSEARCH_URL,
            "SEARCHAPP_OPENSEARCH_INDEX": alias_of(site),
        },
    )
    assert result.exit_code == 0, result.output
    assert live_count(engine) == 15


def test_an_alias_name_taken_by_a_plain_index_is_refused(cluster: OpenSearch, site) -> None:
    alias = alias_of(site)
    cluster.indices.create(index=alias)
    try:
        engine = site.engine()
        with pytest.raises(IndexUnavailable, match="not an alias"):
            engine.rebuild(site.corpus, procs=1)
        with pytest.raises(IndexUnavailable, match="not built by searchapp"):
            engine.search("DeepSeek")
        assert concretes(cluster, alias) == []
    finally:
        cluster.indices.delete(index=alias)


def test_settings_reach_the_client(tmp_path: Path) -> None:
    settings = Settings(
        corpus_dir=tmp_path,
        index_dir=tmp_path,
        backend="opensearch",
        opensearch_url=" https://a.example:9200 , b.example:9200 ",
        opensearch_user="reader",
        opensearch_password="secret",
        opensearch_ca=str(tmp_path / "ca.pem"),
    )
    (tmp_path / "ca.pem").write_text("", encoding="utf-8")
    from searchapp.backends.opensearch import client as osclient

    assert osclient.node_urls(settings) == ["https://a.example:9200", "http://b.example:9200"]
    made = osclient.connect(settings)
    connections = made.transport.connection_pool.connections
    assert sorted(c.host for c in connections) == [
        "http://b.example:9200",
        "https://a.example:9200",
    ]
    assert all(c.headers.get("authorization", "").startswith("Basic ") for c in connections)
