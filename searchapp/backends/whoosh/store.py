"""Where the index lives on disk: generations, opening one safely, metadata, the lock.

An index folder holds generations: ``gen-000001/``, ``gen-000002/`` ... each a complete,
self-contained index (Whoosh's files, the sidecars, the analysis it was built with, the
synonyms, the derived data and the metadata), and ``CURRENT``, which names the one
readers use. A rebuild writes a new generation aside and switches ``CURRENT`` with one
atomic rename: readers keep the old generation (and its dictionary) until then, and a
rebuild killed at any point leaves ``CURRENT`` on the old one; the next rebuild removes
what it left. An update commits into the current generation (Whoosh's own atomic TOC).

Both the indexer and the searcher open indexes through here, so a missing, stale or
corrupt index is reported the same way everywhere (the web turns these exceptions into
a 503 page, the CLI into a one-line message).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import io
import json
import mmap
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import FileIndex

from searchapp.backends.base import (
    IndexBusy,
    IndexCorrupt,
    IndexMissing,
    IndexStale,
    IndexUnavailable,
)
from searchapp.backends.whoosh import sidecar
from searchapp.backends.whoosh.schema import INDEX_NAME, index_version
from searchapp.text.analysis import Analyzer

__all__ = ["IndexBusy", "IndexCorrupt", "IndexMissing", "IndexStale", "IndexUnavailable"]

META_FILE = "searchapp.json"
LOCK_FILE = ".searchapp.lock"
CURRENT_FILE = "CURRENT"
GENERATION_PREFIX = "gen-"
#: The analysis a generation was built with (user dictionary, learned words).
ANALYSIS_FILE = "analysis.json"
#: The synonyms a generation answers with (copied from the corpus by rebuild and update).
SYNONYMS_FILE = "synonyms.txt"
#: The words learned from the corpus by the rebuild, with their statistics.
WORDS_FILE = "words.json"


def current_generation(index_dir: Path) -> Path | None:
    """The generation folder ``CURRENT`` names, or None when there is none."""
    try:
        text = (Path(index_dir) / CURRENT_FILE).read_text(encoding="utf-8")
        name = json.loads(text)["generation"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    folder = Path(index_dir) / str(name)
    return folder if folder.name.startswith(GENERATION_PREFIX) and folder.is_dir() else None


def generation_folder(index_dir: Path) -> Path:
    """Where the current generation's files are (the index folder itself for an index
    without generations, which :func:`open_index` reports as stale)."""
    return current_generation(index_dir) or Path(index_dir)


def new_generation(index_dir: Path) -> Path:
    """A new, empty generation folder, numbered after every existing one."""
    index_dir.mkdir(parents=True, exist_ok=True)
    numbers = [
        int(p.name[len(GENERATION_PREFIX) :])
        for p in index_dir.glob(f"{GENERATION_PREFIX}*")
        if p.name[len(GENERATION_PREFIX) :].isdigit()
    ]
    folder = index_dir / f"{GENERATION_PREFIX}{max(numbers, default=0) + 1:06d}"
    folder.mkdir()
    return folder


def switch_generation(index_dir: Path, folder: Path) -> None:
    """Make ``folder`` the generation readers use: one atomic rename of ``CURRENT``."""
    _fsync_tree(folder)
    write_atomic(index_dir / CURRENT_FILE, json.dumps({"generation": folder.name}) + "\n")


def prune_generations(index_dir: Path, keep: set[Path]) -> None:
    """Remove generation folders other than ``keep`` (what a killed rebuild left, and
    generations two switches old). Call with the write lock held."""
    for folder in index_dir.glob(f"{GENERATION_PREFIX}*"):
        if folder.is_dir() and folder not in keep:
            shutil.rmtree(folder, ignore_errors=True)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (write aside, fsync, rename)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    os.fchmod(fd, 0o644)  # readable by a server running as another user, as Whoosh's files
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_atomic_bytes(path: Path, data: bytes) -> None:
    """:func:`write_atomic` for bytes."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    os.fchmod(fd, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_tree(folder: Path) -> None:
    """Flush a new generation's files to disk before ``CURRENT`` names it: a crash of the
    machine right after the switch must not leave it pointing at half-written files."""
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_meta(index_dir: Path) -> dict[str, Any]:
    """The metadata of the current generation (or of ``index_dir`` itself when it is a
    generation folder), or ``{}``."""
    try:
        text = (generation_folder(index_dir) / META_FILE).read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, ValueError):
        return {}


def write_meta(folder: Path, **values: Any) -> dict[str, Any]:
    """Merge ``values`` into the metadata of the generation ``folder`` (or the current
    generation of an index folder), atomically."""
    folder = generation_folder(folder)
    meta = read_meta(folder)
    meta.update(values)
    write_atomic(folder / META_FILE, json.dumps(meta, ensure_ascii=False, indent=2, default=str))
    return meta


def write_analysis(folder: Path, analyzer: Analyzer) -> None:
    """Keep the analysis a generation is built with inside it."""
    write_atomic(folder / ANALYSIS_FILE, json.dumps(analyzer.state(), ensure_ascii=False))


