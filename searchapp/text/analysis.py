"""Chinese text analysis: our own Whoosh tokenizer on ``jieba.tokenize``.

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
analysis too; :func:`fingerprint` covers both.
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

from whoosh.analysis import Token, Tokenizer
from whoosh.lang.porter2 import stem as _porter2

from searchapp.text import scripts

jieba: Any = None  # imported by _load_jieba(): a process that only searches may never need it

try:  # optional accelerator: same tokens as jieba (checked by tests), ~20x faster
    import rjieba
except ImportError:  # pragma: no cover - depends on the environment
    rjieba = None

ANALYZER_VERSION = "3"

_ASCII_WORD = re.compile(r"[a-z]+\Z")
_lock = threading.Lock()
_state: dict[str, object] = {
    "ready": False,  # configured (for _state["userdict"])
    "userdict": None,
    "userdict_sha1": "",
    "jieba": False,  # jieba's dictionary loaded (lazily when rjieba segments)
}
#: User dictionaries configured while jieba was not loaded: added when it is.
_pending: list[bytes] = []
#: Every ``jieba.add_word`` we made, in order: (word, frequency before, frequency given).
_added: list[tuple[str, int, int]] = []
#: The rjieba instance mirroring jieba's dictionary, or None (pure-Python jieba).
_fast: list[object] = [None]
#: A word that no text can contain (private-use characters are never inside a jieba
#: block): it carries the difference between jieba's and jieba-rs's dictionary totals.
_BALLAST = "\ue000\ue001"
#: jieba 0.42.1's dict.txt lists ``B超 3 n`` twice: jieba adds both lines to its total,
#: jieba-rs keeps one record (a test recomputes this from the dictionary file).
DICT_TOTAL_EXCESS = 3


@dataclass(frozen=True)
class Tok:
    """One token: normalised text, ordinal position, character span in the source text."""

    text: str
    pos: int
    start: int
    end: int


def configure(userdict: Path | None = None) -> None:
    """Set up segmentation once per process, with an optional user dictionary.

    Idempotent for the same dictionary; a different dictionary in the same process
    is loaded on top (jieba cannot unload words), which is only a concern in tests.

    With rjieba, neither searching nor indexing needs jieba's own dictionary (1.5 s and
    150 MB per process): what we take from it (the words we add to rjieba with the
    frequencies jieba gives them, the 2- and 3-character words that make search-mode
    sub-words, the few dictionary words with symbols) is kept in a small cache file made
    by the first process that loads jieba.
    """
    with _lock:
        key = str(userdict.resolve()) if userdict and userdict.is_file() else None
        if _state["ready"] and _state["userdict"] == key:
            return
        data = Path(key).read_bytes() if key else b""
        sha1 = hashlib.sha1(data).hexdigest() if key else ""
        fresh = not _state["ready"] and not _state["jieba"]
        cached = _read_cache(sha1) if fresh and use_fast_segmenter() else None
        if cached is not None:
            _pending.append(data)  # for jieba, if it is ever loaded (tests compare with it)
        else:
            _load_jieba()
            _add_userdict(data)
            if use_fast_segmenter():
                cached = _from_jieba()
                if fresh:
                    _write_cache(sha1, cached)
        if cached is not None:
            _fast[0] = _build_fast(cached["words"])
            _grams.clear()
            _grams.update(cached["grams"])
            _symbol_words.clear()
            _symbol_words.update(cached["symbols"])
        else:
            _fast[0] = None
        _state["ready"] = True
        _state["userdict"] = key
        _state["userdict_sha1"] = sha1
        _cached_query_terms.cache_clear()
        _subwords.cache_clear()


def _load_jieba() -> None:
    """Load jieba's dictionary and add the words we add (call with ``_lock`` held)."""
    global jieba
    if not _state["jieba"]:
        import jieba as module

        jieba = module
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        for folded_tw, folded_cn in scripts.phrase_map().items():
            for word in (folded_tw, folded_cn):
                if word not in jieba.dt.FREQ or not jieba.dt.FREQ[word]:
                    _add_word(word)
        _state["jieba"] = True
    while _pending:
        _add_userdict(_pending.pop(0))


def ensure_jieba() -> None:
    """Load jieba's dictionary now, with every word configured so far (without rjieba,
    or to compare rjieba's tokens with jieba's)."""
    if not _state["jieba"] or _pending:
        with _lock:
            _load_jieba()


def _add_userdict(data: bytes) -> None:
    for line in data.decode("utf-8-sig").splitlines():
        parts = line.strip().split()
        if not parts or parts[0].startswith("#"):
            continue
        word = scripts.fold(parts[0])
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
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


def _cache_file(userdict_sha1: str) -> Path:
    """Where :func:`_from_jieba`'s result is cached, named by everything it depends on
    (versions, our phrase list, the user dictionary)."""
    parts = [
        ANALYZER_VERSION,
        str(DICT_TOTAL_EXCESS),
        metadata.version("jieba"),
        metadata.version("rjieba"),
        json.dumps(sorted(scripts.phrase_map().items()), ensure_ascii=False),
        userdict_sha1,
    ]
    digest = hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"searchapp-jieba-{digest}.json"


