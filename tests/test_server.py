"""The built-in server (``python -m searchapp serve``): a fixed pool of request threads."""

from __future__ import annotations

import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from searchapp.config import userdict_path
from searchapp.engine import search as searcher_module
from searchapp.engine.search import Engine
from searchapp.web.server import make_pooled_server


def thread_name_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [threading.current_thread().name.encode()]


def test_requests_are_served_by_a_few_long_lived_threads() -> None:
    server = make_pooled_server("127.0.0.1", 0, thread_name_app, threads=3)
    loop = threading.Thread(target=server.serve_forever, daemon=True)
    loop.start()
    url = f"http://127.0.0.1:{server.server_port}/"
    try:

        def get(_: int) -> str:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.read().decode()

        with ThreadPoolExecutor(6) as clients:
            names = list(clients.map(get, range(40)))
    finally:
        server.shutdown()
        server.server_close()
    assert len(names) == 40
    assert all(n.startswith("searchapp") for n in names)
    # Werkzeug's threaded server would have used 40 threads, each opening a searcher.
    assert 1 <= len(set(names)) <= 3


def test_threads_share_what_is_derived_from_the_index(
    built: tuple[Path, Path], monkeypatch
) -> None:
    corpus, index = built
    engine = Engine(index, userdict=userdict_path(corpus))
    built_dates = []
    real = searcher_module._DateColumn.array

    def counting(self) -> np.ndarray:
        built_dates.append(threading.current_thread().name)
        return real(self)

    monkeypatch.setattr(searcher_module._DateColumn, "array", counting)
    results = []

    def search() -> None:
        results.append([h.id for h in engine.search("寒潮", sort="newest").hits])

    for _ in range(3):
        t = threading.Thread(target=search)
        t.start()
        t.join()
    assert (
        results
        == [
            [
                "dup/weather-2025-01-07.txt",
                "dup/weather-2025-01-06.txt",
                "dup/weather-2025-01-05.txt",
            ]
        ]
        * 3
    )
    assert len(built_dates) == 1  # once for the index generation, not once per thread


def test_serve_builds_the_suggestion_vocabulary_before_the_first_request(
    built: tuple[Path, Path],
) -> None:
    from searchapp import create_app
    from searchapp.engine import suggest
    from searchapp.web import warm_up

    corpus, index = built
    owner = suggest.owner_for(index)
    suggest._cache.pop(owner, None)  # as in a new process
    suggest._refresh_started.pop(owner, None)
    suggest._refreshing.pop(owner, None)
    config = {"CORPUS_DIR": str(corpus), "INDEX_DIR": str(index)}
    create_app(config)
    assert suggest._refreshing.get(owner) is None  # without WARM_UP, at the first request
    app = create_app({**config, "WARM_UP": True})  # what `serve` does
    thread = suggest._refreshing[owner]
    thread.join(timeout=60)
    vocab = suggest.peek(owner)
    assert vocab is not None and vocab.df["人工智能"] > 0
    assert warm_up(app) is None  # once per app
