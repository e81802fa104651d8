"""The engines' fast paths: the shared deadline timer, the direct body receive,
and the curl bridge's parked sockets, each against real 127.0.0.1 sockets."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest

from squall._errors import HTTPTimeoutError
from squall._http1.deadlines import Deadlines, HopTimer
from squall._request import HTTPRequest
from squall.simple_httpclient import SimpleAsyncHTTPClient
from tests.servers.scripted import ScriptedServer, reply_each, reply_once

pycurl = pytest.importorskip("pycurl")

from squall.curl_httpclient import CurlAsyncHTTPClient  # noqa: E402

# -- Deadlines ---------------------------------------------------------------------


def test_deadlines_cancel_only_expired_hops_earliest_first() -> None:
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        deadlines = Deadlines(loop)
        order: list[str] = []

        async def hop(name: str, delay: float | None, lasts: float) -> None:
            task = asyncio.current_task()
            assert task is not None
            request = HTTPRequest("http://127.0.0.1/", request_timeout=delay or 0)
            timer = HopTimer(deadlines, task, request)
            timer.arm(None if delay is None else loop.time() + delay, "request", name)
            try:
                await asyncio.sleep(lasts)
            except asyncio.CancelledError as exc:
                try:
                    timer.check(exc)
                except HTTPTimeoutError as error:
                    assert error.phase == "request"
                    assert (error.option, error.limit) == ("request_timeout", delay)
                    order.append(f"{name} timed out")
                    return
                raise
            finally:
                timer.cancel()
            order.append(f"{name} done")

        # "late" is armed first; "early" arrives later with an earlier deadline.
        await asyncio.gather(
            hop("late", 0.3, 5),
            hop("early", 0.05, 5),
            hop("cleared", 0.1, 0.01),
            hop("none", None, 0.2),
        )
        deadlines.close()
        return order

    order = asyncio.run(main())
    assert order == ["cleared done", "early timed out", "none done", "late timed out"]


# -- direct receive into the final buffer ------------------------------------------


@pytest.mark.parametrize("size", [300 * 1024, 3 * 1024 * 1024 + 7])
async def test_simple_large_body_received_in_place_is_intact_and_reusable(
    event_loop: asyncio.AbstractEventLoop, scripted: Callable[..., ScriptedServer], size: int
) -> None:
    body = bytes(range(256)) * (size // 256) + b"z" * (size % 256)

    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    server = scripted(reply_each((head + body[:1000], body[1000:])))  # a first piece with the head
    client = SimpleAsyncHTTPClient(force_instance=True)
    try:
        for _ in range(3):
            got = (await client.fetch(server.url)).body
            assert len(got) == len(body)
            assert got == body
    finally:
        client.close()


# -- curl: parked sockets --------------------------------------------------------


async def test_curl_parked_sockets_closed_by_server_while_other_sockets_open(
    event_loop: asyncio.AbstractEventLoop, scripted: Callable[..., ScriptedServer]
) -> None:
    """The server closes every connection after a keep-alive response, so libcurl
    parks a socket that is then closed; other code meanwhile opens sockets (which
    take the freed numbers) and registers them with the loop. Nothing may clash,
    and every request must succeed."""

    # Then close: libcurl finds out only when it tries to reuse the connection.
    server = scripted(reply_once(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    loop = asyncio.get_running_loop()
    client = CurlAsyncHTTPClient(force_instance=True)
    pairs: list[tuple[socket.socket, socket.socket]] = []
    seen: list[int] = []
    ok = 0
    try:
        for round_ in range(12):
            forbid = round_ % 3 == 0  # libcurl closes right after the transfer

            def prepare(curl: object, forbid: bool = forbid) -> None:
                if forbid:
                    curl.setopt(pycurl.FORBID_REUSE, 1)  # type: ignore[attr-defined]

            responses = await asyncio.gather(
                *[
                    client.fetch(server.url, prepare_curl_callback=prepare)
                    for _ in range(1 + round_ % 4)
                ]
            )
            ok += sum(r.body == b"ok" for r in responses)
            await asyncio.sleep(0.02)  # let the server's closes land
            # Other code takes fd numbers libcurl may just have freed.
            a, b = socket.socketpair()
            a.setblocking(False)
            pairs.append((a, b))
            got = loop.create_future()
            loop.add_reader(a.fileno(), got.set_result, a.fileno())
            b.send(b"x")
            seen.append(await asyncio.wait_for(got, 5))
            loop.remove_reader(a.fileno())
    finally:
        client.close()
        for a, b in pairs:
            a.close()
            b.close()
    assert ok == sum(1 + r % 4 for r in range(12))
    assert len(seen) == 12


# -- curl: one-pass header block -----------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        ["Content-Type: text/html\r\n", "set-cookie: a=1\r\n", "Set-Cookie:  b=2 \r\n", "X:\r\n"],
        ["A: 1\r\n", " folded\r\n", "B: 2\r\n"],
        ["weird-NAME :v:w\r\n"],
        ["X-Latin: caf\xe9\r\n", "x-latin:\xa0v\xa0 \r\n"],
    ],
)
def test_curl_header_block_matches_parse_line(fields: list[str]) -> None:
    from squall._curl.head import _parse_fields
    from squall._headers import HTTPHeaders

    expected = HTTPHeaders()
    for line in fields:
        expected.parse_line(line)
    block = [line.encode("latin-1") for line in ["HTTP/1.1 200 OK\r\n", *fields]]
    got = _parse_fields(block)
    assert list(got.get_all()) == list(expected.get_all())
    # Once more: the second pass reads field names from the cache.
    got = _parse_fields(block)
    assert list(got.get_all()) == list(expected.get_all())


@pytest.mark.parametrize("bad", [["no colon here\r\n"], [" starts folded\r\n"]])
def test_curl_header_block_errors_like_parse_line(bad: list[str]) -> None:
    from squall._curl.head import _parse_fields

    with pytest.raises(ValueError):
        _parse_fields([line.encode("latin-1") for line in ["HTTP/1.1 200 OK\r\n", *bad]])
