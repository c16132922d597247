"""Pinyin of Chinese words, from pypinyin's phrase and character tables (no tones).

``syllables_of("人工智能")`` is ``["ren", "gong", "zhi", "neng"]``; the suggestion
vocabulary keys words by their full pinyin and initials, and "did you mean" treats two
characters that share a reading as homophones.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

_LETTERS = re.compile(r"[a-z]+\Z")


@cache
def _pinyin_tables() -> tuple[dict[str, list[list[str]]], dict[int, str]]:
    from pypinyin import phrases_dict, pinyin_dict

    return phrases_dict.phrases_dict, pinyin_dict.pinyin_dict


@cache
def syllable_set() -> frozenset[str]:
    _, chars = _pinyin_tables()
    out = set()
    for readings in chars.values():
        for reading in readings.split(","):
            plain = toneless(reading)
            if _LETTERS.match(plain):
                out.add(plain)
    return frozenset(out)


@cache
def syllable_prefixes() -> frozenset[str]:
    return frozenset(s[:i] for s in syllable_set() for i in range(1, len(s) + 1))


def toneless(reading: str) -> str:
    """``lǜ`` -> ``lv``, ``xíng`` -> ``xing`` (ü typed as v, as pinyin keyboards do)."""
    reading = reading.replace("ü", "v")
    decomposed = unicodedata.normalize("NFD", reading)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ü", "v")


_char_cache: dict[str, str | None] = {}


@cache
def readings(ch: str) -> frozenset[str]:
    """Every toneless reading of a character (长: chang, zhang)."""
    readings = _pinyin_tables()[1].get(ord(ch))
    return frozenset(toneless(r) for r in readings.split(",")) if readings else frozenset()


def homophones(a: str, b: str) -> bool:
    """True when the two characters can be read the same (tones aside)."""
    return bool(readings(a) & readings(b))


def char_syllable(ch: str) -> str | None:
    if ch not in _char_cache:
        readings = _pinyin_tables()[1].get(ord(ch))
        plain = toneless(readings.split(",")[0]) if readings else ""
        _char_cache[ch] = plain if _LETTERS.match(plain) else None
    return _char_cache[ch]


def syllables_of(word: str) -> list[str] | None:
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
                out.extend(toneless(r[0]) for r in reading)
                i = j
                break
        else:
            syllable = char_syllable(word[i])
            if syllable is None:
                return None
            out.append(syllable)
            i += 1
    return out


def could_be_pinyin(letters: str) -> bool:
    """True when ``letters`` splits into pinyin syllables (the last one may be unfinished)."""
    syllables = syllable_set()
    prefixes = syllable_prefixes()
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
