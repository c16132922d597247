"""gunicorn settings, read automatically when gunicorn starts in this folder.

The settings are checked once in the master before any worker starts, so a missing
corpus stops the server with one line instead of workers failing to boot one by one.

The app is loaded in the master (``preload_app``) and prepared there once: the segmenter
and the suggestion vocabulary, most of what a worker holds, are then shared by the
workers (copy-on-write pages of one process) instead of each worker loading its own.
Each worker still opens its own index searchers and cluster connections. ``gc.freeze``
before each fork keeps the collector from touching (and so copying) those shared objects.
"""

import gc
import sys
from pathlib import Path

# Not named `config`: gunicorn reads every module-level name that is one of its settings.
from searchapp import config as _settings

bind = "127.0.0.1:8000"
workers = 2
accesslog = "-"
preload_app = True


def _check_settings() -> None:
    """Stop at start, with one line, when a setting cannot work: here, as gunicorn reads
    this file, because the master loads the app (and would fail there) right after."""
    try:
        _settings.check_corpus_dir(Path(_settings.env_setting("CORPUS_DIR")))
        _settings.check_index_dir(Path(_settings.env_setting("INDEX_DIR")))
    except _settings.ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


_check_settings()


def when_ready(server: object) -> None:
    """In the master, before the first worker: prepare the app every worker will share."""
    from searchapp.web import preload

    preload(server.app.wsgi())  # type: ignore[attr-defined]


def pre_fork(server: object, worker: object) -> None:
    """Before each worker is forked: what the master has loaded stays shared."""
    gc.freeze()
