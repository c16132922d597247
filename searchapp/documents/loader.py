"""Load news articles from a corpus folder into :class:`Document` values.

A corpus is a folder tree of ``.md``, ``.markdown`` and ``.txt`` files. Each file becomes
one :class:`Document` whose ``id`` is its path relative to the corpus root (POSIX
separators). Two kinds of article are understood:

* **Front-matter articles** (Hugo style): the text starts with a ``---`` YAML block. This is
  detected by content, whatever the extension, because some ``.txt`` files are Hugo
  Markdown. The block gives title, date, summary, categories, tags, lang and thumbnail; the
  body is Markdown, reduced to plain text, and a last line that is only a link
  (``[qq](https://...)``) becomes ``source_name``/``source_url``.
* **Plain-text articles**: the first line with a word character is the title; a
  ``来源:中国金融网 2025年02月06日 06时41分`` line (or ``來源`` / ``時``) among the first five
  non-blank lines gives the source and date and is removed from the body. ``.md`` and
  ``.markdown`` files without front matter are handled the same way, but their body is
  reduced from Markdown and their tail link is read.

Decisions worth knowing:

* Bytes are decoded as UTF-8 (a BOM is stripped and reported as ``utf-8-sig``), else as
  GB18030 or Big5, whichever gives text made of common Chinese characters. Big5 bytes often
  decode without error as GB18030 into nonsense, so every candidate is scored by the share
  of its CJK ideographs that are among the ~5,500 most common (GB2312 level 1 and Big5
  level 1, traditional forms folded to simplified); text scoring below
  :data:`MIN_COMMON_SHARE` is rejected.
* UTF-8 text that was once misread as GBK (``鍏充簬`` for ``关于``) is rejected as mojibake
  when re-encoding it to GB18030 and reading that as UTF-8 gives far more common characters.
* Broken YAML front matter: the file is indexed as plain text *without* the front-matter
  block (it is metadata, not prose); a ``title:`` line in it is still used as the title,
  and a warning says the front matter is not valid YAML. Front matter that is valid YAML
  but not a mapping (a list, a scalar) makes the whole file plain text, with a warning.
* The body is plain text: one paragraph per line, blank lines dropped, control characters
  removed, ``\\r\\n`` normalised. Markdown is reduced, but HTML entities are *not*
  unescaped (``&amp;`` stays as written), so nothing in the body can turn into markup.
* Dates are naive datetimes holding the wall-clock time as written; an offset such as
  ``+08:00`` is dropped, not converted. Dates that cannot be read are ignored with a warning.
* Front-matter articles without ``lang`` get one from the script, like plain text.

This module is pure Python: no jieba, Whoosh or Flask.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from searchapp.text.scripts import IDEOGRAPH, _t2s_chars, detect_script, is_ideograph

__all__ = [
    "ARTICLE_SUFFIXES",
    "DEFAULT_MAX_BYTES",
    "Document",
    "DocumentError",
    "NON_ARTICLE_NAMES",
    "Skipped",
    "corpus_fingerprint",
    "iter_corpus_files",
    "load_corpus",
    "load_document",
    "parse_document",
    "walk_corpus",
]

ARTICLE_SUFFIXES = (".md", ".markdown", ".txt")
MARKDOWN_SUFFIXES = (".md", ".markdown")
# Files at the corpus root that configure the search engine rather than being articles.
NON_ARTICLE_NAMES = {"userdict.txt", "synonyms.txt", "readme.md", "readme.txt"}
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# Share of CJK ideographs that must be common characters for a decoding to be believed.
# Measured: correct decodings of the news corpora score >= 0.87, Big5 read as GB18030
# 0.23-0.39, UTF-8 read as GBK (mojibake) about 0.15-0.4.
MIN_COMMON_SHARE = 0.75
# Below this share, valid UTF-8 with at least 20 ideographs is reported as mojibake.
# Measured: genuine news >= 0.87 (news-hugo, news-txt, news-68k), mojibake <= 0.45.
MOJIBAKE_SHARE = 0.6
MAX_TITLE_CHARS = 200


@dataclass(frozen=True)
class Document:
    """One article, ready to index. ``body`` is plain text, one paragraph per line."""

    id: str
    title: str
    body: str
    summary: str = ""
    date: datetime | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    lang: str = ""
    script: str = ""
    thumbnail: str = ""
    source_name: str = ""
    source_url: str = ""
    checksum: str = ""
    mtime: float = 0.0
    size: int = 0
    encoding: str = ""
    warnings: tuple[str, ...] = field(default=())


class DocumentError(Exception):
    """A file that cannot be indexed; ``str(e)`` is ``"<path>: <reason>"`` on one line."""

    def __init__(self, path: str, reason: str):
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class Skipped:
    """A corpus entry that was not loaded, and why (yielded by :func:`load_corpus`)."""

    id: str
    reason: str


# --------------------------------------------------------------------------- decoding


@cache
def _common_chars() -> frozenset[str]:
    """GB2312 level 1 and Big5 level 1 ideographs: the characters news is made of."""
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    for lead in range(0xA4, 0xC7):
        for trail in list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)):
            try:
                chars.add(bytes((lead, trail)).decode("big5"))
            except UnicodeDecodeError:
                pass
    t2s = _t2s_chars()
    # A traditional character counts when its simplified form is common.
    chars.update(trad for trad, simp in t2s.items() if simp in chars)
    return frozenset(c for c in chars if is_ideograph(c))


# Characters a wrong decoding produces and real news (almost) never contains:
# private use area, replacement character, Hangul compatibility jamo, box drawing.
_ODD = re.compile("[\ue000-\uf8ff\ufffd\u3130-\u318f\u2500-\u257f]")


def _common_share(text: str, sample: int = 3000) -> tuple[float, int]:
    """Return (share of common characters among ideographs and odd ones, their count)."""
    head = text[: sample * 2]
    ideographs = IDEOGRAPH.findall(head)[:sample]
    odd = len(_ODD.findall(head))
    total = len(ideographs) + odd
    if total == 0:
        return 1.0, 0
    good = sum(map(_common_chars().__contains__, ideographs))
    return good / total, total


def _looks_like_mojibake(text: str) -> bool:
    """True for UTF-8 text that was decoded as GBK (or Big5) and saved again.

    Such text is valid UTF-8 but made of rare characters (关于 -> 鍏充簬). With enough
    characters to judge, a low share of common ones is conclusive; for short text we also
    require that reversing the damage gives common characters.
    """
    share, count = _common_share(text, sample=1000)
    if count >= 20 and share < MOJIBAKE_SHARE:
        return True
    if count < 4 or share >= MIN_COMMON_SHARE:
        return False
    for codec in ("gb18030", "big5"):
        # U+FFFD marks bytes the misreading lost; it has no place in the original bytes.
        damaged = text[:2000].replace("\ufffd", "")
        repaired = damaged.encode(codec, errors="ignore").decode("utf-8", errors="ignore")
        fixed_share, fixed_count = _common_share(repaired)
        if fixed_count >= 2 and fixed_share >= 0.9:
            return True
    return False


# Control bytes that text files do not contain (tab, newlines, form feed and ESC allowed).
_BINARY_CONTROL = bytes(b for b in range(0x01, 0x20) if b not in b"\t\n\x0b\x0c\r\x1b")


def _check_binary(data: bytes) -> str | None:
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text is not supported; save the file as UTF-8"
    if b"\x00" in head:
        return "binary file (contains NUL bytes)"
    controls = len(head) - len(head.translate(None, _BINARY_CONTROL))
    if controls > max(8, len(head) // 20):
        return "binary file (too many control characters)"
    return None


def _decode(doc_id: str, data: bytes) -> tuple[str, str]:
    """Decode bytes to text; return (text, encoding name). Raises DocumentError."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise DocumentError(
                doc_id, f"cannot decode text: invalid UTF-8 after a UTF-8 BOM ({exc.reason})"
            ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if _looks_like_mojibake(text):
            raise DocumentError(
                doc_id,
                "text is mojibake (UTF-8 that was once read as GBK or Big5); not indexed",
            )
        return text, "utf-8"

    best: tuple[float, str, str] | None = None
    for codec in ("gb18030", "big5", "big5hkscs"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        share, _count = _common_share(text)
        if best is None or share > best[0]:
            best = (share, text, codec)
        if share >= 0.97:
            break
    if best is None:
        raise DocumentError(doc_id, "cannot decode text as UTF-8, GB18030 or Big5")
    share, text, codec = best
    if share < MIN_COMMON_SHARE:
        raise DocumentError(
            doc_id,
            f"cannot decode text: not UTF-8, and as {codec.upper()} only "
            f"{share:.0%} of its Chinese characters are common ones",
        )
    return text, codec


# ------------------------------------------------------------------------ text cleanup

# C0 controls except \t and \n, DEL, C1 controls. \r is normalised before this runs.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    return _CONTROL.sub("", text)


def _paragraphs(lines: list[str]) -> str:
    """One paragraph per line: strip each line and drop blank ones."""
    return "\n".join(s for s in (line.strip() for line in lines) if s)


_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_REF_DEFINITION = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*\S+.*$")
_HRULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(?=\s|$)\s*(.*?)(\s+#+)?\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_BLOCKQUOTE = re.compile(r"^\s{0,3}(>\s?)+")
_BULLET = re.compile(r"^\s*[-*+]\s+")
# A link target may hold one level of parentheses: (https://x/a_(b)) or (javascript:f(1)).
_TARGET = r"(\((?:[^()\n]|\([^()\n]*\))*\)|\[[^\]\n]*\])"
_IMAGE = re.compile(r"!\[[^\]\n]*\]" + _TARGET)
_LINK = re.compile(r"\[([^\]\n]*)\]" + _TARGET)
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^>\s]*)>", re.IGNORECASE)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"\*(?=\S)([^*\n]+?)(?<=\S)\*")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|])")
# Escaped characters are parked as \x00<code point>\x00 (NUL never survives _clean_text)
# so the emphasis and link patterns cannot consume them.
_PARKED = re.compile("\x00(\\d+)\x00")


