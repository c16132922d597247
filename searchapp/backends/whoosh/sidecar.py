"""The positional half of the index: columnar postings beside each Whoosh segment.

Whoosh stores each posting's positions and character spans pickled and zlib-compressed in
blocks of 128. Reading them cost 2-3 µs a posting, so one common word (特朗普: 2,600
postings over three fields) took more than the whole budget of a search, and phrases,
proximity and highlighting paid it again; writing them was a third of a rebuild. So the
Whoosh segments keep, for the full-text fields, only what Whoosh needs for BM25F (the
documents and weights of each term, the field lengths, the stored text), and each segment
gets a sidecar file ``<segment id>.sap`` with its full-text postings as flat arrays:

* terms in byte order (Whoosh's order), each with a range of postings;
* per posting: the document number (uint32), the weight (float32, the term frequency,
  as in Whoosh's postings) and a range of occurrences;
* per occurrence: the token position and its character span in the original text;
* per document: the field's length byte (Whoosh's own lossy encoding, for BM25);
* per document: its id and fingerprint (what ``update`` compares with the corpus);
* the sizes of the segment's Whoosh files, to tell a truncated one before reading it.

The searcher maps the file and works on whole posting lists with numpy
(:mod:`searchapp.backends.whoosh.scorer`): terms, phrases, proximity and highlight spans. A segment
needs its sidecar (one missing or damaged is a damaged index, to rebuild). It is named
after its segment, so Whoosh's own clean-up deletes it with the segment, and it is written
before the commit that makes its segment visible.
"""

from __future__ import annotations

import bisect
import json
import mmap
import os
import struct
import threading
from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

EXTENSION = ".sap"
MAGIC = b"SAPOST03"
#: magic, then the JSON header's length; arrays start 8-byte aligned after the header.
_PREFIX = struct.Struct("<8sI")
_ALIGN = 8
#: Term lookups remembered per field (a query looks up the same words for every hit).
_FIND_CACHE = 50_000
_ARRAYS = (  # name, dtype, length key ("terms" + 1, "postings" (+ 1), "occurrences")
    ("term_offsets", np.uint32, "terms+1"),
    ("term_postings", np.uint32, "terms+1"),
    ("docs", np.uint32, "postings"),
    ("weights", np.float32, "postings"),
    ("post_occ", np.uint32, "postings+1"),
    ("pos", np.uint32, "occurrences"),
    ("start", np.uint32, "occurrences"),
    ("end", np.uint32, "occurrences"),
    ("lengths", np.uint8, "doc_count"),
)

Token = tuple[str, int, int, int]


class _Vocabulary(dict):
    """term -> id, numbering new terms as they are first seen."""

    def __missing__(self, key: str) -> int:
        value = self[key] = len(self)
        return value


class _Occurrences:
    """One field's occurrences as they are added: term id, document, position, span."""

    __slots__ = ("tid", "doc", "pos", "start", "end")

    def __init__(self) -> None:
        self.tid = array("I")
        self.doc = array("I")
        self.pos = array("I")
        self.start = array("I")
        self.end = array("I")


