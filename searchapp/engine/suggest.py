"""Autocomplete, pinyin input and "did you mean" from the index's own vocabulary.

Everything here reads the index through a backend :class:`~searchapp.backends.base.View`;
nothing is configured by hand. A :class:`Vocabulary` is built once per index generation
(about a second over 14,000 articles) and kept by the engine's :class:`VocabularyKeeper`;
every lookup after that is a binary search in sorted lists and takes well under a
millisecond or two.

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

No Flask and no :mod:`searchapp.engine.search` import here, so the engine can use it.
"""

from __future__ import annotations

import heapq
import logging
import pickle
import re
import threading
import time
import unicodedata
import zlib
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from searchapp.backends.base import View
from searchapp.text import analysis, scripts
from searchapp.text.analysis import Analyzer
from searchapp.text.pinyin import (
    could_be_pinyin,
    homophones,
    syllables_of,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

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

_CJK = scripts.IDEOGRAPH
_ALL_CJK = scripts.ALL_IDEOGRAPHS
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

    key: Any
    analyzer: Analyzer
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

    def __getstate__(self) -> dict[str, Any]:
        # Saved with the index: without the lookups remembered by this process.
        state = dict(self.__dict__)
        state["_memo"] = {}
        return state

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
        if len(letters) >= 2 and could_be_pinyin(letters):
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
                        consider(term, homophones(term[at], word[at]))
                elif len(term) == n + 1 and _one_insertion(word, term):
                    consider(term, False)
            # A changed or added first character: words sharing the last character.
            for rev in _range(self.rev_keys, self.rev_keys, word[-1]):
                term = rev[::-1]
                if len(term) == n and term[1:] == word[1:]:
                    consider(term, homophones(term[0], word[0]))
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


# -- building and keeping ------------------------------------------------------------------


class VocabularyKeeper:
    """The vocabulary of one index, kept for its latest generation.

    Readers load the vocabulary saved with the index (:meth:`save`, run by ``rebuild``
    and ``update``): cheap, and the same in every process. Without one (an index whose
    writer saved none), the first is built on first use or by :meth:`refresh` (a
    server's warm-up) in the background; when the index changes, the old one keeps
    answering while a newer one is loaded or built, so no request waits for it.
    ``open_view`` is a context manager giving a fresh view of the index.
    """

    #: How often, at most, a changed index looks for a saved vocabulary again, or starts
    #: a background build (seconds).
    REFRESH_INTERVAL = 2.0
    NAME = "vocabulary"

    def __init__(self, open_view: Callable[[], Any]) -> None:
        self._open_view = open_view
        self._current: Vocabulary | None = None
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._started = -self.REFRESH_INTERVAL
        self._looked = -self.REFRESH_INTERVAL

    def peek(self) -> Vocabulary | None:
        """The vocabulary built last, possibly of an older generation; never builds."""
        return self._current

    def get(self, view: View, *, wait: bool = True) -> Vocabulary | None:
        """The vocabulary of ``view``'s generation, or the previous one while a newer one
        is loaded or built. Only the very first build is waited for, and with
        ``wait=False`` not even that (None while a warm-up builds it)."""
        current = self._current
        key = view.generation
        if current is not None and current.key == key:
            return current
        saved = self._load(view, first=current is None)
        if saved is not None:
            return saved
        if current is not None:
            self.refresh()
            return current
        if not self._build_lock.acquire(blocking=wait):
            return None
        try:
            latest = self._current
            if latest is not None:  # built while this thread waited (a warm-up)
                return latest
            vocab = build_vocabulary(view, view.analyzer)
            self._current = vocab
            return vocab
        finally:
            self._build_lock.release()

    def load_saved(self, view: View) -> bool:
        """Load the vocabulary saved with ``view``'s generation now; False when there is
        none to load."""
        return self._load(view, first=True) is not None

    def _load(self, view: View, first: bool) -> Vocabulary | None:
        """The vocabulary saved with ``view``'s generation, when it is newer than the one
        kept (at most every :data:`REFRESH_INTERVAL` seconds once one is kept)."""
        now = time.monotonic()
        if not first and now - self._looked < self.REFRESH_INTERVAL:
            return None
        self._looked = now
        found = view.load_derived(self.NAME)
        if found is None:
            return None
        data, exact = found
        current = self._current
        if not exact and current is not None:
            return None  # a save of an earlier state: what is kept is as good
        try:
            vocab = pickle.loads(zlib.decompress(data))
        except Exception:  # noqa: BLE001 - a damaged save: build instead
            log.warning("the saved vocabulary cannot be read; building one")
            return None
        if not isinstance(vocab, Vocabulary):
            return None
        vocab.analyzer = view.analyzer
        self._current = vocab
        return vocab

    def save(self, backend: Any, view: View) -> Vocabulary:
        """Build ``view``'s vocabulary and save it with the index for every reader."""
        vocab = build_vocabulary(view, view.analyzer)
        # Compressed: 10 MB of pickle for 13.8k articles become 4, read back in 40 ms.
        data = zlib.compress(pickle.dumps(vocab, protocol=5), 3)
        backend.save_derived(view, self.NAME, data)
        self._current = vocab
        return vocab

    def refresh(self) -> threading.Thread | None:
        """Load or build the vocabulary again in a background thread (at most one at a
        time, and not more often than every :attr:`REFRESH_INTERVAL` seconds). Returns
        the thread, or None when none was started."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return None
            now = time.monotonic()
            if now - self._started < self.REFRESH_INTERVAL:
                return None
            self._started = now
            thread = threading.Thread(
                target=self._refresh, name="searchapp-vocabulary", daemon=True
            )
            self._thread = thread
        thread.start()
        return thread

    def _refresh(self) -> None:
        try:
            with self._open_view() as view, self._build_lock:
                current = self._current
                if current is None or current.key != view.generation:
                    if self._load(view, first=True) is None:
                        self._current = build_vocabulary(view, view.analyzer)
        except Exception as exc:  # noqa: BLE001 - no index yet, or being replaced: try later
            log.info("vocabulary not built: %s", exc)

    def wait(self, timeout: float = 60.0) -> None:
        """Wait for a background build, if one is running (tests, benchmarks)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


def build_vocabulary(view: View, analyzer: Analyzer) -> Vocabulary:
    """Read every term, document frequency and title of the index (no caching)."""
    started = time.perf_counter()
    doc_count = view.doc_count()
    min_df = 1 if doc_count < SMALL_INDEX else 2
    df = dict(view.document_frequencies())
    titles, spellings = _read_titles(view, analyzer)

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
        syllables = syllables_of(term) if len(term) <= MAX_PINYIN_WORD else None
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
        key=view.generation,
        analyzer=analyzer,
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


_TITLE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def _read_titles(view: View, analyzer: Analyzer) -> tuple[list[_Title], dict[str, Counter[str]]]:
    """Every title, and for English terms the spellings titles use (``DeepSeek``)."""
    titles: list[_Title] = []
    spellings: dict[str, Counter[str]] = {}
    stems: dict[str, str | None] = {}
    seen: set[str] = set()
    for entry in view.titles():
        text = " ".join(entry.title.split())
        if not text:
            continue
        when = entry.date.timestamp() if isinstance(entry.date, datetime) else 0.0
        titles.append(_Title(scripts.fold(text), text, entry.id, when))
        for word in _TITLE_WORD.findall(text):
            if word not in stems:
                low = word.lower()
                if low in seen:
                    stems[word] = stems.get(low)
                else:
                    # The analyzer's own normalisation (Porter2 for English words).
                    terms = analyzer.query_terms(low)
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


def _range(keys: list[str], values: list[T], prefix: str) -> Iterator[T]:
    """Values whose key starts with ``prefix`` (keys sorted)."""
    for _, value in _items(keys, values, prefix):
        yield value


def _items(keys: list[str], values: list[T], prefix: str) -> Iterator[tuple[str, T]]:
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


def pinyin_candidates(word: str, vocab: Vocabulary, limit: int = 3) -> list[str]:
    """The Chinese words of the index that the ASCII ``word`` is the pinyin of.

    ``rengongzhineng`` and, from three letters, the initials ``rgzn`` give ``人工智能``;
    the most frequent words come first. Empty when ``word`` is not all letters, when no
    Chinese word of the index reads like that, or when ``word`` is itself an English
    word of the index about as common as its best reading (``change`` is not 嫦娥).

    Pass the word as typed (folded, lowercase), not stemmed: ``jinping`` stems to
    ``jinp``; a stemmed word is matched too, less precisely.
    """
    letters = scripts.fold(word.strip())
    if not (2 <= len(letters) <= 48 and _LETTERS.match(letters)):
        return []
    found = vocab.pinyin_words(letters)
    if not found and len(letters) >= 3:
        # A stemmed word (jinp for jinping): readings that stem to it.
        stems = {
            term
            for key, term in _items(vocab.py_keys, vocab.py_terms, letters)
            if vocab.analyzer.query_terms(key) == [letters]
        }
        found = sorted(stems, key=lambda t: (-vocab.frequency(t), t))
    if not found:
        return []
    english = vocab.frequency(_stem(letters, vocab.analyzer))
    if english and english >= ENGLISH_SHARE * vocab.frequency(found[0]):
        return []
    return found[:limit]


# -- autocomplete ---------------------------------------------------------------------------


def _clean(text: str) -> str:
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text[: MAX_INPUT * 2])
    return text[:MAX_INPUT]


