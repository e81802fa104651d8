"""How ``http_version="2"`` meets servers that want HTTP/1.1, and the missing extra.

A TLS server whose ALPN offers only ``http/1.1``, and an h2c server that resets
the stream with HTTP_1_1_REQUIRED: both engines then send the request over
HTTP/1.1, as libcurl does for the same option.
"""

from __future__ import annotations

import socket
import ssl
import sys
from typing import Any

import pytest

import squall._http2
from tests.conftest import simple_only
from tests.servers.h2_scripted import H2Peer
from tests.servers.scripted import ScriptedServer, response
from tests.servers.tls import Certs

pytestmark = pytest.mark.squall_only  # Tornado's simple client has no HTTP/2

HTTP_1_1_REQUIRED = 0xD
BACKSTOP = 10.0


async def test_alpn_http1_only_server_gets_http1(client: Any, scripted: Any, certs: Certs) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.server_cert, certs.server_key)
    context.set_alpn_protocols(["http/1.1"])

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        with context.wrap_socket(conn, server_side=True) as tls:
            server.answer_requests(tls, response(b"over one-one"))

    server = scripted(handler)
    url = f"https://127.0.0.1:{server.port}/"
    for _ in range(2):
        fetched = await client.fetch(
            url, http_version="2", ca_certs=certs.ca, request_timeout=BACKSTOP
        )
        assert fetched.body == b"over one-one"
    assert server.requests[0].startswith(b"GET / HTTP/1.1\r\n")


async def test_http_1_1_required_is_sent_again_over_http1(client: Any, scripted: Any) -> None:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        if conn.recv(3, socket.MSG_PEEK) == b"PRI":  # the HTTP/2 connection preface
            peer = H2Peer(conn)
            while sid := peer.read_request():
                peer.frames(peer.rst(sid, HTTP_1_1_REQUIRED))
        else:
            server.answer_requests(conn, response(b"downgraded"))

    server = scripted(handler)
    fetched = await client.fetch(server.url + "/", http_version="2", request_timeout=BACKSTOP)
    assert fetched.body == b"downgraded"
    assert server.requests[0].startswith(b"GET / HTTP/1.1\r\n")


@simple_only
async def test_without_jh2_http2_names_the_extra(
    client: Any, dead_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m == "jh2" or m.startswith(("jh2.", "squall._http2."))]:
        if name != "squall._simple_engine":
            monkeypatch.delitem(sys.modules, name)
    for name in ("engine", "connection", "stream"):  # a loaded submodule is the package's attribute
        monkeypatch.delattr(squall._http2, name, raising=False)
    monkeypatch.setitem(sys.modules, "jh2", None)  # import jh2 now fails
    with pytest.raises(ValueError, match=r"squall\[http2\]"):
        await client.fetch(dead_url, http_version="2")
    # HTTP/1.1 needs no extra.
    with pytest.raises(Exception) as info:
        await client.fetch(dead_url, http_version="1.1")
    assert not isinstance(info.value, ValueError)