_INLINE_MARKUP = re.compile(r"[\[\]<>*_`\\]")


def _reduce_inline(line: str) -> str:
    if not _INLINE_MARKUP.search(line):
        return line
    line = _ESCAPE.sub(lambda m: f"\x00{ord(m.group(1))}\x00", line)
    line = _IMAGE.sub("", line)
    line = _LINK.sub(r"\1", line)
    line = _AUTOLINK.sub(r"\1", line)
    line = _HTML_TAG.sub("", line)
    line = _STRONG.sub(r"\2", line)
    line = _EMPHASIS.sub(r"\1", line)
    line = line.replace("**", "").replace("`", "")
    return _PARKED.sub(lambda m: chr(int(m.group(1))), line)


def _reduce_markdown(text: str) -> str:
    """Markdown to readable plain text, one paragraph per line (see module docstring)."""
    text = _HTML_COMMENT.sub("", text)
    out: list[str] = []
    in_code = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            out.append(line)
            continue
        if _REF_DEFINITION.match(line) or _HRULE.match(line):
            continue
        if _SETEXT.match(line) and out and out[-1].strip():
            continue
        heading = _HEADING.match(line)
        if heading:
            line = heading.group(1)
        line = _BLOCKQUOTE.sub("", line)
        line = _BULLET.sub("", line)
        out.append(_reduce_inline(line))
    return _paragraphs(out)