class SidecarRecorder:
    """Collects a segment's full-text occurrences while it is written, then the file.

    Documents come from :meth:`add_tokens` (the tokens the indexer gives Whoosh) and from
    :meth:`add_segment` (a segment Whoosh merges into this one, with its sidecar).
    """

    def __init__(self, fields: Iterable[str]) -> None:
        self._vocab = _Vocabulary()
        self._fields = {name: _Occurrences() for name in fields}
        self._lengths: dict[str, Sequence[int] | None] = {}
        #: every document's id and fingerprint, by document number (for ``update``)
        self._ids: list[str] = []
        self._fps: list[str] = []

    def add_document(self, docnum: int, doc_id: str, fingerprint: str) -> None:
        """A new document's id and fingerprint (documents come in number order)."""
        if docnum != len(self._ids):
            raise ValueError(f"document {docnum} added out of order")
        self._ids.append(doc_id)
        self._fps.append(fingerprint)

    def add_tokens(self, docnum: int, fieldname: str, tokens: Sequence[Token]) -> None:
        """One document's tokens for one field: (text, position, start, end)."""
        if not tokens:
            return
        occ = self._fields[fieldname]
        texts, positions, starts, ends = zip(*tokens, strict=True)
        occ.tid.extend(map(self._vocab.__getitem__, texts))
        occ.doc.extend(repeat(docnum, len(texts)))
        occ.pos.extend(positions)
        occ.start.extend(starts)
        occ.end.extend(ends)

    def add_segment(self, side: Sidecar | None, docmap: np.ndarray) -> None:
        """Every live document of a merged segment; ``docmap`` maps its document numbers
        to this segment's (-1 for a deleted document)."""
        if side is None or any(name not in side.fields for name in self._fields):
            raise RuntimeError("a merged segment has no sidecar: rebuild the index")
        live = np.flatnonzero(docmap >= 0)
        if len(live) and docmap[live[0]] != len(self._ids):
            raise ValueError("merged documents added out of order")
        ids, fps = side.doc_ids(), side.doc_fps()
        self._ids.extend(ids[i] for i in live.tolist())
        self._fps.extend(fps[i] for i in live.tolist())
        for fieldname, occ in self._fields.items():
            fa = side.fields[fieldname]
            n_terms = len(fa.term_postings) - 1
            if not n_terms:
                continue
            term_ids = np.fromiter(
                (self._vocab[fa.term(i).decode("utf-8")] for i in range(n_terms)),
                dtype=np.uint32,
                count=n_terms,
            )
            post_occ = fa.post_occ.astype(np.int64)
            per_posting = np.diff(post_occ)
            per_term = np.diff(post_occ[fa.term_postings.astype(np.int64)])
            tid = np.repeat(term_ids, per_term)
            doc = np.repeat(docmap[fa.docs.astype(np.int64)], per_posting)
            keep = doc >= 0
            occ.tid.frombytes(tid[keep].astype(np.uint32).tobytes())
            occ.doc.frombytes(doc[keep].astype(np.uint32).tobytes())
            occ.pos.frombytes(np.asarray(fa.pos)[keep].tobytes())
            occ.start.frombytes(np.asarray(fa.start)[keep].tobytes())
            occ.end.frombytes(np.asarray(fa.end)[keep].tobytes())

    def set_lengths(self, fieldname: str, length_bytes: Sequence[int] | None) -> None:
        """Every document's length byte for ``fieldname``, as Whoosh wrote it (None: no
        document has the field)."""
        self._lengths[fieldname] = length_bytes

    def finish(self, doc_count: int) -> None:
        """Sort the occurrences into posting arrays (after :meth:`set_lengths`)."""
        terms = sorted(self._vocab)
        rank = np.empty(len(terms), dtype=np.uint32)
        rank[np.fromiter(map(self._vocab.__getitem__, terms), np.int64, len(terms))] = np.arange(
            len(terms), dtype=np.uint32
        )
        self._doc_count = doc_count
        self._arrays = {
            name: _field_arrays(occ, rank, terms, doc_count, self._lengths.get(name))
            for name, occ in self._fields.items()
        }
        self._fields = {}  # the sorted arrays are all that is needed from here on

    def whoosh_postings(self, fieldname: str) -> Iterator[tuple[str, bytes, int, float, bytes]]:
        """The field's postings as Whoosh's writer takes them, in (term, document) order:
        (field, term, document, weight, value). The value is what Whoosh's ``Frequency``
        format stores, the term frequency as a big-endian uint32; the positions live in
        the sidecar."""
        arrays = self._arrays[fieldname]
        blob = arrays["blob"]
        offsets = arrays["term_offsets"].tolist()
        bounds = arrays["term_postings"].tolist()
        docs = arrays["docs"].tolist()
        weights = arrays["weights"].tolist()
        values = arrays["weights"].astype(">u4").tobytes()
        for i in range(len(bounds) - 1):
            term = blob[offsets[i] : offsets[i + 1]]
            for j in range(bounds[i], bounds[i + 1]):
                yield fieldname, term, docs[j], weights[j], values[4 * j : 4 * j + 4]

    def write(self, path: Path, files: dict[str, int] | None = None) -> None:
        """Write the sidecar (after :meth:`finish`); ``files`` are the segment's Whoosh
        files and their sizes, recorded so a reader can tell a truncated or missing file
        before it reads a posting from it."""
        header: dict[str, Any] = {"doc_count": self._doc_count, "files": files or {}, "fields": {}}
        chunks: list[bytes] = []
        offset = 0

        def put(data: bytes) -> int:
            nonlocal offset
            start = offset
            chunks.append(data)
            offset += len(data)
            pad = -offset % _ALIGN
            if pad:
                chunks.append(b"\0" * pad)
                offset += pad
            return start

        documents: dict[str, int] = {}
        for key, values in (("ids", self._ids), ("fps", self._fps)):
            blob, offsets = _strings(values)
            documents[key] = put(blob)
            documents[f"{key}_len"] = len(blob)
            documents[f"{key}_offsets"] = put(offsets.tobytes())
        header["documents"] = documents
        for name, arrays in self._arrays.items():
            info: dict[str, int] = {
                "terms": len(arrays["term_postings"]) - 1,
                "postings": len(arrays["docs"]),
                "occurrences": len(arrays["pos"]),
                "blob_len": len(arrays["blob"]),
            }
            for key in ("blob", *(a for a, _, _ in _ARRAYS)):
                data = arrays[key]
                info[key] = put(data if isinstance(data, bytes) else data.tobytes())
            header["fields"][name] = info
        head = json.dumps(header).encode("utf-8")
        prefix = _PREFIX.pack(MAGIC, len(head)) + head
        prefix += b"\0" * (-len(prefix) % _ALIGN)
        with open(path, "wb") as fh:
            fh.write(prefix)
            fh.writelines(chunks)


