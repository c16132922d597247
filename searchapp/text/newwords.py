"""Unsupervised new-word discovery: words of the corpus that the segmenter's dictionary lacks.

jieba's dictionary predates most of today's news vocabulary and splits it: ``英伟达`` ->
``英 / 伟达``, ``泽连斯基`` -> ``泽 / 连斯基``, ``比特币`` -> ``比特 / 币``. This module finds
such words in the corpus itself, so that an index rebuild can add them to the dictionary.
Pure Python + numpy; it knows the segmenter only through two callables.

API::

    discover(texts, *, is_word, segment, min_count=10, max_len=6, limit=None,
             thresholds=Thresholds()) -> list[LearnedWord]      # best first
    suggested_frequency(word, *, segment, frequency, total) -> int

* ``texts``: the documents, already folded the way the index folds text (simplified
  script, lowercase): the statistics are over exact strings.
* ``is_word(s)``: True when the segmenter's dictionary has ``s`` (such strings are not new).
* ``segment(text)``: the segmenter's precise-mode cut, tokens that concatenate back to
  ``text`` (a segmenter that drops characters works too, more slowly).
* ``suggested_frequency``: the dictionary frequency to add a learned word with.

Method: the classic "cohesion + freedom" statistics over character n-grams (as in
Matrix67's 2012 "互联网时代的社会语言学"), with the segmenter in the loop to judge what is a
word boundary, and rules against the usual garbage. Default thresholds in brackets.

1. Counting. Candidates are the n-grams of 2..``max_len`` [6] characters inside runs of
   CJK characters, occurring ``min_count`` [10] times or more, in ``min_docs`` [3]
   documents or more. They are counted with numpy, level by level: the n-grams of length
   n + 1 start where the n-gram and the next n-gram are both frequent; each level is one
   sort of int64 keys packing (n-gram rank, next character, position). About 1.3 s for
   the 15M characters of the news corpus; above ``max_chars`` [25M] characters, texts
   spread evenly over the input are used (peak memory ~25 bytes a character).
2. Cohesion, over every split point ``w = a + b``: the PMI ``log(N c(w) / (c(a) c(b)))``,
   whose minimum is the ``cohesion`` [>= 3.0], and the *binding* ``max(c(w) / c(a),
   c(w) / c(b))``, the share of one half's occurrences that ``w`` accounts for, whose
   minimum must be ``min_binding`` [0.5]. A name binds its pieces (``伟达`` hardly occurs
   outside ``英伟达``: 1.0); a phrase does not (``较低``: 0.05). Below that, a string needs
   other evidence of being a unit: often alone between list or quote marks (``、通义千问、``,
   ``“港股通”``: ``min_alone`` [10%]), or next to a name dot (``基尔·斯塔默``:
   ``min_dotted`` [2] times), or very free on both sides (entropy ``free_entropy`` [3.0],
   binding ``min_free_binding`` [0.03]: ``稳定币``, ``智能体``, ``大模型``).
3. Freedom: the entropy of the characters just before and after the occurrences is at
   least ``min_entropy`` [1.0 nats] on both sides (``伟达`` is always after ``英``; a
   boilerplate line always ends the same way). Digits count as one symbol, Latin letters
   as one, spaces and line breaks as one. A string mostly right after a number or a
   demonstrative (``max_counting`` [50%]) is a measure word or unit (``名巴勒斯坦人``).
4. Shape, on the string: numbers and dates (``二〇二五年``, ``十年前``, ``初六``), and strings
   starting or ending with a function character (``的中国``, ``在美国``, ``表示将``:
   particles, prepositions, conjunctions, adverbs, pronouns, directions) are rejected,
   unless the rest of the string hardly occurs without that character (``bound_edge``
   [0.9]: ``碳中`` is followed by ``和`` 41 times in 43, ``中国`` by ``和`` once in 100)
   and it is not a particle (``彻头彻尾的``); then the rest must not be known words or
   start or end with a phrase's edge word (``在/瑞士/日内瓦``, ``为/蓝本``: rule 5).
5. Tokens, on the segmenter's cut of the string alone: it must be cut (``特朗普`` is kept
   whole: not new); it must not start or end with a reporting verb, a time word or a
   pronoun (``卡尼/表示``), nor hold a title anywhere (``总统/马克/龙``, ``印度/总理/莫迪``),
   nor a function word, a negation or a demonstrative (``以色列/在/加沙``, ``尚/不/清楚``,
   ``实现/这一/目标``) unless bound at ``bound_function`` [0.95] (``植田/和/男``). A string
   made only of words the segmenter knows (dictionary words, and words of three or more
   characters that its HMM makes) is a compound (``美国/总统``, ``责任/编辑``): rejected,
   unless it is two words bound at ``bound`` [0.6] (``宁德/时代``, ``字节/跳动``: names).
6. Context: ``samples`` [16] occurrences, evenly spread, are segmented with ``margin``
   [8] characters around them, all in one call. A new word must start and end on token
   boundaries in ``min_aligned`` [half] of them (``度依赖`` is cut ``高度/依赖``: a piece
   of two words) and be cut in ``min_split`` [half] of those (else the segmenter already
   handles it in context).
7. Nesting: a new word made of another new word and a dictionary word or a frequent
   string (``英伟达公司``, ``大埔宏福苑``, ``宏福苑五级火``) is dropped, then one that a
   single longer new word accounts for ``nested`` [60%] of (a piece of a longer name).

The thresholds were chosen on the hugo + txt news (13.8k articles, 15M characters) by
judging random samples of the output by hand (``bench/newwords.py``): about 1,000 words,
~90% of them words a reader takes as one unit, in ~2.5 s. The ``score`` that orders the
result is cohesion (min PMI) x freedom (min of the two entropies).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["LearnedWord", "Thresholds", "discover", "suggested_frequency"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Segment = Callable[[str], Sequence[str]]
IsWord = Callable[[str], bool]


@dataclass(frozen=True)
class LearnedWord:
    """A word of the corpus that the segmenter splits."""

    word: str  #: as in the (folded) input text
    count: int  #: occurrences in the corpus
    docs: int  #: documents containing it
    score: float  #: cohesion x min(left_entropy, right_entropy): the ranking
    cohesion: float  #: minimum PMI (natural log) over its split points
    left_entropy: float  #: entropy (nats) of the character before its occurrences
    right_entropy: float  #: entropy (nats) of the character after its occurrences
    per_million: float  #: occurrences per million CJK characters of the corpus


@dataclass(frozen=True)
class Thresholds:
    """The thresholds of :func:`discover` besides ``min_count`` and ``max_len``."""

    min_docs: int = 3  #: one long article repeating a string is not evidence
    min_cohesion: float = 3.0  #: min PMI over split points (nats)
    min_binding: float = 0.5  #: min over split points of max(c(w)/c(a), c(w)/c(b))
    min_alone: float = 0.1  #: ... or this share of occurrences alone between delimiters
    min_alone_count: int = 3  #: ... and at least this many
    min_dotted: int = 2  #: ... or this many occurrences next to a name dot
    free_entropy: float = 3.0  #: ... or entropies this high on both sides
    min_free_binding: float = 0.03  #: ... with at least this binding
    min_entropy: float = 1.0  #: min(left, right) neighbour entropy (nats)
    max_counting: float = 0.5  #: share of occurrences after a number (measure words)
    bound: float = 0.6  #: binding from which two known words make a name, not a compound
    bound_function: float = 0.95  #: ... and a string holding a function word (植田和男)
    #: A function character at an end is part of the word when the rest is hardly ever
    #: without it: ``碳中`` is followed by ``和`` in 41 of its 43 occurrences, ``中国`` by
    #: ``和`` in 1% of its occurrences (``中国和``: a phrase). The same at the start.
    bound_edge: float = 0.9
    min_aligned: float = 0.5  #: share of sampled occurrences starting (ending) on a boundary
    min_split: float = 0.5  #: share of those the segmenter cuts
    nested: float = 0.6  #: drop a word when one longer learned word has this share of it
    samples: int = 16  #: occurrences segmented in context, per candidate
    margin: int = 8  #: characters of context on each side
    max_chars: int = 25_000_000  #: above this many characters, texts spread evenly over
    #: the list are taken up to about this many (memory: ~25 bytes a character at peak)


_SEP = "\x00"
# Characters that do not start a word: particles, prepositions, conjunctions, adverbs,
# pronouns, modal and reporting verbs. A string starting with one is a phrase (在美国).
_BAD_START = frozenset(
    "的了着过在和与及或并而但对将把被从向给为于由让使跟据按也都就又还再很更最已曾才仍只"
    "均亦即便则却乃皆我你您他她它其该此这那谁每各是有要会能需称说等不没未请如后"
)
# ... and that do not end one: particles, postpositions, directions, verb complements.
_BAD_END = frozenset(
    "的了着过地得在和与及或并而但对将把被从向给为于由让使跟也都就又还再很更最已曾才仍只"
    "均亦即便则却是有要说称指等上中下内外前后里时起来去到们吗呢吧啊么一个这那其该此出入至看摄"
)
# Particles do not end a word however bound the rest is to them (彻头彻尾 is followed by
# 的 nine times in ten: 彻头彻尾的 is not a word).
_PARTICLES = frozenset("的了着过吗呢吧啊么")
# A token that is one of these inside a candidate makes it a phrase (以色列/在/加沙): function
# characters, negations (尚/不/清楚) and demonstratives (实现/这一/目标).
_FUNCTION_TOKENS = frozenset(
    "的了着过在和与及或并而但对将把被从向给为于是也都就又还再很更最已曾才仍地得等不没此"
) | frozenset("这一 这个 那个 这些 那些 这种 这项 这次 这样 那样 这么 那么".split())
# Titles: one anywhere in a candidate makes it a title with a name or an organisation
# (印度/总理/莫迪, 研究院/副/院长), not only at its ends.
_TITLES = frozenset(
    """
    先生 女士 小姐 总统 总理 首相 主席 部长 外长 外相 行长 董事长 总裁 经理 发言人 记者 教授
    博士 议员 局长 司长 署长 特首 大使 特使 院长 所长
    """.split()
)
# Tokens that make a phrase when they start or end a candidate (贝森特本周, 卡尼表示,
# 总统马克龙): reporting verbs, time words, titles, pronouns, common verbs and modals,
# prepositions and adverbs cut off from a longer word (以/穆斯林/为主).
_PHRASE_EDGES = (
    frozenset(
        """
        表示 指出 认为 强调 透露 称 说 指 说道 写道 显示 表明 坦言 直言 补充
        回应 宣布 宣称 声称 警告 呼吁 提到 解释 根据 相较 预期 今天 昨天 明天
        今日 昨日 明日 今年 去年 明年 本周 上周 下周 本月 上月 下月 周一 周二
        周三 周四 周五 周六 周日 星期一 星期二 星期三 星期四 星期五 星期六 星期日
        目前 当时 此前 近日 日前 早前 随后 之后 以来 期间 当天 当日 同日 同时
        早上 上午 下午 晚上 凌晨 政府 我们 你们 他们 她们 它们 自己 这些 那些
        这个 那个 这种 这项 这一 这次 这样 那样 进行 开始 继续 成为 获得 提供
        推出 发布 发表 举行 参加 可以 可能 已经 正在 将会 需要 应该 必须 能够
        仍然 依然 不会 没有 一名 多名 数名 多人 受伤 死亡 死伤 不治 风险 浏览
        点击 注意 大涨 大跌 上涨 下跌 走软 走弱 走强 受此 不受 相关 以 较 正 相
        中 被 受 约 会 持
        """.split()
    )
    | _TITLES
)
# Marks around a list item, a quoted or bracketed term: a string often alone between two
# of these is a unit (、英伟达、, “稳定币”). Not commas and full stops (,受此影响,), nor
# spaces (headlines are phrases).
_DELIMITERS = '、“”"「」『』《》〈〉()（）【】[]·・'
_NAME_DOTS = "·‧・･•"
_NUMERALS = "〇零一二三四五六七八九十百千万亿两几廿卅"
_DATE_OR_COUNT = re.compile(
    rf"^[{_NUMERALS}]+[年月日号时分秒周天岁个名位次届度倍成元家多余]"  # 十年前, 三名
    rf"|[{_NUMERALS}][年月日号]"  # 二〇二五年, 十一月
    r"|初[一二三四五六七八九十]"  # 正月初六
)
# Left neighbours that make a following string a measure word or unit (35名, 多名, 这款).
_COUNTING = "0" + _NUMERALS + "多数每首第这那该各此本"


def discover(
    texts: Iterable[str],
    *,
    is_word: IsWord,
    segment: Segment,
    min_count: int = 10,
    max_len: int = 6,
    limit: int | None = None,
    thresholds: Thresholds | None = None,
) -> list[LearnedWord]:
    """The new words of ``texts``, best first (at most ``limit``): strings of 2 to
    ``max_len`` CJK characters occurring ``min_count`` times or more that are not in the
    dictionary, that ``segment`` cuts, and that pass the tests of ``thresholds`` (see the
    module's docstring). Deterministic: the same texts give the same list."""
    th = thresholds or Thresholds()
    found = _candidates(texts, is_word, segment, min_count, max_len, th)
    kept = [cand for cand in found if cand.reason is None]
    kept.sort(key=lambda cand: (-cand.score, cand.word))
    return [cand.learned() for cand in kept[:limit]]


def suggested_frequency(
    word: LearnedWord,
    *,
    segment: Segment,
    frequency: Callable[[str], int],
    total: int,
    margin: float = 100.0,
    corpus_weight: float = 0.1,
) -> int:
    """The dictionary frequency to add ``word`` with, for ``frequency(token)`` the
    dictionary frequency of a token (0 if none) and ``total`` the dictionary's total.

    The larger of ``margin`` times what it takes to beat its current cut on its own
    (jieba's ``suggest_freq``: often just 1), so that it also wins in context, where a
    neighbouring word competes for its first or last character; and ``corpus_weight``
    times its frequency in the corpus scaled to the dictionary's total (a tenth: the
    dictionary counts a general corpus, where a news name is rarer than in the news).

    Measured on the 1,032 words learned from the hugo + txt news with rjieba (30 sampled
    occurrences each, 3M characters re-segmented): jieba's bare minimum keeps 99.2% of
    the occurrences whole in context, this 99.6%; a frequency ten times higher gains
    0.1% but starts taking characters from the neighbouring words (other words cut
    differently: 53 with the minimum, 56 with this, 73 at 1,000x and 251 at 10,000x)."""
    p = 1.0
    for token in segment(word.word):
        p *= max(frequency(token), 1) / total
    alone = int(p * total * margin) + 1
    return max(alone, int(word.per_million * 1e-6 * total * corpus_weight), 1)


@dataclass
class _Candidate:
    """A frequent cohesive string, its features and why it is not a new word (``reason``:
    None while it may be one)."""

    word: str
    rank: int  # in its level (the n-grams of its length)
    count: int
    per_million: float
    cohesion: float
    binding: float
    first_bound: float = 0.0  # c(w) / c(w[1:]): how bound the rest is to the first character
    last_bound: float = 0.0  # c(w) / c(w[:-1]): ... to the last character
    left: float = 0.0
    right: float = 0.0
    docs: int = 0
    counting: float = 0.0  # share of occurrences right after a number or a demonstrative
    alone: float = 0.0  # share of occurrences between two delimiters (、英伟达、)
    dotted: int = 0  # occurrences next to a name dot (卡罗琳·莱维特)
    tokens: tuple[str, ...] = ()  # the segmenter's cut of the word alone
    left_aligned: float = 0.0  # share of sampled occurrences starting on a token boundary
    right_aligned: float = 0.0
    split: float = 0.0  # share of the aligned ones the segmenter cuts
    reason: str | None = None

    @property
    def n(self) -> int:
        return len(self.word)

    @property
    def score(self) -> float:
        return self.cohesion * min(self.left, self.right)

    def learned(self) -> LearnedWord:
        return LearnedWord(
            word=self.word,
            count=self.count,
            docs=self.docs,
            score=round(self.score, 6),
            cohesion=round(self.cohesion, 6),
            left_entropy=round(self.left, 6),
            right_entropy=round(self.right, 6),
            per_million=round(self.per_million, 6),
        )


@dataclass
class _Level:
    """The frequent n-grams of one length n, numbered by rank: the count and first position
    of each, the ranks of its (n-1)-character prefix and suffix in the level below, and
    the positions of each one's occurrences, ``where[offsets[r] : offsets[r] + counts[r]]``."""

    counts: IntArray
    first: IntArray
    prefix: IntArray
    suffix: IntArray
    where: IntArray
    offsets: IntArray


@dataclass
class _Corpus:
    cp: npt.NDArray[np.uint32]  # the code points of the texts, each followed by _SEP
    n_cjk: int  # how many of them are CJK characters
    levels: dict[int, _Level]

    def text(self, start: int, end: int) -> str:
        return self.cp[max(start, 0) : end].tobytes().decode("utf-32-le")


def _candidates(
    texts: Iterable[str],
    is_word: IsWord,
    segment: Segment,
    min_count: int,
    max_len: int,
    th: Thresholds,
) -> list[_Candidate]:
    """Every frequent cohesive string that is not a dictionary word, each with the reason
    it is not a new word, or None. The cheap tests come first; a candidate that fails one
    is not measured further."""
    corpus = _read(texts, min_count, max_len, th.max_chars)
    if corpus is None:
        return []
    found = _cohesive(corpus, is_word, th.min_cohesion)
    for cand in found:
        if not _shape_ok(cand, th.bound_edge):
            cand.reason = "shape"
    live = [cand for cand in found if cand.reason is None]
    _neighbours(corpus, live)
    for cand in live:
        cand.reason = _statistics_reason(cand, th)
    live = [cand for cand in live if cand.reason is None]
    for cand in live:
        cand.tokens = tuple(segment(cand.word))
        cand.reason = _token_reason(cand, is_word, th)
    live = [cand for cand in live if cand.reason is None]
    _in_context(corpus, live, segment, th)
    for cand in live:
        cand.reason = _context_reason(cand, th)
    _prune_nested(found, is_word, segment, th.nested)
    return found


def _cjk(cp: npt.NDArray[np.uint32]) -> npt.NDArray[np.bool_]:
    return (
        (((cp >= 0x4E00) & (cp <= 0x9FFF)) & (cp != 0x4E28))  # 丨 is used as a separator
        | ((cp >= 0x3400) & (cp <= 0x4DBF))
        | ((cp >= 0xF900) & (cp <= 0xFAFF))
        | ((cp >= 0x20000) & (cp <= 0x2FFFF))
        | (cp == 0x3007)  # 〇: 二〇二五 is one run (rejected as a number)
    )


def _read(texts: Iterable[str], min_count: int, max_len: int, max_chars: int) -> _Corpus | None:
    docs = [t for t in texts if t]
    total = sum(map(len, docs))
    if total > max_chars:  # texts spread evenly over the list, for max_chars in all
        share = max_chars / total
        docs = [t for i, t in enumerate(docs) if int((i + 1) * share) > int(i * share)]
        total = sum(map(len, docs))
    if not docs:
        return None
    cp = np.zeros(total + len(docs), np.uint32)  # each text followed by _SEP (0)
    at = 0
    for t in docs:
        cp[at : at + len(t)] = np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32)
        at += len(t) + 1
    cjk = _cjk(cp)
    chars = cp[cjk]
    frequent = np.flatnonzero(np.bincount(chars, minlength=0x30000) >= min_count)
    ids = np.zeros(max(int(chars.max(initial=0)) + 1, 0x30000), np.int32)
    ids[frequent] = np.arange(1, len(frequent) + 1, dtype=np.int32)  # 0: a break
    small = len(frequent) < np.iinfo(np.int16).max
    c: npt.NDArray[np.signedinteger[Any]]
    c = np.zeros(len(cp) + max_len + 1, np.int16 if small else np.int32)  # padded
    c[: len(cp)][cjk] = ids[chars]
    n_cjk = len(chars)
    del cjk, chars
    return _Corpus(cp, n_cjk, _count_levels(c, len(frequent), max_len, min_count))


