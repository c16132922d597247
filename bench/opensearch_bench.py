"""The OpenSearch backend against the Whoosh backend: same documents, same queries.

    python -m bench.opensearch_bench [--docs N] [--urls URLS] [--shards 2] [--replicas 1]
                                     [--only whoosh|opensearch] [--eval cmrc2018]

Needs a running cluster (``bash scripts/opensearch.sh start 2``; the URLs default to
``SEARCHAPP_OPENSEARCH_URL`` or ``http://127.0.0.1:9200,http://127.0.0.1:9201``) and
``../shared/corpus/news-68k.jsonl.gz``. For each backend, through the :class:`Engine`:

* **rebuild**: ``Engine.index_documents`` of the 68k articles (default procs: both
  cores segmenting), wall time and articles/s;
* **index size**: Whoosh's folder; OpenSearch's store size, primaries and total (with
  the replica);
* **search + snippets**: ``Engine.search(q, pagelen=10)`` over ``bench/queries.txt``
  (3 warm-up queries first), p50 / p95 / mean in ms, and how often the two backends give
  the same top 10;
* **vocabulary**: building the suggestion vocabulary (every term's document frequency and
  every title), seconds.

``--eval cmrc2018`` also ranks the cmrc2018 questions on OpenSearch (MRR@10, nDCG@10,
Recall@100, as ``bench.eval`` computes them for Whoosh). Each backend and the evaluation
run in a child process of their own. Results go to
``bench/results/opensearch-<corpus>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.corpus import iter_68k
from bench.run import QUERIES_FILE, percentile, read_queries
from searchapp.config import Settings
from searchapp.engine import Engine, open_engine

DEFAULT_URLS = "http://127.0.0.1:9200,http://127.0.0.1:9201"


def engine_for(backend: str, work: Path, args: argparse.Namespace, alias: str) -> Engine:
    """An engine on ``backend`` for the benchmark's index."""
    return open_engine(
        Settings(
            corpus_dir=work,
            index_dir=work / "idx-whoosh",
            backend=backend,
            opensearch_url=args.urls,
            opensearch_index=alias,
            opensearch_shards=args.shards,
            opensearch_replicas=args.replicas,
        )
    )


def measure(engine: Engine, docs: list[Any], queries: list[str], rebuild: bool) -> dict[str, Any]:
    """Rebuild (unless reusing), size, search latency and vocabulary time of one backend."""
    out: dict[str, Any] = {}
    if rebuild or engine.needs_rebuild():
        t = time.perf_counter()
        stats = engine.index_documents(docs)
        seconds = time.perf_counter() - t
        out.update(
            rebuild_s=round(seconds, 1),
            docs_per_s=round(len(docs) / seconds, 1),
            indexed=stats.total,
            skipped=len(stats.skipped),
        )
    info = engine.stats()
    out["documents"] = info["documents"]
    out["index_bytes"] = info.get("index_bytes")
    if "primary_bytes" in info:
        out["primary_bytes"] = info["primary_bytes"]
    for q in queries[:3]:
        engine.search(q, pagelen=10)
    times = []
    tops: dict[str, list[str]] = {}
    for q in queries:
        t = time.perf_counter()
        page = engine.search(q, pagelen=10)
        times.append((time.perf_counter() - t) * 1000)
        tops[q] = [h.id for h in page.hits]
    out.update(
        search_p50_ms=round(percentile(times, 50), 1),
        search_p95_ms=round(percentile(times, 95), 1),
        search_mean_ms=round(statistics.fmean(times), 1),
        queries=len(queries),
    )
    t = time.perf_counter()
    with engine.pinned():
        vocab = engine.vocabulary.get(engine.view())
    out["vocabulary_s"] = round(time.perf_counter() - t, 1)
    out["vocabulary_keys"] = len(vocab.keys) if vocab is not None else 0
    out["_tops"] = tops
    return out