def _strings(values: list[str]) -> tuple[bytes, np.ndarray]:
    """UTF-8 strings as one blob and their offsets in it."""
    encoded = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.uint32)
    if encoded:
        offsets[1:] = np.cumsum([len(e) for e in encoded])
    return b"".join(encoded), offsets


def _field_arrays(
    occ: _Occurrences,
    rank: np.ndarray,
    terms: list[str],
    doc_count: int,
    length_bytes: Sequence[int] | None,
) -> dict[str, Any]:
    """Sort one field's occurrences by (term, document, position) into posting arrays."""
    tid = np.frombuffer(occ.tid, dtype=np.uint32)
    doc = np.frombuffer(occ.doc, dtype=np.uint32)
    term_rank = rank[tid]
    # Documents are added in increasing number and each one's tokens in position order,
    # so a stable sort on the term alone leaves (document, position) in order.
    order = np.argsort(term_rank, kind="stable")
    term_rank = term_rank[order]
    doc = doc[order]
    key = (term_rank.astype(np.uint64) << np.uint64(32)) | doc.astype(np.uint64)
    if len(key) > 1 and (key[1:] < key[:-1]).any():
        order = order[np.argsort(key, kind="stable")]  # not in document order: sort fully
        term_rank, doc = rank[tid][order], np.frombuffer(occ.doc, dtype=np.uint32)[order]
        key = (term_rank.astype(np.uint64) << np.uint64(32)) | doc.astype(np.uint64)
    n = len(key)
    post_start = (
        np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1]))) if n else np.zeros(0, int)
    )
    post_occ = np.append(post_start, n).astype(np.uint32)
    post_rank = term_rank[post_start]
    term_start = (
        np.flatnonzero(np.concatenate(([True], post_rank[1:] != post_rank[:-1])))
        if len(post_rank)
        else np.zeros(0, int)
    )
    term_postings = np.append(term_start, len(post_start)).astype(np.uint32)
    encoded = [terms[r].encode("utf-8") for r in post_rank[term_start].tolist()]
    term_offsets = np.zeros(len(encoded) + 1, dtype=np.uint32)
    if encoded:
        term_offsets[1:] = np.cumsum([len(t) for t in encoded])
    lengths = np.zeros(doc_count, dtype=np.uint8)
    if length_bytes is not None:
        values = np.asarray(length_bytes, dtype=np.uint8)[:doc_count]
        lengths[: len(values)] = values
    return {
        "blob": b"".join(encoded),
        "term_offsets": term_offsets,
        "term_postings": term_postings,
        "docs": doc[post_start].astype(np.uint32),
        "weights": np.diff(post_occ).astype(np.float32),
        "post_occ": post_occ,
        "pos": np.frombuffer(occ.pos, dtype=np.uint32)[order],
        "start": np.frombuffer(occ.start, dtype=np.uint32)[order],
        "end": np.frombuffer(occ.end, dtype=np.uint32)[order],
        "lengths": lengths,
    }


