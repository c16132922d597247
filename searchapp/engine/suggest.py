"""Autocomplete, pinyin input and "did you mean" from the index's own vocabulary.

Everything here reads the Whoosh index; nothing is configured by hand. A
:class:`Vocabulary` is built once per index generation (about a second over 14,000
articles) and cached (:func:`vocabulary`); every lookup after that is a binary search
in sorted lists and takes well under a millisecond or two.

What it holds:

- every term of the title, summary and body fields with its document frequency (the
  largest over the fields, as the ranking does). Terms are folded (simplified, lower
  case, English stemmed), so the form shown to a person is taken from the titles: the
  most common original spelling of each term there (``DeepSeek`` for ``deepseek``, the
  traditional form for a reader who typed traditional characters);
- the pinyin of every Chinese word (no tones, ``人工智能`` -> ``rengongzhineng``) and its
  initials (``rgzn``), from pypinyin's phrase and character tables;
- every title, for suggesting articles by title.

Three uses:

- :func:`suggest`: completions for what is being typed (the last word is completed,
  the words before it are kept as typed), pinyin and initials turned into Chinese
  words, and titles containing the words;
- :func:`pinyin_candidates`: the Chinese words an all-ASCII query word stands for, when
  it is pinyin rather than an English word of the index (for the searcher);
- :func:`did_you_mean`: a corrected or shorter query for a query that found (almost)
  nothing: unknown words replaced by a known word one character away (Chinese) or up to
  two edits away (English words of five letters or more), pinyin turned into Chinese,
  words that match nothing dropped. Only queries that find something are proposed: the
  caller passes a function that counts results with the real engine.

No Flask and no :mod:`searchapp.engine.search` import here, so the searcher can use it too.
"""

from __future__ import annotations

import heapq
import logging
import re
import threading
import time
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal, overload

from searchapp.backends.whoosh import sidecar
from searchapp.backends.whoosh.schema import TEXT_FIELDS
from searchapp.text import analysis, scripts

log = logging.getLogger(__name__)

#: Most suggestions returned by :func:`suggest`.
LIMIT = 8
#: Of those, at most this many are article titles.
TITLE_LIMIT = 3
#: Longest input looked at (longer input is cut) and longest suggestion text returned.
MAX_INPUT = 100
MAX_TEXT = 120
#: Indexes with fewer documents keep words seen once; bigger ones need two documents,
#: which drops typos and one-off tokens from completions and corrections.
SMALL_INDEX = 2000
#: Longest word kept in the completion vocabulary, and longest Chinese word given pinyin.
MAX_TERM = 16
MAX_PINYIN_WORD = 8
#: An ASCII word is read as English, not pinyin, when the index has it in at least this
#: share of as many documents as its best pinyin reading (``change`` vs 嫦娥).
ENGLISH_SHARE = 0.5
#: Titles looked at to rank completions by the words typed before them.
CONTEXT_TITLES = 400
#: Completions considered before ranking them by context.
CONTEXT_POOL = 24
#: Most queries :func:`did_you_mean` sends to the engine to check a candidate.
MAX_CHECKS = 8
#: Time :func:`did_you_mean` may spend checking candidates with the engine.
BUDGET_MS = 200.0
#: Words a query may have for :func:`did_you_mean` to try dropping each of them.
MAX_DROP_WORDS = 6

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ALL_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+\Z")
_ASCII_WORD = re.compile(r"[a-z][a-z0-9]*\Z")
_LETTERS = re.compile(r"[a-z]+\Z")
_SYNTAX = re.compile(r"[\"“”「」『』:：()]|^-|^(?:OR|AND|NOT|\||\|\||&&?)$")


@dataclass(frozen=True)
class Suggestion:
    """One suggestion: the whole query text to search, or an article's title."""

    text: str
    #: "term" (the last word completed), "pinyin" (pinyin or initials turned into a
    #: Chinese word) or "title" (an article whose title has the words)
    kind: str
    #: For titles: the article's id.
    doc_id: str = ""


@dataclass(frozen=True)
class _Title:
    folded: str
    text: str
    doc_id: str
    when: float


