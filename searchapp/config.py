"""Settings: defaults relative to the project root, overridable by ``SEARCHAPP_*`` variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "CORPUS_DIR": str(PROJECT_ROOT / "corpus"),
    "INDEX_DIR": str(PROJECT_ROOT / "index"),
    "PAGE_SIZE": 10,
    #: "whoosh" (an index folder on this machine) or "opensearch" (a cluster)
    "BACKEND": "whoosh",
    #: one or more node URLs, comma-separated
    "OPENSEARCH_URL": "http://127.0.0.1:9200",
    #: the alias readers search; each rebuild makes a new concrete index behind it
    "OPENSEARCH_INDEX": "searchapp",
    "OPENSEARCH_SHARDS": 1,
    "OPENSEARCH_REPLICAS": 0,
    "OPENSEARCH_USER": "",
    "OPENSEARCH_PASSWORD": "",
    #: a CA bundle to verify the cluster's TLS certificate
    "OPENSEARCH_CA": "",
}
BACKENDS = ("whoosh", "opensearch")


@dataclass(frozen=True)
class Settings:
    """Every setting the engine needs, read once from the app config or the environment."""

    corpus_dir: Path
    index_dir: Path
    page_size: int = 10
    backend: str = "whoosh"
    opensearch_url: str = DEFAULTS["OPENSEARCH_URL"]
    opensearch_index: str = DEFAULTS["OPENSEARCH_INDEX"]
    opensearch_shards: int = 1
    opensearch_replicas: int = 0
    opensearch_user: str = ""
    opensearch_password: str = ""
    opensearch_ca: str = ""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """Settings from a mapping of the :data:`DEFAULTS` names (Flask's app.config);
        missing names take their defaults. Raises :class:`ConfigError` for a value that
        cannot work (an unknown backend, a page size that is not a number)."""

        def get(name: str) -> Any:
            value = values.get(name)
            return DEFAULTS[name] if value is None or value == "" else value

        backend = str(get("BACKEND")).strip().lower()
        if backend not in BACKENDS:
            raise ConfigError(
                f"unknown backend {backend!r} (SEARCHAPP_BACKEND): use one of {', '.join(BACKENDS)}"
            )
        try:
            numbers = {
                name: int(str(get(name)).strip())
                for name in ("PAGE_SIZE", "OPENSEARCH_SHARDS", "OPENSEARCH_REPLICAS")
            }
        except ValueError as exc:
            raise ConfigError(f"a numeric setting is not a number ({exc})") from None
        return cls(
            corpus_dir=Path(get("CORPUS_DIR")),
            index_dir=Path(get("INDEX_DIR")),
            page_size=numbers["PAGE_SIZE"],
            backend=backend,
            opensearch_url=str(get("OPENSEARCH_URL")),
            opensearch_index=str(get("OPENSEARCH_INDEX")),
            opensearch_shards=numbers["OPENSEARCH_SHARDS"],
            opensearch_replicas=numbers["OPENSEARCH_REPLICAS"],
            opensearch_user=str(get("OPENSEARCH_USER")),
            opensearch_password=str(get("OPENSEARCH_PASSWORD")),
            opensearch_ca=str(get("OPENSEARCH_CA")),
        )

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Settings from ``SEARCHAPP_*`` variables, then ``overrides`` (by DEFAULTS name)."""
        values = {name: os.environ.get(f"SEARCHAPP_{name}") for name in DEFAULTS}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_mapping(values)


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
