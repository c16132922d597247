"""The analyzer: segmentation, positions, offsets, folding, stemming, user dictionary."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchapp.backends.whoosh.tokenizer import ChineseTokenizer, Pretokenized
from searchapp.text import analysis, scripts
from searchapp.text.analysis import Analyzer

ANALYZER = Analyzer()
query_terms = ANALYZER.query_terms


def index_tokens(text: str) -> list[tuple[str, int, int, int]]:
    return [(t.text, t.pos, t.start, t.end) for t in ANALYZER.tokenize(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        # precise mode for queries: one word stays one word
        ("马克思", ["马克思"]),
        ("人工智能开源模型", ["人工智能", "开源", "模型"]),
        # English words stay whole, are lowercased and stemmed; digits and letters kept
        ("DeepSeek-R1", ["deepseek", "r1"]),
        ("GPT-o1 models running", ["gpt", "o1", "model", "run"]),
        ("3个 AI", ["3", "个", "ai"]),
        # full width folds to ASCII
        ("Ｐｙｔｈｏｎ３", ["python3"]),
        # traditional folds to simplified
        ("習近平", ["习近平"]),
        ("黃仁勳", ["黄仁勋"]),
        # punctuation and spaces are not terms
        ("（）。，！ ", []),
        ("", []),
    ],
)
def test_query_terms(text: str, expected: list[str]) -> None:
    assert query_terms(text) == expected


def test_search_mode_adds_subwords_at_the_same_position() -> None:
    assert index_tokens("人工智能开源") == [
        ("人工", 0, 0, 2),
        ("智能", 0, 2, 4),
        ("人工智能", 0, 0, 4),
        ("开源", 1, 4, 6),
    ]


def test_positions_skip_punctuation_without_gaps() -> None:
    toks = index_tokens("开源，模型")
    assert [(t, p) for t, p, _, _ in toks] == [("开源", 0), ("模型", 1)]


def test_offsets_point_into_the_original_text() -> None:
    text = "他說：人工智慧軟體與ＤｅｅｐＳｅｅｋ。"
    spans = {w: text[s:e] for w, _, s, e in index_tokens(text)}
    assert spans["deepseek"] == "ＤｅｅｐＳｅｅｋ"
    assert spans["人工智慧"] == "人工智慧"
    assert spans["软体"] == "軟體"


def test_fold_keeps_length_and_maps_scripts() -> None:
    text = "習近平 軟體 Ｐｙｔｈｏｎ　ABC 著名 乾隆"
    folded = scripts.fold(text)
    assert len(folded) == len(text)
    assert folded == "习近平 软体 python abc 著名 乾隆"


def test_detect_script() -> None:
    assert scripts.detect_script("中國年輕球員明年加盟法甲球會") == "hant"
    assert scripts.detect_script("中国年轻球员明年加盟法甲球会") == "hans"
    assert scripts.detect_script("hello world") == ""


def test_variants_link_taiwan_and_mainland_words() -> None:
    assert "人工智慧" in analysis.variants("人工智能")
    assert "人工智能" in analysis.variants("人工智慧")
    assert "软件" in analysis.variants(query_terms("軟體")[0])


def test_tokenizer_replays_pretokenized_values() -> None:
    tok = ChineseTokenizer()
    value = Pretokenized("ab", [("x", 0, 0, 1), ("y", 1, 1, 2)])
    out = [(t.text, t.pos, t.startchar, t.endchar) for t in tok(value, positions=True, chars=True)]
    assert out == [("x", 0, 0, 1), ("y", 1, 1, 2)]


def test_the_whoosh_tokenizer_never_segments_on_its_own() -> None:
    with pytest.raises(TypeError, match="Pretokenized"):
        list(ChineseTokenizer()("人工智能"))


def test_user_dictionary_changes_segmentation_and_fingerprint() -> None:
    assert query_terms("蝴蝶鲸鱼模型") != ["蝴蝶鲸鱼", "模型"]
    custom = Analyzer("蝴蝶鲸鱼 100 n\n".encode())
    assert custom.query_terms("蝴蝶鲸鱼模型") == ["蝴蝶鲸鱼", "模型"]
    assert custom.fingerprint != ANALYZER.fingerprint
    # Two configurations live side by side: the default one is unchanged.
    assert query_terms("蝴蝶鲸鱼模型") != ["蝴蝶鲸鱼", "模型"]


def test_learned_words_join_the_dictionary_and_a_user_line_bans_one() -> None:
    learned = [("鲸鱼蝴蝶", 200)]
    assert Analyzer(b"", learned).query_terms("鲸鱼蝴蝶来了") == ["鲸鱼蝴蝶", "来", "了"]
    banned = Analyzer("-鲸鱼蝴蝶\n".encode(), learned)
    assert banned.query_terms("鲸鱼蝴蝶来了") != ["鲸鱼蝴蝶", "来", "了"]
    assert banned.banned() == {"鲸鱼蝴蝶"}
    assert len({Analyzer().fingerprint, Analyzer(b"", learned).fingerprint}) == 2


def test_an_analyzer_survives_pickling_for_worker_processes() -> None:
    import pickle

    custom = Analyzer("蝴蝶鲸鱼 100 n\n".encode())
    again = pickle.loads(pickle.dumps(custom))
    assert again.fingerprint == custom.fingerprint
    assert again.query_terms("蝴蝶鲸鱼模型") == ["蝴蝶鲸鱼", "模型"]


def test_block_pattern_is_jiebas() -> None:
    import jieba

    assert analysis._BLOCK.pattern == jieba.re_han_default.pattern


SEARCH_ONLY = """
import sys
from pathlib import Path
from searchapp.text.analysis import Analyzer
analyzer = Analyzer.from_file(Path(sys.argv[1]))
plain = analyzer.query_terms("人工智能开源模型 DeepSeek 軟體")
symbols = analyzer.query_terms("deepseek-r1 增长 3.5% www.qq.com")
indexed = [t[0] for t in analyzer.tokens("人工智能开源模型")]
print(plain, symbols, indexed)
print("jieba" in sys.modules)
"""


def test_a_process_with_the_cache_never_loads_jieba(tmp_path: Path) -> None:
    """rjieba with the cached word list answers queries and makes the sub-words of
    indexing; jieba's own dictionary is loaded once per machine, to make the cache."""
    import subprocess
    import sys

    userdict = tmp_path / "userdict.txt"
    userdict.write_text("开源模型 50000\n", encoding="utf-8")
    root = Path(__file__).resolve().parent.parent

    def run() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", SEARCH_ONLY, str(userdict)],
            capture_output=True,
            text=True,
            cwd=root,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    first = run()  # may load jieba to make the cache (on a fresh machine)
    second = run()
    tokens = (
        "['人工智能', '开源模型', 'deepseek', '软体'] "
        "['deepseek', 'r1', '增长', '3.5%', 'www', 'qq', 'com'] "
        "['人工', '智能', '人工智能', '开源', '模型', '开源模型']"
    )
    assert first[0] == second[0] == tokens
    assert second[1] == "False"


SIDE_TABLES = """
from searchapp.text import analysis
analyzer = analysis.Analyzer()
assert analyzer.fast
analysis.ensure_jieba()
freq = analysis.jieba.dt.FREQ
print(analyzer._grams == {w for w, n in freq.items() if n and 2 <= len(w) <= 3})
print(sorted(analyzer._symbols))
"""


def test_the_cached_tables_are_jiebas_dictionary() -> None:
    """The sub-word table rjieba uses is jieba's own 2- and 3-character words."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", SIDE_TABLES],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["True", "['AT&T', 'C#', 'C++', 'c#', 'c++', 'γ射线']"]