@dataclass
class Vocabulary:
    """The index's words, their pinyin and the titles, for one index generation."""

    key: tuple[Any, ...]
    doc_count: int
    min_df: int
    #: term -> document frequency (largest over the text fields), every term of the index
    df: dict[str, int]
    #: sorted completion keys (terms, and lowercased English spellings from titles)
    keys: list[str]
    #: the term each key stands for
    key_terms: list[str]
    #: reversed Chinese terms, sorted: corrections that change a word's first character
    rev_keys: list[str]
    #: term -> the spelling to show (most common in titles), when not the term itself
    display: dict[str, str]
    #: sorted (full pinyin, term) and (initials, term) as parallel lists
    py_keys: list[str]
    py_terms: list[str]
    init_keys: list[str]
    init_terms: list[str]
    #: first letter -> [(lowercase English key, term)] for edit-distance corrections
    ascii_by_first: dict[str, list[tuple[str, str]]]
    #: every title, newest first
    titles: list[_Title]
    #: character -> indexes into ``titles`` of titles containing it
    title_chars: dict[str, list[int]]
    #: folded titles sorted, and the index into ``titles`` of each
    title_keys: list[str]
    title_order: list[int]
    build_ms: float = 0.0
    _memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)

    # -- lookups -------------------------------------------------------------------------

    def frequency(self, term: str) -> int:
        """Documents containing ``term`` (a folded index term), 0 when the index lacks it."""
        return self.df.get(term, 0)

    def known(self, term: str) -> bool:
        """True when some document has ``term`` or one of its other written forms."""
        return self.frequency(term) > 0 or any(self.frequency(v) for v in analysis.variants(term))

    def show(self, term: str, traditional: bool = False) -> str:
        """The spelling of ``term`` to show a person: English as titles spell it, Chinese
        in simplified characters or, for a reader typing traditional ones, as traditional
        titles write it."""
        if traditional and _CJK.search(term):
            return self.traditional_form(term)
        return self.display.get(term, term)

    def traditional_form(self, term: str) -> str:
        """The most common spelling of a Chinese ``term`` in titles written in traditional
        characters (``term`` itself when none has it)."""
        memo_key = ("traditional", term)
        if memo_key in self._memo:
            return self._memo[memo_key]
        forms: Counter[str] = Counter()
        for i in self._title_candidates(term)[:500]:
            title = self.titles[i]
            at = title.folded.find(term)
            if at >= 0:
                form = title.text[at : at + len(term)]
                if form != term:
                    forms[form] += 1
        best = forms.most_common(1)[0][0] if forms else term
        self._remember(memo_key, best)
        return best

    def _title_candidates(self, text: str) -> list[int]:
        """Titles containing the rarest character of ``text`` (a superset of those
        containing ``text``)."""
        chars = {c for c in text if not c.isspace()}
        if not chars or any(c not in self.title_chars for c in chars):
            return []
        return self.title_chars[min(chars, key=lambda c: len(self.title_chars[c]))]

    def complete(self, prefix: str, limit: int = LIMIT) -> list[str]:
        """Frequent terms starting with the folded ``prefix`` (not the prefix itself)."""
        memo_key = ("complete", prefix, limit)
        if memo_key in self._memo:
            return self._memo[memo_key]
        found: dict[str, int] = {}
        for term in _range(self.keys, self.key_terms, prefix):
            if term != prefix and term not in found:
                found[term] = self.df.get(term, 0)
        best = _top(found, limit)
        self._remember(memo_key, best)
        return best

    def complete_pinyin(self, letters: str, limit: int = LIMIT) -> list[str]:
        """Chinese words whose pinyin or initials start with ``letters``, most frequent first."""
        memo_key = ("pinyin", letters, limit)
        if memo_key in self._memo:
            return self._memo[memo_key]
        found: dict[str, int] = {}
        if len(letters) >= 2 and _could_be_pinyin(letters):
            for term in _range(self.py_keys, self.py_terms, letters):
                found[term] = self.df.get(term, 0)
        if 2 <= len(letters) <= MAX_PINYIN_WORD:
            for term in _range(self.init_keys, self.init_terms, letters):
                # Initials alone are vague: a word must be as long as the initials typed,
                # or one character longer (rgz -> 人工智能 waits for the fourth letter).
                if len(term) <= len(letters) + 1:
                    found.setdefault(term, self.df.get(term, 0))
        best = _top(found, limit)
        self._remember(memo_key, best)
        return best

    def pinyin_words(self, letters: str) -> list[str]:
        """Chinese words whose whole pinyin (or, from three letters, initials) is ``letters``."""
        found: dict[str, int] = {}
        for key, term in _items(self.py_keys, self.py_terms, letters):
            if key == letters:
                found[term] = self.df.get(term, 0)
        if not found and len(letters) >= 3:
            for key, term in _items(self.init_keys, self.init_terms, letters):
                if key == letters:
                    found[term] = self.df.get(term, 0)
        return _top(found, len(found))

    def cjk_neighbours(self, word: str) -> list[str]:
        """Known Chinese words one character away from ``word``, best first.

        A character typed with the wrong one of its homophones is the usual slip with a
        pinyin keyboard (开源模形 -> 开源模型, 求锁 -> 求索), so substitutions by a
        character with the same pinyin come first, then other substitutions and a
        character dropped or added, each by document frequency. A two-character word
        only gets homophones: any other one-character change of 企鹅 is just another
        word (企业), not what was meant.
        """
        n = len(word)
        found: dict[str, tuple[int, int]] = {}

        def consider(term: str, homophone: bool) -> None:
            df = self.df.get(term, 0)
            if term != word and df >= self.min_df and (homophone or n > 2):
                rank = (0 if homophone else 1, -df)
                found[term] = min(found.get(term, rank), rank)

        for i in range(n):
            shorter = word[:i] + word[i + 1 :]
            if len(shorter) >= 2:
                consider(shorter, False)
        if n >= 2:
            # Changes after the first character: words sharing the first character.
            for term in _range(self.keys, self.key_terms, word[0]):
                if len(term) == n:
                    at = _one_substitution(term, word)
                    if at >= 0:
                        consider(term, _homophones(term[at], word[at]))
                elif len(term) == n + 1 and _one_insertion(word, term):
                    consider(term, False)
            # A changed or added first character: words sharing the last character.
            for rev in _range(self.rev_keys, self.rev_keys, word[-1]):
                term = rev[::-1]
                if len(term) == n and term[1:] == word[1:]:
                    consider(term, _homophones(term[0], word[0]))
                elif len(term) == n + 1 and term[1:] == word:
                    consider(term, False)
        return sorted(found, key=lambda t: (found[t], len(t), t))

    def ascii_neighbours(self, word: str, maxdist: int = 2) -> list[str]:
        """Known English words within ``maxdist`` edits of ``word`` (first letter kept, as
        most misspellings keep it), closest then most frequent first; as display forms."""
        scored: dict[str, tuple[int, int]] = {}
        for key, term in self.ascii_by_first.get(word[:1], ()):
            if abs(len(key) - len(word)) > maxdist or key == word:
                continue
            dist = _levenshtein(word, key, maxdist)
            if dist <= maxdist:
                rank = (dist, -self.df.get(term, 0))
                if term not in scored or rank < scored[term]:
                    scored[term] = rank
        return [self.show(t) for t in sorted(scored, key=lambda t: (scored[t], t))]

    def titles_with(self, words: list[str], limit: int = TITLE_LIMIT) -> list[_Title]:
        """Titles containing every folded word: those starting with the first word, then
        the others, newest first; a title repeated by several sources once."""
        words = [w for w in words if w]
        if not words or not self.titles or limit <= 0:
            return []
        memo_key = ("titles", tuple(words), limit)
        if memo_key in self._memo:
            return self._memo[memo_key]
        starting = sorted(
            i
            for i in _range(self.title_keys, self.title_order, words[0])
            if all(w in self.titles[i].folded for w in words[1:])
        )
        best: list[_Title] = []
        shown: set[str] = set()

        def take(i: int) -> bool:
            title = self.titles[i]
            if title.folded not in shown:
                shown.add(title.folded)
                best.append(title)
            return len(best) >= limit

        # ``titles`` is sorted newest first, so the first matches found are the newest.
        if not any(take(i) for i in starting):
            for i in self._title_candidates("".join(words)):
                if all(w in self.titles[i].folded for w in words) and take(i):
                    break
        self._remember(memo_key, best)
        return best

    def in_titles(self, text: str) -> bool:
        """True when some title contains the folded ``text``."""
        return any(text in self.titles[i].folded for i in self._title_candidates(text))

    def title_neighbours(self, text: str, limit: int = 2) -> list[str]:
        """Chinese strings in titles that differ from ``text`` by one character, most
        titles first (深度求锁 -> 深度求索): phrases the vocabulary cannot list because
        jieba cuts them into several words."""
        memo_key = ("title-neighbours", text, limit)
        if memo_key in self._memo:
            return self._memo[memo_key]
        counts: Counter[str] = Counter()
        for i in range(len(text)):
            left, right = text[:i], text[i + 1 :]
            pattern = re.compile(re.escape(left) + "(.)" + re.escape(right))
            for t in self._title_candidates(left + right):
                for m in pattern.finditer(self.titles[t].folded):
                    if _CJK.match(m.group(1)):
                        counts[m.group(0)] += 1
        counts.pop(text, None)
        best = [w for w, _ in counts.most_common(limit)]
        self._remember(memo_key, best)
        return best

    def context_counts(self, context: list[str], terms: list[str]) -> dict[str, int]:
        """For each term, how many titles containing every ``context`` word contain it too
        (``deepseek 开源``: 开源模型 is likelier than 开源节流)."""
        memo_key = ("context", tuple(context), tuple(terms))
        if memo_key in self._memo:
            return self._memo[memo_key]
        scope = [
            self.titles[i].folded
            for i in self._title_candidates("".join(context))
            if all(w in self.titles[i].folded for w in context)
        ][:CONTEXT_TITLES]
        counts = {t: sum(t in folded for folded in scope) for t in terms} if scope else {}
        self._remember(memo_key, counts)
        return counts

    def _remember(self, key: tuple[Any, ...], value: Any) -> None:
        if len(self._memo) > 4096:
            self._memo.clear()
        self._memo[key] = value


