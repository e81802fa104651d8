"""The seed command, ``python -m squall.httpclient``: Tornado's flags and defaults,
run as a subprocess against a real server on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from squall import _errors
from squall._cli import arguments, build, exits
from squall._cli.main import main as seed_main

ENGINES = ["simple", "curl"]
HELLO = b"Hello, world!\n"


class Handler(BaseHTTPRequestHandler):
    """/hello, /redirect (302 to /hello), /echo (the request as JSON); else 404."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus
    # the client's delayed ACK would add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path == "/hello":
            self._send(200, HELLO)
        elif self.path == "/redirect":
            self._send(302, b"moved\n", Location="/hello")
        elif self.path == "/echo":
            echo = {
                "method": self.command,
                "body": body.decode("latin-1"),
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }
            self._send(200, json.dumps(echo).encode(), "application/json")
        else:
            self._send(404, b"not found\n")

    do_GET = do_POST = do_PUT = do_DELETE = _reply

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(HELLO)))
        self.send_header("X-Method", "HEAD")
        self.end_headers()

    def _send(self, code: int, body: bytes, ctype: str = "text/plain", **extra: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(ThreadingHTTPServer):
    request_queue_size = 64  # the default 5 drops SYNs under load (1 s retransmits)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    """The CLI's ``--engine`` value (not conftest's ``engine``, a class's dotted name)."""
    name: str = request.param
    return name


def cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "squall.httpclient", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def assert_short_error(result: subprocess.CompletedProcess[bytes]) -> str:
    """stderr is one line naming the cause, with no traceback."""
    err = result.stderr.decode()
    assert "Traceback" not in err, err
    assert err.startswith("squall: ") and err.count("\n") == 1, err
    return err


def echo(result: subprocess.CompletedProcess[bytes]) -> dict[str, object]:
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_body_printed(base: str, engine_name: str) -> None:
    result = cli("--engine", engine_name, base + "/hello")
    assert (result.returncode, result.stdout, result.stderr) == (0, HELLO, b"")


@pytest.mark.parametrize("flag", ["--print_headers", "--print-headers", "-i"])
def test_print_headers(base: str, engine_name: str, flag: str) -> None:
    result = cli("--engine", engine_name, flag, base + "/hello")
    assert result.returncode == 0, result.stderr
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and b" 200 " in head.split(b"\r\n")[0]
    assert b"Content-Type: text/plain" in head
    assert body == HELLO


def test_print_body_false(base: str, engine_name: str) -> None:
    result = cli("--engine", engine_name, "--print_headers", "--print_body=false", base + "/hello")
    assert result.returncode == 0, result.stderr
    assert b"Content-Length: 14" in result.stdout
    assert HELLO not in result.stdout


def test_follow_redirects_by_default(base: str, engine_name: str) -> None:
    result = cli("--engine", engine_name, base + "/redirect")
    assert (result.returncode, result.stdout) == (0, HELLO)


def test_follow_redirects_false(base: str, engine_name: str) -> None:
    result = cli("--engine", engine_name, "--follow_redirects=false", "-i", base + "/redirect")
    assert result.returncode == 1
    assert b" 302 " in result.stdout.split(b"\r\n")[0]
    assert b"Location: /hello" in result.stdout
    assert result.stdout.endswith(b"moved\n")
    assert "HTTP 302" in assert_short_error(result)


def test_http_error_prints_response(base: str, engine_name: str) -> None:
    result = cli("--engine", engine_name, base + "/missing")
    assert (result.returncode, result.stdout) == (1, b"not found\n")
    assert assert_short_error(result) == "squall: HTTP 404: Not Found\n"


def test_post_data(base: str, engine_name: str) -> None:
    got = echo(cli("--engine", engine_name, "-X", "POST", "-d", "a=1", base + "/echo"))
    assert (got["method"], got["body"]) == ("POST", "a=1")
    headers = got["headers"]
    assert isinstance(headers, dict)
    assert headers["content-type"] == "application/x-www-form-urlencoded"


def test_data_implies_post_and_reads_files(base: str, engine_name: str, tmp_path: Path) -> None:
    path = tmp_path / "body.bin"
    path.write_bytes(b"from a file")
    got = echo(cli("--engine", engine_name, "-d", f"@{path}", "-d", "x=2", base + "/echo"))
    assert (got["method"], got["body"]) == ("POST", "from a file&x=2")
    got = echo(
        cli("--engine", engine_name, "-X", "PUT", "-d", "@-", base + "/echo", stdin=b"stdin!")
    )
    assert (got["method"], got["body"]) == ("PUT", "stdin!")


def test_headers_and_user_agent(base: str, engine_name: str) -> None:
    args = ["-H", "X-One: 1", "--header", "X-Two: two words", "-A", "squall-test/1"]
    got = echo(cli("--engine", engine_name, *args, base + "/echo"))
    headers = got["headers"]
    assert isinstance(headers, dict)
    assert (headers["x-one"], headers["x-two"]) == ("1", "two words")
    assert headers["user-agent"] == "squall-test/1"


def test_basic_auth(base: str, engine_name: str) -> None:
    got = echo(cli("--engine", engine_name, "-u", "alice:s3cr:et", base + "/echo"))
    headers = got["headers"]
    assert isinstance(headers, dict)
    assert headers["authorization"] == "Basic " + base64.b64encode(b"alice:s3cr:et").decode()


def test_head(base: str, engine_name: str) -> None:
    result = cli("--engine", engine_name, "-I", base + "/hello")
    assert result.returncode == 0, result.stderr
    assert b"X-Method: HEAD" in result.stdout
    assert result.stdout.endswith(b"\r\n\r\n")


def test_output_file(base: str, engine_name: str, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    result = cli("--engine", engine_name, "-o", str(out), base + "/hello")
    assert (result.returncode, result.stdout) == (0, b"")
    assert out.read_bytes() == HELLO


def test_write_out_and_several_urls(base: str, engine_name: str) -> None:
    result = cli(
        "--engine",
        engine_name,
        "-w",
        "[%{http_code} %{content_type}]\\n",
        base + "/hello",
        base + "/missing",
    )
    assert result.returncode == 1
    assert result.stdout == HELLO + b"[200 text/plain]\n" + b"not found\n" + b"[404 text/plain]\n"
    assert f"{base}/missing: HTTP 404" in assert_short_error(result)


def test_verbose_goes_to_stderr(base: str, engine_name: str) -> None:
    result = cli("--engine", engine_name, "-v", "-H", "X-Seen: yes", base + "/hello")
    assert (result.returncode, result.stdout) == (0, HELLO)
    err = result.stderr.decode()
    assert "> GET /hello HTTP/1.1" in err and "> X-Seen: yes" in err
    assert f"> Host: {base.split('//')[1]}" in err and "< HTTP/1." in err
    assert "starttransfer=" in err and "total=" in err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused(engine_name: str) -> None:
    result = cli("--engine", engine_name, f"http://127.0.0.1:{free_port()}/")
    assert result.returncode == 7
    assert result.stdout == b""
    err = assert_short_error(result)
    assert "refused" in err.lower() and err.startswith("squall: (7) ")  # curl's number, as squall


def test_silent_hides_the_error(engine_name: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    assert (cli("--engine", engine_name, "-s", url).returncode, cli("-s", url).stderr) == (7, b"")
    assert cli("--engine", engine_name, "-sS", url).stderr.startswith(b"squall: ")


@pytest.mark.parametrize("url", ["htp://example.com/", "http://", "http://a b/", "http://x:99999/"])
def test_malformed_url(url: str) -> None:
    result = cli(url)
    assert (result.returncode, result.stdout) == (2, b"")
    assert url in assert_short_error(result)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--print_body=maybe"], "--print-body takes true or false"),
        (["-H", "no colon"], "bad header 'no colon'"),
        (["-d", "@/nonexistent/file"], "can't read /nonexistent/file"),
        (["-X", "GET", "--data", "x", "--http1.1", "--max-redirs", "-1"], "max_redirects"),
    ],
)
def test_usage_errors_before_any_request(args: list[str], needle: str) -> None:
    # The port is closed: a request that was sent would fail differently.
    result = cli(*args, f"http://127.0.0.1:{free_port()}/")
    assert result.returncode in (2, 26)
    assert needle in assert_short_error(result)


def test_unwritable_output(tmp_path: Path) -> None:
    result = cli(
        "-o", str(tmp_path / "no" / "dir"), "--engine=curl", f"http://127.0.0.1:{free_port()}/"
    )
    assert result.returncode == 23
    assert "can't write" in assert_short_error(result)


def test_main_in_process_returns_the_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert seed_main(["http://a b/"]) == 2
    assert seed_main(["--help"], engine="curl") == 0
    assert "--engine {curl,simple}" in capsys.readouterr().out


def test_argparse_errors_exit_2() -> None:
    assert cli().returncode == 2
    assert cli("--engine", "nope", "http://127.0.0.1/").returncode == 2
    assert cli("--no-such-flag", "http://127.0.0.1/").returncode == 2
    result = cli("--help")
    assert result.returncode == 0 and b"exit status" in result.stdout


# -- in-process: the flag translation (no network) -----------------------------


def parse(*argv: str) -> dict[str, object]:
    args = arguments.parse(arguments.SEED, [*argv, "http://h/"])
    return build.request_options(args)


def test_tornado_spellings() -> None:
    opts = parse(
        "--follow_redirects=false", "--validate-cert=0", "--proxy_host", "p", "--proxy_port=3"
    )
    assert opts["follow_redirects"] is False and opts["validate_cert"] is False
    assert (opts["proxy_host"], opts["proxy_port"]) == ("p", 3)
    assert parse("--follow_redirects=false", "-L")["follow_redirects"] is True
    assert parse("-k")["validate_cert"] is False
    assert parse()["follow_redirects"] is True and parse()["validate_cert"] is True


def test_curl_flags_map_to_request_options() -> None:
    opts = parse("-m", "2.5", "--connect-timeout", "1", "--max-redirs", "3", "--http2",
                 "-x", "http://[::1]:3128", "--proxy-user", "u:p", "--compressed",
                 "-u", "me", "--digest", "--cacert", "ca.pem")  # fmt: skip
    assert opts["request_timeout"] == 2.5 and opts["connect_timeout"] == 1.0
    assert (opts["max_redirects"], opts["http_version"]) == (3, "2")
    assert (opts["proxy_host"], opts["proxy_port"]) == ("::1", 3128)
    assert (opts["proxy_username"], opts["proxy_password"]) == ("u", "p")
    assert (opts["auth_username"], opts["auth_password"], opts["auth_mode"]) == ("me", "", "digest")
    assert opts["decompress_response"] is True and opts["ca_certs"] == "ca.pem"
    assert (parse("-x", "proxy")["proxy_port"], parse("-I")["method"]) == (1080, "HEAD")


def test_exit_status_table() -> None:
    cases = {
        _errors.HTTPConnectionRefusedError("x"): 7,
        _errors.HTTPNameResolutionError("x"): 6,
        _errors.HTTPTimeoutError("x"): 28,
        _errors.HTTPCertificateError("x"): 60,
        _errors.HTTPTLSError("x"): 35,
        _errors.ResponseTooLargeError("x"): 63,
        _errors.RemoteProtocolError("x"): 8,
        _errors.HTTPStreamClosedError("x"): 56,
        _errors.CurlError(52, "empty reply"): 52,
        _errors.HTTPClientError(404): 1,
        _errors.HTTPClientError(599): 7,
    }
    assert {type(e).__name__ + str(e): exits.exit_status(e) for e in cases} == {
        type(e).__name__ + str(e): status for e, status in cases.items()
    }


@pytest.mark.parametrize("module", ["squall.simple_httpclient", "squall.curl_httpclient"])
def test_engine_modules_run_the_cli(base: str, module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module, "--print_headers", base + "/hello"],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(HELLO) and b"200" in result.stdout.split(b"\r\n", 1)[0]
