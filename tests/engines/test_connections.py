"""Connections: keep-alive reuse, pool keys, stale connections, close(), max_clients,
name resolution options and the source address.

Connections are counted by the client port the server saw (``/echo`` reports it),
or by the scripted server's accept count.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import pytest

from tests.conftest import curl_only
from tests.servers.app import AppServer
from tests.servers.helpers import (
    FixedResolver,
    client_port,
    echoed,
    echoed_headers,
    sockets_connected_to,
)
from tests.servers.scripted import ScriptedServer, reply_each, response
from tests.servers.tls import Certs


async def test_sequential_fetches_reuse_one_connection(client: Any, app_server: AppServer) -> None:
    ports = {client_port(await client.fetch(app_server.http_url + "/echo")) for _ in range(5)}
    assert len(ports) == 1


async def test_reuse_over_tls(client: Any, app_server: AppServer, certs: Certs) -> None:
    url = app_server.https_url + "/echo"
    ports = {client_port(await client.fetch(url, ca_certs=certs.ca)) for _ in range(3)}
    assert len(ports) == 1


async def test_reuse_after_streamed_and_chunked_bodies(client: Any, app_server: AppServer) -> None:
    first = client_port(await client.fetch(app_server.http_url + "/echo"))
    await client.fetch(app_server.http_url + "/chunked?chunks=3&size=5")
    await client.fetch(
        app_server.http_url + "/large?size=100000", streaming_callback=lambda chunk: None
    )
    await client.fetch(app_server.http_url + "/status/404", raise_error=False)
    assert client_port(await client.fetch(app_server.http_url + "/echo")) == first


async def test_origins_get_their_own_connections(client: Any, app_server: AppServer) -> None:
    a = client_port(await client.fetch(app_server.http_url + "/echo"))
    b = client_port(await client.fetch(app_server.other_url + "/echo"))
    assert a != b
    assert client_port(await client.fetch(app_server.http_url + "/echo")) == a


async def test_pool_key_validate_cert(client: Any, app_server: AppServer, certs: Certs) -> None:
    url = app_server.https_url + "/echo"
    unverified = client_port(await client.fetch(url, validate_cert=False))
    verified = client_port(await client.fetch(url, ca_certs=certs.ca))
    assert unverified != verified
    assert client_port(await client.fetch(url, validate_cert=False)) == unverified


async def test_pool_key_client_cert(client: Any, app_server: AppServer, certs: Certs) -> None:
    url = app_server.https_url + "/echo"
    plain = client_port(await client.fetch(url, ca_certs=certs.ca))
    with_cert = client_port(
        await client.fetch(
            url, ca_certs=certs.ca, client_cert=certs.client_cert, client_key=certs.client_key
        )
    )
    assert plain != with_cert
    # Each kind keeps its own pooled connection.
    assert client_port(await client.fetch(url, ca_certs=certs.ca)) == plain


async def test_pool_key_network_interface(client: Any, app_server: AppServer) -> None:
    url = app_server.http_url + "/echo"
    default = await client.fetch(url)
    bound = await client.fetch(url, network_interface="127.0.0.2")
    assert echoed(bound)["client"][0] == "127.0.0.2"
    assert echoed(default)["client"][0] == "127.0.0.1"
    # Each source address keeps its own pooled connection.
    assert echoed(await client.fetch(url))["client"] == echoed(default)["client"]
    again = await client.fetch(url, network_interface="127.0.0.2")
    assert echoed(again)["client"] == echoed(bound)["client"]


def _keep_alive_then(after_first: str) -> Any:
    """A server whose first connection answers once, then misbehaves; later ones answer."""

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        first = not server.event("first").is_set()
        server.event("first").set()
        if not first:
            server.answer_requests(conn, response(b"second"))
            return
        server.read_request(conn)
        conn.sendall(response(b"first"))
        conn.close()
        server.event("closed").set()

    return handler


async def _wait_event(server: ScriptedServer, name: str) -> None:
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, server.event(name).wait, 5)


async def test_server_closed_idle_connection(client: Any, scripted: Any) -> None:
    server = scripted(_keep_alive_then("close"))
    assert (await client.fetch(server.url + "/")).body == b"first"
    await _wait_event(server, "closed")
    assert (await client.fetch(server.url + "/")).body == b"second"
    assert server.connections == 2


_serve_keep_alive = reply_each(response(b"kept"))


async def test_close_frees_every_socket(make_client: Any, scripted: Any) -> None:
    server = scripted(_serve_keep_alive)
    client = make_client()
    await asyncio.gather(*(client.fetch(server.url + f"/{i}") for i in range(3)))
    await client.fetch(server.url + "/again")
    assert sockets_connected_to(server.port) >= 1, "keep-alive connections should be open"
    client.close()
    for _ in range(3):
        await asyncio.sleep(0)
    assert sockets_connected_to(server.port) == 0
    client.close()  # idempotent


async def test_connection_close_header_is_honoured(client: Any, scripted: Any) -> None:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_request(conn)
        conn.sendall(response(b"bye", headers=["Connection: close"]))
        server.wait()  # keep our end open: the client must not reuse it anyway

    server = scripted(handler)
    await client.fetch(server.url + "/")
    await client.fetch(server.url + "/")
    assert server.connections == 2


async def test_max_clients_caps_concurrency(make_client: Any, app_server: AppServer) -> None:
    client = make_client(max_clients=2)
    url = f"{app_server.http_url}/inflight?key={uuid.uuid4()}&want=3&wait=0.3"
    results = await asyncio.gather(*(client.fetch(url) for _ in range(5)))
    assert max(int(r.body) for r in results) == 2


@pytest.mark.squall_only("curl")  # resolver: Tornado has it on its simple client only
async def test_custom_resolver(make_client: Any, app_server: AppServer) -> None:
    resolver = FixedResolver((socket.AF_INET, "127.0.0.1"))
    client = make_client(resolver=resolver)
    url = f"http://squall.test:{app_server.http_port}/echo"
    response_ = await client.fetch(url)
    assert echoed_headers(echoed(response_), "Host") == [f"squall.test:{app_server.http_port}"]
    assert [call[:2] for call in resolver.calls] == [("squall.test", app_server.http_port)]


@pytest.mark.squall_only("curl")  # resolver: Tornado has it on its simple client only
async def test_resolver_answers_are_not_cached_past_a_change(
    make_client: Any, scripted: Any
) -> None:
    # On 127.0.0.1 only: 127.0.0.3 on its port refuses.
    server = scripted(reply_each(response(b"here")))
    resolver = FixedResolver((socket.AF_INET, "127.0.0.3"))
    client = make_client(resolver=resolver)
    urls = [f"http://name{i}.test:{server.port}/" for i in range(40)]
    for url in urls:
        with pytest.raises(ConnectionRefusedError):
            await client.fetch(url)
    resolver.addresses = ((socket.AF_INET, "127.0.0.1"),)
    for url in urls:
        assert (await client.fetch(url)).body == b"here"
    assert server.connections == len(urls)


@pytest.mark.squall_only
@curl_only
async def test_curl_resolver_entries_expire(make_client: Any, app_server: AppServer) -> None:
    # libcurl keeps what CURLOPT_RESOLVE adds for good unless the entry is marked to
    # expire: a long-lived client meeting many names would grow its DNS cache forever.
    import pycurl

    log: list[bytes] = []

    def prepare(curl: Any) -> None:
        curl.setopt(pycurl.VERBOSE, 1)
        curl.setopt(
            pycurl.DEBUGFUNCTION, lambda kind, text: log.append(text) if kind == 0 else None
        )

    client = make_client(resolver=FixedResolver((socket.AF_INET, "127.0.0.1")))
    await client.fetch(
        f"http://squall.test:{app_server.http_port}/echo", prepare_curl_callback=prepare
    )
    added = [line for line in log if b"to cache" in line]
    assert added and all(b"squall.test" in line and b"non-permanent" in line for line in added)


@pytest.mark.squall_only("curl")  # resolver: Tornado has it on its simple client only
async def test_allow_ipv6_false_asks_for_ipv4(make_client: Any, app_server: AppServer) -> None:
    resolver = FixedResolver((socket.AF_INET, "127.0.0.1"))
    client = make_client(resolver=resolver)
    await client.fetch(f"http://squall.test:{app_server.http_port}/echo", allow_ipv6=False)
    assert resolver.calls[-1][2] == socket.AF_INET


async def test_allow_ipv6_false_localhost(client: Any, app_server: AppServer) -> None:
    response_ = await client.fetch(
        f"http://localhost:{app_server.http_port}/echo", allow_ipv6=False
    )
    assert echoed(response_)["client"][0] == "127.0.0.1"


@pytest.mark.squall_only("curl")  # hostname_mapping: Tornado has it on its simple client only
async def test_hostname_mapping(make_client: Any, app_server: AppServer) -> None:
    client = make_client(hostname_mapping={"squall.test": "127.0.0.1"})
    response_ = await client.fetch(f"http://squall.test:{app_server.http_port}/echo")
    assert echoed_headers(echoed(response_), "Host") == [f"squall.test:{app_server.http_port}"]


@pytest.mark.squall_only("curl")  # hostname_mapping: Tornado has it on its simple client only
async def test_hostname_mapping_with_port(make_client: Any, app_server: AppServer) -> None:
    client = make_client(
        hostname_mapping={("squall.test", 80): ("127.0.0.1", app_server.http_port)}
    )
    response_ = await client.fetch("http://squall.test/echo")
    assert echoed_headers(echoed(response_), "Host") == ["squall.test"]


async def test_network_interface_source_ip(client: Any, app_server: AppServer) -> None:
    for source in ("127.0.0.1", "127.0.0.2"):
        response_ = await client.fetch(app_server.http_url + "/echo", network_interface=source)
        assert echoed(response_)["client"][0] == source


@pytest.mark.squall_only
async def test_http2_multiplexes_on_one_connection(
    client: Any, app_server: AppServer, certs: Certs
) -> None:
    url = app_server.https_url + "/echo"
    results = await asyncio.gather(
        *(client.fetch(url, ca_certs=certs.ca, http_version="2") for _ in range(4))
    )
    assert {echoed(r)["http_version"] for r in results} == {"2"}
    assert len({client_port(r) for r in results}) == 1
