"""Benchmark harness and ranking-quality evaluation for searchapp (not part of the app).

* ``python -m bench.run``: our engine against tantivy-py and SQLite FTS5 on the same
  documents, segmentation and queries (index time, RSS, size, latency, cold start,
  incremental update). See ``bench/README.md``.
* ``python -m bench.eval``: MRR@10, nDCG@10, Recall@100 on the shared evaluation sets.
"""
