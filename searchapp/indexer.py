"""Build and update the on-disk index from a corpus folder. Never serves queries.

* :func:`rebuild` re-indexes everything and commits with ``mergetype=CLEAR``: readers keep
  the previous index until the single atomic commit, never an empty or half one.
* :func:`update` touches only added, changed (by checksum) and deleted files.
* :func:`index_documents` indexes an iterable of :class:`Document` (a JSON-lines dump,
  the benchmark's 68k corpus) the same way as a rebuild.

Segmentation dominates the cost, so with more than a few hundred files it runs in worker
processes and the Whoosh writer gets ready-made tokens (:class:`analysis.Pretokenized`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.writing import CLEAR

from searchapp import analysis, documents, store
from searchapp.documents import Document, Skipped
from searchapp.schema import INDEX_NAME, TEXT_FIELDS, build_schema, index_version

#: Called with (done, total) as files are processed; total may be 0 when unknown.
Progress = Callable[[int, int], None]

#: Below this many files a worker pool costs more (jieba start-up) than it saves.
POOL_THRESHOLD = 400


@dataclass
class BuildStats:
    """What a rebuild or update did."""

    mode: str
    indexed: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    total: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """True if the index was modified."""
        return bool(self.indexed or self.deleted)

    def summary(self) -> str:
        """One line for people."""
        if self.mode == "update" and not self.changed:
            head = f"index is up to date ({self.unchanged} unchanged)"
        else:
            head = f"{self.indexed} indexed"
            if self.mode == "update":
                head += f", {self.deleted} deleted, {self.unchanged} unchanged"
        return (
            f"{self.mode}: {head}, {len(self.skipped)} skipped; "
            f"{self.total} documents in the index ({self.seconds:.1f} s)"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "mode": self.mode,
            "indexed": self.indexed,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "skipped": [{"id": s.id, "reason": s.reason} for s in self.skipped],
            "warnings": [{"id": i, "warning": w} for i, w in self.warnings],
            "total": self.total,
            "seconds": round(self.seconds, 3),
        }


# -- preparing documents (runs in worker processes) ---------------------------------

Prepared = tuple[Document, dict[str, tuple[tuple[str, int, int, int], ...]]]


def _tokens(text: str) -> tuple[tuple[str, int, int, int], ...]:
    return tuple((t.text, t.pos, t.start, t.end) for t in analysis.tokenize(text))


def prepare_document(doc: Document) -> Prepared:
    """Segment a document's full-text fields (the expensive part of indexing)."""
    return doc, {name: _tokens(getattr(doc, name)) for name in TEXT_FIELDS}


def _prepare_path(args: tuple[str, str, int]) -> Prepared | Skipped:
    path, root, max_bytes = args
    try:
        doc = documents.load_document(Path(path), Path(root), max_bytes=max_bytes)
    except documents.DocumentError as exc:
        return Skipped(_rel_id(Path(path), Path(root)), exc.reason)
    except Exception as exc:  # a loader bug must not lose the whole rebuild
        return Skipped(_rel_id(Path(path), Path(root)), f"unexpected error: {exc!r}")
    return prepare_document(doc)


