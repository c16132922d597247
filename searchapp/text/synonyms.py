"""Synonyms from an editable file, applied at query time (no rebuild needed).

Format (``corpus/synonyms.txt``): one group per line, entries separated by commas
(``,``, ``，`` or ``、``); ``#`` starts a comment. Every entry of a group finds the others:
``AI, 人工智能, 人工智慧`` makes a query for ``AI`` also match 人工智能.

Entries are normalised with the query analyzer, so case, width and script do not matter.
An entry that segments into several words (輝達 -> 辉 达) is matched as a phrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from searchapp.text.analysis import Analyzer

_SEPARATORS = re.compile(r"[,，、]")

Form = tuple[str, ...]


@dataclass(frozen=True)
class Synonyms:
    """term -> the other forms of its group (each form a tuple of query terms)."""

    groups: dict[str, tuple[Form, ...]] = field(default_factory=dict)

    def expand(self, term: str) -> tuple[Form, ...]:
        """Other forms for a single normalised query term."""
        return self.groups.get(term, ())

    def __len__(self) -> int:
        return len(self.groups)


def parse_synonyms(text: str, analyzer: Analyzer) -> Synonyms:
    """Build :class:`Synonyms` from the file's text; bad lines are ignored."""
    groups: dict[str, tuple[Form, ...]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        forms: list[Form] = []
        for entry in _SEPARATORS.split(line):
            terms = tuple(analyzer.query_terms(entry.strip()))
            if terms and terms not in forms:
                forms.append(terms)
        if len(forms) < 2:
            continue
        for form in forms:
            if len(form) == 1:
                others = tuple(f for f in forms if f != form)
                groups[form[0]] = tuple(dict.fromkeys(groups.get(form[0], ()) + others))
    return Synonyms(groups)


def load_synonyms(path: Path | None, analyzer: Analyzer) -> Synonyms:
    """Read a synonyms file; a missing or unreadable file gives no synonyms."""
    if path is None:
        return Synonyms()
    try:
        return parse_synonyms(path.read_text(encoding="utf-8-sig"), analyzer)
    except (OSError, UnicodeDecodeError):
        return Synonyms()
