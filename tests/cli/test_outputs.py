"""Where the ``squall`` command writes: -o/-O streamed to disk, -w, -D, -i, retries, -Z."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.helpers import SQUALL, TIMEOUT, assert_short_error, squall
from tests.servers.app import AppServer
from tests.servers.routes import large_body
from tests.servers.scripted import ScriptedServer, response

ENGINES = ["simple", "curl"]
BIG = 150 * 1024 * 1024  # over the library's 100 MiB buffer limit
BLOCK = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture(params=ENGINES)
def cli_engine(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def big_body(conn: socket.socket, server: ScriptedServer) -> None:
    server.read_request(conn)
    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {BIG}\r\n\r\n".encode())
    for _ in range(BIG // len(BLOCK)):
        conn.sendall(BLOCK)


def peak_rss_mib(argv: list[str], cwd: Path) -> tuple[int, float]:
    """Run argv in a child of a fresh interpreter: its exit status and peak RSS in MiB."""
    code = (
        "import resource, subprocess, sys\n"
        f"status = subprocess.run({argv!r}, cwd={str(cwd)!r}).returncode\n"
        "print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=TIMEOUT * 2)  # fmt: skip
    status, rss = out.stdout.split()
    return int(status), float(rss)


def test_big_download_streams_to_disk(
    cli_engine: str, scripted: Callable[..., ScriptedServer], tmp_path: Path
) -> None:
    server = scripted(big_body)
    argv = [*SQUALL, "--engine", cli_engine, "-sS", "-O", server.url + "/big.bin"]
    status, rss = peak_rss_mib(argv, tmp_path)
    assert status == 0
    path = tmp_path / "big.bin"
    assert path.stat().st_size == BIG
    with path.open("rb") as f:
        assert f.read(len(BLOCK)) == BLOCK
        f.seek(-len(BLOCK), 2)
        assert f.read() == BLOCK
    # The body never sits in memory: the interpreter, squall and the engine take ~40 MiB.
    assert rss < 90, f"peak RSS {rss:.0f} MiB for a {BIG >> 20} MiB download"


def test_write_out_goes_to_stdout_even_with_output(
    app_server: AppServer, cli_engine: str, tmp_path: Path
) -> None:
    out = tmp_path / "body"
    url = app_server.http_url + "/large?size=5000"
    fmt = "%{http_code} %{size_download} %{content_type}|%{filename_effective}"
    fmt += "|%header{content-length}\\n"
    result = squall("--engine", cli_engine, "-o", str(out), "-w", fmt, url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"200 5000 |{out}|5000\n".encode()
    assert out.read_bytes() == large_body(5000)


def test_write_out_json(app_server: AppServer, cli_engine: str) -> None:
    url = app_server.http_url + "/echo"
    result = squall("--engine", cli_engine, "-o", "/dev/null", "-w", "%{json}", url)
    data = json.loads(result.stdout)
    assert (data["http_code"], data["url_effective"], data["method"]) == (200, url, "GET")
    assert data["exitcode"] == 0 and data["http_version"] == "1.1"
    assert data["size_download"] > 0 and data["time_total"] >= data["time_namelookup"] >= 0
    result = squall(
        "--engine", cli_engine, "-o", "/dev/null", "-w", "%{onerror}bad %{exitcode}", url
    )
    assert result.stdout == b""


def test_include_and_dump_header(app_server: AppServer, cli_engine: str, tmp_path: Path) -> None:
    dump = tmp_path / "head.txt"
    result = squall("--engine", cli_engine, "-i", "-D", str(dump), app_server.http_url + "/cookies")
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == b"cookies"
    assert dump.read_bytes() == head + b"\r\n\r\n"
    assert dump.read_bytes().count(b"set-cookie") == 2


def test_remote_name_needs_a_file_name(app_server: AppServer) -> None:
    result = squall("-O", app_server.http_url + "/")
    assert result.returncode == 23
    assert "no file name" in assert_short_error(result)


def test_outputs_pair_with_urls(app_server: AppServer, cli_engine: str, tmp_path: Path) -> None:
    base = app_server.http_url
    result = subprocess.run(
        [*SQUALL, "--engine", cli_engine, "-o", "first", "-O",
         base + "/large?size=10", base + "/echo", base + "/status/201"],
        cwd=tmp_path, capture_output=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "first").read_bytes() == large_body(10)
    assert json.loads((tmp_path / "echo").read_bytes())["path"] == "/echo"
    assert result.stdout == b"status 201"  # the third has no output: stdout


class Flaky:
    """Answers 503 (with a body) ``failures`` times, then 200; counts requests."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, conn: socket.socket, server: ScriptedServer) -> None:
        while server.read_request(conn):
            with self.lock:
                self.count += 1
                failing = self.count <= self.failures
            conn.sendall(response(b"busy", "503 Busy") if failing else response(b"finally"))


def test_retry_transient_statuses(
    cli_engine: str, scripted: Callable[..., ScriptedServer], tmp_path: Path
) -> None:
    flaky = Flaky(2)
    server = scripted(flaky)
    out = tmp_path / "out"
    args = ["--engine", cli_engine, "--retry", "3", "--retry-delay", "0.05", "-o", str(out)]
    result = squall(*args, server.url + "/")
    assert result.returncode == 0 and flaky.count == 3
    assert out.read_bytes() == b"finally"  # nothing of the 503 bodies
    assert result.stderr.decode().count("squall: transient problem (HTTP 503)") == 2
    flaky = Flaky(5)
    result = squall("--engine", cli_engine, "--retry", "1", "--retry-delay", "0", "-f",
                    scripted(flaky).url + "/")  # fmt: skip
    assert result.returncode == 22 and flaky.count == 2


def test_retry_connrefused(cli_engine: str, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/"
    result = squall("--engine", cli_engine, "--retry", "2", "--retry-delay", "0", url)
    assert result.returncode == 7 and b"transient" not in result.stderr
    result = squall("--engine", cli_engine, "--retry", "2", "--retry-delay", "0",
                    "--retry-connrefused", url)  # fmt: skip
    assert result.returncode == 7 and result.stderr.count(b"transient problem") == 2


def test_parallel_fetches_run_at_once(app_server: AppServer, cli_engine: str) -> None:
    # Each request waits until 3 with its key are in flight: only a concurrent run passes.
    url = app_server.http_url + f"/inflight?key=cli-{cli_engine}&want=3&wait=10"
    result = squall("--engine", cli_engine, "-Z", "-w", " %{urlnum}\\n", url, url, url)
    assert result.returncode == 0, result.stderr
    lines = sorted(result.stdout.decode().splitlines())
    assert lines == ["3 0", "3 1", "3 2"]  # whole bodies, not interleaved


def test_parallel_max_bounds_concurrency(app_server: AppServer) -> None:
    url = app_server.http_url + "/inflight?key=cli-max&want=3&wait=0.3"
    result = squall("-Z", "--parallel-max", "2", "-w", "\\n", url, url, url)
    assert result.returncode == 0
    assert max(int(line) for line in result.stdout.decode().split()) == 2
