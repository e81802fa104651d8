"""proxy_host read by squall._proxies: a URL's port and credentials, and what messages show."""

from __future__ import annotations

import pytest

from squall._proxies import redacted, request_proxy
from squall._request import HTTPRequest


@pytest.mark.parametrize(
    "proxy_host, where, credentials",
    [
        ("http://user:s3cret@127.0.0.1:1", "proxy 127.0.0.1:1", ("user", "s3cret")),
        ("127.0.0.1", "proxy 127.0.0.1:1080", (None, "")),
        ("https://p.test", "proxy p.test:443", (None, "")),
        ("socks5h://a%40b:p%3Aw@[::1]:9050", "proxy [::1]:9050", ("a@b", "p:w")),
    ],
)
def test_where_never_shows_the_credentials(
    proxy_host: str, where: str, credentials: tuple[str | None, str]
) -> None:
    proxy = request_proxy(HTTPRequest("http://o.test/", proxy_host=proxy_host))
    assert proxy is not None
    assert proxy.where == where
    assert (proxy.username, proxy.password) == credentials


@pytest.mark.parametrize(
    "text, shown",
    [
        ("http://user:s3cret@h:1", "http://***@h:1"),
        ("user:pw@h", "***@h"),
        ("socks5://h:1", "socks5://h:1"),
        ("h", "h"),
    ],
)
def test_redacted(text: str, shown: str) -> None:
    assert redacted(text) == shown
