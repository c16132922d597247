"""The search policy over any backend: :class:`Engine`, and :func:`open_engine` to make
one from the settings (the web app, the CLI and the benchmark all start here)."""

from __future__ import annotations

from searchapp import config
from searchapp.backends import open_backend
from searchapp.backends.base import (
    IndexBusy,
    IndexCorrupt,
    IndexStale,
    IndexUnavailable,
    ServiceUnavailable,
)
from searchapp.engine.search import RANKING, Engine
from searchapp.text.analysis import Analyzer

__all__ = [
    "Engine",
    "IndexBusy",
    "IndexCorrupt",
    "IndexStale",
    "IndexUnavailable",
    "ServiceUnavailable",
    "open_engine",
]


def open_engine(settings: config.Settings) -> Engine:
    """An engine over the index ``settings`` describe. Searching needs only the index (it
    keeps the analysis and synonyms it was built with); the corpus's user dictionary is
    what ``rebuild`` builds with."""
    analyzer = Analyzer.from_file(config.userdict_path(settings.corpus_dir))
    backend = open_backend(settings, analyzer, RANKING)
    return Engine(backend, analyzer, page_size=settings.page_size)
