"""Draw the benchmark queries from the shared corpus titles (run once; the output is
committed as ``bench/queries.txt`` after a hand check).

    python -m bench.make_queries > bench/queries.txt

Categories: frequent single title words, space-less multi-word Chinese (adjacent title
words glued together), English names, quoted phrases, traditional-script words, and two
words separated by a space. Deterministic: the same corpus gives the same list.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import jieba

from bench.corpus import SHARED_CORPUS
from searchapp.text.scripts import _t2s_chars

_CJK = re.compile(r"^[\u4e00-\u9fff]+$")
_ENGLISH = re.compile(r"^[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9]$")
_TITLE_LINE = re.compile(r"^title:\s*['\"]?(.*?)['\"]?\s*$")
# Frequent title words that make poor queries on their own.
_DULL = set(
    "中国 美国 表示 宣布 发布 公司 今年 明年 成为 进行 可能 没有 需要 已经 我们 他们 这个 "
    "一个 如何 什么 为何 为什么 首次 回应 报告 新闻 消息 最新 正式 全面 继续 推出 举行 相关 "
    "香港 台湾 中國 美國 表示 宣佈 今日 昨日 稱 指 將 與 為 個".split()
)


def _titles(folder: Path) -> list[str]:
    out = []
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".md", ".txt") or not path.is_file():
            continue
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = [next(fh, "") for _ in range(12)]
        if head and head[0].strip() == "---":
            for line in head[1:]:
                m = _TITLE_LINE.match(line.strip())
                if m:
                    out.append(m.group(1))
                    break
        elif head and head[0].strip():
            out.append(head[0].strip())
    return out


def _stride(items: list[str], n: int) -> list[str]:
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def main() -> None:
    jieba.setLogLevel(60)
    t2s = _t2s_chars()
    titles = _titles(SHARED_CORPUS / "news-hugo") + _titles(SHARED_CORPUS / "news-txt")
    words: Counter[str] = Counter()
    trad: Counter[str] = Counter()
    english: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    triples: Counter[tuple[str, str, str]] = Counter()
    for title in titles:
        toks = [w for w in jieba.lcut(title) if w.strip()]
        is_trad = any(c in t2s for c in title)
        for w in set(toks):
            if _ENGLISH.match(w) and len(w) >= 2:
                english[w] += 1
            if not _CJK.match(w) or len(w) < 2 or w in _DULL:
                continue
            if is_trad and any(c in t2s for c in w):
                trad[w] += 1
            elif not is_trad:
                words[w] += 1
        if is_trad:
            continue
        for a, b in zip(toks, toks[1:], strict=False):
            if all(_CJK.match(x) and len(x) >= 2 and x not in _DULL for x in (a, b)):
                pairs[(a, b)] += 1
        for a, b, c in zip(toks, toks[1:], toks[2:], strict=False):
            if all(_CJK.match(x) and len(x) >= 2 for x in (a, b, c)):
                triples[(a, b, c)] += 1

    single = _stride([w for w, n in words.most_common(600) if n >= 5], 60)
    glued = _stride(["".join(p) for p, n in pairs.most_common(300) if n >= 3], 35)
    glued += _stride(["".join(t) for t, n in triples.most_common(60) if n >= 2], 10)
    quoted = _stride([f'"{"".join(p)}"' for p, n in pairs.most_common(400)[1::2] if n >= 3], 25)
    eng = [w for w, n in english.most_common(40) if n >= 5][:25]
    tw = _stride([w for w, n in trad.most_common(300) if n >= 4], 30)
    spaced = _stride([" ".join(p) for p, n in pairs.most_common(500)[2::3] if n >= 2], 20)
    out = sys.stdout
    out.write("# Benchmark queries drawn from ../shared/corpus titles by bench/make_queries.py,\n")
    out.write("# then checked by hand. One query a line; lines starting with # are ignored.\n")
    for name, items in (
        ("single words", single),
        ("space-less multi-word Chinese", glued),
        ("English", eng),
        ("quoted phrases", quoted),
        ("traditional script", tw),
        ("two words with a space", spaced),
    ):
        out.write(f"# -- {name}\n")
        for q in dict.fromkeys(items):
            out.write(q + "\n")


if __name__ == "__main__":
    main()
