"""Articles: reading one file (formats, encodings, front matter) and walking a corpus."""

from searchapp.documents.loader import (
    DEFAULT_MAX_BYTES,
    Document,
    DocumentError,
    Skipped,
    corpus_fingerprint,
    iter_corpus_files,
    load_corpus,
    load_document,
    parse_document,
    walk_corpus,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Document",
    "DocumentError",
    "Skipped",
    "corpus_fingerprint",
    "iter_corpus_files",
    "load_corpus",
    "load_document",
    "parse_document",
    "walk_corpus",
]
