"""Forward proxies (curl engine): HTTP proxy, CONNECT tunnels for HTTPS, proxy auth, SOCKS5.

The HTTP proxy is proxy.py and the SOCKS5 proxy is pproxy, both real servers
run as subprocesses on 127.0.0.1 (see conftest). The proxy tests take the curl
engine only (``curl_only`` parametrizes the ``engine`` fixture directly); the
simple engine does not implement proxies and its test checks that it refuses
every proxy option (Tornado raises NotImplementedError there too).
"""

from __future__ import annotations

from typing import Any

import pytest

from squall._errors import HTTPClientError, HTTPConnectionRefusedError
from tests.conftest import curl_only, simple_only
from tests.servers.app import AppServer
from tests.servers.helpers import PROXY_PASSWORD, PROXY_USER, echoed, echoed_headers
from tests.servers.scripted import reply_each, response
from tests.servers.tls import Certs


def _proxy(proxy: tuple[str, int], auth: bool = True) -> dict[str, Any]:
    options: dict[str, Any] = {"proxy_host": proxy[0], "proxy_port": proxy[1]}
    if auth:
        options.update(proxy_username=PROXY_USER, proxy_password=PROXY_PASSWORD)
    return options


@curl_only
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


@curl_only
async def test_proxy_auth_required(
    client: Any, app_server: AppServer, http_proxy: tuple[str, int]
) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(app_server.http_url + "/echo", **_proxy(http_proxy, auth=False))
    assert info.value.code == 407


@curl_only
async def test_https_through_connect_tunnel(
    client: Any, app_server: AppServer, http_proxy: tuple[str, int], certs: Certs
) -> None:
    response = await client.fetch(
        app_server.https_url + "/echo", ca_certs=certs.ca, **_proxy(http_proxy)
    )
    assert echoed(response)["method"] == "GET"


@curl_only
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


@curl_only
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


_answer_every_request = reply_each(response(b"direct"))


@simple_only
@pytest.mark.parametrize(
    "option, value",
    [
        ("proxy_host", "127.0.0.1"),
        ("proxy_port", 3128),
        ("proxy_username", PROXY_USER),
        ("proxy_password", PROXY_PASSWORD),
        ("proxy_auth_mode", "basic"),
    ],
)
async def test_simple_engine_refuses_each_proxy_option(
    client: Any, scripted: Any, option: str, value: Any
) -> None:
    server = scripted(_answer_every_request)
    options: dict[str, Any] = {option: value}
    if option == "proxy_host":
        options["proxy_port"] = server.port  # a working "proxy", were it used
    # Without proxy_host, the other proxy options are refused as incomplete (both engines).
    error = NotImplementedError if option == "proxy_host" else ValueError
    with pytest.raises(error, match=option):
        await client.fetch(server.url + "/proxied", **options)
    # Refused before any I/O: the next fetch is the server's first connection
    # (the acceptor takes connections in order, so an earlier one would count).
    assert (await client.fetch(server.url + "/direct")).body == b"direct"
    assert server.connections == 1
    assert server.requests and b"/proxied" not in b"".join(server.requests)
