#!/usr/bin/env bash
# Set up and test: Debian's Chromium for the browser tests (apt, as root), the dev
# dependencies into .venv, a two-node OpenSearch cluster for the OpenSearch backend's
# tests (scripts/opensearch.sh: fetched from Maven Central once, stopped at the end, also
# when a step fails), then lint, mypy and the whole test suite. Extra args go to pytest.
#
# The cluster is this run's own: its own folder (SEARCHAPP_OPENSEARCH_WORK, removed at the
# end) and the first free ports from 9210 (HTTP) / 9310 (transport), so another run, or a
# cluster started with scripts/opensearch.sh, is left alone. With
# SEARCHAPP_TEST_OPENSEARCH_URL already set, that cluster is used and none is started (its
# nodes must run on this machine, from SEARCHAPP_OPENSEARCH_WORK, for the node-failure test).
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
    case "$SEARCHAPP_OPENSEARCH_WORK" in
      /tmp/searchapp-opensearch-test-*) rm -rf "$SEARCHAPP_OPENSEARCH_WORK" ;;
    esac
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

port_free() {
  if command -v ss >/dev/null 2>&1; then
    ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .
  else
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

if [ -z "${SEARCHAPP_TEST_OPENSEARCH_URL:-}" ]; then
  # A cluster of this run's own (its folder, free ports): another run on the machine, or
  # a cluster someone started with scripts/opensearch.sh, is left alone.
  export SEARCHAPP_OPENSEARCH_WORK="${SEARCHAPP_OPENSEARCH_WORK:-/tmp/searchapp-opensearch-test-$$}"
  if [ -z "${SEARCHAPP_OPENSEARCH_HTTP_PORT:-}" ]; then
    for base in $(seq 9210 10 9990); do
      if port_free "$base" && port_free "$((base + 1))" &&
        port_free "$((base + 100))" && port_free "$((base + 101))"; then
        export SEARCHAPP_OPENSEARCH_HTTP_PORT="$base"
        export SEARCHAPP_OPENSEARCH_TRANSPORT_PORT="$((base + 100))"
        break
      fi
    done
  fi
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
