"""Full speed from the first request: latency right after a server starts, and right
after an ``update`` commits while it serves, against the steady state.

    python -m bench.warm --index DIR --corpus DIR [--requests 60] [--port 5077]

Starts ``python -m searchapp serve`` on 127.0.0.1 (the built-in server, 8 threads) and
sends, one after the other, ``--requests`` searches from ``bench/queries.txt`` the moment
it answers ``/healthz``; then the same number again (steady state); then touches one
article of the corpus, runs ``update`` in another process and sends them once more while
the server follows the new commit. Also checks that suggestions, pinyin and "did you
mean" answer on the very first request of a fresh server. Prints p50/p95 of each phase
and the ratios. The corpus is changed and restored: use a copy.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.run import QUERIES_FILE, read_queries

ROOT = Path(__file__).resolve().parent.parent


def get(base: str, path: str, params: dict[str, str]) -> tuple[float, dict]:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}"
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback
        body = json.loads(response.read().decode("utf-8"))
    return (time.perf_counter() - started) * 1000, body


def phase(base: str, queries: list[str]) -> list[float]:
    return [get(base, "/api/search", {"q": q})[0] for q in queries]


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--port", type=int, default=5077)
    args = parser.parse_args()
    queries = read_queries(QUERIES_FILE)[: args.requests]
    base = f"http://127.0.0.1:{args.port}"
    cmd = [sys.executable, "-m", "searchapp", "serve", "--index", str(args.index)]
    cmd += ["--corpus", str(args.corpus), "--port", str(args.port)]
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        started = time.perf_counter()
        while True:
            try:
                get(base, "/healthz", {})
                break
            except OSError:
                if time.perf_counter() - started > 60:
                    raise
                time.sleep(0.05)
        up = time.perf_counter() - started
        _, suggest = get(base, "/api/suggest", {"q": "rgzn"})
        _, pinyin = get(base, "/api/search", {"q": "hanchao"})
        _, mean = get(base, "/api/search", {"q": "深度求锁"})
        first = phase(base, queries)
        steady = phase(base, queries)
        target = next(p for p in sorted(args.corpus.rglob("*.txt")) if p.name != "userdict.txt")
        original = target.read_bytes()
        update_command = [
            *(sys.executable, "-m", "searchapp", "update"),
            *("--index", str(args.index), "--corpus", str(args.corpus)),
        ]
        try:
            target.write_bytes(original + "\n增量测试 benchwarm\n".encode())
            update = subprocess.Popen(update_command, cwd=ROOT, stdout=subprocess.DEVNULL)
            after = phase(base, queries)
            update.wait(300)
        finally:
            target.write_bytes(original)
            subprocess.run(update_command, cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
    print(f"server answered /healthz after {up:.2f} s")
    print(
        f"first request: /api/suggest?q=rgzn -> {[s['text'] for s in suggest['suggestions'][:2]]}"
    )
    print(f"first requests: hanchao -> {pinyin['total']} results; 深度求锁 -> {mean['suggestion']}")
    steady_p95 = p(steady, 0.95)
    for name, values in (("first", first), ("steady", steady), ("during update", after)):
        print(
            f"{name:>14}: p50 {statistics.median(values):6.1f} ms  p95 {p(values, 0.95):6.1f} ms"
            f"  max {max(values):6.1f} ms  (p95 / steady p95 = {p(values, 0.95) / steady_p95:.2f})"
        )


if __name__ == "__main__":
    main()
