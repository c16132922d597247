"""Related articles and other sources of the same story, for the article page.

:func:`related` takes the article's key terms (Whoosh's Bo1 query-expansion model over
its title and the start of its body: words frequent in the article and rare in the
index), searches for them with the engine's own BM25F weighting, and splits what it
finds in two:

- **duplicates**: the same story from another source (news is syndicated: the same
  text under a slightly different title). A candidate is a duplicate when its body is
  at least :data:`BODY_SIMILAR` similar (Jaccard similarity of 5-character shingles of
  the body's start, on folded text without punctuation), or its title at least
  :data:`TITLE_SIMILAR` (Jaccard of character bigrams) and its body at least
  :data:`TITLE_BODY_SIMILAR`: on the real corpus, identical titles over bodies sharing
  only 10-15% are daily reports under a fixed title, not one story;
- **related**: the best of the others, the article itself excluded.

No Flask here; the caller passes a Whoosh searcher (``Engine.searcher()``).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from whoosh import classify
from whoosh import query as Q

from searchapp.backends.whoosh.schema import TEXT_FIELDS
from searchapp.engine.suggest import index_key
from searchapp.text import analysis, scripts

#: Answers remembered (per article and state of the index).
MEMO_SIZE = 512
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

_NOISE = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


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


def _frequency(reader: Any, term: str) -> int:
    # The body's document frequency; the title's for the rare word only titles have.
    return reader.doc_frequency("body", term) or reader.doc_frequency("title", term)


def key_terms(searcher: Any, stored: dict[str, Any]) -> list[tuple[str, float]]:
    """The article's most characteristic terms with weights (0..1], best first.

    The text is segmented in query mode (whole words, not also their sub-words, which
    would count 俄罗斯 three times as 俄罗斯, 罗斯...), and terms found in no other
    article or in more than a :data:`COMMON_SHARE` of them are left out: they find
    nothing, or everything.
    """
    reader = searcher.reader()
    # Never below a few documents, or a small index would have no common-enough terms.
    most = max(reader.doc_count_all() * COMMON_SHARE, MIN_COMMON)
    weights: dict[str, float] = {}
    for fieldname, number, text in (
        ("title", TITLE_TERMS, stored.get("title") or ""),
        ("body", BODY_TERMS, (stored.get("body") or stored.get("summary") or "")[:TEXT_CHARS]),
    ):
        if not text.strip() or not reader.field_length(fieldname):
            continue
        counts = Counter(t for t, *_ in analysis.token_tuples(text, search_mode=False))
        vector = [
            (term, float(n))
            for term, n in counts.items()
            if _useful(term) and 2 <= _frequency(reader, term) <= most
        ]
        if not vector:
            continue
        expander = classify.Expander(reader, fieldname)
        expander.add(vector)
        for term, weight in expander.expanded_terms(number):
            weights[term] = max(weights.get(term, 0.0), weight)
    return sorted(weights.items(), key=lambda tw: (-tw[1], tw[0]))


def _shared_terms(searcher: Any, docnums: list[int], terms: list[str]) -> dict[int, int]:
    """docnum -> how many of ``terms`` it contains (in its title or body)."""
    reader = searcher.reader()
    found: dict[int, set[str]] = {d: set() for d in docnums}
    ordered = sorted(docnums)
    for term in terms:
        for fieldname in ("title", "body"):
            if (fieldname, term) not in reader:
                continue
            m = reader.postings(fieldname, term)
            for d in ordered:
                if not m.is_active():
                    break
                if m.id() < d:
                    m.skip_to(d)
                    if not m.is_active():
                        break
                if m.id() == d:
                    found[d].add(term)
    return {d: len(ts) for d, ts in found.items()}


def related(
    searcher: Any,
    doc_id: str,
    *,
    limit: int = LIMIT,
    duplicate_limit: int = DUPLICATE_LIMIT,
) -> Related | None:
    """Related articles and other sources of the article ``doc_id`` (None: no such
    article). ``searcher`` scores with its own weighting (the engine's BM25F).

    Answers are remembered per state of the index (:data:`MEMO_SIZE` of them): an
    article opened again costs nothing, and any change to the index starts afresh.
    """
    memo_key = (index_key(searcher.reader()), doc_id, limit, duplicate_limit)
    with _memo_lock:
        if memo_key in _memo:
            _memo.move_to_end(memo_key)
            return _memo[memo_key]
    found = _related(searcher, doc_id, limit, duplicate_limit)
    with _memo_lock:
        _memo[memo_key] = found
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return found


_memo: OrderedDict[tuple[Any, ...], Related | None] = OrderedDict()
_memo_lock = threading.Lock()


def _related(searcher: Any, doc_id: str, limit: int, duplicate_limit: int) -> Related | None:
    started = time.perf_counter()
    docnum = searcher.document_number(id=doc_id)
    if docnum is None:
        return None
    stored = searcher.stored_fields(docnum)
    terms = key_terms(searcher, stored)
    if not terms:
        return Related((), (), (), (time.perf_counter() - started) * 1000)
    # PreloadedOr reads each term's postings once into arrays: three times faster than
    # Whoosh's tree of union matchers for a query of this many terms.
    query = Q.PreloadedOr(
        [
            Q.Term(fieldname, term, boost=weight * TEXT_FIELDS[fieldname])
            for term, weight in terms
            for fieldname in ("title", "body")
        ]
    )
    results = searcher.search(query, limit=CANDIDATES, mask={docnum}, optimize=False)
    # One rare shared word (重任, 承接) is not a relation: ask for two key terms.
    shared = _shared_terms(searcher, [hit.docnum for hit in results], [t for t, _ in terms])
    needed = min(MIN_SHARED, len(terms))
    title = stored.get("title") or ""
    own_title = bigrams(title)
    own_body = shingles(stored.get("body") or "")
    related_docs: list[RelatedDoc] = []
    duplicates: list[RelatedDoc] = []
    listed: list[frozenset[str]] = []
    top = max((hit.score or 0.0 for hit in results), default=0.0)
    for hit in results:
        if len(related_docs) >= limit and (hit.score or 0.0) < top * DUPLICATE_SCORE_SHARE:
            break  # another source of the story shares its key terms: it scores near the top
        other = hit.fields()
        if other.get("id") == doc_id:
            continue
        tsim = jaccard(own_title, bigrams(other.get("title") or ""))
        other_body = shingles(other.get("body") or "")
        bsim = jaccard(own_body, other_body)
        doc = RelatedDoc(
            id=str(other.get("id", "")),
            title=str(other.get("title") or other.get("id") or ""),
            date=other.get("date"),
            source=str(other.get("source") or ""),
            score=round(float(hit.score or 0.0), 4),
            title_similarity=round(tsim, 3),
            body_similarity=round(bsim, 3),
        )
        if is_duplicate(tsim, bsim, bool(own_body and other_body)):
            if len(duplicates) < duplicate_limit:
                duplicates.append(doc)
        elif len(related_docs) < limit and shared.get(hit.docnum, 0) >= needed:
            # A related story told by several sources is listed once.
            grams = bigrams(doc.title)
            if all(jaccard(grams, seen) < TITLE_SIMILAR for seen in listed):
                listed.append(grams)
                related_docs.append(doc)
    # Other sources in date order (the first report first); related by relevance.
    duplicates.sort(key=lambda d: (d.date is None, d.date or datetime.min, d.id))
    return Related(
        related=tuple(related_docs),
        duplicates=tuple(duplicates),
        terms=tuple(t for t, _ in terms),
        took_ms=(time.perf_counter() - started) * 1000,
    )
