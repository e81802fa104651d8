"""URLs: a malformed URL is a ValueError naming it, before any I/O; a non-ASCII URL is
sent in its ASCII form (IDNA host, percent-encoded UTF-8) by both engines."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any

import pytest

from tests.engines.validation import TIMEOUT, answer
from tests.servers.scripted import ScriptedServer, reply_each, response

# Stricter than Tornado on purpose: these checks are squall's own.
pytestmark = pytest.mark.squall_only


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/a\x01b",  # simple: sent raw; curl: CurlError "Bad path"
        "http://127.0.0.1:{port}/a\x7fb",  # the same with DEL
        "http://a@b@127.0.0.1:{port}/",  # '@' in userinfo: simple sends, curl "Bad hostname"
        "http://127.0.0.1\\@127.0.0.1:{port}/",  # '\' in userinfo (WHATWG: a path)
        "http://127.0.0.%31:{port}/",  # '%' in host: simple DNS error, curl decodes it
        "http://127.0.0.1:0/",  # port 0: both try to connect
        "http://" + "a" * 64 + ".localhost:{port}/",  # simple: UnicodeError from idna
        "http://a..localhost:{port}/",  # empty label: the same
        "http://127.0.0.1:{port}/?" + "a" * 9_000_000,  # curl: pycurl.error 43
    ],
    ids=lambda url: repr(url[:32]),
)
async def test_bad_url_refused_before_io(client: Any, closed_port: int, url: str) -> None:
    with pytest.raises(ValueError, match=r"(?i)\burl\b"):
        await client.fetch(url.replace("{port}", str(closed_port)), request_timeout=TIMEOUT)


@pytest.mark.parametrize(("path", "line"), [("/é", b"GET /%C3%A9 "), ("/?q=é", b"GET /?q=%C3%A9 ")])
async def test_non_ascii_target_is_percent_encoded(
    client: Any, scripted: Callable[..., ScriptedServer], path: str, line: bytes
) -> None:
    server = scripted(answer)
    await client.fetch(server.url + path, request_timeout=TIMEOUT)
    assert server.requests[-1].startswith(line)


@pytest.mark.parametrize("path", ["/a/../b", "/a/./b", "/a//b", "/%2E%2E/b"])
async def test_target_is_sent_as_given(
    client: Any, scripted: Callable[..., ScriptedServer], path: str
) -> None:
    # No dot-segment removal or slash merging on either engine (libcurl's own default
    # removes dot segments): the server decides what the path means. (libcurl writes
    # percent-escapes in upper case, an equivalent form: RFC 3986 section 6.2.2.1.)
    server = scripted(answer)
    await client.fetch(server.url + path, request_timeout=TIMEOUT)
    assert server.requests[-1].startswith(f"GET {path} ".encode())


async def test_idn_host_and_non_ascii_userinfo(
    make_client: Callable[..., Any], scripted: Callable[..., ScriptedServer]
) -> None:
    server = scripted(answer)
    client = make_client(hostname_mapping={"xn--bcher-kva.test": "127.0.0.1"})
    await client.fetch(f"http://bücher.test:{server.port}/", request_timeout=TIMEOUT)
    assert f"\r\nHost: xn--bcher-kva.test:{server.port}".encode() in server.requests[-1]
    await client.fetch(f"http://ü:p@127.0.0.1:{server.port}/", request_timeout=TIMEOUT)
    credentials = base64.b64encode("ü:p".encode()).decode()
    assert f"\r\nAuthorization: Basic {credentials}".encode() in server.requests[-1]


@pytest.mark.parametrize("option", ["request_timeout", "connect_timeout"])
async def test_huge_timeout_is_no_limit(
    client: Any, scripted: Callable[..., ScriptedServer], option: str
) -> None:
    server = scripted(answer)
    response = await asyncio.wait_for(client.fetch(server.url, **{option: 1e300}), TIMEOUT)
    assert response.body == b"ok"


@pytest.mark.parametrize(
    ("location", "host", "line"),
    [
        # Raw UTF-8, as servers send it: followed as a browser does.
        (b"/\xc3\xa9?q=\xc3\xa9", b"127.0.0.1", b"GET /%C3%A9?q=%C3%A9 "),
        (b"http://b\xc3\xbccher.test:{port}/", b"xn--bcher-kva.test", b"GET / "),
        (b"/\xe9", b"127.0.0.1", b"GET /%E9 "),  # not UTF-8: the bytes as they are
        (b"/%C3%A9", b"127.0.0.1", b"GET /%C3%A9 "),  # already percent-encoded: kept
        (b"/a b", b"127.0.0.1", b"GET /a%20b "),  # a space, as browsers do
    ],
    ids=["utf8-path", "utf8-host", "latin1-path", "escaped-path", "space"],
)
async def test_raw_location_is_followed_percent_encoded(
    make_client: Callable[..., Any],
    scripted: Callable[..., ScriptedServer],
    location: bytes,
    host: bytes,
    line: bytes,
) -> None:
    def redirect_then_ok(head: bytes, _number: int) -> bytes:
        if head.startswith(b"GET /start "):
            where = location.replace(b"{port}", str(server.port).encode())
            return response(b"", "302 Found", [f"Location: {where.decode('latin-1')}"])
        return response(b"ok")

    server = scripted(reply_each(redirect_then_ok))
    client = make_client(hostname_mapping={"xn--bcher-kva.test": "127.0.0.1"})
    result = await client.fetch(server.url + "/start", request_timeout=TIMEOUT)
    assert result.body == b"ok"
    assert server.requests[-1].startswith(line)
    assert b"\r\nHost: " + host + b":" + str(server.port).encode() in server.requests[-1]
