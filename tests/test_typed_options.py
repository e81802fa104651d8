"""fetch()'s options are typed: mypy catches a misspelt or mistyped option."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

from squall._options import BlockingFetchOptions, RequestOptions
from squall.httpclient import HTTPRequest

MISTAKES = """
from squall.httpclient import AsyncHTTPClient, HTTPClient

async def main() -> None:
    client = AsyncHTTPClient()
    await client.fetch("http://x/", request_timout=5)
    await client.fetch("http://x/", request_timeout="5")
    await client.fetch("http://x/", follow_redirects=1.5, method="GET")

def blocking() -> None:
    with HTTPClient() as client:
        client.fetch("http://x/", raise_error="no")
        client.fetch("http://x/", validate_cert=False, raise_error=False)
"""


def test_options_match_httprequest_parameters() -> None:
    parameters = set(inspect.signature(HTTPRequest).parameters) - {"url"}
    assert set(RequestOptions.__annotations__) == parameters
    assert set(BlockingFetchOptions.__annotations__) == parameters | {"raise_error"}


def test_mypy_reports_each_mistake(tmp_path: Path) -> None:
    source = tmp_path / "mistakes.py"
    source.write_text(textwrap.dedent(MISTAKES))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(source)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    out = result.stdout
    assert 'Unexpected keyword argument "request_timout"' in out, out
    assert 'Argument "request_timeout" to "fetch"' in out, out
    assert 'Argument "follow_redirects" to "fetch"' in out, out
    assert 'Argument "raise_error" to "fetch" of "HTTPClient"' in out, out
    # The last call is fine: four errors, on the four bad lines only.
    assert out.count("error:") == 4, out
