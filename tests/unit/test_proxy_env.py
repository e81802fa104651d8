"""The proxy environment parser (squall._proxy_env): libcurl's NO_PROXY rules."""

from __future__ import annotations

import pytest

from squall._proxies import request_proxy
from squall._proxy_env import EnvProxies, NoProxy
from squall._request import HTTPRequest


@pytest.mark.parametrize(
    "no_proxy, host, port, direct",
    [
        ("example.com", "example.com", 80, True),
        ("example.com", "www.example.com", 80, True),
        ("example.com", "notexample.com", 80, False),  # a suffix is not a subdomain
        (".example.com", "example.com", 80, True),  # a leading dot changes nothing
        (".example.com", "a.b.example.com", 80, True),
        ("*.example.com", "example.com", 80, False),  # subdomains only
        ("*.example.com", "www.example.com", 80, True),
        ("EXAMPLE.com", "Example.COM.", 80, True),  # case and a final dot
        (" a.test , example.com ", "example.com", 80, True),  # spaces around entries
        ("a.test,,", "example.com", 80, False),  # empty entries are no wildcard
        ("", "example.com", 80, False),
        ("*", "anything.test", 1, True),
        ("a.test, *", "anything.test", 1, True),
        ("*example.com", "www.example.com", 80, False),  # not a pattern curl knows
        ("example.com:8080", "example.com", 8080, True),
        ("example.com:8080", "example.com", 80, False),
        ("10.0.0.0/8", "10.1.2.3", 80, True),
        ("10.0.0.0/8", "11.1.2.3", 80, False),
        ("192.168.1.1", "192.168.1.1", 80, True),
        ("192.168.1.1:81", "192.168.1.1", 80, False),
        ("::1", "::1", 80, True),
        ("[::1]", "::1", 80, True),
        ("[::1]:8080", "::1", 8080, True),
        ("[::1]:8080", "::1", 80, False),
        ("fd00::/8", "fd12::1", 80, True),
        ("[fd00::]/8", "fd12::1", 80, True),
        ("fd00::/8", "fe80::1", 80, False),
        ("10.0.0.0/8", "::ffff:10.0.0.1", 80, False),  # another family
        ("10.0.0.0/8", "ten.test", 80, False),
    ],
)
def test_no_proxy(no_proxy: str, host: str, port: int, direct: bool) -> None:
    assert NoProxy(no_proxy).matches(host, port) is direct


def test_variables_lower_case_wins_and_all_proxy_is_the_fallback() -> None:
    env = EnvProxies.from_environ(
        {
            "HTTPS_PROXY": "http://upper:1",
            "https_proxy": "http://lower:2",
            "ALL_PROXY": "socks5h://all:3",
        }
    )
    assert env is not None
    assert env.proxy_for("https", "a.test", 443) == "http://lower:2"
    assert env.proxy_for("http", "a.test", 80) == "socks5h://all:3"
    assert EnvProxies.from_environ({"no_proxy": "*"}) is None  # no proxy named at all


def test_upper_case_http_proxy_is_ignored_in_cgi() -> None:
    # In a CGI program HTTP_PROXY may come from a request's "Proxy:" header (httpoxy).
    assert EnvProxies.from_environ({"HTTP_PROXY": "http://evil:1", "REQUEST_METHOD": "GET"}) is None
    env = EnvProxies.from_environ({"HTTP_PROXY": "http://fine:1"})
    assert env is not None and env.http == "http://fine:1"


def test_apply_keeps_an_explicit_proxy_and_honours_no_proxy() -> None:
    env = EnvProxies.from_environ(
        {"http_proxy": "http://u%40x:p@proxy.test:3128/", "no_proxy": "direct.test"}
    )
    assert env is not None
    proxied = env.apply(HTTPRequest("http://a.test/"))
    proxy = request_proxy(proxied)
    assert proxy is not None
    assert (proxy.host, proxy.port, proxy.username, proxy.password) == (
        "proxy.test",
        3128,
        "u@x",
        "p",
    )
    direct = HTTPRequest("http://direct.test/")
    assert env.apply(direct) is direct
    explicit = HTTPRequest("http://a.test/", proxy_host="mine.test", proxy_port=1)
    assert env.apply(explicit) is explicit
