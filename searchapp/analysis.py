"""Chinese text analysis: our own Whoosh tokenizer on ``jieba.tokenize``.

This is the only module that imports jieba. Why not ``jieba.analyse.ChineseAnalyzer``:
it segments queries in search mode too (马克思 -> 马克 AND 马克思), stores character offsets
as token positions (quoted phrases never match), drops single letters and digits, uses the
old Porter stemmer, and leaks a file handle on import.

What this tokenizer does, in order:

1. fold the text one character to one character (:mod:`searchapp.scripts`): full width to
   ASCII, traditional to simplified, lowercase. Offsets on the folded text are therefore
   offsets into the original text, which is what highlighting needs;
2. segment with jieba's precise mode; every kept word gets the next ordinal position, so
   quoted phrases match word by word;
3. when indexing, add jieba's search-mode sub-words (人工智能 -> 人工, 智能) at the *same*
   position as the word that contains them, so a query for a part still finds the whole;
4. drop tokens with no letter, digit or ideograph (spaces, punctuation) without leaving
   position gaps; keep single letters and digits (``R1``, ``3``);
5. stem pure-ASCII words with Porter2 (``models`` -> ``model``, ``running`` -> ``run``).

Phrase-level vocabulary differences (軟體/软件, 人工智慧/人工智能) are added to jieba's
dictionary so they stay whole words, and :func:`variants` expands a query term to its other
forms at query time.

**Any change here changes the index**: bump :data:`ANALYZER_VERSION`; an index built by
another version is refused until it is rebuilt. The user dictionary is part of the
analysis too; :func:`fingerprint` covers both.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba
from whoosh.analysis import Token, Tokenizer
from whoosh.lang.porter2 import stem as _porter2

from searchapp import scripts

ANALYZER_VERSION = "3"

_ASCII_WORD = re.compile(r"[a-z]+\Z")
_lock = threading.Lock()
_state: dict[str, object] = {"ready": False, "userdict": None, "userdict_sha1": ""}


@dataclass(frozen=True)
class Tok:
    """One token: normalised text, ordinal position, character span in the source text."""

    text: str
    pos: int
    start: int
    end: int


def configure(userdict: Path | None = None) -> None:
    """Initialise jieba once per process, with an optional user dictionary.

    Idempotent for the same dictionary; a different dictionary in the same process
    is loaded on top (jieba cannot unload words), which is only a concern in tests.
    """
    with _lock:
        key = str(userdict.resolve()) if userdict and userdict.is_file() else None
        if _state["ready"] and _state["userdict"] == key:
            return
        if not _state["ready"]:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            for folded_tw, folded_cn in scripts.phrase_map().items():
                for word in (folded_tw, folded_cn):
                    if word not in jieba.dt.FREQ or not jieba.dt.FREQ[word]:
                        jieba.add_word(word)
            _state["ready"] = True
        sha1 = ""
        if key:
            data = Path(key).read_bytes()
            sha1 = hashlib.sha1(data).hexdigest()
            for line in data.decode("utf-8-sig").splitlines():
                parts = line.strip().split()
                if not parts or parts[0].startswith("#"):
                    continue
                word = scripts.fold(parts[0])
                freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                jieba.add_word(word, freq)
        _state["userdict"] = key
        _state["userdict_sha1"] = sha1
        _cached_query_terms.cache_clear()


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


def tokenize(text: str, search_mode: bool = True) -> Iterator[Tok]:
    """Segment ``text`` into tokens with ordinal positions and original character spans.

    ``search_mode`` adds jieba's sub-words of long words at the containing word's position
    (index time); precise mode alone is for queries.
    """
    _ensure_ready()
    folded = scripts.fold(text)
    freq = jieba.dt.FREQ
    pos = -1
    for word, start, end in jieba.tokenize(folded):
        if not _keep(word):
            continue
        pos += 1
        n = len(word)
        if search_mode and n > 2:
            for size in (2, 3) if n > 3 else (2,):
                for i in range(n - size + 1):
                    gram = word[i : i + size]
                    if freq.get(gram):
                        yield Tok(gram, pos, start + i, start + i + size)
        yield Tok(_normalise(word), pos, start, end)


_tokenize = tokenize  # ChineseTokenizer.__call__ has a Whoosh parameter named ``tokenize``


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
            stream = (
                (k.text, k.pos, k.start, k.end)
                for k in _tokenize(value, search_mode=(mode != "query"))
            )
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
