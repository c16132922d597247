"""Simplified/traditional Chinese and full-width folding that keeps string lengths.

Highlighting depends on character offsets computed on folded text pointing at the same
characters in the original text, so every fold here is one character to one character:
full-width ASCII to ASCII, traditional characters to simplified ones (OpenCC's character
table), and lowercase where it does not change the length.

Phrase-level differences between Taiwan/Hong Kong and mainland vocabulary (軟體/软件,
人工智慧/人工智能) cannot be done this way; :func:`phrase_map` exposes OpenCC's table of
them so the analyzer can normalise whole tokens instead.

The tables come from the text dictionaries shipped inside ``opencc-python-reimplemented``
(pure Python, no native library). We read the files ourselves rather than calling its
converter: ``str.translate`` over a prebuilt table is about a hundred times faster.

Changing anything here changes tokenization: bump ``analysis.ANALYZER_VERSION``.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path


def _dictionary_dir() -> Path:
    spec = importlib.util.find_spec("opencc")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("opencc-python-reimplemented is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "dictionary"


def _read_pairs(name: str) -> list[tuple[str, list[str]]]:
    pairs = []
    with open(_dictionary_dir() / name, encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2 and parts[0]:
                pairs.append((parts[0], parts[1].split()))
    return pairs


@cache
def _t2s_chars() -> dict[str, str]:
    table: dict[str, str] = {}
    for src, targets in _read_pairs("TSCharacters.txt"):
        # 乾 -> 干 乾: a character that is also valid simplified text (乾隆) is kept.
        if len(src) == 1 and targets and len(targets[0]) == 1 and src not in targets:
            table[src] = targets[0]
    # 著 is a Taiwan form of 着 but also the mainland 著 of 著名: keep it.
    simplified = {src for src, _ in _read_pairs("STCharacters.txt")} | {"著"}
    # Hong Kong / Taiwan variant forms (啓, 裏, 着 ...) map to OpenCC's standard form first.
    for name in ("HKVariantsRev.txt", "TWVariantsRev.txt"):
        for src, targets in _read_pairs(name):
            if src in simplified or src in table:
                continue
            if len(src) == 1 and targets and len(targets[0]) == 1:
                std = targets[0]
                table[src] = table.get(std, std)
    return {k: v for k, v in table.items() if k != v}


def _width_table() -> dict[int, int]:
    table = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
    table[0x3000] = 0x20
    return table


@cache
def fold_table() -> dict[int, int]:
    """The ``str.translate`` table used by :func:`fold` (width, script, case)."""
    table: dict[int, int] = {}
    for src, dst in _t2s_chars().items():
        table[ord(src)] = ord(dst)
    table.update(_width_table())
    # Lowercase ASCII and any other character whose lowercase is a single character.
    for cp in range(0x41, 0x5B):
        table[cp] = cp + 32
    for cp in list(range(0xC0, 0x250)) + list(range(0x370, 0x530)):
        ch = chr(cp)
        low = ch.lower()
        if low != ch and len(low) == 1:
            table[cp] = ord(low)
    # Width folding produces uppercase ASCII: lowercase it in the same pass.
    for cp, target in list(table.items()):
        if 0x41 <= target <= 0x5A:
            table[cp] = target + 32
    return table


def fold(text: str) -> str:
    """Fold width, script (traditional to simplified) and case; ``len`` is preserved."""
    return text.translate(fold_table())


@cache
def phrase_map() -> dict[str, str]:
    """Folded Taiwan/HK phrase -> folded mainland phrase (软体 -> 软件, 人工智慧 -> 人工智能)."""
    result: dict[str, str] = {}
    for src, targets in _read_pairs("TWPhrasesRev.txt"):
        if not targets:
            continue
        a, b = fold(src), fold(targets[0])
        if a != b and len(a) >= 2 and " " not in a:
            result[a] = b
    return result


@cache
def _traditional_only() -> frozenset[str]:
    simplified_targets = set(_t2s_chars().values())
    return frozenset(c for c in _t2s_chars() if c not in simplified_targets)


@cache
def _simplified_only() -> frozenset[str]:
    traditional_sources = set(_t2s_chars())
    return frozenset(c for c in _t2s_chars().values() if c not in traditional_sources)


#: Chinese ideographs: CJK Unified Ideographs with extension A, the compatibility block,
#: and the supplementary planes (extensions B and after). The one definition every
#: module uses (jieba's own block pattern in the analysis aside).
IDEOGRAPH_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
IDEOGRAPH = re.compile(f"[{IDEOGRAPH_CLASS}]")
ALL_IDEOGRAPHS = re.compile(f"[{IDEOGRAPH_CLASS}]+\\Z")


def is_ideograph(ch: str) -> bool:
    """True for one Chinese ideograph (see :data:`IDEOGRAPH_CLASS`)."""
    return IDEOGRAPH.match(ch) is not None


def detect_script(text: str, sample: int = 4000) -> str:
    """Return ``"hant"`` (traditional), ``"hans"`` (simplified) or ``""`` (no Chinese).

    Counts characters that exist only in one script over the first ``sample`` characters.
    """
    head = text[:sample]
    trad_set, simp_set = _traditional_only(), _simplified_only()
    trad = sum(1 for c in head if c in trad_set)
    simp = sum(1 for c in head if c in simp_set)
    if trad == 0 and simp == 0:
        return "hans" if IDEOGRAPH.search(head) else ""
    return "hant" if trad > simp else "hans"