def _count_levels(
    c: npt.NDArray[np.signedinteger[Any]], n_chars: int, max_len: int, min_count: int
) -> dict[int, _Level]:
    """The frequent n-grams of 1..max_len characters of ``c`` (dense character ids, 0 for
    a break), Apriori-style: level n + 1 only looks at the positions where the n-gram and
    the next one are frequent, and sorts them as int64 keys packing (rank of the n-gram,
    next character, position): one sort gives the groups, their counts and positions, a
    second one (position, new rank) the level's positions in order for the next level.
    Sorting is cheap here; gathers and scatters over the whole corpus are not."""
    pos = np.flatnonzero(c).astype(np.int32)
    rank = c[pos].astype(np.int32) - 1
    counts = np.bincount(rank, minlength=n_chars).astype(np.int64)
    # Where each frequent n-gram starts, in text order, and its rank: kept in a list so
    # that the previous level's arrays are freed as soon as the next keys are built.
    carry = [pos, rank]
    del pos, rank
    none = np.zeros(0, np.int64)
    levels = {1: _Level(counts, none, none, none, np.zeros(0, np.int32), none)}
    keys = {1: np.arange(n_chars, dtype=np.int64)}  # (prefix rank, last character id)
    pbits = int(len(c)).bit_length()
    cbits = int(n_chars + 1).bit_length()
    for n in range(1, max_len):
        pos, rank = carry
        carry.clear()
        pairs = pos[1:] - pos[:-1] == 1
        starts = pos[:-1][pairs]
        key = rank[:-1][pairs].astype(np.int64)
        del pos, rank, pairs
        key <<= cbits
        key |= c[starts + n]
        if int(len(counts)).bit_length() + cbits + pbits < 64:
            key <<= pbits
            key |= starts
            del starts
            key.sort()
            where = (key & ((1 << pbits) - 1)).astype(np.int32)
            key >>= pbits
        else:  # too many bits to pack positions in: an argsort, slower, same result
            order = np.argsort(key, kind="stable")
            key, where = key[order], starts[order]
            del order, starts
        new = np.empty(len(key), bool)
        new[:1] = True
        np.not_equal(key[1:], key[:-1], out=new[1:])
        heads = np.flatnonzero(new)
        del new
        sizes = np.diff(heads, append=len(key))
        frequent = sizes >= min_count
        counts = sizes[frequent]
        heads = heads[frequent]
        keys[n + 1] = key[heads]
        del key
        where = where[np.repeat(frequent, sizes)]  # grouped by rank, in text order
        offsets = np.cumsum(counts) - counts
        prefix = keys[n + 1] >> cbits
        last = keys[n + 1] & ((1 << cbits) - 1)
        if n == 1:
            suffix = last - 1
        else:  # the suffix's key: (the prefix's suffix, the last character)
            key = (levels[n].suffix[prefix] << cbits) | last
            suffix = np.searchsorted(keys[n], key)
        levels[n + 1] = _Level(
            counts, where[offsets].astype(np.int64), prefix, suffix, where, offsets
        )
        if n + 1 < max_len:
            nbits = max(int(len(counts)).bit_length(), 1)
            by_position = where.astype(np.int64)
            by_position <<= nbits
            by_position |= np.repeat(np.arange(len(counts), dtype=np.int32), counts)
            by_position.sort()
            carry.append((by_position >> nbits).astype(np.int32))
            by_position &= (1 << nbits) - 1
            carry.append(by_position.astype(np.int32))
            del by_position
    return levels


