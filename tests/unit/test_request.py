"""HTTPRequest: validation at construction, and resolution against defaults."""

from __future__ import annotations

import datetime

import pytest

from squall._headers import HTTPHeaders
from squall._request import DEFAULTS, HTTPRequest


def test_url_parts() -> None:
    r = HTTPRequest("https://user:p%40ss@Example.COM:8443/a/b?x=1#frag")
    assert (r.scheme, r.host, r.port, r.target) == ("https", "example.com", 8443, "/a/b?x=1")
    assert r.netloc == "example.com:8443"
    assert (r.url_username, r.url_password) == ("user", "p@ss")


def test_default_port_and_path() -> None:
    r = HTTPRequest("http://127.0.0.1")
    assert (r.port, r.target, r.netloc) == (80, "/", "127.0.0.1")


def test_ipv6_literal() -> None:
    r = HTTPRequest("http://[::1]:8080/")
    assert (r.host, r.netloc) == ("::1", "[::1]:8080")


def test_idna_host() -> None:
    assert HTTPRequest("http://bücher.example/").host == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/", "Unsupported url scheme"),
        ("example.com/path", "Unsupported url scheme"),
        ("http:///path", "no host"),
        ("http://example.com:99999/", "malformed URL"),
        ("http://exa mple.com/", "whitespace or control"),
        ("http://example.com/\r\nX: y", "whitespace or control"),
    ],
)
def test_malformed_urls_name_the_fault(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HTTPRequest(url)


def test_url_must_be_str() -> None:
    with pytest.raises(TypeError, match="url must be str"):
        HTTPRequest(b"http://x/")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        ("connect_timeout", "5", TypeError),
        ("request_timeout", -1, ValueError),
        ("request_timeout", float("inf"), ValueError),
        ("follow_redirects", 1, TypeError),
        ("max_redirects", 2.5, TypeError),
        ("max_redirects", -1, ValueError),
        ("validate_cert", "yes", TypeError),
        ("streaming_callback", 42, TypeError),
        ("proxy_port", 0, ValueError),
        ("proxy_port", True, TypeError),
        ("auth_mode", "ntlm", ValueError),
        ("http_version", "2.0", ValueError),
        ("ssl_options", "tls", TypeError),
        ("client_cert", 3, TypeError),
        ("body", 12, TypeError),
        ("headers", [("a", "b")], TypeError),
    ],
)
def test_option_types_are_checked(option: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=option if option not in ("body", "headers") else None):
        HTTPRequest("http://x/", **{option: value})  # type: ignore[arg-type]


def test_method_must_be_a_token() -> None:
    with pytest.raises(ValueError, match="HTTP token"):
        HTTPRequest("http://x/", method="GET /evil HTTP/1.1\r\n")


def test_body_and_producer_exclusive() -> None:
    async def producer(write: object) -> None:
        return None

    with pytest.raises(ValueError, match="mutually exclusive"):
        HTTPRequest("http://x/", body=b"a", body_producer=producer)


def test_str_body_is_utf8() -> None:
    assert HTTPRequest("http://x/", method="POST", body="é").body == b"\xc3\xa9"


def test_if_modified_since_header() -> None:
    when = datetime.datetime(2020, 1, 2, 3, 4, 5)
    r = HTTPRequest("http://x/", if_modified_since=when)
    assert r.headers["If-Modified-Since"] == "Thu, 02 Jan 2020 03:04:05 GMT"


def test_use_gzip_alias() -> None:
    assert HTTPRequest("http://x/", use_gzip=False).decompress_response is False


def test_resolved_fills_defaults_and_copies_headers() -> None:
    headers = {"X-A": "1"}
    r = HTTPRequest("http://x/", headers=headers, request_timeout=3.0)
    resolved = r.resolved({**DEFAULTS, "user_agent": "ua"})
    assert resolved.request_timeout == 3.0
    assert resolved.connect_timeout == DEFAULTS["connect_timeout"]
    assert resolved.user_agent == "ua"
    assert r.user_agent is None and r.connect_timeout is None
    resolved.headers["X-B"] = "2"
    assert "X-B" not in r.headers and isinstance(resolved.headers, HTTPHeaders)
    assert headers == {"X-A": "1"}


@pytest.mark.parametrize(
    "headers",
    [{"X-A": "a\r\nInjected: 1"}, {"X-A": "a\nb"}, {"X-A": "a\x00"}, {"Bad\r\nName": "v"}],
)
def test_header_injection_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        HTTPRequest("http://x/", headers=headers).resolved(DEFAULTS)


@pytest.mark.parametrize(
    ("method", "body", "message"),
    [
        ("POST", None, "must not be None"),
        ("GET", b"x", "must be None"),
        ("PROPFIND", None, "unknown method"),
    ],
)
def test_method_body_rules(method: str, body: bytes | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HTTPRequest("http://x/", method=method, body=body).resolved(DEFAULTS)
    allowed = HTTPRequest(
        "http://x/", method=method, body=body, allow_nonstandard_methods=True
    ).resolved(DEFAULTS)
    assert allowed.method == method
