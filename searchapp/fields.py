"""The fields of an article in the index, shared by every layer.

Full-text fields are searched by plain words and ranked by BM25F with these weights;
filter fields are matched whole (any letter case) and counted as facets.
"""

from __future__ import annotations

#: Full-text fields searched by a plain query, with their BM25F weights.
TEXT_FIELDS: dict[str, float] = {"title": 1.5, "summary": 1.2, "body": 1.0}

#: Keyword fields a user can filter on; query syntax name -> index field.
FILTER_FIELDS: dict[str, str] = {
    "tag": "tags",
    "tags": "tags",
    "category": "categories",
    "categories": "categories",
    "source": "source",
    "lang": "lang",
    "script": "script",
}

#: The filter fields whose values are counted for the facet sidebar.
FACET_FIELDS: tuple[str, ...] = ("source", "tags", "script", "lang")
