"""What every backend's indexer shares: build statistics, progress, and preparing an
article (loading and segmenting it, the costly part, done in worker processes).

The writing itself is the backend's (``Backend.rebuild`` / ``Backend.update``); the shells
reach it through :class:`searchapp.engine.Engine`, never through a backend module.
"""

from __future__ import annotations

import ctypes
import functools
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from searchapp import documents
from searchapp.documents import Document, Skipped
from searchapp.fields import TEXT_FIELDS
from searchapp.text import newwords, scripts
from searchapp.text.analysis import Analyzer

#: Called with (done, total) as files are processed; total may be 0 when unknown.
Progress = Callable[[int, int], None]

#: An article with the tokens (term, position, start, end) of each full-text field.
Prepared = tuple[Document, dict[str, tuple[tuple[str, int, int, int], ...]]]


@dataclass
class BuildStats:
    """What a rebuild or update did."""

    mode: str
    indexed: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    total: int = 0
    seconds: float = 0.0
    #: words learned from the corpus by this build (rebuild only)
    learned: int = 0

    @property
    def changed(self) -> bool:
        """True if the index was modified."""
        return bool(self.indexed or self.deleted)

    def summary(self) -> str:
        """One line for people."""
        if self.mode == "update" and not self.changed:
            head = f"index is up to date ({self.unchanged} unchanged)"
        else:
            head = f"{self.indexed} indexed"
            if self.mode == "update":
                head += f", {self.deleted} deleted, {self.unchanged} unchanged"
        return (
            f"{self.mode}: {head}, {len(self.skipped)} skipped; "
            f"{self.total} documents in the index ({self.seconds:.1f} s)"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "mode": self.mode,
            "indexed": self.indexed,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "skipped": [{"id": s.id, "reason": s.reason} for s in self.skipped],
            "warnings": [{"id": i, "warning": w} for i, w in self.warnings],
            "total": self.total,
            "seconds": round(self.seconds, 3),
            "learned": self.learned,
        }


def prepare_document(analyzer: Analyzer, doc: Document) -> Prepared:
    """Segment a document's full-text fields (the expensive part of indexing)."""
    return doc, {name: tuple(analyzer.tokens(getattr(doc, name))) for name in TEXT_FIELDS}


def prepare_path(analyzer: Analyzer, args: tuple[str, str, int]) -> Prepared | Skipped:
    """Load and segment the file ``args`` = (path, corpus root, size limit); a file that
    cannot be read is a :class:`Skipped` with the reason, never an exception."""
    loaded = load_path(args)
    return loaded if isinstance(loaded, Skipped) else prepare_document(analyzer, loaded)


def load_path(args: tuple[str, str, int]) -> Document | Skipped:
    """Load the file ``args`` = (path, corpus root, size limit), or say why it is skipped."""
    path, root, max_bytes = args
    try:
        return documents.load_document(Path(path), Path(root), max_bytes=max_bytes)
    except documents.DocumentError as exc:
        return Skipped(rel_id(Path(path), Path(root)), exc.reason)
    except Exception as exc:  # a loader bug must not lose the whole rebuild
        return Skipped(rel_id(Path(path), Path(root)), f"unexpected error: {exc!r}")


