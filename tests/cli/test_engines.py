"""Engine options through the ``squall`` command: proxies, digest, HTTP/2, -v's head.

Where the simple engine refuses an option, the command passes the library's
error through as a usage error (exit 2) naming ``--engine curl``. Proxies on
the simple engine are being added: those tests accept either outcome, a
proxied answer or that error, and nothing else.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import assert_short_error, echoed, header, squall
from tests.servers.app import AppServer
from tests.servers.digest import DIGEST_PASSWORD, DIGEST_USER, DigestServer
from tests.servers.helpers import PROXY_PASSWORD, PROXY_USER
from tests.servers.tls import Certs


@pytest.fixture(scope="module")
def digest_server(certs: Certs) -> Iterator[DigestServer]:
    server = DigestServer(certs)
    server.start()
    yield server
    server.stop()


def refused_by_simple(result: subprocess.CompletedProcess[bytes], option: str) -> None:
    assert result.returncode == 2 and result.stdout == b""
    err = assert_short_error(result)
    assert option in err and "--engine curl" in err, err


def test_http_proxy(app_server: AppServer, http_proxy: tuple[str, int]) -> None:
    host, port = http_proxy
    args = ["-x", f"http://{host}:{port}", "-U", f"{PROXY_USER}:{PROXY_PASSWORD}"]
    got = echoed(squall("--engine", "curl", *args, app_server.http_url + "/echo"))
    assert got["path"] == "/echo"
    args = ["-x", f"http://{PROXY_USER}:{PROXY_PASSWORD}@{host}:{port}"]
    got = echoed(squall("--engine", "curl", *args, app_server.http_url + "/echo"))
    assert got["path"] == "/echo"
    result = squall("--engine", "simple", *args, app_server.http_url + "/echo")
    if result.returncode == 0:
        assert json.loads(result.stdout)["path"] == "/echo"
    else:
        refused_by_simple(result, "proxy")


@pytest.mark.parametrize("engine", ["curl", "simple"])
def test_noproxy(app_server: AppServer, http_proxy: tuple[str, int], engine: str) -> None:
    # Without credentials the proxy answers 407: the status shows which way the request went.
    host, port = http_proxy
    args = ["--engine", engine, "-s", "-o", "/dev/null", "-w", "%{http_code}"]
    args += ["-x", f"http://{host}:{port}", app_server.http_url + "/echo"]
    for noproxy, code in [
        ("127.0.0.1", b"200"),
        ("example.com, 127.0.0.1", b"200"),  # curl's list: spaces around entries ignored
        ("*", b"200"),
        ("127.0.0.0/8", b"200"),
        ("example.com", b"407"),  # not this host: through the proxy
        ("", b"407"),
    ]:
        result = squall("--noproxy", noproxy, *args)
        assert result.stdout == code, (noproxy, result.stdout, result.stderr)


def test_socks_proxy(app_server: AppServer, socks_proxy: tuple[str, int]) -> None:
    host, port = socks_proxy
    proxy = f"socks5h://{host}:{port}"
    got = echoed(squall("--engine", "curl", "-x", proxy, app_server.http_url + "/echo"))
    assert got["path"] == "/echo"
    result = squall("--engine", "simple", "-x", proxy, app_server.http_url + "/echo")
    if result.returncode == 0:
        assert json.loads(result.stdout)["path"] == "/echo"
    else:
        refused_by_simple(result, "proxy")


def test_digest(digest_server: DigestServer) -> None:
    url = digest_server.http_url + "/secret"
    args = ["--digest", "-u", f"{DIGEST_USER}:{DIGEST_PASSWORD}", url]
    for engine in ("curl", "simple"):
        result = squall("--engine", engine, *args)
        assert result.returncode == 0, result.stderr
        # Only the final response's body: never the challenge's.
        assert json.loads(result.stdout)["user"] == DIGEST_USER


def test_http2(app_server: AppServer, certs: Certs) -> None:
    url = app_server.https_url + "/echo"
    for engine in ("curl", "simple"):
        result = squall(
            "--engine", engine, "--http2", "--cacert", certs.ca, "-w", "%{http_version}", url
        )
        assert result.returncode == 0, result.stderr
        body, _, version = result.stdout.rpartition(b"}")
        assert json.loads(body + b"}")["http_version"] == "2" and version == b"2"


def test_http2_prior_knowledge_and_its_verbose_head(app_server: AppServer) -> None:
    url = app_server.http_url + "/echo"  # h2c: HTTP/2 in clear text, no Upgrade
    for engine in ("curl", "simple"):
        result = squall("--engine", engine, "--http2-prior-knowledge", "-v", url)
        assert result.returncode == 0, result.stderr
        assert echoed(result)["http_version"] == "2"
        err = result.stderr.decode().splitlines()
        assert "> GET /echo HTTP/2" in err, err
        assert any(line.startswith("< HTTP/2 200") for line in err), err


def test_verbose_shows_the_head_libcurl_sent(app_server: AppServer) -> None:
    result = squall("--engine", "curl", "-v", "-H", "X-Seen: yes", app_server.http_url + "/echo")
    sent = echoed(result)
    err = result.stderr.decode().splitlines()
    assert "> GET /echo HTTP/1.1" in err and "> X-Seen: yes" in err
    host = app_server.http_url.removeprefix("http://")
    assert f"> Host: {host}" in err and "> Accept: */*" in err  # libcurl's own default
    assert header(sent, "accept") == ["*/*"]
    assert any(line.startswith("< HTTP/1.1 200") for line in err)


def test_verbose_shows_the_head_simple_sent(app_server: AppServer) -> None:
    result = squall("--engine", "simple", "-v", "-A", "cli/1", app_server.http_url + "/echo")
    sent = echoed(result)
    err = result.stderr.decode().splitlines()
    shown = {line[2:].partition(": ")[0].lower() for line in err if line.startswith("> ")}
    received = {name.lower() for name, _ in sent["headers"]}
    assert shown - {"get /echo http/1.1", ""} == received  # every header sent, and no other
    assert "> User-Agent: cli/1" in err


def test_only_the_command_line_imports_rich() -> None:
    root = Path(__file__).resolve().parents[2] / "squall"
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}  # fmt: skip
        names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        if any(name == "rich" or name.startswith("rich.") for name in names):
            assert path.parent.name == "_cli", f"{path} imports rich"


def test_the_library_does_not_import_rich() -> None:
    code = (
        "import sys\n"
        "import squall, squall.httpclient, squall.simple_httpclient, squall.curl_httpclient\n"
        "assert 'rich' not in sys.modules, 'rich imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
