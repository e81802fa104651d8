"""An HTTP/2 body buffered in place: a body of known length is received into
memory of its size (squall._bodies), not gathered in pieces and joined (which
held it twice at the end). Peaks are Python allocations (tracemalloc), measured
around the fetch alone, from a frame-level h2c peer (``H2Peer.serve``).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from tests.engines.test_decompression_bombs import plain_body
from tests.servers.h2_scripted import H2Peer
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