def run_eval(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """cmrc2018 (or another ``bench.eval`` set) ranked on OpenSearch."""
    from bench.eval import evaluate, load_set

    docs, queries, qrels = load_set(name)
    work = Path(f"/tmp/searchapp-eval-{name}-opensearch")
    work.mkdir(parents=True, exist_ok=True)
    engine = engine_for("opensearch", work, args, f"bench-eval-{name}")
    t = time.perf_counter()
    if args.rebuild or engine.needs_rebuild() or engine.stats()["documents"] != len(docs):
        engine.index_documents(docs)
    index_s = time.perf_counter() - t
    run: dict[str, list[str]] = {}
    t = time.perf_counter()
    for qid, text in queries.items():
        run[qid] = [h.id for h in engine.search(text, 1, pagelen=100).hits]
    query_ms = (time.perf_counter() - t) * 1000 / max(1, len(queries))
    return {
        **evaluate(run, qrels),
        "documents": len(docs),
        "queries": len(queries),
        "index_s": round(index_s, 1),
        "query_ms": round(query_ms, 1),
    }


def markdown(res: dict[str, Any]) -> str:
    """The results as a Markdown table."""
    lines = [
        f"# OpenSearch vs Whoosh: {res['documents']} articles, {res['queries']} queries",
        "",
        f"Cluster: {res['cluster']}",
        "",
        "| backend | rebuild | docs/s | search+snippets p50 / p95 / mean | index size "
        "| vocabulary |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in res["backends"].items():
        size = f"{(r.get('index_bytes') or 0) / 1e6:.0f} MB"
        if r.get("primary_bytes"):
            size = f"{r['primary_bytes'] / 1e6:.0f} MB primaries, {size} total"
        lines.append(
            f"| {name} | {r.get('rebuild_s', 'reused')} s | {r.get('docs_per_s', '-')} "
            f"| {r['search_p50_ms']} / {r['search_p95_ms']} / {r['search_mean_ms']} ms "
            f"| {size} | {r['vocabulary_s']} s |"
        )
    if "same_top10" in res:
        lines += ["", f"Same top 10 on both backends: {res['same_top10']}"]
    for name, e in res.get("eval", {}).items():
        lines += [
            "",
            f"{name} on OpenSearch ({e['documents']} docs, {e['queries']} questions): "
            f"MRR@10 {e['mrr@10']:.4f}, nDCG@10 {e['ndcg@10']:.4f}, "
            f"Recall@100 {e['recall@100']:.4f} ({e['query_ms']} ms/query)",
        ]
    return "\n".join(lines) + "\n"


def _child_args(args: argparse.Namespace) -> list[str]:
    out = ["--urls", args.urls, "--shards", str(args.shards), "--replicas", str(args.replicas)]
    out += ["--queries", args.queries, "--out", args.out]
    if args.docs:
        out += ["--docs", str(args.docs)]
    if args.rebuild:
        out.append("--rebuild")
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the comparison (each backend, and the evaluation, in a process of its own:
    learning words twice in one process would not learn the same ones, jieba's
    dictionary being one per process); print and write the results."""
    p = argparse.ArgumentParser(prog="python -m bench.opensearch_bench", description=__doc__)
    p.add_argument("--docs", type=int, default=None, help="only the first N articles")
    p.add_argument("--urls", default=os.environ.get("SEARCHAPP_OPENSEARCH_URL", DEFAULT_URLS))
    p.add_argument("--shards", type=int, default=2)
    p.add_argument("--replicas", type=int, default=1)
    p.add_argument("--only", choices=("whoosh", "opensearch"), default=None)
    p.add_argument("--rebuild", action="store_true", help="rebuild even if an index is there")
    p.add_argument("--eval", default=None, help="also rank this bench.eval set on OpenSearch")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--queries", default=str(QUERIES_FILE))
    p.add_argument("--out", default=str(Path(__file__).with_name("results")))
    args = p.parse_args(argv)
    label = f"68k-{args.docs}" if args.docs else "68k"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(f"/tmp/searchapp-bench-opensearch-{label}")
    work.mkdir(parents=True, exist_ok=True)
    queries = read_queries(Path(args.queries))
    if args.child:
        part = out / f"opensearch-{label}-{args.child}.json"
        if args.child.startswith("eval:"):
            found: dict[str, Any] = run_eval(args.child[5:], args)
        else:
            docs = list(iter_68k(limit=args.docs))
            engine = engine_for(args.child, work, args, f"bench-{label}")
            found = measure(engine, docs, queries, args.rebuild)
            found["documents"] = len(docs)
        part.write_text(json.dumps(found, ensure_ascii=False), encoding="utf-8")
        return found
    res: dict[str, Any] = {
        "documents": None,
        "queries": len(queries),
        "cluster": f"{args.urls} ({args.shards} shards, {args.replicas} replica(s))",
        "backends": {},
    }
    children = [b for b in ("whoosh", "opensearch") if not args.only or b == args.only]
    if args.eval:
        children.append(f"eval:{args.eval}")
    for child in children:
        print(f"{child} ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "bench.opensearch_bench", "--child", child, *_child_args(args)],
            check=True,
        )
        found = json.loads((out / f"opensearch-{label}-{child}.json").read_text(encoding="utf-8"))
        if child.startswith("eval:"):
            res.setdefault("eval", {})[child[5:]] = found
        else:
            res["documents"] = found.pop("documents")
            res["backends"][child] = found
    backends = res["backends"]
    if len(backends) == 2:
        a, b = backends["whoosh"]["_tops"], backends["opensearch"]["_tops"]
        same = sum(1 for q in queries if a[q] == b[q])
        res["same_top10"] = f"{same} of {len(queries)} queries"
        res["differing_queries"] = [q for q in queries if a[q] != b[q]]
    for r in backends.values():
        r.pop("_tops", None)
    (out / f"opensearch-{label}.json").write_text(
        json.dumps(res, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    md = markdown(res)
    (out / f"opensearch-{label}.md").write_text(md, encoding="utf-8")
    print(md)
    return res


if __name__ == "__main__":
    main()