# -- building and caching -------------------------------------------------------------------


def index_key(reader: Any) -> tuple[Any, ...]:
    """What identifies one committed state of an index: its generation, its segments
    (their ids are unique to each write) and their live document counts."""
    leaves = reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]
    segments = []
    for leaf, _ in leaves:
        segment = leaf.segment() if hasattr(leaf, "segment") else None
        segid = segment.segment_id() if segment is not None else id(leaf)
        segments.append((segid, leaf.doc_count()))
    return (reader.generation(), tuple(segments))


#: How often, at most, a changed index starts a new background build (seconds).
REFRESH_INTERVAL = 2.0

_cache: dict[str, Vocabulary] = {}
_cache_lock = threading.Lock()
_build_locks: dict[str, threading.Lock] = {}
_refreshing: dict[str, threading.Thread] = {}
_refresh_started: dict[str, float] = {}


def owner_for(index_dir: Any) -> str:
    """The ``owner`` name of an index folder (one cache slot per folder, however named)."""
    return str(Path(index_dir).resolve())


def peek(owner: str) -> Vocabulary | None:
    """The vocabulary cached for ``owner``, possibly of an older state of the index, or
    None when none was built yet; never builds (for callers that must not wait)."""
    return _cache.get(owner)


@overload
def vocabulary(
    source: Any,
    owner: str = ...,
    opener: Callable[[], Any] | None = ...,
    *,
    wait: Literal[True] = ...,
) -> Vocabulary: ...


