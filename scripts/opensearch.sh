#!/usr/bin/env bash
# A throw-away local OpenSearch cluster for tests, fetched from Maven Central.
#
#   bash scripts/opensearch.sh start [NODES]   # default 1 node; last stdout line: the URLs
#   bash scripts/opensearch.sh stop            # stop the nodes this script started
#   bash scripts/opensearch.sh status          # which nodes run, and the cluster's health
#   bash scripts/opensearch.sh urls            # the URLs of the running nodes (one line)
#   bash scripts/opensearch.sh fetch           # only download (e.g. to warm a cache)
#
# What it runs: the integration-test distribution of OpenSearch
# (org.opensearch.distribution.integ-test-zip:opensearch:VERSION:zip, a runnable node
# with no bundled JDK and only the transport-netty4 module), completed with the
# analysis-common, lang-painless, mapper-extras and reindex modules, whose jars Maven
# Central serves (org.opensearch.plugin:*). Nothing else is downloaded; no security
# plugin. Everything is fetched once into the cache folder and reused.
#
# Nodes: node-0 .. node-(N-1), HTTP on 127.0.0.1:9200+i, transport on 127.0.0.1:9300+i,
# cluster "searchapp-test", heap 512 MiB each, run as the system user searchapp-os
# (OpenSearch refuses root) from ${SEARCHAPP_OPENSEARCH_WORK}/node-i, which a start wipes.
#
# Environment (all optional):
#   SEARCHAPP_OPENSEARCH_CACHE      download cache   (default ~/.cache/searchapp-opensearch)
#   SEARCHAPP_OPENSEARCH_WORK       node folders     (default /tmp/searchapp-opensearch)
#   SEARCHAPP_OPENSEARCH_VERSION    OpenSearch version (default 2.19.6; needs Java 11..23)
#   SEARCHAPP_OPENSEARCH_JAVA_HOME  the JDK/JRE to run it with (default: found)
#   SEARCHAPP_OPENSEARCH_HEAP       heap per node    (default 512m)
#   SEARCHAPP_OPENSEARCH_HTTP_PORT  first HTTP port  (default 9200)
#   SEARCHAPP_OPENSEARCH_TRANSPORT_PORT first transport port (default 9300)
#   SEARCHAPP_OPENSEARCH_TIMEOUT    seconds to wait for the cluster (default 180)
#   SEARCHAPP_OPENSEARCH_USER       the user the nodes run as (default searchapp-os)
set -euo pipefail

VERSION="${SEARCHAPP_OPENSEARCH_VERSION:-2.19.6}"
CACHE="${SEARCHAPP_OPENSEARCH_CACHE:-${HOME:-/root}/.cache/searchapp-opensearch}"
WORK="${SEARCHAPP_OPENSEARCH_WORK:-/tmp/searchapp-opensearch}"
HEAP="${SEARCHAPP_OPENSEARCH_HEAP:-512m}"
HTTP_BASE="${SEARCHAPP_OPENSEARCH_HTTP_PORT:-9200}"
TRANSPORT_BASE="${SEARCHAPP_OPENSEARCH_TRANSPORT_PORT:-9300}"
TIMEOUT="${SEARCHAPP_OPENSEARCH_TIMEOUT:-180}"
OS_USER="${SEARCHAPP_OPENSEARCH_USER:-searchapp-os}"
CLUSTER_NAME="searchapp-test"
HOST="127.0.0.1"
MAX_NODES=9

