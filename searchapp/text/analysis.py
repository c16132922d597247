"""Chinese text analysis: our own tokens on ``jieba.tokenize``, for every backend.

This is the only module that imports jieba. Why not ``jieba.analyse.ChineseAnalyzer``:
it segments queries in search mode too (马克思 -> 马克 AND 马克思), stores character offsets
as token positions (quoted phrases never match), drops single letters and digits, uses the
old Porter stemmer, and leaks a file handle on import.

What this tokenizer does, in order:

1. fold the text one character to one character (:mod:`searchapp.text.scripts`): full width to
   ASCII, traditional to simplified, lowercase. Offsets on the folded text are therefore
   offsets into the original text, which is what highlighting needs;
2. segment with jieba's precise mode; every kept word gets the next ordinal position, so
   quoted phrases match word by word;
3. when indexing, add jieba's search-mode sub-words (人工智能 -> 人工, 智能) at the *same*
   position as the word that contains them, so a query for a part still finds the whole;
4. drop tokens with no letter, digit or ideograph (spaces, punctuation) without leaving
   position gaps; keep single letters and digits (``R1``, ``3``);
5. stem pure-ASCII words with Porter2 (``models`` -> ``model``, ``running`` -> ``run``).

Segmentation runs on ``rjieba`` (jieba-rs, the same algorithm, dictionary and HMM in
Rust, about 20 times faster) when it is installed, with every word we add to jieba
(phrase map, user dictionary) added to it with jieba's own frequency and the same
dictionary total, and jieba's split of symbol-joined runs (``deepseek-r1``), so both give
the same tokens: tests check it on the corpus, and ``SEARCHAPP_SEGMENTER=jieba`` forces
pure-Python jieba. jieba stays the reference: what we need from its dictionary (those
frequencies, the 2- and 3-character words that make the sub-words) is cached in a small
file, so that no process has to load it once one has (see :func:`configure`).

Phrase-level vocabulary differences (軟體/软件, 人工智慧/人工智能) are added to jieba's
dictionary so they stay whole words, and :func:`variants` expands a query term to its other
forms at query time.

**Any change here changes the index**: bump :data:`ANALYZER_VERSION`; an index built by
another version is refused until it is rebuilt. The user dictionary is part of the
analysis too: an :class:`Analyzer` is one configuration (the user dictionary and the
words learned from the corpus), handed to the indexer and the engine;
:attr:`Analyzer.fingerprint` names it, and the index records it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import snowballstemmer

from searchapp.text import scripts

jieba: Any = None  # imported by _load_jieba(): a process that only searches may never need it

try:  # optional accelerator: same tokens as jieba (checked by tests), ~20x faster
    import rjieba
except ImportError:  # pragma: no cover - depends on the environment
    rjieba = None  # type: ignore[assignment]

ANALYZER_VERSION = "4"

_ASCII_WORD = re.compile(r"[a-z]+\Z")
_jieba_lock = threading.Lock()
#: jieba itself is one dictionary per process: loaded on demand (the reference, and the
#: source of rjieba's entries), with every word any analyzer of this process added.
_jieba_state: dict[str, Any] = {"loaded": False}
#: User dictionaries and learned words configured while jieba was not loaded.
_pending: list[tuple[bytes, tuple[tuple[str, int], ...]]] = []
#: Every ``jieba.add_word`` we made, in order: (word, frequency before, frequency given).
_added: list[tuple[str, int, int]] = []
#: A word that no text can contain (private-use characters are never inside a jieba
#: block): it carries the difference between jieba's and jieba-rs's dictionary totals.
_BALLAST = "\ue000\ue001"
#: jieba 0.42.1's dict.txt lists ``B超 3 n`` twice: jieba adds both lines to its total,
#: jieba-rs keeps one record (a test recomputes this from the dictionary file).
DICT_TOTAL_EXCESS = 3
#: Porter2 (the Snowball English stemmer).
_STEMMER = snowballstemmer.stemmer("english")


@dataclass(frozen=True)
class Tok:
    """One token: normalised text, ordinal position, character span in the source text."""

    text: str
    pos: int
    start: int
    end: int


def _load_jieba() -> None:
    """Load jieba's dictionary and add the words we add (call with ``_jieba_lock`` held)."""
    global jieba
    if not _jieba_state["loaded"]:
        import jieba as module

        jieba = module
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        for folded_tw, folded_cn in scripts.phrase_map().items():
            for word in (folded_tw, folded_cn):
                if word not in jieba.dt.FREQ or not jieba.dt.FREQ[word]:
                    _add_word(word)
        _jieba_state["loaded"] = True
    while _pending:
        _add_words(*_pending.pop(0))