def _cohesive(corpus: _Corpus, is_word: IsWord, min_cohesion: float) -> list[_Candidate]:
    """The frequent n-grams (n >= 2) with PMI >= ``min_cohesion`` at every split point,
    not in the dictionary, with their cohesion and binding."""
    levels = corpus.levels
    n_chars = max(corpus.n_cjk, 1)
    log_n = float(np.log(n_chars))
    found = []
    for n in range(2, len(levels) + 1):
        level = levels[n]
        log_c = np.log(level.counts)
        cohesion = np.full(len(log_c), np.inf)
        binding = np.full(len(log_c), np.inf)
        last_bound = level.counts / levels[n - 1].counts[level.prefix]
        first_bound = level.counts / levels[n - 1].counts[level.suffix]
        # The halves of a split: w[:k] is the prefix of the prefix ... (n - k times).
        heads = [np.arange(len(log_c))]
        tails = [np.arange(len(log_c))]
        for m in range(n, 1, -1):
            heads.append(levels[m].prefix[heads[-1]])
            tails.append(levels[m].suffix[tails[-1]])
        for k in range(1, n):
            a = levels[k].counts[heads[n - k]]
            b = levels[n - k].counts[tails[k]]
            cohesion = np.minimum(cohesion, log_c + log_n - np.log(a * b))
            binding = np.minimum(binding, level.counts / np.minimum(a, b))
        ranks = np.flatnonzero(cohesion >= min_cohesion)
        for r, p in zip(ranks.tolist(), level.first[ranks].tolist(), strict=True):
            word = corpus.text(p, p + n)
            if not is_word(word):
                count, coh, bind = int(level.counts[r]), float(cohesion[r]), float(binding[r])
                cand = _Candidate(word, r, count, count * 1e6 / n_chars, coh, bind)
                cand.first_bound, cand.last_bound = float(first_bound[r]), float(last_bound[r])
                found.append(cand)
    return found


