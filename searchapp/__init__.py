"""searchapp: Chinese full-text search over a folder of news articles.

Layers, imported one way: ``web`` and ``cli`` (the shells) call ``engine`` (search policy)
and ``indexing``; both speak to an index only through ``backends.base`` (the Backend
protocol), which ``backends.whoosh`` implements; ``text`` (analysis, query parsing,
snippets) and ``documents`` (reading articles) know no backend. Importing the package
does not import Flask: a search from the command line stays quick to load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The Flask application (see :func:`searchapp.web.app.create_app`)."""
    from searchapp.web.app import create_app as factory

    return factory(test_config)


def serve(settings: dict[str, Any], host: str, port: int) -> None:
    """Serve the app with ``settings`` on ``host:port`` until interrupted (the built-in
    server of ``python -m searchapp serve``; see :mod:`searchapp.web.server`)."""
    from searchapp.web.server import serve as run

    # WARM_UP: the suggestion vocabulary starts building now, not at the first request.
    run(create_app({**settings, "WARM_UP": True}), host, port)
