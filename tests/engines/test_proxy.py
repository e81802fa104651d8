"""Forward proxies (curl engine): HTTP proxy, CONNECT tunnels for HTTPS, proxy auth, SOCKS5.

The HTTP proxy is proxy.py and the SOCKS5 proxy is pproxy, both real servers
run as subprocesses on 127.0.0.1 (see conftest). The simple engine does not
implement proxies (Tornado raises NotImplementedError there too).
"""

from __future__ import annotations

from typing import Any

import pytest

from squall._errors import HTTPClientError
from tests.servers.app import AppServer
from tests.servers.helpers import PROXY_PASSWORD, PROXY_USER, echoed, echoed_headers
from tests.servers.tls import Certs


@pytest.fixture
def curl_client(client: Any, engine: str) -> Any:
    if "curl" not in engine:
        pytest.skip("proxies are a curl-engine feature")
    return client


def _proxy(proxy: tuple[str, int], auth: bool = True) -> dict[str, Any]:
    options: dict[str, Any] = {"proxy_host": proxy[0], "proxy_port": proxy[1]}
    if auth:
        options.update(proxy_username=PROXY_USER, proxy_password=PROXY_PASSWORD)
    return options


async def test_http_through_proxy(
    curl_client: Any, app_server: AppServer, http_proxy: tuple[str, int]
) -> None:
    response = await curl_client.fetch(
        app_server.http_url + "/echo", method="POST", body=b"via proxy", **_proxy(http_proxy)
    )
    data = echoed(response)
    assert data["body"] == "via proxy"
    # The origin must not see the proxy credentials.
    assert echoed_headers(data, "Proxy-Authorization") == []


async def test_proxy_auth_required(
    curl_client: Any, app_server: AppServer, http_proxy: tuple[str, int]
) -> None:
    with pytest.raises(HTTPClientError) as info:
        await curl_client.fetch(app_server.http_url + "/echo", **_proxy(http_proxy, auth=False))
    assert info.value.code == 407


async def test_https_through_connect_tunnel(
    curl_client: Any, app_server: AppServer, http_proxy: tuple[str, int], certs: Certs
) -> None:
    response = await curl_client.fetch(
        app_server.https_url + "/echo", ca_certs=certs.ca, **_proxy(http_proxy)
    )
    assert echoed(response)["method"] == "GET"


async def test_socks5_proxy(
    curl_client: Any, app_server: AppServer, socks_proxy: tuple[str, int]
) -> None:
    # squall accepts a scheme in proxy_host, as libcurl does ("socks5://host").
    response = await curl_client.fetch(
        app_server.http_url + "/echo",
        proxy_host=f"socks5://{socks_proxy[0]}",
        proxy_port=socks_proxy[1],
    )
    assert echoed(response)["method"] == "GET"


async def test_simple_engine_refuses_proxy(
    client: Any, engine: str, app_server: AppServer, http_proxy: tuple[str, int]
) -> None:
    if "simple" not in engine:
        pytest.skip("simple-engine behaviour")
    with pytest.raises(NotImplementedError):
        await client.fetch(app_server.http_url + "/echo", **_proxy(http_proxy))
