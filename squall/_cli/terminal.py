"""The terminal side: rich for colour when it is installed, plain text when not.

rich is an optional dependency (the ``cli`` extra); nothing else in squall may
import it. Everything here renders to bytes, so coloured heads, JSON and plain
bodies go through one binary stream in order.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
from collections.abc import Callable
from typing import IO, Any

__all__ = ["Pretty", "format_head", "format_json", "have_rich", "is_tty", "render"]


def have_rich() -> bool:
    """True if rich can be imported (the ``cli`` extra is installed)."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def is_tty(stream: IO[Any]) -> bool:
    """Whether ``stream`` is a terminal (False for a closed or odd stream)."""
    try:
        return stream.isatty()
    except (ValueError, AttributeError):
        return False


class Pretty:
    """--pretty: whether to colour (``colors``) and to reformat JSON (``format``)."""

    def __init__(self, choice: str | None, stdout_is_tty: bool) -> None:
        choice = choice or ("all" if stdout_is_tty else "none")
        self.colors = choice in ("all", "colors") and have_rich() and "NO_COLOR" not in os.environ
        self.format = choice in ("all", "format")

    @property
    def active(self) -> bool:
        return self.colors or self.format


def render(draw: Callable[[Any], None], colors: bool, stream: IO[Any] = sys.stdout) -> bytes:
    """What ``draw(console)`` prints on a rich Console, as bytes (colours if asked)."""
    from rich.console import Console

    out = io.StringIO()
    width = shutil.get_terminal_size((100, 24)).columns if is_tty(stream) else 100
    console = Console(
        file=out,
        force_terminal=colors,
        no_color=not colors,
        color_system="auto" if colors else None,
        width=width,
        highlight=False,
        soft_wrap=True,
    )
    draw(console)
    return out.getvalue().encode("utf-8", "replace")


def format_head(lines: list[str], colors: bool) -> bytes:
    """The response head: as received, or coloured (status line, field names)."""
    raw = "".join(lines).encode("latin-1", "replace")
    if not colors:
        return raw
    from rich.text import Text

    def draw(console: Any) -> None:
        for line in lines:
            text = line.rstrip("\r\n")
            if text.startswith("HTTP/"):
                version, _, rest = text.partition(" ")
                code = rest.split(" ", 1)[0]
                style = "green" if code.startswith("2") else "yellow" if code[:1] == "3" else "red"
                console.print(Text.assemble((version, "blue"), " ", (rest, f"bold {style}")))
            elif ":" in text:
                name, _, value = text.partition(":")
                console.print(Text.assemble((name, "cyan"), ":", value))
            else:
                console.print(text)

    return render(draw, True)


def format_json(body: bytes, colors: bool) -> bytes | None:
    """The body re-indented (and coloured) if it is JSON, else None."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not colors:
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()
    return render(lambda console: console.print_json(data=data, indent=2), True)