_TAIL_LINK = re.compile(r"^\[([^\[\]\n]+)\]\((https?://[^\s)]+)\)$", re.IGNORECASE)


def _split_tail_link(markdown: str) -> tuple[str, str, str]:
    """Remove a last line that is only ``[name](http...)``; return (text, name, url)."""
    lines = markdown.rstrip().split("\n")
    if lines:
        match = _TAIL_LINK.match(lines[-1].strip())
        if match:
            return "\n".join(lines[:-1]), match.group(1).strip(), match.group(2)
    return markdown, "", ""


# ----------------------------------------------------------------------------- fields

_HTTP_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d",
)
_CHINESE_DATE = re.compile(
    r"^(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})[时時:：](\d{1,2})分?)?$"
)


def _parse_date(value: Any, warnings: list[str]) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        warnings.append(f"date ignored: {value!r} is not a date")
        return None
    text = value.strip()
    try:
        # fromisoformat covers "2025-02-11T07:03:08+08:00", "...Z" and plain ISO dates.
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    match = _CHINESE_DATE.match(text)
    if match:
        parsed = _make_datetime(*match.groups())
        if parsed is not None:
            return parsed
    warnings.append(f"date ignored: cannot read {text!r}")
    return None


def _make_datetime(*parts: str | None) -> datetime | None:
    numbers = [int(p) if p else 0 for p in parts]
    try:
        return datetime(*numbers)  # type: ignore[arg-type]
    except ValueError:
        return None