def ensure_jieba() -> None:
    """Load jieba's dictionary now, with every word configured so far (without rjieba,
    or to compare rjieba's tokens with jieba's)."""
    if not _jieba_state["loaded"] or _pending:
        with _jieba_lock:
            _load_jieba()


def parse_userdict(data: bytes) -> tuple[list[tuple[str, int | None]], set[str]]:
    """A user dictionary's words (folded, with their frequency if given) and the learned
    words it bans (lines ``-词语``)."""
    words: list[tuple[str, int | None]] = []
    banned: set[str] = set()
    for line in data.decode("utf-8-sig", "replace").splitlines():
        parts = line.strip().split()
        if not parts or parts[0].startswith("#"):
            continue
        if parts[0].startswith("-") and len(parts[0]) > 1:
            banned.add(scripts.fold(parts[0][1:]))
            continue
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        words.append((scripts.fold(parts[0]), freq))
    return words, banned


def _add_words(userdict: bytes, learned: tuple[tuple[str, int], ...]) -> None:
    words, banned = parse_userdict(userdict)
    for word, count in learned:
        if word not in banned:
            _add_word(word, count)
    for word, freq in words:
        _add_word(word, freq)


def _add_word(word: str, freq: int | None = None) -> None:
    before = jieba.dt.FREQ.get(word) or 0
    jieba.add_word(word, freq)
    _added.append((word, before, jieba.dt.FREQ[word]))


def use_fast_segmenter() -> bool:
    """True when rjieba is installed and not disabled by ``SEARCHAPP_SEGMENTER=jieba``."""
    return rjieba is not None and os.environ.get("SEARCHAPP_SEGMENTER", "") != "jieba"


def _mirror_entries() -> list[tuple[str, int]]:
    """The words (and frequencies) that give rjieba jieba's dictionary as it is now.

    jieba's ``add_word`` adds the new frequency to the total without removing the old
    one; jieba-rs replaces it (and its dictionary total counts a duplicated line once).
    The difference goes to a word no text can contain, so the totals (which weigh every
    path through the sentence) stay equal to the last bit.
    """
    final: dict[str, tuple[int, int]] = {}
    given = 0
    for word, before, freq in _added:
        original = final[word][0] if word in final else before
        final[word] = (original, freq)
        given += freq
    entries = [(word, freq) for word, (_, freq) in final.items()]
    ballast = DICT_TOTAL_EXCESS + given - sum(freq - orig for orig, freq in final.values())
    if ballast:
        entries.append((_BALLAST, ballast))
    return entries


def _build_fast(entries: list[tuple[str, int]]) -> object:
    fast = rjieba.Jieba()
    for word, freq in entries:
        fast.add_word(word, freq, None)
    return fast


def _from_jieba() -> dict[str, list[Any]]:
    """What rjieba needs from jieba's dictionary as it is now (see :func:`configure`)."""
    freq = jieba.dt.FREQ
    return {
        "words": [list(e) for e in _mirror_entries()],
        "grams": sorted(w for w, n in freq.items() if n and 2 <= len(w) <= 3),
        "symbols": sorted(w for w, n in freq.items() if n and not _WORD_CHARS.match(w)),
    }


def _entries_of(userdict: bytes, learned: tuple[tuple[str, int], ...]) -> dict[str, list[Any]]:
    """In a fresh interpreter: jieba's dictionary with these words, as rjieba needs it."""
    with _jieba_lock:
        _load_jieba()
        _add_words(userdict, learned)
        return _from_jieba()


def _entries_elsewhere(
    userdict: bytes, learned: tuple[tuple[str, int], ...]
) -> dict[str, list[Any]]:
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_entries_of, (userdict, learned))


def _cache_file(config_sha1: str) -> Path:
    """Where :func:`_from_jieba`'s result is cached, named by everything it depends on
    (versions, our phrase list, the user dictionary)."""
    parts = [
        ANALYZER_VERSION,
        str(DICT_TOTAL_EXCESS),
        metadata.version("jieba"),
        metadata.version("rjieba"),
        json.dumps(sorted(scripts.phrase_map().items()), ensure_ascii=False),
        config_sha1,
    ]
    digest = hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"searchapp-jieba-{digest}.json"


