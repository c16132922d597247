"""Build and update the on-disk index from a corpus folder. Never serves queries.

* :func:`rebuild` re-indexes everything and commits with ``mergetype=CLEAR``: readers keep
  the previous index until the single atomic commit, never an empty or half one.
* :func:`update` touches only added, changed (by checksum) and deleted files.
* :func:`index_documents` indexes an iterable of :class:`Document` (a JSON-lines dump,
  the benchmark's 68k corpus) the same way as a rebuild.

With more than a few hundred files a rebuild runs in one worker process per core: each
loads, segments and writes its own Whoosh segments from a contiguous share of the files
(a new segment every :data:`SEGMENT_WEIGHT` of text, which bounds its memory), and the
parent, which holds the locks, commits all the segments in one new TOC (no merge). Until
that single commit readers see the old index; a killed rebuild leaves only unreferenced
segment files behind, which the next commit deletes.

The writer (:class:`_Writer`) is fed the tokens directly. Of the full-text fields Whoosh
gets only each document's field length; their postings, positions, character spans and
text go to the segment's sidecar (:mod:`.sidecar`).
"""

from __future__ import annotations

import functools
import json
import os
import queue
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import formats
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3PerDocReader, _lenfield
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

from searchapp import documents
from searchapp.backends.whoosh import sidecar, store
from searchapp.backends.whoosh.schema import INDEX_NAME, TEXT_FIELDS, build_schema, index_version
from searchapp.backends.whoosh.tokenizer import Pretokenized
from searchapp.documents import Document, Skipped
from searchapp.indexing import (
    BuildStats,
    Prepared,
    Progress,
    corpus_paths,
    die_with_parent,
    fingerprint,
    learn_apart,
    plan_rebuild,
    plan_update,
    prepare_document,
    texts_of_documents,
)
from searchapp.text.analysis import Analyzer

#: Below this many files a worker pool costs more (process start-up) than it saves.
POOL_THRESHOLD = 400
#: Whoosh's posting pool per writer: it holds only the filter fields' postings (the full
#: text goes through the sidecar recorder), so it never comes near this.
LIMIT_MB = 64
#: The file of articles read while learning new words (``<prefix><pid>`` in the index
#: folder, removed when the rebuild ends; one left by a killed rebuild goes at the next).
SPOOL_PREFIX = ".articles-read-"
#: Documents a worker handles between two progress messages to the parent.
PROGRESS_EVERY = 32
#: How much text (file bytes, or characters for documents given directly) goes into one
#: segment: a writer's memory (the occurrences it sorts for the sidecar) grows with it.
SEGMENT_WEIGHT = 32_000_000


def _default_procs(n_items: int) -> int:
    return min(2, os.cpu_count() or 1) if n_items >= POOL_THRESHOLD else 1


