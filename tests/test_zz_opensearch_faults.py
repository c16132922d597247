"""A node of the two-node test cluster killed (``kill -9``) while searches run: the
replicas answer, no search fails. Named to run last: the node is started again
afterwards (``scripts/opensearch.sh restart-node``), which takes a while.

Needs the local cluster ``scripts/opensearch.sh`` runs (its node processes are on this
machine); ``scripts/test.sh`` starts it. Never skipped: without it, the test fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import OPENSEARCH_URL, deploy, make_corpus
from opensearchpy import OpenSearch

from searchapp.backends.opensearch.backend import state_index
from searchapp.backends.opensearch.writer import is_concrete_of

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ["DeepSeek", "人工智能开源模型", '"开源模型"', "芯片", "寒潮", "黄仁勋在哪里发布芯片"]


def _node_pid(client: OpenSearch, node_id: str) -> int:
    info = client.nodes.info(node_id=node_id, metric="process")
    return int(info["nodes"][node_id]["process"]["id"])


@pytest.mark.slow
def test_a_node_killed_under_load_fails_no_search(tmp_path: Path) -> None:
    if not OPENSEARCH_URL:
        pytest.fail("no OpenSearch cluster: run scripts/test.sh (it starts one)")
    client = OpenSearch(hosts=OPENSEARCH_URL.split(","), timeout=60)
    nodes = client.nodes.info(metric="process")["nodes"]
    assert len(nodes) >= 2, "the fault test needs a cluster of two nodes or more"
    site = deploy("opensearch", make_corpus(tmp_path / "corpus"), tmp_path / "ix", "faults")
    alias = str(site.config["OPENSEARCH_INDEX"])
    engine = site.engine()
    engine.rebuild(site.corpus, procs=1)  # 2 shards, 1 replica: every shard on both nodes
    client.cluster.health(index=alias, wait_for_status="green", timeout="60s", request_timeout=90)
    expected = {q: [h.id for h in engine.search(q, pagelen=10).hits] for q in QUERIES}

    manager = client.cat.cluster_manager(format="json")[0]["id"]
    victim_id = next(n for n in nodes if n != manager)
    victim = nodes[victim_id]
    pid = _node_pid(client, victim_id)
    assert Path(f"/proc/{pid}").exists(), f"node {victim['name']} (pid {pid}) is not local"

    done: list[int] = []
    failures: list[str] = []
    wrong: list[str] = []
    stop = threading.Event()

    def search_loop() -> None:
        reader = site.engine()
        n = 0
        while not stop.is_set():
            query = QUERIES[n % len(QUERIES)]
            n += 1
            try:
                ids = [h.id for h in reader.search(query, pagelen=10).hits]
            except Exception as exc:  # noqa: BLE001 - every failure is reported
                failures.append(f"{query}: {exc!r}")
                continue
            if ids != expected[query]:
                wrong.append(query)
            done.append(1)

    threads = [threading.Thread(target=search_loop) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(2)
        before = len(done)
        os.kill(pid, signal.SIGKILL)
        time.sleep(10)  # the cluster notices, promotes the replicas, goes yellow
        stop.set()
        for t in threads:
            t.join(60)
        after = len(done) - before
        health = client.cluster.health(index=alias)
        assert failures == []
        assert wrong == []
        assert before > 0 and after > 20
        assert health["status"] == "yellow" and health["number_of_nodes"] == len(nodes) - 1
        assert engine.health().ok and engine.health().status == "yellow"
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        number = str(victim["name"]).rsplit("-", 1)[-1]
        subprocess.run(
            ["bash", str(ROOT / "scripts" / "opensearch.sh"), "restart-node", number],
            check=True,
            capture_output=True,
            timeout=600,
        )
        client.cluster.health(wait_for_status="green", timeout="120s", request_timeout=180)
        for name in client.indices.get(index=f"{alias}-*", params={"expand_wildcards": "all"}):
            if is_concrete_of(alias, name) or name == state_index(alias):
                client.indices.delete(index=name)
