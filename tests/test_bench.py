"""Smoke tests for the benchmark harness and the ranking evaluator on tiny samples.

No timing assertions: they only check that every step runs and writes valid reports.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench import eval as bench_eval
from bench import run as bench_run

ARTICLES = {
    "a.txt": (
        "人工智能开源模型发布",
        "深度学习公司发布新的开源模型，支持中文和英文。DeepSeek 团队表示模型免费。",
    ),
    "b.txt": ("英伟达芯片出口受限", "美国限制 NVIDIA 芯片出口，英伟达股价下跌。"),
    "c.txt": ("港股科技股上涨", "恒生科技指数上涨，小米集团领涨。"),
    "d.txt": ("台灣半導體產業", "台積電擴大投資，人工智慧需求強勁。"),
    "e.txt": ("北京天气晴朗", "今天北京天气晴朗，气温回升。"),
}


def _corpus(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for n, (name, (title, body)) in enumerate(ARTICLES.items(), 1):
        text = f"{title}\n来源:测试社 2025年01月0{n}日 10时00分\n\n{body}\n"
        (dest / name).write_text(text, encoding="utf-8")
    return dest


def test_run_writes_json_and_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _corpus(tmp_path / "corpus")
    queries = tmp_path / "queries.txt"
    queries.write_text('# comment\n人工智能开源模型\nNVIDIA\n"恒生科技"\n', encoding="utf-8")
    out = tmp_path / "out"
    bench_run.main(
        [
            f"--corpus=dir:{corpus}",
            f"--queries={queries}",
            f"--out={out}",
            f"--workdir={tmp_path / 'work'}",
            "--runs=1",
            "--cold-reps=1",
            "--http-seconds=0",
            "--timeout=300",
        ]
    )
    res = json.loads((out / "latest.json").read_text(encoding="utf-8"))
    assert res["documents"] == len(ARTICLES)
    assert res["queries"] == 3
    assert set(res["engines"]) == {"ours", "tantivy", "fts5"}
    for e in res["engines"].values():
        assert e["full_index_s"] > 0 and e["index_bytes"] > 0
        assert e["queries_with_hits"] >= 2
    assert res["incremental"]["seen"]
    md = (out / "latest.md").read_text(encoding="utf-8")
    assert "| ours |" in md and "| tantivy |" in md and "| fts5 |" in md
    assert "| ours |" in capsys.readouterr().out


def test_eval_writes_metrics(tmp_path: Path) -> None:
    data = tmp_path / "set"
    (data / "qrels").mkdir(parents=True)
    docs = [{"_id": f"d{i}", "title": t, "text": b} for i, (t, b) in enumerate(ARTICLES.values())]
    queries = [
        {"_id": "q1", "text": "哪家公司发布了开源模型？"},
        {"_id": "q2", "text": "英伟达芯片出口"},
        {"_id": "q3", "text": "北京天气怎么样"},
    ]
    (data / "corpus.jsonl").write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8"
    )
    (data / "queries.jsonl").write_text(
        "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries), encoding="utf-8"
    )
    (data / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td0\t1\nq2\td1\t1\nq3\td4\t1\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    res = bench_eval.main([f"--set=dir:{data}", f"--out={out}", f"--workdir={tmp_path / 'work'}"])
    written = json.loads((out / "eval-dir.json").read_text(encoding="utf-8"))
    assert written["queries"] == 3 == res["queries"]
    for name in ("ours", "bm25"):
        m = written["engines"][name]
        for key in ("mrr@10", "ndcg@10", "recall@100"):
            assert 0.0 <= m[key] <= 1.0
        assert m["mrr@10"] > 0.5  # each question names its article's words
    assert "| bm25 |" in (out / "eval-dir.md").read_text(encoding="utf-8")


def test_metrics() -> None:
    rel = {"a": 1.0}
    assert bench_eval.metrics(["x", "a"], rel)["mrr@10"] == 0.5
    assert bench_eval.metrics(["a"], rel)["ndcg@10"] == 1.0
    assert bench_eval.metrics(["x"] * 5, rel)["recall@100"] == 0.0


def test_memory_reports_each_gunicorn_worker(
    built: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import sys

    from bench import memory

    corpus, index = built
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = ["memory", "--index", str(index), "--corpus", str(corpus)]
    monkeypatch.setattr(sys, "argv", [*argv, "--port", str(port), "--limit", "10"])
    memory.main()
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "MB" in line]
    assert [row.split()[1] for row in rows] == ["worker", "worker", "master"]
    assert re.search(r"The server in all \(PSS of the master and the workers\): \d+ MB", out)
    for row in rows:
        rss_after = float(row.split("|")[3].split()[0])
        private = float(row.split("|")[5].split()[0])
        assert 0 < private <= rss_after
