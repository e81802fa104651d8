"""IPv6 literals, and falling back across the addresses a name resolves to."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tests.servers.helpers import FixedResolver
from tests.servers.scripted import reply_each, response

_serve = reply_each(response(b"here"))


async def test_ipv6_literal_url(client: Any, scripted: Any) -> None:
    server = scripted(_serve, host="::1")
    result = await client.fetch(server.url + "/six")
    assert result.body == b"here"
    assert f"host: [::1]:{server.port}" in server.requests[0].decode().lower()


@pytest.mark.squall_only("curl")  # resolver: Tornado has it on its simple client only
async def test_refused_ipv6_falls_back_to_ipv4(make_client: Any, scripted: Any) -> None:
    server = scripted(_serve)  # IPv4 only: ::1 on this port refuses
    resolver = FixedResolver((socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.1"))
    client = make_client(resolver=resolver)
    result = await client.fetch(f"http://dual.test:{server.port}/")
    assert result.body == b"here" and server.connections == 1


@pytest.mark.squall_only("curl")  # resolver: Tornado has it on its simple client only
async def test_refused_ipv4_falls_back_to_ipv6(make_client: Any, scripted: Any) -> None:
    server = scripted(_serve, host="::1")  # IPv6 only: 127.0.0.1 on this port refuses
    resolver = FixedResolver((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1"))
    client = make_client(resolver=resolver)
    result = await client.fetch(f"http://dual.test:{server.port}/")
    assert result.body == b"here" and server.connections == 1


@pytest.mark.squall_only("curl")  # resolver: Tornado has it on its simple client only
async def test_allow_ipv6_false_skips_ipv6_addresses(make_client: Any, scripted: Any) -> None:
    server = scripted(_serve, host="::1")  # only the IPv6 address would answer
    resolver = FixedResolver((socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.1"))
    client = make_client(resolver=resolver)
    url = f"http://dual.test:{server.port}/"
    with pytest.raises(ConnectionRefusedError):
        await client.fetch(url, allow_ipv6=False)
    assert server.connections == 0
    assert (await client.fetch(url)).body == b"here"
