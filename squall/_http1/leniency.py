"""Valid HTTP that llhttp refuses, read as Tornado and libcurl read it.

llhttp (the simple engine's parser) stays strict, and only what it refused is
looked at again here, so the common path pays nothing:

* ``rewritten_head``: a head with folded lines (obs-fold, RFC 9112 section
  5.2: a user agent replaces each with SP) or with Content-Length fields that
  all give one value (``42, 42``, or repeated fields; RFC 9110 section 8.6)
  becomes the head llhttp accepts, parsed a second time; unequal lengths are
  refused with the curl engine's rule (``squall._framing.content_length``).
* ``ChunkLines``: chunk extensions with bad whitespace (BWS) around ";" and
  "=" (``6 ; q="x"``, RFC 9112 section 7.1.1), which we ignore anyway (as
  Tornado does). It follows a chunked body's framing -- chunk-size line, so
  many bytes of data and CRLF, the next line -- and hands llhttp every size
  line whose extensions have BWS as the bare size. Everything else reaches
  llhttp untouched, which still checks all of the framing; a line that is not
  valid chunk-ext grammar (a space after the size with no extension, ``6 ``)
  is passed on for llhttp to refuse. Following costs a find and an int() per
  chunk, for chunked bodies only; a body with no such line is handed on as
  the same bytes object.

This module imports no asyncio, socket or ssl.
"""

from __future__ import annotations

import re
from typing import Final

from squall._framing import content_length

__all__ = ["FOLD_ERROR", "LENGTH_ERRORS", "ChunkLines", "rewritten_head"]

#: llhttp's refusal of an obs-fold.
FOLD_ERROR: Final = "Unexpected whitespace after header value"
#: llhttp's refusals of a Content-Length list ("42, 42") or of a repeated field.
LENGTH_ERRORS: Final = frozenset(
    {"Duplicate Content-Length", "Invalid character in Content-Length"}
)
# obs-fold: a field line continued on the next line after CRLF and whitespace.
_OBS_FOLD: Final = re.compile(rb"\r\n[ \t]+")
# A Content-Length field line of a complete head (group 1: its value).
_CONTENT_LENGTH_LINE: Final = re.compile(rb"(?im)^content-length[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r\n")


def rewritten_head(joined: bytes, end: int) -> bytes:
    """``joined`` (a head through its blank line at ``end``, then maybe body bytes)
    with its folds joined by SP and equal Content-Lengths made one field.

    Raises:
        RemoteProtocolError: Content-Length values that differ, or a bad one.
    """
    first = joined.find(b"\r\n") + 2  # a space-led line after the status line is no fold
    fields = _OBS_FOLD.sub(b" ", joined[first : end + 4])
    lengths = _CONTENT_LENGTH_LINE.findall(fields)
    if len(lengths) > 1 or b"," in b"".join(lengths):
        length = content_length([value.decode("latin-1") for value in lengths])
        fields = b"Content-Length: %d\r\n" % length + _CONTENT_LENGTH_LINE.sub(b"", fields)
    return joined[:first] + fields + joined[end + 4 :]


_SIZE: Final = re.compile(rb"[0-9A-Fa-f]+")
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
# chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
_EXTENSIONS: Final = re.compile(
    rb"(?:[ \t]*;[ \t]*" + _TOKEN + rb"(?:[ \t]*=[ \t]*(?:" + _TOKEN + b"|" + _QUOTED + rb"))?)+"
)
# A size line longer than this is not followed further (llhttp judges it).
_MAX_LINE: Final = 8192


class ChunkLines:
    """Follows one chunked body from its first chunk-size line (see the module docstring)."""

    __slots__ = ("_partial", "_skip", "done")

    def __init__(self) -> None:
        self._skip = 0  # chunk data and CRLF bytes before the next size line
        self._partial = b""  # the start of a size line, held back until its LF
        #: The last chunk's line was seen (llhttp reads the trailers) or the framing
        #: is not followed any more.
        self.done = False

    def rewrite(self, data: bytes) -> bytes:
        """The bytes to feed llhttp instead of the body's next bytes ``data`` (the
        start of a size line at its end is held back until the line is whole)."""
        if self._partial:
            data = self._partial + data
            self._partial = b""
        size_of = len(data)
        pos = start = 0
        pieces: list[bytes] = []
        while pos < size_of and not self.done:
            skip = self._skip
            if skip:
                if skip >= size_of - pos:
                    self._skip = skip - (size_of - pos)
                    pos = size_of
                    break
                pos += skip
                self._skip = 0
            end = data.find(b"\n", pos, pos + _MAX_LINE)
            match = _SIZE.match(data, pos)
            if end < 0:
                if match is not None and size_of - pos < _MAX_LINE:
                    self._partial = data[pos:]  # wait for the rest of the line
                    break
                self.done = True
                break
            if match is None:
                self.done = True  # not a size line: llhttp refuses it
                break
            ext = data[match.end() : end - 1]
            if (
                (b" " in ext or b"\t" in ext)
                and data[end - 1 : end] == b"\r"
                and _EXTENSIONS.fullmatch(ext)
            ):
                pieces.append(data[start : match.end()])
                start = end - 1  # the line goes on as its size and CRLF
            size = int(match.group(), 16)
            pos = end + 1
            if size == 0:
                self.done = True  # the trailers follow: llhttp's
            else:
                self._skip = size + 2
        stop = size_of - len(self._partial)
        if not pieces:
            return data if stop == size_of else data[:stop]
        pieces.append(data[start:stop])
        return b"".join(pieces)
