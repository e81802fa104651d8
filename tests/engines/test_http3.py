"""HTTP/3 (QUIC) with the curl engine, against hypercorn's QUIC listener (``h3_url``).

Only the curl engine speaks HTTP/3 (libcurl built with ngtcp2/nghttp3). Nothing
listens on TCP at ``h3_port``, so an answer from there came over QUIC; the app
also reports the HTTP version it served.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from squall._errors import (
    HTTPClientError,
    HTTPConnectionError,
    HTTPStreamClosedError,
    HTTPTimeoutError,
)
from tests.conftest import curl_only
from tests.servers.app import AppServer
from tests.servers.helpers import echoed
from tests.servers.tls import Certs

pytestmark = [curl_only, pytest.mark.squall_only]

# A body well past QUIC's initial flow-control windows, so the upload needs
# the server to grant more credit on the way.
LARGE_BODY = bytes(range(256)) * 2048  # 512 KiB, every byte value


@pytest.fixture
def silent_udp_port() -> Iterator[int]:
    """A UDP port with a socket bound but never read: QUIC packets vanish, no ICMP error."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


async def test_get_over_http3(client: Any, app_server: AppServer, certs: Certs) -> None:
    lines: list[str] = []
    response = await client.fetch(
        app_server.h3_url + "/echo?x=1",
        http_version="3",
        ca_certs=certs.ca,
        header_callback=lines.append,
    )
    assert response.code == 200
    data = echoed(response)
    assert data["http_version"] == "3"
    assert (data["method"], data["path"], data["query"]) == ("GET", "/echo", "x=1")
    assert lines[0].startswith("HTTP/3 200"), lines[0]


async def test_post_body_over_http3(client: Any, app_server: AppServer, certs: Certs) -> None:
    response = await client.fetch(
        app_server.h3_url + "/echo",
        method="POST",
        body=LARGE_BODY,
        http_version="3",
        ca_certs=certs.ca,
    )
    data = echoed(response)
    assert data["http_version"] == "3"
    assert data["body"].encode("latin-1") == LARGE_BODY


async def test_body_producer_over_http3(client: Any, app_server: AppServer, certs: Certs) -> None:
    async def producer(write: Any) -> None:
        for start in range(0, len(LARGE_BODY), 65536):
            await write(LARGE_BODY[start : start + 65536])

    response = await client.fetch(
        app_server.h3_url + "/echo",
        method="PUT",
        body_producer=producer,
        http_version="3",
        ca_certs=certs.ca,
    )
    data = echoed(response)
    assert (data["method"], data["http_version"]) == ("PUT", "3")
    assert data["body"].encode("latin-1") == LARGE_BODY


async def test_http3_reuses_the_quic_connection(
    client: Any, app_server: AppServer, certs: Certs
) -> None:
    url = app_server.h3_url + "/echo"
    first = echoed(await client.fetch(url, http_version="3", ca_certs=certs.ca))
    second = echoed(await client.fetch(url, http_version="3", ca_certs=certs.ca))
    # The client address is the UDP source port of the QUIC connection.
    assert first["client"] == second["client"]


async def test_http3_wrong_ca_fails(client: Any, app_server: AppServer, certs: Certs) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(app_server.h3_url + "/echo", http_version="3", ca_certs=certs.other_ca)
    assert info.value.code == 599


async def test_http3_to_closed_port_fails_at_once(client: Any, closed_port: int) -> None:
    # Nothing on UDP nor TCP: the QUIC Initial gets an ICMP port-unreachable.
    with pytest.raises(HTTPConnectionError) as info:
        await client.fetch(
            f"https://127.0.0.1:{closed_port}/echo",
            http_version="3",
            connect_timeout=2,
            request_timeout=20,
        )
    assert info.value.code == 599
    assert f"127.0.0.1:{closed_port}" in str(info.value)


async def test_http3_to_closed_port_is_not_a_closed_stream(client: Any, closed_port: int) -> None:
    # No connection ever existed, so "connection closed" would mislead.
    with pytest.raises(HTTPConnectionError) as info:
        await client.fetch(f"https://127.0.0.1:{closed_port}/echo", http_version="3")
    assert not isinstance(info.value, HTTPStreamClosedError), repr(info.value)
    assert str(info.value).startswith(("Could not connect to", "[Errno 111] Connection refused"))


async def test_http3_to_silent_port_times_out_while_connecting(
    client: Any, silent_udp_port: int
) -> None:
    # No answer at all: the QUIC handshake must give up at connect_timeout, and
    # say so, rather than run into request_timeout.
    with pytest.raises(HTTPTimeoutError) as info:
        await client.fetch(
            f"https://127.0.0.1:{silent_udp_port}/echo",
            http_version="3",
            connect_timeout=2,
            request_timeout=20,
        )
    assert info.value.code == 599
    assert info.value.phase == "connect", str(info.value)
    assert f"127.0.0.1:{silent_udp_port}" in str(info.value)


async def test_http3_does_not_fall_back_to_tcp(
    client: Any, app_server: AppServer, certs: Certs
) -> None:
    # https_port serves HTTP/2 and HTTP/1.1 on TCP but has no QUIC listener:
    # asking for HTTP/3 there is an error, not a silent downgrade.
    with pytest.raises(HTTPConnectionError) as info:
        await client.fetch(
            app_server.https_url + "/echo",
            http_version="3",
            ca_certs=certs.ca,
            connect_timeout=2,
            request_timeout=20,
        )
    assert info.value.code == 599
