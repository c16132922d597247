"""The OpenSearch backend: an alias on a cluster, searched through :class:`OpenSearchView`.

Readers search the alias ``settings.opensearch_index``; each rebuild loads a new concrete
index (``<alias>-<timestamp>``) and moves the alias to it in one ``_aliases`` call
(:mod:`.writer`). A view is one concrete index at one update count (its ``_meta``
``generation``): :meth:`OpenSearchBackend.view` resolves the alias once per
:meth:`pinned` block, so a request reads one index from start to end even while a
rebuild moves the alias.

Each concrete index keeps, in the small ``<alias>-state`` index, the analysis it was
built with (user dictionary, learned words) and the synonyms it answers with: a view
analyses queries exactly as the articles were analysed.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from opensearchpy import OpenSearch

from searchapp import documents
from searchapp.backends.base import (
    Health,
    IndexCorrupt,
    IndexMissing,
    IndexStale,
    IndexUnavailable,
    Ranking,
    View,
)
from searchapp.backends.opensearch import client as osclient
from searchapp.backends.opensearch import derived
from searchapp.backends.opensearch.mapping import index_version
from searchapp.backends.opensearch.view import OpenSearchView
from searchapp.config import Settings
from searchapp.documents import Document
from searchapp.indexing import BuildStats, Progress
from searchapp.text.analysis import Analyzer
from searchapp.text.synonyms import Synonyms, parse_synonyms

T = TypeVar("T")

#: Generations whose derived data (statistics, document frequencies) are kept.
SHARED_GENERATIONS = 2
#: Seconds a resolution of the alias is reused (under the writer's GRACE_SECONDS).
RESOLVE_TTL = 1.0


def state_index(alias: str) -> str:
    """The small index that holds the writer lock and each concrete index's analysis."""
    return f"{alias}-state"


def analysis_key(concrete: str) -> str:
    """The id of the state document of the concrete index ``concrete``."""
    return f"index:{concrete}"


@dataclass(frozen=True)
class Generation:
    """One concrete index at one update count, and what it was built with."""

    concrete: str
    number: int
    meta: dict[str, Any]
    analyzer: Analyzer
    synonyms: Synonyms

    @property
    def key(self) -> tuple[str, int]:
        """What identifies it (``View.generation``)."""
        return (self.concrete, self.number)


@dataclass
class _Local(threading.local):
    #: depth of pinned() blocks on this thread
    pins: int = 0
    #: True once the view was resolved inside the current outermost pinned block
    current: bool = False
    view: OpenSearchView | None = None


def _reconnect_after_fork(backend: OpenSearchBackend) -> None:
    """Give ``backend`` a client of its own in a forked child: the parent's pooled
    connections are sockets the two processes would share (gunicorn forks its workers
    from a master that has loaded the vocabulary through this backend)."""
    ref = weakref.ref(backend)

    def reconnect() -> None:
        found = ref()
        if found is not None:
            found.client = osclient.connect(found.settings)
            found._local = _Local()
            found._lock = threading.Lock()

    os.register_at_fork(after_in_child=reconnect)


