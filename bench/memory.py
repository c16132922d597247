"""Resident memory of each gunicorn worker serving an index.

    python -m bench.memory --index DIR --corpus DIR [--workers 2] [--port 5078] [--limit N]

Starts ``gunicorn wsgi:app`` (the deployment of the README) on 127.0.0.1 with
``--workers`` workers, sends every query of ``bench/queries.txt`` to the search page, the
JSON API and the suggestions (each worker gets its share), opens one article page per
query, then reads each worker's and the master's memory from ``/proc``: RSS (what
``top`` shows: its own memory and the index pages it has touched), PSS (the shared pages
divided among the processes that map them) and private memory (what the process alone
holds: the Python heap, its caches). The index files are memory-mapped, so the page cache
holds them once for every worker; the app is loaded in the master (``gunicorn.conf.py``)
and its segmenter and vocabulary shared by the workers. The sum of the PSS is what the
whole server takes. Stops the server by its PID.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.run import QUERIES_FILE, read_queries

ROOT = Path(__file__).resolve().parent.parent


def fetch(base: str, path: str, params: dict[str, str]) -> bytes:
    """GET ``path`` on the server."""
    url = f"{base}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback
        return response.read()


def memory(pid: int) -> dict[str, float]:
    """RSS, PSS and private memory of process ``pid``, in MB."""
    fields: dict[str, float] = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 3 and parts[-1] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1]) / 1024
    return {
        "rss": fields.get("Rss", 0.0),
        "pss": fields.get("Pss", 0.0),
        "private": fields.get("Private_Clean", 0.0) + fields.get("Private_Dirty", 0.0),
        "anonymous": fields.get("Anonymous", 0.0),
    }


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (gunicorn's workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return sorted(found)


def main() -> None:
    """Serve, load, measure, stop."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=5078)
    parser.add_argument("--limit", type=int, default=None, help="only N of the queries")
    args = parser.parse_args()
    queries = read_queries(QUERIES_FILE, args.limit)
    env = {
        **os.environ,
        "SEARCHAPP_INDEX_DIR": str(args.index.resolve()),
        "SEARCHAPP_CORPUS_DIR": str(args.corpus.resolve()),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-w", str(args.workers), "-b", f"127.0.0.1:{args.port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                fetch(base, "/healthz", {})
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        while len(children(server.pid)) < args.workers:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the workers did not start") from None
            time.sleep(0.2)
        before = {pid: memory(pid) for pid in children(server.pid)}
        started = time.perf_counter()
        for q in queries:
            fetch(base, "/", {"q": q})
            found = json.loads(fetch(base, "/api/search", {"q": q}))
            fetch(base, "/api/suggest", {"q": q[:2]})
            hits = found.get("hits") or []
            if hits:
                fetch(base, "/doc/" + urllib.parse.quote(hits[0]["id"]), {})
        seconds = time.perf_counter() - started
        after = {pid: memory(pid) for pid in children(server.pid)}
        master = memory(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    print(f"{len(queries)} queries x (page, API, suggestion, article) in {seconds:.1f} s")
    print("| process | RSS at start | RSS after | PSS after | private after |")
    print("|---|---|---|---|---|")
    for pid, mem in after.items():
        start = before.get(pid, {}).get("rss", 0.0)
        print(
            f"| worker {pid} | {start:.0f} MB | {mem['rss']:.0f} MB | {mem['pss']:.0f} MB "
            f"| {mem['private']:.0f} MB |"
        )
    print(
        f"| master {server.pid} | | {master['rss']:.0f} MB | {master['pss']:.0f} MB "
        f"| {master['private']:.0f} MB |"
    )
    total = master["pss"] + sum(mem["pss"] for mem in after.values())
    print(f"\nThe server in all (PSS of the master and the workers): {total:.0f} MB")


if __name__ == "__main__":
    main()
