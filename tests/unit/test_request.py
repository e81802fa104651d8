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
        ("http://example.com/\x1b", "whitespace or control"),
        ("http://example.com/\x7f", "whitespace or control"),
        ("http://a@b@example.com/", "'@' or"),
        ("http://example.com\\@evil.com/", "'@' or"),
        ("http://127.0.0.%31/", "invalid character '%'"),
        ("http://ex^ample.com/", "invalid character '\\^'"),
        ("http://example.com:0/", "port 0"),
        ("http://a..example.com/", "empty label"),
        ("http://.example.com/", "empty label"),
        ("http://" + "a" * 64 + ".example.com/", "label over 63"),
        ("http://" + "a." * 127 + "com/", "name over 253"),
        ("http://example.com/\ud800", "surrogates"),
        ("http://example.com/?" + "a" * 8_000_000, "longer than 8,000,000"),
        ("http://example.com/?" + "é" * 2_700_000, "once encoded"),
    ],
    ids=lambda value: repr(value[:40]) if isinstance(value, str) else None,
)
def test_malformed_urls_name_the_fault(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HTTPRequest(url)


def test_hosts_at_the_limits_are_valid() -> None:
    assert HTTPRequest("http://example.com./").host == "example.com."  # fully qualified
    assert HTTPRequest("http://" + "a" * 63 + ".example/").host == "a" * 63 + ".example"
    assert HTTPRequest("http://[fe80::1%eth0]:8080/").netloc == "[fe80::1%eth0]:8080"


def test_non_ascii_target_is_percent_encoded_utf8() -> None:
    r = HTTPRequest("http://example.com/é/%2F?q=ü&r=%41#frag")
    # Only what is not printable ASCII is encoded: escapes and reserved characters stay.
    assert r.target == "/%C3%A9/%2F?q=%C3%BC&r=%41"


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


# -- option values that must stay accepted, next to the refused ones --------------


def test_header_text_rfc9110() -> None:
    # Tab, obs-text (latin-1) and every token character are fine.
    ok = {"X-A": "a\tb \xe9", "!#$%&'*+-.^_`|~09az": "v", "X-Empty": ""}
    HTTPRequest("http://x/", headers=ok).resolved(DEFAULTS)
    for headers, message in [
        ({"X A": "1"}, "invalid header name"),
        ({"": "1"}, "invalid header name"),
        ({"X-A": "a\x1bb"}, "X-A contains a control character"),
        ({"X-A": "\u20ac"}, "X-A is not latin-1"),
    ]:
        with pytest.raises(ValueError, match=message):
            HTTPRequest("http://x/", headers=headers).resolved(DEFAULTS)


@pytest.mark.parametrize(
    "headers", [{"X-Injected:yes": "v"}, {"X-A": "1", "B:": "2"}, {"A B": "1", "C": "2"}]
)
def test_header_name_with_colon_or_space_is_refused(headers: dict[str, str]) -> None:
    # A ":" in a name would make the server read a different field (injection).
    with pytest.raises(ValueError, match="invalid header name"):
        HTTPRequest("http://x/", headers=headers).resolved(DEFAULTS)
    request = HTTPRequest("http://x/")
    request.headers.update(headers)  # changed after it was built: checked per fetch
    with pytest.raises(ValueError, match="invalid header name"):
        request.resolved(DEFAULTS)


def test_user_agent_from_defaults_is_checked() -> None:
    request = HTTPRequest("http://x/")
    with pytest.raises(ValueError, match="user_agent contains a CR, LF"):
        request.resolved({**DEFAULTS, "user_agent": "ua\r\nX: 1"})
    with pytest.raises(TypeError, match="user_agent"):
        request.resolved({**DEFAULTS, "user_agent": b"ua"})
    assert request.resolved({**DEFAULTS, "user_agent": "ua/\xe9"}).user_agent == "ua/\xe9"


def test_content_length_agreeing_with_body() -> None:
    for length in ("3", "003"):
        r = HTTPRequest("http://x/", method="POST", body=b"abc", headers={"Content-Length": length})
        r.resolved(DEFAULTS)
    with pytest.raises(ValueError, match="Content-Length"):
        HTTPRequest(
            "http://x/", method="POST", body=b"abc", headers={"Content-Length": "3, 3"}
        ).resolved(DEFAULTS)


async def _produce(write: object) -> None:
    return None


def test_content_length_with_body_producer_is_the_callers() -> None:
    r = HTTPRequest(
        "http://x/", method="POST", body_producer=_produce, headers={"Content-Length": "9"}
    )
    r.resolved(DEFAULTS)


def test_if_modified_since_forms() -> None:
    assert (
        HTTPRequest("http://x/", if_modified_since=0).headers["If-Modified-Since"]
        == "Thu, 01 Jan 1970 00:00:00 GMT"
    )
    stamp = (2020, 1, 2, 3, 4, 5, 0, 0, 0)
    r = HTTPRequest("http://x/", if_modified_since=stamp)  # type: ignore[arg-type]
    assert r.headers["If-Modified-Since"] == "Thu, 02 Jan 2020 03:04:05 GMT"
    with pytest.raises(ValueError, match="if_modified_since"):
        HTTPRequest("http://x/", if_modified_since=(2020, 13))  # type: ignore[arg-type]


def test_partner_options_from_defaults() -> None:
    r = HTTPRequest("http://x/", proxy_port=3128, proxy_username="u")
    with pytest.raises(ValueError, match="proxy_port, proxy_username given without proxy_host"):
        r.resolved(DEFAULTS)
    assert r.resolved({**DEFAULTS, "proxy_host": "proxy.test"}).proxy_port == 3128
    key = HTTPRequest("http://x/", client_key="/k.pem")
    assert key.resolved({**DEFAULTS, "client_cert": "/c.pem"}).client_cert == "/c.pem"


def test_str_options_refuse_nul_and_surrogates() -> None:
    for option in ("auth_password", "proxy_username", "client_key", "user_agent"):
        for value in ("a\x00", "\udc80"):
            with pytest.raises(ValueError, match=option):
                HTTPRequest("http://x/", **{option: value})  # type: ignore[arg-type]
    assert HTTPRequest("http://x/", auth_username="\xe9\u20ac").auth_username == "\xe9\u20ac"
    assert HTTPRequest("http://x/", proxy_host="socks5h://proxy.test").proxy_host


def test_ssl_options_dict_checks() -> None:
    import ssl

    good = {
        "cert_reqs": ssl.CERT_NONE,
        "check_hostname": False,
        "minimum_version": ssl.TLSVersion.TLSv1_2,
        "server_side": False,
        "password": b"secret",
        "certfile": None,
    }
    HTTPRequest("https://x/", ssl_options=good)
    for options, error in [
        ({"cert_reqs": True}, ValueError),
        ({"cert_reqs": 7}, ValueError),
        ({"password": 1}, TypeError),
        ({"ciphers": "A\x00"}, ValueError),
        ({"do_handshake_on_connect": False}, ValueError),
    ]:
        with pytest.raises(error, match="ssl_options"):
            HTTPRequest("https://x/", ssl_options=options)


def test_simple_engine_honours_ssl_options_dict() -> None:
    import ssl

    from squall._http1.tls import _context_from_dict

    context = _context_from_dict(
        {"check_hostname": False, "minimum_version": ssl.TLSVersion.TLSv1_3}
    )
    assert context.verify_mode == ssl.CERT_REQUIRED and not context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_3