def rel_id(path: Path, root: Path) -> str:
    """A file's document id: its path below the corpus folder."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def fingerprint(doc: Document) -> str:
    """What ``update`` compares: modification time, size and content checksum."""
    return f"{doc.mtime:.6f}:{doc.size}:{doc.checksum}"


# -- words the dictionary does not know ----------------------------------------------------

#: A word must occur this often in the corpus to be learned.
LEARN_MIN_COUNT = 10


@dataclass(frozen=True)
class Learned:
    """What a rebuild learned: the analyzer with the words, and each word's statistics
    (for ``python -m searchapp words``)."""

    analyzer: Analyzer
    words: tuple[dict[str, Any], ...]


def _folded(doc: Document) -> str:
    return scripts.fold(f"{doc.title}\n{doc.summary}\n{doc.body}")


def texts_of_documents(docs: Iterable[Document]) -> list[str]:
    """The folded text of documents given directly."""
    return [_folded(d) for d in docs]


def learn_words(texts: Iterable[str], analyzer: Analyzer) -> Learned:
    """New words of ``texts`` (folded article texts) joined to ``analyzer``: unsupervised
    discovery (:mod:`searchapp.text.newwords`) against its dictionary, each word added
    with a frequency that keeps it whole in context; words the user dictionary bans
    (``-词语``) are left out."""
    is_word, frequency, total = analyzer.dictionary()

    def segment(text: str) -> list[str]:
        return [word for word, _, _ in analyzer.segment(text)]

    found = newwords.discover(texts, is_word=is_word, segment=segment, min_count=LEARN_MIN_COUNT)
    banned = analyzer.banned()
    kept = [w for w in found if w.word not in banned]
    freqs = [
        newwords.suggested_frequency(w, segment=segment, frequency=frequency, total=total)
        for w in kept
    ]
    stats = tuple({**asdict(w), "frequency": f} for w, f in zip(kept, freqs, strict=True))
    return Learned(
        analyzer.with_learned([(w.word, f) for w, f in zip(kept, freqs, strict=True)]), stats
    )


def corpus_paths(corpus_dir: Path, max_bytes: int, stats: BuildStats) -> list[tuple[str, str, int]]:
    """Every article file under ``corpus_dir`` as ``prepare_path`` arguments; what cannot
    be walked (a symlinked folder, a folder that cannot be listed) goes to ``stats``."""
    paths = []
    for doc_id, path, reason in documents.walk_corpus(corpus_dir):
        if reason is None:
            paths.append((str(path), str(corpus_dir), max_bytes))
        else:
            stats.skipped.append(Skipped(doc_id, reason))
    return paths


@dataclass(frozen=True)
class RebuildPlan:
    """What a rebuild's workers do, for any backend: ``func`` prepares each of ``items``
    with ``analyzer`` (the learned words joined), ``weight`` (when not None) says how
    much work an item is."""

    analyzer: Analyzer
    words: tuple[dict[str, Any], ...]
    func: Callable[[Any], Prepared | Skipped]
    items: Sequence[Any]
    weight: Callable[[Any], int] | None = None


def plan_rebuild(
    paths: Sequence[tuple[str, str, int]],
    analyzer: Analyzer,
    procs: int | None,
    learn: bool,
    spool: Path,
) -> RebuildPlan:
    """Without ``learn``, the workers load and segment each file. With it, the new words
    are learned first (:func:`learn_and_spool`, which keeps the loaded articles in the
    file ``spool``), and the workers only segment the spooled articles with them. The
    caller removes ``spool`` when the rebuild ends."""
    if not learn:
        return RebuildPlan(analyzer, (), functools.partial(prepare_path, analyzer), paths)
    n_procs = procs or default_procs(len(paths))
    learned, spooled = learn_and_spool(paths, n_procs, analyzer, spool)
    learned.analyzer.segment("")  # set the segmenter up once, before the workers fork
    return RebuildPlan(
        learned.analyzer,
        learned.words,
        functools.partial(prepare_spooled, learned.analyzer, spooled),
        range(len(paths)),
        spooled.size,
    )


def learn_apart(texts: Callable[[], Iterable[str]], analyzer: Analyzer) -> Learned:
    """:func:`learn_words` over ``texts()``, run in a child process of its own.

    Reading every article and counting its n-grams takes a few hundred MB to a GB (news-68k)
    that Python would keep in the rebuilding process, and its indexing workers, forked
    from it, would start with: in a child, that memory goes back to the system as soon as
    the words are known. Only the words and their statistics come back.
    """
    learned, _ = _in_child(lambda: (texts(), None), analyzer)
    return learned


def learn_and_spool(
    items: Sequence[tuple[str, str, int]], procs: int, analyzer: Analyzer, spool: Path
) -> tuple[Learned, Spool]:
    """Read every file (``prepare_path`` arguments) once, in a child process: learn the
    new words from their text (:func:`learn_apart`), and keep the loaded articles in the
    file ``spool`` for the indexing pass, which then only segments them (parsing the
    articles is a third of a rebuild's work; they were read twice)."""
    learned, offsets = _in_child(lambda: _read_and_spool(items, procs, spool), analyzer)
    return learned, Spool(spool, offsets)


@dataclass(frozen=True)
class Spool:
    """Articles loaded once and pickled to a file, by item number."""

    path: Path
    offsets: list[int]

    def get(self, i: int) -> Document | Skipped:
        """Item ``i``: the article, or why it was skipped."""
        start, end = self.offsets[i], self.offsets[i + 1]
        with open(self.path, "rb") as fh:
            fh.seek(start)
            loaded = pickle.loads(fh.read(end - start))
        if not isinstance(loaded, Document | Skipped):
            raise TypeError("not an article in the spool")
        return loaded

    def size(self, i: int) -> int:
        """How many bytes item ``i`` takes (its weight when shares are made)."""
        return self.offsets[i + 1] - self.offsets[i]


def prepare_spooled(analyzer: Analyzer, spool: Spool, i: int) -> Prepared | Skipped:
    """Segment item ``i`` of ``spool`` (``prepare_path`` without reading the file again)."""
    loaded = spool.get(i)
    return loaded if isinstance(loaded, Skipped) else prepare_document(analyzer, loaded)


def _read_one(args: tuple[str, str, int]) -> tuple[str, bytes]:
    loaded = load_path(args)
    text = "" if isinstance(loaded, Skipped) else _folded(loaded)
    return text, pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL)