def _shape_ok(cand: _Candidate, bound_edge: float) -> bool:
    """Rules on the string: numbers and dates, function characters at the ends (unless
    the rest of the string is bound to it, at ``bound_edge``: 碳中和, not 中国和)."""
    word = cand.word
    if word[0] in _BAD_START and cand.first_bound < bound_edge:
        return False
    if word[-1] in _BAD_END and (cand.last_bound < bound_edge or word[-1] in _PARTICLES):
        return False
    numerals = sum(ch in _NUMERALS for ch in word)
    return not _DATE_OR_COUNT.search(word) and 2 * numerals <= len(word)


def _occurrences(
    levels: dict[int, _Level], found: list[_Candidate]
) -> list[tuple[int, IntArray, IntArray]]:
    """(length, candidate index, position) of every occurrence of the candidates, by
    length, grouped by candidate, in text order within one."""
    by_length: dict[int, list[int]] = {}
    for i, cand in enumerate(found):
        by_length.setdefault(cand.n, []).append(i)
    out = []
    for n, members in sorted(by_length.items()):
        level = levels[n]
        ranks = np.array([found[i].rank for i in members], np.int64)
        sizes = level.counts[ranks]
        ends = np.cumsum(sizes)
        idx = np.arange(int(ends[-1])) + np.repeat(level.offsets[ranks] - (ends - sizes), sizes)
        out.append((n, np.repeat(np.array(members, np.int64), sizes), level.where[idx]))
    return out


