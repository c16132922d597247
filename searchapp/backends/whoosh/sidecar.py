"""The full-text half of the index: a compact file beside each Whoosh segment.

Whoosh keeps the segments, the deletions, the ids, dates and filter fields, and the field
lengths. Everything about the full-text fields lives in the segment's sidecar file
``<segment id>.sap``, laid out for numpy to work on whole posting lists straight from a
memory map (Whoosh's pickled, zlib-compressed posting blocks cost 2-3 µs a posting to
read, more than a whole search's budget for one common word):

* per field, the terms in byte order (Whoosh's order), each with a range of postings and
  the index of its first occurrence;
* per posting: the document number and the term frequency;
* per occurrence: the token position and its character span (start, length) in the
  original text, for phrases, proximity and whole-word highlights;
* per document: the field's length byte (Whoosh's own lossy encoding, for BM25);
* per document: its id and fingerprint (what ``update`` compares with the corpus), its
  date (the filters and date sorting read it), its title (the suggestions read all) and
  the length of its title's key (:mod:`searchapp.text.naming`: the few titles short
  enough for a query to name are the only ones read);
* per filter field: its values, each with the documents that have it (filters, facets);
* the stored text of the full-text fields, in zlib blocks of about :data:`BLOCK_BYTES`;
* the sizes of the segment's Whoosh files, to tell a truncated one before reading it.

Each integer array has the narrowest type its values need in that segment (document
numbers and positions fit 16 bits in most segments, span lengths 8), and an occurrence's
index is not stored per posting but summed from the term frequencies of its term's
postings: 5 bytes an occurrence and 3-4 a posting, where 12 and 12 were spent before.

A segment needs its sidecar (one missing or damaged is a damaged index, to rebuild). It is
named after its segment, so Whoosh's own clean-up deletes it with the segment, and it is
written before the commit that makes its segment visible.
"""

from __future__ import annotations

import bisect
import json
import mmap
import os
import struct
import threading
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from searchapp.text import naming

EXTENSION = ".sap"
MAGIC = b"SAPOST07"
#: magic, then the JSON header's length; arrays start 8-byte aligned after the header.
_PREFIX = struct.Struct("<8sI")
_ALIGN = 8
#: Term lookups remembered per field (a query looks up the same words for every hit).
_FIND_CACHE = 50_000
#: Raw bytes of stored text per compressed block. A hit shown on a page decompresses one
#: block (about 0.1 ms); on news-hugo + news-txt (34 MB of text) blocks of about 8
#: articles take 15.5 MB where one article a block took 21.7, and 16 articles 14.9.
BLOCK_BYTES = 16_384
_ZLIB_LEVEL = 6
#: Decompressed text blocks kept per sidecar (the hits of the last few pages).
_BLOCK_CACHE = 32
_LENGTH = struct.Struct("<I")
#: name, length key, fixed dtype (None: the narrowest unsigned type for the segment).
_ARRAYS: tuple[tuple[str, str, Any], ...] = (
    ("term_offsets", "terms+1", np.uint32),
    ("term_postings", "terms+1", np.uint32),
    ("term_occ", "terms+1", np.uint32),
    ("docs", "postings", None),
    ("tf", "postings", None),
    ("pos", "occurrences", None),
    ("start", "occurrences", None),
    ("span", "occurrences", None),
    ("lengths", "doc_count", np.uint8),
)

Token = tuple[str, int, int, int]
#: A term found in a field: its first and past-the-last posting, and its first occurrence.
Found = tuple[int, int, int]


def narrow(values: np.ndarray) -> np.ndarray:
    """``values`` (non-negative integers) in the narrowest unsigned type that holds them."""
    top = int(values.max()) if len(values) else 0
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return values.astype(dtype, copy=False)
    return values.astype(np.uint64, copy=False)


class _Vocabulary(dict):
    """term -> id, numbering new terms as they are first seen."""

    def __missing__(self, key: str) -> int:
        value = self[key] = len(self)
        return value


class _Occurrences:
    """One field's occurrences as they are added: term id, document, position, span."""

    __slots__ = ("tid", "doc", "pos", "start", "span")

    def __init__(self) -> None:
        self.tid = array("I")
        self.doc = array("I")
        self.pos = array("I")
        self.start = array("I")
        self.span = array("I")


