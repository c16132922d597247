"""Parse what a person types into a structured query. Never raises.

Syntax: words (segmented by the analyzer, all must match but function and question
words such as 的 and 多少, see :data:`OPTIONAL_WORDS`), ``"quoted phrase"``,
``-exclude`` / ``-"phrase"``, ``A OR B`` (also ``|``), field prefixes ``title:``,
``body:``, ``summary:`` (restrict the text fields) and ``tag:``, ``category:``,
``source:``, ``lang:`` (filters). ``AND``, parentheses and unknown prefixes are read as
plain text; anything malformed degrades to the nearest sensible reading.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from searchapp.fields import FILTER_FIELDS, TEXT_FIELDS
from searchapp.text.analysis import Analyzer

MAX_QUERY_CHARS = 500
#: Most words (terms and phrases) a query uses; the rest of a pasted paragraph is ignored.
#: Every word becomes a query clause over three fields, and Whoosh's cost grows with the
#: clauses: 300 words took 0.4 s, 32 take a few ms (Google also stops at 32 words).
MAX_UNITS = 32

_TOKEN = re.compile(
    r"""
    (?P<neg>-)?
    (?:(?P<field>[A-Za-z_]+)[:：])?
    (?:
        [\"“”「」『』](?P<phrase>[^\"“”「」『』]*)[\"“”「」『』]?
      | (?P<word>[^\s\"“”「」『』]+)
    )?
    """,
    re.VERBOSE,
)
_OR_WORDS = {"OR", "|", "||", "或"}
_IGNORED_WORDS = {"AND", "&&", "&", "NOT"}


#: Words that carry a sentence's grammar or its question, not its subject. A query does
#: not require them when it has other words (an article that has them scores a little
#: more): the answer to "广州法院提出了多少条措施" says how many measures, not "多少".
#: Folded (simplified) forms, as the analyzer gives them.
OPTIONAL_WORDS = frozenset(
    """
    的 地 得 了 着 过 吧 啊 呀 吗 呢 么 嘛 之 其 也 都 就 而 又 并 且 或 及 与 和 跟 同
    在 于 对 把 被 将 为 从 到 向 由 以 给 让 该 这 那 此 这个 那个 这些 那些 个 是 有 会 要
    能 可 可以 已 已经 还 曾 中 上 下 里
    什么 甚么 啥 哪 哪个 哪些 哪里 哪儿 哪家 哪天 哪年 哪一天 哪一年 几 几个 几时 多少
    多久 多大 多长 多远 多高 谁 怎么 怎样 怎么样 如何 为什么 为何 是否 是不是 有没有
    """.split()
)


@dataclass(frozen=True)
class Unit:
    """One thing that must match: a term (or its forms) or a phrase, in some fields."""

    terms: tuple[str, ...]
    phrase: bool = False
    fields: tuple[str, ...] = tuple(TEXT_FIELDS)
    #: typed in quotes (a one-word "phrase" is a plain term, but one the reader insists on)
    quoted: bool = False

    @property
    def optional(self) -> bool:
        """A function or question word typed without quotes or field (see
        :data:`OPTIONAL_WORDS`): not required when the query has other words."""
        return (
            not self.phrase
            and not self.quoted
            and self.fields == tuple(TEXT_FIELDS)
            and self.terms[0] in OPTIONAL_WORDS
        )

    @property
    def label(self) -> str:
        """How the unit reads to a person."""
        joined = "".join(self.terms) if self.phrase else " ".join(self.terms)
        return f'"{joined}"' if self.phrase else joined


@dataclass(frozen=True)
class Clause:
    """Alternatives joined by OR; a plain clause has one alternative."""

    alternatives: tuple[tuple[Unit, ...], ...]


@dataclass
class ParsedQuery:
    """The structure the engine turns into a backend query."""

    text: str
    clauses: list[Clause] = field(default_factory=list)
    excluded: list[Unit] = field(default_factory=list)
    filters: list[tuple[str, str]] = field(default_factory=list)
    #: word -> its segmented terms when a typed word was split (人工智能开源 -> 人工智能 开源)
    segmented: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    #: True when words past :data:`MAX_UNITS` were left out
    truncated: bool = False
    #: The words searched in titles as typed, in runs that an OR, an exclusion or a filter
    #: breaks: where a query can name an article by its title (:mod:`.naming`).
    runs: list[str] = field(default_factory=list)

    def units(self) -> list[Unit]:
        """Every unit of every clause, OR alternatives included, in typed order."""
        return [u for clause in self.clauses for alt in clause.alternatives for u in alt]

    def words(self) -> list[Unit]:
        """The units that carry the query: without the optional function and question
        words (:attr:`Unit.optional`) when there are others, else all of them."""
        units = self.units()
        return [u for u in units if not u.optional] or units

    def highlight_terms(self) -> set[str]:
        """Normalised terms to mark in snippets: the :meth:`words` (marking every 的 and
        对 of a question would mark half a text)."""
        return {term for unit in self.words() for term in unit.terms}


def clean(text: str) -> str:
    """Strip control and format characters, collapse spaces, cap the length."""
    text = text[: MAX_QUERY_CHARS * 2]
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            kept.append(" ")
        else:
            kept.append(ch)
    return " ".join("".join(kept).split())[:MAX_QUERY_CHARS]


def _units_for(
    text: str, fields: tuple[str, ...], phrase: bool, analyzer: Analyzer
) -> tuple[Unit, ...]:
    terms = tuple(analyzer.query_terms(text))
    if not terms:
        return ()
    if phrase and len(terms) > 1:
        return (Unit(terms, phrase=True, fields=fields),)
    return tuple(Unit((t,), fields=fields, quoted=phrase) for t in terms)


def parse(text: str, analyzer: Analyzer) -> ParsedQuery:
    """Parse a user's query string with ``analyzer``; the result may be empty, never an
    exception."""
    text = clean(text)
    parsed = ParsedQuery(text)
    pending_or = False
    used = 0
    run: list[str] = []

    def end_run() -> None:
        if run:
            parsed.runs.append(" ".join(run))
            run.clear()

    for m in _TOKEN.finditer(text):
        if not m.group(0):
            continue
        if used >= MAX_UNITS:
            parsed.truncated = True
            break
        neg = bool(m.group("neg"))
        fname = (m.group("field") or "").lower()
        phrase = m.group("phrase")
        word = m.group("word")
        body = phrase if phrase is not None else (word or "")
        if fname and fname not in TEXT_FIELDS and fname not in FILTER_FIELDS:
            # "http:..." or "GPT:4": not a field, read it all as text.
            body = f"{m.group('field')}:{body}"
            fname = ""
        if not neg and not fname and phrase is None and body in _OR_WORDS:
            pending_or = bool(parsed.clauses)
            end_run()
            continue
        if not neg and not fname and phrase is None and body.upper() in _IGNORED_WORDS:
            continue
        if fname in FILTER_FIELDS:
            end_run()
            value = body.strip().lower()
            if value and not neg:
                parsed.filters.append((FILTER_FIELDS[fname], value))
            elif value:
                parsed.excluded.append(Unit((value,), fields=(FILTER_FIELDS[fname],)))
            pending_or = False
            continue
        fields = (fname,) if fname else tuple(TEXT_FIELDS)
        units = _units_for(body.strip(), fields, phrase is not None, analyzer)
        if len(units) > MAX_UNITS - used:
            units, parsed.truncated = units[: MAX_UNITS - used], True
        if not units:
            continue
        used += len(units)
        if neg or fname not in ("", "title"):
            end_run()
        else:
            run.append(body.strip())
        if neg:
            if len(units) > 1:
                units = (Unit(tuple(t for u in units for t in u.terms), True, fields),)
            parsed.excluded.extend(units)
            continue
        if phrase is None and len(units) > 1:
            parsed.segmented.append((body, tuple(u.terms[0] for u in units)))
        if pending_or and parsed.clauses:
            last = parsed.clauses.pop()
            parsed.clauses.append(Clause(last.alternatives + (units,)))
        else:
            parsed.clauses.append(Clause((units,)))
        pending_or = False
    end_run()
    return parsed
