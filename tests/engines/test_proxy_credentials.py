"""Proxy credentials never appear in an error, and the proxy is named by the port dialled.

``proxy_host`` may be a whole URL, ``scheme://user:password@host:port``; every
proxy failure below names ``proxy host:port`` on both engines, and neither its
message, its repr nor any error it chains carries the user name or password.
"""

from __future__ import annotations

import socket
import ssl
from typing import Any

import pytest

from squall._errors import (
    HTTPCertificateError,
    HTTPClientError,
    HTTPConnectionRefusedError,
    HTTPTimeoutError,
)
from tests.conftest import simple_only
from tests.servers.scripted import ScriptedServer, response
from tests.servers.tls import Certs

# Tornado's simple client has no proxies; its curl client has no trust_env.
pytestmark = pytest.mark.squall_only

ORIGIN = "origin.squall.test"  # never resolved: only the proxy is dialled
USER, SECRET = "squalluser", "s3cret"


def _assert_no_credentials(error: BaseException) -> None:
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and seen not in chain:  # (a chain may loop back)
        chain.append(seen)
        for text in (str(seen), repr(seen), *map(str, seen.args)):
            assert SECRET not in text and USER not in text, repr(seen)
        seen = seen.__cause__ or seen.__context__


@pytest.mark.parametrize("scheme", ["http", "https", "socks5", "socks5h", "socks4a"])
async def test_refused_proxy_url_with_credentials(
    client: Any, closed_port: int, scheme: str
) -> None:
    with pytest.raises(HTTPConnectionRefusedError) as info:
        await client.fetch(
            f"http://{ORIGIN}/", proxy_host=f"{scheme}://{USER}:{SECRET}@127.0.0.1:{closed_port}"
        )
    # The port of proxy_host's URL, never a default one.
    assert str(info.value).endswith(f"Connection refused by proxy 127.0.0.1:{closed_port}")
    _assert_no_credentials(info.value)


@pytest.mark.parametrize("variable", ["http_proxy", "HTTP_PROXY", "all_proxy"])
async def test_refused_proxy_from_the_environment(
    make_client: Any, monkeypatch: pytest.MonkeyPatch, closed_port: int, variable: str
) -> None:
    for name in ("http_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv(variable, f"http://{USER}:{SECRET}@127.0.0.1:{closed_port}")
    client = make_client(trust_env=True)
    with pytest.raises(HTTPConnectionRefusedError) as info:
        await client.fetch(f"http://{ORIGIN}/")
    assert str(info.value).endswith(f"Connection refused by proxy 127.0.0.1:{closed_port}")
    _assert_no_credentials(info.value)


@pytest.mark.parametrize(
    "scheme, url", [("http", f"https://{ORIGIN}/"), ("socks5h", f"http://{ORIGIN}/")]
)
async def test_silent_proxy_timeout(client: Any, scripted: Any, scheme: str, url: str) -> None:
    def silent(conn: socket.socket, server: ScriptedServer) -> None:
        server.wait()

    server = scripted(silent)
    with pytest.raises(HTTPTimeoutError) as info:
        await client.fetch(
            url,
            proxy_host=f"{scheme}://{USER}:{SECRET}@127.0.0.1:{server.port}",
            connect_timeout=0.3,
        )
    # The proxy took the connection and never answered the CONNECT or SOCKS hello.
    port = 443 if url.startswith("https") else 80
    where = f"{ORIGIN}:{port} through proxy 127.0.0.1:{server.port}"
    assert str(info.value) == f"Timeout while connecting to {where}"
    _assert_no_credentials(info.value)


async def test_connect_refused_by_the_proxy(client: Any, scripted: Any) -> None:
    def refusing(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_head(conn)
        conn.sendall(response(b"no", "403 Forbidden"))

    server = scripted(refusing)
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(
            f"https://{ORIGIN}/", proxy_host=f"http://{USER}:{SECRET}@127.0.0.1:{server.port}"
        )
    assert info.value.code == 403
    _assert_no_credentials(info.value)


async def test_https_proxy_with_a_certificate_not_trusted(
    client: Any, scripted: Any, certs: Certs
) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.server_cert, certs.server_key)

    def tls_proxy(conn: socket.socket, server: ScriptedServer) -> None:
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (OSError, ssl.SSLError):
            return  # the client refused the certificate

    server = scripted(tls_proxy)
    with pytest.raises(HTTPCertificateError) as info:
        await client.fetch(
            f"http://{ORIGIN}/",
            ca_certs=certs.other_ca,
            proxy_host=f"https://{USER}:{SECRET}@127.0.0.1:{server.port}",
        )
    assert f"proxy 127.0.0.1:{server.port}" in str(info.value)
    _assert_no_credentials(info.value)


async def test_socks5_credentials_refused(client: Any, scripted: Any) -> None:
    def refusing(conn: socket.socket, server: ScriptedServer) -> None:
        conn.recv(3)
        conn.sendall(b"\x05\x02")
        conn.recv(512)
        conn.sendall(b"\x01\x01")

    server = scripted(refusing)
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(
            f"http://{ORIGIN}/", proxy_host=f"socks5h://{USER}:{SECRET}@127.0.0.1:{server.port}"
        )
    assert f"proxy 127.0.0.1:{server.port}" in str(info.value)
    _assert_no_credentials(info.value)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"proxy_password": f"{SECRET}\x00"}, id="nul-in-password"),
        pytest.param({"proxy_host": f"http://{USER}:{SECRET}@127.0.0.1\x00"}, id="nul-in-host"),
    ],
)
async def test_a_refused_option_does_not_print_the_credentials(
    client: Any, closed_port: int, options: dict[str, Any]
) -> None:
    options = {"proxy_host": "127.0.0.1", "proxy_port": closed_port, **options}
    if "proxy_password" in options:
        options["proxy_username"] = USER.upper()  # (the user name may be shown)
    with pytest.raises(ValueError, match="NUL") as info:
        await client.fetch(f"http://{ORIGIN}/", **options)
    _assert_no_credentials(info.value)


@simple_only
@pytest.mark.parametrize(
    "proxy_host",
    [
        f"http://{USER}:{SECRET}@[::1",
        f"ftp://{USER}:{SECRET}@127.0.0.1",
        f"http://{USER}:{SECRET}@h/x",
    ],
)
async def test_a_malformed_proxy_host_is_refused_without_its_credentials(
    client: Any, proxy_host: str
) -> None:
    with pytest.raises(ValueError, match="proxy") as info:
        await client.fetch(f"http://{ORIGIN}/", proxy_host=proxy_host)
    _assert_no_credentials(info.value)
