"""The request grammar both engines send by (RFC 9110 §5, RFC 9112 §3).

One place for what may appear in a request head: HTTPRequest checks its
options with it, the simple engine's serialiser and the curl engine's header
list check what they are about to send with it (a request's headers may change
after it was built). Imports nothing of squall's.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Final

__all__ = [
    "CONTROLS",
    "TOKEN",
    "has_control",
    "is_token",
    "names_are_tokens",
    "value_problem",
]

#: RFC 9110 §5.6.2: token = 1*tchar.
TOKEN: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN_RE: Final = re.compile(TOKEN)
# Names checked all at once, joined by a space (no tchar): one match and one
# count of the spaces, so that a name holding a space cannot pass as two tokens.
_TOKENS_RE: Final = re.compile(f"{TOKEN}(?: {TOKEN})*")

#: What would end a line early and smuggle a header or a second request.
CONTROLS: Final = ("\r", "\n", "\x00")

# RFC 9110 §5.5: a field value is visible ASCII, obs-text (0x80-0xFF), space and tab.
_NOT_IN_VALUE: Final = re.compile(r"[^\t\x20-\x7e\x80-\xff]")


def is_token(text: str) -> bool:
    """Whether ``text`` is an RFC 9110 token (a method, a field name)."""
    return _TOKEN_RE.fullmatch(text) is not None


def names_are_tokens(names: Collection[str]) -> bool:
    """Whether every name is a token: one C-speed match for a whole header list."""
    joined = " ".join(names)
    return _TOKENS_RE.fullmatch(joined) is not None and joined.count(" ") == len(names) - 1


def has_control(text: str) -> bool:
    """Whether ``text`` holds a CR, LF or NUL."""
    return "\r" in text or "\n" in text or "\0" in text


def value_problem(text: str) -> str | None:
    """What makes ``text`` unfit for a field value, as words for an error, or None."""
    if _NOT_IN_VALUE.search(text) is None:
        return None
    if has_control(text):
        return "contains a CR, LF or NUL character"
    if max(text) > "\xff":
        return "is not latin-1 text"
    return "contains a control character"
