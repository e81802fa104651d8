"""--timing: where the time went, from ``response.time_info``.

libcurl's marks (and the simple engine's, which follow them) are seconds from
the start of the last hop's work, with earlier redirect hops added in front:
``redirect`` <= ``namelookup`` <= ``connect`` <= ``appconnect`` <=
``pretransfer`` <= ``starttransfer`` <= ``total``. A mark of 0 means "did not
happen" (no TLS, a reused connection), so the marks are made monotonic first
and the phases are their differences. The time waiting in the client's queue
comes before all of it.

One URL is drawn as a waterfall (each phase a bar starting where the previous
ended, httpstat-style); several as a table, one row each.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from squall._cli.terminal import render
from squall._cli.writeout import Result

__all__ = ["phases", "print_timing"]

# (time_info mark ending the phase, label, label in the table, colour)
PHASES = (
    ("queue", "queue", "queue", "bright_black"),
    ("redirect", "redirects", "redirs", "magenta"),
    ("namelookup", "DNS lookup", "DNS", "cyan"),
    ("connect", "TCP connect", "TCP", "blue"),
    ("appconnect", "TLS handshake", "TLS", "yellow"),
    ("starttransfer", "TTFB (wait)", "TTFB", "green"),
    ("total", "transfer", "transfer", "red"),
)
_WIDTH = 40


def phases(time_info: dict[str, float]) -> list[tuple[str, float, float]]:
    """(label, start, duration) per phase, in seconds, from time_info."""
    queue = max(time_info.get("queue", 0.0), 0.0)
    out = [("queue", 0.0, queue)]
    mark = 0.0
    for key, label, _, _ in PHASES[1:]:
        value = time_info.get(key, 0.0)
        if key == "starttransfer":
            # The request is written between appconnect and pretransfer: count it as wait.
            value = max(value, time_info.get("pretransfer", 0.0))
        end = max(mark, value)
        out.append((label, queue + mark, end - mark))
        mark = end
    return out


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _bar(start: float, duration: float, total: float) -> tuple[int, int]:
    if total <= 0:
        return 0, 0
    offset = round(start / total * _WIDTH)
    length = max(1, round(duration / total * _WIDTH)) if duration > 0 else 0
    return min(offset, _WIDTH - length), length


def _plain_waterfall(result: Result) -> str:
    rows = phases(result.time_info)
    total = sum(d for _, _, d in rows)
    lines = [f"{result.code} {result.effective_url or result.url}"]
    for label, start, duration in rows:
        offset, length = _bar(start, duration, total)
        bar = f"|{' ' * offset}{'=' * length}" if length else "|"
        lines.append(f"  {label:<14}{_ms(duration):>11}  {bar}")
    lines.append(f"  {'total':<14}{_ms(total):>11}")
    return "\n".join(lines) + "\n"


def _rich_waterfall(console: Any, result: Result) -> None:
    from rich.table import Table
    from rich.text import Text

    rows = phases(result.time_info)
    total = sum(d for _, _, d in rows)
    table = Table(title=f"{result.code} {result.effective_url or result.url}", box=None)
    table.add_column("phase")
    table.add_column("time", justify="right")
    table.add_column("waterfall", min_width=_WIDTH)
    colours = {label: colour for _, label, _, colour in PHASES}
    for label, start, duration in rows:
        offset, length = _bar(start, duration, total)
        bar = Text(" " * offset) + Text("█" * length, style=colours[label])
        table.add_row(label, _ms(duration), bar)
    table.add_row(Text("total", style="bold"), Text(_ms(total), style="bold"), "")
    console.print(table)


def _table_row(result: Result) -> list[str]:
    rows = {label: duration for label, _, duration in phases(result.time_info)}
    total = sum(rows.values())
    code = str(result.code) if result.code else f"({result.exitcode})"
    return [result.url, code, *(_ms(rows[label]) for _, label, _, _ in PHASES), _ms(total)]


def print_timing(results: list[Result], colors: bool, stream: IO[Any] = sys.stderr) -> None:
    """Draw the waterfall (one URL) or the table (several) on ``stream``."""
    header = ["URL", "code", *(short for _, _, short, _ in PHASES), "total"]
    if not colors:
        if len(results) == 1:
            text = _plain_waterfall(results[0])
        else:
            rows = [header, *(_table_row(r) for r in results)]
            widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
            pad = [[c.ljust(w) for c, w in zip(row, widths, strict=True)] for row in rows]
            lines = ["  ".join(cells) for cells in pad]
            text = "".join(line.rstrip() + "\n" for line in lines)
        stream.write(text)
        stream.flush()
        return

    def draw(console: Any) -> None:
        if len(results) == 1:
            _rich_waterfall(console, results[0])
            return
        from rich.table import Table

        table = Table(box=None)
        table.add_column("URL", overflow="fold")
        for name in header[1:]:
            table.add_column(name, justify="right", no_wrap=True)
        for result in results:
            table.add_row(*_table_row(result))
        console.print(table)

    stream.write(render(draw, True, stream).decode("utf-8"))
    stream.flush()
