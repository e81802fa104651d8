"""The curl engine's pooled easy handles carry nothing from one request to the next.

``curl_easy_reset`` clears options and callbacks but keeps a handle's cookie
store (and HSTS/alt-svc caches, share handles): a request that turned libcurl's
cookie engine on through ``prepare_curl_callback`` must not make later requests
on the same handle send its cookies.
"""

from __future__ import annotations

from typing import Any

import pycurl

from tests.conftest import curl_only
from tests.servers.app import AppServer
from tests.servers.helpers import echoed


def _sent_cookies(response: Any) -> list[str]:
    return [value for name, value in echoed(response)["headers"] if name.lower() == "cookie"]


@curl_only
async def test_cookie_engine_does_not_outlive_its_request(
    make_client: Any, app_server: AppServer
) -> None:
    client = make_client(max_clients=1)  # one handle in use at a time: the idle one is reused

    def cookie_engine(curl: Any) -> None:
        curl.setopt(pycurl.COOKIEFILE, "")  # in memory, no file

    base = app_server.http_url
    # The engine is on: the cookies the server set come back within the same handle's use.
    first = await client.fetch(base + "/cookies", prepare_curl_callback=cookie_engine)
    assert first.headers.get_list("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    for _ in range(30):
        plain = await client.fetch(base + "/echo")
        assert _sent_cookies(plain) == []


@curl_only
async def test_cookies_of_a_request_stay_its_own(make_client: Any, app_server: AppServer) -> None:
    client = make_client(max_clients=1)

    def cookie_engine(curl: Any) -> None:
        curl.setopt(pycurl.COOKIEFILE, "")

    base = app_server.http_url
    await client.fetch(base + "/cookies", prepare_curl_callback=cookie_engine)
    # Another request that turns the engine on starts from an empty store too.
    again = await client.fetch(base + "/echo", prepare_curl_callback=cookie_engine)
    assert _sent_cookies(again) == []