@overload
def vocabulary(
    source: Any, owner: str = ..., opener: Callable[[], Any] | None = ..., *, wait: bool
) -> Vocabulary | None: ...


def vocabulary(
    source: Any, owner: str = "", opener: Callable[[], Any] | None = None, *, wait: bool = True
) -> Vocabulary | None:
    """The :class:`Vocabulary` of the index ``source`` reads (a Whoosh searcher or reader),
    built on first use and again whenever the index changes.

    ``owner`` names the index (its folder) so that a changed index can be served from
    the previous vocabulary while the new one is built: with ``opener`` (a function
    returning a fresh Whoosh reader, closed after use) the new one is built in a
    background thread and no request waits; without, by the first thread that notices,
    while other threads keep the old one. Only the very first build is waited for, and
    with ``wait=False`` not even that: None while another thread (a server's warm-up)
    builds the first one.
    """
    if isinstance(source, Vocabulary):
        return source
    reader = source.reader() if hasattr(source, "reader") else source
    key = index_key(reader)
    slot = owner or f"reader:{key!r}"
    current = _cache.get(slot)
    if current is not None and current.key == key:
        return current
    if current is not None and opener is not None:
        refresh(slot, opener)
        return current
    with _cache_lock:
        lock = _build_locks.setdefault(slot, threading.Lock())
    if current is not None and not lock.acquire(blocking=False):
        return current  # another thread is building the new one: serve the old meanwhile
    if current is None:
        if not lock.acquire(blocking=wait):
            return None
    try:
        latest = _cache.get(slot)
        # Built while this thread waited (a warm-up, maybe of a newer state): use it.
        if latest is not None and (latest.key == key or current is None):
            return latest
        vocab = build_vocabulary(reader, key=key)
        _store(slot, vocab)
        return vocab
    finally:
        lock.release()


def _store(slot: str, vocab: Vocabulary) -> None:
    with _cache_lock:
        if slot.startswith("reader:"):
            # Anonymous readers: keep only a few (tests open many small indexes).
            for old in [k for k in _cache if k.startswith("reader:")][:-3]:
                del _cache[old]
        _cache[slot] = vocab


def refresh(owner: str, opener: Callable[[], Any]) -> threading.Thread | None:
    """Build ``owner``'s vocabulary again in a background thread (at most one at a time,
    and not more often than every :data:`REFRESH_INTERVAL` seconds). Also used to warm
    the cache when a server starts. Returns the thread, or None when none was started."""
    with _cache_lock:
        running = _refreshing.get(owner)
        if running is not None and running.is_alive():
            return None
        now = time.monotonic()
        if now - _refresh_started.get(owner, -REFRESH_INTERVAL) < REFRESH_INTERVAL:
            return None
        _refresh_started[owner] = now
        thread = threading.Thread(
            target=_refresh, args=(owner, opener), name="searchapp-vocabulary", daemon=True
        )
        _refreshing[owner] = thread
    thread.start()
    return thread


def _refresh(owner: str, opener: Callable[[], Any]) -> None:
    try:
        reader = opener()
    except Exception as exc:  # noqa: BLE001 - no index yet, or being replaced: try later
        log.info("vocabulary not built for %s: %s", owner, exc)
        return
    # The same lock as a request building synchronously: never two builds at once, and a
    # first request arriving during the warm-up waits for it instead of building too.
    with _cache_lock:
        lock = _build_locks.setdefault(owner, threading.Lock())
    try:
        with lock:
            key = index_key(reader)
            current = _cache.get(owner)
            if current is None or current.key != key:
                _store(owner, build_vocabulary(reader, key=key))
    except Exception:  # noqa: BLE001 - a background thread must never die noisily
        log.exception("building the vocabulary of %s failed", owner)
    finally:
        reader.close()


def wait_for_refresh(owner: str, timeout: float = 60.0) -> None:
    """Wait for ``owner``'s background build, if one is running (tests, benchmarks)."""
    thread = _refreshing.get(owner)
    if thread is not None:
        thread.join(timeout)