def _is_traditional(text: str) -> bool:
    return any(scripts.fold(c) != c.lower() for c in text if _CJK.match(c))


def suggest(vocab: Vocabulary, text: str, limit: int = LIMIT) -> list[Suggestion]:
    """Suggestions for the query being typed, best first (at most ``limit``).

    The last word is completed from the index's frequent words (or, typed in pinyin or
    initials, turned into Chinese words), ranked by how often they occur in titles with
    the words typed before it, then by document frequency; those words stay as typed.
    Titles containing every word follow. Never raises on user input.
    """
    text = _clean(text or "")
    if not text.strip() or limit <= 0:
        return []
    words = text.split()
    last = "" if text[-1].isspace() else words[-1]
    head = " ".join(words[:-1] if last else words)
    head = head + " " if head else ""
    traditional = _is_traditional(text)
    context = [scripts.fold(w) for w in (words[:-1] if last else words) if not _SYNTAX.search(w)]

    completions: list[Suggestion] = []
    seen = {scripts.fold(" ".join(words))}

    if last and not _SYNTAX.search(last):
        for before, prefix in _completion_points(last, vocab.analyzer):
            folded = scripts.fold(prefix)
            pool = CONTEXT_POOL if context or before else limit
            found = [(t, "term") for t in vocab.complete(folded, pool)]
            if _LETTERS.match(folded):
                readings = vocab.complete_pinyin(folded, pool)
                english = vocab.frequency(_stem(folded, vocab.analyzer))
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


