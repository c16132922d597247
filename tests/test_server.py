"""The built-in server (``python -m searchapp serve``): a fixed pool of request threads."""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import engine_for

from searchapp.backends.whoosh import backend as whoosh_backend
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
    engine = engine_for(corpus, index)
    built_dates = []
    real = whoosh_backend.WhooshBackend.derived

    def counting(self, reader, what, build):
        def counted():
            if what == ("dates",):
                built_dates.append(threading.current_thread().name)
            return build()

        return real(self, reader, what, counted)

    monkeypatch.setattr(whoosh_backend.WhooshBackend, "derived", counting)
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
    from searchapp.web import warm_up

    corpus, index = built
    config = {"CORPUS_DIR": str(corpus), "INDEX_DIR": str(index)}
    plain = create_app(config)
    assert plain.extensions["searchapp"].vocabulary.peek() is None  # built at the first request
    app = create_app({**config, "WARM_UP": True})  # what `serve` does
    engine = app.extensions["searchapp"]
    assert engine.vocabulary.peek() is not None  # the saved one, loaded before serving
    engine.vocabulary.wait(60)
    vocab = engine.vocabulary.peek()
    assert vocab is not None and vocab.df["人工智能"] > 0
    assert warm_up(app) is None  # once per app


WARM_SCRIPT = """
import sys
from searchapp import create_app
app = create_app({"CORPUS_DIR": sys.argv[1], "INDEX_DIR": sys.argv[2], "WARM_UP": True})
engine = app.extensions["searchapp"]
with engine.pinned():
    ready = engine.view().analyzer._ready
print(ready, engine.vocabulary.peek() is not None, len(app.jinja_env.cache or {}) >= 3)
"""


def test_serve_prepares_the_first_request_before_it_comes(built: tuple[Path, Path]) -> None:
    """A fresh server process: segmenter set up, vocabulary loaded, templates compiled."""
    corpus, index = built
    out = subprocess.run(
        [sys.executable, "-c", WARM_SCRIPT, str(corpus), str(index)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert out.split() == ["True", "True", "True"]