def build_vocabulary(reader: Any, key: tuple[Any, ...] | None = None) -> Vocabulary:
    """Read every term, document frequency and title of the index (no caching)."""
    started = time.perf_counter()
    doc_count = reader.doc_count()
    min_df = 1 if doc_count < SMALL_INDEX else 2
    df = _document_frequencies(reader)
    titles, spellings = _read_titles(reader)

    display: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for term, forms in spellings.items():
        best = forms.most_common(1)[0][0]
        if best != term:
            display[term] = best
        for form in forms:
            low = form.lower()
            if low != term:
                pairs.append((low, term))
    vocab_terms = [t for t, n in df.items() if n >= min_df and _completable(t, df, spellings)]
    pairs.extend((t, t) for t in vocab_terms)
    pairs.sort()

    cjk_terms = [t for t in vocab_terms if _ALL_CJK.match(t)]
    py_pairs: list[tuple[str, str]] = []
    init_pairs: list[tuple[str, str]] = []
    for term in cjk_terms:
        syllables = _syllables_of(term) if len(term) <= MAX_PINYIN_WORD else None
        if syllables:
            py_pairs.append(("".join(syllables), term))
            init_pairs.append(("".join(s[0] for s in syllables), term))
    py_pairs.sort()
    init_pairs.sort()

    ascii_by_first: dict[str, list[tuple[str, str]]] = {}
    for k, t in pairs:
        if len(k) >= 3 and _LETTERS.match(k):
            ascii_by_first.setdefault(k[0], []).append((k, t))

    titles.sort(key=lambda t: -t.when)
    title_chars: dict[str, list[int]] = {}
    for i, title in enumerate(titles):
        for ch in set(title.folded):
            if not ch.isspace():
                title_chars.setdefault(ch, []).append(i)

    return Vocabulary(
        key=key if key is not None else index_key(reader),
        doc_count=doc_count,
        min_df=min_df,
        df=df,
        keys=[k for k, _ in pairs],
        key_terms=[t for _, t in pairs],
        rev_keys=sorted(t[::-1] for t in cjk_terms),
        display=display,
        py_keys=[k for k, _ in py_pairs],
        py_terms=[t for _, t in py_pairs],
        init_keys=[k for k, _ in init_pairs],
        init_terms=[t for _, t in init_pairs],
        ascii_by_first=ascii_by_first,
        titles=titles,
        title_chars=title_chars,
        title_keys=[t.folded for t in sorted(titles, key=lambda t: t.folded)],
        title_order=sorted(range(len(titles)), key=lambda i: titles[i].folded),
        build_ms=(time.perf_counter() - started) * 1000,
    )


def _document_frequencies(reader: Any) -> dict[str, int]:
    """term -> largest document frequency over the text fields (summed over segments)."""
    leaves = reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]
    best: dict[bytes, int] = {}
    for fieldname in TEXT_FIELDS:
        counts: dict[bytes, int] = {}
        for leaf, _ in leaves:
            if fieldname not in leaf.schema:
                continue
            side = sidecar.for_reader(leaf)
            fa = side.fields.get(fieldname) if side is not None else None
            if fa is not None:  # the same counts, without decoding Whoosh's term records
                terms, freqs = fa.term_counts()
                for btext, n in zip(terms, freqs.tolist(), strict=True):
                    counts[btext] = counts.get(btext, 0) + n
                continue
            # Per segment: Whoosh's merged iteration over several segments is ~5x slower.
            for btext, info in leaf.iter_field(fieldname):
                counts[btext] = counts.get(btext, 0) + info.doc_frequency()
        for btext, n in counts.items():
            if n > best.get(btext, 0):
                best[btext] = n
    # Text fields store their terms as UTF-8.
    return {btext.decode("utf-8", "replace"): n for btext, n in best.items()}


_TITLE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def _read_titles(reader: Any) -> tuple[list[_Title], dict[str, Counter[str]]]:
    """Every title, and for English terms the spellings titles use (``DeepSeek``)."""
    titles: list[_Title] = []
    spellings: dict[str, Counter[str]] = {}
    stems: dict[str, str | None] = {}
    seen: set[str] = set()
    for docnum in reader.all_doc_ids():
        stored = reader.stored_fields(docnum)
        text = " ".join(str(stored.get("title") or "").split())
        if not text:
            continue
        date = stored.get("date")
        when = date.timestamp() if isinstance(date, datetime) else 0.0
        titles.append(_Title(scripts.fold(text), text, str(stored.get("id", "")), when))
        for word in _TITLE_WORD.findall(text):
            if word not in stems:
                low = word.lower()
                if low in seen:
                    stems[word] = stems.get(low)
                else:
                    # The analyzer's own normalisation (Porter2 for English words).
                    terms = analysis.query_terms(low)
                    stems[word] = terms[0] if len(terms) == 1 else None
                    seen.add(low)
                    stems[low] = stems[word]
            term = stems[word]
            if term is not None:
                spellings.setdefault(term, Counter())[word] += 1
    return titles, spellings


#: jieba's HMM glues a character to a name (川普对, 川普正): a word made of a known word
#: and one more character is not offered as a completion when the character is one of
#: these particles, or when the word is rarer than the known word by this ratio.
GLUE_RATIO = 30
_GLUE = frozenset("的了对说称是则在和与及将也都就还又被把给向从到为以于而并但已再即")


def _completable(term: str, df: dict[str, int], spellings: dict[str, Counter[str]]) -> bool:
    """Worth offering as a completion: a Chinese word of two characters or more that is
    not a known word with a particle glued on, or an English word some title spells
    (index terms are stemmed: ``compani`` cannot be shown, ``Company`` can)."""
    if len(term) > MAX_TERM or len(term) < 2 or term.isdigit():
        return False
    if _CJK.search(term):
        if len(term) >= 3:
            n = df[term]
            for part, glued in ((term[:-1], term[-1]), (term[1:], term[0])):
                if part in df and (glued in _GLUE or n * GLUE_RATIO < df[part]):
                    return False
        return True
    return term in spellings