def _read_cache(config_sha1: str) -> dict[str, list[Any]] | None:
    try:
        raw = json.loads(_cache_file(config_sha1).read_text(encoding="utf-8"))
        return {
            "words": [(str(w), int(n)) for w, n in raw["words"]],
            "grams": [str(w) for w in raw["grams"]],
            "symbols": [str(w) for w in raw["symbols"]],
        }
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _write_cache(config_sha1: str, data: dict[str, list[Any]]) -> None:
    path = _cache_file(config_sha1)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".searchapp-jieba-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache: without it the next process loads jieba, as before


#: jieba 0.42.1's block pattern (``jieba.re_han_default``, checked by a test), copied so
#: that a process that only searches does not import jieba: each match is segmented on
#: its own (DAG + HMM); the text between blocks is cut into single characters.
_BLOCK = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)", re.U)
#: Blocks that jieba-rs segments exactly like jieba. It differs on runs joined by
#: ``- _ . + # & %`` (``deepseek-r1``, ``www.qq.com`` stay whole): see _symbol_block().
_CLEAN_BLOCK = re.compile("[\u4e00-\u9fd5a-z0-9]+\\Z")
#: A token of letters and digits joined by symbols (no Chinese), and jieba's own split
#: of such a run (``finalseg.re_skip``).
_SYMBOL_RUN = re.compile(r"(?=.*[-_.+#&%])[a-z0-9+#&._%\-]+\Z")
_JIEBA_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
#: Dictionary entries with characters other than letters, digits and ideographs
#: (``c++``, ``at&t``): jieba finds them whole.
_WORD_CHARS = re.compile("[\u4e00-\u9fd5a-zA-Z0-9]+\\Z")


def _symbol_block(
    fast: Any, symbol_words: frozenset[str], block: str, start: int
) -> list[tuple[str, int, int]]:
    """jieba's tokens for a block with ``- _ . + # & %`` in it, from jieba-rs.

    Both cut such a block the same way but for one step: a run of letters and digits
    joined by those symbols that is no dictionary word (``deepseek-r1``, ``www.qq.com``,
    ``2025-02-06``) jieba-rs keeps whole, where jieba's HMM step splits it into letter and
    digit runs (a decimal with its percent sign stays one) and the symbols between. So
    such a token is split the way jieba splits it. (Checked against jieba on every block
    of the shared corpus.)
    """
    out: list[tuple[str, int, int]] = []
    for word, s, e in fast.tokenize(block):
        if len(word) > 1 and _SYMBOL_RUN.match(word) and word not in symbol_words:
            at = start + s
            for piece in _JIEBA_SKIP.split(word):
                if piece:
                    out.append((piece, at, at + len(piece)))
                    at += len(piece)
        else:
            out.append((word, start + s, start + e))
    return out


def _between(text: str, start: int, end: int) -> list[tuple[str, int, int]]:
    """What jieba yields for text outside its blocks: ``\\r\\n`` pairs, else single characters."""
    chunk = text[start:end]
    if "\r\n" not in chunk:
        return [(c, i, i + 1) for i, c in enumerate(chunk, start)]
    out = []
    i = start
    while i < end:
        step = 2 if text.startswith("\r\n", i) and i + 1 < end else 1
        out.append((text[i : i + step], i, i + step))
        i += step
    return out


@lru_cache(maxsize=65536)
def normalise(word: str) -> str:
    """A word as the index keeps it: English words of three letters or more stemmed."""
    if _ASCII_WORD.match(word) and len(word) > 2:
        return str(_STEMMER.stemWord(word))
    return word


def _keep(word: str) -> bool:
    return any(c.isalnum() for c in word)


_NO_SUBWORDS: tuple[tuple[str, int], ...] = ()
_QUERY_CACHE = 4096


