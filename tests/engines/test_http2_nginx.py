"""Both engines against Debian's nginx: HTTP/1.1, h2c (prior knowledge) and h2 over TLS.

nginx is an HTTP/2 implementation other than hypercorn's (C, its own HPACK and
flow control), serving static files, gzip, redirects and trailers. Every test
runs on each engine, each loop and each of nginx's three listeners (the ``via``
fixture); ``/info`` says which protocol nginx served, so a test that went over
the wrong one fails.
"""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from squall._errors import HTTPTimeoutError, ResponseTooLargeError
from tests.servers.nginx import FILES, TRAILERS, NginxServer
from tests.servers.routes import ENCODED_TEXT
from tests.servers.tls import Certs

pytestmark = pytest.mark.squall_only  # Tornado's clients have no http_version (nor HTTP/2)


class Via:
    """One of nginx's listeners, the options that reach it, and what it speaks."""

    def __init__(self, base: str, version: str, **options: Any) -> None:
        self.base = base
        self.protocol = "HTTP/2.0" if version == "2" else "HTTP/1.1"
        self.options = {"http_version": version, **options}

    def fetch(self, client: Any, path: str, **kwargs: Any) -> Any:
        return client.fetch(self.base + path, **{**self.options, **kwargs})


@pytest.fixture(params=["h1", "h2c", "tls"])
def via(request: pytest.FixtureRequest, nginx: NginxServer, certs: Certs) -> Via:
    if request.param == "h1":
        return Via(nginx.h1_url, "1.1")
    if request.param == "h2c":
        return Via(nginx.h2c_url, "2")
    return Via(nginx.tls_url, "2", ca_certs=certs.ca)


async def test_protocol_method_and_header(client: Any, via: Via) -> None:
    lines: list[str] = []
    response = await via.fetch(
        client, "/info", headers={"X-Mine": "mine"}, header_callback=lines.append
    )
    assert response.body == f"{via.protocol} GET [mine]\n".encode()
    status = "HTTP/2 200 \r\n" if via.protocol == "HTTP/2.0" else "HTTP/1.1 200 OK\r\n"
    assert (lines[0], lines[-1]) == (status, "\r\n")
    assert response.headers["Server"].startswith("nginx")
    response = await via.fetch(client, "/info", method="DELETE")
    assert response.body == f"{via.protocol} DELETE []\n".encode()


async def test_static_files(client: Any, via: Via) -> None:
    for name in ("hello.txt", "large.bin"):
        response = await via.fetch(client, "/" + name, decompress_response=False)
        assert response.body == FILES[name], name
        assert int(response.headers["Content-Length"]) == len(FILES[name])


async def test_head(client: Any, via: Via) -> None:
    response = await via.fetch(client, "/large.bin", method="HEAD")
    assert (response.code, response.body) == (200, b"")
    assert int(response.headers["Content-Length"]) == len(FILES["large.bin"])


async def test_streaming_callback(client: Any, via: Via) -> None:
    chunks: list[bytes] = []
    response = await via.fetch(client, "/large.bin", streaming_callback=chunks.append)
    assert (response.body, b"".join(chunks)) == (b"", FILES["large.bin"])


async def test_gzip_decoded_within_the_limit(make_client: Any, via: Via) -> None:
    client = make_client()
    response = await via.fetch(client, "/text.txt")
    assert response.body == ENCODED_TEXT
    assert response.headers["X-Consumed-Content-Encoding"] == "gzip"
    raw = await via.fetch(
        client, "/text.txt", decompress_response=False, headers={"Accept-Encoding": "gzip"}
    )
    assert raw.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(raw.body) == ENCODED_TEXT
    # The limit counts decoded bytes: the small gzip'd body is refused.
    limited = make_client(max_body_size=len(ENCODED_TEXT) // 2)
    assert len(raw.body) < len(ENCODED_TEXT) // 2
    with pytest.raises(ResponseTooLargeError):
        await via.fetch(limited, "/text.txt")


async def test_redirects(client: Any, via: Via) -> None:
    response = await via.fetch(client, "/redirect")
    assert (response.code, response.body) == (200, FILES["hello.txt"])
    assert response.effective_url == via.base + "/hello.txt"
    # 307 keeps the method and the body.
    response = await via.fetch(client, "/redirect-to-info", method="POST", body=b"abc")
    assert response.body == f"{via.protocol} POST []\n".encode()
    unfollowed = await via.fetch(client, "/redirect", follow_redirects=False, raise_error=False)
    assert unfollowed.code == 302
    assert unfollowed.headers["Location"].endswith("/hello.txt")


async def test_redirect_loop_stops_at_max_redirects(client: Any, via: Via) -> None:
    response = await via.fetch(client, "/redirect-loop", max_redirects=3, raise_error=False)
    assert response.code == 302


async def test_body_the_server_does_not_read(client: Any, via: Via) -> None:
    # nginx answers without reading the upload (over HTTP/2 it then resets the
    # stream with NO_ERROR, RFC 9113 §8.1): the answer stands, the connection goes on.
    body = b"u" * (3 * 1024 * 1024)
    response = await via.fetch(client, "/discard", method="POST", body=body)
    assert response.body == b"discarded\n"
    assert (await via.fetch(client, "/hello.txt")).body == FILES["hello.txt"]


async def test_trailers_are_dropped(client: Any, via: Via) -> None:
    # nginx's add_trailer: a chunked trailer section over HTTP/1.1, a trailing
    # HEADERS frame over HTTP/2. Both engines drop trailers, as Tornado does:
    # the body is whole, the header fields and header_callback lines are the head's.
    lines: list[str] = []
    response = await via.fetch(client, "/trailed.txt", header_callback=lines.append)
    assert response.body == FILES["trailed.txt"]
    assert lines[-1] == "\r\n"
    for name in TRAILERS:
        assert name not in response.headers
        assert not [line for line in lines if line.lower().startswith(name.lower())]
    assert (await via.fetch(client, "/hello.txt")).body == FILES["hello.txt"]


async def test_header_value_with_trailing_space(client: Any, via: Via) -> None:
    # nginx sends "x-spaced: value " as configured; RFC 9113 calls that malformed,
    # but both engines take it (as over HTTP/1.1, where the space is optional
    # whitespace) and give the value without it.
    response = await via.fetch(client, "/spaced")
    assert response.headers["X-Spaced"] == "value"


async def test_timeout_on_a_slow_body(client: Any, via: Via) -> None:
    with pytest.raises(HTTPTimeoutError):
        await via.fetch(client, "/slow.bin", request_timeout=0.5)
    # The stream (or HTTP/1.1 connection) was given up; the next request works.
    assert (await via.fetch(client, "/hello.txt")).body == FILES["hello.txt"]