def _range(keys: list[str], values: list[str], prefix: str) -> Iterator[str]:
    """Values whose key starts with ``prefix`` (keys sorted)."""
    for _, value in _items(keys, values, prefix):
        yield value


def _items(keys: list[str], values: list[str], prefix: str) -> Iterator[tuple[str, str]]:
    """(key, value) pairs whose key starts with ``prefix`` (keys sorted)."""
    if not prefix:
        return
    i = bisect_left(keys, prefix)
    n = len(keys)
    while i < n and keys[i].startswith(prefix):
        yield keys[i], values[i]
        i += 1


def _top(found: dict[str, int], limit: int) -> list[str]:
    """The ``limit`` most frequent terms; shorter, then alphabetical on ties."""
    return heapq.nsmallest(limit, found, key=lambda t: (-found[t], len(t), t))


def _one_substitution(a: str, b: str) -> int:
    """The position where equally long ``a`` and ``b`` differ, when that is the only one;
    else -1."""
    at = -1
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            if at >= 0:
                return -1
            at = i
    return at


def _one_insertion(short: str, long: str) -> bool:
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def _levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance, or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


# -- pinyin ---------------------------------------------------------------------------------


@cache
def _pinyin_tables() -> tuple[dict[str, list[list[str]]], dict[int, str]]:
    from pypinyin import phrases_dict, pinyin_dict

    return phrases_dict.phrases_dict, pinyin_dict.pinyin_dict


@cache
def _syllable_set() -> frozenset[str]:
    _, chars = _pinyin_tables()
    out = set()
    for readings in chars.values():
        for reading in readings.split(","):
            plain = _toneless(reading)
            if _LETTERS.match(plain):
                out.add(plain)
    return frozenset(out)


@cache
def _syllable_prefixes() -> frozenset[str]:
    return frozenset(s[:i] for s in _syllable_set() for i in range(1, len(s) + 1))


def _toneless(reading: str) -> str:
    """``lǜ`` -> ``lv``, ``xíng`` -> ``xing`` (ü typed as v, as pinyin keyboards do)."""
    reading = reading.replace("ü", "v")
    decomposed = unicodedata.normalize("NFD", reading)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ü", "v")


_char_cache: dict[str, str | None] = {}


@cache
def _readings(ch: str) -> frozenset[str]:
    """Every toneless reading of a character (长: chang, zhang)."""
    readings = _pinyin_tables()[1].get(ord(ch))
    return frozenset(_toneless(r) for r in readings.split(",")) if readings else frozenset()


def _homophones(a: str, b: str) -> bool:
    """True when the two characters can be read the same (tones aside)."""
    return bool(_readings(a) & _readings(b))


def _char_syllable(ch: str) -> str | None:
    if ch not in _char_cache:
        readings = _pinyin_tables()[1].get(ord(ch))
        plain = _toneless(readings.split(",")[0]) if readings else ""
        _char_cache[ch] = plain if _LETTERS.match(plain) else None
    return _char_cache[ch]


def _syllables_of(word: str) -> list[str] | None:
    """Toneless pinyin of a Chinese word, one syllable per character: pypinyin's phrase
    table for the longest known phrases (行长 is hang zhang), else each character's most
    common reading. None when a character has no reading."""
    phrases = _pinyin_tables()[0]
    out: list[str] = []
    i = 0
    n = len(word)
    while i < n:
        for j in range(min(n, i + 4), i + 1, -1):
            reading = phrases.get(word[i:j])
            if reading and len(reading) == j - i:
                out.extend(_toneless(r[0]) for r in reading)
                i = j
                break
        else:
            syllable = _char_syllable(word[i])
            if syllable is None:
                return None
            out.append(syllable)
            i += 1
    return out


def _could_be_pinyin(letters: str) -> bool:
    """True when ``letters`` splits into pinyin syllables (the last one may be unfinished)."""
    syllables = _syllable_set()
    prefixes = _syllable_prefixes()
    n = len(letters)
    ok = [False] * (n + 1)
    ok[0] = True
    for i in range(n):
        if not ok[i]:
            continue
        for j in range(i + 1, min(n, i + 6) + 1):
            piece = letters[i:j]
            if piece in syllables:
                ok[j] = True
            elif j == n and piece in prefixes:
                return True
    return ok[n]


def pinyin_candidates(word: str, source: Any, limit: int = 3) -> list[str]:
    """The Chinese words of the index that the ASCII ``word`` is the pinyin of.

    ``rengongzhineng`` and, from three letters, the initials ``rgzn`` give ``人工智能``;
    the most frequent words come first. Empty when ``word`` is not all letters, when no
    Chinese word of the index reads like that, or when ``word`` is itself an English
    word of the index about as common as its best reading (``change`` is not 嫦娥).

    ``source`` is a Whoosh searcher or reader of the index (or a :class:`Vocabulary`).
    Pass the word as typed (folded, lowercase), not stemmed: ``jinping`` stems to
    ``jinp``; a stemmed word is matched too, less precisely.
    """
    letters = scripts.fold(word.strip())
    if not (2 <= len(letters) <= 48 and _LETTERS.match(letters)):
        return []
    vocab = vocabulary(source)
    found = vocab.pinyin_words(letters)
    if not found and len(letters) >= 3:
        # A stemmed word (jinp for jinping): readings that stem to it.
        stems = {
            term
            for key, term in _items(vocab.py_keys, vocab.py_terms, letters)
            if analysis.query_terms(key) == [letters]
        }
        found = sorted(stems, key=lambda t: (-vocab.frequency(t), t))
    if not found:
        return []
    english = vocab.frequency(_stem(letters))
    if english and english >= ENGLISH_SHARE * vocab.frequency(found[0]):
        return []
    return found[:limit]


