"""Benchmark our engine against tantivy-py and SQLite FTS5 on the same documents and queries.

    python -m bench.run [--quick] [--corpus hugo+txt|68k|68k-files|dir:PATH] [--runs N] [--out DIR]

Every measurement runs in its own child process (``python -m bench.run --child ...``);
engines are interleaved and the order rotates between runs; figures are medians over runs.
What is measured (see ``bench/README.md``): full index time (ours: ``Engine.rebuild`` or
``index_documents`` with default procs; peers: load + jieba segmentation + indexing, with
the segmentation reported separately), peak RSS of the child (its workers included),
index size, search p50/p95 for the top 10 ids and for the top 10 with snippets, cold start
(new process to first answer), incremental update (ours), and optionally HTTP load.
Writes ``latest.json`` and ``latest.md`` to ``--out`` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.corpus import is_folder_corpus, load_docs, prepare_folder
from searchapp.config import PROJECT_ROOT

ENGINES = ("ours", "tantivy", "fts5")
QUERIES_FILE = Path(__file__).with_name("queries.txt")
QUICK_DOCS = 500
QUICK_QUERIES = 30
RESULT_TAG = "BENCH_RESULT "
#: Targets of issue #6 (lower is better); override the two ratios on the command line.
TARGETS = {"index_vs_tantivy": 1.0, "snippets_p95_vs_fts5": 2.0}
#: Absolute targets: cold start (s), incremental update visible (s), build peak RSS (MB,
#: all processes of the build together).
LIMITS = {"cold_start_s": 1.5, "incremental_visible_s": 2.0, "build_rss_sum_mb": 2048.0}


# -- helpers ------------------------------------------------------------------------------


def read_queries(path: Path, limit: int | None = None) -> list[str]:
    """Non-empty, non-comment lines; with ``limit``, an evenly spaced sample."""
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    queries = [ln for ln in lines if ln and not ln.startswith("#")]
    if limit and len(queries) > limit:
        step = len(queries) / limit
        queries = [queries[int(i * step)] for i in range(limit)]
    return queries


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def dir_size(path: Path) -> int:
    """Bytes of all files under ``path``."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def peak_rss_mb() -> float:
    """Peak RSS of this process or any of its finished children (MB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


class TreeRss(threading.Thread):
    """Samples the summed RSS of this process and all its descendants (Linux ``/proc``).

    ``getrusage`` only gives the largest single process; a build with worker processes
    needs the sum (an upper bound: pages shared after ``fork`` are counted in each).
    """

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_mb = 0.0
        self._stop_event = threading.Event()

    @staticmethod
    def sample() -> float:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        page = os.sysconf("SC_PAGE_SIZE")
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * page
        me = os.getpid()
        total = 0
        for pid in rss:
            p = pid
            while p > 1 and p != me:
                p = parents.get(p, 0)
            if p == me:
                total += rss[pid]
        return total / 2**20

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.peak_mb = max(self.peak_mb, self.sample())
            except (OSError, ValueError):
                return
            self._stop_event.wait(self.interval)

    def stop(self) -> float:
        self._stop_event.set()
        self.join(5)
        self.peak_mb = max(self.peak_mb, self.sample())
        return self.peak_mb


def _engine(cfg: dict[str, Any], index_dir: Path) -> Any:
    """Our engine over ``index_dir``, with the corpus folder's user dictionary if any."""
    from searchapp.config import Settings
    from searchapp.engine import open_engine

    corpus = Path(cfg["folder"]) if cfg.get("folder") else Path(cfg["work"])
    return open_engine(Settings(corpus_dir=corpus, index_dir=index_dir))


def _docs(cfg: dict[str, Any]):
    folder = Path(cfg["folder"]) if cfg.get("folder") else None
    return load_docs(cfg["corpus"], folder, cfg.get("limit"))


# -- child jobs (run inside ``python -m bench.run --child JOB``) --------------------------