def _stem(word: str, analyzer: Analyzer) -> str:
    terms = analyzer.query_terms(word)
    return terms[0] if len(terms) == 1 else word


def _completion_points(word: str, analyzer: Analyzer) -> list[tuple[str, str]]:
    """Where to complete a typed word: the whole word, then its last segmented part
    (人工智能开 completes 开 after 人工智能)."""
    points = [("", word)]
    tokens = analyzer.tokens(word, search_mode=False)
    if len(tokens) > 1:
        start = tokens[-1][2]
        if 0 < start < len(word):
            points.append((word[:start], word[start:]))
    return points


# -- did you mean ---------------------------------------------------------------------------


def did_you_mean(
    text: str,
    vocab: Vocabulary,
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
    2. when no article has every word, the query with one word left out (the one whose
       removal finds most): when some have them all, leaving a typed word out is not a
       correction.

    Query syntax (quotes, ``-word``, ``field:``, ``OR``) is kept as typed.
    """
    text = " ".join(_clean(text or "").split())
    chunks = text.split()
    if not chunks or len(chunks) > 8:
        return None
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
        if any(not vocab.known(t) for t in vocab.analyzer.query_terms(plain)):
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

    if found:
        # Articles have every word: leaving a typed word out is not a correction.
        return None
    # Leave one word out (corrections applied): the rarest words first.
    pieces = [[c] if _SYNTAX.search(c) else _surfaces(c, vocab.analyzer) for c in first if c]
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


def _surfaces(chunk: str, analyzer: Analyzer) -> list[str]:
    """The words of a typed chunk as typed (人工智能开源 -> 人工智能, 开源)."""
    tokens = analyzer.tokens(chunk, search_mode=False)
    return [chunk[s:e] for _, _, s, e in tokens] or [chunk]


def _rarity(word: str, vocab: Vocabulary) -> int:
    terms = vocab.analyzer.query_terms(word)
    return min((vocab.frequency(t) for t in terms), default=0)


def _chunk_options(chunk: str, vocab: Vocabulary) -> list[str]:
    """What a typed chunk (no spaces) could become, best first: ``[chunk]`` when it is
    fine, ``[""]`` when nothing in it is known (drop it)."""
    folded = scripts.fold(chunk)
    traditional = _is_traditional(chunk)
    terms = vocab.analyzer.query_terms(chunk)
    if _LETTERS.match(folded):
        readings = pinyin_candidates(folded, vocab, limit=2)
        if readings:
            return [vocab.show(r, traditional) for r in readings]
        if terms and all(vocab.known(t) for t in terms):
            return [chunk]
        english = vocab.ascii_neighbours(folded)[:2] if len(folded) >= 5 else []
        return english or [""]
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
    for surface in _surfaces(chunk, vocab.analyzer):
        words = vocab.analyzer.query_terms(surface)
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
