"""What the engine derives from an index and keeps with it (the suggestion vocabulary).

Kept in the alias's ``<alias>-state`` index, next to the analysis of each concrete index:
the data in base64 parts of :data:`PART_BYTES` (a vocabulary of 68k articles is tens of
megabytes, more than one document should hold), then a manifest naming the generation
it was derived from, how many parts and their checksum. The manifest is written last,
so a reader never loads a half-written save; the parts of the save it replaces are
deleted after it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from opensearchpy import exceptions as os_errors

from searchapp.backends.base import IndexMissing
from searchapp.backends.opensearch import client as osclient

if TYPE_CHECKING:
    from searchapp.backends.opensearch.backend import OpenSearchBackend

#: Raw bytes per part document.
PART_BYTES = 4_000_000


def manifest_id(concrete: str, name: str) -> str:
    """The id of the manifest of ``name`` for the concrete index ``concrete``."""
    return f"derived:{concrete}:{name}"


def part_id(concrete: str, name: str, generation: int, i: int) -> str:
    """The id of part ``i`` of the save of ``name`` made at ``generation``."""
    return f"derived:{concrete}:{name}:{generation}:{i}"


def save(
    backend: OpenSearchBackend,
    index: str,
    concrete: str,
    generation: int,
    name: str,
    data: bytes,
) -> None:
    """Keep ``data``, derived from ``concrete`` at ``generation``, in the state index
    ``index``."""
    client = backend.client
    old = load_manifest(backend, index, concrete, name)
    parts = max(1, -(-len(data) // PART_BYTES))
    with backend.errors():
        for i in range(parts):
            chunk = data[i * PART_BYTES : (i + 1) * PART_BYTES]
            client.index(
                index=index,
                id=part_id(concrete, name, generation, i),
                body={"concrete": concrete, "data": base64.b64encode(chunk).decode("ascii")},
                request_timeout=osclient.WRITE_TIMEOUT,
            )
        client.index(
            index=index,
            id=manifest_id(concrete, name),
            body={
                "concrete": concrete,
                "name": name,
                "generation": generation,
                "parts": parts,
                "bytes": len(data),
                "sha1": hashlib.sha1(data).hexdigest(),
                "saved_at": datetime.now().isoformat(timespec="seconds"),
            },
            refresh=True,
            request_timeout=osclient.WRITE_TIMEOUT,
        )
    if old and int(old.get("generation", -1)) != generation:
        for i in range(int(old.get("parts") or 0)):
            with contextlib.suppress(os_errors.NotFoundError, IndexMissing), backend.errors():
                client.delete(index=index, id=part_id(concrete, name, int(old["generation"]), i))
        with contextlib.suppress(IndexMissing), backend.errors():
            client.indices.refresh(index=index)


def load_manifest(
    backend: OpenSearchBackend, index: str, concrete: str, name: str
) -> dict[str, Any] | None:
    """The manifest of the last save of ``name`` for ``concrete``, or None."""
    with backend.errors():
        doc = backend.client.get(index=index, id=manifest_id(concrete, name), ignore=404)
    if osclient.missing(doc):
        return None
    return dict(doc.get("_source") or {}) or None


def load(
    backend: OpenSearchBackend, index: str, concrete: str, name: str
) -> tuple[bytes, int] | None:
    """(data, the generation it was derived from) of the last save, or None (none, or a
    part went missing: the caller derives it again)."""
    manifest = load_manifest(backend, index, concrete, name)
    if manifest is None:
        return None
    generation = int(manifest.get("generation", -1))
    ids = [part_id(concrete, name, generation, i) for i in range(int(manifest.get("parts", 0)))]
    try:
        with backend.errors():
            found = backend.client.mget(
                index=index, body={"ids": ids}, request_timeout=osclient.WRITE_TIMEOUT
            )
    except IndexMissing:
        return None
    chunks = []
    for doc in found.get("docs", []):
        if not doc.get("found"):
            return None  # replaced meanwhile
        chunks.append(base64.b64decode(doc["_source"]["data"]))
    data = b"".join(chunks)
    if hashlib.sha1(data).hexdigest() != manifest.get("sha1"):
        return None
    return data, generation


def drop(backend: OpenSearchBackend, index: str, concrete: str) -> None:
    """Delete what was kept for ``concrete`` (its index was deleted): its saves and its
    analysis."""
    with contextlib.suppress(os_errors.NotFoundError, IndexMissing), backend.errors():
        backend.client.delete_by_query(
            index=index,
            body={"query": {"term": {"concrete": concrete}}},
            refresh=True,
            conflicts="proceed",
            request_timeout=osclient.WRITE_TIMEOUT,
        )
