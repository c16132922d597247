"""The OpenSearch index: its settings, its mapping, and one article as a JSON document.

Articles reach OpenSearch already analysed by our own jieba analysis
(:class:`searchapp.text.analysis.Analyzer`), so the cluster needs no Chinese plugin. Each
full-text field ``F`` (title, summary, body) becomes:

``F_t``
    the tokens, one whitespace-separated group per position, the tokens of a group (a
    word and jieba's sub-words of it) joined by ``|``: ``人工|智能|人工智能 发展``. The
    ``searchapp_tokens`` analyzer (the ``whitespace`` tokenizer, then ``pattern_capture``
    on ``[^|]+``, both stock ``analysis-common``) gives every token of a group the same
    position, so positions are exactly our ordinal positions: phrases (``span_near``) and
    the proximity bonus match as on the Whoosh backend, sub-words included. Scored with
    the ``searchapp_tf`` similarity, which returns the term frequency: the BM25 arithmetic
    is done by a script (:mod:`.translate`) so that it is the Whoosh backend's, to the
    float: one IDF per term over the whole article, per-field ``b``, Whoosh's field lengths.
``F_n`` / ``F_len``
    the field's exact token count (for the average length) and the length Whoosh scores
    with (its lossy one-byte encoding, see :func:`whoosh_length`).
``F_v``
    the field's distinct terms as keyword doc values, not indexed and left out of
    ``_source``: a composite aggregation over them lists every term with its document
    frequency (the suggestion vocabulary) without fielddata.
``raw.F`` / ``raw.F_o``
    the original text and each token's character span (start deltas, and the lengths
    that differ from the term's), for highlights and snippets from our own offsets.

Filter fields keep the values as the Whoosh backend indexes them (for facets) and, in
``<field>_lc``, lowercased by Python (for filters in any letter case). ``id`` is the
article id, ``seq`` the order it was indexed in (ties keep it, as Whoosh's document
numbers do), ``fp`` the fingerprint ``update`` compares, ``date_us`` the date as Whoosh's
column has it (microseconds since ``datetime.min``).

**Any change here changes the index**: bump :data:`SCHEMA_VERSION`; an index built with
another version is refused until it is rebuilt.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from searchapp.documents import Document
from searchapp.fields import FILTER_FIELDS, TEXT_FIELDS
from searchapp.indexing import Prepared, fingerprint
from searchapp.text.analysis import ANALYZER_VERSION

SCHEMA_VERSION = "os-1"
#: The similarity and analyzer names in the index settings.
TF_SIMILARITY = "searchapp_tf"
TOKENS_ANALYZER = "searchapp_tokens"
#: Separators of the token string: positions, and tokens at one position.
POSITION_SEP = " "
STACK_SEP = "|"
#: Longer terms are cut (Lucene refuses terms over 32,766 bytes; the Whoosh backend keeps
#: them whole, and no query types one).
MAX_TERM_CHARS = 2000
#: Filter values longer than this are stored but not indexed (Lucene's term limit).
MAX_KEYWORD_CHARS = 8000
#: ``_id`` is at most 512 bytes: a longer article id gets a digest as its ``_id``.
MAX_ID_BYTES = 512
#: Filter fields as the Whoosh backend indexes them.
KEYWORD_FIELDS = tuple(sorted(set(FILTER_FIELDS.values())))
#: The result window (the engine asks for up to MAX_PAGE pages of up to 100 hits).
MAX_RESULT_WINDOW = 100_000

_EPOCH_MIN = datetime.min
_ONE_US = timedelta(microseconds=1)
_BAD_TERM_CHARS = re.compile(r"[\s|]")

#: Whoosh's field length for each length byte (``whoosh.util.numeric``): the Whoosh
#: backend scores with these lossy lengths, so this backend does too.
WHOOSH_LENGTHS = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 16, 17, 18, 20, 21, 23, 25, 26, 28, 30,
    32, 34, 36, 38, 40, 42, 45, 47, 49, 52, 54, 57, 60, 63, 66, 69, 72, 75, 79, 82, 86, 89,
    93, 97, 101, 106, 110, 114, 119, 124, 129, 134, 139, 145, 150, 156, 162, 169, 175, 182,
    189, 196, 203, 211, 219, 227, 235, 244, 253, 262, 271, 281, 291, 302, 313, 324, 336,
    348, 360, 373, 386, 399, 414, 428, 443, 459, 475, 491, 508, 526, 544, 563, 583, 603,
    623, 645, 667, 690, 714, 738, 763, 789, 816, 844, 873, 903, 933, 965, 998, 1032, 1066,
    1103, 1140, 1178, 1218, 1259, 1302, 1345, 1391, 1438, 1486, 1536, 1587, 1641, 1696,
    1753, 1811, 1872, 1935, 1999, 2066, 2135, 2207, 2280, 2356, 2435, 2516, 2600, 2687,
    2777, 2869, 2965, 3063, 3165, 3271, 3380, 3492, 3608, 3728, 3852, 3980, 4112, 4249,
    4390, 4536, 4686, 4842, 5002, 5168, 5340, 5517, 5700, 5889, 6084, 6286, 6494, 6709,
    6932, 7161, 7398, 7643, 7897, 8158, 8428, 8707, 8995, 9293, 9601, 9918, 10247, 10586,
    10936, 11298, 11671, 12057, 12456, 12868, 13294, 13733, 14187, 14656, 15141, 15641,
    16159, 16693, 17244, 17814, 18403, 19011, 19640, 20289, 20959, 21652, 22367, 23106,
    23869, 24658, 25472, 26314, 27183, 28081, 29009, 29967, 30957, 31979, 33035, 34126,
    35254, 36418, 37620, 38863, 40146, 41472, 42841, 44256, 45717, 47227, 48786, 50397,
    52061, 53780, 55556, 57390, 59285, 61242, 63264, 65352, 67510, 69739, 72041, 74419,
    76876, 79414, 82035, 84743, 87541, 90430, 93416, 96499, 99684, 102975, 106374,
)  # fmt: skip


def index_version() -> str:
    """What an index must have been built with to be readable by this code."""
    return f"schema {SCHEMA_VERSION} / analyzer {ANALYZER_VERSION}"


def whoosh_length(n: int) -> int:
    """The field length Whoosh scores a document with: ``n`` rounded up to its one-byte
    encoding (exact up to 10, then within about 3 %)."""
    if n >= WHOOSH_LENGTHS[-1]:
        return WHOOSH_LENGTHS[-1]
    return WHOOSH_LENGTHS[bisect.bisect_left(WHOOSH_LENGTHS, n)]


def doc_key(doc_id: str) -> str:
    """The ``_id`` of the article ``doc_id`` (itself, unless it is too long for one)."""
    if len(doc_id.encode("utf-8")) <= MAX_ID_BYTES:
        return doc_id
    return "sha1:" + hashlib.sha1(doc_id.encode("utf-8")).hexdigest()


def date_to_us(when: datetime) -> int:
    """A date as Whoosh's date column holds it: microseconds since ``datetime.min``."""
    return (when.replace(tzinfo=None) - _EPOCH_MIN) // _ONE_US


