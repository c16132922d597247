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

from collections.abc import Sequence

from searchapp.text.scripts import fold

#: Shorter title keys name nothing (a one-character title is in too many queries).
MIN_KEY = 2


def title_key(text: str) -> str:
    """``text`` folded, with only its letters and digits."""
    return "".join(ch for ch in fold(text) if ch.isalnum())


def names(title: str, keys: Sequence[str]) -> bool:
    """True when the whole of ``title`` is within one of ``keys`` (typed runs of a query,
    already :func:`title_key`-ed)."""
    key = title_key(title)
    return len(key) >= MIN_KEY and any(key in k for k in keys)