# -- autocomplete ---------------------------------------------------------------------------


def _clean(text: str) -> str:
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text[: MAX_INPUT * 2])
    return text[:MAX_INPUT]


def _is_traditional(text: str) -> bool:
    return any(scripts.fold(c) != c.lower() for c in text if _CJK.match(c))


def suggest(
    source: Any, text: str, limit: int = LIMIT, owner: str = "", opener: Any = None
) -> list[Suggestion]:
    """Suggestions for the query being typed, best first (at most ``limit``).

    The last word is completed from the index's frequent words (or, typed in pinyin or
    initials, turned into Chinese words), ranked by how often they occur in titles with
    the words typed before it, then by document frequency; those words stay as typed.
    Titles containing every word follow. Never raises on user input. ``owner`` and
    ``opener``: see :func:`vocabulary`.
    """
    text = _clean(text or "")
    if not text.strip() or limit <= 0:
        return []
    vocab = vocabulary(source, owner, opener)
    words = text.split()
    last = "" if text[-1].isspace() else words[-1]
    head = " ".join(words[:-1] if last else words)
    head = head + " " if head else ""
    traditional = _is_traditional(text)
    context = [scripts.fold(w) for w in (words[:-1] if last else words) if not _SYNTAX.search(w)]

    completions: list[Suggestion] = []
    seen = {scripts.fold(" ".join(words))}

    if last and not _SYNTAX.search(last):
        for before, prefix in _completion_points(last):
            folded = scripts.fold(prefix)
            pool = CONTEXT_POOL if context or before else limit
            found = [(t, "term") for t in vocab.complete(folded, pool)]
            if _LETTERS.match(folded):
                readings = vocab.complete_pinyin(folded, pool)
                english = vocab.frequency(_stem(folded))
                if readings and english < ENGLISH_SHARE * vocab.frequency(readings[0]):
                    found += [(t, "pinyin") for t in readings]
            near = vocab.context_counts(
                [*context, scripts.fold(before)] if before else context, [t for t, _ in found]
            )
            found.sort(key=lambda tk: (-near.get(tk[0], 0), -vocab.frequency(tk[0])))
            for term, kind in found:
                full = (head + before + _shown(vocab, term, prefix, traditional))[:MAX_TEXT]
                if scripts.fold(full) not in seen:
                    seen.add(scripts.fold(full))
                    completions.append(Suggestion(full, kind))
            if len(completions) >= limit:
                break

    room = limit - min(len(completions), limit - TITLE_LIMIT)
    title_words = [scripts.fold(w) for w in words if not _SYNTAX.search(w)]
    titles = vocab.titles_with(title_words, room) if room > 0 else []
    if not titles and completions and completions[0].kind == "pinyin":
        titles = vocab.titles_with(scripts.fold(completions[0].text).split(), room)
    out = completions[: limit - len(titles)]
    out.extend(Suggestion(t.text[:MAX_TEXT], "title", t.doc_id) for t in titles)
    return out[:limit]


def _shown(vocab: Vocabulary, term: str, typed: str, traditional: bool) -> str:
    """How to show a completion of ``typed``: as titles spell it, and for a reader typing
    traditional characters, at least those characters as typed (美國 -> 美國政府)."""
    shown = vocab.show(term, traditional)
    if traditional and shown == term and scripts.fold(typed) == term[: len(typed)]:
        return typed + term[len(typed) :]
    return shown


def _stem(word: str) -> str:
    terms = analysis.query_terms(word)
    return terms[0] if len(terms) == 1 else word


def _completion_points(word: str) -> list[tuple[str, str]]:
    """Where to complete a typed word: the whole word, then its last segmented part
    (人工智能开 completes 开 after 人工智能)."""
    points = [("", word)]
    tokens = analysis.token_tuples(word, search_mode=False)
    if len(tokens) > 1:
        start = tokens[-1][2]
        if 0 < start < len(word):
            points.append((word[:start], word[start:]))
    return points


# -- did you mean ---------------------------------------------------------------------------


