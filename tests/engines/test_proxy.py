"""Forward proxies, both engines: HTTP proxy, CONNECT tunnels for HTTPS, proxy auth, SOCKS.

The HTTP proxy is proxy.py and the SOCKS proxies are pproxy, real servers run
as subprocesses on 127.0.0.1 (see conftest, and the fixtures below). What the
engines put on the wire is checked by scripted proxies in test_proxy_wire.py.
Tornado's simple client has no proxies (NotImplementedError): the tests that
need them on the simple engine are squall's own.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from squall._errors import HTTPCertificateError, HTTPClientError, HTTPConnectionRefusedError
from tests.conftest import _free_port, _subprocess_server, simple_only
from tests.servers.app import AppServer
from tests.servers.helpers import PROXY_PASSWORD, PROXY_USER, echoed, echoed_headers
from tests.servers.scripted import reply_each, response
from tests.servers.tls import Certs


def _proxy(proxy: tuple[str, int], auth: bool = True) -> dict[str, Any]:
    options: dict[str, Any] = {"proxy_host": proxy[0], "proxy_port": proxy[1]}
    if auth:
        options.update(proxy_username=PROXY_USER, proxy_password=PROXY_PASSWORD)
    return options


@pytest.mark.squall_only("simple")
async def test_http_through_proxy(
    client: Any, app_server: AppServer, http_proxy: tuple[str, int]
) -> None:
    response = await client.fetch(
        app_server.http_url + "/echo", method="POST", body=b"via proxy", **_proxy(http_proxy)
    )
    data = echoed(response)
    assert data["body"] == "via proxy"
    # The origin must not see the proxy credentials.
    assert echoed_headers(data, "Proxy-Authorization") == []


@pytest.mark.squall_only("simple")
async def test_proxy_auth_required(
    client: Any, app_server: AppServer, http_proxy: tuple[str, int]
) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(app_server.http_url + "/echo", **_proxy(http_proxy, auth=False))
    assert info.value.code == 407


@pytest.mark.squall_only("simple")
async def test_https_through_connect_tunnel(
    client: Any, app_server: AppServer, http_proxy: tuple[str, int], certs: Certs
) -> None:
    response = await client.fetch(
        app_server.https_url + "/echo", ca_certs=certs.ca, **_proxy(http_proxy)
    )
    assert echoed(response)["method"] == "GET"


@pytest.mark.squall_only("simple")
async def test_socks5_proxy(
    client: Any, app_server: AppServer, socks_proxy: tuple[str, int]
) -> None:
    # squall accepts a scheme in proxy_host, as libcurl does ("socks5://host").
    response = await client.fetch(
        app_server.http_url + "/echo",
        proxy_host=f"socks5://{socks_proxy[0]}",
        proxy_port=socks_proxy[1],
    )
    assert echoed(response)["method"] == "GET"


@pytest.mark.squall_only
@pytest.mark.parametrize("scheme", ["", "socks5://"])
async def test_refused_proxy_is_named(
    client: Any, app_server: AppServer, closed_port: int, scheme: str
) -> None:
    with pytest.raises(HTTPConnectionRefusedError) as info:
        await client.fetch(
            app_server.http_url + "/echo", proxy_host=f"{scheme}127.0.0.1", proxy_port=closed_port
        )
    # The refusal is the proxy's: the origin was never contacted.
    assert str(info.value).endswith(f"Connection refused by proxy 127.0.0.1:{closed_port}")


@pytest.fixture(scope="module")
def socks_auth_proxy() -> Iterator[tuple[str, int]]:
    """pproxy as a SOCKS5 proxy that demands a user name and password."""
    yield from _pproxy(f"socks5://127.0.0.1:{{port}}#{PROXY_USER}:{PROXY_PASSWORD}")


@pytest.fixture(scope="module")
def socks4_proxy() -> Iterator[tuple[str, int]]:
    """pproxy as a SOCKS4 proxy (it reads IPv4 addresses only: no SOCKS4a)."""
    yield from _pproxy("socks4://127.0.0.1:{port}")


@pytest.fixture(scope="module")
def https_proxy(certs: Certs) -> Iterator[tuple[str, int]]:
    """pproxy as an HTTP proxy (CONNECT too) reached over TLS, with the test certificate."""
    yield from _pproxy(
        "http+ssl://127.0.0.1:{port}", "--ssl", f"{certs.server_cert},{certs.server_key}"
    )


def _pproxy(listen: str, *options: str) -> Iterator[tuple[str, int]]:
    port = _free_port()
    # As in conftest: pproxy must not pick up uvloop.
    argv = ["pproxy", "-l", listen.format(port=port), *options]
    script = (
        "import sys; sys.modules['uvloop'] = None; from pproxy.server import main;"
        f"sys.argv = {argv!r}; main()"
    )
    with _subprocess_server([sys.executable, "-c", script], port):
        yield "127.0.0.1", port


@pytest.mark.squall_only  # Tornado's curl client: a 599
async def test_https_connect_refused_is_407_with_the_proxy_response(
    client: Any,
    app_server: AppServer,
    http_proxy: tuple[str, int],
    certs: Certs,
) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(
            app_server.https_url + "/echo", ca_certs=certs.ca, **_proxy(http_proxy, auth=False)
        )
    assert info.value.code == 407
    assert info.value.response is not None and info.value.response.code == 407
    assert "Proxy-Authenticate" in info.value.response.headers


@pytest.mark.squall_only("simple")
async def test_proxy_credentials_never_reach_a_redirect_target(
    client: Any, app_server: AppServer, http_proxy: tuple[str, int], certs: Certs
) -> None:
    # http origin -> https origin: forwarded first, then through a CONNECT tunnel.
    target = quote(app_server.https_url + "/echo", safe="")
    response = await client.fetch(
        f"{app_server.http_url}/redirect?to={target}", ca_certs=certs.ca, **_proxy(http_proxy)
    )
    data = echoed(response)
    assert response.effective_url == app_server.https_url + "/echo"
    assert echoed_headers(data, "Proxy-Authorization") == []


@pytest.mark.squall_only("simple")
async def test_socks5h_proxy_resolves_the_name(
    client: Any, app_server: AppServer, socks_proxy: tuple[str, int]
) -> None:
    url = app_server.http_url.replace("127.0.0.1", "localhost") + "/echo"
    response = await client.fetch(
        url, proxy_host=f"socks5h://{socks_proxy[0]}", proxy_port=socks_proxy[1]
    )
    assert echoed(response)["method"] == "GET"


@pytest.mark.squall_only("simple")
async def test_https_through_socks5(
    client: Any, app_server: AppServer, socks_proxy: tuple[str, int], certs: Certs
) -> None:
    response = await client.fetch(
        app_server.https_url + "/echo",
        ca_certs=certs.ca,
        proxy_host=f"socks5://{socks_proxy[0]}:{socks_proxy[1]}",
    )
    assert echoed(response)["method"] == "GET"


@pytest.mark.squall_only("simple")
async def test_socks5_with_percent_encoded_credentials(
    client: Any, app_server: AppServer, socks_auth_proxy: tuple[str, int]
) -> None:
    # %75 is "u": the user name reaches the proxy decoded, or it refuses.
    user = PROXY_USER.replace("u", "%75")
    host, port = socks_auth_proxy
    response = await client.fetch(
        app_server.http_url + "/echo", proxy_host=f"socks5://{user}:{PROXY_PASSWORD}@{host}:{port}"
    )
    assert echoed(response)["method"] == "GET"


@pytest.mark.squall_only("simple")
async def test_socks4_proxy(
    client: Any, app_server: AppServer, socks4_proxy: tuple[str, int]
) -> None:
    response = await client.fetch(
        app_server.http_url + "/echo",
        proxy_host=f"socks4://{socks4_proxy[0]}",
        proxy_port=socks4_proxy[1],
    )
    assert echoed(response)["method"] == "GET"


@pytest.mark.squall_only
@pytest.mark.parametrize("origin", ["http", "https"])
async def test_https_proxy(
    client: Any,
    app_server: AppServer,
    https_proxy: tuple[str, int],
    certs: Certs,
    origin: str,
) -> None:
    # TLS to the proxy; for an https URL, TLS to the origin inside it (TLS in TLS).
    url = (app_server.https_url if origin == "https" else app_server.http_url) + "/echo"
    response = await client.fetch(
        url, ca_certs=certs.ca, proxy_host=f"https://{https_proxy[0]}:{https_proxy[1]}"
    )
    assert echoed(response)["method"] == "GET"


@pytest.mark.squall_only  # Tornado's curl client checks the proxy with its default CAs
async def test_https_proxy_certificate_is_checked(
    client: Any,
    app_server: AppServer,
    https_proxy: tuple[str, int],
    certs: Certs,
) -> None:
    with pytest.raises(HTTPCertificateError, match="proxy"):
        await client.fetch(
            app_server.http_url + "/echo",
            ca_certs=certs.other_ca,
            proxy_host=f"https://{https_proxy[0]}:{https_proxy[1]}",
        )


_answer_every_request = reply_each(response(b"direct"))


@simple_only
@pytest.mark.squall_only
@pytest.mark.parametrize("proxy_host", ["ftp://127.0.0.1", "http://127.0.0.1/path", "http://[::1"])
async def test_simple_engine_refuses_a_malformed_proxy_host(
    client: Any, scripted: Any, proxy_host: str
) -> None:
    server = scripted(_answer_every_request)
    with pytest.raises(ValueError, match="proxy"):
        await client.fetch(server.url, proxy_host=proxy_host, proxy_port=server.port)
    assert server.connections == 0  # refused before any I/O
