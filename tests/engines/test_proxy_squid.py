"""Debian's squid as the proxy, both engines: digest proxy auth for forwarded HTTP and CONNECT.

squid runs in the foreground from a generated configuration (tests/servers/squid.py);
its access log is how a test sees what the proxy was asked: one line per
transaction, ``TCP_DENIED/407`` for each challenge it sent.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest

from squall._errors import HTTPClientError
from tests.servers.app import AppServer
from tests.servers.helpers import echoed, echoed_headers
from tests.servers.squid import SQUID_PASSWORD, SQUID_USER, Squid, squid_binary
from tests.servers.tls import Certs

# Tornado's simple client has no proxies; its curl client has them.
pytestmark = pytest.mark.squall_only("simple")


@pytest.fixture(scope="module")
def squid() -> Iterator[Squid]:
    """squid demanding digest proxy auth (SQUID_USER, SQUID_PASSWORD)."""
    if squid_binary() is None:
        if os.geteuid() == 0:  # ./dev installs it as root (as in CI): never a silent skip there
            pytest.fail("squid is missing: ./dev test installs it (apt-get install squid)")
        pytest.skip("squid is not installed and cannot be without root (apt-get install squid)")
    with Squid({SQUID_USER: SQUID_PASSWORD}) as server:
        yield server


def _digest(squid: Squid, password: str = SQUID_PASSWORD) -> dict[str, Any]:
    host, port = squid.address
    return {
        "proxy_host": host,
        "proxy_port": port,
        "proxy_username": SQUID_USER,
        "proxy_password": password,
        "proxy_auth_mode": "digest",
    }


def _url(app_server: AppServer, origin: str) -> str:
    return (app_server.https_url if origin == "https" else app_server.http_url) + "/echo"


async def _logged(squid: Squid, start: int, done: str, count: int) -> list[str]:
    """The access log's lines after ``start``, once ``count`` of them contain ``done``."""
    # squid writes a line when a transaction ends: wait for the ones the test made.
    for _ in range(200):
        lines = squid.access_log()[start:]
        if sum(done in line for line in lines) >= count:
            return lines
        await asyncio.sleep(0.05)
    raise AssertionError(f"squid never logged {count} x {done}: {lines}")


@pytest.mark.parametrize("origin", ["http", "https"])
async def test_digest_proxy_auth(
    client: Any, app_server: AppServer, squid: Squid, certs: Certs, origin: str
) -> None:
    # http: the request is forwarded; https: TLS to the origin in a CONNECT tunnel.
    response = await client.fetch(
        _url(app_server, origin),
        method="POST",
        body=b"via squid",
        ca_certs=certs.ca,
        **_digest(squid),
    )
    data = echoed(response)
    assert data["body"] == "via squid"
    assert echoed_headers(data, "Proxy-Authorization") == []  # the proxy's alone
    assert "Proxy-Authenticate" not in response.headers  # the answered 407 is not the response


@pytest.mark.squall_only  # Tornado's curl client: a 599 for the refused CONNECT
@pytest.mark.parametrize("origin", ["http", "https"])
async def test_wrong_password_is_the_proxy_407(
    client: Any,
    app_server: AppServer,
    squid: Squid,
    certs: Certs,
    origin: str,
) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(
            _url(app_server, origin), ca_certs=certs.ca, **_digest(squid, password="wrong")
        )
    assert info.value.code == 407
    reply = info.value.response
    assert reply is not None and reply.code == 407
    assert reply.headers["Proxy-Authenticate"].startswith("Digest ")
    assert reply.headers["X-Squid-Error"].startswith("ERR_CACHE_ACCESS_DENIED")
    if origin == "http":  # libcurl drops a CONNECT's body (test_proxy_wire pins it)
        assert b"squid" in reply.body  # squid's own error page


@pytest.mark.squall_only  # Tornado's curl client answers a fresh challenge each time
@pytest.mark.parametrize("origin", ["http", "https"])
async def test_one_challenge_for_many_requests(
    make_client: Any, app_server: AppServer, squid: Squid, certs: Certs, origin: str
) -> None:
    start = len(squid.access_log())
    client = make_client()
    # Two requests to one origin, then another origin: the same proxy connection
    # for http, a second tunnel for https.
    urls = [_url(app_server, origin)] * 2
    if origin == "http":
        urls.append(app_server.other_url + "/echo")
    else:
        urls.append(urls[0].replace("127.0.0.1", "localhost"))
    for url in urls:
        assert echoed(await client.fetch(url, ca_certs=certs.ca, **_digest(squid)))
    client.close()  # ends the tunnels, which squid logs as they close
    done, count = ("TCP_MISS/200", 3) if origin == "http" else ("TCP_TUNNEL/200", 2)
    lines = await _logged(squid, start, done, count)
    # Challenged once; then every request (and every later tunnel) is signed at once.
    assert sum("TCP_DENIED/407" in line for line in lines) == 1, lines


@pytest.mark.squall_only  # Tornado's curl client hands on the CONNECT responses too
@pytest.mark.parametrize("origin", ["http", "https"])
async def test_header_callback_sees_the_final_response_only(
    client: Any, app_server: AppServer, squid: Squid, certs: Certs, origin: str
) -> None:
    lines: list[str] = []
    await client.fetch(
        _url(app_server, origin), ca_certs=certs.ca, header_callback=lines.append, **_digest(squid)
    )
    # Neither the proxy's 407 nor its "200 Connection established": the origin's head alone.
    status_lines = [line for line in lines if line.startswith("HTTP/")]
    assert len(status_lines) == 1 and " 200" in status_lines[0], lines
    assert not any(line.lower().startswith("proxy-authenticate") for line in lines)
    assert lines[-1] == "\r\n"
