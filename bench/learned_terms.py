"""Words the dictionary splits, before and after learning: one query term? highlighted whole?

    python -m bench.learned_terms --index BEFORE --index AFTER [--top 10]

For each term of ``bench/newword_terms.txt`` (frequent names and terms of news-hugo +
news-txt that jieba cuts), searches each index and reports whether the query is one term,
and in the top results' titles and snippets how many occurrences of the term are marked
whole (``<mark>英伟达</mark>``) rather than in pieces or not at all; then what typing the
term's first two characters suggests.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from searchapp.config import Settings
from searchapp.engine import open_engine
from searchapp.text import scripts

TERMS = Path(__file__).resolve().parent / "newword_terms.txt"
_MARK = re.compile(r"<mark>(.*?)</mark>")
_TAG = re.compile(r"<[^>]+>")


def terms() -> list[str]:
    """The committed list, comments and blank lines left out."""
    lines = TERMS.read_text(encoding="utf-8").splitlines()
    return [t.split()[0] for t in lines if t.strip() and not t.startswith("#")]


def measure(index: Path, top: int) -> dict[str, tuple[bool, int, int, bool]]:
    """term -> (one query term, occurrences marked whole, occurrences, prefix suggests it)."""
    engine = open_engine(Settings(corpus_dir=index, index_dir=index))
    out = {}
    for term in terms():
        page = engine.search(term, pagelen=top)
        whole = seen = 0
        for hit in page.hits:
            for html in (hit.title_html, hit.snippet_html):
                text = _TAG.sub("", html)
                folded = scripts.fold(text)
                seen += folded.count(term)
                whole += sum(1 for m in _MARK.findall(html) if scripts.fold(m) == term)
        suggested = any(
            scripts.fold(s.text) == term for s in engine.suggest(term[:2]) if s.kind == "term"
        )
        out[term] = (page.terms == (term,), whole, seen, suggested)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, action="append", required=True)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    results = [(index, measure(index, args.top)) for index in args.index]
    print("| index | one query term | marked whole / occurrences in the top results |", end="")
    print(" prefix suggests it |")
    print("|---|---|---|---|")
    for index, found in results:
        one = sum(1 for v in found.values() if v[0])
        whole = sum(v[1] for v in found.values())
        seen = sum(v[2] for v in found.values())
        suggested = sum(1 for v in found.values() if v[3])
        share = whole / seen if seen else 0.0
        n = len(found)
        print(f"| {index} | {one}/{n} | {whole}/{seen} = {share:.1%} | {suggested}/{n} |")
    print()
    names = [str(index.name) for index, _ in results]
    print("| term | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for term in terms():
        cells = []
        for _, found in results:
            one, whole, seen, suggested = found[term]
            note = ", suggested" if suggested else ""
            cells.append(f"{'1 term' if one else 'split'}, {whole}/{seen}{note}")
        print(f"| {term} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
