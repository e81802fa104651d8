"""The curl engine's body-limit refusal, as Tornado's curl client raises it.

Tornado's CurlAsyncHTTPClient fails a body over ``max_body_size`` with
``CurlError(CURLE_WRITE_ERROR, "body exceeded max_body_size of N bytes")``; code
written for it catches ``CurlError`` and reads ``.errno``. squall's error is that
CurlError and also its own ResponseTooLargeError, whichever way the body was too
large: announced, received, or once decoded.
"""

from __future__ import annotations

import gzip
from typing import Any

import pycurl
import pytest

from squall._errors import ResponseTooLargeError
from squall.curl_httpclient import CurlError
from tests.conftest import curl_only
from tests.servers.scripted import reply_once, response

LIMIT = 1000
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
BOMB = gzip.compress(b"\0" * 100_000)

REPLIES = {
    "announced": response(b"x" * (LIMIT + 1)),
    "received": CHUNKED + b"%x\r\n%s\r\n0\r\n\r\n" % (LIMIT + 1, b"x" * (LIMIT + 1)),
    "decoded": response(BOMB, headers=["Content-Encoding: gzip"]),
}


@curl_only
@pytest.mark.parametrize("streaming", [False, True], ids=["buffered", "streamed"])
@pytest.mark.parametrize("how", list(REPLIES), ids=list(REPLIES))
async def test_body_over_the_limit_is_a_curl_error(
    make_client: Any, scripted: Any, how: str, streaming: bool
) -> None:
    server = scripted(reply_once(REPLIES[how], close=False))
    client = make_client(max_body_size=LIMIT)
    chunks: list[bytes] = []
    options: dict[str, Any] = {"streaming_callback": chunks.append} if streaming else {}
    with pytest.raises(CurlError) as info:
        await client.fetch(server.url + "/", request_timeout=5, **options)
    exc: Any = info.value  # (mypy cannot see a class that is both)
    assert isinstance(exc, ResponseTooLargeError)
    assert exc.errno == pycurl.E_WRITE_ERROR and exc.code == 599
    assert f"max_body_size of {LIMIT} bytes" in str(exc)
    assert sum(map(len, chunks)) <= LIMIT