_LIST_SEPARATORS = re.compile(r"[,，、;；]")


#: Most values a list field (tags, categories) keeps, and the longest value kept.
MAX_LIST_ITEMS = 100
MAX_FIELD_CHARS = 1000
_SCALARS = (str, int, float, bool, date)


def _scalar_text(value: Any) -> str:
    """A scalar YAML value as one line of text; "" for None, lists and mappings.

    Nested values are never turned into text: YAML aliases can make a small file expand
    into an exponentially large ``str()`` (the "billion laughs").
    """
    if value is None or not isinstance(value, _SCALARS):
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return " ".join(str(value)[: MAX_FIELD_CHARS * 4].split())[:MAX_FIELD_CHARS]


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[Any] = _LIST_SEPARATORS.split(value[: MAX_FIELD_CHARS * 10])
    elif isinstance(value, list | tuple | set):
        items = list(value)[:MAX_LIST_ITEMS]
    else:
        items = [value]
    seen: dict[str, None] = {}
    for item in items:
        text = _scalar_text(item)
        if text:
            seen.setdefault(text, None)
    return tuple(seen)[:MAX_LIST_ITEMS]


def _as_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return _scalar_text(value[0]) if value else ""
    return _scalar_text(value)


def _http_url(value: Any, what: str, warnings: list[str]) -> str:
    text = _as_text(value)
    if not text:
        return ""
    if _HTTP_URL.match(text):
        return text
    warnings.append(f"{what} ignored: {text[:60]!r} is not an http(s) URL")
    return ""


_DATE_PREFIX = re.compile(r"^\d{4}[-_.]?\d{2}[-_.]?\d{2}[-_ ]*")
_NUMBER_PREFIX = re.compile(r"^\d+[-_ ]+")


def _title_from_id(doc_id: str) -> str:
    stem = doc_id.rsplit("/", 1)[-1]
    for suffix in ARTICLE_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    name = _NUMBER_PREFIX.sub("", _DATE_PREFIX.sub("", stem))
    name = " ".join(re.sub(r"[-_]+", " ", name).split())
    return name or stem


def _has_word(line: str) -> bool:
    return any(c.isalnum() for c in line)


_SENTENCE_END = re.compile(r"[。！？!?]")


def _shorten_title(line: str) -> tuple[str, bool]:
    """Return (title, keep_line_in_body) for a title candidate line."""
    if len(line) <= MAX_TITLE_CHARS:
        return line, False
    match = _SENTENCE_END.search(line, 1, 81)
    title = line[: match.start()] if match else line[:80]
    return title.strip(), True


_SOURCE_LINE = re.compile(
    r"^(来源|來源)\s*[:：]\s*(\S+)\s+(\d{4})年(\d{1,2})月(\d{1,2})日"
    r"(?:\s*(\d{1,2})[时時](\d{1,2})分)?"
)


# ---------------------------------------------------------------------------- parsing


@dataclass
class _Parts:
    title: str = ""
    body: str = ""
    summary: str = ""
    date: datetime | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    lang: str = ""
    thumbnail: str = ""
    source_name: str = ""
    source_url: str = ""


