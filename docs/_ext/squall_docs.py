"""A local Sphinx extension: what the site takes from the repository besides the pages.

- Every public name of the documented modules must have a docstring: each one
  missing is a warning, which the ``-W`` build turns into a failure (autodoc
  would list the name with no description).
- ``changelog.md`` is filled from ``git log`` when it is read, so it is never stale.
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_MODULES = (
    "squall.httpclient",
    "squall.httputil",
    "squall.simple_httpclient",
    "squall.curl_httpclient",
)


def undocumented(module_names: tuple[str, ...] = PUBLIC_MODULES) -> list[str]:
    """The public names (``__all__`` and their public members) without a docstring."""
    missing: list[str] = []
    seen: set[int] = set()
    for module_name in module_names:
        module = importlib.import_module(module_name)
        if not (module.__doc__ or "").strip():
            missing.append(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if id(obj) in seen or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            seen.add(id(obj))
            if not _own_doc(obj):
                missing.append(f"{module_name}.{name}")
            if inspect.isclass(obj):
                # squall's own bases too: their public members are the class's API.
                for klass in obj.__mro__:
                    if klass.__module__.split(".")[0] == module_name.split(".")[0]:
                        missing += [
                            f"{module_name}.{name}.{m}" for m in _undocumented_members(klass)
                        ]
    return missing


def _own_doc(obj: Any) -> bool:
    doc = vars(obj).get("__doc__") if inspect.isclass(obj) else obj.__doc__
    return bool((doc or "").strip())


def _undocumented_members(cls: type) -> Iterator[str]:
    # Members the class defines itself (the caller walks the bases).
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        function = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
        is_api = isinstance(function, property) or inspect.isfunction(function)
        if is_api and not (function.__doc__ or "").strip():
            yield name


def changelog() -> str:
    """The changelog page: every commit subject from ``git log``, newest first, by day."""
    lines = [
        "# Changelog",
        "",
        "Every change, newest first, made from the repository's history when the site is built.",
    ]
    try:
        out = subprocess.run(
            ["git", "log", "--no-merges", "--date=short", "--format=%ad%x09%h%x09%s"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        _log().warning("changelog: git log failed: %s", exc)
        return "\n".join([*lines, "", "(No history in this copy of the source.)", ""])
    day = None
    for entry in out.splitlines():
        date, commit, subject = entry.split("\t", 2)
        if date != day:
            day = date
            lines += ["", f"## {date}", ""]
        lines.append(f"- {_plain(subject)} (`{commit}`)")
    return "\n".join(lines) + "\n"


def _plain(subject: str) -> str:
    """A commit subject as Markdown: its `code spans` kept, nothing else turned into markup."""
    parts = subject.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no code spans at all
        parts = [subject.replace("`", "'")]
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"([*_\[\]\\<>{}#|&])", r"\\\1", parts[i])
    return "`".join(parts)


def _log() -> Any:
    # Imported here: the tests use undocumented() without Sphinx installed.
    from sphinx.util import logging

    return logging.getLogger(__name__)


def _check_docstrings(app: Sphinx) -> None:
    for name in undocumented():
        _log().warning("public name without a docstring: %s", name)


def _fill_changelog(app: Sphinx, docname: str, source: list[str]) -> None:
    if docname == "changelog":
        source[0] = changelog()


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the docstring check and the changelog with Sphinx."""
    app.connect("builder-inited", _check_docstrings)
    app.connect("source-read", _fill_changelog)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