class OpenSearchBackend:
    """An alias on an OpenSearch cluster. Thread-safe; keep one per process."""

    name = "opensearch"

    def __init__(self, settings: Settings, analyzer: Analyzer, ranking: Ranking | None = None):
        self.settings = settings
        self.analyzer = analyzer
        self.ranking = ranking or Ranking()
        self.alias = settings.opensearch_index
        self.urls = osclient.node_urls(settings)
        self.client: OpenSearch = osclient.connect(settings)
        _reconnect_after_fork(self)
        self._local = _Local()
        self._lock = threading.Lock()
        #: (generation key, what) -> data derived from one generation, for every thread
        self._shared: dict[tuple[Hashable, Hashable], Any] = {}
        #: (concrete, number) -> analyzer and synonyms read from the state index
        self._built: dict[tuple[str, int], tuple[Analyzer, Synonyms]] = {}
        #: (when, concrete index, _meta) of the last resolution of the alias
        self._resolved: tuple[float, str, dict[str, Any]] | None = None

    def __repr__(self) -> str:
        return f"OpenSearchBackend({', '.join(self.urls)!r}, {self.alias!r})"

    def errors(self) -> contextlib.AbstractContextManager[None]:
        """Translate client exceptions into ours (see :func:`.client.errors`)."""
        return osclient.errors(self.urls, self.alias)

    # -- reading -------------------------------------------------------------------------

    def resolve(self, *, fresh: bool = False) -> tuple[str, dict[str, Any]]:
        """(concrete index, its ``_meta``) behind the alias; IndexMissing without one.

        A resolution is reused for :data:`RESOLVE_TTL` seconds (a request need not ask
        the cluster again): shorter than the writer's grace before it deletes a replaced
        index, so a reader never reaches for a deleted one. ``fresh`` asks anyway.
        """
        now = time.monotonic()
        known = self._resolved
        if not fresh and known is not None and now - known[0] < RESOLVE_TTL:
            return known[1], known[2]
        with self.errors():
            found = self.client.indices.get_mapping(
                index=self.alias, params={"filter_path": "*.mappings._meta,status"}, ignore=404
            )
        if osclient.missing(found):
            raise IndexMissing(
                f"no index '{self.alias}' on the OpenSearch cluster at {', '.join(self.urls)}"
            )
        if not found:
            # The name exists but nothing of ours is behind it.
            raise IndexStale(
                f"'{self.alias}' on the OpenSearch cluster at {', '.join(self.urls)} "
                "was not built by searchapp"
            )
        if len(found) > 1:
            raise IndexCorrupt(
                f"the alias '{self.alias}' points at {len(found)} indexes "
                f"({', '.join(sorted(found))})"
            )
        concrete, body = next(iter(found.items()))
        meta = dict((body.get("mappings") or {}).get("_meta") or {})
        self._resolved = (now, concrete, meta)
        return concrete, meta

    def forget(self) -> None:
        """Resolve the alias again at the next request (after this process wrote)."""
        self._resolved = None

    def check(self, concrete: str, meta: dict[str, Any]) -> None:
        """Raise IndexStale unless ``concrete`` was built by this code's version."""
        if meta.get("version") != index_version():
            raise IndexStale(
                f"the index '{self.alias}' ({concrete}) was built by "
                f"{meta.get('version') or 'an unknown version'}, this program needs "
                f"{index_version()}"
            )

    def generation(self, *, fresh: bool = False) -> Generation:
        """The generation the alias names (see :meth:`resolve` for ``fresh``)."""
        concrete, meta = self.resolve(fresh=fresh)
        self.check(concrete, meta)
        number = int(meta.get("generation") or 0)
        key = (concrete, number)
        built = self._built.get(key)
        if built is None:
            built = self._read_built(concrete)
            with self._lock:
                self._built = {k: v for k, v in self._built.items() if k[0] == concrete}
                self._built[key] = built
        return Generation(concrete, number, meta, built[0], built[1])

    def _read_built(self, concrete: str) -> tuple[Analyzer, Synonyms]:
        """The analysis and synonyms kept for ``concrete``."""
        source = self.state_document(analysis_key(concrete)) or {}
        state = source.get("analysis")
        if not isinstance(state, dict):
            raise IndexCorrupt(
                f"the analysis the index '{self.alias}' ({concrete}) was built with is missing"
            )
        try:
            if state.get("fingerprint") == self.analyzer.fingerprint:
                analyzer = self.analyzer  # the same configuration: share its segmenter
            else:
                analyzer = Analyzer.from_state(state)
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexCorrupt(
                f"the analysis of the index '{self.alias}' ({concrete}) cannot be read "
                f"({exc.__class__.__name__})"
            ) from None
        synonyms = parse_synonyms(str(source.get("synonyms") or ""), analyzer)
        return analyzer, synonyms

    def view(self) -> OpenSearchView:
        """This thread's view of the generation the alias names (the same one throughout
        a :meth:`pinned` block)."""
        local = self._local
        if local.pins and local.current and local.view is not None:
            return local.view
        found = self.generation()
        if local.view is None or local.view.generation != found.key:
            local.view = OpenSearchView(self, found)
        else:
            local.view.forget()
        local.current = local.pins > 0
        return local.view

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """Read one generation for the whole block: the first :meth:`view` inside the
        outermost block resolves the alias, later calls get that same view."""
        local = self._local
        if local.pins == 0:
            local.current = False
        local.pins += 1
        try:
            yield
        finally:
            local.pins -= 1

    def close(self) -> None:
        """Drop this thread's view (the client's connections are shared)."""
        self._local.view = None

    def derived(self, generation: Hashable, what: Hashable, build: Callable[[], T]) -> T:
        """``build()``'s result for ``generation``, shared by all threads."""
        key = (generation, what)
        found = self._shared.get(key)
        if found is None:
            found = build()
            with self._lock:
                keep = {g for g, _ in self._shared}
                if generation not in keep and len(keep) >= SHARED_GENERATIONS:
                    self._shared = {k: v for k, v in self._shared.items() if k[0] == generation}
                self._shared[key] = found
        return found

    def info(self) -> dict[str, Any]:
        """The alias and its index, the cluster, build metadata and the index's size."""
        concrete, meta = self.resolve(fresh=True)
        with self.errors():
            health = self.client.cluster.health(
                timeout="2s", request_timeout=osclient.SEARCH_TIMEOUT
            )
            stats = self.client.indices.stats(index=concrete, metric="store,docs")
            settings = self.client.indices.get_settings(index=concrete)
        index_settings = (settings.get(concrete) or {}).get("settings", {}).get("index", {})
        totals = (stats.get("indices") or {}).get(concrete, {})
        return {
            "index": self.alias,
            "backend": self.name,
            "concrete_index": concrete,
            "cluster": health.get("cluster_name"),
            "cluster_status": health.get("status"),
            "nodes": health.get("number_of_nodes"),
            "shards": int(index_settings.get("number_of_shards", 0) or 0),
            "replicas": int(index_settings.get("number_of_replicas", 0) or 0),
            "built_at": meta.get("built_at"),
            "updated_at": meta.get("updated_at"),
            "version": meta.get("version"),
            "analyzer": meta.get("analyzer"),
            "userdict": meta.get("userdict", ""),
            "learned": meta.get("learned", 0),
            "generation": f"{concrete} #{meta.get('generation', 0)}",
            "index_bytes": totals.get("total", {}).get("store", {}).get("size_in_bytes"),
            "primary_bytes": totals.get("primaries", {}).get("store", {}).get("size_in_bytes"),
        }

    def health(self) -> Health:
        """Whether the alias answers: the cluster's health (green is "ok", yellow answers
        with replicas missing, red or unreachable does not) and the article count."""
        try:
            concrete, meta = self.resolve(fresh=True)
            self.check(concrete, meta)
            with self.errors():
                state = self.client.cluster.health(
                    index=concrete, timeout="2s", request_timeout=osclient.SEARCH_TIMEOUT
                )
            status = str(state.get("status", "red"))
            if status == "red":
                return Health(
                    False,
                    0,
                    "unavailable",
                    f"the index '{self.alias}' ({concrete}) is red: some of its shards have "
                    "no copy on a live node",
                    osclient.HEALTH_HINT,
                )
            with self.errors():
                count = int(self.client.count(index=concrete)["count"])
            return Health(True, count, "ok" if status == "green" else status)
        except IndexUnavailable as exc:
            return Health(False, 0, "unavailable", str(exc), exc.hint)

    # -- writing -------------------------------------------------------------------------

    def rebuild(
        self,
        corpus_dir: Path,
        *,
        progress: Progress | None = None,
        procs: int | None = None,
        max_bytes: int = documents.DEFAULT_MAX_BYTES,
        learn: bool = True,
    ) -> BuildStats:
        """See :meth:`searchapp.backends.base.Backend.rebuild`."""
        from searchapp.backends.opensearch import writer

        try:
            return writer.rebuild(
                self,
                corpus_dir,
                progress=progress,
                procs=procs,
                max_bytes=max_bytes,
                learn=learn,
            )
        finally:
            self.forget()

    def update(
        self,
        corpus_dir: Path,
        *,
        progress: Progress | None = None,
        max_bytes: int = documents.DEFAULT_MAX_BYTES,
    ) -> BuildStats:
        """See :meth:`searchapp.backends.base.Backend.update`."""
        from searchapp.backends.opensearch import writer

        try:
            return writer.update(self, corpus_dir, progress=progress, max_bytes=max_bytes)
        finally:
            self.forget()

    def index_documents(
        self,
        docs: Iterable[Document],
        *,
        progress: Progress | None = None,
        procs: int | None = None,
        total: int = 0,
        learn: bool = True,
    ) -> BuildStats:
        """See :meth:`searchapp.backends.base.Backend.index_documents`."""
        from searchapp.backends.opensearch import writer

        try:
            return writer.index_documents(
                self, docs, progress=progress, procs=procs, total=total, learn=learn
            )
        finally:
            self.forget()

    def save_derived(self, view: View, name: str, data: bytes) -> None:
        """Keep ``data``, derived from ``view``'s generation, in the state index."""
        assert isinstance(view, OpenSearchView)
        concrete, number = view.generation_key
        derived.save(self, state_index(self.alias), concrete, number, name, data)

    def learned_words(self) -> list[dict[str, Any]]:
        """The words the rebuild of the index behind the alias learned, best first."""
        concrete, _ = self.resolve(fresh=True)
        words = (self.state_document(analysis_key(concrete)) or {}).get("words") or []
        return [w for w in words if isinstance(w, dict)]

    def state_document(self, doc_id: str) -> dict[str, Any] | None:
        """A document of the state index (None when it, or the index, is not there)."""
        with self.errors():
            found = self.client.get(index=state_index(self.alias), id=doc_id, ignore=404)
        if osclient.missing(found):
            return None
        return dict(found.get("_source") or {})

    def exists(self) -> bool:
        """True when the alias (or an index of that name) is on the cluster, usable or
        not; False when it is not, or the cluster cannot be reached (``update`` then
        builds, and says why it cannot)."""
        try:
            with self.errors():
                return bool(self.client.indices.exists(index=self.alias))
        except IndexUnavailable:
            return False

    def needs_rebuild(self) -> bool:
        """True when there is no index behind the alias that this code can search (or the
        cluster cannot be reached: a rebuild then says why)."""
        try:
            self.generation(fresh=True)
        except IndexUnavailable:
            return True
        return False