def encode_texts(texts: Sequence[str]) -> bytes:
    """One document's stored texts as one record: each a uint32 length and UTF-8."""
    parts = []
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        parts.append(_LENGTH.pack(len(data)))
        parts.append(data)
    return b"".join(parts)


def decode_texts(record: bytes | memoryview, count: int) -> tuple[str, ...]:
    """The ``count`` texts of a record made by :func:`encode_texts`."""
    out = []
    at = 0
    for _ in range(count):
        (n,) = _LENGTH.unpack_from(record, at)
        at += _LENGTH.size
        out.append(bytes(record[at : at + n]).decode("utf-8", "surrogatepass"))
        at += n
    return tuple(out)


def _record_end(data: bytes, at: int, count: int) -> int:
    for _ in range(count):
        (n,) = _LENGTH.unpack_from(data, at)
        at += _LENGTH.size + n
    return at


class _TextBlocks:
    """Stored-text records compressed in blocks as they come."""

    def __init__(self) -> None:
        self.blocks: list[bytes] = []
        #: the number of the first document of each block
        self.first: list[int] = []
        self.count = 0
        self._pending: list[bytes] = []
        self._size = 0

    def add(self, record: bytes) -> None:
        self._pending.append(record)
        self._size += len(record)
        self.count += 1
        if self._size >= BLOCK_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self.first.append(self.count - len(self._pending))
            self.blocks.append(zlib.compress(b"".join(self._pending), _ZLIB_LEVEL))
            self._pending, self._size = [], 0


