"""The opt-in cookie jar and retry policy, on both engines."""

from __future__ import annotations

import http.cookiejar
import socket
from collections.abc import Callable
from typing import Any

import pytest

from squall.httpclient import AsyncHTTPClient, HTTPClientError, Retry
from tests.conftest import import_object
from tests.servers.scripted import ScriptedServer, response

pytestmark = pytest.mark.squall_only


def _path(head: bytes) -> bytes:
    return head.split(b" ", 2)[1]


def _cookie(head: bytes) -> bytes:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"cookie":
            return value.strip()
    return b"-"


def _serve(
    answer: Callable[[bytes], bytes | None],
) -> Callable[[socket.socket, ScriptedServer], None]:
    """A keep-alive handler: ``answer(head)`` per request; None closes without answering."""

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        while True:
            try:
                head = server.read_request(conn)
            except (OSError, ValueError):
                return
            if not head:
                return
            data = answer(head)
            if data is None:
                return
            conn.sendall(data)

    return handler


def _answer_cookies(head: bytes) -> bytes:
    path = _path(head)
    if path == b"/login":
        return response(
            b"",
            "302 Found",
            ["Location: /home", "Set-Cookie: session=abc; Path=/", "Set-Cookie: secure=1; Secure"],
        )
    return response(_cookie(head))


async def test_cookie_set_by_a_redirect_reaches_its_target(
    engine: str, scripted: Callable[..., ScriptedServer]
) -> None:
    server = scripted(_serve(_answer_cookies))
    jar = http.cookiejar.CookieJar()
    client = import_object(engine)(force_instance=True, cookies=jar)
    try:
        response_ = await client.fetch(server.url + "/login")
        assert response_.body == b"session=abc"  # "secure" is https-only
        again = await client.fetch(server.url + "/other")
        assert again.body == b"session=abc"
        mine = await client.fetch(server.url + "/other", headers={"Cookie": "own=1"})
        assert mine.body == b"own=1"  # a Cookie header given by the caller wins
    finally:
        client.close()
    assert {cookie.name for cookie in jar} == {"session", "secure"}  # kept, not sent


async def test_no_jar_by_default(engine: str, scripted: Callable[..., ScriptedServer]) -> None:
    server = scripted(_serve(_answer_cookies))
    client = import_object(engine)(force_instance=True)
    try:
        assert client.cookies is None
        await client.fetch(server.url + "/login", follow_redirects=False, raise_error=False)
        assert (await client.fetch(server.url + "/other")).body == b"-"
    finally:
        client.close()


def test_cookies_argument_is_checked() -> None:
    with pytest.raises(TypeError, match="cookies must be"):
        AsyncHTTPClient(force_instance=True, cookies={"a": "b"})


async def test_statuses_are_retried_with_retry_after(
    client: Any, scripted: Callable[..., ScriptedServer]
) -> None:
    answers = iter(["503 Busy", "429 Slow", "200 OK"])

    def answer(head: bytes) -> bytes:
        return response(b"done", next(answers), ["Retry-After: 0"])

    server = scripted(_serve(answer))
    result = await client.fetch(server.url + "/", retries=Retry(total=3, backoff=0))
    assert result.code == 200 and result.body == b"done"
    assert result.time_info["retries"] == 2
    assert len(server.requests) == 3


async def test_post_is_not_retried_on_a_status(
    client: Any, scripted: Callable[..., ScriptedServer]
) -> None:
    server = scripted(_serve(lambda head: response(b"busy", "503 Busy")))
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(server.url + "/", method="POST", body=b"x", retries=3)
    assert info.value.code == 503
    assert len(server.requests) == 1


async def test_a_dropped_connection_is_retried_for_get(
    client: Any, scripted: Callable[..., ScriptedServer]
) -> None:
    def answer(head: bytes) -> bytes | None:
        return None if len(server.requests) <= 2 else response(b"second")  # drop two

    server = scripted(_serve(answer))
    with pytest.raises(HTTPClientError):
        await client.fetch(server.url + "/")  # no policy: the failure stands
    result = await client.fetch(server.url + "/", retries=Retry(total=1, backoff=0))
    assert result.body == b"second"
    assert len(server.requests) == 3


async def test_a_failure_after_retries_tells_how_many(client: Any) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    policy = Retry(total=2, backoff=0)
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(url, retries=policy)
    assert info.value.code == 599
    assert info.value.response is not None
    assert info.value.response.time_info["retries"] == 2
    given: list[Any] = []  # a callback gets the 599 response itself
    await client.fetch(url, retries=policy, callback=given.append)
    assert given[0].code == 599 and given[0].time_info["retries"] == 2


async def test_retries_from_the_client_defaults(
    engine: str, scripted: Callable[..., ScriptedServer]
) -> None:
    answers = iter(["502 Bad Gateway", "200 OK"])
    server = scripted(_serve(lambda head: response(b"ok", next(answers))))
    client = import_object(engine)(
        force_instance=True, defaults={"retries": Retry(total=1, backoff=0)}
    )
    try:
        assert (await client.fetch(server.url + "/")).code == 200
    finally:
        client.close()


def test_retry_values_are_checked() -> None:
    with pytest.raises(ValueError, match=r"Retry\.total"):
        Retry(total=-1)
    with pytest.raises(TypeError, match="retries must be"):
        AsyncHTTPClient(force_instance=True).fetch("http://x/", retries="3")  # type: ignore[arg-type]
