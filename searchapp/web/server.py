"""The built-in web server of ``python -m searchapp serve``: Werkzeug's, with a fixed pool
of threads.

Werkzeug's threaded server starts a new thread per request. The search engine keeps one
Whoosh searcher per thread (searchers are not thread-safe), so every request paid for
opening one (20-120 ms, by index size). Here the threads live as long as the server and
each keeps its searcher. For several processes, use gunicorn (see the README).
"""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from werkzeug.serving import BaseWSGIServer

#: Requests served at once; more wait in the pool's queue.
THREADS = 8


class PooledWSGIServer(BaseWSGIServer):
    """A Werkzeug WSGI server that hands each request to one of ``threads`` threads."""

    multithread = True

    def __init__(self, host: str, port: int, app: Any, threads: int = THREADS) -> None:
        super().__init__(host, port, app)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="searchapp")

    def process_request(self, request: Any, client_address: Any) -> None:
        self._pool.submit(self._serve_one, request, client_address)

    def _serve_one(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


def make_pooled_server(host: str, port: int, app: Any, threads: int = THREADS) -> PooledWSGIServer:
    """A server for ``app`` on ``host:port``; call ``serve_forever()`` on it."""
    return PooledWSGIServer(host, port, app, threads)


def serve(app: Any, host: str, port: int, threads: int = THREADS) -> None:
    """Serve ``app`` until interrupted."""
    server = make_pooled_server(host, port, app, threads)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