def us_to_date(value: int) -> datetime | None:
    """The inverse of :func:`date_to_us` (None for a value no date has)."""
    try:
        return _EPOCH_MIN + timedelta(microseconds=int(value))
    except (OverflowError, ValueError, TypeError):
        return None


# -- index settings and mapping ---------------------------------------------------------------


def index_body(shards: int, meta: dict[str, Any]) -> dict[str, Any]:
    """Settings and mapping of a new concrete index (no replicas, no refresh while it is
    bulk-loaded: the writer sets both when it is complete)."""
    properties: dict[str, Any] = {
        "id": {"type": "keyword"},
        "seq": {"type": "long"},
        "fp": {"type": "keyword", "index": False},
        "date_us": {"type": "long"},
        "title_s": {"type": "text", "index": False, "store": True},
        "raw": {"type": "object", "enabled": False},
    }
    for name in TEXT_FIELDS:
        properties[f"{name}_t"] = {
            "type": "text",
            "analyzer": TOKENS_ANALYZER,
            "search_analyzer": "whitespace",
            "similarity": TF_SIMILARITY,
            "index_options": "positions",
            "norms": False,
        }
        properties[f"{name}_n"] = {"type": "integer"}
        properties[f"{name}_len"] = {"type": "integer"}
        properties[f"{name}_v"] = {"type": "keyword", "index": False}
    for name in KEYWORD_FIELDS:
        properties[name] = {"type": "keyword", "ignore_above": MAX_KEYWORD_CHARS}
        properties[f"{name}_lc"] = {"type": "keyword", "ignore_above": MAX_KEYWORD_CHARS}
    return {
        "settings": {
            "index": {
                "number_of_shards": max(1, int(shards)),
                "number_of_replicas": 0,
                "refresh_interval": "-1",
                "max_result_window": MAX_RESULT_WINDOW,
                "similarity": {
                    TF_SIMILARITY: {"type": "scripted", "script": {"source": "return doc.freq;"}}
                },
                "analysis": {
                    "tokenizer": {
                        "searchapp_groups": {"type": "whitespace", "max_token_length": 1048576}
                    },
                    "filter": {
                        "searchapp_stack": {
                            "type": "pattern_capture",
                            "preserve_original": False,
                            "patterns": ["([^|]+)"],
                        }
                    },
                    "analyzer": {
                        TOKENS_ANALYZER: {
                            "type": "custom",
                            "tokenizer": "searchapp_groups",
                            "filter": ["searchapp_stack"],
                        }
                    },
                },
            }
        },
        "mappings": {
            "dynamic": "strict",
            "_meta": meta,
            "_source": {"excludes": [f"{name}_v" for name in TEXT_FIELDS]},
            "properties": properties,
        },
    }