def _parse_plain(
    doc_id: str, text: str, markdown: bool, warnings: list[str], title: str = ""
) -> _Parts:
    """Parse text without front matter; with ``title`` given, no line is taken as title."""
    parts = _Parts(title=title)
    if markdown:
        text, parts.source_name, parts.source_url = _split_tail_link(text)
    lines = text.split("\n")
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    for i in nonblank[:5]:
        match = _SOURCE_LINE.match(lines[i].strip())
        if match:
            parts.source_name = match.group(2)
            parts.date = _make_datetime(*match.groups()[2:])
            if parts.date is None:
                warnings.append(f"date ignored: cannot read {lines[i].strip()!r}")
            lines[i] = ""
            break
    for i, line in enumerate([] if title else lines):
        candidate = line.strip()
        if markdown:
            candidate = _reduce_markdown(candidate)
        if not candidate or not _has_word(candidate):
            continue
        parts.title, keep = _shorten_title(candidate)
        lines = lines[i:] if keep else lines[i + 1 :]
        break
    rest = "\n".join(lines)
    parts.body = _reduce_markdown(rest) if markdown else _paragraphs(lines)
    if not parts.title:
        parts.title = _title_from_id(doc_id)
    return parts


_FRONT_MATTER_START = re.compile(r"^\s*---[ \t]*\n")
_TITLE_LINE = re.compile(r"^title:\s*(['\"]?)(.*?)\1\s*$", re.MULTILINE)


#: libyaml's parser when PyYAML has it (its wheels do): the pure-Python parser took a
#: quarter of a rebuild's time. The constructors, and so the values, are the same.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FrontMatterLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """A safe YAML loader that reads an impossible date (``2025-13-45``) as text.

    The stock loader raises ``ValueError`` for a value that looks like a timestamp but is
    no date, losing the whole front matter; as text it reaches :func:`_parse_date`, which
    ignores it with a warning, and the title and tags survive.
    """


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def _parse_front_matter(doc_id: str, text: str, warnings: list[str]) -> _Parts | None:
    """Parse a front-matter article; None when the file should be read as plain text."""
    handler = frontmatter.YAMLHandler()
    stripped = text.strip()
    try:
        raw, content = handler.split(stripped)
    except ValueError:
        warnings.append("front matter is not closed by a --- line; read as plain text")
        return None
    try:
        meta = yaml.load(raw, Loader=_FrontMatterLoader)  # a SafeLoader: no object tags
    except (yaml.YAMLError, ValueError, TypeError, RecursionError, OverflowError):
        # ValueError and friends: PyYAML's constructors raise them for values its
        # resolver accepted (``date: 2025-13-45`` on a key YAML 1.1 treats as special).
        warnings.append("front matter is not valid YAML; read as plain text")
        salvaged = _TITLE_LINE.search(raw)
        # An unclosed quote is part of what broke the YAML: drop it. A "title" with no
        # word in it ([[[...]]]) is no title; the body's first line is used instead.
        title = salvaged.group(2).strip().strip("'\"").strip() if salvaged else ""
        title = _shorten_title(title)[0] if _has_word(title) else ""
        return _parse_plain(doc_id, content, True, warnings, title=title)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        warnings.append(
            f"front matter is a YAML {type(meta).__name__}, not a mapping; read as plain text"
        )
        return None

    markdown, source_name, source_url = _split_tail_link(content)
    parts = _Parts(
        body=_reduce_markdown(markdown),
        source_name=source_name,
        source_url=source_url,
        summary=_as_text(meta.get("summary")),
        date=_parse_date(meta.get("date"), warnings),
        categories=_as_tuple(meta.get("categories")),
        tags=_as_tuple(meta.get("tags")),
        lang=_as_text(meta.get("lang")),
        thumbnail=_http_url(meta.get("thumbnail"), "thumbnail", warnings),
    )
    parts.title = _as_text(meta.get("title"))
    if not parts.title and meta.get("title") not in (None, ""):
        warnings.append("title ignored: it is not text")
    if not parts.title:
        first = next((line for line in parts.body.split("\n") if _has_word(line)), "")
        parts.title = _shorten_title(first)[0] if first else _title_from_id(doc_id)
    return parts


def parse_document(doc_id: str, data: bytes, mtime: float = 0.0) -> Document:
    """Build a :class:`Document` from the raw bytes of a file.

    ``doc_id`` is the corpus-relative POSIX path; its suffix decides whether a file
    without front matter is Markdown, and its name is the title of last resort.
    Pure function: no file system access. Raises :class:`DocumentError` for empty,
    binary, undecodable or mojibake input.
    """
    if not data:
        raise DocumentError(doc_id, "file is empty")
    reason = _check_binary(data)
    if reason:
        raise DocumentError(doc_id, reason)
    text, encoding = _decode(doc_id, data)
    text = _clean_text(text)
    if not text.strip():
        raise DocumentError(doc_id, "file is empty (only whitespace)")
    warnings: list[str] = []
    parts: _Parts | None = None
    if _FRONT_MATTER_START.match(text):
        parts = _parse_front_matter(doc_id, text, warnings)
    if parts is None:
        markdown = doc_id.lower().endswith(MARKDOWN_SUFFIXES)
        parts = _parse_plain(doc_id, text, markdown, warnings)
    if not parts.body and not parts.title:
        raise DocumentError(doc_id, "file has no text")
    script = detect_script(parts.title + "\n" + parts.body)
    lang = parts.lang or {"hant": "zh-Hant", "hans": "zh-Hans"}.get(script, "")
    return Document(
        id=doc_id,
        title=parts.title,
        body=parts.body,
        summary=parts.summary,
        date=parts.date,
        categories=parts.categories,
        tags=parts.tags,
        lang=lang,
        script=script,
        thumbnail=parts.thumbnail,
        source_name=parts.source_name,
        source_url=parts.source_url,
        checksum=hashlib.sha1(data).hexdigest(),
        mtime=mtime,
        size=len(data),
        encoding=encoding,
        warnings=tuple(warnings),
    )


# ------------------------------------------------------------------------- file system


def _format_size(n: float) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{int(n)} bytes"


def _doc_id(path: Path, root: Path) -> str:
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    return Path(rel).as_posix()


def load_document(path: Path, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Read and parse one corpus file. ``path`` must lie inside ``root``.

    Raises :class:`DocumentError` when the file is outside the root (also through a
    symlink), not a regular file, unreadable, larger than ``max_bytes``, or when
    :func:`parse_document` rejects its content.
    """
    path, root = Path(path), Path(root)
    doc_id = _doc_id(path, root)
    try:
        real_root = root.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise DocumentError(doc_id, f"cannot open corpus folder: {_os_reason(exc)}") from None
    return _load(path, doc_id, real_root, max_bytes)


