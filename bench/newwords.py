"""New-word discovery on the real corpus: speed, what it learns, recall on known terms.

    python -m bench.newwords [--sample 200] [--seed 7] [--sample-out FILE] [--all-out FILE]
                             [--top 100] [--min-count N] [--memory]

Reads ``../shared/corpus/news-hugo`` (title + body, without the rest of the front matter)
and ``news-txt`` (without the ``来源:`` line), folds them as the index does, and runs
:func:`searchapp.text.newwords.discover` with jieba's default dictionary as ``is_word`` and
rjieba (jieba's algorithm and dictionary in Rust; pure-Python jieba without it) as
``segment``. Prints the time discovery takes (wall and CPU; reading, folding and loading
jieba apart), how many words it learned, the top ones, which of ``bench/newword_terms.txt``
it learned, and how often the learned words stay whole in context once added to the
segmenter with :func:`suggested_frequency`. Writes a seeded random sample of the learned
words, each with a line of context, for judging by hand (and every word with
``--all-out``). ``--memory`` runs discovery once more under ``tracemalloc`` (slower) for
its peak allocation.
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path

from searchapp.text.newwords import LearnedWord, discover, suggested_frequency

try:
    from searchapp.text.scripts import fold
except ImportError:  # the package before the restructuring
    from searchapp.scripts import fold  # type: ignore[no-redef, import-not-found]

ROOT = Path(__file__).resolve().parent.parent
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
TERMS = Path(__file__).resolve().parent / "newword_terms.txt"
_TITLE = re.compile(r'^title:\s*"?(.*?)"?\s*$', re.M)
_SOURCE_LINE = re.compile(r"^[来來]源")


def read_corpus(base: Path = SHARED_CORPUS) -> list[str]:
    """The articles of news-hugo and news-txt as text (unfolded), in a fixed order."""
    texts = []
    for path in sorted((base / "news-hugo").rglob("*.md")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.startswith("---"):
            end = text.find("\n---", 3)
            if end > 0:
                title = _TITLE.search(text[3:end])
                text = (title.group(1) + "\n" if title else "") + text[end + 4 :]
        texts.append(text)
    for path in sorted((base / "news-txt").rglob("*.txt")):
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
        if len(lines) > 1 and _SOURCE_LINE.match(lines[1]):
            del lines[1]
        texts.append("\n".join(lines))
    return texts


def segmenter() -> tuple[
    Callable[[str], bool], Callable[[str], Sequence[str]], Callable[[str], int], int
]:
    """(is_word, segment, frequency, total) of jieba's default dictionary."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    freq = jieba.dt.FREQ
    try:
        import rjieba

        def segment(text: str) -> Sequence[str]:
            return rjieba.cut(text)
    except ImportError:

        def segment(text: str) -> Sequence[str]:
            return jieba.lcut(text)

    return (lambda s: bool(freq.get(s))), segment, (lambda s: freq.get(s) or 0), jieba.dt.total


def read_terms(path: Path = TERMS) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def context(texts: list[str], word: str, width: int = 14) -> str:
    for text in texts:
        at = text.find(word)
        if at >= 0:
            snippet = text[max(at - width, 0) : at + len(word) + width]
            return snippet.replace("\n", " ").replace(word, f"[{word}]", 1)
    return ""


