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
