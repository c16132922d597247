"""The Whoosh schema shared by the indexer and the searcher.

The schema (analyzer objects included) is pickled into the index, so changing a field
here, like changing tokenization, needs a rebuild: bump :data:`SCHEMA_VERSION`. Of the
full-text fields Whoosh keeps only the field lengths (BM25's); their postings, positions,
character spans and stored text are in each segment's sidecar (:mod:`sidecar`).
"""

from __future__ import annotations

from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from searchapp.backends.whoosh.tokenizer import ChineseTokenizer
from searchapp.fields import FILTER_FIELDS, TEXT_FIELDS
from searchapp.text.analysis import ANALYZER_VERSION

SCHEMA_VERSION = "8"
INDEX_NAME = "MAIN"
__all__ = ["FILTER_FIELDS", "TEXT_FIELDS", "build_schema", "index_version"]


def index_version() -> str:
    """What an index must have been built with to be readable by this code."""
    return f"schema {SCHEMA_VERSION} / analyzer {ANALYZER_VERSION}"


def build_schema() -> Schema:
    """A fresh schema object (analyzer instances are not shared between schemas)."""
    text = ChineseTokenizer()
    date = DATETIME(stored=True)
    # Stored only: the sidecar has every document's date for filters and sorting; indexed,
    # every date added a dozen trie terms (43k terms, 110k postings for 13.8k articles)
    # that no query used.
    date.indexed = False
    return Schema(
        id=ID(stored=True, unique=True),
        # Field lengths only: the postings and the text itself are in the sidecar.
        title=TEXT(analyzer=text, phrase=False),
        summary=TEXT(analyzer=text, phrase=False),
        body=TEXT(analyzer=text, phrase=False),
        date=date,
        categories=KEYWORD(stored=True, commas=True, lowercase=True),
        tags=KEYWORD(stored=True, commas=True, lowercase=True),
        source=ID(stored=True),
        lang=ID(stored=True),
        script=ID(stored=True),
        source_url=STORED(),
        thumbnail=STORED(),
    )