def _symbols(chars: npt.NDArray[np.uint32]) -> IntArray:
    """The symbols characters count as next to a candidate: themselves, except that all
    digits are one symbol, all Latin letters one, and all spaces and breaks one (a string
    always after a number or always starting a line is not free there)."""
    nb = chars.astype(np.int64)
    nb[(nb >= 0x30) & (nb <= 0x39)] = 0x30
    nb[((nb | 0x20) >= 0x61) & ((nb | 0x20) <= 0x7A)] = 0x61
    nb[(nb <= 0x20) | (nb == 0x3000) | (nb == 0xA0)] = 0x20
    return nb


def _neighbours(corpus: _Corpus, found: list[_Candidate]) -> None:
    """Fill in the neighbour statistics: entropies, documents, counting, alone, dotted."""
    m = len(found)
    if not m:
        return
    cp = corpus.cp  # its last character is a _SEP: no candidate touches the end
    doc_starts = np.concatenate([[0], np.flatnonzero(cp == 0)[:-1] + 1])

    def table(chars: str) -> npt.NDArray[np.bool_]:
        marks = np.zeros(0x110000, bool)
        marks[[ord(ch) for ch in chars]] = True
        return marks

    counting_table = table(_COUNTING)
    delimiter_table = table(_DELIMITERS)
    dot_table = table(_NAME_DOTS)
    left, right, counting, alone, dotted, docs = (np.zeros(m) for _ in range(6))
    for n, who, positions in _occurrences(corpus.levels, found):
        before = cp[np.maximum(positions - 1, 0)]
        after = cp[positions + n]
        before_symbol = _symbols(before)
        left += _entropy(who, before_symbol, m)
        right += _entropy(who, _symbols(after), m)
        counting += np.bincount(who[counting_table[before_symbol]], minlength=m)
        alone += np.bincount(who[delimiter_table[before] & delimiter_table[after]], minlength=m)
        dotted += np.bincount(who[dot_table[before] | dot_table[after]], minlength=m)
        doc = np.searchsorted(doc_starts, positions, side="right") - 1
        pairs = np.sort((who << 32) | doc)
        docs += np.bincount(pairs[np.r_[True, pairs[1:] != pairs[:-1]]] >> 32, minlength=m)
    for i, cand in enumerate(found):
        cand.left, cand.right, cand.docs = float(left[i]), float(right[i]), int(docs[i])
        cand.counting = float(counting[i]) / cand.count
        cand.alone, cand.dotted = float(alone[i]) / cand.count, int(dotted[i])


