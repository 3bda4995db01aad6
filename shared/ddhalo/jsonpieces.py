"""Decoding a large JSON answer piece by piece, never holding all of its text as one str.

``json.loads(body)`` first decodes the whole body into a str. Python stores a str at the width
of its widest character, so a 35 MB answer of 50,000 subscription rows becomes a 35 MB str if
every character is ASCII, and a 140 MB one if a single customer name carries an emoji (an
answer in raw UTF-8). That str lives beside the bytes and the records made from them. Here the
bytes are decoded a piece at a time and each element of a top-level array (or of an array under
a top-level object's key, as in ``{"Out": [...]}``) is decoded on its own, so the text held at
once is about one piece.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from typing import Any

PIECE_BYTES = 256 * 1024
_WHITESPACE = " \t\n\r"
# A value ending this close to the window's end is decoded again once the next piece is in.
_NUMBER_ROOM = 64


def loads(
    body: bytes,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
    piece_bytes: int = PIECE_BYTES,
) -> Any:
    """What ``json.loads(body, object_pairs_hook=...)`` answers, decoded in pieces. Raises
    ``json.JSONDecodeError`` (a ``ValueError``) for anything that is not one JSON value."""
    if len(body) <= piece_bytes or json.detect_encoding(body) != "utf-8":
        return json.loads(body, object_pairs_hook=object_pairs_hook)
    return _Pieces(body, object_pairs_hook, piece_bytes).document()


class _Pieces:
    """A window of decoded text over the body: ``text[pos:]`` is what is not parsed yet."""

    def __init__(
        self, body: bytes, hook: Callable[[list[tuple[str, Any]]], Any] | None, piece_bytes: int
    ) -> None:
        self.body, self.hook, self.piece_bytes = body, hook, piece_bytes
        self.decoder = json.JSONDecoder(object_pairs_hook=hook)
        self.utf8 = codecs.getincrementaldecoder("utf-8")("surrogatepass")
        self.offset = 0  # bytes of the body decoded into the window so far
        self.text, self.pos = "", 0

    def document(self) -> Any:
        value = self.node()
        if self.peek():
            self.fail("Extra data")
        return value

    def more(self, grow: int = 1) -> bool:
        """Decode the next piece (``grow`` pieces) into the window; False at the body's end."""
        if self.offset >= len(self.body):
            return False
        size = self.piece_bytes * grow
        piece = self.body[self.offset : self.offset + size]
        self.offset += size
        self.text = self.text[self.pos :] + self.utf8.decode(piece, final=self.offset >= len(self.body))
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end), not consumed."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def take(self, char: str) -> None:
        if self.peek() != char:
            self.fail(f"Expecting {char!r}")
        self.pos += 1

    def fail(self, message: str) -> None:
        raise json.JSONDecodeError(message, self.text, self.pos)  # the position is in the window

    def node(self) -> Any:
        """The value at the window's start: an array or object is walked, anything else decoded."""
        char = self.peek()
        if char == "[":
            return self.array()
        if char == "{":
            return self.members()
        return self.value()

    def value(self) -> Any:
        """One whole value, decoded by the C scanner; the window grows until it holds all of it."""
        if not self.peek():
            self.fail("Expecting value")
        grow = 1
        while True:
            try:
                value, end = self.decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError:
                if not self.more(grow):
                    raise
                grow *= 2  # one very long value is read in doubling pieces, not re-scanned per piece
                continue
            if len(self.text) - end < _NUMBER_ROOM and self.more(grow):
                continue  # a number cut by the piece's end ("-2." of "-2.5e3") parses short
            self.pos = end
            return value

    def array(self) -> list[Any]:
        self.take("[")
        items: list[Any] = []
        if self.peek() == "]":
            self.pos += 1
            return items
        while True:
            items.append(self.value())
            if self.peek() == ",":
                self.pos += 1
                continue
            self.take("]")
            return items

    def members(self) -> Any:
        """An object whose array values are walked element by element, the rest decoded whole."""
        self.take("{")
        pairs: list[tuple[str, Any]] = []
        if self.peek() != "}":
            while True:
                if self.peek() != '"':
                    self.fail("Expecting property name enclosed in double quotes")
                key = self.value()
                self.take(":")
                pairs.append((key, self.array() if self.peek() == "[" else self.value()))
                if self.peek() == ",":
                    self.pos += 1
                    continue
                break
        self.take("}")
        return self.hook(pairs) if self.hook else dict(pairs)
