"""max_body_size bounds a whole body; max_buffer_size one read's buffer (as in Tornado).

``max_body_size`` defaults to ``max_buffer_size``, so a client given only the
latter still refuses a larger body; one given both buffers a body up to
``max_body_size`` however small ``max_buffer_size`` is.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from squall._errors import ResponseTooLargeError
from tests.servers.scripted import ScriptedServer, response

SIZE = 100 * 1024
BODY = bytes(range(256)) * (SIZE // 256)


def _reply(framing: str) -> Any:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_request(conn)
        if framing == "content-length":
            conn.sendall(response(BODY))
            server.wait()
        else:  # read until the close
            conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + BODY)

    return handler


@pytest.mark.squall_only("curl")  # Tornado's curl client has no max_body_size
@pytest.mark.parametrize("framing", ["content-length", "until-close"])
async def test_body_over_max_buffer_size_within_max_body_size(
    make_client: Any, scripted: Any, framing: str
) -> None:
    server = scripted(_reply(framing))
    client = make_client(max_body_size=1024 * 1024, max_buffer_size=64 * 1024)
    result = await client.fetch(server.url + "/", request_timeout=5)
    assert result.body == BODY


@pytest.mark.squall_only("curl")
@pytest.mark.parametrize("framing", ["content-length", "until-close"])
async def test_max_body_size_defaults_to_max_buffer_size(
    make_client: Any, scripted: Any, framing: str
) -> None:
    server = scripted(_reply(framing))
    client = make_client(max_buffer_size=64 * 1024)
    with pytest.raises(ResponseTooLargeError):
        await client.fetch(server.url + "/", request_timeout=5)
