"""HTTP/2 on both engines, against hypercorn: over TLS (ALPN h2) and in clear text (h2c).

Every test runs on each engine, each loop and both transports (the ``h2``
fixture). The app reports the HTTP version it served, so a test that passed over
HTTP/1.1 by mistake fails.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
from typing import Any

import pytest

from squall._errors import (
    HTTPClientError,
    HTTPStreamClosedError,
    HTTPTimeoutError,
    ResponseTooLargeError,
)
from tests.servers.app import AppServer
from tests.servers.helpers import client_port, echoed, echoed_headers
from tests.servers.routes import large_body
from tests.servers.tls import Certs

pytestmark = pytest.mark.squall_only  # Tornado's simple client has no HTTP/2

BODY = bytes(range(256)) * 4096  # 1 MiB: past the default 64 KiB windows, every byte value


class H2:
    """Where to reach the app over HTTP/2 and the options that go with it."""

    def __init__(self, base: str, **options: Any) -> None:
        self.base = base
        self.options = {"http_version": "2", **options}

    def fetch(self, client: Any, path: str, **kwargs: Any) -> Any:
        return client.fetch(self.base + path, **{**self.options, **kwargs})


@pytest.fixture(params=["tls", "h2c"])
def h2(request: pytest.FixtureRequest, app_server: AppServer, certs: Certs) -> H2:
    if request.param == "tls":
        return H2(app_server.https_url, ca_certs=certs.ca)
    return H2(app_server.http_url)


async def test_get(client: Any, h2: H2) -> None:
    lines: list[str] = []
    response = await h2.fetch(client, "/echo?x=1", header_callback=lines.append)
    data = echoed(response)
    assert (response.code, data["http_version"]) == (200, "2")
    assert (data["method"], data["path"], data["query"]) == ("GET", "/echo", "x=1")
    assert lines[0] == "HTTP/2 200 \r\n"  # as libcurl writes it: HTTP/2 has no reason phrase
    assert lines[-1] == "\r\n"
    assert "content-type: application/json\r\n" in lines
    assert response.reason == "OK"
    assert response.headers["Content-Type"] == "application/json"
    for key in ("namelookup", "connect", "appconnect", "pretransfer", "starttransfer", "total"):
        assert response.time_info[key] >= 0.0, key


async def test_hop_by_hop_headers_are_not_sent(client: Any, h2: H2) -> None:
    headers = {"Connection": "keep-alive", "Keep-Alive": "timeout=5", "X-Mine": "yes"}
    data = echoed(await h2.fetch(client, "/echo", headers=headers))
    assert data["http_version"] == "2"
    names = {name.lower() for name, _ in data["headers"]}
    assert "x-mine" in names
    assert not names & {"connection", "keep-alive", "transfer-encoding", "upgrade"}


async def test_post_large_body(client: Any, h2: H2) -> None:
    data = echoed(await h2.fetch(client, "/echo", method="POST", body=BODY))
    assert data["http_version"] == "2"
    assert data["body"].encode("latin-1") == BODY


async def test_body_producer(client: Any, h2: H2) -> None:
    async def producer(write: Any) -> None:
        for start in range(0, len(BODY), 100_000):
            await write(BODY[start : start + 100_000])

    data = echoed(await h2.fetch(client, "/echo", method="PUT", body_producer=producer))
    assert (data["method"], data["http_version"]) == ("PUT", "2")
    assert data["body"].encode("latin-1") == BODY


async def test_expect_100_continue(client: Any, h2: H2) -> None:
    data = echoed(
        await h2.fetch(client, "/echo", method="POST", body=b"abc", expect_100_continue=True)
    )
    assert (data["body"], data["http_version"]) == ("abc", "2")


async def test_large_download(client: Any, h2: H2) -> None:
    size = 8 * 1024 * 1024  # many stream windows' worth
    response = await h2.fetch(client, f"/large?size={size}")
    assert response.body == large_body(size)


async def test_streaming_callback_with_back_pressure(client: Any, h2: H2) -> None:
    got: list[bytes] = []

    async def slow(chunk: bytes) -> None:
        got.append(chunk)
        await asyncio.sleep(0)

    size = 5 * 1024 * 1024
    response = await h2.fetch(client, f"/large?size={size}", streaming_callback=slow)
    assert response.body == b""
    assert sum(map(len, got)) == size


async def test_decompression(client: Any, h2: H2) -> None:
    response = await h2.fetch(client, "/encoded?coding=gzip&force=1")
    raw = await h2.fetch(client, "/encoded?coding=gzip&force=1", decompress_response=False)
    assert raw.body != response.body
    assert gzip.decompress(raw.body) == response.body


async def test_max_body_size(make_client: Any, h2: H2) -> None:
    client = make_client(max_body_size=1000)
    with pytest.raises(ResponseTooLargeError):
        await h2.fetch(client, "/large?size=100000")
    # The connection survives a stream that failed: the next request works.
    assert (await h2.fetch(client, "/large?size=10")).body == large_body(10)


async def test_max_header_size(make_client: Any, h2: H2) -> None:
    client = make_client(max_header_size=4096)
    with pytest.raises(HTTPClientError) as info:
        await h2.fetch(client, "/bigheader?size=20000")
    assert info.value.code == 599


async def test_redirect_followed(client: Any, h2: H2) -> None:
    response = await h2.fetch(client, "/chain/2")
    assert (echoed(response)["path"], echoed(response)["http_version"]) == ("/chain/0", "2")


async def test_status_and_multiple_headers(client: Any, h2: H2) -> None:
    response = await h2.fetch(client, "/headers?X-A=1&X-A=2", raise_error=False)
    assert response.headers.get_list("X-A") == ["1", "2"]
    response = await h2.fetch(client, "/status/404", raise_error=False)
    assert response.code == 404


async def test_request_timeout(client: Any, h2: H2) -> None:
    with pytest.raises(HTTPTimeoutError) as info:
        await h2.fetch(client, "/slow?delay=5", request_timeout=0.5)
    assert info.value.phase == "request"
    # The timed-out stream was reset; the connection carries the next one.
    assert echoed(await h2.fetch(client, "/echo"))["http_version"] == "2"


async def test_multiplexes_on_one_connection(client: Any, h2: H2) -> None:
    # Concurrent first requests to a new origin share the one connection being
    # dialled, and the server sees all of them in flight at once.
    results = await asyncio.gather(
        *(h2.fetch(client, "/inflight?key=h2mux&want=8&wait=5") for _ in range(8))
    )
    assert {r.code for r in results} == {200}
    assert max(int(r.body) for r in results) == 8
    again = await asyncio.gather(*(h2.fetch(client, "/echo") for _ in range(4)))
    assert len({client_port(r) for r in again}) == 1


async def test_cancelled_fetch_leaves_connection_usable(client: Any, h2: H2) -> None:
    task = asyncio.ensure_future(h2.fetch(client, "/slow?delay=5"))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert echoed(await h2.fetch(client, "/echo"))["http_version"] == "2"


async def test_user_agent_and_given_headers(client: Any, h2: H2) -> None:
    data = echoed(await h2.fetch(client, "/echo", headers={"X-Case": "Mixed"}, user_agent="ua/1"))
    assert echoed_headers(data, "x-case") == ["Mixed"]
    assert echoed_headers(data, "user-agent") == ["ua/1"]


async def test_http_1_1_never_offers_h2(client: Any, app_server: AppServer, certs: Certs) -> None:
    url = app_server.https_url + "/echo"
    response = await client.fetch(url, http_version="1.1", ca_certs=certs.ca)
    assert echoed(response)["http_version"] == "1.1"


async def test_concurrent_first_requests_share_one_connection(make_client: Any, h2: H2) -> None:
    client = make_client()
    results = await asyncio.gather(*(h2.fetch(client, "/echo") for _ in range(8)))
    assert {echoed(r)["http_version"] for r in results} == {"2"}
    assert len({client_port(r) for r in results}) == 1


async def test_slow_consumer_holds_back_its_own_stream_only(client: Any, h2: H2) -> None:
    # A streaming_callback that does not return stops its stream once the
    # stream's window is spent; another stream on the same connection goes on.
    release = asyncio.Event()
    got = 0

    async def stalled(chunk: bytes) -> None:
        nonlocal got
        got += len(chunk)
        await release.wait()

    size = 32 * 1024 * 1024  # far beyond any stream window
    first = echoed(await h2.fetch(client, "/echo"))
    slow = asyncio.ensure_future(
        h2.fetch(client, f"/large?size={size}", streaming_callback=stalled)
    )
    while got == 0:
        await asyncio.sleep(0.01)
    other = echoed(await h2.fetch(client, "/echo"))
    assert other["client"] == first["client"]  # the same connection
    assert not slow.done()
    release.set()
    await slow
    assert got == size


async def test_credentials_and_cookies(client: Any, h2: H2) -> None:
    response = await h2.fetch(
        client, "/auth?user=u&password=p", auth_username="u", auth_password="p"
    )
    assert response.code == 200
    data = echoed(await h2.fetch(client, "/echo", headers={"Cookie": "a=1"}))
    assert echoed_headers(data, "cookie") == ["a=1"]


async def test_request_header_values_lose_surrounding_whitespace(client: Any, h2: H2) -> None:
    # RFC 9113 §8.2.1 makes a value with whitespace at either end malformed; the
    # whitespace is not part of the value (RFC 9110 §5.5), so both engines drop it.
    headers = {"X-Trail": "v ", "X-Lead": " v", "X-Tab": "v\t", "X-Blank": " "}
    data = echoed(await h2.fetch(client, "/echo", headers=headers))
    assert data["http_version"] == "2"
    for name in ("x-trail", "x-lead", "x-tab"):
        assert echoed_headers(data, name) == ["v"], name
    assert echoed_headers(data, "x-blank") == [""]


class Boom(Exception):
    """The user's own error."""