# Modules added to the distribution: name, then the Maven coordinates of its jars.
MODULES=(analysis-common lang-painless mapper-extras reindex)
module_artifacts() {
  case "$1" in
    analysis-common) echo "org.opensearch.plugin:analysis-common:$VERSION" ;;
    lang-painless)
      echo "org.opensearch.plugin:lang-painless:$VERSION"
      echo "org.opensearch.plugin:opensearch-scripting-painless-spi:$VERSION"
      echo "org.antlr:antlr4-runtime:4.13.1"
      local a
      for a in asm asm-util asm-tree asm-commons asm-analysis; do echo "org.ow2.asm:$a:9.7"; done
      ;;
    mapper-extras) echo "org.opensearch.plugin:mapper-extras-client:$VERSION" ;;
    reindex)
      echo "org.opensearch.plugin:reindex-client:$VERSION"
      echo "org.opensearch.client:opensearch-rest-client:$VERSION"
      echo "org.opensearch:opensearch-ssl-config:$VERSION"
      echo "org.apache.httpcomponents:httpclient:4.5.14"
      echo "org.apache.httpcomponents:httpcore:4.4.16"
      echo "org.apache.httpcomponents:httpasyncclient:4.1.5"
      echo "org.apache.httpcomponents:httpcore-nio:4.4.16"
      echo "commons-codec:commons-codec:1.18.0"
      echo "commons-logging:commons-logging:1.2"
      ;;
  esac
}
# name|classname|description|extended plugins
module_descriptor() {
  case "$1" in
    analysis-common) echo "analysis-common|org.opensearch.analysis.common.CommonAnalysisPlugin|Adds analysis components to OpenSearch|lang-painless" ;;
    lang-painless) echo "lang-painless|org.opensearch.painless.PainlessPlugin|An easy, safe and fast scripting language for OpenSearch|" ;;
    mapper-extras) echo "mapper-extras|org.opensearch.index.mapper.MapperExtrasPlugin|Adds advanced field mappers|" ;;
    reindex) echo "reindex|org.opensearch.index.reindex.ReindexPlugin|The Reindex module adds APIs to reindex from one index to another or update documents in place.|" ;;
  esac
}
module_policy() {
  case "$1" in
    lang-painless) printf '%s\n' 'grant {' \
      '  permission java.lang.RuntimePermission "createClassLoader";' \
      '  permission java.lang.RuntimePermission "getClassLoader";' '};' ;;
    reindex) printf '%s\n' 'grant {' '  permission java.net.SocketPermission "*", "connect";' '};' ;;
  esac
}

log() { echo "opensearch.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

is_root() { [ "$(id -u)" = 0 ]; }

# ---------------------------------------------------------------------------- tools
java_major() { # JAVA_HOME -> major version, or nothing
  local out
  out="$("$1/bin/java" -version 2>&1 | head -n 1)" || return 0
  out="${out#*version \"}"
  out="${out%%\"*}"
  case "$out" in
    1.*) out="${out#1.}" ;;
  esac
  echo "${out%%[.+-]*}"
}

# OpenSearch 2.x needs Java 11..23 (it runs under the security manager, gone in 24);
# 3.x needs Java 21+.
java_ok() {
  local major
  major="$(java_major "$1")"
  [ -n "$major" ] || return 1
  case "$VERSION" in
    2.*) [ "$major" -ge 11 ] && [ "$major" -le 23 ] ;;
    *) [ "$major" -ge 21 ] ;;
  esac
}

find_java_home() {
  local c candidates=()
  [ -n "${SEARCHAPP_OPENSEARCH_JAVA_HOME:-}" ] && candidates+=("$SEARCHAPP_OPENSEARCH_JAVA_HOME")
  [ -n "${OPENSEARCH_JAVA_HOME:-}" ] && candidates+=("$OPENSEARCH_JAVA_HOME")
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    c="$(readlink -f "$(command -v java)")"
    candidates+=("${c%/bin/java}")
  fi
  for c in /usr/lib/jvm/java-17-openjdk-* /usr/lib/jvm/java-21-openjdk-* /usr/lib/jvm/*; do
    [ -d "$c" ] && candidates+=("$c")
  done
  for c in "${candidates[@]}"; do
    if [ -x "$c/bin/java" ] && java_ok "$c"; then
      readlink -f "$c"
      return 0
    fi
  done
  return 1
}

ensure_tools() {
  local missing=()
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v unzip >/dev/null 2>&1 || missing+=(unzip)
  find_java_home >/dev/null || missing+=(openjdk-17-jre-headless)
  if [ "${#missing[@]}" -gt 0 ]; then
    is_root || die "missing: ${missing[*]} (install them, e.g. apt-get install ${missing[*]})"
    log "installing ${missing[*]} with apt-get"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  fi
  JAVA_HOME_OS="$(find_java_home)" || die "no Java 11..23 found for OpenSearch $VERSION (set SEARCHAPP_OPENSEARCH_JAVA_HOME)"
}

# ---------------------------------------------------------------------------- fetch
CACHE_DIR="$CACHE/$VERSION"

fetch() {
  if [ -f "$CACHE_DIR/.complete" ]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || ensure_tools
  log "fetching OpenSearch $VERSION from Maven Central into $CACHE_DIR (once)"
  local t0=$SECONDS tmp items="" m coord g a v
  mkdir -p "$CACHE"
  rm -rf "$CACHE_DIR" "$CACHE_DIR.part"
  mkdir -p "$CACHE_DIR.part/modules"
  tmp="$CACHE_DIR.part/.mvn"
  mkdir -p "$tmp"
  item() { # groupId artifactId version type outputDirectory
    items+="<artifactItem><groupId>$1</groupId><artifactId>$2</artifactId><version>$3</version>"
    items+="<type>$4</type><outputDirectory>$5</outputDirectory></artifactItem>"
  }
  item org.opensearch.distribution.integ-test-zip opensearch "$VERSION" zip "$CACHE_DIR.part"
  for m in "${MODULES[@]}"; do
    while read -r coord; do
      IFS=: read -r g a v <<<"$coord"
      item "$g" "$a" "$v" jar "$CACHE_DIR.part/modules/$m"
    done < <(module_artifacts "$m")
  done
  cat >"$tmp/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>searchapp.local</groupId>
  <artifactId>opensearch-fetch</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>3.6.1</version>
        <configuration>
          <artifactItems>$items</artifactItems>
          <overWriteReleases>true</overWriteReleases>
        </configuration>
      </plugin>
    </plugins>
  </build>
</project>
EOF
  if ! mvn -B -q -f "$tmp/pom.xml" dependency:copy >"$tmp/mvn.log" 2>&1; then
    grep -E 'ERROR|Could not' "$tmp/mvn.log" | head -n 20 >&2 || tail -n 20 "$tmp/mvn.log" >&2
    die "could not fetch OpenSearch $VERSION from Maven Central (log: $tmp/mvn.log)"
  fi
  [ -f "$CACHE_DIR.part/opensearch-$VERSION.zip" ] || die "the distribution zip is missing after mvn"
  rm -rf "$tmp"
  touch "$CACHE_DIR.part/.complete"
  mv "$CACHE_DIR.part" "$CACHE_DIR"
  log "fetched in $((SECONDS - t0)) s"
}

# ------------------------------------------------------------------ the install tree
# Assembled under $WORK (the cache may sit under /root, which the node user can't read).
DIST="$WORK/dist/opensearch-$VERSION"

assemble() {
  local stamp="$VERSION ${MODULES[*]}" m name cls desc ext tmp
  if [ -f "$DIST/.searchapp-assembled" ] && [ "$(cat "$DIST/.searchapp-assembled")" = "$stamp" ]; then
    return 0
  fi
  log "unpacking OpenSearch $VERSION into $DIST"
  rm -rf "$DIST" "$WORK/dist/.tmp"
  mkdir -p "$WORK/dist/.tmp"
  tmp="$WORK/dist/.tmp"
  unzip -q "$CACHE_DIR/opensearch-$VERSION.zip" -d "$tmp"
  [ -d "$tmp/opensearch-$VERSION/modules" ] || die "unexpected layout of opensearch-$VERSION.zip"
  for m in "${MODULES[@]}"; do
    [ -d "$tmp/opensearch-$VERSION/modules/$m" ] && continue # already in the zip
    IFS='|' read -r name cls desc ext <<<"$(module_descriptor "$m")"
    mkdir -p "$tmp/opensearch-$VERSION/modules/$m"
    cp "$CACHE_DIR/modules/$m/"*.jar "$tmp/opensearch-$VERSION/modules/$m/"
    cat >"$tmp/opensearch-$VERSION/modules/$m/plugin-descriptor.properties" <<EOF
description=$desc
version=$VERSION
name=$name
classname=$cls
java.version=11
opensearch.version=$VERSION
custom.foldername=
extended.plugins=$ext
has.native.controller=false
EOF
    if [ -n "$(module_policy "$m")" ]; then
      module_policy "$m" >"$tmp/opensearch-$VERSION/modules/$m/plugin-security.policy"
    fi
  done
  chmod -R a+rX "$tmp/opensearch-$VERSION"
  echo "$stamp" >"$tmp/opensearch-$VERSION/.searchapp-assembled"
  mv "$tmp/opensearch-$VERSION" "$DIST"
  rm -rf "$tmp"
}

ensure_user() {
  id -u "$OS_USER" >/dev/null 2>&1 && return 0
  is_root || die "user $OS_USER does not exist and we are not root to create it"
  log "creating system user $OS_USER"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$OS_USER" >&2
}

# ----------------------------------------------------------------------- processes
node_dir() { echo "$WORK/node-$1"; }

# Is PID a live OpenSearch node using node folder DIR? (guards against PID reuse)
is_our_node() {
  local pid="$1" dir="$2"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "-Dopensearch.path.conf=$dir/config"
}

node_pid() { # the JVM's PID of node folder DIR if it is running
  local dir="$1" pid
  for f in "$dir/opensearch.pid" "$dir/launcher.pid"; do
    [ -f "$f" ] || continue
    pid="$(cat "$f" 2>/dev/null || true)"
    if is_our_node "$pid" "$dir"; then echo "$pid"; return 0; fi
  done
  # the launcher (session leader) is runuser; its child is the JVM
  pid="$(cat "$dir/launcher.pid" 2>/dev/null || true)"
  if [ -n "$pid" ]; then
    local child
    for child in $(pgrep -s "$pid" 2>/dev/null || true); do
      if is_our_node "$child" "$dir"; then echo "$child"; return 0; fi
    done
  fi
  return 1
}

session_alive() { # any process left in the launcher's session?
  local sid
  sid="$(cat "$1/launcher.pid" 2>/dev/null || true)"
  [ -n "$sid" ] && pgrep -s "$sid" >/dev/null 2>&1
}

stop_nodes() {
  local dir pid sid waited any=0
  shopt -s nullglob
  local dirs=("$WORK"/node-*)
  shopt -u nullglob
  for dir in "${dirs[@]}"; do
    pid="$(node_pid "$dir" || true)"
    if [ -n "$pid" ]; then
      log "stopping $(basename "$dir") (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      any=1
    fi
  done
  # wait for them to exit, then kill what is left of each launcher's session
  waited=0
  while [ "$waited" -lt 60 ]; do
    local alive=0
    for dir in "${dirs[@]}"; do
      if node_pid "$dir" >/dev/null; then alive=1; fi
    done
    [ "$alive" = 0 ] && break
    sleep 0.5
    waited=$((waited + 1))
  done
  for dir in "${dirs[@]}"; do
    pid="$(node_pid "$dir" || true)"
    if [ -n "$pid" ]; then
      log "$(basename "$dir") did not stop within 30 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sid="$(cat "$dir/launcher.pid" 2>/dev/null || true)"
    if [ -n "$sid" ] && session_alive "$dir"; then
      # only the launcher's own session, whose leader we started with setsid
      pkill -KILL -s "$sid" 2>/dev/null || true
    fi
  done
  for dir in "${dirs[@]}"; do
    waited=0
    while { node_pid "$dir" >/dev/null || session_alive "$dir"; } && [ "$waited" -lt 20 ]; do
      sleep 0.5
      waited=$((waited + 1))
    done
    rm -f "$dir/opensearch.pid" "$dir/launcher.pid"
  done
  [ "$any" = 1 ] && log "stopped" || true
}

port_in_use() {
  if command -v ss >/dev/null 2>&1; then
    ss -Htln "sport = :$1" 2>/dev/null | grep -q .
  else
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
  fi
}

write_config() { # i nodes
  local i="$1" n="$2" dir seeds="" managers="" j
  dir="$(node_dir "$i")"
  mkdir -p "$dir/config" "$dir/data" "$dir/logs" "$dir/tmp"
  cp "$DIST/config/log4j2.properties" "$dir/config/"
  mkdir -p "$dir/config/jvm.options.d"
  sed -e "s#^-Xms.*#-Xms$HEAP#" -e "s#^-Xmx.*#-Xmx$HEAP#" \
    -e "s#HeapDumpPath=data#HeapDumpPath=$dir/data#" \
    -e "s#ErrorFile=logs/#ErrorFile=$dir/logs/#" \
    -e "s#file=logs/gc.log:utctime,pid,tags:filecount=32,filesize=64m#file=$dir/logs/gc.log:utctime,pid,tags:filecount=2,filesize=16m#" \
    -e "s#-Xloggc:logs/gc.log#-Xloggc:$dir/logs/gc.log#" \
    "$DIST/config/jvm.options" >"$dir/config/jvm.options"
  for ((j = 0; j < n; j++)); do
    seeds+="${seeds:+, }\"$HOST:$((TRANSPORT_BASE + j))\""
    managers+="${managers:+, }\"node-$j\""
  done
  {
    echo "cluster.name: $CLUSTER_NAME"
    echo "node.name: node-$i"
    echo "path.data: $dir/data"
    echo "path.logs: $dir/logs"
    echo "network.host: $HOST"
    echo "http.port: $((HTTP_BASE + i))"
    echo "transport.port: $((TRANSPORT_BASE + i))"
    if [ "$n" = 1 ]; then
      echo "discovery.type: single-node"
    else
      echo "discovery.seed_hosts: [$seeds]"
      echo "cluster.initial_cluster_manager_nodes: [$managers]"
    fi
    echo "cluster.routing.allocation.disk.threshold_enabled: false"
    echo "bootstrap.memory_lock: false"
    echo "action.destructive_requires_name: false"
  } >"$dir/config/opensearch.yml"
  if is_root; then chown -R "$OS_USER:" "$dir"; fi
}

launch_node() { # i
  local i="$1" dir
  dir="$(node_dir "$i")"
  # setsid: the node gets a session of its own (the launcher's PID is its id), so stop
  # can end exactly it; env -i: nothing of the caller's environment leaks into the JVM.
  local as_user=()
  is_root && as_user=(runuser -u "$OS_USER" --)
  (
    exec 9>&- # the lock stays with this script
    ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    cd "$dir"
    exec setsid "${as_user[@]}" env -i \
      PATH=/usr/local/bin:/usr/bin:/bin HOME="$dir" LANG=C.UTF-8 \
      OPENSEARCH_JAVA_HOME="$JAVA_HOME_OS" \
      OPENSEARCH_PATH_CONF="$dir/config" \
      OPENSEARCH_TMPDIR="$dir/tmp" \
      "$DIST/bin/opensearch" -p "$dir/opensearch.pid" \
      </dev/null >"$dir/logs/console.log" 2>&1
  ) &
  echo "$!" >"$dir/launcher.pid"
}

node_log_tail() { # i
  local dir
  dir="$(node_dir "$1")"
  log "---- last lines of $dir/logs/console.log ----"
  tail -n 40 "$dir/logs/console.log" 2>/dev/null | sed 's/^/    /' >&2 || true
}

urls_for() { # n
  local n="$1" i out=""
  for ((i = 0; i < n; i++)); do out+="${out:+,}http://$HOST:$((HTTP_BASE + i))"; done
  echo "$out"
}

http_get() { curl -fsS --max-time 10 "$@"; }

wait_ready() { # n
  local n="$1" deadline=$((SECONDS + TIMEOUT)) i status want=green health
  [ "$n" = 1 ] && want=yellow
  while :; do
    for ((i = 0; i < n; i++)); do
      if ! node_pid "$(node_dir "$i")" >/dev/null && ! session_alive "$(node_dir "$i")"; then
        node_log_tail "$i"
        die "node-$i exited during start (see $(node_dir "$i")/logs)"
      fi
    done
    status=ok
    for ((i = 0; i < n; i++)); do
      health="$(http_get "http://$HOST:$((HTTP_BASE + i))/_cluster/health?wait_for_nodes=$n&wait_for_status=$want&timeout=2s" 2>/dev/null)" || { status=wait; break; }
      case "$health" in
        *'"timed_out":false'*) ;;
        *) status=wait; break ;;
      esac
    done
    [ "$status" = ok ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "cluster not $want with $n node(s) after $TIMEOUT s; last health: ${health:-none}"
      for ((i = 0; i < n; i++)); do node_log_tail "$i"; done
      die "timed out waiting for the cluster"
    fi
    sleep 1
  done
}

START_OK=0
cleanup_on_failure() {
  local rc=$?
  if [ "$START_OK" != 1 ]; then
    log "start failed: stopping what was started"
    trap - EXIT INT TERM
    stop_nodes || true
  fi
  exit "$rc"
}

lock() {
  mkdir -p "$WORK"
  [ -L "$WORK" ] && die "$WORK is a symlink"
  exec 9>"$WORK/.lock"
  flock -w 300 9 || die "another opensearch.sh is running on $WORK"
}

cmd_start() {
  local n="${1:-1}" i t0=$SECONDS
  [[ "$n" =~ ^[1-9]$ ]] || die "NODES must be 1..$MAX_NODES, got '$n'"
  case "$WORK" in /|"") die "refusing WORK='$WORK'" ;; esac
  ensure_tools
  lock
  fetch
  stop_nodes
  for ((i = 0; i < n; i++)); do
    port_in_use "$((HTTP_BASE + i))" && die "port $((HTTP_BASE + i)) is already in use (not by a node of ours)"
    port_in_use "$((TRANSPORT_BASE + i))" && die "port $((TRANSPORT_BASE + i)) is already in use (not by a node of ours)"
  done
  if is_root; then ensure_user; fi # as another user, the nodes run as that user
  assemble
  rm -rf "$WORK"/node-*
  trap cleanup_on_failure EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  log "starting $n node(s) of OpenSearch $VERSION (Java $(java_major "$JAVA_HOME_OS") at $JAVA_HOME_OS)"
  for ((i = 0; i < n; i++)); do
    write_config "$i" "$n"
    launch_node "$i"
  done
  wait_ready "$n"
  START_OK=1
  trap - EXIT INT TERM
  log "cluster $CLUSTER_NAME up with $n node(s) in $((SECONDS - t0)) s; logs in $WORK/node-*/logs"
  urls_for "$n"
}

running_nodes() { # prints indices of running nodes
  local dir
  shopt -s nullglob
  for dir in "$WORK"/node-*; do
    node_pid "$dir" >/dev/null && echo "${dir##*/node-}"
  done
  shopt -u nullglob
  return 0
}

cmd_stop() {
  [ -d "$WORK" ] || { log "nothing to stop"; return 0; }
  lock
  stop_nodes
}

cmd_urls() {
  local i out=""
  for i in $(running_nodes | sort -n); do out+="${out:+,}http://$HOST:$((HTTP_BASE + i))"; done
  [ -n "$out" ] || die "no node is running"
  echo "$out"
}

cmd_status() {
  local dir i pid any=0
  shopt -s nullglob
  for dir in "$WORK"/node-*; do
    i="${dir##*/node-}"
    if pid="$(node_pid "$dir")"; then
      echo "node-$i running pid $pid http://$HOST:$((HTTP_BASE + i))"
      any=1
    else
      echo "node-$i stopped"
    fi
  done
  shopt -u nullglob
  if [ "$any" = 1 ]; then
    for i in $(running_nodes | sort -n); do
      http_get "http://$HOST:$((HTTP_BASE + i))/_cluster/health" 2>/dev/null && echo && return 0
    done
    echo "no node answers HTTP yet"
    return 1
  fi
  echo "no OpenSearch node running"
  return 1
}

main() {
  local cmd="${1:-}"
  [ $# -gt 0 ] && shift
  case "$cmd" in
    start) [ $# -le 1 ] || usage; cmd_start "$@" ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    urls) cmd_urls ;;
    fetch) ensure_tools; fetch; echo "$CACHE_DIR" ;;
    *) usage ;;
  esac
}

main "$@"