def _entropy(group: IntArray, symbol: IntArray, m: int) -> FloatArray:
    """The entropy of ``symbol`` within each group 0..m-1."""
    key = np.sort((group << 23) | symbol)
    if not len(key):
        return np.zeros(m)
    heads = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    counts = np.diff(np.append(heads, len(key))).astype(np.float64)
    owner = key[heads] >> 23
    total = np.bincount(owner, weights=counts, minlength=m)
    p = counts / total[owner]
    return np.bincount(owner, weights=-p * np.log(p), minlength=m).astype(np.float64)


def _statistics_reason(cand: _Candidate, th: Thresholds) -> str | None:
    if cand.docs < th.min_docs:
        return "docs"
    if min(cand.left, cand.right) < th.min_entropy:
        return "entropy"
    if cand.counting >= th.max_counting:
        return "counting"
    if cand.binding < th.min_binding:
        alone = cand.alone >= th.min_alone and cand.alone * cand.count >= th.min_alone_count
        free = min(cand.left, cand.right) >= th.free_entropy
        if not (
            alone or cand.dotted >= th.min_dotted or (free and cand.binding >= th.min_free_binding)
        ):
            return "loose"
    return None


def _token_reason(cand: _Candidate, is_word: IsWord, th: Thresholds) -> str | None:
    """Rules on the segmenter's cut of the candidate alone."""
    tokens = cand.tokens
    if len(tokens) < 2:
        return "whole"
    if tokens[0] in _PHRASE_EDGES or tokens[-1] in _PHRASE_EDGES:
        return "phrase"
    if any(t in _TITLES for t in tokens):
        return "phrase"
    # A function character at an end passed the shape rule bound to the rest (碳中和).
    # Standing alone around known words, it still makes a phrase of them, one that it
    # happens to accompany (在/瑞士/日内瓦, 为/蓝本); around a fragment, it is part of a
    # word (碳中/和), and so not a function word inside it.
    inner = list(tokens)
    if cand.word[-1] in _BAD_END and inner[-1] == cand.word[-1]:
        inner.pop()
    if cand.word[0] in _BAD_START and inner[0] == cand.word[0]:
        inner.pop(0)
    if len(inner) < len(tokens) and (
        not inner
        or _known_words(inner, is_word)
        or inner[0] in _PHRASE_EDGES
        or inner[-1] in _PHRASE_EDGES
    ):
        return "function"
    if cand.binding < th.bound_function and any(t in _FUNCTION_TOKENS for t in inner):
        return "function"
    if _known_words(tokens, is_word):
        if len(tokens) > 2 or cand.binding < th.bound:
            return "compound"
    return None