def _split(items: Sequence[Any], weights: Sequence[int], parts: int) -> list[Sequence[Any]]:
    """``parts`` contiguous slices of ``items`` with about equal total weight.

    Contiguous, so the documents keep their order (and document numbers) across segments.
    """
    total = sum(weights) or 1
    bounds = [0]
    acc = 0
    for i, w in enumerate(weights):
        acc += w
        if len(bounds) < parts and acc >= total * len(bounds) / parts:
            bounds.append(i + 1)
    while len(bounds) < parts:
        bounds.append(len(items))
    bounds.append(len(items))
    return [items[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _path_weight(item: tuple[str, str, int]) -> int:
    try:
        return os.stat(item[0]).st_size + 512
    except OSError:
        return 512


def _doc_weight(doc: Document) -> int:
    return len(doc.title) + len(doc.summary) + len(doc.body) + 200


# -- writing ---------------------------------------------------------------------------


def _fields(prepared: Prepared) -> dict[str, Any]:
    doc, tokens = prepared
    values: dict[str, Any] = {
        "id": doc.id,
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
        # Indexed for the field length only: the postings, positions and the text itself
        # go to the sidecar.
        values[name] = Pretokenized(getattr(doc, name), tokens[name])
    # Whoosh rejects None for some field types; empty strings index nothing.
    return {k: v for k, v in values.items() if v is not None and v != ""}


class _Lengths:
    """Field lengths of a just-written segment, read once per field instead of once per
    posting (Whoosh's flush asks for the length of every posting's document)."""

    def __init__(self, pdr: Any) -> None:
        self._pdr = pdr
        self._cache: dict[str, list[int] | None] = {}

    def length_bytes(self, fieldname: str) -> list[int] | None:
        """Every document's length byte for ``fieldname``; None when no document has it."""
        if fieldname not in self._cache:
            reader = self._pdr._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            self._cache[fieldname] = None if reader is None else list(reader)
        return self._cache[fieldname]

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        values = self.length_bytes(fieldname)
        if values is None:
            return default
        lbyte = values[docnum]
        return byte_to_length(lbyte) if lbyte else None


class _Writer(SegmentWriter):
    """A ``SegmentWriter`` fed prepared tokens: the same postings, stored fields and
    columns as ``add_document`` writes for our schema, without Whoosh's per-token
    ``Token`` objects (pure Python, and most of the writer's time)."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        # Separate segment files, not one compound file: opening a compound segment,
        # Whoosh copies each of its sub-files into memory (BytesIO over the mmap), which
        # cost every new process 0.3 s and a private copy of the whole index.
        kwargs.setdefault("compound", False)
        super().__init__(ix, **kwargs)

    @property
    def recorder(self) -> sidecar.SidecarRecorder:
        """The occurrences of this writer's new segment, for its sidecar file."""
        rec = self.__dict__.get("_recorder")
        if rec is None:
            rec = self.__dict__["_recorder"] = sidecar.SidecarRecorder(TEXT_FIELDS)
        return rec

    def add_document(self, **fields: Any) -> None:
        # Whoosh's own path would index the text without the sidecar's positions.
        raise TypeError("searchapp's writer takes documents through add_prepared()")

    def add_reader(self, reader: Any) -> None:
        # A segment merged into this one (an update's merge): its sidecar's occurrences
        # follow it, renumbered as Whoosh renumbers the documents (deleted ones dropped).
        base = self.docnum
        super().add_reader(reader)
        segment = reader.segment() if hasattr(reader, "segment") else None
        if segment is None:
            raise RuntimeError("a merged segment has no sidecar: rebuild the index")
        count = reader.doc_count_all()
        live = np.ones(count, dtype=bool)
        if reader.has_deletions():
            live[list(segment.deleted_docs())] = False
        docmap = np.where(live, base + np.cumsum(live) - 1, -1)
        side = sidecar.load(self.storage.folder, segment.segment_id())
        self.recorder.add_segment(side, docmap)

    def add_prepared(self, prepared: Prepared) -> None:
        self._check_state()
        fields = _fields(prepared)
        schema = self.schema
        perdoc = self.perdocwriter
        add_post = self.pool.add
        docnum = self.docnum
        recorder = self.recorder
        doc = prepared[0]
        filters: dict[str, list[str]] = {}
        perdoc.start_doc(docnum)
        for name in sorted(fields):
            value = fields[name]
            fieldobj = schema[name]
            length = 0
            if isinstance(value, Pretokenized):
                # Full text: only the sidecar has its postings.
                recorder.add_tokens(docnum, name, value.tokens)
                length = len(value.tokens)
            elif fieldobj.indexed:
                scorable = fieldobj.scorable
                terms = filters[name] = []
                for tbytes, freq, weight, vbytes in fieldobj.index(value):
                    if scorable:
                        length += freq
                    add_post((name, tbytes, docnum, weight, vbytes))
                    terms.append(tbytes.decode("utf-8"))
            stored = value if fieldobj.stored else None
            perdoc.add_field(name, fieldobj, stored, length)
            column = fieldobj.column_type
            if column and stored is not None:
                perdoc.add_column_value(name, column, fieldobj.to_column_value(stored))
        perdoc.finish_doc()
        # The sidecar keeps the filter values as Whoosh indexed them, and the date as a
        # number, for the filters, facets and date order (no process reads them back out
        # of Whoosh's postings and columns).
        date = schema["date"].to_column_value(doc.date) if doc.date is not None else 0
        texts = tuple(getattr(doc, name) or "" for name in TEXT_FIELDS)
        filters.pop("id", None)
        recorder.add_document(docnum, doc.id, fingerprint(doc), texts, date, filters)
        self._added = True
        self.docnum += 1

    def _flush_segment(self) -> None:
        # SegmentWriter._flush_segment, with the field lengths read once per field, and
        # their length bytes given to the segment's sidecar.
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        if not isinstance(pdr, W3PerDocReader):
            raise TypeError("searchapp's writer needs Whoosh's W3 codec with length stats")
        lengths = _Lengths(pdr)
        recorder = self.recorder
        for name in TEXT_FIELDS:
            recorder.set_lengths(name, lengths.length_bytes(name))
        recorder.finish(self.docnum)
        postings = _other_fields(self.pool.iter_postings())
        self.fieldwriter.add_postings(self.schema, lengths, postings)
        self.fieldwriter.close()
        pdr.close()

    def _finalize_segment(self) -> Any:
        # After Whoosh assembled the segment (a sidecar must not go into its compound
        # file), and before any commit can make the segment visible.
        segment = super()._finalize_segment()
        recorder = self.__dict__.pop("_recorder")
        storage = self.storage
        files = {name: storage.file_length(name) for name in segment.list_files(storage)}
        recorder.write(Path(storage.folder) / f"{segment.segment_id()}{sidecar.EXTENSION}", files)
        return segment

    def private_temp_storage(self) -> None:
        """Give this writer a temporary folder of its own (worker processes)."""
        self._tempstorage = self.storage.temp_storage(f"{self.indexname}.{os.getpid()}.tmp")
        self.pool.tempstore = self._tempstorage

    def finish_segment(self) -> Any:
        """Write the segment's files; return the segment (None when nothing was added)."""
        if not self._added:
            self._close_segment()
            return None
        return self._finalize_segment()


def _other_fields(pool: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """The pool's postings of the fields Whoosh indexes. Full-text postings can only come
    from segments of an older layout merged in (the store refuses those): dropped."""
    for posting in pool:
        if posting[0] not in TEXT_FIELDS:
            yield posting


def _check_schema(schema: Any) -> None:
    """:class:`_Writer` knows our schema's formats; refuse anything else loudly."""
    for name in TEXT_FIELDS:
        fieldobj = schema[name]
        if type(fieldobj.format) is not formats.Frequency or fieldobj.vector:
            raise TypeError(f"field {name!r}: the writer expects Frequency postings")
        if fieldobj.separate_spelling():
            raise TypeError(f"field {name!r}: spelling fields are not supported")


def _keep_synonyms(folder: Path, corpus: Path | None) -> bool:
    """Copy the corpus's synonyms file into the generation ``folder`` (none: an empty
    one); True when that changed what the generation answers with."""
    source = corpus / "synonyms.txt" if corpus is not None else None
    text = ""
    if source is not None and source.is_file():
        try:
            text = source.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            text = ""
    target = folder / store.SYNONYMS_FILE
    try:
        if target.read_text(encoding="utf-8") == text:
            return False
    except OSError:
        pass
    store.write_atomic(target, text)
    return True


@dataclass
class _Written:
    """What writing a share of the items made."""

    segments: list[Any] = field(default_factory=list)
    count: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)


def _write_share(
    ix: whoosh_index.FileIndex,
    func: Callable[[Any], Prepared | Skipped],
    items: Sequence[Any],
    weights: Sequence[int],
    report: Callable[[int], None],
    every: int = 1,
) -> _Written:
    """Prepare ``items`` and write them into new segments, a new one every
    :data:`SEGMENT_WEIGHT` (what a writer holds in memory grows with its segment).
    ``report(n)`` is called with the number of items done, every ``every`` items."""
    out = _Written()
    writer: _Writer | None = None
    load = 0
    done = 0

    def finish() -> None:
        nonlocal writer, load
        if writer is not None:
            segment = writer.finish_segment()
            writer._tempstorage.destroy()
            if segment is not None:
                out.segments.append(segment)
                out.count += writer.doc_count()
        writer, load = None, 0

    for item, item_weight in zip(items, weights, strict=True):
        result = func(item)
        if isinstance(result, Skipped):
            out.skipped.append(result)
        else:
            out.warnings.extend((result[0].id, w) for w in result[0].warnings)
            if writer is None:
                writer = _Writer(ix, _lk=False, limitmb=LIMIT_MB)
                writer.private_temp_storage()
            writer.add_prepared(result)
            load += item_weight
            if load >= SEGMENT_WEIGHT:
                finish()
        done += 1
        if done == every:
            report(done)
            done = 0
    finish()
    if done:
        report(done)
    return out


def _worker(
    ix: whoosh_index.FileIndex,
    func: Callable[[Any], Prepared | Skipped],
    items: Sequence[Any],
    weights: Sequence[int],
    share: int,
    messages: Any,
) -> None:
    """Worker process: prepare ``items`` and write them into segments of its own."""
    die_with_parent()
    parent = os.getppid()

    def report(n: int) -> None:
        if os.getppid() != parent:
            os._exit(1)
        messages.put(("progress", n))

    try:
        written = _write_share(ix, func, items, weights, report, PROGRESS_EVERY)
        messages.put(("done", share, written))
    except BaseException:
        messages.put(("error", traceback.format_exc()))
        raise


def _write_parallel(
    ix: whoosh_index.FileIndex,
    func: Callable[[Any], Prepared | Skipped],
    items: Sequence[Any],
    weights: Sequence[int],
    procs: int,
    progress: Callable[[int], None],
) -> list[_Written]:
    """Run one writer per share of ``items`` in worker processes; return what they wrote,
    in the order of ``items``."""
    ctx = get_context("fork")
    messages = ctx.Queue()
    bounds = _split(list(range(len(items))), weights, procs)
    workers = [
        ctx.Process(
            target=_worker,
            args=(ix, func, [items[i] for i in b], [weights[i] for i in b], n, messages),
            daemon=True,
        )
        for n, b in enumerate(bounds)
    ]
    results: dict[int, _Written] = {}
    try:
        for w in workers:
            w.start()
        while len(results) < len(workers):
            try:
                msg = messages.get(timeout=1.0)
            except queue.Empty:
                dead = [w for w in workers if w.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(
                        f"indexing worker exited with code {dead[0].exitcode}"
                    ) from None
                continue
            if msg[0] == "error":
                raise RuntimeError(f"indexing worker failed:\n{msg[1]}")
            if msg[0] == "done":
                results[msg[1]] = msg[2]
            else:
                progress(msg[1])
        for w in workers:
            w.join()
    except BaseException:
        for w in workers:
            if w.is_alive():
                w.kill()
            if w.pid is not None:
                w.join()
        raise
    finally:
        messages.close()
        messages.join_thread()
    return [results[n] for n in sorted(results)]  # documents keep their order


def _write_all(
    index_dir: Path,
    func: Callable[[Any], Prepared | Skipped],
    items: Sequence[Any],
    weight: Callable[[Any], int],
    procs: int | None,
    stats: BuildStats,
    progress: Progress | None,
    total: int,
    corpus: str,
    analyzer: Analyzer,
    corpus_dir: Path | None = None,
    words: tuple[dict[str, Any], ...] = (),
    started: float | None = None,
) -> BuildStats:
    """Write every item into a new generation of the index and switch readers to it.

    The new generation is written aside (its own folder), complete with the analysis it
    was built with and the synonyms; one atomic rename of ``CURRENT`` then makes it the
    index. Until then readers keep the old generation; a writer killed at any point
    leaves it in place, and the next rebuild removes the half-written folder.
    """
    if started is None:  # the time spent learning the new words counts too
        started = time.perf_counter()
    previous = store.current_generation(index_dir)
    store.prune_generations(index_dir, keep={p for p in [previous] if p is not None})
    folder = store.new_generation(index_dir)
    ix = whoosh_index.create_in(str(folder), build_schema(), indexname=INDEX_NAME)
    _check_schema(ix.schema)
    if procs is None:
        procs = _default_procs(len(items))
    # The parent's writer holds Whoosh's lock and writes the TOC; the segments are
    # written by other writers (in worker processes, or here one after the other).
    writer = _Writer(ix, limitmb=LIMIT_MB)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    try:
        weights = [weight(item) for item in items]
        if procs <= 1:
            shares = [_write_share(ix, func, items, weights, advance)]
        else:
            shares = _write_parallel(ix, func, items, weights, procs, advance)
        segments = []
        for share in shares:
            segments.extend(share.segments)
            stats.indexed += share.count
            stats.skipped.extend(share.skipped)
            stats.warnings.extend(share.warnings)
        writer._close_segment()
        writer._commit_toc(segments)  # CLEAR: only the new segments, in one atomic TOC
        writer._finish()
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    ix = ix.refresh()
    stats.total = _doc_count(ix)
    store.write_analysis(folder, analyzer)
    store.write_atomic(folder / store.WORDS_FILE, json.dumps(list(words), ensure_ascii=False))
    stats.learned = len(analyzer.learned)
    _keep_synonyms(folder, corpus_dir)
    stats.seconds = time.perf_counter() - started
    now = datetime.now().isoformat(timespec="seconds")
    store.write_meta(
        folder,
        version=index_version(),
        analyzer=analyzer.fingerprint,
        userdict=analyzer.userdict_sha1,
        learned=len(analyzer.learned),
        corpus=corpus,
        built_at=now,
        updated_at=now,
        documents=stats.total,
        segments=len(ix._segments()),
        build_seconds=round(stats.seconds, 2),
        skipped=len(stats.skipped),
    )
    store.switch_generation(index_dir, folder)
    # The generation before stays until the next rebuild: a reader still on it (a
    # request that began before the switch) keeps its files.
    store.prune_generations(index_dir, keep={p for p in [folder, previous] if p is not None})
    return stats


def rebuild(
    corpus_dir: Path,
    index_dir: Path,
    *,
    analyzer: Analyzer,
    progress: Progress | None = None,
    procs: int | None = None,
    max_bytes: int = documents.DEFAULT_MAX_BYTES,
    learn: bool = True,
) -> BuildStats:
    """Index every article under ``corpus_dir`` into ``index_dir``, replacing its content.

    With ``learn``, words the dictionary does not know are first learned from the
    articles (:func:`searchapp.indexing.learn_words`) and join the analysis of the new
    generation. Raises :class:`FileNotFoundError` for a missing corpus and
    :class:`store.IndexBusy` if another process is writing.
    """
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    started = time.perf_counter()
    with store.write_lock(index_dir):
        stats = BuildStats("rebuild")
        paths = corpus_paths(corpus_dir, max_bytes, stats)
        for stale in index_dir.glob(f"{SPOOL_PREFIX}*"):  # of a rebuild killed before
            stale.unlink(missing_ok=True)
        spool_path = index_dir / f"{SPOOL_PREFIX}{os.getpid()}"
        try:
            plan = plan_rebuild(paths, analyzer, procs, learn, spool_path)
            return _write_all(
                index_dir,
                plan.func,
                plan.items,
                plan.weight or _path_weight,
                procs,
                stats,
                progress,
                len(paths),
                str(corpus_dir),
                plan.analyzer,
                corpus_dir,
                plan.words,
                started,
            )
        finally:
            spool_path.unlink(missing_ok=True)


def index_documents(
    docs: Iterable[Document],
    index_dir: Path,
    *,
    analyzer: Analyzer,
    progress: Progress | None = None,
    procs: int | None = None,
    total: int = 0,
    learn: bool = True,
) -> BuildStats:
    """Rebuild ``index_dir`` from documents that do not come from a folder (learning new
    words from them first, with ``learn``)."""
    with store.write_lock(index_dir):
        items = docs if isinstance(docs, list) else list(docs)
        words: tuple[dict[str, Any], ...] = ()
        if learn:
            learned = learn_apart(lambda: texts_of_documents(items), analyzer)
            analyzer, words = learned.analyzer, learned.words
            analyzer.segment("")  # set the segmenter up once, before the workers fork
        return _write_all(
            index_dir,
            functools.partial(prepare_document, analyzer),
            items,
            _doc_weight,
            procs,
            BuildStats("rebuild"),
            progress,
            total or len(items),
            "(documents)",
            analyzer,
            None,
            words,
        )


def _doc_count(ix: whoosh_index.FileIndex) -> int:
    """Live documents, from the TOC (``ix.doc_count()`` opens every segment's files)."""
    return sum(segment.doc_count() for segment in ix._segments())


def needs_rebuild(index_dir: Path) -> bool:
    """True when there is no index in ``index_dir`` that this code can search."""
    try:
        store.open_index(index_dir)
    except store.IndexUnavailable:
        return True
    return False


def check_dictionary(index_dir: Path, analyzer: Analyzer) -> None:
    """Raise :class:`IndexStale` when the corpus's user dictionary (``analyzer``) is not
    the one the index was built with: ``update`` cannot mix the two."""
    built = store.read_meta(index_dir).get("userdict", "")
    if built != analyzer.userdict_sha1:
        raise store.IndexStale(
            f"the user dictionary (userdict.txt) changed since the index in {index_dir} was "
            "built; the index keeps serving with the old one until a rebuild"
        )


def indexed_fingerprints(ix: whoosh_index.FileIndex) -> dict[str, str]:
    """id -> fingerprint of every live document, read from the sidecars (Whoosh's columns
    took 2 s for 68k documents)."""
    out: dict[str, str] = {}
    with ix.reader() as reader:
        leaves = reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]
        for leaf, _ in leaves:
            side = sidecar.for_reader(leaf)
            if side is None:
                raise store.IndexCorrupt(f"a segment of {ix.storage.folder} has no sidecar")
            gone = set(leaf.segment().deleted_docs()) if leaf.has_deletions() else set()
            for n, (doc_id, fp) in enumerate(zip(side.doc_ids(), side.doc_fps(), strict=True)):
                if n not in gone:
                    out[doc_id] = fp
    return out


def update(
    corpus_dir: Path,
    index_dir: Path,
    *,
    analyzer: Analyzer,
    progress: Progress | None = None,
    max_bytes: int = documents.DEFAULT_MAX_BYTES,
) -> BuildStats:
    """Bring the index in line with ``corpus_dir``, touching only what changed.

    A file whose modification time and size are unchanged is not read; one whose
    content checksum is unchanged is not re-indexed.
    """
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    started = time.perf_counter()
    stats = BuildStats("update")
    with store.write_lock(index_dir):
        ix = store.open_index(index_dir)
        check_dictionary(index_dir, analyzer)
        # The index's own analysis (with the words learned at the last rebuild), not only
        # the corpus's dictionary: an update adds to what the rebuild made.
        analyzer = store.read_analysis(Path(ix.storage.folder))
        indexed = indexed_fingerprints(ix)
        to_write, deleted = plan_update(corpus_dir, indexed, analyzer, stats, progress, max_bytes)
        if to_write or deleted:
            writer = _Writer(ix, limitmb=128)
            try:
                for doc_id in deleted:
                    writer.delete_by_term("id", doc_id)
                for prepared in to_write:
                    writer.delete_by_term("id", prepared[0].id)
                    writer.add_prepared(prepared)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            stats.indexed = len(to_write)
            stats.deleted = len(deleted)
        stats.total = _doc_count(ix.refresh())
        # An edited synonyms file is picked up too: readers reopen when the metadata
        # changes, and read the generation's synonyms again.
        synonyms_changed = _keep_synonyms(Path(ix.storage.folder), corpus_dir)
        stats.seconds = time.perf_counter() - started
        if stats.changed or synonyms_changed:
            store.write_meta(
                index_dir,
                updated_at=datetime.now().isoformat(timespec="seconds"),
                documents=stats.total,
            )
    return stats