class Analyzer:
    """One configuration of the analysis: jieba's dictionary plus a user dictionary and
    words learned from the corpus. Thread-safe; the segmenter is set up on first use.

    ``userdict`` is the text of ``userdict.txt`` (``word [freq] [tag]`` lines, ``-word``
    bans a learned word); ``learned`` are (word, frequency) pairs. Two analyzers with
    different words can live in one process (an index keeps serving with its own
    dictionary while a rebuild uses a new one); with rjieba each has its own segmenter.
    """

    def __init__(self, userdict: bytes = b"", learned: Sequence[tuple[str, int]] = ()) -> None:
        self.userdict = bytes(userdict)
        self.learned: tuple[tuple[str, int], ...] = tuple((str(w), int(n)) for w, n in learned)
        digest = hashlib.sha1(self.userdict)
        for word, freq in self.learned:
            digest.update(f"\n{word} {freq}".encode())
        self._config_sha1 = digest.hexdigest() if (self.userdict or self.learned) else ""
        self._lock = threading.Lock()
        self._ready = False
        self._fast: Any = None
        self._grams: frozenset[str] = frozenset()
        self._symbols: frozenset[str] = frozenset()
        self._subword_cache: dict[str, tuple[tuple[str, int], ...] | None] = {}
        self._query_cache: dict[str, tuple[str, ...]] = {}

    @classmethod
    def from_file(cls, userdict: Path | None, learned: Sequence[tuple[str, int]] = ()) -> Analyzer:
        """An analyzer with the user dictionary file ``userdict`` (None: none)."""
        data = userdict.read_bytes() if userdict is not None and userdict.is_file() else b""
        return cls(data, learned)

    @property
    def fingerprint(self) -> str:
        """Analyzer version plus the checksum of the words added, recorded in the index."""
        return f"{ANALYZER_VERSION}:{self._config_sha1 or 'none'}"

    @property
    def userdict_sha1(self) -> str:
        """The user dictionary's checksum ("" for none): what ``update`` compares with the
        corpus's ``userdict.txt`` to tell that a rebuild is needed."""
        return hashlib.sha1(self.userdict).hexdigest() if self.userdict else ""

    def with_learned(self, learned: Sequence[tuple[str, int]]) -> Analyzer:
        """The same user dictionary with ``learned`` words (banned ones left out)."""
        banned = self.banned()
        return Analyzer(self.userdict, [(w, n) for w, n in learned if w not in banned])

    def state(self) -> dict[str, Any]:
        """JSON-ready configuration, kept inside the index (see :meth:`from_state`)."""
        return {
            "version": ANALYZER_VERSION,
            "fingerprint": self.fingerprint,
            "userdict": self.userdict.decode("utf-8", "replace"),
            "learned": [[w, n] for w, n in self.learned],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Analyzer:
        """The analyzer :meth:`state` describes (what an index was built with)."""
        analyzer = cls(
            str(state["userdict"]).encode("utf-8"), [(str(w), int(n)) for w, n in state["learned"]]
        )
        if analyzer.fingerprint != state.get("fingerprint", analyzer.fingerprint):
            raise ValueError("the analysis does not match its fingerprint")
        return analyzer

    def __getstate__(self) -> dict[str, Any]:
        return {"userdict": self.userdict, "learned": self.learned}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["userdict"], state["learned"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"Analyzer({self.fingerprint!r})"

    def banned(self) -> set[str]:
        """The learned words the user dictionary bans."""
        return parse_userdict(self.userdict)[1]

    # -- set-up ------------------------------------------------------------------------

    def _setup(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            cached = _read_cache(self._config_sha1) if use_fast_segmenter() else None
            with _jieba_lock:
                mine = _jieba_state.get("config", self._config_sha1) == self._config_sha1
                if cached is None and use_fast_segmenter() and not mine:
                    # jieba here already holds another analyzer's words (it cannot unload
                    # them): take this one's entries from a fresh interpreter.
                    cached = _entries_elsewhere(self.userdict, self.learned)
                    _write_cache(self._config_sha1, cached)
                elif cached is None:
                    fresh = not _jieba_state["loaded"]
                    _load_jieba()
                    if self.userdict or self.learned:
                        _add_words(self.userdict, self.learned)
                    _jieba_state["config"] = self._config_sha1
                    if use_fast_segmenter():
                        cached = _from_jieba()
                        if fresh:
                            _write_cache(self._config_sha1, cached)
                elif (self.userdict or self.learned) and mine:
                    # For jieba, if it is ever loaded (tests compare with it).
                    _pending.append((self.userdict, self.learned))
                    _jieba_state["config"] = self._config_sha1
            if cached is not None:
                self._fast = _build_fast(cached["words"])
                self._grams = frozenset(cached["grams"])
                self._symbols = frozenset(cached["symbols"])
            self._ready = True

    @property
    def fast(self) -> bool:
        """True when this analyzer segments with rjieba."""
        self._setup()
        return self._fast is not None

    def dictionary(self) -> tuple[Callable[[str], bool], Callable[[str], int], int]:
        """(is_word, frequency, total) of jieba's dictionary with this analyzer's words:
        what new-word discovery needs. Loads jieba (a rebuild's cost, not a reader's)."""
        self._setup()
        ensure_jieba()
        freq = jieba.dt.FREQ
        # jieba is one dictionary per process: it also holds the words other analyzers of
        # this process added. Their frequencies before the first addition are jieba's own.
        before: dict[str, int] = {}
        for word, was, _ in _added:
            before.setdefault(word, was)
        base = set(scripts.phrase_map()) | set(scripts.phrase_map().values())
        words = {w for w, _ in parse_userdict(self.userdict)[0]} | {w for w, _ in self.learned}

        def frequency(word: str) -> int:
            if word in before and word not in base:
                return before[word]
            return int(freq.get(word) or 0)

        return (
            lambda w: frequency(w) > 0 or w in words or w in base,
            frequency,
            int(jieba.dt.total),
        )

    # -- segmenting ----------------------------------------------------------------------

    def segment(self, folded: str) -> list[tuple[str, int, int]]:
        """jieba's precise-mode ``tokenize`` of folded text: (word, start, end) triples."""
        self._setup()
        fast = self._fast
        if fast is None:
            ensure_jieba()
            return list(jieba.tokenize(folded))
        out: list[tuple[str, int, int]] = []
        extend = out.extend
        clean = _CLEAN_BLOCK.match
        cursor = 0
        for m in _BLOCK.finditer(folded):
            start, end = m.span()
            if start > cursor:
                extend(_between(folded, cursor, start))
            block = m.group()
            if clean(block):
                extend([(w, start + s, start + e) for w, s, e in fast.tokenize(block)])
            else:
                extend(_symbol_block(fast, self._symbols, block, start))
            cursor = end
        if cursor < len(folded):
            extend(_between(folded, cursor, len(folded)))
        return out

    def _subwords(self, word: str) -> tuple[tuple[str, int], ...] | None:
        """None for a word to drop; else its dictionary 2- and 3-grams with their offsets."""
        found = self._subword_cache.get(word, _NO_SUBWORDS)
        if found is not _NO_SUBWORDS or word in self._subword_cache:
            return found
        if not _keep(word):
            result: tuple[tuple[str, int], ...] | None = None
        elif len(word) <= 2:
            result = _NO_SUBWORDS
        else:
            if self._fast is not None:
                known: Callable[[str], Any] = self._grams.__contains__
            else:
                ensure_jieba()
                known = jieba.dt.FREQ.get
            n = len(word)
            result = tuple(
                (word[i : i + size], i)
                for size in ((2, 3) if n > 3 else (2,))
                for i in range(n - size + 1)
                if known(word[i : i + size])
            )
        if len(self._subword_cache) > 1 << 18:
            self._subword_cache.clear()
        self._subword_cache[word] = result
        return result

    def tokens(self, text: str, search_mode: bool = True) -> list[tuple[str, int, int, int]]:
        """(term, position, start, end) for each token of ``text``: folded, segmented,
        stemmed; with ``search_mode`` (indexing) jieba's sub-words of long words are added
        at the containing word's position; precise mode alone is for queries."""
        out: list[tuple[str, int, int, int]] = []
        append = out.append
        pos = -1
        if not search_mode:
            for word, start, end in self.segment(scripts.fold(text)):
                if _keep(word):
                    pos += 1
                    append((normalise(word), pos, start, end))
            return out
        for word, start, end in self.segment(scripts.fold(text)):
            subs = self._subwords(word)
            if subs is None:
                continue
            pos += 1
            for gram, i in subs:
                append((gram, pos, start + i, start + i + len(gram)))
            append((normalise(word), pos, start, end))
        return out

    def tokenize(self, text: str, search_mode: bool = True) -> Iterator[Tok]:
        """:meth:`tokens` as :class:`Tok` objects."""
        for t in self.tokens(text, search_mode):
            yield Tok(*t)

    def query_terms(self, text: str) -> list[str]:
        """Precise-mode terms of a query string, in order (duplicates kept for phrases)."""
        found = self._query_cache.get(text)
        if found is None:
            found = tuple(t[0] for t in self.tokens(text, search_mode=False))
            if len(self._query_cache) > _QUERY_CACHE:
                self._query_cache.clear()
            self._query_cache[text] = found
        return list(found)


def variants(term: str) -> tuple[str, ...]:
    """Other written forms of a normalised term (软件 <-> 软体, 人工智能 <-> 人工智慧)."""
    forms = _variant_groups().get(term)
    return tuple(f for f in forms if f != term) if forms else ()


@lru_cache(maxsize=1)
def _variant_groups() -> dict[str, tuple[str, ...]]:
    groups: dict[str, set[str]] = {}
    for a, b in scripts.phrase_map().items():
        group = groups.get(a) or groups.get(b) or set()
        group.update((a, b))
        groups[a] = groups[b] = group
    return {k: tuple(sorted(v)) for k, v in groups.items()}
