"""gunicorn settings, read automatically when gunicorn starts in this folder.

The settings are checked once in the master before any worker starts, so a missing
corpus stops the server with one line instead of workers failing to boot one by one.
"""

import sys
from pathlib import Path

# Not named `config`: gunicorn reads every module-level name that is one of its settings.
from searchapp import config as _settings

bind = "127.0.0.1:8000"
workers = 2
accesslog = "-"


def on_starting(server: object) -> None:
    """Stop at start, with one line, when a setting cannot work."""
    try:
        _settings.check_corpus_dir(Path(_settings.env_setting("CORPUS_DIR")))
        _settings.check_index_dir(Path(_settings.env_setting("INDEX_DIR")))
    except _settings.ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
