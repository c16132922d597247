"""Settings: defaults relative to the project root, overridable by ``SEARCHAPP_*`` variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "CORPUS_DIR": str(PROJECT_ROOT / "corpus"),
    "INDEX_DIR": str(PROJECT_ROOT / "index"),
    "PAGE_SIZE": 10,
}


def env_setting(name: str) -> str:
    """``SEARCHAPP_<name>`` from the environment, else the default, as a string."""
    return os.environ.get(f"SEARCHAPP_{name}") or str(DEFAULTS[name])


def userdict_path(corpus_dir: Path) -> Path | None:
    """The jieba user dictionary kept beside the articles, if there is one."""
    path = Path(corpus_dir) / "userdict.txt"
    return path if path.is_file() else None


def synonyms_path(corpus_dir: Path) -> Path | None:
    """The editable synonym list kept beside the articles, if there is one."""
    path = Path(corpus_dir) / "synonyms.txt"
    return path if path.is_file() else None


class ConfigError(Exception):
    """A setting that cannot work (a missing corpus, an index folder that is a file);
    ``str()`` is one line for people."""


def check_corpus_dir(corpus_dir: Path) -> None:
    """Raise :class:`ConfigError` unless ``corpus_dir`` is a readable folder."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.exists():
        raise ConfigError(f"corpus folder not found: {corpus_dir}")
    if not corpus_dir.is_dir():
        raise ConfigError(f"corpus folder is a file, not a folder: {corpus_dir}")
    if not os.access(corpus_dir, os.R_OK | os.X_OK):
        raise ConfigError(f"corpus folder is not readable: {corpus_dir}")


def check_index_dir(index_dir: Path, *, write: bool = False) -> None:
    """Raise :class:`ConfigError` if ``index_dir`` is a file or, with ``write``, if the
    index cannot be written there (the folder, or the folder that would hold it, is not
    writable or is a file)."""
    index_dir = Path(index_dir)
    if index_dir.exists() and not index_dir.is_dir():
        raise ConfigError(f"index folder is a file, not a folder: {index_dir}")
    if not write:
        return
    existing = Path(os.path.abspath(index_dir))
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing == Path(os.path.abspath(index_dir)):
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ConfigError(f"index folder is not writable: {index_dir}")
        return
    if not existing.is_dir():
        raise ConfigError(f"cannot create the index folder {index_dir}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot create the index folder {index_dir}: {existing} is not writable")
