"""The CONNECT request itself, as a scripted proxy records it (both engines)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from squall._request_defaults import DEFAULT_USER_AGENT
from tests.servers.scripted import ScriptedServer, response

# squall's own contract on the wire (Tornado's simple client has no proxies at all).
pytestmark = pytest.mark.squall_only

ORIGIN = "origin.squall.test"  # never resolved: only the proxy is dialled


def _refusing(conn: socket.socket, server: ScriptedServer) -> None:
    server.read_head(conn)  # recorded in server.requests
    conn.sendall(response(b"", "403 Forbidden"))


def _user_agents(head: bytes) -> list[str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    pairs = [line.partition(":") for line in lines]
    return [value.strip() for name, _, value in pairs if name.strip().lower() == "user-agent"]


@pytest.mark.parametrize(
    "options, expected",
    [
        pytest.param({}, DEFAULT_USER_AGENT, id="default"),
        pytest.param({"user_agent": "probe/1.0"}, "probe/1.0", id="user_agent"),
        # A User-Agent header is the origin's: the CONNECT gets squall's.
        pytest.param({"headers": {"User-Agent": "h/2.0"}}, DEFAULT_USER_AGENT, id="header"),
    ],
)
async def test_connect_carries_squalls_user_agent(
    client: Any, scripted: Any, options: dict[str, Any], expected: str
) -> None:
    server = scripted(_refusing)
    reply = await client.fetch(
        f"https://{ORIGIN}/",
        proxy_host=f"http://127.0.0.1:{server.port}",
        raise_error=False,
        **options,
    )
    assert reply.code == 403
    (connect,) = server.requests
    assert connect.startswith(f"CONNECT {ORIGIN}:443 HTTP/1.1\r\n".encode())
    assert _user_agents(connect) == [expected]
