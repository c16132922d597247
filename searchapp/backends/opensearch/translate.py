"""The engine's query tree (:mod:`searchapp.backends.base`) in OpenSearch's query DSL.

Scores are the Whoosh backend's BM25F, computed by OpenSearch:

- a :class:`Term` of field ``F`` is a ``term`` query on ``F_t`` wrapped in a
  ``script_score``: the field's similarity returns the term frequency as the score, and
  the script does Whoosh's arithmetic, ``idf * tf (k1 + 1) / (tf + k1 (1 - b + b fl /
  avgfl)) * boost``, with ``fl`` Whoosh's lossy field length (``F_len``), ``b`` the
  field's, ``avgfl`` the field's total length over the article count, and ``idf`` Lucene's
  BM25 IDF over the term's *largest* document frequency in the three text fields (one IDF
  per term for the whole article), which the view computes (:class:`Stats`);
- a :class:`Phrase` matches with ``span_near`` (in order; slop 1 = adjacent, each next
  word within ``slop`` positions of the one before), and scores as the sum of its words'
  BM25 in that field times the boost, as Whoosh does;
- ``And`` / ``Or`` / ``AndMaybe`` are ``bool`` queries (``must`` / ``should`` sums);
  filters score 0.

With ``scoring=False`` (exclusions, counts) the leaves are plain ``term`` / ``span_near``
queries.
"""

from __future__ import annotations

from typing import Any, Protocol

from searchapp.backends.base import (
    And,
    AndMaybe,
    Every,
    Keyword,
    Node,
    Nothing,
    Or,
    Phrase,
    Ranking,
    Term,
)
from searchapp.backends.opensearch.mapping import KEYWORD_FIELDS, _term

MATCH_NONE: dict[str, Any] = {"match_none": {}}
MATCH_ALL_ZERO: dict[str, Any] = {"bool": {"filter": [{"match_all": {}}]}}

#: Whoosh's BM25 (``whoosh.scoring.bm25``), operation for operation, on the term frequency
#: the field's similarity gives as ``_score``.
BM25_SCRIPT = (
    "double tf = _score; double fl = doc[params.len].value; "
    "return params.idf * ((tf * (params.k1 + 1)) / "
    "(tf + params.k1 * ((1 - params.b) + params.b * fl / params.avgfl))) * params.boost;"
)


class Stats(Protocol):
    """What scoring needs from the index generation."""

    def idf(self, term: str) -> float:
        """The term's IDF over the whole article."""
        ...

    def avgfl(self, field: str) -> float:
        """The field's average length (total tokens / articles; 1 when empty)."""
        ...


def keyword_filter(field: str, value: str) -> dict[str, Any]:
    """A filter field has ``value`` in any letter case (nothing for an unknown field)."""
    if field not in KEYWORD_FIELDS:
        return MATCH_NONE
    return {"term": {f"{field}_lc": value.strip().lower()}}


class Translator:
    """Turns nodes into query DSL with one generation's statistics."""

    def __init__(self, ranking: Ranking, stats: Stats | None) -> None:
        self.ranking = ranking
        self.stats = stats

    def query(self, node: Node | None, *, scoring: bool = True) -> dict[str, Any]:
        """The DSL of ``node``."""
        if node is None or isinstance(node, Nothing):
            return MATCH_NONE
        if isinstance(node, Term):
            return self._term(node.field, node.text, node.boost, scoring)
        if isinstance(node, Phrase):
            return self._phrase(node, scoring)
        if isinstance(node, Keyword):
            return {"bool": {"filter": [keyword_filter(node.field, node.value)]}}
        if isinstance(node, And):
            if not node.children:
                return MATCH_NONE
            parts = [self.query(c, scoring=scoring) for c in node.children]
            if any(p is MATCH_NONE for p in parts):
                return MATCH_NONE
            if len(parts) == 1:
                return parts[0]
            return {"bool": {"must": parts}}
        if isinstance(node, Or):
            parts = [p for p in (self.query(c, scoring=scoring) for c in node.children)]
            parts = [p for p in parts if p is not MATCH_NONE]
            if not parts:
                return MATCH_NONE
            if len(parts) == 1:
                return parts[0]
            return {"bool": {"should": parts, "minimum_should_match": 1}}
        if isinstance(node, AndMaybe):
            required = self.query(node.required, scoring=scoring)
            if required is MATCH_NONE:
                return MATCH_NONE
            optional = self.query(node.optional, scoring=scoring)
            if optional is MATCH_NONE or not scoring:
                return required
            return {"bool": {"must": [required], "should": [optional]}}
        if isinstance(node, Every):
            return MATCH_ALL_ZERO
        return MATCH_NONE

    def _term(self, field: str, text: str, boost: float, scoring: bool) -> dict[str, Any]:
        if field not in self.ranking.text_fields:
            return MATCH_NONE
        plain = {"term": {f"{field}_t": _term(text)}}
        if not scoring:
            return plain
        return {"script_score": {"query": plain, "script": self.bm25(field, text, boost)}}

    def bm25(self, field: str, text: str, boost: float) -> dict[str, Any]:
        """The script that scores ``text`` in ``field``."""
        assert self.stats is not None, "scoring needs the generation's statistics"
        return {
            "source": BM25_SCRIPT,
            "params": {
                "len": f"{field}_len",
                "idf": self.stats.idf(text),
                "k1": self.ranking.k1,
                "b": self.ranking.field_b.get(field, self.ranking.default_b),
                "avgfl": self.stats.avgfl(field),
                "boost": boost,
            },
        }

    def _phrase(self, node: Phrase, scoring: bool) -> dict[str, Any]:
        field = node.field
        if field not in self.ranking.text_fields or not node.words:
            return MATCH_NONE
        name = f"{field}_t"
        words = [_term(w) for w in node.words]
        if len(words) == 1:
            match: dict[str, Any] = {"term": {name: words[0]}}
        else:
            # Nested pairs: each next word within `slop` positions after the span so far
            # (slop 1: the very next position), as Whoosh's Phrase.
            gap = max(0, node.slop - 1)
            match = {"span_term": {name: words[0]}}
            for word in words[1:]:
                match = {
                    "span_near": {
                        "clauses": [match, {"span_term": {name: word}}],
                        "slop": gap,
                        "in_order": True,
                    }
                }
        if not scoring:
            return match if len(words) == 1 else {"bool": {"filter": [match]}}
        scores = [
            {
                "script_score": {
                    "query": {"term": {name: w}},
                    "script": self.bm25(field, w, node.boost),
                }
            }
            for w in words
        ]
        return {"bool": {"filter": [match], "must": scores}}
