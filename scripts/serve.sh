#!/usr/bin/env bash
# Set up and run: install the dependencies into .venv, build the index from corpus/ if it is
# missing or stale, and serve the search page on http://127.0.0.1:5000/ (HOST/PORT to change).
set -euo pipefail
source "$(dirname "$0")/_venv.sh" requirements.txt
exec .venv/bin/python -m searchapp serve --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}" "$@"
