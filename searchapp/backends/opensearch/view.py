"""One generation of an OpenSearch index answering the engine (:class:`OpenSearchView`).

A request takes few round trips: ``match`` is one search (its page of ids, the total and
the facets), plus one over the best ``rerank_depth`` for the proximity bonus (and one for
the articles the query names by their titles, when it names some); the page's stored
fields, highlight spans and key terms come from one ``mget`` of their ``_source`` (kept
for the request). What scoring needs from the whole index (article
count, field lengths, document frequencies) is asked once per generation and shared by
every thread (:meth:`OpenSearchBackend.derived`).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from searchapp.backends.base import (
    IndexMissing,
    Matches,
    MatchRequest,
    Named,
    Node,
    Ref,
    Span,
    Stored,
    Term,
    TitleEntry,
    leaves,
)
from searchapp.backends.opensearch import client as osclient
from searchapp.backends.opensearch import derived
from searchapp.backends.opensearch.mapping import (
    KEYWORD_FIELDS,
    STACK_SEP,
    _term,
    date_to_us,
    decode_tokens,
    doc_key,
    us_to_date,
)
from searchapp.backends.opensearch.translate import MATCH_NONE, Translator, keyword_filter
from searchapp.text import naming
from searchapp.text.analysis import variants
from searchapp.text.synonyms import Synonyms

#: Pauses before a read is tried again after a node was lost under it (seconds).
READ_RETRIES = (0.2, 0.5, 1.0)

if TYPE_CHECKING:
    from searchapp.backends.opensearch.backend import Generation, OpenSearchBackend

#: Facet values counted per field (every value of the fixture and news corpora; a field
#: with more distinct values among the matches counts its most frequent ones).
FACET_SIZE = 2000
#: Page size when reading every article (titles) or every term (vocabulary).
SCAN_PAGE = 10000
TERMS_PAGE = 50000
#: Terms per document-frequency request.
DF_BATCH = 400
#: Articles' ``_source`` kept by one view (a page, an article, related candidates).
SOURCE_CACHE = 400
#: Document frequencies remembered per generation.
DF_CACHE = 200_000
#: Pieces of an unknown Chinese word asked for with it (the engine splits such a word into
#: the longest pieces the index knows, up to 6 characters), for words up to this long.
MAX_PIECE = 6
MAX_PIECES_OF = 16

_SPLIT_TOKENS = re.compile(r"[ |]")
_SORT_DATE_DESC = {"date_us": {"order": "desc", "missing": "_last"}}
_SORT_SEQ = {"seq": {"order": "asc"}}
_UNDATED = (-(2**63), 2**63 - 1)


def _when(value: Any) -> int:
    """A date sort value (0 for an undated article, as in Whoosh's date column)."""
    if not isinstance(value, int) or value in _UNDATED or value < 0:
        return 0
    return value


def _neighbours(term: str, synonyms: Synonyms) -> list[str]:
    """``term`` and what the engine asks about next when it asks about ``term`` (its other
    written forms and synonyms; for a Chinese word, its pieces, which the engine tries
    when the index lacks the word): one request for all of them."""
    out = [term, *variants(term)]
    out.extend(w for form in synonyms.expand(term) for w in form)
    if len(term) > 1 and not term.isascii() and len(term) <= MAX_PIECES_OF:
        out.extend(
            term[i:j]
            for i in range(len(term))
            for j in range(i + 1, min(len(term), i + MAX_PIECE) + 1)
        )
    return list(dict.fromkeys(out))


class _Frequencies:
    """term -> document frequency in each text field, filled as terms are asked for."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: dict[str, tuple[int, ...]] = {}
        self.collection: dict[tuple[str, str], int] = {}


class OpenSearchView:
    """One concrete index at one update count. A view is used by one thread at a time
    (each thread's :meth:`OpenSearchBackend.view` has its own)."""

    def __init__(self, backend: OpenSearchBackend, found: Generation) -> None:
        self.backend = backend
        self.client = backend.client
        self.ranking = backend.ranking
        self.index = found.concrete
        self.meta = found.meta
        #: the analysis this generation was built with (queries are analysed the same way)
        self.analyzer = found.analyzer
        #: the synonyms this generation answers with
        self.synonyms = found.synonyms
        self._generation = found.key
        self._fields = tuple(self.ranking.text_fields)
        self._sources: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"OpenSearchView({self.index!r}, {self._generation[1]})"

    @property
    def generation(self) -> Hashable:
        """The concrete index and its update count."""
        return self._generation

    @property
    def generation_key(self) -> tuple[str, int]:
        """:attr:`generation`, typed."""
        return self._generation

    def load_derived(self, name: str) -> tuple[bytes, bool] | None:
        """What was derived from this index and kept with it under ``name``: (data,
        True) when derived from this very generation, (data, False) from another state
        of the same index, None when there is none."""
        from searchapp.backends.opensearch.backend import state_index

        concrete, number = self._generation
        found = derived.load(self.backend, state_index(self.backend.alias), concrete, name)
        if found is None:
            return None
        data, made_at = found
        return data, made_at == number

    def forget(self) -> None:
        """Drop what this view kept for the last request."""
        self._sources.clear()

    # -- requests ---------------------------------------------------------------------------

    def _call(self, method: str, **kwargs: Any) -> Any:
        """One read request. A node lost while it answered (its shard copies fail the
        request midway, "disconnected") is retried after a pause, when the cluster has
        routed the shards to their replicas: a search fails only when it fails again."""
        for pause in READ_RETRIES:
            try:
                return self._call_once(method, **kwargs)
            except osclient.Unhealthy:
                time.sleep(pause)
        return self._call_once(method, **kwargs)

    def _call_once(self, method: str, **kwargs: Any) -> Any:
        try:
            with self.backend.errors():
                return getattr(self.client, method)(**kwargs)
        except IndexMissing:
            raise IndexMissing(
                f"the index '{self.backend.alias}' ({self.index}) was replaced or removed "
                "while it was read: try again"
            ) from None

    def _search(self, body: dict[str, Any], **params: Any) -> dict[str, Any]:
        return self._call(
            "search",
            index=self.index,
            body=body,
            allow_partial_search_results=False,
            **params,
        )

    def _msearch(self, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        for body in bodies:
            lines.append({"index": self.index, "allow_partial_search_results": False})
            lines.append(body)
        for pause in (*READ_RETRIES, None):
            found = self._call("msearch", body=lines)
            items = found.get("responses", [])
            failed = next((item for item in items if "error" in item), None)
            if failed is None:
                return list(items)
            if pause is None:
                raise osclient.Unhealthy(
                    f"the OpenSearch cluster at {', '.join(self.backend.urls)} cannot answer "
                    f"({(failed['error'] or {}).get('type', 'error')})"
                )
            time.sleep(pause)
        return []

    # -- what scoring needs ---------------------------------------------------------------

    def _basics(self) -> dict[str, Any]:
        """The article count and each text field's total length, for this generation."""

        def build() -> dict[str, Any]:
            body = {
                "size": 0,
                "track_total_hits": True,
                "aggs": {f: {"sum": {"field": f"{f}_n"}} for f in self._fields},
            }
            found = self._search(body)
            aggs = found.get("aggregations", {})
            return {
                "n": int(found["hits"]["total"]["value"]),
                "lengths": {f: int(aggs.get(f, {}).get("value") or 0) for f in self._fields},
            }

        return self.backend.derived(self._generation, "basics", build)

    def _freqs(self) -> _Frequencies:
        return self.backend.derived(self._generation, "df", _Frequencies)

    def _ensure_df(self, terms: Iterable[str]) -> _Frequencies:
        """Make sure the document frequencies of ``terms`` are known."""
        freqs = self._freqs()
        missing = list(dict.fromkeys(t for t in terms if t not in freqs.values))
        for start in range(0, len(missing), DF_BATCH):
            batch = missing[start : start + DF_BATCH]
            filters = {
                f"{i}:{j}": {"term": {f"{field}_t": _term(term)}}
                for i, term in enumerate(batch)
                for j, field in enumerate(self._fields)
            }
            body = {"size": 0, "aggs": {"df": {"filters": {"filters": filters}}}}
            buckets = self._search(body)["aggregations"]["df"]["buckets"]
            found = {
                term: tuple(int(buckets[f"{i}:{j}"]["doc_count"]) for j in range(len(self._fields)))
                for i, term in enumerate(batch)
            }
            with freqs.lock:
                if len(freqs.values) > DF_CACHE:
                    freqs.values.clear()
                freqs.values.update(found)
        return freqs

    def _df(self, term: str) -> tuple[int, ...]:
        freqs = self._freqs()
        found = freqs.values.get(term)
        if found is None:
            found = self._ensure_df(_neighbours(term, self.synonyms)).values[term]
        return found

    def idf(self, term: str) -> float:
        """Lucene's BM25 IDF over the term's largest document frequency in the text
        fields (one IDF per term for the whole article, as the Whoosh backend)."""
        df = max(self._df(term))
        n = self._basics()["n"]
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def avgfl(self, field: str) -> float:
        """The field's total length over the article count (1 for an empty field)."""
        basics = self._basics()
        n = basics["n"]
        return (basics["lengths"].get(field, 0) / n if n else 0.0) or 1.0

    def _translator(self, nodes: Iterable[Node | None]) -> Translator:
        words = [
            w
            for node in nodes
            if node is not None
            for leaf in leaves(node)
            for w in ((leaf.text,) if isinstance(leaf, Term) else leaf.words)
        ]
        self._ensure_df(words)
        return Translator(self.ranking, self)

    # -- counts ---------------------------------------------------------------------------

    def doc_count(self) -> int:
        """Live articles."""
        return int(self._basics()["n"])

    def field_length(self, field: str) -> int:
        """The total number of tokens in ``field`` over the index."""
        return int(self._basics()["lengths"].get(field, 0))

    def has_term(self, field: str, term: str) -> bool:
        """True when some article has ``term`` in the full-text ``field``."""
        if field not in self._fields:
            return False
        return self._df(term)[self._fields.index(field)] > 0

    def term_stats(self, field: str, terms: Iterable[str]) -> dict[str, tuple[int, int]]:
        """term -> (document frequency, collection frequency) in ``field``."""
        if field not in self._fields:
            return {}
        at = self._fields.index(field)
        wanted = list(dict.fromkeys(terms))
        freqs = self._ensure_df(wanted)
        present = [t for t in wanted if freqs.values.get(t, (0, 0, 0))[at] > 0]
        missing = [t for t in present if (field, t) not in freqs.collection]
        if missing:
            bodies = [
                {
                    "size": 0,
                    "track_total_hits": False,
                    "query": {"term": {f"{field}_t": _term(t)}},
                    "aggs": {"cf": {"sum": {"script": {"source": "_score"}}}},
                }
                for t in missing
            ]
            answers: dict[tuple[str, str], int] = {}
            for start in range(0, len(bodies), DF_BATCH):
                chunk = self._msearch(bodies[start : start + DF_BATCH])
                for t, item in zip(missing[start : start + DF_BATCH], chunk, strict=True):
                    answers[(field, t)] = int(round(item["aggregations"]["cf"]["value"] or 0))
            with freqs.lock:
                freqs.collection.update(answers)
        return {t: (freqs.values[t][at], freqs.collection[(field, t)]) for t in present}

    # -- matching -------------------------------------------------------------------------

    def _query(self, request: MatchRequest, tr: Translator) -> dict[str, Any]:
        main = tr.query(request.query)
        clauses: dict[str, list[dict[str, Any]]] = {"must": [main]}
        filters = [keyword_filter(f, v) for f, v in request.filters]
        if request.date_from or request.date_to:
            bounds: dict[str, int] = {}
            if request.date_from:
                bounds["gte"] = date_to_us(request.date_from)
            if request.date_to:
                bounds["lte"] = date_to_us(request.date_to)
            filters.append({"range": {"date_us": bounds}})
        if filters:
            clauses["filter"] = filters
        if request.exclude is not None:
            excluded = tr.query(request.exclude, scoring=False)
            if excluded is not MATCH_NONE:
                clauses["must_not"] = [excluded]
        return {"bool": clauses}

    def match(self, request: MatchRequest) -> Matches:
        """Run one request: match, narrow, rank (with the proximity bonus), count."""
        tr = self._translator([request.query, *request.bonus])
        body: dict[str, Any] = {
            "query": self._query(request, tr),
            "track_total_hits": True,
            "_source": False,
        }
        facet_fields = [f for f in request.facets if f in KEYWORD_FIELDS]
        if facet_fields:
            body["aggs"] = {
                f"facet:{f}": {"terms": {"field": f, "size": FACET_SIZE}} for f in facet_fields
            }
        limit = request.limit
        relevance = request.sort == "relevance"
        named = [n for n in request.bonus if isinstance(n, Named) and n.keys]
        if limit <= 0:
            body["size"] = 0
        elif relevance:
            depth = max(limit, request.rerank_depth) if request.bonus else limit
            body["size"] = depth
            if named:
                body["stored_fields"] = ["title_s"]
            body["sort"] = [{"_score": {"order": "desc"}}, _SORT_DATE_DESC, _SORT_SEQ]
            body["track_scores"] = True
        else:
            order = "desc" if request.sort == "newest" else "asc"
            body["size"] = limit
            body["sort"] = [{"date_us": {"order": order, "missing": "_last"}}, _SORT_SEQ]
        found = self._search(body)
        total = int(found["hits"]["total"]["value"])
        facets: dict[str, dict[str, int]] = {}
        if facet_fields and total:
            aggs = found.get("aggregations", {})
            for f in request.facets:
                buckets = aggs.get(f"facet:{f}", {}).get("buckets", [])
                facets[f] = {str(b["key"]): int(b["doc_count"]) for b in buckets if b["doc_count"]}
        hits = found["hits"]["hits"]
        if limit <= 0:
            return Matches(ranked=(), total=total, facets=facets)
        if not relevance:
            return Matches(ranked=tuple((0.0, h["_id"]) for h in hits), total=total, facets=facets)
        scored = [
            [float(h["_score"] or 0.0), h["_id"], _when(h["sort"][1]), int(h["sort"][2])]
            for h in hits
        ]
        if request.bonus and scored:
            plain = [n for n in request.bonus if not isinstance(n, Named)]
            extra = self._scores_of(
                [b for b in (tr.query(n) for n in plain) if b is not MATCH_NONE],
                [s[1] for s in scored],
            )
            for item in scored:
                item[0] += extra.get(item[1], 0.0)
            # The candidates' titles came with them (stored_fields) when the query may name one.
            titles = ["".join(h.get("fields", {}).get("title_s", [])) for h in hits]
            for node in named:
                flags = naming.named(titles, node.keys)
                refs = [s[1] for s, flag in zip(scored, flags, strict=True) if flag]
                query = tr.query(node.node)
                more = self._scores_of([query], refs) if query is not MATCH_NONE else {}
                for item in scored:
                    item[0] += more.get(item[1], 0.0)
        # BM25 ties (same words, same lengths) are common in news: newer first, then the
        # order of indexing (Whoosh's document numbers).
        scored.sort(key=lambda s: (-round(s[0], 7), -s[2], s[3]))
        ranked = tuple((s[0], s[1]) for s in scored[:limit])
        return Matches(ranked=ranked, total=total, facets=facets)

    def _scores_of(self, queries: list[dict[str, Any]], refs: Sequence[Ref]) -> dict[str, float]:
        """ref -> the summed scores of ``queries`` (0 where none matches)."""
        if not queries or not refs:
            return {}
        body = {
            "query": {"bool": {"filter": [{"ids": {"values": list(refs)}}], "should": queries}},
            "size": len(refs),
            "_source": False,
        }
        return {h["_id"]: float(h["_score"] or 0.0) for h in self._search(body)["hits"]["hits"]}

    def scores(self, node: Node, refs: Sequence[Ref]) -> list[float]:
        """``node``'s score for each of ``refs`` (0 where it does not match)."""
        tr = self._translator([node])
        query = tr.query(node)
        if query is MATCH_NONE or not refs:
            return [0.0] * len(refs)
        body = {
            "query": {"bool": {"must": [query], "filter": [{"ids": {"values": list(refs)}}]}},
            "size": len(refs),
            "_source": False,
        }
        found = {h["_id"]: float(h["_score"] or 0.0) for h in self._search(body)["hits"]["hits"]}
        return [found.get(str(r), 0.0) for r in refs]

    # -- documents ------------------------------------------------------------------------

    def _load(self, refs: Sequence[Ref]) -> dict[str, dict[str, Any]]:
        """The ``_source`` of ``refs`` (fetched once per request)."""
        missing = list(dict.fromkeys(str(r) for r in refs if str(r) not in self._sources))
        if missing:
            if len(self._sources) + len(missing) > SOURCE_CACHE:
                self._sources.clear()
            found = self._call("mget", index=self.index, body={"ids": missing}, realtime=False)
            for doc in found.get("docs", []):
                if doc.get("found"):
                    self._sources[doc["_id"]] = doc["_source"]
        return {str(r): self._sources[str(r)] for r in refs if str(r) in self._sources}

    def lookup(self, doc_id: str) -> Ref | None:
        """The reference (``_id``) of the article ``doc_id``, or None."""
        key = doc_key(doc_id)
        if key in self._sources:
            return key
        body = {"query": {"term": {"id": doc_id}}, "size": 1}
        hits = self._search(body)["hits"]["hits"]
        if not hits:
            return None
        if len(self._sources) >= SOURCE_CACHE:
            self._sources.clear()
        self._sources[hits[0]["_id"]] = hits[0]["_source"]
        return str(hits[0]["_id"])

    def stored(self, refs: Sequence[Ref]) -> list[Stored]:
        """The stored fields of each of ``refs``, in order."""
        sources = self._load(refs)
        out = []
        for ref in refs:
            # (an article an update deleted since it matched: shown by its id, not a 500)
            src = sources.get(str(ref)) or {"id": str(ref)}
            raw = src.get("raw", {})
            date = src.get("date_us")
            out.append(
                Stored.from_fields(
                    src["id"], raw, date=us_to_date(date) if date is not None else None
                )
            )
        return out

    def _tokens(self, src: dict[str, Any], field: str) -> list[tuple[str, int, int]]:
        raw = src.get("raw", {})
        return decode_tokens(
            src.get(f"{field}_t", ""), raw.get(f"{field}_o", []), raw.get(f"{field}_x", [])
        )

    def spans(
        self, field: str, refs: Sequence[Ref], words: Mapping[str, str]
    ) -> dict[Ref, dict[Span, str]]:
        """ref -> {character span: query term} where the indexed ``words`` occur in
        ``field``, from the offsets stored with each article."""
        sources = self._load(refs)
        out: dict[Ref, dict[Span, str]] = {}
        for ref in refs:
            src = sources.get(str(ref))
            found: dict[Span, str] = {}
            if src is not None and field in self._fields and words:
                wanted = {_term(w) for w in words}
                where: dict[str, list[Span]] = {}
                for term, start, end in self._tokens(src, field):
                    if term in wanted:
                        where.setdefault(term, []).append((start, end))
                for word, term in words.items():
                    for span in where.get(_term(word), ()):
                        found[span] = term
            out[ref] = found
        return out

    def containing(
        self, refs: Sequence[Ref], fields: Sequence[str], terms: Sequence[str]
    ) -> dict[Ref, set[str]]:
        """ref -> which of ``terms`` it has in any of ``fields``."""
        sources = self._load(refs)
        wanted = {_term(t): t for t in terms}
        out: dict[Ref, set[str]] = {}
        for ref in refs:
            src = sources.get(str(ref), {})
            have: set[str] = set()
            for field in fields:
                if field in self._fields:
                    tokens = set(_SPLIT_TOKENS.split(src.get(f"{field}_t", "")))
                    have.update(wanted[t] for t in tokens & wanted.keys())
            out[ref] = have
        return out

    # -- the whole index ------------------------------------------------------------------

    def document_frequencies(self) -> Mapping[str, int]:
        """Every term of the text fields -> its largest document frequency over them
        (composite aggregations over the ``F_v`` doc values, once per generation)."""

        def build() -> dict[str, int]:
            best: dict[str, int] = {}
            for field in self._fields:
                after: dict[str, Any] | None = None
                while True:
                    composite: dict[str, Any] = {
                        "size": TERMS_PAGE,
                        "sources": [{"t": {"terms": {"field": f"{field}_v"}}}],
                    }
                    if after is not None:
                        composite["after"] = after
                    body = {"size": 0, "aggs": {"v": {"composite": composite}}}
                    agg = self._search(body, request_timeout=osclient.WRITE_TIMEOUT)
                    found = agg["aggregations"]["v"]
                    for bucket in found["buckets"]:
                        term = bucket["key"]["t"]
                        n = int(bucket["doc_count"])
                        if n > best.get(term, 0):
                            best[term] = n
                    after = found.get("after_key")
                    if not found["buckets"] or after is None:
                        break
            return best

        return self.backend.derived(self._generation, "vocabulary", build)

    def _scan(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every article, in indexing order, ``SCAN_PAGE`` at a time."""
        after: list[Any] | None = None
        while True:
            page = dict(body, size=SCAN_PAGE, sort=[_SORT_SEQ])
            if after is not None:
                page["search_after"] = after
            hits = self._search(page, request_timeout=osclient.WRITE_TIMEOUT)["hits"]["hits"]
            yield from hits
            if len(hits) < SCAN_PAGE:
                return
            after = hits[-1]["sort"]

    def titles(self) -> Iterator[TitleEntry]:
        """Every live article's title and date."""
        body = {
            "query": {"match_all": {}},
            "_source": False,
            "stored_fields": ["title_s"],
            "docvalue_fields": ["id", "date_us"],
        }
        for hit in self._scan(body):
            fields = hit.get("fields", {})
            date = (fields.get("date_us") or [None])[0]
            yield TitleEntry(
                str((fields.get("id") or [""])[0]),
                str((fields.get("title_s") or [""])[0]),
                us_to_date(int(date)) if date is not None else None,
            )

    def date_range(self) -> tuple[datetime | None, datetime | None]:
        """The first and last article dates."""
        ends = []
        for order in ("asc", "desc"):
            ends.append(
                {
                    "size": 1,
                    "_source": False,
                    "query": {"exists": {"field": "date_us"}},
                    "sort": [{"date_us": {"order": order}}],
                }
            )
        first, last = (r["hits"]["hits"] for r in self._msearch(ends))
        if not first or not last:
            return None, None
        return us_to_date(first[0]["sort"][0]), us_to_date(last[0]["sort"][0])

    # -- for the writer ----------------------------------------------------------------------

    def fingerprints(self) -> dict[str, str]:
        """id -> fingerprint of every live article (what ``update`` compares)."""
        body = {"query": {"match_all": {}}, "_source": False, "docvalue_fields": ["id", "fp"]}
        out = {}
        for hit in self._scan(body):
            fields = hit.get("fields", {})
            out[str(fields["id"][0])] = str((fields.get("fp") or [""])[0])
        return out


__all__ = ["STACK_SEP", "OpenSearchView"]
