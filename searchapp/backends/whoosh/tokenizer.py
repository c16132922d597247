"""The Whoosh tokenizer of the full-text fields: it replays tokens made by our analysis.

The schema, this class included, is pickled into the index: keep the class name and this
module stable, and the class free of state. Text reaches Whoosh already analysed
(:class:`Pretokenized`, made by :class:`searchapp.text.analysis.Analyzer` in the indexer's
workers) and queries never go through Whoosh's parser, so the tokenizer itself never
segments: a plain string here is a bug, and says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from whoosh.analysis import Token, Tokenizer


class Pretokenized(str):
    """A field value with its tokens (term, position, start, end) computed elsewhere."""

    tokens: Sequence[tuple[str, int, int, int]]

    def __new__(cls, text: str, tokens: Sequence[tuple[str, int, int, int]]) -> Pretokenized:
        obj = super().__new__(cls, text)
        obj.tokens = tokens
        return obj


class ChineseTokenizer(Tokenizer):
    """Replays a :class:`Pretokenized` value's tokens as Whoosh tokens."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        if not isinstance(value, Pretokenized):
            raise TypeError("full-text values reach Whoosh analysed (Pretokenized)")
        for text, pos, start, end in value.tokens:
            t.text = text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = value[start:end]
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t