def did_you_mean(
    text: str,
    source: Any,
    count: Callable[[str], int],
    *,
    found: int = 0,
    budget_ms: float = BUDGET_MS,
) -> str | None:
    """A query close to ``text`` that finds more, or None.

    ``count(query)`` must return how many articles match *every* word of ``query`` (the
    web passes one that runs the engine with the page's filters). ``found`` is that
    number for ``text`` itself: a suggestion must find more, and at least three when
    ``text`` found some. Tried in order, each checked with ``count`` (at most
    :data:`MAX_CHECKS` queries and about ``budget_ms`` milliseconds):

    1. the query with its unknown words corrected: pinyin -> Chinese (``rengongzhineng``
       -> 人工智能); a Chinese word or phrase one character away from a word of the
       index or a phrase of its titles (人工智障 -> 人工智能, 深度求锁 -> 深度求索); an
       English word of five letters or more within two edits (``deepsek`` ->
       ``DeepSeek``); words that nothing matches are dropped;
    2. the query with one word left out (the one whose removal finds most).

    Query syntax (quotes, ``-word``, ``field:``, ``OR``) is kept as typed.
    """
    text = " ".join(_clean(text or "").split())
    chunks = text.split()
    if not chunks or len(chunks) > 8:
        return None
    vocab = vocabulary(source)
    needed = max(found + 1, 3) if found else 1
    deadline = time.perf_counter() + budget_ms / 1000
    tried = {scripts.fold(text)}
    slowest = 0.0

    def finds(candidate: str) -> int:
        nonlocal slowest
        key = scripts.fold(candidate)
        if not key.strip() or key in tried or len(tried) > MAX_CHECKS:
            return 0
        # Stop before a check that would likely end past the budget.
        started = time.perf_counter()
        if started + slowest > deadline:
            return 0
        tried.add(key)
        plain = " ".join(w for w in candidate.split() if not _SYNTAX.search(w))
        if any(not vocab.known(t) for t in analysis.query_terms(plain)):
            return 0  # a word no article has: nothing can match every word
        n = count(candidate)
        slowest = max(slowest, time.perf_counter() - started)
        return n if n >= needed else 0

    options = [[c] if _SYNTAX.search(c) else _chunk_options(c, vocab) for c in chunks]
    first = [opts[0] for opts in options]
    candidates = [_join(first)]
    for i, opts in enumerate(options):
        candidates.extend(_join([*first[:i], alt, *first[i + 1 :]]) for alt in opts[1:])
    for candidate in candidates:
        if finds(candidate):
            return candidate

    # Leave one word out (corrections applied): the rarest words first.
    pieces = [[c] if _SYNTAX.search(c) else _surfaces(c) for c in first if c]
    words = [(i, j) for i, chunk in enumerate(pieces) for j in range(len(chunk))]
    if not 2 <= len(words) <= MAX_DROP_WORDS:
        return None
    words.sort(key=lambda ij: _rarity(pieces[ij[0]][ij[1]], vocab))
    best: tuple[int, str] | None = None
    for i, j in words:
        kept = [
            chunk if k != i else [*chunk[:j], " ", *chunk[j + 1 :]]
            for k, chunk in enumerate(pieces)
        ]
        n = finds(_join(["".join(chunk) for chunk in kept]))
        if n and (best is None or n > best[0]):
            best = (n, _join(["".join(chunk) for chunk in kept]))
    return best[1] if best else None


def _join(chunks: list[str]) -> str:
    return " ".join(" ".join(chunks).split())


def _surfaces(chunk: str) -> list[str]:
    """The words of a typed chunk as typed (人工智能开源 -> 人工智能, 开源)."""
    tokens = analysis.token_tuples(chunk, search_mode=False)
    return [chunk[s:e] for _, _, s, e in tokens] or [chunk]


def _rarity(word: str, vocab: Vocabulary) -> int:
    terms = analysis.query_terms(word)
    return min((vocab.frequency(t) for t in terms), default=0)


def _chunk_options(chunk: str, vocab: Vocabulary) -> list[str]:
    """What a typed chunk (no spaces) could become, best first: ``[chunk]`` when it is
    fine, ``[""]`` when nothing in it is known (drop it)."""
    folded = scripts.fold(chunk)
    traditional = _is_traditional(chunk)
    terms = analysis.query_terms(chunk)
    if _LETTERS.match(folded):
        readings = pinyin_candidates(folded, vocab, limit=2)
        if readings:
            return [vocab.show(r, traditional) for r in readings]
        if terms and all(vocab.known(t) for t in terms):
            return [chunk]
        close = vocab.ascii_neighbours(folded)[:2] if len(folded) >= 5 else []
        return close or [""]
    if _ALL_CJK.match(folded) and not vocab.known(folded):
        if vocab.in_titles(folded):
            return [chunk]
        close: list[str] = []
        if 2 <= len(folded) <= 8 and (len(terms) == 1 or len(folded) <= 5):
            close.extend(vocab.cjk_neighbours(folded)[:2])
        if 3 <= len(folded) <= 10:
            close.extend(w for w in vocab.title_neighbours(folded) if w not in close)
        if close:
            return [vocab.show(w, traditional) for w in close[:3]]
    # Word by word: keep the known ones, correct or drop the others.
    out: list[str] = []
    changed = False
    for surface in _surfaces(chunk):
        words = analysis.query_terms(surface)
        if not words or all(vocab.known(t) for t in words):
            out.append(surface)
            continue
        changed = True
        f = scripts.fold(surface)
        if _ALL_CJK.match(f) and len(f) >= 2:
            close = vocab.cjk_neighbours(f)[:1]
        elif _LETTERS.match(f):
            close = pinyin_candidates(f, vocab, limit=1)
            if not close and len(f) >= 5:
                close = vocab.ascii_neighbours(f)[:1]
        else:
            close = []
        # A dropped word leaves a space, so its neighbours do not run together.
        out.append(vocab.show(close[0], _is_traditional(surface)) if close else " ")
    return [_join(["".join(out)])] if changed else [chunk]
