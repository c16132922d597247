"""Where the index lives on disk: opening it safely, its metadata, the writer lock.

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

__all__ = ["IndexBusy", "IndexCorrupt", "IndexMissing", "IndexStale", "IndexUnavailable"]

META_FILE = "searchapp.json"
LOCK_FILE = ".searchapp.lock"


def read_meta(index_dir: Path) -> dict[str, Any]:
    """The metadata recorded by the last build, or ``{}``."""
    try:
        return json.loads((index_dir / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_meta(index_dir: Path, **values: Any) -> dict[str, Any]:
    """Merge ``values`` into the metadata file, atomically (write aside, then rename)."""
    meta = read_meta(index_dir)
    meta.update(values)
    fd, tmp = tempfile.mkstemp(dir=index_dir, prefix=".meta-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(meta, fh, ensure_ascii=False, indent=2, default=str)
    os.replace(tmp, index_dir / META_FILE)
    return meta


def drop_leaked_files() -> None:
    """Close, quietly, the files Whoosh 2.7.4 leaves open when it fails to read a damaged
    index (instead of a ResourceWarning at some later garbage collection)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def index_exists(index_dir: Path) -> bool:
    """True when a Whoosh index (any version) is present in ``index_dir``."""
    # Whoosh leaves a damaged TOC file open: close it here, quietly (see open_index).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return whoosh_index.exists_in(str(index_dir), indexname=INDEX_NAME)
        except Exception:
            pass
        gc.collect()
    return False


def check_compatible(index_dir: Path, analyzer: str | None = None) -> None:
    """Raise :class:`IndexStale` unless the index matches this code's version and, given
    an analyzer fingerprint, that analyzer."""
    meta = read_meta(index_dir)
    if meta.get("version") != index_version():
        raise IndexStale(
            f"the index in {index_dir} was built by {meta.get('version') or 'an unknown version'}"
            f", this program needs {index_version()}"
        )
    if analyzer is not None and meta.get("analyzer") != analyzer:
        raise IndexStale(
            f"the index in {index_dir} was built with another user dictionary "
            "(the dictionary changed since the last build)"
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


def open_index(index_dir: Path, analyzer: str | None = None) -> FileIndex:
    """Open the index for reading; raise an :class:`IndexUnavailable` subclass if unusable."""
    if not index_exists(index_dir) and not any(Path(index_dir).glob(f"_{INDEX_NAME}_*.toc")):
        raise IndexMissing(f"no index in {index_dir}")
    # (a TOC that cannot be read is a damaged index, reported below, not a missing one)
    check_compatible(index_dir, analyzer)
    # Whoosh 2.7.4 leaves a damaged segment file open when it fails to read it: close it
    # here, quietly, instead of a ResourceWarning at some later garbage collection.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            ix = MappedStorage(str(index_dir)).open_index(INDEX_NAME)
            ix.doc_count()  # touches the TOC and segment files
        except Exception as exc:  # Whoosh raises many types for damaged files
            reason = exc.__class__.__name__
        else:
            verify_segments(ix)
            return ix
        gc.collect()
    raise IndexCorrupt(f"the index in {index_dir} cannot be read ({reason})")


_verified: set[str] = set()


def verify_segments(ix: FileIndex) -> None:
    """Raise :class:`IndexCorrupt` when a segment's sidecar is missing or damaged, or one
    of its files is missing or not the size it was written with (as the sidecar recorded).
    Whoosh reads postings and stored fields lazily, so without this a truncated file would
    only fail in the middle of a search. Each segment is checked once per process:
    segment files never change."""
    folder = Path(ix.storage.folder)
    for segment in ix._segments():
        segment_id = segment.segment_id()
        key = f"{folder}/{segment_id}"
        if key in _verified:
            continue
        side = sidecar.load(folder, segment_id)
        if side is None or side.doc_count != segment.doc_count_all():
            name = f"{segment_id}{sidecar.EXTENSION}"
            raise IndexCorrupt(
                f"the index in {folder} cannot be read (file {name} is missing or damaged)"
            )
        for name, size in side.files.items():
            try:
                actual = (folder / name).stat().st_size
            except OSError:
                raise IndexCorrupt(
                    f"the index in {folder} cannot be read (file {name} is missing)"
                ) from None
            if actual != size:
                raise IndexCorrupt(
                    f"the index in {folder} cannot be read "
                    f"(file {name} has {actual} bytes, {size} were written)"
                )
        _verified.add(key)


def index_size(index_dir: Path) -> int:
    """Bytes used by the index files."""
    return sum(p.stat().st_size for p in index_dir.glob("*") if p.is_file())


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
