"""The libcurl engine's own options and mappings, against real 127.0.0.1 servers.

The behaviour both engines share is tested in tests/engines/; this file checks
what is specific to the curl engine: how request options become libcurl
options (what reaches the wire), the errno -> error mapping, handle reuse and
reset, ssl_options translation, proxies, http_version, and close().
What ``configure`` refuses or translates without any I/O is in
tests/unit/test_curl_configure.py.
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import socket
import ssl
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pycurl
import pytest

from squall._errors import (
    HTTPCertificateError,
    HTTPClientError,
    HTTPConnectionRefusedError,
    HTTPStreamClosedError,
    HTTPTimeoutError,
    RemoteProtocolError,
    ResponseTooLargeError,
)
from squall.curl_httpclient import CurlAsyncHTTPClient
from tests.conftest import PROXY_PASSWORD, PROXY_USER
from tests.servers.app import AppServer
from tests.servers.digest import DIGEST_PASSWORD, DIGEST_USER, DigestServer
from tests.servers.helpers import FixedResolver, echoed, echoed_headers
from tests.servers.scripted import ScriptedServer, response
from tests.servers.tls import Certs

Scripted = Callable[[Callable[[socket.socket, ScriptedServer], None]], ScriptedServer]
CHUNKED_OK = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n"


@pytest.fixture
def make_curl(event_loop: asyncio.AbstractEventLoop) -> Iterator[Callable[..., Any]]:
    made: list[CurlAsyncHTTPClient] = []

    def make(**kwargs: Any) -> CurlAsyncHTTPClient:
        client = CurlAsyncHTTPClient(force_instance=True, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def replying(*replies: bytes) -> Callable[[socket.socket, ScriptedServer], None]:
    """A handler that reads one request per reply and sends the reply bytes."""

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        for reply in replies:
            if not server.read_request(conn):
                return
            conn.sendall(reply)

    return handler


def head_lines(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


# -- what reaches the wire -----------------------------------------------------


async def test_default_headers_on_the_wire(make_curl: Any, scripted: Scripted) -> None:
    server = scripted(replying(response()))
    client = make_curl()
    await client.fetch(server.url + "/x", headers={"X-Empty": "", "X-Latin": "caf\xe9"})
    head = server.requests[0]
    sent = head_lines(head)
    assert head.startswith(b"GET /x HTTP/1.1\r\n")
    assert "expect" not in sent and "pragma" not in sent  # libcurl's own, blanked
    assert sent["user-agent"].startswith("squall/")
    assert sent["x-empty"] == ""
    assert b"X-Latin: caf\xe9\r\n" in head  # latin-1 on the wire
    assert "accept-encoding" in sent  # decompress_response defaults to on


async def test_handle_reset_between_requests(make_curl: Any, scripted: Scripted) -> None:
    # Two fetches on one keep-alive connection, hence on reused easy handles:
    # the first one's credentials and options must not leak into the second.
    server = scripted(replying(response(), response()))
    client = make_curl(max_clients=1)
    await client.fetch(
        server.url + "/a",
        auth_username="user",
        auth_password="secret",
        user_agent="first",
        method="PUT",
        body=b"data",
    )
    await client.fetch(server.url + "/b")
    first, second = (head_lines(h) for h in server.requests)
    assert first["authorization"].startswith("Basic ")
    assert first["user-agent"] == "first"
    assert "authorization" not in second and second["user-agent"] != "first"
    assert server.requests[1].startswith(b"GET /b ")
    assert server.connections == 1


async def test_put_body_has_no_form_content_type(make_curl: Any, scripted: Scripted) -> None:
    server = scripted(replying(response(), response()))
    client = make_curl()
    await client.fetch(server.url, method="PUT", body=b"abc")
    await client.fetch(server.url, method="POST", body=b"abc")
    put, post = (head_lines(h) for h in server.requests)
    assert "content-type" not in put and put["content-length"] == "3"
    assert post["content-type"] == "application/x-www-form-urlencoded"


async def test_body_producer_is_chunked_without_length(
    make_curl: Any, app_server: AppServer
) -> None:
    async def producer(write: Callable[[bytes], Any]) -> None:
        for part in (b"one,", b"two,", b"three"):
            await write(part)

    client = make_curl()
    data = echoed(
        await client.fetch(app_server.http_url + "/echo", method="POST", body_producer=producer)
    )
    assert data["body"] == "one,two,three"
    assert echoed_headers(data, "transfer-encoding") == ["chunked"]
    data = echoed(
        await client.fetch(
            app_server.http_url + "/echo",
            method="POST",
            body_producer=producer,
            headers={"Content-Length": "13"},
        )
    )
    assert data["body"] == "one,two,three"
    assert echoed_headers(data, "transfer-encoding") == []


async def test_expect_100_continue_is_sent(make_curl: Any, app_server: AppServer) -> None:
    client = make_curl()
    data = echoed(
        await client.fetch(
            app_server.http_url + "/echo", method="POST", body=b"x" * 10, expect_100_continue=True
        )
    )
    assert echoed_headers(data, "expect") == ["100-continue"]
    assert data["body"] == "x" * 10


async def test_proxy_absolute_form_and_auth(make_curl: Any, scripted: Scripted) -> None:
    # The scripted server plays an HTTP proxy: it sees what libcurl sends to one.
    server = scripted(replying(response(b"via proxy")))
    client = make_curl()
    resp = await client.fetch(
        "http://origin.invalid/path",
        proxy_host="127.0.0.1",
        proxy_port=server.port,
        proxy_username="pu",
        proxy_password="pp",
    )
    assert resp.body == b"via proxy"
    head = server.requests[0]
    assert head.startswith(b"GET http://origin.invalid/path HTTP/1.1\r\n")
    assert head_lines(head)["proxy-authorization"].startswith("Basic ")


async def test_https_through_connect_proxy(
    make_curl: Any, app_server: AppServer, certs: Certs, http_proxy: tuple[str, int]
) -> None:
    client = make_curl()
    resp = await client.fetch(
        app_server.https_url + "/echo",
        ca_certs=certs.ca,
        proxy_host=http_proxy[0],
        proxy_port=http_proxy[1],
        proxy_username=PROXY_USER,
        proxy_password=PROXY_PASSWORD,
    )
    # Only the origin's headers: the proxy's CONNECT reply is suppressed.
    assert resp.code == 200 and echoed(resp)["path"] == "/echo"
    assert "hypercorn" in resp.headers.get("Server", "")


async def test_socks5h_proxy(
    make_curl: Any, app_server: AppServer, socks_proxy: tuple[str, int]
) -> None:
    client = make_curl()
    resp = await client.fetch(
        app_server.http_url + "/echo",
        proxy_host=f"socks5h://{socks_proxy[0]}",
        proxy_port=socks_proxy[1],
    )
    assert echoed(resp)["path"] == "/echo"


# -- http_version --------------------------------------------------------------


async def test_http_version_2_cleartext_uses_prior_knowledge(
    make_curl: Any, app_server: AppServer
) -> None:
    client = make_curl()
    assert (
        echoed(await client.fetch(app_server.http_url + "/echo", http_version="2"))["http_version"]
        == "2"
    )
    assert (
        echoed(await client.fetch(app_server.http_url + "/echo", http_version="1.1"))[
            "http_version"
        ]
        == "1.1"
    )


async def test_https_negotiates_http2(make_curl: Any, app_server: AppServer, certs: Certs) -> None:
    client = make_curl()
    url = app_server.https_url + "/echo"
    assert echoed(await client.fetch(url, ca_certs=certs.ca))["http_version"] == "2"
    assert (
        echoed(await client.fetch(url, ca_certs=certs.ca, http_version="1.1"))["http_version"]
        == "1.1"
    )


async def test_ssl_options_context_and_dict_verify(
    make_curl: Any, app_server: AppServer, certs: Certs
) -> None:
    client = make_curl()
    url = app_server.https_url + "/echo"
    with pytest.raises(ValueError, match=r"client_cert/client_key.*dict form"):
        await client.fetch(url, ssl_options=ssl.create_default_context(cafile=certs.ca))
    assert (await client.fetch(url, ssl_options={"ca_certs": certs.ca})).code == 200
    with pytest.raises(HTTPCertificateError):
        await client.fetch(url, ssl_options={"ca_certs": certs.other_ca})
    for reqs in (ssl.CERT_OPTIONAL, ssl.CERT_REQUIRED):  # a client verifies with either
        with pytest.raises(HTTPCertificateError):
            await client.fetch(url, ssl_options={"ca_certs": certs.other_ca, "cert_reqs": reqs})
    insecure = {"ca_certs": certs.other_ca, "cert_reqs": ssl.CERT_NONE}
    assert (await client.fetch(url, ssl_options=insecure)).code == 200


async def test_prepare_curl_callback_gets_the_handle(make_curl: Any, scripted: Scripted) -> None:
    server = scripted(replying(response()))
    seen: list[Any] = []

    def prepare(curl: Any) -> None:
        seen.append(curl)
        curl.setopt(pycurl.HTTPHEADER, ["X-Prepared: yes"])  # runs after our setopts

    await make_curl().fetch(server.url, prepare_curl_callback=prepare)
    assert isinstance(seen[0], pycurl.Curl)
    assert head_lines(server.requests[0])["x-prepared"] == "yes"


# -- responses -------------------------------------------------------------------


async def test_interim_responses_are_skipped(make_curl: Any, scripted: Scripted) -> None:
    server = scripted(
        replying(
            b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
            + response(b"final", "201 Made It", ["X-Final: 1"])
        )
    )
    lines: list[str] = []
    resp = await make_curl().fetch(server.url, header_callback=lines.append)
    assert (resp.code, resp.reason, resp.body) == (201, "Made It", b"final")
    assert "X-Interim" not in resp.headers and resp.headers["X-Final"] == "1"
    assert "X-Http-Reason" not in resp.headers
    assert lines[0] == "HTTP/1.1 201 Made It\r\n" and lines[-1] == "\r\n"


async def test_time_info_and_timings(make_curl: Any, scripted: Scripted) -> None:
    server = scripted(replying(response()))
    resp = await make_curl().fetch(server.url)
    info = resp.time_info
    for key in ("namelookup", "connect", "appconnect", "pretransfer", "starttransfer", "total"):
        assert isinstance(info[key], float)
    assert info["appconnect"] == 0.0
    assert 0 < info["connect"] <= info["starttransfer"] <= info["total"]
    assert resp.request_time is not None and resp.start_time is not None


async def test_coroutine_streaming_callback_gets_every_byte_in_order(
    make_curl: Any, app_server: AppServer
) -> None:
    received = bytearray()
    running = 0

    async def slow_consumer(chunk: bytes) -> None:
        nonlocal running
        running += 1
        assert running == 1  # never two at once: back-pressure, not a pile of tasks
        await asyncio.sleep(0)
        received.extend(chunk)
        running -= 1

    client = make_curl()
    resp = await client.fetch(
        app_server.http_url + "/large?size=500000", streaming_callback=slow_consumer
    )
    plain = await client.fetch(app_server.http_url + "/large?size=500000")
    assert resp.body == b"" and bytes(received) == plain.body


async def test_header_and_body_limits(make_curl: Any, scripted: Scripted) -> None:
    big_header = response(b"ok", headers=["X-Big: " + "h" * 5000])
    big_body = response(b"b" * 5000)
    server = scripted(replying(big_header, big_body))
    client = make_curl(max_header_size=1000, max_body_size=1000, max_clients=1)
    with pytest.raises(ResponseTooLargeError, match="max_header_size"):
        await client.fetch(server.url)
    server2 = scripted(replying(big_body))
    with pytest.raises(ResponseTooLargeError, match="1000"):
        await client.fetch(server2.url)


# -- errno mapping ---------------------------------------------------------------


async def test_connection_refused(make_curl: Any, closed_port: int) -> None:
    with pytest.raises(HTTPConnectionRefusedError) as info:
        await make_curl().fetch(f"http://127.0.0.1:{closed_port}/")
    assert getattr(info.value.__cause__, "errno", None) == pycurl.E_COULDNT_CONNECT


async def test_timeout_phases(make_curl: Any, scripted: Scripted, blackhole_port: int) -> None:
    client = make_curl()
    with pytest.raises(HTTPTimeoutError, match="Timeout while connecting") as info:
        await client.fetch(f"http://127.0.0.1:{blackhole_port}/", connect_timeout=0.2)
    assert info.value.phase == "connect"

    def silent(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_request(conn)
        server.wait()

    server = scripted(silent)
    with pytest.raises(HTTPTimeoutError, match="Timeout during request") as info:
        await client.fetch(server.url, request_timeout=0.2)
    assert info.value.phase == "request"


async def test_broken_servers(make_curl: Any, scripted: Scripted) -> None:
    def close_at_once(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_request(conn)

    def garbage(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_request(conn)
        conn.sendall(b"SPDY/9 nonsense\r\n\r\n")

    client = make_curl()
    with pytest.raises(HTTPStreamClosedError):
        await client.fetch(scripted(close_at_once).url)
    with pytest.raises(RemoteProtocolError):
        await client.fetch(scripted(garbage).url)


# -- routing ---------------------------------------------------------------------


async def test_resolver_and_hostname_mapping(make_curl: Any, app_server: AppServer) -> None:
    port = app_server.http_port
    resolver = FixedResolver((socket.AF_INET, "127.0.0.1"))
    client = make_curl(resolver=resolver)
    resp = await client.fetch(f"http://squall.invalid:{port}/echo", allow_ipv6=False)
    assert echoed_headers(echoed(resp), "host") == [f"squall.invalid:{port}"]
    assert resolver.calls == [("squall.invalid", port, socket.AF_INET)]

    mapped = make_curl(hostname_mapping={("mapped.invalid", 80): ("127.0.0.1", port)})
    resp = await mapped.fetch("http://mapped.invalid/echo")
    assert echoed_headers(echoed(resp), "host") == ["mapped.invalid"]


# -- close -----------------------------------------------------------------------


async def test_close_frees_everything(app_server: AppServer) -> None:
    client = CurlAsyncHTTPClient(force_instance=True)
    await client.fetch(app_server.http_url + "/echo")  # leaves a keep-alive connection
    bridge = client._engine.bridge
    client.close()
    client.close()  # idempotent
    assert not bridge._fds and bridge._timer is None and bridge._multi is None
    with pytest.raises(RuntimeError):
        await client.fetch(app_server.http_url + "/echo")
    ref = weakref.ref(client)
    del client, bridge
    gc.collect()
    assert ref() is None


async def test_cancelled_fetch_frees_its_handle(make_curl: Any, scripted: Scripted) -> None:
    def silent(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_request(conn)
        server.wait()

    client = make_curl()
    server = scripted(silent)
    task = asyncio.ensure_future(client.fetch(server.url, request_timeout=10))
    while not server.requests:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert client._engine.bridge.active == 0
    ok = scripted(replying(response(b"after")))
    assert (await client.fetch(ok.url)).body == b"after"


async def test_failing_body_producer_aborts(make_curl: Any, app_server: AppServer) -> None:
    async def producer(write: Callable[[bytes], Any]) -> None:
        await write(b"start")
        raise KeyError("producer broke")

    client = make_curl()
    with pytest.raises(KeyError, match="producer broke"):
        await client.fetch(app_server.http_url + "/echo", method="POST", body_producer=producer)
    assert client._engine.bridge.active == 0


def test_works_on_uvloop(app_server: AppServer) -> None:
    uvloop = pytest.importorskip("uvloop")

    async def main() -> bytes:
        client = CurlAsyncHTTPClient(force_instance=True)
        try:
            responses = await asyncio.gather(
                *(client.fetch(app_server.http_url + f"/echo?n={i}") for i in range(20))
            )
            return b"".join(r.body for r in responses)
        finally:
            client.close()

    assert uvloop.run(main()).count(b'"path": "/echo"') == 20


@pytest.fixture(scope="module")
def digest_server(certs: Certs) -> Iterator[DigestServer]:
    server = DigestServer(certs)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def digest_proxy(certs: Certs) -> Iterator[DigestServer]:
    server = DigestServer(certs, proxy=True)
    server.start()
    yield server
    server.stop()


async def test_digest_auth(make_curl: Any, digest_server: DigestServer) -> None:
    app = digest_server.digest
    client = make_curl()
    accepted = app.accepted
    url = digest_server.http_url + "/secret?x=1"
    credentials = {"auth_username": DIGEST_USER, "auth_password": DIGEST_PASSWORD}
    response = await client.fetch(
        url, method="POST", body=b"payload", auth_mode="digest", **credentials
    )
    data = json.loads(response.body)
    assert data == {
        "user": DIGEST_USER,
        "method": "POST",
        "target": "/secret?x=1",
        "body": "payload",
    }
    assert response.code == 200 and app.accepted == accepted + 1
    # The 401 challenge that libcurl answered is not what the caller sees.
    assert "WWW-Authenticate" not in response.headers
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(
            url, auth_mode="digest", auth_username=DIGEST_USER, auth_password="wrong"
        )
    assert info.value.code == 401
    # Basic credentials are no proof for a digest server.
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(url, **credentials)
    assert info.value.code == 401


async def test_digest_proxy_auth(make_curl: Any, digest_proxy: DigestServer) -> None:
    # The digest "proxy" answers proxied requests itself (see tests/servers/digest.py).
    client = make_curl()
    url = "http://origin.test/through?y=2"
    options: dict[str, Any] = {
        "proxy_host": "127.0.0.1",
        "proxy_port": digest_proxy.http_port,
        "proxy_username": DIGEST_USER,
        "proxy_auth_mode": "digest",
    }
    response = await client.fetch(url, proxy_password=DIGEST_PASSWORD, **options)
    data = json.loads(response.body)
    assert (data["user"], data["target"]) == (DIGEST_USER, url)
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(url, proxy_password="wrong", **options)
    assert info.value.code == 407


# -- requests sent again, responses checked ------------------------------------------


def _stale_after_first(conn: socket.socket, server: ScriptedServer) -> None:
    """Answer the first request; take the second on the same connection and close
    unanswered; answer "resent" on any later connection."""
    if server.connection_number(conn) > 1:
        server.answer_requests(conn, response(b"resent"))
        return
    server.read_request(conn)
    conn.sendall(response(b"first"))
    server.read_request(conn)


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("PUT", b"x"), ("DELETE", None)])
async def test_idempotent_request_is_not_resent_after_a_stale_close(
    make_curl: Any, scripted: Scripted, method: str, body: bytes | None
) -> None:
    # At most once (squall._resend): idempotent or not, a request that was sent is not resent.
    server = scripted(_stale_after_first)
    client = make_curl()
    assert (await client.fetch(server.url, method=method, body=body)).body == b"first"
    with pytest.raises(HTTPStreamClosedError, match="closed without a response"):
        await client.fetch(server.url, method=method, body=body)
    assert len(server.requests) == 2 and server.connections == 1


async def test_post_without_body_and_body_producer_are_not_resent(
    make_curl: Any, scripted: Scripted
) -> None:
    async def producer(write: Callable[[bytes], Any]) -> None:
        await write(b"x")

    sized = {"Content-Length": "1"}  # the scripted server reads no chunks
    cases: list[dict[str, Any]] = [
        {"method": "POST", "body": b""},
        {"method": "PUT", "body_producer": producer, "headers": sized},
    ]
    for kwargs in cases:
        server = scripted(_stale_after_first)
        client = make_curl()
        assert (await client.fetch(server.url, **kwargs)).body == b"first"
        with pytest.raises(HTTPStreamClosedError, match="closed without a response") as info:
            await client.fetch(server.url, **kwargs)
        assert type(info.value) is HTTPStreamClosedError
        assert len(server.requests) == 2 and server.connections == 1


async def test_announced_length_limit_spares_head_and_304(
    make_curl: Any, scripted: Scripted
) -> None:
    big = b"HTTP/1.1 %s\r\nContent-Length: 1000000\r\n\r\n"
    server = scripted(replying(big % b"200 OK", big % b"304 Not Modified", big % b"200 OK"))
    client = make_curl(max_body_size=1000, max_clients=1)
    assert (await client.fetch(server.url, method="HEAD")).code == 200
    assert (await client.fetch(server.url, raise_error=False)).code == 304
    with pytest.raises(ResponseTooLargeError, match="1000000 > max_body_size of 1000"):
        await client.fetch(server.url + "/x")  # not "closed": the length is the cause


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nX(bad): v\r\nContent-Length: 0\r\n\r\n", "X(bad)"),
        (b"HTTP/1.1 200 OK\r\nX: v\nContent-Length: 0\r\n\r\n", "not ended by CRLF"),
        (b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", "status line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\nok", "ends in LF"),
        (CHUNKED_OK + b"X(bad): t\r\n\r\n", "trailer"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", "Content-Length"),
    ],
)
async def test_malformed_response_names_the_cause(
    make_curl: Any, scripted: Scripted, reply: bytes, message: str
) -> None:
    server = scripted(replying(reply))
    with pytest.raises(RemoteProtocolError, match=re.escape(message)):
        await make_curl().fetch(server.url, request_timeout=5)


async def test_valid_trailers_and_http10_pass(make_curl: Any, scripted: Scripted) -> None:
    server = scripted(
        replying(
            CHUNKED_OK + b"X-Trailer: t\r\nX-Other:\r\n\r\n",
            b"HTTP/1.0 200 OK\r\nX-Odd: \x80\xff\t!\r\nContent-Length: 2\r\n\r\nok",
        )
    )
    client = make_curl(max_clients=1)
    assert (await client.fetch(server.url)).body == b"ok"
    resp = await client.fetch(server.url)
    assert (resp.body, resp.headers["X-Odd"]) == (b"ok", "\x80\xff\t!")
