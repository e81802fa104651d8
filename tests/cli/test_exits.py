"""Exit statuses (curl's numbers) and error lines of the ``squall`` command, both engines."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from squall import __version__
from tests.cli.helpers import assert_short_error, squall
from tests.servers.app import AppServer
from tests.servers.scripted import ScriptedServer, reply_once, response
from tests.servers.tls import Certs

ENGINES = ["simple", "curl"]


@pytest.fixture(params=ENGINES)
def cli_engine(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_any_status_is_0_and_fail_is_22(app_server: AppServer, cli_engine: str) -> None:
    url = app_server.http_url + "/status/404"
    result = squall("--engine", cli_engine, url)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"status 404", b"")
    result = squall("--engine", cli_engine, "--fail", url)
    assert (result.returncode, result.stdout) == (22, b"")
    assert assert_short_error(result) == "squall: (22) The requested URL returned error: 404\n"
    result = squall("--engine", cli_engine, "--fail-with-body", url)
    assert (result.returncode, result.stdout) == (22, b"status 404")
    result = squall("--engine", cli_engine, "-fsS", app_server.http_url + "/status/500")
    assert result.returncode == 22 and result.stderr.startswith(b"squall: (22)")
    result = squall("--engine", cli_engine, "-fs", app_server.http_url + "/status/500")
    assert (result.returncode, result.stderr) == (22, b"")


def test_dns_failure_is_6(cli_engine: str) -> None:
    result = squall("--engine", cli_engine, "http://nonexistent.invalid/")
    assert result.returncode == 6
    assert "nonexistent.invalid" in assert_short_error(result)


def test_refused_is_7(cli_engine: str, closed_port: int) -> None:
    result = squall("--engine", cli_engine, f"http://127.0.0.1:{closed_port}/")
    assert (result.returncode, result.stdout) == (7, b"")
    assert "refused" in assert_short_error(result).lower()


def test_timeout_is_28(app_server: AppServer, cli_engine: str) -> None:
    result = squall("--engine", cli_engine, "-m", "0.3", app_server.http_url + "/slow?delay=5")
    assert result.returncode == 28
    assert "timeout" in assert_short_error(result).lower()


def test_untrusted_certificate_is_60(app_server: AppServer, cli_engine: str, certs: Certs) -> None:
    url = app_server.https_url + "/echo"
    result = squall("--engine", cli_engine, url)
    assert result.returncode == 60
    assert "certificate" in assert_short_error(result).lower()
    assert squall("--engine", cli_engine, "--cacert", certs.ca, url).returncode == 0
    assert squall("--engine", cli_engine, "-k", url).returncode == 0


def test_tls_failure_is_35(cli_engine: str, scripted: Callable[..., ScriptedServer]) -> None:
    def plain_text_answer(conn: socket.socket, server: ScriptedServer) -> None:
        conn.recv(65536)  # the ClientHello
        conn.sendall(b"HTTP/1.1 200 OK\r\n\r\nnot TLS at all")
        server.wait()

    server = scripted(plain_text_answer)
    result = squall("--engine", cli_engine, "-k", server.url.replace("http:", "https:") + "/")
    assert result.returncode == 35, result.stderr
    assert_short_error(result)


def test_redirect_loop_is_47(
    app_server: AppServer, cli_engine: str, scripted: Callable[..., ScriptedServer]
) -> None:
    def loop(conn: socket.socket, server: ScriptedServer) -> None:
        while server.read_request(conn):
            conn.sendall(response(b"", "302 Found", ["Location: /loop"]))

    result = squall("--engine", cli_engine, "-L", scripted(loop).url + "/loop")
    assert result.returncode == 47
    assert assert_short_error(result) == "squall: (47) Maximum (50) redirects followed\n"
    result = squall(
        "--engine", cli_engine, "-L", "--max-redirs", "2", app_server.http_url + "/chain/3"
    )
    assert result.returncode == 47 and "Maximum (2)" in result.stderr.decode()
    assert squall("--engine", cli_engine, "-L", app_server.http_url + "/chain/3").returncode == 0


def test_max_filesize_is_63(app_server: AppServer, cli_engine: str) -> None:
    url = app_server.http_url + "/large?size=100000"
    result = squall("--engine", cli_engine, "--max-filesize", "1000", url)
    assert result.returncode == 63
    # curl's words, on both engines (not the library's, which name max_body_size).
    assert assert_short_error(result) == "squall: (63) Maximum file size exceeded\n"
    chunked = app_server.http_url + "/chunked?chunks=10&size=200"
    assert squall("--engine", cli_engine, "--max-filesize", "1000", chunked).returncode == 63
    assert squall("--engine", cli_engine, "--max-filesize", "2000", chunked).returncode == 0


def test_malformed_response_is_8(cli_engine: str, scripted: Callable[..., ScriptedServer]) -> None:
    server = scripted(reply_once(b"HTTP/1.1 abc Nope\r\n\r\n"))
    result = squall("--engine", cli_engine, server.url + "/")
    assert result.returncode == 8, result.stderr
    assert_short_error(result)


def test_closed_mid_body_is_18(cli_engine: str, scripted: Callable[..., ScriptedServer]) -> None:
    server = scripted(reply_once(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly some"))
    result = squall("--engine", cli_engine, server.url + "/")
    assert (result.returncode, result.stdout) == (18, b"only some")
    assert_short_error(result)
    server = scripted(reply_once(b""))  # closed before any response: not a partial body
    assert squall("--engine", cli_engine, server.url + "/").returncode == 56
    server = scripted(reply_once(b"HTTP/1.1 200 OK\r\nContent-Le"))  # in the head: neither
    assert squall("--engine", cli_engine, server.url + "/").returncode == 56


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
        (["-H", "no colon"], "bad header 'no colon'"),
        (["--retry", "-1"], "--retry must be positive"),
        (["-o", "a", "-o", "b"], "2 outputs (-o/-O) for 1 URLs"),
        (["--json", "{}", "-d", "x"], "cannot be combined"),
        (["-F", "novalue"], "bad -F 'novalue'"),
        (["http://a b/"], "http://a b/"),
    ],
)
def test_usage_errors_are_2_before_any_request(
    args: list[str], needle: str, closed_port: int
) -> None:
    result = squall(*args, f"http://127.0.0.1:{closed_port}/")
    assert result.returncode == 2 and result.stdout == b""
    err = result.stderr.decode()
    assert needle in err and "Traceback" not in err
    if args == ["--no-such-flag"]:  # argparse's errors: the line and a hint, no usage block
        assert err == (
            "squall: unrecognized arguments: --no-such-flag\nsquall: try 'squall --help' for more\n"
        )
    else:
        assert_short_error(result)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["-m", "abc"], "argument -m/--max-time: invalid float value: 'abc'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_a_bad_flag_is_two_lines_as_curl(args: list[str], problem: str, closed_port: int) -> None:
    # curl: "curl: option -m: expected a proper numerical parameter", then
    # "curl: try 'curl --help' ..."; any other usage error is one line.
    result = squall(*args, f"http://127.0.0.1:{closed_port}/")
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode() == f"squall: {problem}\nsquall: try 'squall --help' for more\n"
    other = squall("-H", "no colon", f"http://127.0.0.1:{closed_port}/")
    assert other.returncode == 2
    assert_short_error(other, lines=1)


def test_unreadable_file_is_26(closed_port: int) -> None:
    for flag in (["-d", "@/nonexistent/file"], ["-F", "f=@/nonexistent/file"]):
        result = squall(*flag, f"http://127.0.0.1:{closed_port}/")
        assert result.returncode == 26
        assert assert_short_error(result).startswith("squall: (26) can't read /nonexistent/file")


def test_several_urls_exit_with_the_last_failure(app_server: AppServer, closed_port: int) -> None:
    dead = f"http://127.0.0.1:{closed_port}/"
    result = squall("-f", dead, app_server.http_url + "/status/503", app_server.http_url + "/echo")
    assert result.returncode == 22
    err = result.stderr.decode().splitlines()
    assert err[0].startswith(f"squall: {dead}: (7) ") and err[1].endswith("error: 503")


def test_silent_and_show_error(cli_engine: str, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/"
    assert squall("--engine", cli_engine, "-s", url).stderr == b""
    assert squall("--engine", cli_engine, "-sS", url).stderr.startswith(b"squall: (7) ")


def test_console_script_and_version() -> None:
    (entry,) = entry_points(group="console_scripts", name="squall")
    assert entry.value == "squall._cli:squall_main"
    script = Path(sys.executable).with_name("squall")
    result = subprocess.run([str(script), "--version"], capture_output=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, f"squall {__version__}\n".encode())