def _load(path: Path, doc_id: str, real_root: Path, max_bytes: int) -> Document:
    if doc_id == ".." or doc_id.startswith("../"):
        raise DocumentError(doc_id, "file is outside the corpus folder")
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        # OSError: broken link or ELOOP; RuntimeError: a symlink loop (Python < 3.13).
        raise DocumentError(doc_id, _resolve_reason(path, exc)) from None
    if not real.is_relative_to(real_root):
        raise DocumentError(doc_id, "symlink points outside the corpus folder")
    try:
        info = real.stat()
    except OSError as exc:
        raise DocumentError(doc_id, f"cannot read file: {_os_reason(exc)}") from None
    if not stat.S_ISREG(info.st_mode):
        raise DocumentError(doc_id, "not a regular file")
    if info.st_size > max_bytes:
        raise DocumentError(
            doc_id,
            f"file is {_format_size(info.st_size)}, over the {_format_size(max_bytes)} limit",
        )
    try:
        with open(real, "rb") as fh:
            # Read one byte more than allowed: the file may have grown since stat().
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise DocumentError(doc_id, f"cannot read file: {_os_reason(exc)}") from None
    if len(data) > max_bytes:
        raise DocumentError(doc_id, f"file is over the {_format_size(max_bytes)} limit")
    return parse_document(doc_id, data, mtime=info.st_mtime)


