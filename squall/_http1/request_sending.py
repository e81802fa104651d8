"""Writing one exchange's request: at once, after a ``100 Continue``, or from a producer.

``send_request`` writes a request that needs no waiting synchronously (the
usual case: the engine then only awaits the exchange's future); a request
with a ``body_producer`` or ``expect_100_continue`` and a body returns False,
and ``Exchange.run`` awaits ``send_rest`` for it before waiting for the
response. The response side of the exchange (``exchange.py``) ends a
``100 Continue`` wait: a final response first means the body is not wanted.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import TYPE_CHECKING

from squall._errors import HTTPStreamClosedError

if TYPE_CHECKING:
    from squall._http1.exchange import Exchange

__all__ = ["send_request", "send_rest"]

# Bodies up to this size are sent in the same buffer as the head (one send).
_JOIN_LIMIT = 64 * 1024


def send_request(exchange: Exchange, fields: list[tuple[str, str]]) -> bool:
    """Write the whole request now if nothing needs awaiting (no ``body_producer``,
    no ``100 Continue`` wait); True if it did. The caller then awaits ``done``
    (when not streaming) or ``run(fields, True)``.

    Raises:
        ValueError: a field that could split the message.
    """
    request, conn = exchange.request, exchange.conn
    headers = request.headers
    if "Connection" in headers and "close" in headers["Connection"].lower():
        exchange.must_close = True  # RFC 9112 §9.6: we said this is the last request
    body = request.body
    if request.body_producer is not None or (request.expect_100_continue and body):
        return False
    start_request = conn.protocol.start_request
    if body is not None and len(body) > _JOIN_LIMIT:
        # A large body goes in its own write: copying it behind the head costs more
        # than the extra send.
        conn.start(exchange, start_request(request.method, request.target, fields))
        conn.write(body)
    else:
        conn.start(exchange, start_request(request.method, request.target, fields, body))
    return True


async def send_rest(exchange: Exchange, fields: list[tuple[str, str]]) -> None:
    """Write a request ``send_request`` left unsent: its head, then its body once
    a ``100 Continue`` came (if asked for), from the ``body_producer`` or whole."""
    request, conn = exchange.request, exchange.conn
    start_request = conn.protocol.start_request
    if request.body_producer is not None:
        chunked = "Content-Length" not in request.headers
        head = start_request(request.method, request.target, fields, None, chunked)
        conn.start(exchange, head)
        if exchange.done.done():
            await exchange.done  # closed before a byte was sent: the producer never ran
        if not request.expect_100_continue or await _wait_continue(exchange):
            await _produce(exchange)
    else:  # expect_100_continue with a body
        conn.start(exchange, start_request(request.method, request.target, fields))
        if await _wait_continue(exchange):
            assert request.body is not None
            conn.write(request.body)


async def _wait_continue(exchange: Exchange) -> bool:
    # RFC 9110 §10.1.1: send the body after a 100; a final response first means
    # the body is not wanted, and the connection must then close.
    waiter = exchange.continue_waiter = exchange.loop.create_future()
    if await waiter:
        return True
    exchange.must_close = True
    return False


async def _produce(exchange: Exchange) -> None:
    conn = exchange.conn
    frame = conn.protocol.frame

    def write(chunk: bytes | str) -> asyncio.Future[None]:
        # Tornado's contract: the data is written now; the future says when
        # to write more.
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        if conn.closed:
            raise HTTPStreamClosedError(f"Connection to {conn.where} closed")
        conn.write(frame(bytes(chunk)))
        return conn.writable()

    producer = exchange.request.body_producer
    assert producer is not None
    try:
        result = producer(write)
        if result is not None and inspect.isawaitable(result):
            await result
    except HTTPStreamClosedError:
        if not exchange.done.done():
            raise
        # The server answered (and closed) before taking the whole body: that
        # answer is the result, as with any early response.
        exchange.must_close = True
        return
    conn.write(conn.protocol.end_request())