def _read_cache(userdict_sha1: str) -> dict[str, list[Any]] | None:
    try:
        raw = json.loads(_cache_file(userdict_sha1).read_text(encoding="utf-8"))
        return {
            "words": [(str(w), int(n)) for w, n in raw["words"]],
            "grams": [str(w) for w in raw["grams"]],
            "symbols": [str(w) for w in raw["symbols"]],
        }
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _write_cache(userdict_sha1: str, data: dict[str, list[Any]]) -> None:
    path = _cache_file(userdict_sha1)
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
_symbol_words: set[str] = set()
#: jieba's 2- and 3-character dictionary words (search-mode sub-words), with rjieba.
_grams: set[str] = set()


def segment(folded: str) -> list[tuple[str, int, int]]:
    """jieba's precise-mode ``tokenize`` of folded text: (word, start, end) triples."""
    _ensure_ready()
    fast = _fast[0]
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
            extend(_symbol_block(fast, block, start))
        cursor = end
    if cursor < len(folded):
        extend(_between(folded, cursor, len(folded)))
    return out


def _symbol_block(fast: Any, block: str, start: int) -> list[tuple[str, int, int]]:
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
        if len(word) > 1 and _SYMBOL_RUN.match(word) and word not in _symbol_words:
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


def fingerprint() -> str:
    """Analyzer version plus the user dictionary's checksum, recorded in the index."""
    _ensure_ready()
    return f"{ANALYZER_VERSION}:{_state['userdict_sha1'] or 'none'}"


def _ensure_ready() -> None:
    if not _state["ready"]:
        configure(None)


@lru_cache(maxsize=65536)
def _normalise(word: str) -> str:
    if _ASCII_WORD.match(word) and len(word) > 2:
        return _porter2(word)
    return word


def _keep(word: str) -> bool:
    return any(c.isalnum() for c in word)


_NO_SUBWORDS: tuple[tuple[str, int], ...] = ()


@lru_cache(maxsize=1 << 18)
def _subwords(word: str) -> tuple[tuple[str, int], ...] | None:
    """None for a word to drop; else its dictionary 2- and 3-grams with their offsets."""
    if not _keep(word):
        return None
    n = len(word)
    if n <= 2:
        return _NO_SUBWORDS
    if _fast[0] is not None:
        known: Callable[[str], Any] = _grams.__contains__
    else:
        ensure_jieba()
        known = jieba.dt.FREQ.get
    return tuple(
        (word[i : i + size], i)
        for size in ((2, 3) if n > 3 else (2,))
        for i in range(n - size + 1)
        if known(word[i : i + size])
    )


def token_tuples(text: str, search_mode: bool = True) -> list[tuple[str, int, int, int]]:
    """:func:`tokenize` as plain (text, pos, start, end) tuples (what the indexer stores)."""
    out: list[tuple[str, int, int, int]] = []
    append = out.append
    pos = -1
    if not search_mode:  # precise mode: no sub-words, no need for jieba's dictionary
        for word, start, end in segment(scripts.fold(text)):
            if _keep(word):
                pos += 1
                append((_normalise(word), pos, start, end))
        return out
    for word, start, end in segment(scripts.fold(text)):
        subs = _subwords(word)
        if subs is None:
            continue
        pos += 1
        for gram, i in subs:
            append((gram, pos, start + i, start + i + len(gram)))
        append((_normalise(word), pos, start, end))
    return out


def tokenize(text: str, search_mode: bool = True) -> Iterator[Tok]:
    """Segment ``text`` into tokens with ordinal positions and original character spans.

    ``search_mode`` adds jieba's sub-words of long words at the containing word's position
    (index time); precise mode alone is for queries.
    """
    for t in token_tuples(text, search_mode):
        yield Tok(*t)


def query_terms(text: str) -> list[str]:
    """Precise-mode terms of a query string, in order (duplicates kept for phrases)."""
    return list(_cached_query_terms(text))


@lru_cache(maxsize=4096)
def _cached_query_terms(text: str) -> tuple[str, ...]:
    return tuple(t.text for t in tokenize(text, search_mode=False))


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


class Pretokenized(str):
    """A field value whose tokens were computed elsewhere (a worker process).

    The indexer passes these to Whoosh so the writer does not segment the text again;
    the tokenizer below replays ``tokens`` instead of calling jieba.
    """

    tokens: Sequence[tuple[str, int, int, int]]

    def __new__(cls, text: str, tokens: Sequence[tuple[str, int, int, int]]) -> Pretokenized:
        obj = super().__new__(cls, text)
        obj.tokens = tokens
        return obj


class ChineseTokenizer(Tokenizer):
    """Whoosh tokenizer over :func:`tokenize`. Pickled into the index schema: keep the
    class name and module stable, and keep it free of state."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        if isinstance(value, Pretokenized):
            stream: Iterator[tuple[str, int, int, int]] = iter(value.tokens)
        else:
            stream = iter(token_tuples(value, search_mode=(mode != "query")))
        for text, pos, start, end in stream:
            t.text = text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = value[start:end]
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t


def analyzer() -> ChineseTokenizer:
    """The analyzer used by every full-text field of the schema."""
    return ChineseTokenizer()
