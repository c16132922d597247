"""Why a result ranks where it does: its score split by field and term.

The engine scores a plain query as a sum of BM25F term scores: for every query word,
each of its forms (script variants, synonyms) in each text field, ``boost *
bm25(field, term)``, the boosts being the field weights of
:data:`searchapp.fields.TEXT_FIELDS`. :func:`explain` gets exactly those
terms' scores for one document from the engine's own scorer, so the parts add up to the
engine's score. The bonus of an article the query names by its whole title (its title's
score once more, :mod:`searchapp.text.naming`) is reported as ``named``; what is left
(the bonus for query words found next to each other, as typed) as ``bonus``.

The terms come from :func:`leaves`: the leaf terms of the query tree the engine runs
(``Engine.explain`` puts the two together). No Flask here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from searchapp.backends.base import Node, Phrase, Term
from searchapp.backends.base import leaves as tree_leaves
from searchapp.fields import TEXT_FIELDS

#: A query term (field, text, boost); a phrase has a tuple of words as its text.
Leaf = tuple[str, str | tuple[str, ...], float]


@dataclass(frozen=True)
class Part:
    """One (field, term) contribution to a document's score."""

    field: str
    term: str
    score: float


@dataclass(frozen=True)
class Explanation:
    """A document's score as the sum of its parts, the proximity bonus and the bonus for
    being named by its whole title (:mod:`searchapp.text.naming`)."""

    total: float
    parts: tuple[Part, ...]
    bonus: float
    named: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"total", "parts": [{"field", "term", "score"}], "bonus", "named"}``."""
        return {
            "total": self.total,
            "parts": [{"field": p.field, "term": p.term, "score": p.score} for p in self.parts],
            "bonus": self.bonus,
            "named": self.named,
        }


def leaves(node: Node) -> list[Leaf]:
    """Every (field, term, boost) of a query tree; phrases as one leaf, filters left out.

    For the proximity bonus to stay out of the parts, pass the main query, not the
    bonus phrases."""
    out: list[Leaf] = []
    for leaf in tree_leaves(node):
        if leaf.field in TEXT_FIELDS:
            text = leaf.text if isinstance(leaf, Term) else leaf.words
            out.append((leaf.field, text, leaf.boost))
    return _unique(out)


def _unique(items: Iterable[Leaf]) -> list[Leaf]:
    seen: dict[tuple[str, Any], Leaf] = {}
    for fieldname, term, boost in items:
        seen.setdefault((fieldname, term), (fieldname, term, boost))
    return list(seen.values())


def _phrase_label(words: tuple[str, ...]) -> str:
    joined = " ".join(words) if all(w.isascii() for w in words) else "".join(words)
    return f'"{joined}"'


def explain(
    terms: Iterable[Leaf],
    leaf_score: Callable[[Node], float],
    *,
    score: float | None = None,
    named: float = 0.0,
) -> Explanation:
    """Split a document's score into (field, term) parts.

    ``leaf_score(node)`` is the engine's score of one term or phrase for the document.
    ``score`` is the score the engine gave the document and ``named`` its bonus for
    being named by its title: what is left of the score after the parts and ``named``
    is the (proximity) ``bonus``; without ``score`` the total is the sum. Parts are
    largest first; terms the document lacks are left out.
    """
    parts: list[Part] = []
    for fieldname, text, boost in terms:
        if isinstance(text, tuple):
            node: Node = Phrase(fieldname, text, boost)
            label = _phrase_label(text)
        else:
            node, label = Term(fieldname, text, boost), text
        value = leaf_score(node)
        if value:
            parts.append(Part(fieldname, label, round(value, 4)))
    parts.sort(key=lambda p: (-p.score, p.field, p.term))
    subtotal = sum(p.score for p in parts)
    total = subtotal + named if score is None or score <= 0 else score
    bonus = max(0.0, total - subtotal - named)
    return Explanation(
        total=round(total, 4),
        parts=tuple(parts),
        bonus=round(bonus, 4) if bonus > 5e-4 else 0.0,
        named=round(named, 4) if named > 5e-4 else 0.0,
    )