def _known_words(tokens: Sequence[str], is_word: IsWord) -> bool:
    """Whether the tokens are all words the segmenter knows: dictionary words, and what
    its HMM makes of 3+ characters (卢比欧); 2-character HMM tokens are as often pieces
    of names (卢特/尼克)."""
    return all(len(t) >= 3 or (len(t) == 2 and is_word(t)) for t in tokens)


def _in_context(corpus: _Corpus, found: list[_Candidate], segment: Segment, th: Thresholds) -> None:
    """Segment up to ``th.samples`` occurrences of each candidate, evenly spread, with
    ``th.margin`` characters of context around, all in one call: where the candidate's
    ends fall on token boundaries, and whether the segmenter cuts it there."""
    if not found:
        return
    windows: list[str] = []
    owners: list[int] = []
    starts: list[int] = []  # of the candidate inside its window
    margin = th.margin
    for n, who, positions in _occurrences(corpus.levels, found):
        heads = np.flatnonzero(np.r_[True, who[1:] != who[:-1]])
        ends = np.append(heads[1:], len(who))
        for h, e in zip(heads.tolist(), ends.tolist(), strict=True):
            pick = positions[h:e]
            if len(pick) > th.samples:
                pick = pick[np.linspace(0, len(pick) - 1, th.samples).astype(np.int64)]
            owner = int(who[h])
            for p in pick.tolist():
                lo = max(p - margin, 0)
                windows.append(corpus.text(lo, p + n + margin))
                owners.append(owner)
                starts.append(p - lo)
    text = "\n".join(windows)
    tokens = segment(text)
    bounds: IntArray
    if sum(map(len, tokens)) == len(text):
        bounds = np.cumsum([0, *map(len, tokens)])
    else:  # a segmenter that drops characters: find its tokens window by window
        bounds = _bounds_by_window(windows, segment)
    offsets = np.cumsum([0] + [len(w) + 1 for w in windows[:-1]])
    of = np.array(owners)
    begin = offsets + np.array(starts)
    end = begin + np.array([found[o].n for o in owners])
    at_begin, at_end = np.isin(begin, bounds), np.isin(end, bounds)
    inside = np.searchsorted(bounds, end, "left") - np.searchsorted(bounds, begin, "right")
    m = len(found)
    sampled = np.bincount(of, minlength=m)
    left = np.bincount(of, weights=at_begin, minlength=m) / sampled
    right = np.bincount(of, weights=at_end, minlength=m) / sampled
    both = np.bincount(of, weights=at_begin & at_end, minlength=m)
    cut = np.bincount(of, weights=at_begin & at_end & (inside > 0), minlength=m)
    for i, cand in enumerate(found):
        cand.left_aligned, cand.right_aligned = float(left[i]), float(right[i])
        cand.split = float(cut[i] / both[i]) if both[i] else 0.0


