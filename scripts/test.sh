#!/usr/bin/env bash
# Set up and test: Debian's Chromium for the browser tests (apt, as root), the dev
# dependencies into .venv, a two-node OpenSearch cluster for the OpenSearch backend's
# tests (scripts/opensearch.sh: fetched from Maven Central once, stopped at the end, also
# when a step fails), then lint, mypy and the whole test suite. Extra args go to pytest.
#
# With SEARCHAPP_TEST_OPENSEARCH_URL already set, that cluster is used and none is started
# (its nodes must run on this machine for the node-failure test).
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER_PID=""
CLUSTER_OUT=""
STARTED=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$CLUSTER_PID" ] && kill -0 "$CLUSTER_PID" 2>/dev/null; then
    kill -TERM "$CLUSTER_PID" 2>/dev/null || true # its own trap stops what it started
    wait "$CLUSTER_PID" 2>/dev/null || true
  fi
  if [ "$STARTED" = 1 ]; then
    bash scripts/opensearch.sh stop || true
  fi
  [ -n "$CLUSTER_OUT" ] && rm -f "$CLUSTER_OUT"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    echo "The browser tests need Debian's chromium: sudo apt-get install chromium fonts-noto-cjk" >&2
  fi
fi

if [ -z "${SEARCHAPP_TEST_OPENSEARCH_URL:-}" ]; then
  # In the background, while the venv and lint run (it takes half a minute); after apt:
  # the script may apt-get Java and Maven itself.
  CLUSTER_OUT="$(mktemp)"
  STARTED=1
  bash scripts/opensearch.sh start 2 </dev/null >"$CLUSTER_OUT" &
  CLUSTER_PID=$!
fi

source scripts/_venv.sh requirements-dev.txt
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

if [ -n "$CLUSTER_PID" ]; then
  if ! wait "$CLUSTER_PID"; then
    CLUSTER_PID=""
    echo "test.sh: the OpenSearch test cluster did not start (see above)" >&2
    exit 1
  fi
  CLUSTER_PID=""
  SEARCHAPP_TEST_OPENSEARCH_URL="$(tail -n 1 "$CLUSTER_OUT")"
  export SEARCHAPP_TEST_OPENSEARCH_URL
  echo "test.sh: OpenSearch test cluster at $SEARCHAPP_TEST_OPENSEARCH_URL" >&2
fi
.venv/bin/python -m pytest "$@"