def job_ours_index(cfg: dict[str, Any]) -> dict[str, Any]:
    from searchapp.text import analysis

    index_dir = Path(cfg["work"]) / "idx-ours"
    tree = TreeRss()
    tree.start()
    started = time.perf_counter()
    engine = _engine(cfg, index_dir)
    if cfg.get("folder"):
        stats = engine.rebuild(Path(cfg["folder"]))
        load_s = 0.0
    else:
        docs = _docs(cfg)
        load_s = time.perf_counter() - started
        stats = engine.index_documents(docs)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "load_s": load_s,
        "docs": stats.total,
        "skipped": len(stats.skipped),
        "rss_sum_mb": tree.stop(),
        "segments": store_segments(index_dir),
        "fast_segmenter": analysis.use_fast_segmenter(),
    }


def store_segments(index_dir: Path) -> int:
    """Number of Whoosh segments in our index (search cost grows with it)."""
    from searchapp.backends.whoosh import store

    return int(store.read_meta(index_dir).get("segments") or 1)


def job_segment(cfg: dict[str, Any], fast: bool = False) -> dict[str, Any]:
    """Peers' segmentation. By default pure-Python jieba, as issue #6 defines the peer
    ("tantivy-py + jieba"); ``fast`` uses the same segmenter as ours (rjieba when
    installed; identical tokens), timed only."""
    if not fast:
        os.environ["SEARCHAPP_SEGMENTER"] = "jieba"
    from bench.peers import ANALYZER, segment_all
    from searchapp.text import analysis

    t0 = time.perf_counter()
    docs = _docs(cfg)
    t1 = time.perf_counter()
    ANALYZER.segment("")  # set the segmenter up
    t2 = time.perf_counter()
    seg = segment_all(docs)
    t3 = time.perf_counter()
    if not fast:
        with open(Path(cfg["work"]) / "seg.pkl", "wb") as fh:
            pickle.dump(seg, fh, protocol=pickle.HIGHEST_PROTOCOL)
    chars = sum(len(d.title) + len(d.summary) + len(d.body) for d in docs)
    return {
        "load_s": t1 - t0,
        "jieba_init_s": t2 - t1,
        "segment_s": t3 - t2,
        "docs": len(docs),
        "mb": chars * 3 / 1e6,
        "segmenter": "rjieba" if analysis.use_fast_segmenter() else "jieba",
    }


def _peer(name: str, cfg: dict[str, Any]):
    from bench.peers import PEERS

    return PEERS[name](Path(cfg["work"]) / f"idx-{name}")


