"""Evaluate a Whoosh query tree with numpy over whole posting lists.

Whoosh walks a tree of matchers one document at a time in Python: tens of microseconds
per matching document once a query has a few words, each in three fields and in more
than one written form. This module computes the same thing a posting list at a time:
every full-text term leaf reads its documents and term frequencies from the segment's
sidecar (:mod:`.sidecar`) and scores them all with one numpy expression, ``Or`` adds its
children's scores, ``And`` keeps the documents every child matched and adds their
scores. The result is a dense score array and a match mask over the searcher's document
numbers, from which the searcher takes counts, filters, facets and the top hits.

The scores are Whoosh's BM25F, operation for operation: the same formula, with one IDF
per term over the whole document (the largest document frequency of the text fields,
counted in the sidecars as Whoosh counts, deleted documents included until a merge), the
same lossy field lengths and average field lengths. Phrases of the text fields are found
in the sidecar's positions; any other leaf (keyword filters) is scored by Whoosh's
matcher for that leaf, segment by segment. Every segment has a sidecar: the store reports a
segment without one as a damaged index when it is opened.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh import query as Q
from whoosh.util.numeric import byte_to_length

from searchapp.backends.whoosh import sidecar


def _bytes(text: str | bytes) -> bytes:
    return text.encode("utf-8") if isinstance(text, str) else text


#: Whoosh's field length for each length byte.
LENGTHS = np.array([byte_to_length(i) for i in range(256)], dtype=np.float64)


@dataclass(frozen=True)
class Bm25:
    """The ranking parameters: ``K1``, ``B`` per field (``default_b`` otherwise), and
    the fields whose IDF is taken over the whole document."""

    k1: float
    default_b: float
    field_b: Mapping[str, float]
    text_fields: tuple[str, ...]


class _Segment:
    __slots__ = ("offset", "side", "count")

    def __init__(self, offset: int, count: int, side: sidecar.Sidecar) -> None:
        self.offset = offset
        self.side = side
        self.count = count


class Scorer:
    """Scores queries on one Whoosh searcher (one index generation). Not thread-safe:
    keep one per searcher, as the searcher itself."""

    def __init__(self, searcher: Any, params: Bm25) -> None:
        self.searcher = searcher
        self.params = params
        self.size = searcher.reader().doc_count_all()
        self.segments: list[_Segment] = []
        live = np.ones(self.size, dtype=bool)
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            segment = getattr(reader, "segment", lambda: None)()
            side = sidecar.for_reader(reader)
            if side is None:  # store.verify_segments() reports it as a damaged index first
                raise ValueError("a segment of the index has no sidecar")
            self.segments.append(_Segment(offset, reader.doc_count_all(), side))
            if reader.has_deletions():
                if segment is not None:
                    gone = list(segment.deleted_docs())
                else:
                    gone = [d for d in range(reader.doc_count_all()) if reader.is_deleted(d)]
                live[np.asarray(gone, dtype=np.int64) + offset] = False
        self.live = live
        self._subsearchers = [sub for sub, _ in searcher.leaf_searchers()]
        self._lengths: dict[tuple[int, str], np.ndarray] = {}
        self._idf: dict[bytes, float] = {}
        self._stats: dict[tuple[str, bytes], tuple[int, int]] = {}
        self._avg: dict[str, float] = {}

    # -- public ----------------------------------------------------------------------

    def evaluate(self, q: Q.Query) -> tuple[np.ndarray, np.ndarray]:
        """(scores, matched) over every document number; deleted documents never match."""
        scores = np.zeros(self.size, dtype=np.float64)
        matched = np.zeros(self.size, dtype=bool)
        self._into(q, scores, matched)
        matched &= self.live
        return scores, matched

    def matching(self, q: Q.Query) -> np.ndarray:
        """The match mask of ``q`` alone."""
        return self.evaluate(q)[1]

    def bonus(self, queries: list[Q.Query], docnums: np.ndarray) -> np.ndarray:
        """The summed scores of ``queries`` (proximity phrases) for ``docnums``."""
        scores = np.zeros(self.size, dtype=np.float64)
        matched = np.zeros(self.size, dtype=bool)
        # Positions are only gathered for the candidates: the costly part of a phrase.
        only = np.unique(np.asarray(docnums, dtype=np.int64))
        for q in queries:
            if self._positional(q):
                self._phrase(q, scores, matched, only)
            else:
                self._into(q, scores, matched)
        return scores[docnums]

    # -- evaluation -------------------------------------------------------------------

    def _positional(self, q: Q.Query) -> bool:
        """A phrase of a full-text field (words at consecutive positions), which
        :meth:`_phrase` finds in the sidecars."""
        return type(q) is Q.Phrase and q.slop == 1 and q.fieldname in self.params.text_fields

    def _into(self, q: Q.Query, scores: np.ndarray, matched: np.ndarray) -> None:
        """Add ``q``'s scores into ``scores`` and its matches into ``matched``."""
        if q is Q.NullQuery:
            return
        kind = type(q)
        if kind is Q.Term and q.fieldname in self.params.text_fields:
            self._term(q, scores, matched)
        elif self._positional(q):
            self._phrase(q, scores, matched)
        elif kind is Q.Or and not q.scale and not q.minmatch and q.boost == 1.0:
            for child in q.subqueries:
                self._into(child, scores, matched)
        elif kind is Q.And and q.boost == 1.0:
            self._and(q.subqueries, scores, matched)
        elif kind is Q.AndMaybe and q.boost == 1.0:
            self._and_maybe(q.a, q.b, scores, matched)
        elif kind is Q.Every and q.fieldname is None:
            matched[:] = True
        else:
            for seg, sub in zip(self.segments, self._subsearchers, strict=True):
                self._whoosh(q, seg, sub, scores, matched)

    def _and(self, children: list[Q.Query], scores: np.ndarray, matched: np.ndarray) -> None:
        if not children:
            return
        if any(c is Q.NullQuery for c in children):
            return
        parts = []
        for child in children:
            s = np.zeros(self.size, dtype=np.float64)
            m = np.zeros(self.size, dtype=bool)
            self._into(child, s, m)
            parts.append((s, m))
        both = parts[0][1].copy()
        for _, m in parts[1:]:
            both &= m
        if not both.any():
            return
        total = parts[0][0]
        for s, _ in parts[1:]:
            total += s
        scores[both] += total[both]
        matched |= both

    def _and_maybe(self, a: Q.Query, b: Q.Query, scores: np.ndarray, matched: np.ndarray) -> None:
        """Documents matching ``a``, with ``b``'s score added where it matches too."""
        s_a = np.zeros(self.size, dtype=np.float64)
        m_a = np.zeros(self.size, dtype=bool)
        self._into(a, s_a, m_a)
        if not m_a.any():
            return
        s_b = np.zeros(self.size, dtype=np.float64)
        m_b = np.zeros(self.size, dtype=bool)
        self._into(b, s_b, m_b)
        scores[m_a] += s_a[m_a] + s_b[m_a]
        matched |= m_a

    def _whoosh(
        self, q: Q.Query, seg: _Segment, sub: Any, scores: np.ndarray, matched: np.ndarray
    ) -> None:
        """One leaf on one segment through Whoosh's own matcher."""
        m = q.matcher(sub, sub.context())
        ids: list[int] = []
        values: list[float] = []
        while m.is_active():
            ids.append(m.id())
            values.append(m.score())
            m.next()
        if ids:
            at = np.asarray(ids, dtype=np.int64) + seg.offset
            scores[at] += np.asarray(values, dtype=np.float64)
            matched[at] = True

    def has(self, fieldname: str, text: str | bytes) -> bool:
        """True when some segment's ``fieldname`` has the term ``text``."""
        return self.term_stats(fieldname, text)[0] > 0

    def doc_frequency(self, fieldname: str, text: str | bytes) -> int:
        """How many documents (deleted ones not yet merged away included, as in Whoosh)
        have ``text`` in ``fieldname``."""
        return self.term_stats(fieldname, text)[0]

    def term_stats(self, fieldname: str, text: str | bytes) -> tuple[int, int]:
        """(document frequency, collection frequency) of ``text`` in ``fieldname``,
        summed over the segments (remembered for the generation)."""
        key = (fieldname, _bytes(text))
        stats = self._stats.get(key)
        if stats is None:
            df = cf = 0
            for seg in self.segments:
                fa = seg.side.fields[fieldname]
                found = fa.find(key[1])
                if found is not None:
                    df += found[1] - found[0]
                    cf += int(fa.tf[found[0] : found[1]].sum(dtype=np.int64))
            stats = self._stats[key] = (df, cf)
        return stats

    def _term(self, q: Q.Term, scores: np.ndarray, matched: np.ndarray) -> None:
        fieldname = q.fieldname
        text = _bytes(q.text)
        for seg in self.segments:
            fa = seg.side.fields[fieldname]
            found = fa.postings(text)
            if found is None:
                continue
            docs, weights = found
            s = self._bm25(fieldname, text, seg, fa, docs, weights)
            if q.boost != 1.0:
                s = s * q.boost
            at = docs.astype(np.int64) + seg.offset
            scores[at] += s
            matched[at] = True

    def _phrase(
        self,
        q: Q.Phrase,
        scores: np.ndarray,
        matched: np.ndarray,
        only: np.ndarray | None = None,
    ) -> None:
        """Words at consecutive positions (Whoosh's ``Phrase`` with ``slop=1``), scored as
        Whoosh does: the sum of the words' BM25 scores in the field, times the boost.
        With ``only`` (sorted document numbers), just those documents are looked at."""
        fieldname = q.fieldname
        words = [_bytes(w) for w in q.words]
        if not words:
            return
        for seg in self.segments:
            fa = seg.side.fields[fieldname]
            found = [fa.find(w) for w in words]
            ranges = [r for r in found if r is not None]
            if len(ranges) < len(found):
                continue
            docs = fa.docs[ranges[0][0] : ranges[0][1]].astype(np.int64)
            if only is not None:
                lo, hi = np.searchsorted(only, (seg.offset, seg.offset + seg.count))
                docs = np.intersect1d(docs, only[lo:hi] - seg.offset, assume_unique=True)
            for a, b, _ in ranges[1:]:
                docs = np.intersect1d(docs, fa.docs[a:b], assume_unique=True)
            if not len(docs):
                continue
            starts = None
            shift = len(words)
            for i, found_i in enumerate(ranges):
                d, p = fa.positions(found_i, docs)
                # Occurrence i of a phrase starting at position s sits at s + i.
                keys = np.unique((d << 32) | (p + shift - i))
                starts = keys if starts is None else np.intersect1d(starts, keys, True)
                if not len(starts):
                    break
            if starts is None or not len(starts):
                continue
            hits = np.unique(starts >> 32)
            s = np.zeros(len(hits), dtype=np.float64)
            for w, (a, b, _) in zip(words, ranges, strict=True):
                pdocs = fa.docs[a:b]
                where = np.searchsorted(pdocs, hits)
                s += self._bm25(fieldname, w, seg, fa, hits, fa.tf[a:b][where])
            if q.boost != 1.0:
                s = s * q.boost
            at = hits + seg.offset
            scores[at] += s
            matched[at] = True

    def _bm25(
        self,
        fieldname: str,
        text: bytes,
        seg: _Segment,
        fa: Any,
        docs: np.ndarray,
        weights: np.ndarray,
    ) -> np.ndarray:
        """Whoosh's bm25(), operation for operation, for ``docs`` of one segment
        (``weights``: their term frequencies)."""
        p = self.params
        b = p.field_b.get(fieldname, p.default_b)
        k1 = p.k1
        idf = self._doc_idf(text)
        avgfl = self._avgfl(fieldname)
        tf = weights.astype(np.float64)
        fl = self._field_lengths(seg, fieldname, fa)[docs]
        return idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl)))

    def _avgfl(self, fieldname: str) -> float:
        avgfl = self._avg.get(fieldname)
        if avgfl is None:
            avgfl = self._avg[fieldname] = self.searcher.avg_field_length(fieldname) or 1
        return avgfl

    # -- highlighting ---------------------------------------------------------------------

    def spans(
        self, fieldname: str, docnums: list[int], words: dict[bytes, str]
    ) -> dict[int, dict[tuple[int, int], str]]:
        """docnum -> {character span: term} for the occurrences of ``words`` (indexed
        word -> the query term it stands for)."""
        offsets = [seg.offset for seg in self.segments]
        out: dict[int, dict[tuple[int, int], str]] = {d: {} for d in docnums}
        for docnum in docnums:
            seg = self.segments[bisect.bisect_right(offsets, docnum) - 1]
            fa = seg.side.fields[fieldname]
            local = docnum - seg.offset
            for word, term in words.items():
                found = fa.find(word)
                if found is None:
                    continue
                a, b, _ = found
                i = a + int(np.searchsorted(fa.docs[a:b], local))
                if i < b and fa.docs[i] == local:
                    for span in fa.spans(found, i):
                        out[docnum][span] = term
        return out

    def _field_lengths(self, seg: _Segment, fieldname: str, arrays: Any) -> np.ndarray:
        key = (seg.offset, fieldname)
        lengths = self._lengths.get(key)
        if lengths is None:
            lengths = self._lengths[key] = LENGTHS[arrays.lengths]
        return lengths

    def _doc_idf(self, text: bytes) -> float:
        """Lucene's BM25 IDF over the largest document frequency in the text fields."""
        idf = self._idf.get(text)
        if idf is None:
            df = max(self.doc_frequency(f, text) for f in self.params.text_fields)
            n = self.size
            idf = self._idf[text] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        return idf
