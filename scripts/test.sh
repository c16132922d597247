#!/usr/bin/env bash
# Set up and test: Debian's Chromium for the browser tests (apt, as root), the dev
# dependencies into .venv, then lint and the whole test suite. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    echo "The browser tests need Debian's chromium: sudo apt-get install chromium fonts-noto-cjk" >&2
  fi
fi
source scripts/_venv.sh requirements-dev.txt
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