def job_peer_index(name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    with open(Path(cfg["work"]) / "seg.pkl", "rb") as fh:
        seg = pickle.load(fh)
    started = time.perf_counter()
    _peer(name, cfg).build(seg)
    return {"seconds": time.perf_counter() - started, "docs": len(seg)}


def job_search(name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    queries = cfg["queries"]
    ids_ms: list[float] = []
    snip_ms: list[float] = []
    found = 0
    if name == "ours":
        engine = _engine(cfg, Path(cfg["work"]) / "idx-ours")
        for q in queries[:3]:
            engine.search(q)
        for q in queries:
            t = time.perf_counter()
            page = engine.search(q, 1, pagelen=10)
            snip_ms.append((time.perf_counter() - t) * 1000)
            found += bool(page.hits)
        ids_ms = list(snip_ms)  # ours always highlights the page it returns
    else:
        engine = _peer(name, cfg)
        for q in queries[:3]:
            engine.search_snippets(q)
        for q in queries:
            t = time.perf_counter()
            hits = engine.search(q, 10)
            ids_ms.append((time.perf_counter() - t) * 1000)
            found += bool(hits)
        for q in queries:
            t = time.perf_counter()
            engine.search_snippets(q, 10)
            snip_ms.append((time.perf_counter() - t) * 1000)
    return {"ids_ms": ids_ms, "snippets_ms": snip_ms, "queries_with_hits": found}


def job_incremental(cfg: dict[str, Any]) -> dict[str, Any]:
    folder, index_dir = Path(cfg["folder"]), Path(cfg["work"]) / "idx-ours"
    target = next(p for p in sorted(folder.rglob("*.txt")) if p.name != "userdict.txt")
    doc_id = target.relative_to(folder).as_posix()
    original = target.read_bytes()
    word = f"benchzq{random.randrange(10**8, 10**9)}"
    try:
        target.write_bytes(original + f"\n增量测试 {word}\n".encode())
        started = time.perf_counter()
        stats = _engine(cfg, index_dir).update(folder)
        update_s = time.perf_counter() - started
        seen = False
        while time.perf_counter() - started < 30:
            page = _engine(cfg, index_dir).search(word)
            if any(h.id == doc_id for h in page.hits):
                seen = True
                break
            time.sleep(0.05)
        visible_s = time.perf_counter() - started
    finally:
        target.write_bytes(original)
        _engine(cfg, index_dir).update(folder)
    return {"update_s": update_s, "visible_s": visible_s, "seen": seen, "indexed": stats.indexed}


COLD_CODE = {
    "ours": (
        "import sys; from pathlib import Path; from searchapp.engine import open_engine; "
        "from searchapp.config import Settings; f=sys.argv[2]; "
        "e=open_engine(Settings(corpus_dir=Path(f or sys.argv[1]), index_dir=Path(sys.argv[1]))); "
        "p=e.search(sys.argv[3]); print(len(p.hits))"
    ),
    "peer": (
        "import sys; from pathlib import Path; from bench.peers import PEERS; "
        "e=PEERS[sys.argv[4]](Path(sys.argv[1])); print(len(e.search_snippets(sys.argv[3])))"
    ),
}


def cold_start(name: str, cfg: dict[str, Any], query: str, reps: int = 3) -> list[float]:
    """Seconds from spawning a new interpreter to its first answer (process exit)."""
    index_dir = str(Path(cfg["work"]) / f"idx-{name}")
    code = COLD_CODE["ours" if name == "ours" else "peer"]
    argv = [sys.executable, "-c", code, index_dir, cfg.get("folder") or "", query, name]
    out = []
    for _ in range(reps):
        started = time.perf_counter()
        subprocess.run(argv, cwd=PROJECT_ROOT, check=True, capture_output=True, timeout=120)
        out.append(time.perf_counter() - started)
    return out


JOBS = {
    "ours-index": job_ours_index,
    "segment": job_segment,
    "segment-fast": lambda cfg: job_segment(cfg, fast=True),
    "tantivy-index": lambda cfg: job_peer_index("tantivy", cfg),
    "fts5-index": lambda cfg: job_peer_index("fts5", cfg),
    "ours-search": lambda cfg: job_search("ours", cfg),
    "tantivy-search": lambda cfg: job_search("tantivy", cfg),
    "fts5-search": lambda cfg: job_search("fts5", cfg),
    "incremental": job_incremental,
}


def child_main(job: str, cfg_path: str) -> None:
    """Run one job and print its result as a tagged JSON line."""
    cfg = json.loads(Path(cfg_path).read_text(encoding="utf-8"))
    result = JOBS[job](cfg)
    result["peak_rss_mb"] = peak_rss_mb()
    print(RESULT_TAG + json.dumps(result), flush=True)


def run_child(job: str, cfg_path: Path, timeout: float) -> dict[str, Any]:
    """Run a job in a fresh interpreter and return its result."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--child", job, "--config", str(cfg_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{job} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG) :])
    raise RuntimeError(f"{job} printed no result:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


# -- HTTP load ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_load(
    cfg: dict[str, Any], queries: list[str], seconds: float, threads: int = 4, warmup: float = 8.0
):
    """gunicorn (2 workers) on loopback serving wsgi:app; threads hit /api/search.

    The same load runs ``warmup`` seconds first, unmeasured: a new worker builds its
    suggestion vocabulary and loads jieba in the background (steady state is measured).
    """
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        return {"skipped": "gunicorn not installed"}
    env = dict(os.environ, SEARCHAPP_INDEX_DIR=str(Path(cfg["work"]) / "idx-ours"))
    if cfg.get("folder"):
        env["SEARCHAPP_CORPUS_DIR"] = cfg["folder"]
    check = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=PROJECT_ROOT, env=env, capture_output=True
    )
    if check.returncode != 0:
        return {"skipped": "wsgi:app not importable: " + check.stderr.strip().splitlines()[-1]}
    port = _free_port()
    # The server's log goes to a file: a pipe nobody reads fills up after 64 KB of
    # request log lines and then blocks the workers (the old harness timed out on it).
    log_path = Path(cfg["work"]) / "gunicorn.log"
    with open(log_path, "w", encoding="utf-8") as log:
        server = subprocess.Popen(
            [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}/api/search?q="
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(base + urllib.parse.quote(queries[0]), timeout=30).read()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    return {"skipped": "server did not answer /api/search"}
                time.sleep(0.3)
        lat: list[float] = []
        slow: list[tuple[float, str]] = []
        errors: list[str] = []
        stop = 0.0

        def worker(offset: int) -> None:
            i = offset
            while time.perf_counter() < stop:
                url = base + urllib.parse.quote(queries[i % len(queries)])
                q = queries[i % len(queries)]
                t = time.perf_counter()
                try:
                    with urllib.request.urlopen(url, timeout=30) as r:
                        r.read()
                    ms = (time.perf_counter() - t) * 1000
                    lat.append(ms)
                    slow.append((ms, q))
                except OSError as exc:
                    errors.append(f"{q}: {exc}"[:200])
                i += threads

        def run(duration: float) -> float:
            nonlocal stop
            started = time.perf_counter()
            stop = started + duration
            pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            return time.perf_counter() - started

        run(warmup)
        lat.clear()
        slow.clear()
        errors.clear()
        elapsed = run(seconds)
        return {
            "seconds": round(elapsed, 1),
            "warmup_seconds": warmup,
            "client_threads": threads,
            "requests": len(lat),
            "errors": len(errors),
            "error_samples": errors[:5],
            "slowest": [[round(ms), q] for ms, q in sorted(slow, reverse=True)[:5]],
            "rps": round(len(lat) / elapsed, 1),
            "p50_ms": round(percentile(lat, 50), 1),
            "p95_ms": round(percentile(lat, 95), 1),
        }
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


# -- orchestration -----------------------------------------------------------------------


def _med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run every job ``args.runs`` times, interleaved; return the summary."""
    work = Path(args.workdir or f"/tmp/searchapp-bench-{args.corpus.replace(':', '_')}")
    if args.corpus.startswith("dir:"):
        work = Path(args.workdir or work.with_name("searchapp-bench-dir"))
    work.mkdir(parents=True, exist_ok=True)
    limit = args.docs or (QUICK_DOCS if args.quick else None)
    queries = read_queries(
        Path(args.queries), args.nqueries or (QUICK_QUERIES if args.quick else None)
    )
    cfg: dict[str, Any] = {"corpus": args.corpus, "work": str(work), "queries": queries}
    if is_folder_corpus(args.corpus):
        t = time.perf_counter()
        cfg["folder"] = str(prepare_folder(args.corpus, work / "corpus", limit))
        print(f"corpus copied to {cfg['folder']} ({time.perf_counter() - t:.1f} s)", flush=True)
    else:
        cfg["limit"] = limit
    cfg_path = work / "config.json"
    cfg_path.write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")

    raw: list[dict[str, Any]] = []
    for run in range(args.runs):
        order = ENGINES[run % 3 :] + ENGINES[: run % 3]
        r: dict[str, Any] = {"order": list(order)}

        def job(name: str, r: dict[str, Any] = r, run: int = run) -> dict[str, Any]:
            print(f"run {run + 1}/{args.runs}: {name} ...", end=" ", flush=True)
            t = time.perf_counter()
            res = run_child(name, cfg_path, args.timeout)
            print(f"{time.perf_counter() - t:.1f} s", flush=True)
            r[name] = res
            return res

        job("segment")
        job("segment-fast")
        for eng in order:
            idx = work / f"idx-{eng}"
            shutil.rmtree(idx, ignore_errors=True)
            job(f"{eng}-index")
            r[f"{eng}-size"] = dir_size(idx)
        for eng in order:
            job(f"{eng}-search")
        for eng in order:
            r[f"{eng}-cold"] = cold_start(eng, cfg, queries[0], reps=args.cold_reps)
        if cfg.get("folder"):
            job("incremental")
        raw.append(r)

    http = None
    if args.http_seconds > 0:
        print(f"HTTP load {args.http_seconds:.0f} s ...", flush=True)
        http = http_load(cfg, queries, args.http_seconds)
    return summarise(args, cfg, raw, http)


def summarise(args, cfg, raw, http) -> dict[str, Any]:
    """Medians over runs, ratios and targets."""
    seg = {
        k: _med([r["segment"][k] for r in raw])
        for k in ("load_s", "jieba_init_s", "segment_s", "mb", "peak_rss_mb")
    }
    seg["docs"] = raw[0]["segment"]["docs"]
    seg["segmenter"] = raw[0]["segment"].get("segmenter", "jieba")
    fast = {
        k: _med([r["segment-fast"][k] for r in raw if "segment-fast" in r])
        for k in ("load_s", "jieba_init_s", "segment_s")
    }
    fast["segmenter"] = raw[0].get("segment-fast", {}).get("segmenter", "")
    seg["fast"] = fast
    engines: dict[str, Any] = {}
    for eng in ENGINES:
        index_s = _med([r[f"{eng}-index"]["seconds"] for r in raw])
        e: dict[str, Any] = {"index_only_s": index_s}
        if eng == "ours":
            e["full_index_s"] = index_s
            e["rss_sum_mb"] = _med([r["ours-index"].get("rss_sum_mb", 0.0) for r in raw])
            e["segments"] = raw[-1]["ours-index"].get("segments", 1)
        else:
            e["full_index_s"] = seg["load_s"] + seg["jieba_init_s"] + seg["segment_s"] + index_s
            e["full_index_fast_seg_s"] = (
                fast["load_s"] + fast["jieba_init_s"] + fast["segment_s"] + index_s
            )
        e["peak_rss_mb"] = _med([r[f"{eng}-index"]["peak_rss_mb"] for r in raw])
        if eng != "ours":  # segmentation ran in its own child
            e["peak_rss_mb"] = max(e["peak_rss_mb"], seg["peak_rss_mb"])
        e["search_peak_rss_mb"] = _med([r[f"{eng}-search"]["peak_rss_mb"] for r in raw])
        e["index_bytes"] = int(_med([r[f"{eng}-size"] for r in raw]))
        for key in ("ids_ms", "snippets_ms"):
            e[key.replace("_ms", "_p50_ms")] = _med(
                [percentile(r[f"{eng}-search"][key], 50) for r in raw]
            )
            e[key.replace("_ms", "_p95_ms")] = _med(
                [percentile(r[f"{eng}-search"][key], 95) for r in raw]
            )
        e["queries_with_hits"] = raw[-1][f"{eng}-search"]["queries_with_hits"]
        e["cold_start_s"] = _med([x for r in raw for x in r[f"{eng}-cold"]])
        engines[eng] = e
    ours, tv, fts = engines["ours"], engines["tantivy"], engines["fts5"]
    ratios = {
        "index_vs_tantivy": ours["full_index_s"] / tv["full_index_s"],
        "index_vs_tantivy_same_segmenter": ours["full_index_s"] / tv["full_index_fast_seg_s"],
        "snippets_p95_vs_fts5": ours["snippets_p95_ms"] / fts["snippets_p95_ms"],
        "snippets_p95_vs_tantivy": ours["snippets_p95_ms"] / tv["snippets_p95_ms"],
        "index_size_vs_tantivy": ours["index_bytes"] / tv["index_bytes"],
    }
    targets = {
        "index_vs_tantivy": args.target_index_ratio,
        "snippets_p95_vs_fts5": args.target_p95_ratio,
    }
    incremental = None
    if "incremental" in raw[0]:
        incremental = {
            "update_s": _med([r["incremental"]["update_s"] for r in raw]),
            "visible_s": _med([r["incremental"]["visible_s"] for r in raw]),
            "seen": all(r["incremental"]["seen"] for r in raw),
        }
    limits = {
        "cold_start_s": (ours["cold_start_s"], LIMITS["cold_start_s"]),
        "build_rss_sum_mb": (ours["rss_sum_mb"], LIMITS["build_rss_sum_mb"]),
    }
    if incremental:
        limits["incremental_visible_s"] = (
            incremental["visible_s"],
            LIMITS["incremental_visible_s"],
        )
    return {
        "when": datetime.now().isoformat(timespec="seconds"),
        "corpus": cfg["corpus"],
        "documents": raw[0]["ours-index"]["docs"],
        "queries": len(cfg["queries"]),
        "runs": len(raw),
        "quick": bool(args.quick),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "segmentation": seg,
        "engines": engines,
        "ratios": ratios,
        "targets": targets,
        "meets_targets": {k: ratios[k] <= v for k, v in targets.items()},
        "limits": {
            k: {"value": v, "limit": lim, "met": v <= lim} for k, (v, lim) in limits.items()
        },
        "incremental": incremental,
        "http": http,
        "raw": raw,
    }


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def markdown(res: dict[str, Any]) -> str:
    """The results as a Markdown report."""
    lines = [
        f"# Benchmark: {res['corpus']} ({res['documents']} documents, {res['queries']} queries,"
        f" {res['runs']} run(s){', quick' if res['quick'] else ''})",
        "",
        f"{res['when']}, {res['machine']['cpus']} CPUs, Python {res['machine']['python']}."
        " Medians over runs; latencies in ms.",
        "",
        "| engine | full index | search p50/p95 | top-10 snippets p50/p95 | peak RSS (index)"
        " | RSS (search) | index size | cold start | queries with hits |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, e in res["engines"].items():
        lines.append(
            f"| {name} | {e['full_index_s']:.1f} s | {e['ids_p50_ms']:.1f} / {e['ids_p95_ms']:.1f}"
            f" | {e['snippets_p50_ms']:.1f} / {e['snippets_p95_ms']:.1f}"
            f" | {e['peak_rss_mb']:.0f} MB | {e['search_peak_rss_mb']:.0f} MB"
            f" | {_mb(e['index_bytes'])} | {e['cold_start_s']:.2f} s"
            f" | {e['queries_with_hits']}/{res['queries']} |"
        )
    s = res["segmentation"]
    ours = res["engines"]["ours"]
    fast = s.get("fast") or {}
    lines += [
        "",
        "Ours: search = search + snippets (Engine.search always highlights its page);"
        f" full index = the whole rebuild (load, segment, write; {ours.get('segments', 1)}"
        f" segment(s)); peak RSS of all its processes together"
        f" {ours.get('rss_sum_mb', 0):.0f} MB (largest single process in the table).",
        f"Peers' full index = load {s['load_s']:.1f} s + jieba init {s['jieba_init_s']:.1f} s"
        f" + {s.get('segmenter', 'jieba')} segmentation {s['segment_s']:.1f} s"
        f" (2 processes, ~{s['mb']:.0f} MB of text) + indexing "
        + ", ".join(f"{n} {res['engines'][n]['index_only_s']:.1f} s" for n in ("tantivy", "fts5"))
        + ".",
    ]
    if fast:
        lines.append(
            f"With our segmenter ({fast.get('segmenter')}, same tokens) the peers' segmentation"
            f" takes {fast['segment_s']:.1f} s: tantivy full index"
            f" {res['engines']['tantivy'].get('full_index_fast_seg_s', float('nan')):.1f} s."
        )
    lines += [
        "",
        "| ratio (ours / peer) | value | target | met |",
        "|---|---|---|---|",
    ]
    for k, v in res["ratios"].items():
        t = res["targets"].get(k)
        met = res["meets_targets"].get(k)
        lines.append(
            f"| {k} | {v:.2f} | {'≤ ' + format(t, 'g') if t else ''} "
            f"| {'' if met is None else ('yes' if met else 'no')} |"
        )
    lim = res.get("limits") or {}
    if lim:
        lines += ["", "| figure (ours) | value | limit | met |", "|---|---|---|---|"]
        for k, v in lim.items():
            lines.append(
                f"| {k} | {v['value']:.2f} | < {v['limit']:g} | {'yes' if v['met'] else 'no'} |"
            )
    inc = res.get("incremental")
    if inc:
        lines += [
            "",
            f"Incremental (one file changed): `update` {inc['update_s']:.2f} s,"
            f" visible to a new Engine after {inc['visible_s']:.2f} s"
            f" ({'seen' if inc['seen'] else 'NOT seen'}).",
        ]
    http = res.get("http")
    if http:
        if "skipped" in http:
            lines += ["", f"HTTP load: skipped ({http['skipped']})."]
        else:
            lines += [
                "",
                f"HTTP load (gunicorn 2 workers, {http['client_threads']} client threads,"
                f" {http['seconds']} s after {http.get('warmup_seconds', 0)} s of warm-up):"
                f" {http['rps']} req/s, /api/search p50"
                f" {http['p50_ms']} ms, p95 {http['p95_ms']} ms, {http['errors']} errors"
                f" {http['error_samples']}; slowest {http['slowest']}.",
            ]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="~500 docs, 30 queries, 1 run")
    p.add_argument("--corpus", default="hugo+txt", help="hugo+txt | 68k | 68k-files | dir:PATH")
    p.add_argument("--runs", type=int, default=None, help="runs (default 3, quick 1)")
    p.add_argument("--out", default=str(Path(__file__).with_name("results")))
    p.add_argument("--queries", default=str(QUERIES_FILE))
    p.add_argument("--workdir", default=None, help="scratch folder (default /tmp/...)")
    p.add_argument("--docs", type=int, default=None, help="use only this many documents")
    p.add_argument("--nqueries", type=int, default=None, help="use only this many queries")
    p.add_argument("--cold-reps", type=int, default=3)
    p.add_argument("--http-seconds", type=float, default=None, help="0 = no HTTP load")
    p.add_argument("--timeout", type=float, default=1800, help="per child job, seconds")
    p.add_argument("--target-index-ratio", type=float, default=TARGETS["index_vs_tantivy"])
    p.add_argument("--target-p95-ratio", type=float, default=TARGETS["snippets_p95_vs_fts5"])
    p.add_argument(
        "--http-only", action="store_true", help="only the HTTP load, on the existing work folder"
    )
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--config", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.http_seconds is None:
        args.http_seconds = 0 if args.quick else 20
    return args


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    """Entry point; returns the results (None in a child job)."""
    args = parse_args(argv)
    if args.child:
        child_main(args.child, args.config)
        return None
    if args.http_only:
        work = Path(args.workdir or f"/tmp/searchapp-bench-{args.corpus.replace(':', '_')}")
        cfg = json.loads((work / "config.json").read_text(encoding="utf-8"))
        http = http_load(cfg, cfg["queries"], args.http_seconds or 20)
        print(json.dumps(http, indent=2, ensure_ascii=False))
        return {"http": http}
    res = measure(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(res, indent=2, ensure_ascii=False), "utf-8")
    md = markdown(res)
    (out / "latest.md").write_text(md, encoding="utf-8")
    print()
    print(md)
    return res


if __name__ == "__main__":
    main()