def _rel_id(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _init_worker(userdict: str | None) -> None:
    analysis.configure(Path(userdict) if userdict else None)


def _prepared_stream(
    func: Callable[[Any], Prepared | Skipped],
    items: list[Any],
    userdict: Path | None,
    procs: int | None,
) -> Iterator[Prepared | Skipped]:
    if procs is None:
        procs = min(2, os.cpu_count() or 1) if len(items) >= POOL_THRESHOLD else 1
    if procs <= 1:
        yield from map(func, items)
        return
    ctx = get_context("fork")
    with ctx.Pool(procs, _init_worker, (str(userdict) if userdict else None,)) as pool:
        yield from pool.imap(func, items, chunksize=8)


# -- writing ---------------------------------------------------------------------------


def _fingerprint(doc: Document) -> str:
    return f"{doc.mtime:.6f}:{doc.size}:{doc.checksum}"


def _fields(prepared: Prepared) -> dict[str, Any]:
    doc, tokens = prepared
    values: dict[str, Any] = {
        "id": doc.id,
        "fp": _fingerprint(doc),
        "date": doc.date,
        "categories": ",".join(c.replace(",", " ") for c in doc.categories),
        "tags": ",".join(t.replace(",", " ") for t in doc.tags),
        "source": doc.source_name.lower(),
        "lang": doc.lang,
        "script": doc.script,
        "source_url": doc.source_url,
        "thumbnail": doc.thumbnail,
    }
    for name in TEXT_FIELDS:
        text = getattr(doc, name)
        values[name] = analysis.Pretokenized(text, tokens[name])
        values[f"_stored_{name}"] = text  # store a plain str, not the token list
    # Whoosh rejects None for some field types; empty strings index nothing.
    return {k: v for k, v in values.items() if v is not None and v != ""}


def _open_or_create(index_dir: Path) -> whoosh_index.FileIndex:
    """The existing compatible index (so a CLEAR commit replaces it atomically) or a new one."""
    index_dir.mkdir(parents=True, exist_ok=True)
    if store.index_exists(index_dir):
        try:
            ix = store.open_index(index_dir)
            if ix.schema.names() == build_schema().names():
                return ix
        except store.IndexUnavailable:
            pass  # stale or corrupt: readers cannot use it anyway, start afresh
    return whoosh_index.create_in(str(index_dir), build_schema(), indexname=INDEX_NAME)


def _record(stats: BuildStats, item: Prepared | Skipped) -> Prepared | None:
    if isinstance(item, Skipped):
        stats.skipped.append(item)
        return None
    stats.warnings.extend((item[0].id, w) for w in item[0].warnings)
    return item


def _write_all(
    index_dir: Path,
    stream: Iterable[Prepared | Skipped],
    stats: BuildStats,
    progress: Progress | None,
    total: int,
    corpus: str,
) -> BuildStats:
    started = time.perf_counter()
    ix = _open_or_create(index_dir)
    writer = ix.writer(limitmb=256)
    try:
        for done, item in enumerate(stream, 1):
            prepared = _record(stats, item)
            if prepared is not None:
                writer.add_document(**_fields(prepared))
                stats.indexed += 1
            if progress:
                progress(done, total)
        writer.commit(mergetype=CLEAR)
    except BaseException:
        writer.cancel()
        raise
    stats.seconds = time.perf_counter() - started
    stats.total = ix.doc_count()
    now = datetime.now().isoformat(timespec="seconds")
    store.write_meta(
        index_dir,
        version=index_version(),
        analyzer=analysis.fingerprint(),
        corpus=corpus,
        built_at=now,
        updated_at=now,
        documents=stats.total,
        build_seconds=round(stats.seconds, 2),
        skipped=len(stats.skipped),
    )
    return stats


def rebuild(
    corpus_dir: Path,
    index_dir: Path,
    *,
    userdict: Path | None = None,
    progress: Progress | None = None,
    procs: int | None = None,
    max_bytes: int = documents.DEFAULT_MAX_BYTES,
) -> BuildStats:
    """Index every article under ``corpus_dir`` into ``index_dir``, replacing its content.

    Raises :class:`FileNotFoundError` for a missing corpus and :class:`store.IndexBusy`
    if another process is writing.
    """
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    analysis.configure(userdict)
    with store.write_lock(index_dir):
        paths = [
            (str(p), str(corpus_dir), max_bytes) for p in documents.iter_corpus_files(corpus_dir)
        ]
        stream = _prepared_stream(_prepare_path, paths, userdict, procs)
        return _write_all(
            index_dir, stream, BuildStats("rebuild"), progress, len(paths), str(corpus_dir)
        )


def index_documents(
    docs: Iterable[Document],
    index_dir: Path,
    *,
    userdict: Path | None = None,
    progress: Progress | None = None,
    procs: int | None = None,
    total: int = 0,
) -> BuildStats:
    """Rebuild ``index_dir`` from documents that do not come from a folder."""
    analysis.configure(userdict)
    with store.write_lock(index_dir):
        items = list(docs)
        stream = _prepared_stream(prepare_document, items, userdict, procs)
        return _write_all(
            index_dir, stream, BuildStats("rebuild"), progress, total or len(items), "(documents)"
        )


def needs_rebuild(index_dir: Path, userdict: Path | None = None) -> bool:
    """True when there is no index in ``index_dir`` that this code can search."""
    analysis.configure(userdict)
    try:
        store.open_index(index_dir)
    except store.IndexUnavailable:
        return True
    return False


def indexed_fingerprints(ix: whoosh_index.FileIndex) -> dict[str, str]:
    """id -> fingerprint of every live document, read from columns (no stored bodies)."""
    with ix.reader() as reader:
        ids = reader.column_reader("id")
        fps = reader.column_reader("fp")
        return {ids[n]: fps[n] for n in reader.all_doc_ids()}


def update(
    corpus_dir: Path,
    index_dir: Path,
    *,
    userdict: Path | None = None,
    progress: Progress | None = None,
    max_bytes: int = documents.DEFAULT_MAX_BYTES,
) -> BuildStats:
    """Bring the index in line with ``corpus_dir``, touching only what changed.

    A file whose modification time and size are unchanged is not read; one whose
    content checksum is unchanged is not re-indexed.
    """
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    analysis.configure(userdict)
    started = time.perf_counter()
    stats = BuildStats("update")
    with store.write_lock(index_dir):
        ix = store.open_index(index_dir)
        indexed = indexed_fingerprints(ix)
        on_disk = documents.corpus_fingerprint(corpus_dir)
        deleted = sorted(set(indexed) - set(on_disk))
        candidates = []
        for doc_id, (mtime, size) in on_disk.items():
            old = indexed.get(doc_id)
            if old is not None:
                old_mtime, old_size, _ = old.split(":", 2)
                if float(old_mtime) == round(mtime, 6) and int(old_size) == size:
                    stats.unchanged += 1
                    continue
            candidates.append(doc_id)
        to_write: list[Prepared] = []
        for done, doc_id in enumerate(sorted(candidates), 1):
            item = _prepare_path((str(corpus_dir / doc_id), str(corpus_dir), max_bytes))
            if progress:
                progress(done, len(candidates))
            if isinstance(item, Skipped):
                stats.skipped.append(item)
                if doc_id in indexed:
                    deleted.append(doc_id)  # it was good before; do not keep a stale copy
                continue
            old = indexed.get(doc_id)
            if old is not None and old.split(":", 2)[2] == item[0].checksum:
                stats.unchanged += 1
                continue
            stats.warnings.extend((doc_id, w) for w in item[0].warnings)
            to_write.append(item)
        if to_write or deleted:
            writer = ix.writer(limitmb=128)
            try:
                for doc_id in deleted:
                    writer.delete_by_term("id", doc_id)
                for prepared in to_write:
                    writer.update_document(**_fields(prepared))
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            stats.indexed = len(to_write)
            stats.deleted = len(deleted)
        stats.total = ix.refresh().doc_count()
        stats.seconds = time.perf_counter() - started
        if stats.changed:
            store.write_meta(
                index_dir,
                updated_at=datetime.now().isoformat(timespec="seconds"),
                documents=stats.total,
            )
    return stats
