"""New-word discovery (searchapp.text.newwords) on small synthetic corpora.

The corpora are generated here from a fixed seed, with a toy segmenter: forward maximum
matching over a small dictionary, every other character a token of its own, so that what
the segmenter knows is exactly ``WORDS``.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from searchapp.text.newwords import (
    LearnedWord,
    Thresholds,
    _Candidate,
    _candidates,
    _token_reason,
    discover,
    suggested_frequency,
)

SHARED_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"

SUBJECTS = ["中国", "美国", "日本", "公司", "政府", "银行", "企业", "市场", "学校", "医院"]
VERBS = ["认为", "发布", "计划", "报道", "投资", "合作", "关注", "支持", "研究", "讨论"]
OBJECTS = ["经济", "增长", "产品", "科技", "数据", "项目", "技术", "服务", "芯片", "问题"]
OTHERS = ["总统", "责任", "编辑", "本文", "来源", "记者", "表示", "今天", "会议", "城市"]
FUNCTION = ["的", "在", "和", "与", "了", "是", "将", "也", "都", "对", "据", "由", "向"]
WORDS = frozenset(SUBJECTS + VERBS + OBJECTS + OTHERS + FUNCTION)
NAMES = ["璐珈朵", "魁斯拉德"]  # made up: their characters are in no word of WORDS


def is_word(s: str) -> bool:
    return s in WORDS


def segment(text: str) -> list[str]:
    """Forward maximum matching over WORDS (at most 4 characters a word)."""
    tokens: list[str] = []
    i = 0
    while i < len(text):
        for n in (4, 3, 2, 1):
            if n == 1 or text[i : i + n] in WORDS:
                tokens.append(text[i : i + n])
                i += n
                break
    return tokens


def sentence(rng: random.Random, name: str | None = None) -> str:
    s, v, o, o2 = (rng.choice(x) for x in (SUBJECTS, VERBS, OBJECTS, OBJECTS))
    if name is not None:
        before = rng.choice(SUBJECTS + VERBS + ["据", "与", "和", "由", "，", "“", "（"])
        after = rng.choice(VERBS + OBJECTS + ["。", "，", "的", "”", "）", "表示"])
        return f"{before}{name}{after}{o}。"
    return rng.choice(
        [
            f"{s}{v}{o}。",
            f"{s}的{o}{v}{o2}。",
            f"在{s}，{o}{v}{o2}。",
            f"美国总统{v}{o}，{s}{v}。",
            f"{s}对{o}表示将{v}。",
            f"总统{v}美国{o}。",
            f"{s}的中国{o}，今天在美国{v}。",
        ]
    )


def make_corpus(seed: int = 7, docs: int = 120, extra: tuple[str, ...] = ()) -> list[str]:
    """Synthetic news: filler sentences; each name in about a third of the documents;
    ``extra`` sentences appended to every document."""
    rng = random.Random(seed)
    texts = []
    for _ in range(docs):
        parts = [sentence(rng) for _ in range(rng.randint(8, 14))]
        for name in NAMES:
            if rng.random() < 0.35:
                for _ in range(rng.randint(1, 3)):
                    parts.insert(rng.randrange(len(parts) + 1), sentence(rng, name))
        parts.extend(extra)
        texts.append("".join(parts))
    return texts


def learn(texts: list[str], **kwargs: Any) -> list[LearnedWord]:
    return discover(texts, is_word=is_word, segment=segment, **kwargs)


def test_made_up_names_are_learned_with_exact_counts() -> None:
    texts = make_corpus()
    learned = learn(texts)
    assert sorted(w.word for w in learned) == sorted(NAMES)
    for w in learned:
        assert w.count == sum(t.count(w.word) for t in texts)
        assert w.docs == sum(w.word in t for t in texts)
        assert w.count >= 10 and w.docs >= 3
        assert w.score == pytest.approx(w.cohesion * min(w.left_entropy, w.right_entropy))
        assert w.left_entropy >= 1.0 and w.right_entropy >= 1.0
        cjk = sum(len(re.findall(r"[\u4e00-\u9fff]", t)) for t in texts)
        assert w.per_million == pytest.approx(w.count * 1e6 / cjk, rel=1e-6)


def test_cross_word_strings_and_compounds_are_not_learned() -> None:
    texts = make_corpus()
    joined = "".join(texts)
    # Frequent enough to be candidates, but a particle glued to a word, a phrase, or a
    # compound of two dictionary words.
    for phrase in ("的中国", "在美国", "表示将", "美国总统"):
        assert joined.count(phrase) >= 30, phrase
    learned = {w.word for w in learn(texts)}
    assert not learned & {"的中国", "在美国", "表示将", "美国总统", "中国", "美国"}


def test_numbers_dates_and_boilerplate_are_not_learned() -> None:
    boilerplate = ("二〇二五年三月十五日。", "三十五名记者。", "责任编辑：", "本文来源：")
    texts = make_corpus(extra=boilerplate)
    learned = {w.word for w in learn(texts)}
    assert learned == set(NAMES)


def test_substrings_of_a_learned_word_are_not_learned() -> None:
    learned = {w.word for w in learn(make_corpus(), min_count=5)}
    assert "魁斯拉德" in learned
    for part in ("魁斯", "斯拉", "拉德", "魁斯拉", "斯拉德", "璐珈", "珈朵"):
        assert part not in learned


def test_a_word_glued_to_a_learned_word_is_not_learned() -> None:
    # Two occurrences of 璐珈朵 in three are followed by 科技: 璐珈朵科技 is frequent and
    # bound (c(璐珈朵科技) / c(璐珈朵) = 2/3), but it is the name glued to a word.
    seen = iter(range(10**6))

    def glue(match: re.Match[str]) -> str:
        return "璐珈朵科技" if next(seen) % 3 else "璐珈朵"

    texts = [re.sub("璐珈朵", glue, t) for t in make_corpus()]
    assert "".join(texts).count("璐珈朵科技") >= 40
    learned = {w.word for w in learn(texts)}
    assert learned == set(NAMES)


def test_a_name_always_followed_by_the_same_word_is_learned_with_it() -> None:
    # 璐珈朵 is always followed by 科技 (宇树科技): the unit is 璐珈朵科技, and 璐珈朵,
    # never free on its right, is not learned.
    texts = [t.replace("璐珈朵", "璐珈朵科技") for t in make_corpus()]
    assert {w.word for w in learn(texts)} == {"璐珈朵科技", "魁斯拉德"}


def test_english_and_mixed_strings_are_never_candidates() -> None:
    texts = make_corpus(extra=("h20芯片出口。", "nvidia h20芯片。"))
    learned = learn(texts)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]+", w.word) for w in learned)
    assert {w.word for w in learned} == set(NAMES)


def test_a_word_the_segmenter_keeps_whole_is_not_new() -> None:
    def knows_names(s: str) -> list[str]:
        tokens: list[str] = []
        for piece in re.split(f"({'|'.join(NAMES)})", s):
            tokens.extend([piece] if piece in NAMES else segment(piece))
        return [t for t in tokens if t]

    assert discover(make_corpus(), is_word=is_word, segment=knows_names) == []


def test_output_is_deterministic_and_sorted_by_score() -> None:
    texts = make_corpus(seed=3)
    first = learn(texts)
    assert first == learn(list(texts))
    assert [w.score for w in first] == sorted((w.score for w in first), reverse=True)
    assert learn(texts, limit=1) == first[:1]


def test_thresholds_are_applied() -> None:
    texts = make_corpus()
    counts = {w.word: w.count for w in learn(texts)}
    above = min(counts.values()) + 1
    assert {w.word for w in learn(texts, min_count=above)} == {
        word for word, count in counts.items() if count >= above
    }
    assert learn(texts, max_len=3) == [w for w in learn(texts) if len(w.word) <= 3]
    assert learn(texts, thresholds=Thresholds(min_docs=10_000)) == []


def test_a_segmenter_that_drops_characters_works_too() -> None:
    def no_spaces(text: str) -> list[str]:
        return [t for t in segment(text) if not t.isspace()]

    texts = [t.replace("。", "。 ") for t in make_corpus()]
    assert {w.word for w in discover(texts, is_word=is_word, segment=no_spaces)} == set(NAMES)


def test_empty_input() -> None:
    assert learn([]) == []
    assert learn(["", "abc 123"]) == []


def test_suggested_frequency_keeps_the_word_whole_in_jieba() -> None:
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    assert tokenizer.lcut("英伟达") == ["英", "伟达"]
    assert tokenizer.suggest_freq("英伟达") == 1  # just enough to win on its own

    def suggest(per_million: float, **kwargs: float) -> int:
        word = LearnedWord("英伟达", 100, 10, 20.0, 6.0, 3.0, 3.0, per_million)
        frequency = tokenizer.FREQ.get
        return suggested_frequency(
            word,
            segment=tokenizer.lcut,
            frequency=lambda t: frequency(t, 0),
            total=tokenizer.total,
            **kwargs,
        )

    # Rare in the corpus: 100 times the minimum on its own (still 1 here: 英 * 伟达 is
    # rare); frequent: a tenth of its corpus frequency at the dictionary's scale.
    assert suggest(0.001) == 1
    assert suggest(0.001, margin=1e9) > 1
    freq = suggest(120.0)
    assert freq == int(120.0e-6 * tokenizer.total * 0.1)
    tokenizer.add_word("英伟达", freq)
    assert tokenizer.lcut("英伟达") == ["英伟达"]
    assert "英伟达" in tokenizer.lcut("美国对英伟达芯片的出口")


@pytest.mark.corpus
def test_news_names_are_learned_from_the_shared_corpus() -> None:
    if not (SHARED_CORPUS / "news-hugo").is_dir() or not (SHARED_CORPUS / "news-txt").is_dir():
        pytest.skip(f"no shared corpus at {SHARED_CORPUS}")
    from bench.newwords import read_corpus, segmenter

    try:
        from searchapp.text.scripts import fold
    except ImportError:  # the package before the restructuring
        from searchapp.scripts import fold  # type: ignore[no-redef, import-not-found]

    texts = [fold(t) for t in read_corpus(SHARED_CORPUS)]
    word_test, cut, _, _ = segmenter()
    learned = {w.word: w for w in discover(texts, is_word=word_test, segment=cut)}
    for word in ("英伟达", "泽连斯基", "比特币"):
        assert word in learned, word
        assert learned[word].count >= 100
    assert not {"伟达", "连斯基", "的中国", "在美国", "美国总统"} & set(learned)


def test_a_function_character_bound_to_the_rest_of_the_word_is_part_of_it() -> None:
    # 璐珈 occurs only before 和 (碳中和): the word is 璐珈和 although 和 is a function
    # character. 中国 occurs freely, so 中国和 (as frequent) is a phrase.
    extra = ("中国和美国合作。", "中国和日本讨论。", "中国和政府的经济。")
    texts = [t.replace("璐珈朵", "璐珈和") for t in make_corpus(extra=extra)]
    joined = "".join(texts)
    assert joined.count("中国和") > joined.count("璐珈和") >= 30
    learned = {w.word: w for w in learn(texts)}
    assert set(learned) == {"璐珈和", "魁斯拉德"}
    assert learned["璐珈和"].count == joined.count("璐珈和")


def test_a_bound_particle_or_a_preposition_before_words_is_not_part_of_a_word() -> None:
    # 璐珈 is always followed by 的, and 学校医院 always after 向: bound, but a particle
    # closes a phrase, and a preposition before known words is not part of them.
    texts = [
        t.replace("璐珈朵", "璐珈的") + f"{SUBJECTS[i % 10]}向学校医院{VERBS[i * 3 % 10]}。"
        for i, t in enumerate(make_corpus())
    ]
    assert "".join(texts).count("向学校医院") >= 100
    found = _candidates(texts, is_word, segment, 10, 6, Thresholds())
    reasons = {cand.word: cand.reason for cand in found}
    assert reasons["向学校医院"] == "function"  # free at both ends, bound, but a phrase
    assert reasons["璐珈的"] == "shape"
    assert {w.word for w in learn(texts)} == {"魁斯拉德"}


def test_a_title_inside_a_string_makes_it_a_phrase() -> None:
    # 璐珈 always follows 美国总统 (印度总理莫迪): not free on its left, and 日本总统璐珈,
    # free and bound, is a title with a name.
    texts = [t.replace("璐珈朵", "日本总统璐珈") for t in make_corpus()]
    reasons = {c.word: c.reason for c in _candidates(texts, is_word, segment, 10, 6, Thresholds())}
    assert reasons["日本总统璐珈"] == "phrase"
    assert reasons["璐珈"] == "entropy"
    assert {w.word for w in learn(texts)} == {"魁斯拉德"}


@pytest.mark.parametrize(
    ("word", "tokens", "binding", "reason"),
    [
        ("尚不清楚", ("尚", "不", "清楚"), 0.58, "function"),  # a negation inside
        ("实现这一目标", ("实现", "这一", "目标"), 0.68, "function"),  # a demonstrative
        ("增收不增利", ("增收", "不", "增利"), 0.96, None),  # a set phrase: bound
        ("研究院副院长", ("研究院", "副", "院长"), 0.62, "phrase"),  # a title
        ("官房副长官", ("官房", "副", "长官"), 1.0, None),
    ],
)
def test_negations_demonstratives_and_titles_in_the_cut(
    word: str, tokens: tuple[str, ...], binding: float, reason: str | None
) -> None:
    cand = _Candidate(word, 0, 50, 5.0, 6.0, binding, tokens=tokens)
    assert _token_reason(cand, lambda s: len(s) > 1, Thresholds()) == reason