def _bounds_by_window(windows: list[str], segment: Segment) -> IntArray:
    bounds = []
    offset = 0
    for window in windows:
        at = 0
        bounds.append(offset)
        for token in segment(window):
            where = window.find(token, at)
            if where >= 0:
                at = where + len(token)
                bounds.extend((offset + where, offset + at))
        offset += len(window) + 1
    return np.unique(np.array(bounds, np.int64))


def _context_reason(cand: _Candidate, th: Thresholds) -> str | None:
    if min(cand.left_aligned, cand.right_aligned) < th.min_aligned:
        return "aligned"
    if cand.split < th.min_split:
        return "whole in context"
    return None


def _prune_nested(found: list[_Candidate], is_word: IsWord, segment: Segment, share: float) -> None:
    """Reject a new word made of another one and a word (英伟达公司, 大埔宏福苑) or another
    frequent cohesive string (宏福苑五级火), then one that a single longer new word explains
    ``share`` of (伟达 in 英伟达)."""
    kept = {cand.word: cand for cand in found if cand.reason is None}
    frequent = {cand.word for cand in found}

    def known(s: str) -> bool:
        return s in frequent or is_word(s) or len(segment(s)) == 1

    for cand in kept.values():
        w = cand.word
        for cut in range(2, len(w) - 1):
            a, b = w[:cut], w[cut:]
            if (a in kept and known(b)) or (b in kept and known(a)):
                cand.reason = "glued"
                break
    longest: dict[str, int] = {}
    for cand in kept.values():
        if cand.reason is None:
            w = cand.word
            for i in range(len(w)):
                for j in range(i + 2, len(w) + 1 - (i == 0)):
                    longest[w[i:j]] = max(longest.get(w[i:j], 0), cand.count)
    for cand in kept.values():
        if cand.reason is None and longest.get(cand.word, 0) >= share * cand.count:
            cand.reason = "nested"