class _Terms:
    """The sorted term list of one field, indexable for :func:`bisect.bisect_left`."""

    __slots__ = ("blob", "offsets")

    def __init__(self, blob: bytes, offsets: memoryview) -> None:
        self.blob = blob
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> bytes:
        return self.blob[self.offsets[i] : self.offsets[i + 1]]


def _uint32_view(values: np.ndarray) -> memoryview:
    # A memoryview of ``values``' bytes: bisect and range lookups index it one item at a
    # time, several times faster than indexing a numpy array, and with no copy (a copy of
    # every field's offsets cost 0.1 s when a 68k-document index was opened).
    return memoryview(np.ascontiguousarray(values, dtype=np.uint32).data).cast("B").cast("I")


class FieldArrays:
    """One field of a sidecar: term lookup, postings, occurrences, document lengths."""

    # The arrays of _ARRAYS, mapped from the file.
    term_offsets: np.ndarray
    term_postings: np.ndarray
    docs: np.ndarray
    weights: np.ndarray
    post_occ: np.ndarray
    pos: np.ndarray
    start: np.ndarray
    end: np.ndarray
    lengths: np.ndarray

    def __init__(self, buf: Any, base: int, info: dict[str, int], doc_count: int) -> None:
        sizes = {
            "terms+1": info["terms"] + 1,
            "postings": info["postings"],
            "postings+1": info["postings"] + 1,
            "occurrences": info["occurrences"],
            "doc_count": doc_count,
        }
        for name, dtype, size in _ARRAYS:
            arr = np.frombuffer(buf, dtype=dtype, count=sizes[size], offset=base + info[name])
            setattr(self, name, arr)
        self._starts = _uint32_view(self.term_postings)
        self._found: dict[bytes, tuple[int, int] | None] = {}
        self._occ = _uint32_view(self.post_occ)
        at = base + info["blob"]
        self._terms = _Terms(
            bytes(buf[at : at + info["blob_len"]]), _uint32_view(self.term_offsets)
        )

    def term(self, i: int) -> bytes:
        """The ``i``-th term in byte order."""
        return self._terms[i]

    def find(self, term: bytes) -> tuple[int, int] | None:
        """The range of postings of ``term``, or None when the field does not have it."""
        try:
            return self._found[term]
        except KeyError:
            pass
        terms = self._terms
        i = bisect.bisect_left(terms, term)
        found = None
        if i < len(terms) and terms[i] == term:
            found = self._starts[i], self._starts[i + 1]
        if len(self._found) >= _FIND_CACHE:
            self._found.clear()
        self._found[term] = found
        return found

    def term_counts(self) -> tuple[list[bytes], np.ndarray]:
        """Every term of the field in byte order, and how many documents hold each."""
        terms = self._terms
        return [terms[i] for i in range(len(terms))], np.diff(self.term_postings.astype(np.int64))

    def postings(self, term: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """(document numbers, weights) of ``term``, or None."""
        found = self.find(term)
        if found is None:
            return None
        a, b = found
        return self.docs[a:b], self.weights[a:b]

    def spans(self, posting: int) -> list[tuple[int, int]]:
        """The character spans of one posting's occurrences."""
        a, b = self._occ[posting], self._occ[posting + 1]
        return list(zip(self.start[a:b].tolist(), self.end[a:b].tolist(), strict=True))

    def positions(self, first: int, last: int, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(document, position) of every occurrence in postings ``first``..``last`` whose
        document is in the sorted array ``docs``."""
        pdocs = self.docs[first:last]
        keep = np.flatnonzero(np.isin(pdocs, docs, assume_unique=True)) + first
        if not len(keep):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        occ = self.post_occ
        starts = occ[keep].astype(np.int64)
        counts = occ[keep + 1].astype(np.int64) - starts
        total = int(counts.sum())
        # Gather the ragged occurrence ranges without a Python loop.
        index = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        return np.repeat(self.docs[keep].astype(np.int64), counts), self.pos[index].astype(np.int64)


class Sidecar:
    """A segment's sidecar file, memory-mapped."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < _PREFIX.size:
                raise ValueError("sidecar too short")
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        magic, head_len = _PREFIX.unpack_from(self._map, 0)
        if magic != MAGIC:
            raise ValueError("not a sidecar file of this version")
        header = json.loads(bytes(self._map[_PREFIX.size : _PREFIX.size + head_len]))
        base = _PREFIX.size + head_len
        base += -base % _ALIGN
        self.doc_count: int = header["doc_count"]
        #: the segment's Whoosh files and their sizes when it was written
        self.files: dict[str, int] = header.get("files", {})
        self.fields = {
            name: FieldArrays(self._map, base, info, self.doc_count)
            for name, info in header["fields"].items()
        }
        self._base = base
        self._documents: dict[str, int] = header["documents"]
        self._strings: dict[str, list[str]] = {}
        if base + self._documents["fps_offsets"] + 4 * (self.doc_count + 1) > size:
            raise ValueError("sidecar truncated")

    def doc_ids(self) -> list[str]:
        """Every document's id, by document number (deleted ones included)."""
        return self._read_strings("ids")

    def doc_fps(self) -> list[str]:
        """Every document's fingerprint (modification time, size, checksum)."""
        return self._read_strings("fps")

    def _read_strings(self, key: str) -> list[str]:
        if key not in self._strings:
            info, base = self._documents, self._base
            offsets = _uint32_view(
                np.frombuffer(
                    self._map, np.uint32, self.doc_count + 1, base + info[f"{key}_offsets"]
                )
            )
            blob = bytes(self._map[base + info[key] : base + info[key] + info[f"{key}_len"]])
            text = blob.decode("utf-8")
            if len(text) == len(blob):  # ASCII: byte offsets are character offsets
                self._strings[key] = [
                    text[offsets[i] : offsets[i + 1]] for i in range(self.doc_count)
                ]
            else:
                self._strings[key] = [
                    blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(self.doc_count)
                ]
        return self._strings[key]


def for_reader(reader: Any) -> Sidecar | None:
    """The sidecar of a Whoosh segment reader, or None."""
    segment = getattr(reader, "segment", lambda: None)()
    folder = getattr(getattr(reader, "_storage", None), "folder", None)
    if segment is None or folder is None:
        return None
    side = load(folder, segment.segment_id())
    return side if side is not None and side.doc_count == reader.doc_count_all() else None


_cache: dict[tuple[str, int, int, int], Sidecar | None] = {}
_cache_lock = threading.Lock()
#: Sidecars kept open per process (a few per index; old segments fall out).
_CACHE_SIZE = 64


def load(folder: str | Path, segment_id: str) -> Sidecar | None:
    """The sidecar of a segment, or None when it has none that can be read.

    Cached per process: a segment never changes once written (deletions are kept by
    Whoosh, not here), and its id is never reused; the key holds the file's identity all
    the same, so a file damaged or replaced under a running process is read again (and
    reported) instead of through a stale map of it.
    """
    path = Path(folder) / f"{segment_id}{EXTENSION}"
    try:
        info = path.stat()
    except OSError:
        return None
    key = (str(path), info.st_ino, info.st_size, info.st_mtime_ns)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    try:
        side: Sidecar | None = Sidecar(path)
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        side = None
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = side
    return side