def _raises(_data: Any) -> None:
    raise Boom("from the callback")


async def _coroutine_raises(_data: bytes) -> None:
    await asyncio.sleep(0)
    raise Boom("from the callback")


@pytest.mark.parametrize(
    ("option", "callback"),
    [
        ("header_callback", _raises),
        ("streaming_callback", _raises),
        ("streaming_callback", _coroutine_raises),
    ],
    ids=["header", "streaming", "streaming-coroutine"],
)
async def test_callback_error_fails_the_stream_and_is_logged_once(
    client: Any, h2: H2, caplog: pytest.LogCaptureFixture, option: str, callback: Any
) -> None:
    # As over HTTP/1.1 (test_callback_errors.py): HTTPStreamClosedError caused by
    # the user's error, logged once; the stream is reset, the connection goes on.
    with caplog.at_level(logging.ERROR):
        with pytest.raises(HTTPStreamClosedError) as info:
            await h2.fetch(client, "/large?size=300000", **{option: callback})
        await asyncio.sleep(0.05)  # anything logged late would show below
    assert type(info.value) is HTTPStreamClosedError and info.value.code == 599
    assert isinstance(info.value.__cause__, Boom), repr(info.value.__cause__)
    records = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [(r.name, r.getMessage()) for r in records] == [
        ("squall.application", "Uncaught exception")
    ]
    assert echoed(await h2.fetch(client, "/echo"))["http_version"] == "2"
