"""Ranking quality: MRR@10, nDCG@10 and Recall@100 of our engine and a plain BM25 baseline.

    python -m bench.eval [--set cmrc2018|news-68k|dir:PATH] [--engine ours|bm25|all]

* ``cmrc2018``: ``../shared/eval/cmrc2018`` (``corpus.jsonl`` with _id/title/text,
  ``queries.jsonl``, ``qrels/test.tsv``). ``dir:PATH`` reads the same layout elsewhere.
* ``news-68k``: ``../shared/eval/news-68k`` (``queries.jsonl``, ``qrels.silver.tsv``) over
  ``../shared/corpus/news-68k.jsonl.gz`` (title = first sentence, as in the benchmark).

``ours`` indexes the documents with :meth:`searchapp.engine.Engine.index_documents` into a work
folder (reused when it already holds the same number of documents) and ranks with
``Engine.search(query, pagelen=100)``. ``bm25`` is ``rank_bm25.BM25Okapi`` over
``jieba.lcut`` tokens of title + text (lowercased, punctuation and spaces dropped), queries
segmented the same way. Results go to ``--out`` as ``eval-<set>.json``/``.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from collections import defaultdict
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench.corpus import SHARED, iter_68k
from searchapp.documents import Document

EVAL_DIR = SHARED / "eval"


# -- data ------------------------------------------------------------------------------


def _jsonl(path: Path):
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def load_set(name: str, limit: int | None = None, seed: int = 0):
    """(documents, {qid: query}, {qid: {docid: gain}}) of an evaluation set."""
    qrels: dict[str, dict[str, float]] = defaultdict(dict)
    if name == "news-68k":
        base = EVAL_DIR / "news-68k"
        docs = list(iter_68k())
        queries = {q["qid"]: q["query"] for q in _jsonl(base / "queries.jsonl")}
        with open(base / "qrels.silver.tsv", encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) == 4 and parts[3] != "score":
                    qrels[parts[0]][parts[2]] = float(parts[3])
    else:
        base = Path(name[4:]) if name.startswith("dir:") else EVAL_DIR / name
        docs = [
            Document(id=d["_id"], title=d.get("title") or "", body=d.get("text") or "")
            for d in _jsonl(base / "corpus.jsonl")
        ]
        queries = {q["_id"]: q["text"] for q in _jsonl(base / "queries.jsonl")}
        with open(base / "qrels" / "test.tsv", encoding="utf-8") as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 3 and parts[0] != "query-id":
                    qrels[parts[0]][parts[1]] = float(parts[2])
    queries = {q: t for q, t in queries.items() if q in qrels and any(qrels[q].values())}
    if limit and len(queries) > limit:
        keys = sorted(queries)
        random.Random(seed).shuffle(keys)
        queries = {k: queries[k] for k in sorted(keys[:limit])}
    return docs, queries, dict(qrels)


# -- metrics ---------------------------------------------------------------------------


def metrics(ranked: list[str], rel: dict[str, float]) -> dict[str, float]:
    """MRR@10, nDCG@10 (graded gains, log2 discount) and Recall@100 of one ranking."""
    relevant = {d for d, g in rel.items() if g > 0}
    mrr = next((1 / (i + 1) for i, d in enumerate(ranked[:10]) if d in relevant), 0.0)
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted((g for g in rel.values() if g > 0), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    recall = len(relevant & set(ranked[:100])) / len(relevant) if relevant else 0.0
    return {"mrr@10": mrr, "ndcg@10": dcg / idcg if idcg else 0.0, "recall@100": recall}


def evaluate(run: dict[str, list[str]], qrels: dict[str, dict[str, float]]) -> dict[str, float]:
    """Mean of each metric over the queries in ``run``."""
    per = [metrics(ranked, qrels[q]) for q, ranked in run.items()]
    n = len(per) or 1
    return {k: sum(p[k] for p in per) / n for k in ("mrr@10", "ndcg@10", "recall@100")}


# -- engines ---------------------------------------------------------------------------


def run_ours(
    docs, queries, work: Path, rebuild: bool = False, learn: bool = True
) -> tuple[dict, dict]:
    """Index into ``work/idx-ours`` (``idx-ours-no-learn`` without learning words from
    the documents; reused if complete) and rank the top 100."""
    from searchapp.config import Settings
    from searchapp.engine import open_engine

    index_dir = work / ("idx-ours" if learn else "idx-ours-no-learn")
    timing: dict[str, Any] = {}
    engine = open_engine(Settings(corpus_dir=work, index_dir=index_dir))
    current = None if engine.needs_rebuild() else engine.stats()["documents"]
    if rebuild or current != len(docs):
        t = time.perf_counter()
        engine.index_documents(docs, learn=learn)
        timing["index_s"] = time.perf_counter() - t
    else:
        timing["index_s"] = None  # reused
    run: dict[str, list[str]] = {}
    t = time.perf_counter()
    for qid, text in queries.items():
        run[qid] = [h.id for h in engine.search(text, 1, pagelen=100).hits]
    timing["query_ms"] = (time.perf_counter() - t) * 1000 / max(1, len(queries))
    return run, timing


def _bm25_tokens(text: str) -> list[str]:
    import jieba

    return [w.lower() for w in jieba.lcut(text) if any(c.isalnum() for c in w)]


def run_bm25(docs, queries) -> tuple[dict, dict]:
    """rank_bm25.BM25Okapi over jieba.lcut tokens; top 100 by score."""
    import jieba
    import numpy as np
    from rank_bm25 import BM25Okapi

    jieba.setLogLevel(60)
    jieba.initialize()
    timing: dict[str, Any] = {}
    t = time.perf_counter()
    texts = [f"{d.title}\n{d.body}" for d in docs]
    procs = min(2, os.cpu_count() or 1)
    if len(texts) > 2000 and procs > 1:
        with get_context("fork").Pool(procs) as pool:
            tokenized = pool.map(_bm25_tokens, texts, chunksize=64)
    else:
        tokenized = [_bm25_tokens(x) for x in texts]
    bm25 = BM25Okapi(tokenized)
    del tokenized
    timing["index_s"] = time.perf_counter() - t
    ids = [d.id for d in docs]
    run: dict[str, list[str]] = {}
    t = time.perf_counter()
    for qid, text in queries.items():
        scores = bm25.get_scores(_bm25_tokens(text))
        k = min(100, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        run[qid] = [ids[i] for i in top if scores[i] > 0]
    timing["query_ms"] = (time.perf_counter() - t) * 1000 / max(1, len(queries))
    return run, timing


# -- entry -----------------------------------------------------------------------------


def markdown(res: dict[str, Any]) -> str:
    """A Markdown table of the results."""
    lines = [
        f"# Ranking quality: {res['set']} ({res['documents']} documents, {res['queries']} queries)",
        "",
        "| engine | MRR@10 | nDCG@10 | Recall@100 | index s | ms/query |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in res["engines"].items():
        idx = r["timing"]["index_s"]
        lines.append(
            f"| {name} | {r['mrr@10']:.4f} | {r['ndcg@10']:.4f} | {r['recall@100']:.4f}"
            f" | {'reused' if idx is None else f'{idx:.1f}'} | {r['timing']['query_ms']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Evaluate, print a table, write ``eval-<set>.json`` and ``.md`` into ``--out``."""
    p = argparse.ArgumentParser(prog="python -m bench.eval", description=__doc__.split("\n")[0])
    p.add_argument("--set", default="cmrc2018", help="cmrc2018 | news-68k | dir:PATH")
    p.add_argument("--engine", default="all", choices=("ours", "bm25", "all"))
    p.add_argument("--limit", type=int, default=None, help="evaluate a sample of queries")
    p.add_argument("--workdir", default=None, help="where our index is kept")
    p.add_argument("--rebuild", action="store_true", help="rebuild our index even if present")
    p.add_argument("--out", default=str(Path(__file__).with_name("results")))
    p.add_argument(
        "--no-learn",
        action="store_true",
        help="ours without words learned from the documents (reported as ours-no-learn)",
    )
    p.add_argument("--run-out", default=None, help="write our ranking of each query (JSON)")
    args = p.parse_args(argv)
    docs, queries, qrels = load_set(args.set, args.limit)
    label = "dir" if args.set.startswith("dir:") else args.set
    work = Path(args.workdir or f"/tmp/searchapp-eval-{label}")
    work.mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"eval-{label}.json"
    res: dict[str, Any] = {"set": args.set, "documents": len(docs), "queries": len(queries)}
    old = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    engines = old.get("engines", {}) if old.get("queries") == len(queries) else {}
    for name in ("ours", "bm25") if args.engine == "all" else (args.engine,):
        print(f"{name}: ranking {len(queries)} queries over {len(docs)} documents ...", flush=True)
        if name == "ours":
            run, timing = run_ours(docs, queries, work, args.rebuild, not args.no_learn)
            if args.run_out:
                Path(args.run_out).write_text(json.dumps(run, ensure_ascii=False), "utf-8")
        else:
            run, timing = run_bm25(docs, queries)
        key = "ours-no-learn" if name == "ours" and args.no_learn else name
        engines[key] = {**evaluate(run, qrels), "timing": timing}
        res["engines"] = engines  # written after each engine: a timeout keeps what finished
        path.write_text(json.dumps(res, indent=2, ensure_ascii=False), encoding="utf-8")
        md = markdown(res)
        (out / f"eval-{label}.md").write_text(md, encoding="utf-8")
    print(md)
    return res


if __name__ == "__main__":
    main()