def read_analysis(folder: Path) -> Analyzer:
    """The analysis the generation ``folder`` was built with; IndexCorrupt without it."""
    try:
        state = json.loads((folder / ANALYSIS_FILE).read_text(encoding="utf-8"))
        return Analyzer.from_state(state)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(
            f"the index in {folder.parent} cannot be read (its analysis: {exc.__class__.__name__})"
        ) from None


def drop_leaked_files() -> None:
    """Close, quietly, the files Whoosh 2.7.4 leaves open when it fails to read a damaged
    index (instead of a ResourceWarning at some later garbage collection)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def index_exists(index_dir: Path) -> bool:
    """True when a Whoosh index (any version) is present in ``index_dir``."""
    folder = generation_folder(index_dir)
    # Whoosh leaves a damaged TOC file open: close it here, quietly (see open_index).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return whoosh_index.exists_in(str(folder), indexname=INDEX_NAME)
        except Exception:
            pass
        gc.collect()
    return False


def check_compatible(index_dir: Path) -> None:
    """Raise :class:`IndexStale` unless the index was built by this code's version."""
    meta = read_meta(index_dir)
    if meta.get("version") != index_version():
        raise IndexStale(
            f"the index in {index_dir} was built by {meta.get('version') or 'an unknown version'}"
            f", this program needs {index_version()}"
        )


class MappedStorage(FileStorage):
    """Whoosh's file storage, reading every index file through a read-only memory map.

    Whoosh's own keeps an open file (and a file descriptor) per segment file and reader,
    and warns when a reader is dropped without being closed; a map needs no descriptor,
    shares the page cache between processes, and stays valid when a commit deletes the
    file under a reader that still uses it.
    """

    def open_file(self, name: str, **kwargs: Any) -> StructFile:
        with open(self._fpath(name), "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            data: Any = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else io.BytesIO()
        return StructFile(data, name=name, **kwargs)


def open_index(index_dir: Path) -> FileIndex:
    """Open the current generation for reading; raise an :class:`IndexUnavailable`
    subclass if it is unusable. The FileIndex's ``storage.folder`` is the generation."""
    folder = generation_folder(index_dir)
    if not index_exists(index_dir) and not any(folder.glob(f"_{INDEX_NAME}_*.toc")):
        raise IndexMissing(f"no index in {index_dir}")
    # (a TOC that cannot be read is a damaged index, reported below, not a missing one)
    check_compatible(index_dir)
    # Whoosh 2.7.4 leaves a damaged segment file open when it fails to read it: close it
    # here, quietly, instead of a ResourceWarning at some later garbage collection.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            ix = MappedStorage(str(folder)).open_index(INDEX_NAME)
            ix.doc_count()  # touches the TOC and segment files
        except Exception as exc:  # Whoosh raises many types for damaged files
            reason = exc.__class__.__name__
        else:
            verify_segments(ix, index_dir)
            return ix
        gc.collect()
    raise IndexCorrupt(f"the index in {index_dir} cannot be read ({reason})")


def verify_segments(ix: FileIndex, label: Path | None = None) -> None:
    """Raise :class:`IndexCorrupt` when a segment's sidecar is missing or damaged, or one
    of its files is missing or not the size it was written with (as the sidecar recorded).
    Whoosh reads postings and stored fields lazily, so without this a truncated file would
    only fail in the middle of a search. A few ``stat`` calls per segment, each time
    the index is opened or refreshed. Messages name ``label`` (the index folder)."""
    folder = Path(ix.storage.folder)
    where = label if label is not None else folder.parent
    for segment in ix._segments():
        segment_id = segment.segment_id()
        side = sidecar.load(folder, segment_id)
        if side is None or side.doc_count != segment.doc_count_all():
            name = f"{segment_id}{sidecar.EXTENSION}"
            raise IndexCorrupt(
                f"the index in {where} cannot be read (file {name} is missing or damaged)"
            )
        for name, size in side.files.items():
            try:
                actual = (folder / name).stat().st_size
            except OSError:
                raise IndexCorrupt(
                    f"the index in {where} cannot be read (file {name} is missing)"
                ) from None
            if actual != size:
                raise IndexCorrupt(
                    f"the index in {where} cannot be read "
                    f"(file {name} has {actual} bytes, {size} were written)"
                )


def index_size(index_dir: Path) -> int:
    """Bytes used by the current generation's files."""
    folder = generation_folder(index_dir)
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@contextlib.contextmanager
def write_lock(index_dir: Path) -> Iterator[None]:
    """Hold the one-writer lock for a whole rebuild/update or raise :class:`IndexBusy`.

    An fcntl lock: the kernel releases it when the process dies, so a killed rebuild
    never leaves the index locked.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK_FILE, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            who = fh.read().strip()
            raise IndexBusy(
                "the index is being rebuilt or updated by another process"
                + (f" ({who})" if who else "")
                + "; try again when it has finished"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} since {datetime.now():%Y-%m-%d %H:%M:%S}\n")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
