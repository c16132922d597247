"""Whether a query names an article: the article's whole title inside what was typed.

A reader who types or pastes an article's title, alone or inside a longer question
(红钻鱼广泛分布在哪个大洋区 for the article 红钻鱼, 前肛鳗有几枚前上颌骨齿 for 前肛鳗
rather than 异齿前肛鳗), names that article: it is the one they mean. Word counts cannot
see it (the longer title has the same words, and its body may repeat them more), so the
engine gives such articles a bonus (:mod:`searchapp.engine.search`).

Titles and queries are compared by their characters, not their segmentation, so a title
jieba cuts one way and a question it cuts another still meet: both are folded (width,
traditional to simplified, case) and keep only letters and digits (``"Apple Watch 评测"``
-> ``applewatch评测``). A title of fewer than :data:`MIN_KEY` such characters names nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from searchapp.text.scripts import fold

#: Shorter title keys name nothing (a one-character title is in too many queries).
MIN_KEY = 2
#: What a key leaves out: all but letters and digits (``str.isalnum``). Folding maps
#: letters and digits to letters and digits and the rest to the rest (a test checks), so
#: it can come after, on the shorter string.
_NOT_ALNUM = re.compile(r"[\W_]+")


def title_key(text: str) -> str:
    """``text`` folded, with only its letters and digits."""
    return fold(_NOT_ALNUM.sub("", text))


def names(title: str, keys: Sequence[str]) -> bool:
    """True when the whole of ``title`` is within one of ``keys`` (typed runs of a query,
    already :func:`title_key`-ed)."""
    return named([title], keys)[0]


def named(titles: Sequence[str], keys: Sequence[str]) -> list[bool]:
    """:func:`names` of each of ``titles`` (the candidates of one query)."""
    longest = max(map(len, keys), default=0)
    bare = [_NOT_ALNUM.sub("", t) for t in titles]
    # Most titles are longer than any query: they are not folded at all.
    return [MIN_KEY <= len(b) <= longest and any(fold(b) in k for k in keys) for b in bare]
