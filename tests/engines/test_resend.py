"""At most once: a request that reached a kept-alive connection is never sent again.

A server that reads a request and closes without answering may have acted on
it (a process that exits after taking the request, for one); so once any byte
of a request was written, neither engine sends it again, whatever its method.
What is retried is only what the server cannot have seen: a pooled connection
found closed before reuse is not used (see ``squall._resend``;
test_connections.py has that case).
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from squall._errors import HTTPStreamClosedError
from tests.servers.scripted import ScriptedServer, response

# Tornado never reuses a connection: what is pinned here is squall's keep-alive contract.
pytestmark = pytest.mark.squall_only


def _answer_once_then_swallow(conn: socket.socket, server: ScriptedServer) -> None:
    # First connection: answer one request, read the next and close unanswered.
    # Any later connection answers everything (a resend would succeed there).
    first = not server.event("first").is_set()
    server.event("first").set()
    if first:
        server.read_request(conn)
        conn.sendall(response(b"first"))
        server.read_request(conn)
        return
    while server.read_request(conn):
        conn.sendall(response(b"resent"))


@pytest.mark.parametrize("method", ["GET", "PUT", "POST"])
async def test_request_read_then_closed_reaches_the_server_once(
    client: Any, scripted: Any, method: str
) -> None:
    server = scripted(_answer_once_then_swallow)
    body = None if method == "GET" else b"x"
    assert (await client.fetch(server.url + "/one", method=method, body=body)).body == b"first"
    with pytest.raises(HTTPStreamClosedError):
        await client.fetch(server.url + "/two", method=method, body=body)
    targets = [head.split(b"\r\n")[0].split(b" ")[1] for head in server.requests]
    assert targets == [b"/one", b"/two"]
    assert server.connections == 1