def kept_whole(
    texts: list[str], words: list[LearnedWord], freqs: list[int], per_word: int = 30
) -> tuple[float, int]:
    """Share of (up to ``per_word``) occurrences of each word that the segmenter, with the
    learned words added at ``freqs``, keeps as one token in its context (10 characters
    each side)."""
    try:
        import rjieba

        fast = rjieba.Jieba()
        for w, f in zip(words, freqs, strict=True):
            fast.add_word(w.word, f, None)
        cut: Callable[[str], Sequence[str]] = fast.cut
    except ImportError:
        import jieba

        tokenizer = jieba.Tokenizer()
        for w, f in zip(words, freqs, strict=True):
            tokenizer.add_word(w.word, f)
        cut = tokenizer.lcut
    joined = "\x00".join(texts)
    rng = random.Random(1)
    whole = total = 0
    for w in words:
        starts = [m.start() for m in re.finditer(re.escape(w.word), joined)]
        for p in rng.sample(starts, min(per_word, len(starts))):
            lo = max(p - 10, 0)
            at = 0
            for token in cut(joined[lo : p + len(w.word) + 10]):
                if at == p - lo:
                    whole += token == w.word
                    break
                at += len(token)
            total += 1
    return whole / max(total, 1), total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sample", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--top", type=int, default=100)
    ap.add_argument("--sample-out", type=Path, default=Path("/tmp/newwords-sample.tsv"))
    ap.add_argument("--all-out", type=Path, default=None, help="write every learned word")
    ap.add_argument("--min-count", type=int, default=None)
    ap.add_argument("--memory", action="store_true", help="measure the peak allocation")
    args = ap.parse_args(argv)
    if not (SHARED_CORPUS / "news-hugo").is_dir():
        print(f"no corpus at {SHARED_CORPUS}", file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    texts = [fold(t) for t in read_corpus()]
    t1 = time.perf_counter()
    is_word, segment, frequency, total = segmenter()
    segment("预热")
    t2 = time.perf_counter()
    c2 = time.process_time()
    extra = {} if args.min_count is None else {"min_count": args.min_count}
    words = discover(texts, is_word=is_word, segment=segment, **extra)
    t3 = time.perf_counter()
    c3 = time.process_time()
    chars = sum(map(len, texts))
    print(f"corpus: {len(texts)} texts, {chars / 1e6:.1f}M characters")
    print(f"read + fold {t1 - t0:.1f}s, load jieba {t2 - t1:.1f}s (not counted)")
    print(f"discover: {t3 - t2:.2f}s wall, {c3 - c2:.2f}s CPU")
    if args.memory:
        tracemalloc.start()
        discover(texts, is_word=is_word, segment=segment, **extra)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"discover: peak allocation {peak / 2**20:.0f} MiB")
    print(f"learned: {len(words)} words")

    freqs = [
        suggested_frequency(w, segment=segment, frequency=frequency, total=total) for w in words
    ]
    share, sampled = kept_whole(texts, words, freqs)
    print(f"kept whole in context once added: {share:.1%} of {sampled} sampled occurrences")

    print(f"\ntop {args.top}: count, docs, score = cohesion x min(left, right entropy), freq")
    for i, (w, f) in enumerate(zip(words[: args.top], freqs, strict=False), 1):
        print(
            f"{i:3d} {w.word}\t{w.count}\t{w.docs}\t{w.score:.2f} = {w.cohesion:.2f} x "
            f"min({w.left_entropy:.2f}, {w.right_entropy:.2f})\t{f}"
        )

    learned = {w.word for w in words}
    terms = read_terms()
    misses = [t for t in terms if t not in learned]
    print(f"\nbench terms learned: {len(terms) - len(misses)}/{len(terms)}")
    if misses:
        print("missed: " + " ".join(misses))

    rng = random.Random(args.seed)
    sample = rng.sample(words, min(args.sample, len(words)))
    with open(args.sample_out, "w", encoding="utf-8") as fh:
        fh.write("word\tcount\tdocs\tscore\tcontext\n")
        for w in sorted(sample, key=lambda w: (-w.count, w.word)):
            fh.write(f"{w.word}\t{w.count}\t{w.docs}\t{w.score:.2f}\t{context(texts, w.word)}\n")
    print(f"\nrandom sample of {len(sample)} (seed {args.seed}) written to {args.sample_out}")
    if args.all_out:
        with open(args.all_out, "w", encoding="utf-8") as fh:
            for w, f in zip(words, freqs, strict=True):
                fh.write(
                    f"{w.word}\t{w.count}\t{w.docs}\t{w.score:.2f}\t{w.cohesion:.2f}\t"
                    f"{w.left_entropy:.2f}\t{w.right_entropy:.2f}\t{f}\n"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
