"""The progress bar on stderr: size, rate and ETA, or a spinner when the size is unknown.

Shown only when stderr is a terminal, ``-s`` is not given and the body is not
going to that terminal itself (curl's rule for its meter). Drawn by rich; without
rich there is no bar (the command works the same otherwise).
"""

from __future__ import annotations

import sys
from typing import Any

from squall._cli.terminal import have_rich, is_tty

__all__ = ["Meter", "make_meter"]


class Task:
    """One transfer's line; the no-op base when nothing is drawn."""

    def start(self, total: int | None) -> None:
        """The head arrived: ``total`` is the body size if known."""

    def advance(self, size: int) -> None:
        """``size`` more body bytes arrived."""

    def restart(self) -> None:
        """A retry: the count starts again."""


class Meter:
    """Makes a Task per transfer; ``close()`` leaves the last picture on screen."""

    def task(self, label: str) -> Task:
        """A line for one transfer."""
        return Task()

    def close(self) -> None:
        """Stop drawing."""


class _RichTask(Task):
    def __init__(self, progress: Any, label: str) -> None:
        self.progress = progress
        self.id = progress.add_task(label, total=None, start=False)

    def start(self, total: int | None) -> None:
        self.progress.update(self.id, total=total)
        self.progress.start_task(self.id)

    def advance(self, size: int) -> None:
        self.progress.advance(self.id, size)

    def restart(self) -> None:
        self.progress.reset(self.id, total=None, start=False)


class _RichMeter(Meter):
    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        class SizeOrSpinner(SpinnerColumn):
            # The spinner stands in for the bar's missing end: only without a size.
            def render(self, task: Any) -> Any:
                return super().render(task) if task.total is None and not task.finished else ""

        self.progress = Progress(
            TextColumn("{task.description}"),
            SizeOrSpinner(),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
            refresh_per_second=8,
        )
        self.progress.start()

    def task(self, label: str) -> Task:
        return _RichTask(self.progress, label)

    def close(self) -> None:
        self.progress.stop()


def make_meter(silent: bool, body_to_terminal: bool) -> Meter:
    """A drawing meter if stderr is a terminal and the body goes elsewhere, else a no-op."""
    if silent or body_to_terminal or not is_tty(sys.stderr) or not have_rich():
        return Meter()
    return _RichMeter()
