"""The ``squall`` command on a real terminal (a pty): progress bar, colours, waterfall.

And the same runs without a terminal, or without rich, stay plain.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import SQUALL, WITHOUT_RICH, in_pty, squall
from tests.servers.app import AppServer
from tests.servers.routes import large_body

ENGINES = ["simple", "curl"]
ESC = b"\x1b["
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"  # rich's "dots" spinner
BAR = "━".encode()
BLOCK = "█".encode()


def plain(data: bytes) -> str:
    """The terminal output without escape sequences."""
    return re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", data).decode("utf-8", "replace")


@pytest.fixture(params=ENGINES)
def cli_engine(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_progress_bar_with_size(app_server: AppServer, cli_engine: str, tmp_path: Path) -> None:
    out = tmp_path / "dl.bin"
    url = app_server.http_url + "/large?size=5000000"
    status, screen = in_pty([*SQUALL, "--engine", cli_engine, "-o", str(out), url])
    assert status == 0
    assert out.read_bytes() == large_body(5_000_000)
    text = plain(screen)
    assert BAR in screen and ESC in screen
    assert "5.0/5.0 MB" in text and str(out) in text  # size done of total, per file
    assert re.search(r"\d:\d\d:\d\d", text)  # the ETA column


def test_spinner_when_the_size_is_unknown(app_server: AppServer, tmp_path: Path) -> None:
    url = app_server.http_url + "/chunked?chunks=50&size=1000"
    status, screen = in_pty([*SQUALL, "-o", str(tmp_path / "c"), url])
    assert status == 0 and (tmp_path / "c").stat().st_size == 50_000
    text = plain(screen)
    assert any(frame in text for frame in SPINNER)
    assert "50.0/? kB" in text


def test_no_progress_bar_when_silent_or_the_body_is_on_screen(
    app_server: AppServer, tmp_path: Path
) -> None:
    url = app_server.http_url + "/large?size=100000"
    status, screen = in_pty([*SQUALL, "-s", "-o", str(tmp_path / "x"), url])
    assert (status, screen) == (0, b"")
    status, screen = in_pty([*SQUALL, app_server.http_url + "/echo"])
    assert status == 0 and BAR not in screen


def test_colours_and_pretty_json(app_server: AppServer, cli_engine: str) -> None:
    url = app_server.http_url + "/echo"
    status, screen = in_pty([*SQUALL, "--engine", cli_engine, "-i", url])
    assert status == 0 and ESC in screen
    text = plain(screen)
    assert re.match(r"HTTP/1\.1 200", text)
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    assert "content-type: application/json" in head.lower()
    assert '\n  "method": "GET",\n' in body and json.loads(body)["path"] == "/echo"
    status, screen = in_pty([*SQUALL, "--pretty", "none", url])
    assert ESC not in screen and json.loads(screen)["path"] == "/echo"
    assert b'{"method": "GET", ' in screen  # as the server sent it


def test_pretty_output_is_off_without_a_terminal(app_server: AppServer) -> None:
    result = squall(app_server.http_url + "/echo")
    assert ESC not in result.stdout and result.stdout.startswith(b'{"method": "GET", ')
    result = squall("--pretty", "format", app_server.http_url + "/echo")
    assert result.stdout.startswith(b'{\n  "method": "GET",\n') and ESC not in result.stdout


def test_timing_waterfall(app_server: AppServer, cli_engine: str) -> None:
    url = app_server.http_url + "/large?size=2000000"
    status, screen = in_pty([*SQUALL, "--engine", cli_engine, "--timing", "-o", "/dev/null", url])
    assert status == 0 and ESC in screen and BLOCK in screen
    text = plain(screen)
    assert f"200 {url}" in text
    rows = {line.split("  ")[0].strip(): line for line in text.splitlines() if " ms" in line}
    for phase in ("queue", "DNS lookup", "TCP connect", "TLS handshake", "TTFB (wait)", "transfer"):
        assert phase in rows, text
    assert "total" in rows


def test_timing_table_for_several_urls(app_server: AppServer) -> None:
    urls = [app_server.http_url + "/echo", app_server.http_url + "/status/404"]
    status, screen = in_pty([*SQUALL, "--timing", "-o", "/dev/null", "-o", "/dev/null", *urls])
    assert status == 0 and ESC in screen
    text = plain(screen)
    assert "URL" in text and "TTFB" in text
    assert all(url[:20] in text for url in urls) and "404" in text


def test_timing_without_a_terminal_is_plain_text(app_server: AppServer) -> None:
    result = squall("--timing", app_server.http_url + "/echo")
    err = result.stderr.decode()
    assert result.returncode == 0 and ESC.decode() not in err
    assert "DNS lookup" in err and "total" in err and "|" in err


def test_without_rich_the_command_works_plainly(app_server: AppServer, tmp_path: Path) -> None:
    out = tmp_path / "dl"
    argv = [sys.executable, "-c", WITHOUT_RICH]
    url = app_server.http_url + "/large?size=300000"
    status, screen = in_pty([*argv, "--timing", "-o", str(out), url])
    assert status == 0 and out.read_bytes() == large_body(300_000)
    assert ESC not in screen and BAR not in screen  # no colour, no bar
    assert b"DNS lookup" in screen and b"=" in screen  # the plain waterfall
    status, screen = in_pty([*argv, "-i", app_server.http_url + "/echo"])
    assert status == 0 and ESC not in screen
    assert b'\r\n  "method": "GET",\r\n' in screen  # JSON still re-indented


def test_binary_body_is_not_written_to_the_terminal(app_server: AppServer) -> None:
    url = app_server.http_url + "/encoded?coding=gzip&force=1"  # gzip bytes, not decoded
    status, screen = in_pty([*SQUALL, url])
    assert status == 23
    assert plain(screen).startswith("squall: (23) binary output can mess up your terminal")
    status, screen = in_pty([*SQUALL, "-o", "-", url])
    assert status == 0 and screen.startswith(b"\x1f\x8b")  # the gzip magic, as insisted
    assert squall(url).stdout.startswith(b"\x1f\x8b")  # not a terminal: written
