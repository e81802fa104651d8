"""The curl engine's CONNECT helpers: which requests tunnel, and the challenge libcurl answered."""

from __future__ import annotations

import pytest

from squall._curl.tunnel import ConnectAuth, tunnels
from squall._request import HTTPRequest


@pytest.mark.parametrize(
    ("url", "proxy_host", "tunnelled"),
    [
        ("https://example.com/", "127.0.0.1", True),
        ("https://example.com/", "http://127.0.0.1", True),
        ("https://example.com/", "HTTPS://127.0.0.1", True),
        ("http://example.com/", "127.0.0.1", False),  # forwarded, never CONNECT
        ("http://example.com/", "https://127.0.0.1", False),
        ("https://example.com/", "socks5h://127.0.0.1", False),  # SOCKS has no CONNECT
        ("https://example.com/", None, False),
    ],
)
def test_which_requests_tunnel(url: str, proxy_host: str | None, tunnelled: bool) -> None:
    assert tunnels(HTTPRequest(url, proxy_host=proxy_host, proxy_port=3128)) is tunnelled


def test_the_challenge_libcurl_answered_is_the_last_digest_one() -> None:
    connect = ConnectAuth(None)
    connect.opened = [
        b"HTTP/1.1 407 Proxy Authentication Required\r\n",
        b'Proxy-Authenticate: Basic realm="b"\r\n',
        b'proxy-authenticate: Digest realm="first", nonce="n1", qop="auth"\r\n',
        b"\r\n",
        b"HTTP/1.1 407 Proxy Authentication Required\r\n",
        b'Proxy-Authenticate: Digest realm="r", nonce="n2", qop="auth", stale=true\r\n',
        b"\r\n",
        b"HTTP/1.1 200 Connection established\r\n",
        b"\r\n",
    ]
    challenge = connect.challenge()
    assert challenge is not None and (challenge.realm, challenge.nonce) == ("r", "n2")


def test_no_challenge_when_none_was_answered() -> None:
    connect = ConnectAuth(None)
    assert connect.challenge() is None  # the tunnel was reused: no CONNECT at all
    connect.opened = [b"HTTP/1.1 200 Connection established\r\n", b"\r\n"]
    assert connect.challenge() is None
