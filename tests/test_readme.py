"""Every Python example in the README runs as written, against a local server.

The examples name ``http://127.0.0.1:8000/...``; the test points them at the
test app server's /echo route instead (``/echo/...`` answers any path), and
runs each in a fresh interpreter with warnings as errors (``-X dev -W error``:
an unclosed client or socket fails it).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers.app import AppServer

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_has_python_examples() -> None:
    assert BLOCKS


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int, app_server: AppServer) -> None:
    code = BLOCKS[index].replace("http://127.0.0.1:8000/", app_server.http_url + "/echo/")
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert result.stdout.strip(), "the example printed nothing"
