"""The documentation site's checks that need no Sphinx: its examples run, its docstring check works.

Every ``docs/examples/*.py`` is a complete program that the pages include; each
runs here in its own interpreter (examples call ``configure()``, which is
process-wide) against the test app server, and must exit 0. The examples
assert what they show, so a change of behaviour fails them.
"""

from __future__ import annotations

import importlib
import re
import shlex
import subprocess
import sys
import types
from pathlib import Path

import pytest

from tests.servers.app import AppServer
from tests.servers.helpers import PROXY_PASSWORD, PROXY_USER
from tests.servers.tls import Certs

DOCS = Path(__file__).resolve().parent.parent / "docs"
EXAMPLES = sorted(path.name for path in (DOCS / "examples").glob("*.py"))
NEEDS_PROXY = {"proxies.py"}
RUN_TIMEOUT = 60
# squall documentation: nothing here to check against Tornado's clients.
pytestmark = pytest.mark.squall_only

sys.path.insert(0, str(DOCS / "_ext"))  # docs/_ext is not a package
squall_docs = importlib.import_module("squall_docs")


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs(
    name: str, app_server: AppServer, certs: Certs, request: pytest.FixtureRequest
) -> None:
    args = [app_server.http_url, app_server.https_url, certs.ca, app_server.h3_url]
    if name in NEEDS_PROXY:
        host, port = request.getfixturevalue("http_proxy")
        args += [f"{host}:{port}", PROXY_USER, PROXY_PASSWORD]
    proc = subprocess.run(
        [sys.executable, str(DOCS / "examples" / name), *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


def cli_examples() -> list[str]:
    """The command lines of the CLI page's example block."""
    page = (DOCS / "cli.md").read_text()
    block = page.split("## Examples", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


@pytest.mark.parametrize("line", cli_examples())
def test_cli_example_runs(line: str, app_server: AppServer, certs: Certs) -> None:
    line = line.replace("http://127.0.0.1:8000", app_server.http_url)
    line = line.replace("https://127.0.0.1:8443", app_server.https_url)
    args = shlex.split(line.replace(" ca.pem ", f" {certs.ca} "), comments=True)
    assert args[:3] == ["python", "-m", "squall.httpclient"]
    proc = subprocess.run(
        [sys.executable, *args[1:]], capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_example_is_on_a_page() -> None:
    pages = "".join(path.read_text() for path in DOCS.rglob("*.md"))
    included = set(re.findall(r"examples/(\w+\.py)", pages))
    assert set(EXAMPLES) - included == set()


def test_public_names_all_have_docstrings() -> None:
    assert squall_docs.undocumented() == []


def test_docstring_check_finds_what_is_missing() -> None:
    module = types.ModuleType("fake_public", "A module with gaps.")

    class Documented:
        """Has a docstring."""

        def method(self) -> None:
            pass

        @property
        def value(self) -> int:
            return 1

        def _private(self) -> None:
            pass

    class Sub(Documented):
        """Inherits the gaps of its base, which belongs to the package."""

    def bare() -> None:
        pass

    Documented.__module__ = Sub.__module__ = "fake_public"

    module.Documented = Documented  # type: ignore[attr-defined]
    module.Sub = Sub  # type: ignore[attr-defined]
    module.bare = bare  # type: ignore[attr-defined]
    module.__all__ = ["Documented", "Sub", "bare"]  # type: ignore[attr-defined]
    sys.modules["fake_public"] = module
    try:
        missing = squall_docs.undocumented(("fake_public",))
    finally:
        del sys.modules["fake_public"]
    in_base = ["Documented.method", "Documented.value", "Sub.method", "Sub.value", "bare"]
    assert missing == [f"fake_public.{name}" for name in in_base]


def test_changelog_lists_commits_as_plain_text() -> None:
    page = squall_docs.changelog()
    assert page.startswith("# Changelog")
    assert squall_docs._plain("a *b* [c] `x_y*` <d>") == r"a \*b\* \[c\] `x_y*` \<d\>"