# -- one article --------------------------------------------------------------------------


def _term(text: str) -> str:
    """A term safe in the token string (our analysis never makes the characters replaced
    here; this only guards the format)."""
    if len(text) > MAX_TERM_CHARS:
        text = text[:MAX_TERM_CHARS]
    if _BAD_TERM_CHARS.search(text):
        text = _BAD_TERM_CHARS.sub("_", text)
    return text


def encode_tokens(
    tokens: Sequence[tuple[str, int, int, int]],
) -> tuple[str, list[int], list[list[int]], list[str]]:
    """(token string, start deltas, [index, length] where the span's length is not the
    term's, distinct terms) of one field's tokens."""
    groups: list[str] = []
    starts: list[int] = []
    odd: list[list[int]] = []
    last_pos = None
    last_start = 0
    current: list[str] = []
    for i, (text, pos, start, end) in enumerate(tokens):
        term = _term(text)
        if pos != last_pos:
            if current:
                groups.append(STACK_SEP.join(current))
            current = [term]
            last_pos = pos
        else:
            current.append(term)
        starts.append(start - last_start)
        last_start = start
        if end - start != len(term):
            odd.append([i, end - start])
    if current:
        groups.append(STACK_SEP.join(current))
    distinct = sorted({_term(t[0]) for t in tokens})
    return POSITION_SEP.join(groups), starts, odd, distinct


def decode_tokens(
    encoded: str, starts: Sequence[int], odd: Sequence[Sequence[int]]
) -> list[tuple[str, int, int]]:
    """(term, start, end) of each token of :func:`encode_tokens`'s output."""
    terms = [t for group in encoded.split(POSITION_SEP) if group for t in group.split(STACK_SEP)]
    lengths = {int(i): int(n) for i, n in odd}
    out = []
    at = 0
    for i, (term, delta) in enumerate(zip(terms, starts, strict=False)):
        at += delta
        out.append((term, at, at + lengths.get(i, len(term))))
    return out


def keyword_values(name: str, doc: Document) -> list[str]:
    """The values of filter field ``name`` as the Whoosh backend indexes them: categories
    and tags split on commas, stripped and lowercased; the source lowercased; lang and
    script whole."""
    if name in ("categories", "tags"):
        joined = ",".join(v.replace(",", " ") for v in getattr(doc, name))
        values = [v.strip().lower() for v in re.findall(r"[^,]+", joined)]
        return list(dict.fromkeys(v for v in values if v))
    if name == "source":
        value = doc.source_name.lower()
    else:
        value = getattr(doc, name) or ""
    return [value] if value else []


def stored_keywords(name: str, doc: Document) -> str:
    """What the Whoosh backend stores for a filter field (categories and tags as one
    comma-joined string)."""
    if name in ("categories", "tags"):
        return ",".join(v.replace(",", " ") for v in getattr(doc, name))
    if name == "source":
        return doc.source_name.lower()
    return str(getattr(doc, name) or "")


def to_source(prepared: Prepared, seq: int) -> dict[str, Any]:
    """The JSON document of one prepared article (made in the indexer's workers)."""
    doc, tokens = prepared
    raw: dict[str, Any] = {
        "source_url": doc.source_url or "",
        "thumbnail": doc.thumbnail or "",
    }
    source: dict[str, Any] = {
        "id": doc.id,
        "seq": seq,
        "fp": fingerprint(doc),
        "title_s": doc.title or "",
        "raw": raw,
    }
    if doc.date is not None:
        source["date_us"] = date_to_us(doc.date)
    for name in TEXT_FIELDS:
        toks = tokens[name]
        text, starts, odd, distinct = encode_tokens(toks)
        raw[name] = getattr(doc, name) or ""
        raw[f"{name}_o"] = starts
        if odd:
            raw[f"{name}_x"] = odd
        source[f"{name}_t"] = text
        source[f"{name}_n"] = len(toks)
        source[f"{name}_len"] = whoosh_length(len(toks))
        source[f"{name}_v"] = distinct
    for name in KEYWORD_FIELDS:
        values = keyword_values(name, doc)
        raw[name] = stored_keywords(name, doc)
        if values:
            source[name] = values
            source[f"{name}_lc"] = sorted({v.lower() for v in values})
    return source


def to_json(prepared: Prepared, seq: int) -> bytes:
    """:func:`to_source` serialised for a bulk request."""
    return json.dumps(to_source(prepared, seq), ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )
