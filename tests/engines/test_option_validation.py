"""HTTPRequest options: a bad value is a TypeError/ValueError naming the option, raised
before any I/O, the same on both engines (see tests/engines/validation.py)."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pytest

from squall.httpclient import HTTPRequest
from tests.engines.validation import TIMEOUT

# Stricter than Tornado on purpose: these checks are squall's own.
pytestmark = pytest.mark.squall_only


# -- checks that hold today --------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        ("connect_timeout", math.nan, ValueError),
        ("connect_timeout", True, TypeError),
        ("max_redirects", True, TypeError),
        ("proxy_port", 65536, ValueError),
        ("auth_mode", "BASIC", ValueError),
        ("proxy_auth_mode", "ntlm", ValueError),
        ("expect_100_continue", "yes", TypeError),
        ("decompress_response", 0, TypeError),
        ("body_producer", 1, TypeError),
        ("ca_certs", b"/ca.pem", TypeError),
        ("method", "GET /x", ValueError),
        ("headers", [("X-A", "1")], TypeError),
    ],
)
async def test_bad_option_raises_from_the_fetch_call(
    client: Any, dead_url: str, option: str, value: object, error: type[Exception]
) -> None:
    # Raised by fetch() itself: no task is started, no future to await.
    with pytest.raises(error, match=option):
        client.fetch(dead_url, request_timeout=TIMEOUT, **{option: value})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"headers": {"X-A": "a\r\nX-B: b"}}, "CR, LF or NUL"),
        ({"headers": {"X-A\x00": "a"}}, "CR, LF or NUL"),
        ({"method": "POST"}, "must not be None"),
        ({"method": "GET", "body": b"x"}, "must be None"),
        ({"method": "PROPFIND"}, "allow_nonstandard_methods"),
        ({"http_version": "3"}, "http_version"),
    ],
)
async def test_request_rules_fail_before_any_io(
    client: Any, dead_url: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.fetch(dead_url, request_timeout=TIMEOUT, **options)


# -- headers and body ----------------------------------------------------------


@pytest.mark.parametrize("name", [1, None, b"X-A"])
def test_header_name_type_is_named(name: Any) -> None:
    with pytest.raises(TypeError, match="header"):
        HTTPRequest("http://127.0.0.1/", headers={name: "a"})


@pytest.mark.parametrize(
    "headers", [{"X(a)": "1"}, {"X\ta": "1"}, {"X-é": "1"}, {"X-A": "a\x01b"}, {"X-A": "a\x7f"}]
)
async def test_invalid_header_text_refused_before_io(
    client: Any, dead_url: str, headers: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="header"):
        await client.fetch(dead_url, request_timeout=TIMEOUT, headers=headers)


@pytest.mark.parametrize(
    "options",
    [{"user_agent": "ua\r\nX-Injected: 1"}, {"user_agent": "€"}, {"headers": {"X-A": "€"}}],
    ids=["ua-crlf", "ua-euro", "value-euro"],
)
async def test_unsendable_header_text_refused_before_io(
    client: Any, dead_url: str, options: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match=r"CR, LF|latin-1"):
        await client.fetch(dead_url, request_timeout=TIMEOUT, **options)


@pytest.mark.parametrize("length", ["5", "abc", "-1"])
async def test_content_length_contradicting_body(client: Any, dead_url: str, length: str) -> None:
    options = {"method": "POST", "body": b"x", "headers": {"Content-Length": length}}
    with pytest.raises(ValueError, match="Content-Length"):
        await client.fetch(dead_url, request_timeout=TIMEOUT, **options)


# -- other request options -------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("if_modified_since", "yesterday"),  # TypeError: unknown timestamp type
        ("if_modified_since", math.nan),  # ValueError: Invalid value NaN
        ("if_modified_since", math.inf),  # OverflowError
        ("if_modified_since", 1e20),  # OverflowError
        ("if_modified_since", -1e15),  # ValueError: year is out of range
        ("if_modified_since", True),  # accepted as epoch 1
        ("if_modified_since", datetime.date(2020, 1, 1)),
        ("use_gzip", "yes"),  # the error names decompress_response
        ("body", "\ud800"),  # UnicodeEncodeError
        ("auth_username", "\ud800"),  # UnicodeEncodeError at fetch
        ("network_interface", "127.0.0.1\x00"),  # "embedded null" at fetch
        ("ca_certs", "/ca\x00.pem"),  # the same
        ("proxy_host", "proxy\r\n.test"),  # curl: 599 "Could not resolve the proxy"
        ("proxy_host", "proxy .test"),
    ],
)
def test_option_value_error_names_option(option: str, value: object) -> None:
    options: dict[str, Any] = {option: value}
    if option == "body":
        options["method"] = "POST"
    with pytest.raises((TypeError, ValueError), match=option):
        HTTPRequest("http://127.0.0.1/", **options)


@pytest.mark.parametrize(
    ("options", "needed"),
    [
        ({"proxy_port": 8080}, "proxy_host"),
        ({"proxy_username": "u", "proxy_password": "p"}, "proxy_host"),
        ({"proxy_auth_mode": "digest"}, "proxy_host"),
        ({"client_key": "/key.pem"}, "client_cert"),
    ],
)
async def test_option_without_its_partner_refused(
    client: Any, dead_url: str, options: dict[str, Any], needed: str
) -> None:
    with pytest.raises(ValueError, match=needed):
        await client.fetch(dead_url.replace("http", "https", 1), request_timeout=TIMEOUT, **options)


@pytest.mark.parametrize("ssl_options", [{"bogus": 1}, {"server_side": True}])
async def test_unknown_ssl_options_key_refused(
    client: Any, dead_url: str, ssl_options: dict[str, Any]
) -> None:
    url = dead_url.replace("http", "https", 1)
    with pytest.raises(ValueError, match="ssl_options"):
        await client.fetch(url, ssl_options=ssl_options, request_timeout=TIMEOUT)


@pytest.mark.parametrize(
    "options",
    [
        {"ssl_options": {"cert_reqs": "yes"}},
        {"ssl_options": {"check_hostname": "no"}},
        {"ssl_options": {"minimum_version": "TLSv1_2"}},
        {"ssl_options": {"certfile": 1}},
    ],
)
async def test_bad_tls_option_refused_before_io(dead_url: str, client: Any, options: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="ssl_options"):
        await client.fetch(dead_url.replace("http", "https", 1), request_timeout=TIMEOUT, **options)


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"ssl_options": {"ca_certs": "/nonexistent/ca.pem"}}, "ssl_options ca_certs"),
        ({"ca_certs": "/nonexistent/ca.pem"}, "ca_certs"),
        ({"client_cert": "/nonexistent/cert.pem"}, "client_cert"),
    ],
)
async def test_missing_tls_file_refused_before_io(
    dead_url: str, client: Any, options: Any, option: str
) -> None:
    with pytest.raises(ValueError, match=f"{option}.*/nonexistent/"):
        await client.fetch(dead_url.replace("http", "https", 1), request_timeout=TIMEOUT, **options)
