"""Where the benchmark's documents come from.

* ``hugo+txt``: ``../shared/corpus/news-hugo`` and ``news-txt``, copied into a work folder
  (our indexer reads a folder, does not follow symlinked folders, and the incremental test
  modifies a file), then read with :func:`searchapp.documents.load_corpus`.
* ``68k``: ``news-68k.jsonl.gz`` turned straight into :class:`Document` values
  (title = first sentence, at most 40 characters; id = the JSON id).
* ``68k-files``: the same articles written out as a folder of ``.txt`` files, for what
  needs a folder (a rebuild that reads files, the incremental update).
* ``dir:PATH``: any corpus folder (the smoke test uses a tiny one).
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from searchapp.config import PROJECT_ROOT
from searchapp.documents import Document, Skipped, iter_corpus_files, load_corpus

SHARED = PROJECT_ROOT.parent / "shared"
SHARED_CORPUS = SHARED / "corpus"
FOLDERS = {"hugo+txt": ("news-hugo", "news-txt")}
NEWS_68K = SHARED_CORPUS / "news-68k.jsonl.gz"
TITLE_CHARS = 40
_SENTENCE_END = re.compile(r"[。！？!?\n]")


def is_folder_corpus(spec: str) -> bool:
    """True when the corpus is a folder our indexer can rebuild/update from."""
    return spec in FOLDERS or spec == "68k-files" or spec.startswith("dir:")


def explode_68k(dest: Path, limit: int | None = None) -> Path:
    """``news-68k.jsonl.gz`` as a folder of plain-text articles, ``<YYYY-MM>/<id>.txt``:
    the title line, a ``来源:`` line with the date, the text (what ``iter_68k`` gives,
    read back by our loader). An existing copy with the same number of files is reused."""
    docs = list(iter_68k(limit=limit))
    marker = dest / ".bench-files"
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == str(len(docs)):
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    for doc in docs:
        folder = dest / (f"{doc.date:%Y-%m}" if doc.date else "undated")
        folder.mkdir(parents=True, exist_ok=True)
        when = f" {doc.date:%Y年%m月%d日 %H时%M分}" if doc.date else ""
        text = f"{doc.title}\n来源:news-68k{when}\n\n{doc.body}\n"
        (folder / f"{doc.id}.txt").write_text(text, encoding="utf-8")
    marker.write_text(str(len(docs)), encoding="utf-8")
    return dest


def prepare_folder(spec: str, dest: Path, limit: int | None = None) -> Path:
    """Copy the articles of a folder corpus into ``dest`` (every n-th file when ``limit``).

    Returns ``dest``. An existing copy with the same number of files is reused.
    """
    if spec == "68k-files":
        return explode_68k(dest, limit)
    if spec.startswith("dir:"):
        sources = [Path(spec[4:])]
        names = [None]
    else:
        sources = [SHARED_CORPUS / name for name in FOLDERS[spec]]
        names = list(FOLDERS[spec])
    files: list[tuple[Path, Path]] = []
    for src, name in zip(sources, names, strict=True):
        if not src.is_dir():
            raise FileNotFoundError(f"corpus folder not found: {src}")
        for path in iter_corpus_files(src):
            rel = path.relative_to(src)
            files.append((path, rel if name is None else Path(name) / rel))
    if limit and len(files) > limit:
        step = len(files) / limit
        files = [files[int(i * step)] for i in range(limit)]
    marker = dest / ".bench-files"
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == str(len(files)):
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    for src, rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    for extra in ("userdict.txt", "synonyms.txt"):
        if spec.startswith("dir:") and (sources[0] / extra).is_file():
            shutil.copy2(sources[0] / extra, dest / extra)
    marker.write_text(str(len(files)), encoding="utf-8")
    return dest


def first_sentence(text: str, limit: int = TITLE_CHARS) -> str:
    """The text up to the first sentence end, at most ``limit`` characters."""
    text = text.strip()
    m = _SENTENCE_END.search(text)
    head = text[: m.start()] if m else text
    return head[:limit].strip()


def iter_68k(path: Path = NEWS_68K, limit: int | None = None) -> Iterator[Document]:
    """Documents from the 68k JSON-lines dump (id = JSON id, title = first sentence)."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if limit is not None and n >= limit:
                return
            obj = json.loads(line)
            text = obj.get("text") or ""
            try:
                date = datetime.fromisoformat(obj["date"]) if obj.get("date") else None
            except ValueError:
                date = None
            yield Document(
                id=str(obj["id"]),
                title=first_sentence(text),
                body=text,
                date=date,
                size=len(text.encode("utf-8")),
            )


def load_docs(spec: str, folder: Path | None = None, limit: int | None = None) -> list[Document]:
    """All documents of a corpus, in the form every engine indexes.

    For folder corpora pass the prepared ``folder`` (ids are relative to it, as in ours).
    """
    if spec == "68k":
        return list(iter_68k(limit=limit))
    if folder is None:
        raise ValueError("a folder corpus needs its prepared folder")
    return [d for d in load_corpus(folder) if not isinstance(d, Skipped)]