def _resolve_reason(path: Path, exc: BaseException) -> str:
    """Why ``path`` cannot be resolved, without the absolute paths Python puts in it."""
    if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
        why = "symlink loop"
    elif isinstance(exc, FileNotFoundError) and path.is_symlink():
        why = "broken symlink (its target does not exist)"
    else:
        why = _os_reason(exc)
    return f"cannot resolve path: {why}"


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def _scan(root: Path) -> list[tuple[str, str, os.DirEntry[str] | None, str | None]]:
    """Every corpus entry as ``(id, path, entry, reason)``, sorted by id.

    ``reason`` is None for an article file (``entry`` is its ``os.DirEntry``, whose stat
    is cached) and says why for an entry passed over. Ids are built as strings during the
    walk: ``os.path.relpath`` per file cost over a second on a 68k-file corpus.
    Symlinked directories are never followed, which also rules out loops.
    """
    found: list[tuple[str, str, os.DirEntry[str] | None, str | None]] = []
    base = os.fspath(root)
    stack: list[tuple[str, str]] = [(base, "")]  # (folder path, its id prefix)
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            found.append(
                (prefix.rstrip("/") or ".", folder, None, f"cannot list folder: {_os_reason(exc)}")
            )
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            doc_id = prefix + name
            try:
                is_link = entry.is_symlink()
                is_dir = not is_link and entry.is_dir(follow_symlinks=False)
                if is_link and entry.is_dir():  # a link to a folder (follows the link)
                    found.append((doc_id, entry.path, None, "symlinked folder not followed"))
                    continue
            except OSError:
                is_dir = False
            if is_dir:
                stack.append((entry.path, doc_id + "/"))
                continue
            lower = name.lower()
            if not lower.endswith(ARTICLE_SUFFIXES):
                continue
            if not prefix and lower in NON_ARTICLE_NAMES:
                continue
            found.append((doc_id, entry.path, entry, None))
    found.sort(key=lambda item: item[0])
    return found


def _walk(root: Path) -> Iterator[tuple[str, Path, str | None]]:
    """Yield (id, path, None) for article files, (id, path, reason) for entries passed over."""
    for doc_id, path, _entry, reason in _scan(Path(root)):
        yield doc_id, Path(path), reason


def walk_corpus(root: Path) -> Iterator[tuple[str, Path, str | None]]:
    """Yield ``(id, path, None)`` for each article file and ``(id, path, reason)`` for each
    entry passed over (a symlinked folder, a folder that cannot be listed), sorted by id.

    What a full rebuild walks: the entries with a reason are to be reported as skipped,
    like the files :func:`load_document` rejects. :func:`iter_corpus_files` keeps only the
    article files.
    """
    yield from _walk(Path(root))


def iter_corpus_files(root: Path) -> Iterator[Path]:
    """Yield the article files under ``root``, sorted by id.

    Recursive; only :data:`ARTICLE_SUFFIXES` (any case); hidden files and folders and, at
    the root, :data:`NON_ARTICLE_NAMES` are left out. Symlinked folders are not followed;
    symlinked files are yielded (:func:`load_document` rejects those leading outside).
    """
    for _id, path, reason in _walk(Path(root)):
        if reason is None:
            yield path


def load_corpus(root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Document | Skipped]:
    """Yield a :class:`Document` or a :class:`Skipped` for every corpus entry, by id.

    Never raises for a bad file or folder: each problem becomes a :class:`Skipped`.
    """
    root = Path(root)
    try:
        real_root = root.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        yield Skipped(".", f"cannot open corpus folder: {_os_reason(exc)}")
        return
    for doc_id, path, reason in _walk(root):
        if reason is not None:
            yield Skipped(doc_id, reason)
            continue
        try:
            yield _load(path, doc_id, real_root, max_bytes)
        except DocumentError as exc:
            yield Skipped(doc_id, exc.reason)


def corpus_fingerprint(root: Path) -> dict[str, tuple[float, int]]:
    """Map each article id to ``(mtime, size)`` using only ``stat``; for incremental updates.

    Files that cannot be stat'ed are left out (the next full load reports them).
    """
    result: dict[str, tuple[float, int]] = {}
    for doc_id, _path, entry, reason in _scan(Path(root)):
        if reason is not None or entry is None:
            continue
        try:
            info = entry.stat()  # follows a symlinked file, like the loader does
        except OSError:
            continue
        result[doc_id] = (info.st_mtime, info.st_size)
    return result
