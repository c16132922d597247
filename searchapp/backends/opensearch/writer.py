"""Build and update the OpenSearch index. Never serves queries.

* :func:`rebuild` (and :func:`index_documents`) bulk-load a **new concrete index**
  (``<alias>-<UTC timestamp>``): worker processes load and segment the articles (both
  cores), the parent turns them into bulk requests that two sender threads stream to the
  cluster. The new index has no replica and no refresh while it loads; then it is
  refreshed, given its replicas (waiting for them), its metadata and analysis, and **one
  ``_aliases`` call moves the alias** from the old index to it. Readers see the old index
  or the new one, never a half one. The old index is deleted a moment later (a request
  that began on it can finish).
* A writer killed at any point (``kill -9``) leaves the alias where it was; the next
  rebuild deletes the ``<alias>-<timestamp>`` indexes the alias does not point at.
* :func:`update` sends only added, changed (by checksum) and deleted articles to the
  index behind the alias, refreshes it (the changes appear together: the index refreshes
  only when told to) and counts the update in the index's ``_meta``, which readers see
  as a new generation.
* One writer at a time: a lock document in ``<alias>-state``, created with
  ``op_type=create``, holding the writer's host, pid and a heartbeat. A lock whose
  writer is dead (its pid gone on this host, or no heartbeat for :data:`STALE_AFTER`
  seconds from another host) is taken over; a live one is :class:`IndexBusy`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import re
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensearchpy import exceptions as os_errors

from searchapp import documents
from searchapp.backends.base import IndexBusy, IndexStale, IndexUnavailable
from searchapp.backends.opensearch import client as osclient
from searchapp.backends.opensearch import derived, mapping
from searchapp.backends.opensearch.backend import analysis_key, state_index
from searchapp.backends.opensearch.view import OpenSearchView
from searchapp.documents import Document, Skipped
from searchapp.indexing import (
    BuildStats,
    Prepared,
    Progress,
    corpus_paths,
    default_procs,
    die_with_parent,
    learn_apart,
    plan_rebuild,
    plan_update,
    prepare_document,
    texts_of_documents,
)
from searchapp.text.analysis import Analyzer

if TYPE_CHECKING:
    from searchapp.backends.opensearch.backend import OpenSearchBackend

#: A bulk request is sent when it holds this many bytes or articles.
BULK_BYTES = 8_000_000
BULK_DOCS = 1000
#: Threads sending bulk requests (one per node of a small cluster keeps both busy).
SENDERS = 2
#: Retries of articles the cluster refused for load (HTTP 429), with a growing pause.
BULK_RETRIES = 6
#: A lock whose writer sent no heartbeat for this long is taken over.
STALE_AFTER = 120.0
HEARTBEAT_EVERY = 10.0
#: Seconds the replaced index is kept after the alias moved (requests that resolved the
#: alias just before can finish on it).
GRACE_SECONDS = 2.0
#: How long a new index may take to get its replicas before the alias moves anyway.
REPLICA_WAIT = "120s"
#: A test hook: ``before-alias`` makes a rebuild stop (print a line, sleep) just before
#: it moves the alias, so a test can ``kill -9`` it there.
PAUSE_ENV = "SEARCHAPP_OPENSEARCH_TEST_PAUSE"
#: The file, in the temp folder, of the articles a rebuild read while learning new words.
SPOOL_PREFIX = "searchapp-articles-read-"

LOCK_ID = "lock"
#: The state index: documents kept whole in ``_source``; only which concrete index a
#: document belongs to is searchable (to delete them with it).
STATE_MAPPING: dict[str, Any] = {"dynamic": False, "properties": {"concrete": {"type": "keyword"}}}
_CONCRETE = r"-\d{20}"


def concrete_name(alias: str) -> str:
    """A new concrete index name: the alias and the UTC time to the microsecond."""
    return f"{alias}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"


def is_concrete_of(alias: str, name: str) -> bool:
    """True when ``name`` is a concrete index a rebuild of ``alias`` made."""
    return re.fullmatch(re.escape(alias) + _CONCRETE, name) is not None


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


# -- the writer lock ---------------------------------------------------------------------


def _start_time(pid: int) -> str:
    """The start time of process ``pid`` (tells a reused pid apart); "" when unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _alive(pid: int, started: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's live process
    return not started or not _start_time(pid) or _start_time(pid) == started


def ensure_state_index(backend: OpenSearchBackend) -> str:
    """Create the small ``<alias>-state`` index if it is not there; its name."""
    name = state_index(backend.alias)
    with backend.errors():
        if backend.client.indices.exists(index=name):
            backend.client.indices.put_mapping(index=name, body=STATE_MAPPING)
            return name
        try:
            backend.client.indices.create(
                index=name,
                body={
                    "settings": {"index": {"number_of_shards": 1, "auto_expand_replicas": "0-1"}},
                    "mappings": STATE_MAPPING,
                },
                request_timeout=osclient.WRITE_TIMEOUT,
            )
        except os_errors.RequestError as exc:
            if osclient.error_type(exc) != "resource_already_exists_exception":
                raise
        backend.client.cluster.health(
            index=name, wait_for_status="yellow", timeout="30s", request_timeout=60
        )
    return name


class WriterLock:
    """One writer per alias, across processes and machines (see the module's notes)."""

    def __init__(self, backend: OpenSearchBackend, kind: str) -> None:
        self.backend = backend
        self.kind = kind
        self.index = state_index(backend.alias)
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _body(self) -> dict[str, Any]:
        pid = os.getpid()
        return {
            "host": socket.gethostname(),
            "pid": pid,
            "started": _start_time(pid),
            "token": self.token,
            "kind": self.kind,
            "since": _now(),
            "heartbeat": time.time(),
        }

    def _stale(self, held: dict[str, Any]) -> bool:
        if held.get("host") == socket.gethostname() and isinstance(held.get("pid"), int):
            return not _alive(held["pid"], str(held.get("started") or ""))
        return time.time() - float(held.get("heartbeat") or 0) > STALE_AFTER

    def acquire(self) -> None:
        """Take the lock or raise IndexBusy."""
        ensure_state_index(self.backend)
        client = self.backend.client
        for _ in range(5):
            try:
                with self.backend.errors():
                    client.create(index=self.index, id=LOCK_ID, body=self._body(), refresh=True)
                break
            except os_errors.ConflictError:
                pass
            with self.backend.errors():
                held = client.get(index=self.index, id=LOCK_ID, ignore=404)
            if osclient.missing(held):
                continue  # released meanwhile
            source = held.get("_source") or {}
            if not self._stale(source):
                raise IndexBusy(
                    f"the index '{self.backend.alias}' is being rebuilt or updated by another "
                    f"process ({source.get('kind', 'a writer')}, pid {source.get('pid')} on "
                    f"{source.get('host')}, since {source.get('since')})"
                )
            with contextlib.suppress(os_errors.NotFoundError, os_errors.ConflictError):
                with self.backend.errors():
                    client.delete(
                        index=self.index,
                        id=LOCK_ID,
                        if_seq_no=held["_seq_no"],
                        if_primary_term=held["_primary_term"],
                        refresh=True,
                    )
        else:
            raise IndexBusy(f"the index '{self.backend.alias}' is being written by another process")
        self._thread = threading.Thread(target=self._beat, name="searchapp-lock", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        client = self.backend.client
        while not self._stop.wait(HEARTBEAT_EVERY):
            try:
                held = client.get(index=self.index, id=LOCK_ID, ignore=404)
                if (held.get("_source") or {}).get("token") != self.token:
                    return  # taken over (we were thought dead): nothing more to renew
                client.index(
                    index=self.index,
                    id=LOCK_ID,
                    body=dict(held["_source"], heartbeat=time.time()),
                    if_seq_no=held["_seq_no"],
                    if_primary_term=held["_primary_term"],
                )
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next one
                continue

    def release(self) -> None:
        """Give the lock back (only ours: a lock taken over is left to its new holder)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        client = self.backend.client
        with contextlib.suppress(Exception):
            held = client.get(index=self.index, id=LOCK_ID, ignore=404)
            if (held.get("_source") or {}).get("token") == self.token:
                client.delete(
                    index=self.index,
                    id=LOCK_ID,
                    if_seq_no=held["_seq_no"],
                    if_primary_term=held["_primary_term"],
                    refresh=True,
                )

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# -- indexes behind and beside the alias -----------------------------------------------------


def _behind_alias(backend: OpenSearchBackend) -> list[str]:
    """The concrete indexes the alias points at now."""
    with backend.errors():
        found = backend.client.indices.get_alias(name=backend.alias, ignore=404)
    if osclient.missing(found):
        return []
    return sorted(k for k, v in found.items() if isinstance(v, dict))


def _check_alias_name(backend: OpenSearchBackend) -> None:
    """Refuse to build when the alias name is taken by a plain index (not ours to move)."""
    with backend.errors():
        is_index = backend.client.indices.exists(index=backend.alias)
        is_alias = backend.client.indices.exists_alias(name=backend.alias)
    if is_index and not is_alias:
        err = IndexUnavailable(
            f"'{backend.alias}' on the OpenSearch cluster at {', '.join(backend.urls)} is an "
            "index, not an alias searchapp manages"
        )
        err.hint = "Delete that index, or set SEARCHAPP_OPENSEARCH_INDEX to another name"
        raise err


def remove_leftovers(backend: OpenSearchBackend, keep: Iterable[str] = ()) -> list[str]:
    """Delete the concrete indexes of the alias that it does not point at (what a killed
    rebuild left, or an index just replaced), and their state documents. Call with the
    writer lock held."""
    alias = backend.alias
    keep = set(keep) | set(_behind_alias(backend))
    with backend.errors():
        found = backend.client.indices.get(
            index=f"{alias}-*", params={"expand_wildcards": "open,closed"}
        )
    doomed = sorted(n for n in found if is_concrete_of(alias, n) and n not in keep)
    for name in doomed:
        with contextlib.suppress(os_errors.NotFoundError), backend.errors():
            backend.client.indices.delete(index=name, request_timeout=osclient.WRITE_TIMEOUT)
        derived.drop(backend, state_index(alias), name)
    return doomed


def _read_synonyms(corpus_dir: Path | None) -> str:
    source = corpus_dir / "synonyms.txt" if corpus_dir is not None else None
    if source is None or not source.is_file():
        return ""
    try:
        return source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ""


def _write_state(
    backend: OpenSearchBackend,
    concrete: str,
    analyzer: Analyzer,
    synonyms: str,
    words: Sequence[dict[str, Any]] | None = None,
) -> None:
    """Keep what ``concrete`` was built with (analysis, learned words) and answers with
    (synonyms) in the state index; ``words`` None keeps those already there."""
    if words is None:
        words = _stored_state(backend, concrete).get("words") or []
    with backend.errors():
        backend.client.index(
            index=state_index(backend.alias),
            id=analysis_key(concrete),
            body={
                "concrete": concrete,
                "analysis": analyzer.state(),
                "synonyms": synonyms,
                "words": list(words),
                "written_at": _now(),
            },
            refresh=True,
        )


def _put_meta(backend: OpenSearchBackend, concrete: str, meta: dict[str, Any]) -> None:
    with backend.errors():
        backend.client.indices.put_mapping(
            index=concrete, body={"_meta": meta}, request_timeout=osclient.WRITE_TIMEOUT
        )


def _refresh(backend: OpenSearchBackend, concrete: str) -> None:
    with backend.errors():
        backend.client.indices.refresh(index=concrete, request_timeout=osclient.WRITE_TIMEOUT)


def _count(backend: OpenSearchBackend, concrete: str) -> int:
    with backend.errors():
        return int(backend.client.count(index=concrete)["count"])


# -- bulk loading ------------------------------------------------------------------------


class _Bulk:
    """Bulk requests streamed by sender threads; what the cluster refused, per article."""

    def __init__(self, backend: OpenSearchBackend, index: str, senders: int = SENDERS) -> None:
        self.backend = backend
        self.index = index
        self.rejected: list[Skipped] = []
        self.sent = 0
        self._lines: list[bytes] = []
        self._ids: list[str] = []
        self._size = 0
        self._queue: queue.Queue[tuple[list[bytes], list[str]] | None] = queue.Queue(senders * 2)
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._send_loop, name=f"searchapp-bulk-{i}", daemon=True)
            for i in range(senders)
        ]
        for t in self._threads:
            t.start()

    def index_doc(self, key: str, doc_id: str, source: bytes) -> None:
        """Queue an article (``source`` is its JSON)."""
        action = json.dumps({"index": {"_id": key}}, ensure_ascii=False).encode("utf-8")
        self._add(action + b"\n" + source + b"\n", doc_id)

    def delete_doc(self, key: str, doc_id: str) -> None:
        """Queue the deletion of an article."""
        action = json.dumps({"delete": {"_id": key}}, ensure_ascii=False).encode("utf-8")
        self._add(action + b"\n", doc_id)

    def _add(self, lines: bytes, doc_id: str) -> None:
        self._raise()
        self._lines.append(lines)
        self._ids.append(doc_id)
        self._size += len(lines)
        if self._size >= BULK_BYTES or len(self._ids) >= BULK_DOCS:
            self._flush()

    def _flush(self) -> None:
        if self._ids:
            self._queue.put((self._lines, self._ids))
            self._raise()
        self._lines, self._ids, self._size = [], [], 0

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _send_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue  # drain: the main thread raises it
            try:
                self._send(*item)
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                self._error = exc

    def _send(self, lines: list[bytes], ids: list[str]) -> None:
        for attempt in range(BULK_RETRIES + 1):
            with self.backend.errors():
                found = self.backend.client.bulk(
                    body=b"".join(lines), index=self.index, request_timeout=osclient.WRITE_TIMEOUT
                )
            retry_lines: list[bytes] = []
            retry_ids: list[str] = []
            items = found.get("items", []) if found.get("errors") else []
            for line, doc_id, item in zip(lines, ids, items, strict=False):
                result = next(iter(item.values()))
                status = int(result.get("status", 200))
                if status == 429 and attempt < BULK_RETRIES:
                    retry_lines.append(line)
                    retry_ids.append(doc_id)
                elif status >= 300 and not (status == 404 and "delete" in item):
                    error = result.get("error") or {}
                    reason = error.get("reason") if isinstance(error, dict) else str(error)
                    with self._lock:
                        self.rejected.append(
                            Skipped(doc_id, f"refused by OpenSearch: {str(reason)[:200]}")
                        )
            with self._lock:
                self.sent += len(ids) - len(retry_ids)
            if not retry_ids:
                return
            lines, ids = retry_lines, retry_ids
            time.sleep(min(30.0, 0.5 * 2**attempt))

    def close(self) -> None:
        """Send what is left and wait for every request; raise what a sender met."""
        try:
            self._flush()
        finally:
            for _ in self._threads:
                self._queue.put(None)
            for t in self._threads:
                t.join()
        self._raise()

    def abort(self) -> None:
        """Stop the senders (after a failure)."""
        self._error = self._error or RuntimeError("aborted")
        with contextlib.suppress(queue.Full):
            for _ in self._threads:
                self._queue.put_nowait(None)


def _encode(
    func: Callable[[Any], Prepared | Skipped], item: tuple[int, Any]
) -> tuple[int, Any, str, tuple[str, ...]]:
    """Worker: prepare one article and serialise it: (seq, JSON or Skipped, id, warnings)."""
    seq, raw = item
    result = func(raw)
    if isinstance(result, Skipped):
        return seq, result, result.id, ()
    doc = result[0]
    return seq, mapping.to_json(result, seq), doc.id, tuple(doc.warnings)


#: What the forked workers run (inherited through fork, never pickled: a pickled analyzer
#: would set its segmenter up again for every chunk of work).
_WORK: Callable[[Any], Prepared | Skipped] | None = None


def _encode_inherited(item: tuple[int, Any]) -> tuple[int, Any, str, tuple[str, ...]]:
    assert _WORK is not None
    return _encode(_WORK, item)


def _prepared(
    func: Callable[[Any], Prepared | Skipped], items: Sequence[Any], procs: int
) -> Iterator[tuple[int, Any, str, tuple[str, ...]]]:
    """Every item prepared and serialised, in order (worker processes when ``procs`` > 1)."""
    global _WORK
    numbered = list(enumerate(items))
    if procs <= 1:
        yield from map(functools.partial(_encode, func), numbered)
        return
    ctx = get_context("fork")
    _WORK = func
    try:
        with ctx.Pool(procs, initializer=die_with_parent) as pool:
            yield from pool.imap(_encode_inherited, numbered, chunksize=16)
    finally:
        _WORK = None


def _pause(point: str) -> None:
    """The test hook (see :data:`PAUSE_ENV`)."""
    if os.environ.get(PAUSE_ENV) == point:
        print(f"searchapp: paused {point}", file=sys.stderr, flush=True)
        time.sleep(600)


def _write_all(
    backend: OpenSearchBackend,
    func: Callable[[Any], Prepared | Skipped],
    items: Sequence[Any],
    procs: int | None,
    stats: BuildStats,
    progress: Progress | None,
    total: int,
    corpus: str,
    corpus_dir: Path | None,
    analyzer: Analyzer,
    words: Sequence[dict[str, Any]] = (),
) -> BuildStats:
    """Load every item into a new concrete index and move the alias to it."""
    started = time.perf_counter()
    alias = backend.alias
    client = backend.client
    settings = backend.settings
    _check_alias_name(backend)
    remove_leftovers(backend)
    concrete = concrete_name(alias)
    meta: dict[str, Any] = {"version": mapping.index_version(), "complete": False}
    with backend.errors():
        client.indices.create(
            index=concrete,
            body=mapping.index_body(settings.opensearch_shards, meta),
            request_timeout=osclient.WRITE_TIMEOUT,
        )
    try:
        return _load(
            backend,
            concrete,
            func,
            items,
            procs,
            stats,
            progress,
            total,
            corpus,
            corpus_dir,
            started,
            analyzer,
            words,
        )
    except BaseException:
        # A failure (not a kill): the half index goes now; after a kill the next rebuild
        # removes it.
        if concrete not in _behind_alias(backend):
            with contextlib.suppress(Exception):
                client.indices.delete(index=concrete, request_timeout=osclient.WRITE_TIMEOUT)
        raise


def _load(
    backend: OpenSearchBackend,
    concrete: str,
    func: Callable[[Any], Prepared | Skipped],
    items: Sequence[Any],
    procs: int | None,
    stats: BuildStats,
    progress: Progress | None,
    total: int,
    corpus: str,
    corpus_dir: Path | None,
    started: float,
    analyzer: Analyzer,
    words: Sequence[dict[str, Any]],
) -> BuildStats:
    alias = backend.alias
    client = backend.client
    settings = backend.settings
    if procs is None:
        procs = default_procs(len(items))
    analyzer.segment("")  # set the segmenter up once, before the workers fork
    bulk = _Bulk(backend, concrete)
    done = 0
    try:
        for _seq, payload, doc_id, warnings in _prepared(func, items, procs):
            if isinstance(payload, Skipped):
                stats.skipped.append(payload)
            else:
                stats.warnings.extend((doc_id, w) for w in warnings)
                bulk.index_doc(mapping.doc_key(doc_id), doc_id, payload)
            done += 1
            if progress:
                progress(done, total)
        bulk.close()
    except BaseException:
        bulk.abort()
        raise
    stats.skipped.extend(bulk.rejected)
    _refresh(backend, concrete)
    replicas = max(0, int(settings.opensearch_replicas))
    with backend.errors():
        client.indices.put_settings(
            index=concrete,
            body={"index": {"number_of_replicas": replicas}},
            request_timeout=osclient.WRITE_TIMEOUT,
        )
        nodes = int(client.cluster.health()["number_of_data_nodes"])
        client.cluster.health(
            index=concrete,
            wait_for_status="green" if replicas < nodes else "yellow",
            timeout=REPLICA_WAIT,
            request_timeout=osclient.WRITE_TIMEOUT,
        )
    stats.total = _count(backend, concrete)
    stats.indexed = stats.total
    _write_state(backend, concrete, analyzer, _read_synonyms(corpus_dir), words)
    stats.learned = len(analyzer.learned)
    stats.seconds = time.perf_counter() - started
    now = _now()
    meta = {
        "version": mapping.index_version(),
        "complete": True,
        "analyzer": analyzer.fingerprint,
        "userdict": analyzer.userdict_sha1,
        "learned": len(analyzer.learned),
        "corpus": corpus,
        "built_at": now,
        "updated_at": now,
        "documents": stats.total,
        "generation": 1,
        "next_seq": len(items),
        "build_seconds": round(stats.seconds, 2),
        "skipped": len(stats.skipped),
    }
    _put_meta(backend, concrete, meta)
    _pause("before-alias")
    old = _behind_alias(backend)
    actions: list[dict[str, Any]] = [{"remove": {"index": o, "alias": alias}} for o in old]
    actions.append({"add": {"index": concrete, "alias": alias}})
    with backend.errors():
        client.indices.update_aliases(body={"actions": actions})
    if old:
        time.sleep(GRACE_SECONDS)
        remove_leftovers(backend, keep=[concrete])
    stats.seconds = time.perf_counter() - started
    return stats


def rebuild(
    backend: OpenSearchBackend,
    corpus_dir: Path,
    *,
    progress: Progress | None = None,
    procs: int | None = None,
    max_bytes: int = documents.DEFAULT_MAX_BYTES,
    learn: bool = True,
) -> BuildStats:
    """Index every article under ``corpus_dir`` into a new index and move the alias to it.

    With ``learn``, words the dictionary does not know are first learned from the
    articles (:func:`searchapp.indexing.learn_words`) and kept with the index's analysis.
    Raises FileNotFoundError for a missing corpus and IndexBusy while another writer runs.
    """
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    with WriterLock(backend, "rebuild"):
        stats = BuildStats("rebuild")
        paths = corpus_paths(corpus_dir, max_bytes, stats)
        spool_path = _spool_path()
        try:
            plan = plan_rebuild(paths, backend.analyzer, procs, learn, spool_path)
            return _write_all(
                backend,
                plan.func,
                plan.items,
                procs,
                stats,
                progress,
                len(paths),
                str(corpus_dir),
                corpus_dir,
                plan.analyzer,
                plan.words,
            )
        finally:
            spool_path.unlink(missing_ok=True)


def _spool_path() -> Path:
    """Where this rebuild keeps the articles it read while learning (the temp folder: the
    index lives in the cluster); files of rebuilds no longer running are removed."""
    folder = Path(tempfile.gettempdir())
    for stale in folder.glob(f"{SPOOL_PREFIX}*"):
        pid = stale.name[len(SPOOL_PREFIX) :]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            stale.unlink(missing_ok=True)
    return folder / f"{SPOOL_PREFIX}{os.getpid()}"


def index_documents(
    backend: OpenSearchBackend,
    docs: Iterable[Document],
    *,
    progress: Progress | None = None,
    procs: int | None = None,
    total: int = 0,
    learn: bool = True,
) -> BuildStats:
    """Rebuild from documents that do not come from a folder (learning new words from
    them first, with ``learn``)."""
    with WriterLock(backend, "rebuild"):
        items = docs if isinstance(docs, list) else list(docs)
        analyzer = backend.analyzer
        words: tuple[dict[str, Any], ...] = ()
        if learn:
            learned = learn_apart(lambda: texts_of_documents(items), analyzer)
            analyzer, words = learned.analyzer, learned.words
        return _write_all(
            backend,
            functools.partial(prepare_document, analyzer),
            items,
            procs,
            BuildStats("rebuild"),
            progress,
            total or len(items),
            "(documents)",
            None,
            analyzer,
            words,
        )


def update(
    backend: OpenSearchBackend,
    corpus_dir: Path,
    *,
    progress: Progress | None = None,
    max_bytes: int = documents.DEFAULT_MAX_BYTES,
) -> BuildStats:
    """Bring the index in line with ``corpus_dir``, sending only what changed.

    A file whose modification time and size are unchanged is not read; one whose content
    checksum is unchanged is not sent.
    """
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    started = time.perf_counter()
    stats = BuildStats("update")
    with WriterLock(backend, "update"):
        found = backend.generation(fresh=True)
        if found.meta.get("userdict", "") != backend.analyzer.userdict_sha1:
            raise IndexStale(
                "the user dictionary (userdict.txt) changed since the index "
                f"'{backend.alias}' was built; the index keeps serving with the old one "
                "until a rebuild"
            )
        # The index's own analysis (with the words learned at its rebuild).
        analyzer = found.analyzer
        concrete = found.concrete
        indexed = OpenSearchView(backend, found).fingerprints()
        to_write, deleted = plan_update(corpus_dir, indexed, analyzer, stats, progress, max_bytes)
        meta = dict(found.meta)
        next_seq = int(meta.get("next_seq") or 0)
        if to_write or deleted:
            bulk = _Bulk(backend, concrete, senders=1)
            try:
                for doc_id in deleted:
                    bulk.delete_doc(mapping.doc_key(doc_id), doc_id)
                for prepared in to_write:
                    doc_id = prepared[0].id
                    bulk.index_doc(
                        mapping.doc_key(doc_id), doc_id, mapping.to_json(prepared, next_seq)
                    )
                    next_seq += 1
                bulk.close()
            except BaseException:
                bulk.abort()
                raise
            refused = {s.id for s in bulk.rejected}
            stats.skipped.extend(bulk.rejected)
            stats.indexed = len([p for p in to_write if p[0].id not in refused])
            stats.deleted = len(deleted)
            _refresh(backend, concrete)
        synonyms = _read_synonyms(corpus_dir)
        synonyms_changed = synonyms != str(_stored_state(backend, concrete).get("synonyms") or "")
        if synonyms_changed:
            _write_state(backend, concrete, analyzer, synonyms)
        stats.total = _count(backend, concrete)
        stats.seconds = time.perf_counter() - started
        if stats.changed or synonyms_changed:
            meta.update(
                generation=int(meta.get("generation") or 0) + 1,
                updated_at=_now(),
                documents=stats.total,
                next_seq=next_seq,
            )
            _put_meta(backend, concrete, meta)
    return stats


def _stored_state(backend: OpenSearchBackend, concrete: str) -> dict[str, Any]:
    return backend.state_document(analysis_key(concrete)) or {}
