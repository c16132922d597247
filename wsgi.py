"""WSGI entry point: ``gunicorn -w 2 -b 127.0.0.1:8000 wsgi:app``.

Settings come from ``SEARCHAPP_CORPUS_DIR`` / ``SEARCHAPP_INDEX_DIR``. A setting that
cannot work stops the server at start with one line on stderr.
"""

import sys
from pathlib import Path

from searchapp import config, create_app

#: gunicorn stops the whole server when a worker exits with this code while booting
#: (WORKER_BOOT_ERROR) instead of restarting it in a loop.
BOOT_ERROR = 3

try:
    config.check_corpus_dir(Path(config.env_setting("CORPUS_DIR")))
    config.check_index_dir(Path(config.env_setting("INDEX_DIR")))
except config.ConfigError as exc:
    print(f"Error: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(BOOT_ERROR) from None

app = create_app()
