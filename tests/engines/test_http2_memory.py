"""HTTP/2 bodies in memory, from a frame-level h2c peer (``H2Peer.serve``).

A buffered body of known length is received into memory of its size
(squall._bodies), not gathered in pieces and joined (which held it twice at the
end); peaks are Python allocations (tracemalloc), measured around the fetch
alone. A coroutine ``streaming_callback`` gets what was held for it in order,
then the end of the body or its error.
(The bombs over HTTP/2 are in test_decompression_bombs.py.)
"""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from squall._errors import HTTPClientError
from tests.engines.test_decompression_bombs import plain_body
from tests.servers.h2_scripted import H2Peer
from tests.servers.helpers import compress
from tests.servers.scripted import ScriptedServer

pytestmark = pytest.mark.squall_only  # Tornado's clients have no HTTP/2

MiB = 1024 * 1024


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "no-length"])
async def test_buffered_body_is_held_once(
    client: Any, scripted: Callable[..., ScriptedServer], announced: bool
) -> None:
    body = plain_body(32 * MiB)

    def respond(path: str) -> tuple[list[tuple[str, str]], bytes]:
        return ([("content-length", str(len(body)))] if announced else []), body

    server = scripted(lambda conn, server: H2Peer(conn).serve(respond))
    tracemalloc.start()
    try:
        response = await client.fetch(server.url + "/", http_version="2", request_timeout=60)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.code == 200
    assert response.body == body
    # Known length: the body's own memory, hardly more. Unknown: a buffer that
    # grows by an eighth at a time (BytesIO), never a second copy of it.
    bound = 32 * MiB + (4 * MiB if announced else 32 * MiB // 8 + 4 * MiB)
    assert peak < bound, f"peak {peak / MiB:.1f} MiB for a 32 MiB body"


def serve(scripted: Callable[..., ScriptedServer], routes: dict[str, Any]) -> ScriptedServer:
    """An h2c server answering each path with ``(coding, body)``."""

    def respond(path: str) -> tuple[list[tuple[str, str]], bytes]:
        coding, body = routes[path]
        head = [("content-length", str(len(body)))]
        return [*head, ("content-encoding", coding)] if coding else head, body

    return scripted(lambda conn, server: H2Peer(conn).serve(respond))


@pytest.mark.parametrize("truncated", [False, True], ids=["whole", "truncated"])
async def test_slow_coroutine_callback_gets_held_pieces_in_order(
    client: Any, scripted: Callable[..., ScriptedServer], truncated: bool
) -> None:
    # Many DATA frames arrive while the callback waits, then the end of the stream
    # (or a decoding error at the end): delivered, or reported, only after them.
    body = b"".join(b"%07d" % i for i in range(300_000))  # 2 MiB, some 1 MiB pieces
    data = compress("gzip", body, 1)
    server = serve(scripted, {"/": ("gzip", data[:-8] if truncated else data)})
    received: list[bytes] = []

    async def slow(chunk: bytes) -> None:
        for _ in range(3):
            await asyncio.sleep(0)
        received.append(chunk)

    options: dict[str, Any] = {"http_version": "2", "request_timeout": 30}
    if truncated:
        with pytest.raises(HTTPClientError) as info:
            await client.fetch(server.url + "/", streaming_callback=slow, **options)
        assert info.value.code == 599
        assert b"".join(received) == body[: len(b"".join(received))]
        return
    response = await client.fetch(server.url + "/", streaming_callback=slow, **options)
    assert response.code == 200
    assert b"".join(received) == body
