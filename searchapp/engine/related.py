"""Related articles and other sources of the same story, for the article page.

:func:`related` takes the article's key terms (the Bo1 query-expansion model, as
Whoosh's ``classify.Expander`` computes it, over its title and the start of its body:
words frequent in the article and rare in the index), searches for them with the
engine's own BM25F weighting, and splits what it finds in two:

- **duplicates**: the same story from another source (news is syndicated: the same
  text under a slightly different title). A candidate is a duplicate when its body is
  at least :data:`BODY_SIMILAR` similar (Jaccard similarity of 5-character shingles of
  the body's start, on folded text without punctuation), or its title at least
  :data:`TITLE_SIMILAR` (Jaccard of character bigrams) and its body at least
  :data:`TITLE_BODY_SIMILAR`: on the real corpus, identical titles over bodies sharing
  only 10-15% are daily reports under a fixed title, not one story;
- **related**: the best of the others, the article itself excluded.

No Flask here; the caller passes a backend view (``Engine.related`` remembers answers).
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from searchapp.backends.base import MatchRequest, Or, Stored, Term, View
from searchapp.fields import TEXT_FIELDS
from searchapp.text import scripts
from searchapp.text.analysis import Analyzer

#: Related articles shown, and other sources of the same story.
LIMIT = 5
DUPLICATE_LIMIT = 10
#: Documents fetched by the key-term search before they are split in two.
CANDIDATES = 40
#: Key terms a related article must share with the article.
MIN_SHARED = 2
#: Key terms taken from the body and from the title.
BODY_TERMS = 10
TITLE_TERMS = 5
#: Terms in more than this share of all articles are not key terms.
COMMON_SHARE = 0.1
MIN_COMMON = 5
#: Only the start of a long body is read (the lead says what the story is).
TEXT_CHARS = 3000
SHINGLE_CHARS = 1000
SHINGLE = 5
TITLE_SIMILAR = 0.8
BODY_SIMILAR = 0.6
#: Once the related list is full, candidates scoring under this share of the best one
#: are not compared any more (the same story scores close to the top).
DUPLICATE_SCORE_SHARE = 0.5
#: With a similar title, this much of the body in common is enough.
TITLE_BODY_SIMILAR = 0.25

_NOISE = re.compile(f"[^0-9a-z{scripts.IDEOGRAPH_CLASS}]+")
_CJK = scripts.IDEOGRAPH


@dataclass(frozen=True)
class RelatedDoc:
    """One related article or other source."""

    id: str
    title: str
    date: datetime | None
    source: str
    score: float
    #: title similarity (bigram Jaccard) and body similarity (shingle Jaccard), 0..1
    title_similarity: float
    body_similarity: float


@dataclass(frozen=True)
class Related:
    """What :func:`related` found for one article."""

    related: tuple[RelatedDoc, ...]
    duplicates: tuple[RelatedDoc, ...]
    terms: tuple[str, ...]
    took_ms: float


def normalise(text: str) -> str:
    """Folded text with only letters, digits and Chinese characters (for comparing)."""
    return _NOISE.sub("", scripts.fold(text or ""))


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of :func:`normalise` d text (the text itself when shorter)."""
    s = normalise(text)
    return frozenset(s[i : i + 2] for i in range(len(s) - 1)) if len(s) > 1 else frozenset([s])


