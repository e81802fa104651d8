"""Redirect policy: which responses are followed, and the next request."""

from __future__ import annotations

from typing import Any

import pytest

from squall._headers import HTTPHeaders
from squall._redirects import next_request, will_follow
from squall._request import DEFAULTS, HTTPRequest


def _req(url: str = "http://a.test/x", **kw: Any) -> HTTPRequest:
    return HTTPRequest(url, **kw).resolved(DEFAULTS)


def _loc(location: str) -> HTTPHeaders:
    return HTTPHeaders({"Location": location})


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_followed_codes(code: int) -> None:
    assert will_follow(_req(), code, _loc("/y"))


@pytest.mark.parametrize(
    ("code", "headers", "kw"),
    [
        (300, _loc("/y"), {}),
        (304, _loc("/y"), {}),
        (302, HTTPHeaders(), {}),
        (302, _loc("http://[bad/y"), {}),
        (302, _loc("/y"), {"follow_redirects": False}),
        (302, _loc("/y"), {"max_redirects": 0}),
    ],
)
def test_not_followed(code: int, headers: HTTPHeaders, kw: dict[str, Any]) -> None:
    assert not will_follow(_req(**kw), code, headers)


@pytest.mark.parametrize("location", ["ftp://a.test/y", "javascript:alert(1)", "h:5"])
def test_another_scheme_is_followed_and_refused(location: str) -> None:
    # Tornado 6.6 follows it and fails the fetch: "Unsupported url scheme".
    assert will_follow(_req(), 302, _loc(location))
    with pytest.raises(ValueError, match="Unsupported url scheme"):
        next_request(_req(), 302, _loc(location))


def test_relative_location_and_count() -> None:
    new = next_request(_req("http://a.test/dir/x"), 302, _loc("y?q=1"))
    assert new.url == "http://a.test/dir/y?q=1"
    assert new.max_redirects == DEFAULTS["max_redirects"] - 1


@pytest.mark.parametrize(
    ("code", "method", "becomes_get"),
    [
        (303, "POST", True),
        (303, "PUT", True),
        (303, "HEAD", False),
        (301, "POST", True),
        (302, "POST", True),
        (302, "PUT", False),
        (307, "POST", False),
        (308, "POST", False),
    ],
)
def test_method_rewrite(code: int, method: str, becomes_get: bool) -> None:
    body = None if method == "HEAD" else b"data"
    req = _req(method=method, body=body, headers={"Content-Type": "text/plain"})
    new = next_request(req, code, _loc("/y"))
    if becomes_get:
        assert (new.method, new.body) == ("GET", None)
        assert "Content-Type" not in new.headers
    else:
        assert (new.method, new.body) == (method, body)
        assert new.headers["Content-Type"] == "text/plain"


def test_cross_origin_drops_credentials() -> None:
    req = _req(
        "http://u:p@a.test/x",
        auth_username="u",
        auth_password="p",
        headers={"Authorization": "x", "Cookie": "c", "Proxy-Authorization": "y", "X-Keep": "1"},
    )
    for target in ("http://b.test/", "https://a.test/x", "http://a.test:81/x"):
        new = next_request(req, 302, _loc(target))
        assert new.auth_username is None and new.auth_password is None
        assert new.url_username is None and "@" not in new.url
        for name in ("Authorization", "Cookie", "Proxy-Authorization"):
            assert name not in new.headers
        assert new.headers["X-Keep"] == "1"


def test_same_origin_keeps_credentials() -> None:
    req = _req("http://u:p@a.test/x", auth_username="u", headers={"Authorization": "x"})
    new = next_request(req, 302, _loc("/y"))
    assert new.auth_username == "u" and new.url_username == "u"
    assert new.headers["Authorization"] == "x"