def _read_and_spool(
    items: Sequence[tuple[str, str, int]], procs: int, spool: Path
) -> tuple[list[str], list[int]]:
    texts: list[str] = []
    offsets = [0]
    with open(spool, "wb") as out:

        def take(results: Iterable[tuple[str, bytes]]) -> None:
            for text, data in results:
                texts.append(text)
                out.write(data)
                offsets.append(offsets[-1] + len(data))

        if procs <= 1 or len(items) < 200:
            take(map(_read_one, items))
        else:
            with get_context("fork").Pool(procs) as pool:
                take(pool.imap(_read_one, items, chunksize=64))
    return texts, offsets


def _in_child(
    job: Callable[[], tuple[Iterable[str], Any]], analyzer: Analyzer
) -> tuple[Learned, Any]:
    """Run ``job`` (texts to learn from, and anything else to send back) and
    :func:`learn_words` in a child process; return what was learned and the rest."""
    ctx = get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_learn_child, args=(job, analyzer, send), daemon=False)
    child.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        result = None
    finally:
        receive.close()
        child.join()
    if not isinstance(result, tuple):
        detail = result if isinstance(result, str) else f"exit code {child.exitcode}"
        raise RuntimeError(f"learning new words failed: {detail}")
    pairs, words, rest = result
    return Learned(analyzer.with_learned(pairs), words), rest


def _learn_child(
    job: Callable[[], tuple[Iterable[str], Any]], analyzer: Analyzer, send: Any
) -> None:
    die_with_parent()
    try:
        texts, rest = job()
        learned = learn_words(texts, analyzer)
        pairs = [(w["word"], w["frequency"]) for w in learned.words]
        send.send((pairs, learned.words, rest))
    except BaseException:
        send.send(traceback.format_exc())
    finally:
        send.close()


def die_with_parent() -> None:
    """Ask Linux to kill this process if its parent dies (a ``kill -9`` of a rebuild)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent's liveness is polled too
        pass


def default_procs(n_items: int) -> int:
    """Worker processes for ``n_items`` files: one per core (at most two) from a few
    hundred files on."""
    return min(2, os.cpu_count() or 1) if n_items >= 400 else 1


def plan_update(
    corpus_dir: Path,
    indexed: dict[str, str],
    analyzer: Analyzer,
    stats: BuildStats,
    progress: Progress | None = None,
    max_bytes: int = documents.DEFAULT_MAX_BYTES,
) -> tuple[list[Prepared], list[str]]:
    """What an ``update`` must write and delete, for any backend: the articles of
    ``corpus_dir`` added or changed since the index's ``indexed`` fingerprints (id ->
    :func:`fingerprint`), prepared with ``analyzer``, and the ids to delete. A file whose
    modification time and size are unchanged is not read; one whose content checksum is
    unchanged is not re-indexed. Counts unchanged files, skips and warnings in ``stats``."""
    on_disk = documents.corpus_fingerprint(corpus_dir)
    deleted = sorted(set(indexed) - set(on_disk))
    candidates = []
    for doc_id, (mtime, size) in on_disk.items():
        old = indexed.get(doc_id)
        if old is not None:
            old_mtime, old_size, _ = old.split(":", 2)
            if float(old_mtime) == round(mtime, 6) and int(old_size) == size:
                stats.unchanged += 1
                continue
        candidates.append(doc_id)
    to_write: list[Prepared] = []
    for done, doc_id in enumerate(sorted(candidates), 1):
        item = prepare_path(analyzer, (str(corpus_dir / doc_id), str(corpus_dir), max_bytes))
        if progress:
            progress(done, len(candidates))
        if isinstance(item, Skipped):
            stats.skipped.append(item)
            if doc_id in indexed:
                deleted.append(doc_id)  # it was good before; do not keep a stale copy
            continue
        old = indexed.get(doc_id)
        if old is not None and old.split(":", 2)[2] == item[0].checksum:
            stats.unchanged += 1
            continue
        stats.warnings.extend((doc_id, w) for w in item[0].warnings)
        to_write.append(item)
    return to_write, deleted