def shingles(text: str, size: int = SHINGLE, chars: int = SHINGLE_CHARS) -> frozenset[str]:
    """Overlapping ``size``-character pieces of the normalised start of ``text``."""
    s = normalise(text[: chars * 2])[:chars]
    if len(s) <= size:
        return frozenset([s]) if s else frozenset()
    return frozenset(s[i : i + size] for i in range(len(s) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b| (0 when both are empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def title_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two titles' character bigrams (1.0: same characters)."""
    return jaccard(bigrams(a), bigrams(b))


def is_duplicate(title_sim: float, body_sim: float, both_bodies: bool = True) -> bool:
    """The same story: nearly the same body, or nearly the same title and a body that
    shares a good part (a daily report under a fixed title is not the same story)."""
    if body_sim >= BODY_SIMILAR:
        return True
    return title_sim >= TITLE_SIMILAR and (body_sim >= TITLE_BODY_SIMILAR or not both_bodies)


def _useful(term: str) -> bool:
    """A key term worth searching for: two characters or more, not a bare number."""
    if len(term) < 2 or term.isdigit():
        return False
    return bool(_CJK.search(term)) or any(c.isalpha() for c in term)


def _bo1(weight: float, collection: float, n: int) -> float:
    f = collection / n
    return weight * math.log((1.0 + f) / f, 2) + math.log(1.0 + f, 2)


def _expanded(
    view: View, fieldname: str, vector: list[tuple[str, float]], number: int
) -> list[tuple[str, float]]:
    """The ``number`` best terms of ``vector`` by Bo1 (weight in the article against the
    term's frequency in the whole field), normalised to (0, 1] (Whoosh's Expander)."""
    top: dict[str, float] = {}
    total = 0.0
    for word, weight in vector:
        top[word] = top.get(word, 0.0) + weight
        total += weight
    n = view.doc_count() or 1
    stats = view.term_stats(fieldname, top)
    scored = [
        (_bo1(weight, stats[word][1], n), word) for word, weight in top.items() if word in stats
    ]
    if not scored:
        return []
    best = max(score for score, _ in scored)
    f = best / n
    norm = (best * math.log((1.0 + f) / f) + math.log(1.0 + f)) / math.log(2.0)
    ranked = sorted(((score / norm, word) for score, word in scored), key=lambda x: (-x[0], x[1]))
    return [(word, weight) for weight, word in ranked[:number]]


def key_terms(view: View, analyzer: Analyzer, doc: Stored) -> list[tuple[str, float]]:
    """The article's most characteristic terms with weights (0..1], best first.

    The text is segmented in query mode (whole words, not also their sub-words, which
    would count 俄罗斯 three times as 俄罗斯, 罗斯...), and terms found in no other
    article or in more than a :data:`COMMON_SHARE` of them are left out: they find
    nothing, or everything.
    """
    # Never below a few documents, or a small index would have no common-enough terms.
    most = max(view.doc_count() * COMMON_SHARE, MIN_COMMON)
    weights: dict[str, float] = {}
    for fieldname, number, text in (
        ("title", TITLE_TERMS, doc.title),
        ("body", BODY_TERMS, (doc.body or doc.summary)[:TEXT_CHARS]),
    ):
        if not text.strip() or not view.field_length(fieldname):
            continue
        counts = Counter(t for t, *_ in analyzer.tokens(text, search_mode=False))
        useful = [t for t in counts if _useful(t)]
        body = view.term_stats("body", useful)
        title = view.term_stats("title", useful)
        vector = [
            (term, float(counts[term]))
            for term in useful
            # The body's document frequency; the title's for the rare word only titles have.
            if 2 <= ((body.get(term) or (0, 0))[0] or (title.get(term) or (0, 0))[0]) <= most
        ]
        if not vector:
            continue
        for term, weight in _expanded(view, fieldname, vector, number):
            weights[term] = max(weights.get(term, 0.0), weight)
    return sorted(weights.items(), key=lambda tw: (-tw[1], tw[0]))


def related(
    view: View,
    analyzer: Analyzer,
    doc_id: str,
    limit: int = LIMIT,
    duplicate_limit: int = DUPLICATE_LIMIT,
) -> Related | None:
    """Related articles and other sources of the article ``doc_id`` (None: no such
    article), scored with the backend's BM25F."""
    started = time.perf_counter()
    ref = view.lookup(doc_id)
    if ref is None:
        return None
    doc = view.stored([ref])[0]
    terms = key_terms(view, analyzer, doc)
    if not terms:
        return Related((), (), (), (time.perf_counter() - started) * 1000)
    query = Or(
        tuple(
            Term(fieldname, term, weight * TEXT_FIELDS[fieldname])
            for term, weight in terms
            for fieldname in ("title", "body")
        )
    )
    found = view.match(MatchRequest(query=query, limit=CANDIDATES + 1))
    ranked = [(score, r) for score, r in found.ranked if r != ref][:CANDIDATES]
    stored = dict(zip([r for _, r in ranked], view.stored([r for _, r in ranked]), strict=True))
    # Equal scores (the same text from several sources): the first report first.
    ranked.sort(key=lambda sr: (-round(sr[0], 7), stored[sr[1]].date or datetime.max))
    results = [(score, r, stored[r]) for score, r in ranked]
    # One rare shared word (重任, 承接) is not a relation: ask for two key terms.
    refs = [r for _, r, _ in results]
    shared = view.containing(refs, ("title", "body"), [t for t, _ in terms])
    needed = min(MIN_SHARED, len(terms))
    own_title = bigrams(doc.title)
    own_body = shingles(doc.body)
    related_docs: list[RelatedDoc] = []
    duplicates: list[RelatedDoc] = []
    listed: list[frozenset[str]] = []
    top = max((score for score, _, _ in results), default=0.0)
    for score, r, other in results:
        if len(related_docs) >= limit and score < top * DUPLICATE_SCORE_SHARE:
            break  # another source of the story shares its key terms: it scores near the top
        if other.id == doc_id:
            continue
        tsim = jaccard(own_title, bigrams(other.title))
        other_body = shingles(other.body)
        bsim = jaccard(own_body, other_body)
        item = RelatedDoc(
            id=other.id,
            title=other.title or other.id,
            date=other.date,
            source=other.source,
            score=round(float(score), 4),
            title_similarity=round(tsim, 3),
            body_similarity=round(bsim, 3),
        )
        if is_duplicate(tsim, bsim, bool(own_body and other_body)):
            if len(duplicates) < duplicate_limit:
                duplicates.append(item)
        elif len(related_docs) < limit and len(shared.get(r, ())) >= needed:
            # A related story told by several sources is listed once.
            grams = bigrams(item.title)
            if all(jaccard(grams, seen) < TITLE_SIMILAR for seen in listed):
                listed.append(grams)
                related_docs.append(item)
    # Other sources in date order (the first report first); related by relevance.
    duplicates.sort(key=lambda d: (d.date is None, d.date or datetime.min, d.id))
    return Related(
        related=tuple(related_docs),
        duplicates=tuple(duplicates),
        terms=tuple(t for t, _ in terms),
        took_ms=(time.perf_counter() - started) * 1000,
    )