class SidecarRecorder:
    """Collects a segment's full text while it is written, then writes the file.

    Documents come from :meth:`add_document` and :meth:`add_tokens` (what the indexer gives
    Whoosh) and from :meth:`add_segment` (a segment Whoosh merges into this one, with its
    sidecar).
    """

    def __init__(self, fields: Iterable[str]) -> None:
        self._names = tuple(fields)
        self._vocab = _Vocabulary()
        self._fields = {name: _Occurrences() for name in self._names}
        self._lengths: dict[str, Sequence[int] | None] = {}
        #: every document's id and fingerprint, by document number (for ``update``)
        self._ids: list[str] = []
        self._fps: list[str] = []
        #: the first field's text again, uncompressed (the suggestion vocabulary reads every
        #: title: decompressing every block for them took most of its reading)
        self._titles: list[str] = []
        #: the length of each title's key (:func:`searchapp.text.naming.title_key`): the
        #: titles a query may name are found without reading the others
        self._title_keys = array("H")
        self._dates = array("q")
        #: filter field -> value -> its documents
        self._filters: dict[str, dict[str, list[int]]] = {}
        self._texts = _TextBlocks()

    def add_document(
        self,
        docnum: int,
        doc_id: str,
        fingerprint: str,
        texts: Sequence[str],
        date: int = 0,
        filters: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """A new document: its id, fingerprint, stored texts (one per field, in the order
        the recorder was given its fields), date (a positive number, 0 when undated) and
        filter values by field; documents come in number order."""
        if docnum != len(self._ids):
            raise ValueError(f"document {docnum} added out of order")
        if len(texts) != len(self._names):
            raise ValueError("one text per full-text field")
        self._ids.append(doc_id)
        self._fps.append(fingerprint)
        self._titles.append(texts[0])
        self._title_keys.append(min(len(naming.title_key(texts[0])), 0xFFFF))
        self._dates.append(date)
        self._texts.add(encode_texts(texts))
        for fieldname, values in (filters or {}).items():
            by_value = self._filters.setdefault(fieldname, {})
            for value in values:
                docs = by_value.setdefault(value, [])
                if not docs or docs[-1] != docnum:
                    docs.append(docnum)

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
        occ.span.extend(map(int.__sub__, ends, starts))

    def add_segment(self, side: Sidecar | None, docmap: np.ndarray) -> None:
        """Every live document of a merged segment; ``docmap`` maps its document numbers
        to this segment's (-1 for a deleted document)."""
        if side is None or any(name not in side.fields for name in self._fields):
            raise RuntimeError("a merged segment has no sidecar: rebuild the index")
        if side.text_fields != self._names:
            raise RuntimeError("a merged segment stores other fields: rebuild the index")
        live = np.flatnonzero(docmap >= 0)
        if len(live) and docmap[live[0]] != len(self._ids):
            raise ValueError("merged documents added out of order")
        ids, fps = side.doc_ids(), side.doc_fps()
        self._ids.extend(ids[i] for i in live.tolist())
        self._fps.extend(fps[i] for i in live.tolist())
        titles = side.titles()
        self._titles.extend(titles[i] for i in live.tolist())
        self._title_keys.frombytes(side.title_keys[live].astype(np.uint16).tobytes())
        self._dates.frombytes(side.dates[live].astype(np.int64).tobytes())
        for fieldname in side.filter_fields():
            by_value = self._filters.setdefault(fieldname, {})
            for value, docs in side.filter_postings(fieldname).items():
                moved = docmap[docs.astype(np.int64)]
                moved = moved[moved >= 0]
                if len(moved):
                    by_value.setdefault(value, []).extend(moved.tolist())
        keep_docs = docmap >= 0
        for docnum, record in enumerate(side.records()):
            if keep_docs[docnum]:
                self._texts.add(record)
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
            per_posting = fa.tf.astype(np.int64)
            per_term: np.ndarray = np.diff(fa.term_occ.astype(np.int64))
            tid = np.repeat(term_ids, per_term)
            doc = np.repeat(docmap[fa.docs.astype(np.int64)], per_posting)
            keep = doc >= 0
            occ.tid.frombytes(tid[keep].astype(np.uint32).tobytes())
            occ.doc.frombytes(doc[keep].astype(np.uint32).tobytes())
            for name in ("pos", "start", "span"):
                values = getattr(fa, name)[keep].astype(np.uint32)
                getattr(occ, name).frombytes(values.tobytes())

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
        self._texts.flush()

    def write(self, path: Path, files: dict[str, int] | None = None) -> None:
        """Write the sidecar (after :meth:`finish`); ``files`` are the segment's Whoosh
        files and their sizes, recorded so a reader can tell a truncated or missing file
        before it reads a posting from it."""
        if self._texts.count != self._doc_count:
            raise ValueError("every document needs its stored texts")
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
        for key, values in (("ids", self._ids), ("fps", self._fps), ("titles", self._titles)):
            blob, offsets = _strings(values)
            documents[key] = put(blob)
            documents[f"{key}_len"] = len(blob)
            documents[f"{key}_offsets"] = put(offsets.tobytes())
        documents["dates"] = put(np.asarray(self._dates, dtype=np.int64).tobytes())
        documents["title_keys"] = put(np.asarray(self._title_keys, dtype=np.uint16).tobytes())
        header["documents"] = documents
        filters: dict[str, dict[str, Any]] = {}
        for fieldname, by_value in sorted(self._filters.items()):
            values = sorted(by_value)
            blob, offsets = _strings(values)
            counts = [len(by_value[v]) for v in values]
            bounds = np.zeros(len(values) + 1, dtype=np.uint32)
            bounds[1:] = np.cumsum(counts, dtype=np.int64)
            docs = narrow(np.array([d for v in values for d in by_value[v]], dtype=np.int64))
            filters[fieldname] = {
                "values": len(values),
                "blob": put(blob),
                "blob_len": len(blob),
                "offsets": put(offsets.tobytes()),
                "bounds": put(bounds.tobytes()),
                "docs": put(docs.tobytes()),
                "docs_dtype": docs.dtype.str,
            }
        header["filters"] = filters
        blocks = self._texts
        block_first = np.array([*blocks.first, blocks.count], dtype=np.uint32)
        block_offsets = np.zeros(len(blocks.blocks) + 1, dtype=np.uint64)
        block_offsets[1:] = np.cumsum([len(b) for b in blocks.blocks], dtype=np.uint64)
        header["texts"] = {
            "fields": list(self._names),
            "blocks": len(blocks.blocks),
            "first": put(block_first.tobytes()),
            "offsets": put(block_offsets.tobytes()),
            "data": put(b"".join(blocks.blocks)),
        }
        for name, arrays in self._arrays.items():
            info: dict[str, Any] = {
                "terms": len(arrays["term_postings"]) - 1,
                "postings": len(arrays["docs"]),
                "occurrences": len(arrays["pos"]),
                "blob_len": len(arrays["blob"]),
                "dtypes": {a: arrays[a].dtype.str for a, _, _ in _ARRAYS},
            }
            for key in ("blob", *(a for a, _, _ in _ARRAYS)):
                data = arrays[key]
                info[key] = put(data if isinstance(data, bytes) else data.tobytes())
            header["fields"][name] = info
        header["size"] = offset
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
    post_occ = np.append(post_start, n).astype(np.int64)
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
        "term_occ": post_occ[term_postings.astype(np.int64)].astype(np.uint32),
        "docs": narrow(doc[post_start]),
        "tf": narrow(np.diff(post_occ)),
        "pos": narrow(np.frombuffer(occ.pos, dtype=np.uint32)[order]),
        "start": narrow(np.frombuffer(occ.start, dtype=np.uint32)[order]),
        "span": narrow(np.frombuffer(occ.span, dtype=np.uint32)[order]),
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
    term_occ: np.ndarray
    docs: np.ndarray
    tf: np.ndarray
    pos: np.ndarray
    start: np.ndarray
    span: np.ndarray
    lengths: np.ndarray

    def __init__(self, buf: Any, base: int, info: dict[str, Any], doc_count: int) -> None:
        sizes = {
            "terms+1": info["terms"] + 1,
            "postings": info["postings"],
            "occurrences": info["occurrences"],
            "doc_count": doc_count,
        }
        dtypes = info["dtypes"]
        for name, size, fixed in _ARRAYS:
            dtype = np.dtype(dtypes[name])
            if fixed is not None and dtype != np.dtype(fixed):
                raise ValueError(f"sidecar array {name} has type {dtype}")
            arr = np.frombuffer(buf, dtype=dtype, count=sizes[size], offset=base + info[name])
            setattr(self, name, arr)
        self._starts = _uint32_view(self.term_postings)
        self._first_occ = _uint32_view(self.term_occ)
        self._found: dict[bytes, Found | None] = {}
        at = base + info["blob"]
        self._terms = _Terms(
            bytes(buf[at : at + info["blob_len"]]), _uint32_view(self.term_offsets)
        )

    def term(self, i: int) -> bytes:
        """The ``i``-th term in byte order."""
        return self._terms[i]

    def find(self, term: bytes) -> Found | None:
        """``term``'s postings (first, past the last) and its first occurrence, or None
        when the field does not have it."""
        try:
            return self._found[term]
        except KeyError:
            pass
        terms = self._terms
        i = bisect.bisect_left(terms, term)
        found = None
        if i < len(terms) and terms[i] == term:
            found = self._starts[i], self._starts[i + 1], self._first_occ[i]
        if len(self._found) >= _FIND_CACHE:
            self._found.clear()
        self._found[term] = found
        return found

    def term_counts(self) -> tuple[list[bytes], np.ndarray]:
        """Every term of the field in byte order, and how many documents hold each."""
        terms = self._terms
        return [terms[i] for i in range(len(terms))], np.diff(self.term_postings.astype(np.int64))

    def postings(self, term: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """(document numbers, term frequencies) of ``term``, or None."""
        found = self.find(term)
        if found is None:
            return None
        a, b, _ = found
        return self.docs[a:b], self.tf[a:b]

    def spans(self, found: Found, posting: int) -> list[tuple[int, int]]:
        """The character spans of the occurrences of one posting of the term ``found``."""
        a, _, first = found
        first += int(self.tf[a:posting].sum(dtype=np.int64))
        last = first + int(self.tf[posting])
        starts = self.start[first:last].astype(np.int64)
        ends = starts + self.span[first:last]
        return list(zip(starts.tolist(), ends.tolist(), strict=True))

    def positions(self, found: Found, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(document, position) of every occurrence of the term ``found`` in the
        documents of the sorted array ``docs``."""
        a, b, first = found
        pdocs = self.docs[a:b]
        keep = np.flatnonzero(np.isin(pdocs, docs, assume_unique=True))
        if not len(keep):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        tf = self.tf[a:b].astype(np.int64)
        counts = tf[keep]
        starts = (np.cumsum(tf) + (first - tf))[keep]  # each posting's first occurrence
        total = int(counts.sum())
        # Gather the ragged occurrence ranges without a Python loop.
        index = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        return np.repeat(pdocs[keep].astype(np.int64), counts), self.pos[index].astype(np.int64)


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
        if base + header["size"] > size:
            raise ValueError("sidecar truncated")
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
        #: every document's date (a positive number; 0 when undated), by document number
        self.dates = np.frombuffer(
            self._map, np.int64, self.doc_count, base + self._documents["dates"]
        )
        #: the length of every document's title key (see :class:`SidecarRecorder`)
        self.title_keys = np.frombuffer(
            self._map, np.uint16, self.doc_count, base + self._documents["title_keys"]
        )
        self._filters: dict[str, dict[str, Any]] = header["filters"]
        texts = header["texts"]
        #: the fields whose text is stored here, in the order :meth:`texts` gives them
        self.text_fields: tuple[str, ...] = tuple(texts["fields"])
        n_blocks = texts["blocks"]
        self._block_first = np.frombuffer(
            self._map, np.uint32, n_blocks + 1, base + texts["first"]
        ).tolist()
        self._block_offsets = np.frombuffer(
            self._map, np.uint64, n_blocks + 1, base + texts["offsets"]
        ).tolist()
        self._block_data = base + texts["data"]
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._blocks_lock = threading.Lock()

    def doc_ids(self) -> list[str]:
        """Every document's id, by document number (deleted ones included)."""
        return self._read_strings("ids")

    def doc_fps(self) -> list[str]:
        """Every document's fingerprint (modification time, size, checksum)."""
        return self._read_strings("fps")

    def titles(self) -> list[str]:
        """Every document's first stored text (the title), by document number."""
        return self._read_strings("titles")

    def titles_of(self, docnums: Sequence[int] | np.ndarray) -> list[str]:
        """The titles of ``docnums`` alone (:meth:`titles` reads them all)."""
        if "titles" in self._strings:
            every = self._strings["titles"]
            return [every[d] for d in docnums]
        info, base = self._documents, self._base
        offsets = np.frombuffer(
            self._map, np.uint32, self.doc_count + 1, base + info["titles_offsets"]
        )
        at = np.asarray(docnums, dtype=np.int64)
        blob = base + info["titles"]
        view = memoryview(self._map)
        return [
            str(view[blob + a : blob + b], "utf-8")
            for a, b in zip(offsets[at].tolist(), offsets[at + 1].tolist(), strict=True)
        ]

    def filter_fields(self) -> list[str]:
        """The filter fields some document of the segment has a value of."""
        return list(self._filters)

    def filter_postings(self, fieldname: str) -> dict[str, np.ndarray]:
        """value -> the documents (deleted ones included) that have it in ``fieldname``."""
        info = self._filters.get(fieldname)
        if info is None:
            return {}
        base, n = self._base, info["values"]
        blob = bytes(self._map[base + info["blob"] : base + info["blob"] + info["blob_len"]])
        offsets = np.frombuffer(self._map, np.uint32, n + 1, base + info["offsets"]).tolist()
        bounds = np.frombuffer(self._map, np.uint32, n + 1, base + info["bounds"]).tolist()
        docs = np.frombuffer(
            self._map, np.dtype(info["docs_dtype"]), bounds[-1], base + info["docs"]
        )
        return {
            blob[offsets[i] : offsets[i + 1]].decode("utf-8"): docs[bounds[i] : bounds[i + 1]]
            for i in range(n)
        }

    def texts(self, docnum: int) -> tuple[str, ...]:
        """The stored texts of document ``docnum``, one per field of :attr:`text_fields`."""
        if not 0 <= docnum < self.doc_count:
            raise IndexError(f"no document {docnum} in this segment")
        block = bisect.bisect_right(self._block_first, docnum) - 1
        data = self._block(block)
        count = len(self.text_fields)
        at = 0
        for _ in range(docnum - self._block_first[block]):
            at = _record_end(data, at, count)
        return decode_texts(memoryview(data)[at:], count)

    def records(self) -> Iterator[bytes]:
        """Every document's stored-text record, in document order (for a merge)."""
        count = len(self.text_fields)
        for block in range(len(self._block_first) - 1):
            data = self._decompress(block)
            at = 0
            for _ in range(self._block_first[block + 1] - self._block_first[block]):
                end = _record_end(data, at, count)
                yield data[at:end]
                at = end

    def _decompress(self, block: int) -> bytes:
        a = self._block_data + self._block_offsets[block]
        b = self._block_data + self._block_offsets[block + 1]
        return zlib.decompress(self._map[a:b])

    def _block(self, block: int) -> bytes:
        with self._blocks_lock:
            data = self._blocks.get(block)
            if data is not None:
                self._blocks.move_to_end(block)
                return data
        data = self._decompress(block)
        with self._blocks_lock:
            self._blocks[block] = data
            if len(self._blocks) > _BLOCK_CACHE:
                self._blocks.popitem(last=False)
        return data

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
