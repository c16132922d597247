"""Why a result ranks where it does: its score split by field and term.

The engine scores a plain query as a sum of BM25F term scores: for every query word,
each of its forms (script variants, synonyms) in each text field, ``boost *
weighting.scorer(searcher, field, term).score(matcher)``, the boosts being the field
weights of :data:`searchapp.schema.TEXT_FIELDS`. :func:`explain` recomputes exactly those
terms for one document with the searcher's own weighting, so the parts add up to the
engine's score; what is left (the bonus for query words found next to each other, as
typed) is reported as ``bonus``.

The terms come from :func:`leaves` (the leaf terms of the Whoosh query the engine ran)
or, when only the query text is at hand, from :func:`terms_for_text` (the same parsing
and word forms the engine uses). No Flask here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from whoosh import query as Q

from searchapp.query import parse
from searchapp.schema import TEXT_FIELDS

#: A query term (field, text, boost); a phrase has a tuple of words as its text.
Leaf = tuple[str, str | tuple[str, ...], float]
#: Longest piece an unknown word is split into (as the searcher does).
MAX_SPLIT_WORD = 6


@dataclass(frozen=True)
class Part:
    """One (field, term) contribution to a document's score."""

    field: str
    term: str
    score: float


@dataclass(frozen=True)
class Explanation:
    """A document's score as the sum of its parts plus the proximity bonus."""

    total: float
    parts: tuple[Part, ...]
    bonus: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"total", "parts": [{"field", "term", "score"}], "bonus"}``."""
        return {
            "total": self.total,
            "parts": [{"field": p.field, "term": p.term, "score": p.score} for p in self.parts],
            "bonus": self.bonus,
        }


def leaves(q: Q.Query, boost: float = 1.0) -> list[Leaf]:
    """Every (field, term, boost) of a Whoosh query, boosts multiplied down the tree;
    phrases as one leaf, terms of non-text fields (filters) and excluded ones left out.

    For the proximity bonus to stay out of the parts, pass the main query, not the
    bonus phrases."""
    out: list[Leaf] = []
    boost *= getattr(q, "boost", 1.0)
    if isinstance(q, Q.Term):
        if q.fieldname in TEXT_FIELDS:
            out.append((q.fieldname, q.text, boost))
    elif isinstance(q, Q.Phrase):
        if q.fieldname in TEXT_FIELDS:
            out.append((q.fieldname, tuple(q.words), boost))
    elif isinstance(q, Q.Not):
        return []
    elif hasattr(q, "children"):
        for child in q.children():
            out.extend(leaves(child, 1.0 * boost))
    return _unique(out)


def terms_for_text(
    text: str,
    reader: Any,
    forms: Callable[[str], Sequence[Sequence[str]]],
) -> list[Leaf]:
    """The (field, term, boost) the engine searches for ``text``: every word of every
    clause (OR alternatives included), each of its ``forms`` (``Engine.forms``), in each
    text field the word may match. A word the index never saw is split into the longest
    words it knows, as the searcher does; excluded words and filters score nothing."""
    parsed = parse(text)
    out: list[Leaf] = []
    for clause in parsed.clauses:
        for alternative in clause.alternatives:
            for unit in alternative:
                fields = [f for f in unit.fields if f in TEXT_FIELDS]
                if unit.phrase:
                    out.extend((f, tuple(unit.terms), TEXT_FIELDS[f]) for f in fields)
                    continue
                for word in _split_unknown(unit.terms[0], reader, fields, forms):
                    for form in forms(word):
                        text = form[0] if len(form) == 1 else tuple(form)
                        out.extend((f, text, TEXT_FIELDS[f]) for f in fields)
    return _unique(out)


def _known(word: str, reader: Any, fields: Sequence[str], forms: Callable[..., Any]) -> bool:
    return any((f, t) in reader for form in forms(word) for t in form for f in fields)


def _split_unknown(
    word: str, reader: Any, fields: Sequence[str], forms: Callable[..., Any]
) -> list[str]:
    if len(word) < 2 or not fields or _known(word, reader, fields, forms):
        return [word]
    parts: list[str] = []
    i = 0
    while i < len(word):
        for j in range(min(len(word), i + MAX_SPLIT_WORD), i, -1):
            if j == i + 1 or _known(word[i:j], reader, fields, forms):
                parts.append(word[i:j])
                i = j
                break
    if len(parts) < 2 or not all(_known(p, reader, fields, forms) for p in parts):
        return [word]
    return parts


def _unique(items: Iterable[Leaf]) -> list[Leaf]:
    seen: dict[tuple[str, Any], Leaf] = {}
    for fieldname, term, boost in items:
        seen.setdefault((fieldname, term), (fieldname, term, boost))
    return list(seen.values())


def _leaf_for(searcher: Any, docnum: int) -> tuple[Any, int]:
    """The segment searcher holding ``docnum`` and the number it has there (phrase
    matchers only work per segment)."""
    for leaf, offset in searcher.leaf_searchers():
        if offset <= docnum < offset + leaf.reader().doc_count_all():
            return leaf, docnum - offset
    return None, -1


def _phrase_label(words: tuple[str, ...]) -> str:
    joined = " ".join(words) if all(w.isascii() for w in words) else "".join(words)
    return f'"{joined}"'


def explain(
    searcher: Any,
    docnum: int,
    terms: Iterable[Leaf],
    *,
    score: float | None = None,
    weighting: Any = None,
) -> Explanation:
    """Split document ``docnum``'s score into (field, term) parts.

    ``searcher`` is the engine's searcher (its weighting is the engine's BM25F unless
    ``weighting`` is given). ``score`` is the score the engine gave the document: the
    difference to the parts' sum is the ``bonus``; without it the total is the sum.
    Parts are largest first; terms the document lacks are left out.
    """
    weighting = weighting or searcher.weighting
    leaf, local = _leaf_for(searcher, docnum)
    parts: list[Part] = []
    if leaf is not None:
        context = leaf.context(weighting=weighting)
        for fieldname, text, boost in terms:
            if fieldname not in leaf.schema:
                continue
            if isinstance(text, tuple):
                q: Q.Query = Q.Phrase(fieldname, list(text), boost=boost)
                label = _phrase_label(text)
            else:
                q, label = Q.Term(fieldname, text, boost=boost), text
            m = q.matcher(leaf, context)
            if m.is_active() and m.id() < local:
                m.skip_to(local)
            if m.is_active() and m.id() == local:
                value = m.score()
                if value:
                    parts.append(Part(fieldname, label, round(value, 4)))
    parts.sort(key=lambda p: (-p.score, p.field, p.term))
    subtotal = sum(p.score for p in parts)
    total = subtotal if score is None or score <= 0 else score
    bonus = max(0.0, total - subtotal)
    return Explanation(
        total=round(total, 4),
        parts=tuple(parts),
        bonus=round(bonus, 4) if bonus > 5e-4 else 0.0,
    )
