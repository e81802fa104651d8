"""Redirect following: one policy for both engines (squall._redirects)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from squall._errors import HTTPClientError
from tests.servers.app import AppServer
from tests.servers.helpers import echoed, echoed_headers


def redirect_to(server: AppServer, to: str, status: int = 302, base: str | None = None) -> str:
    return f"{base or server.http_url}/redirect?status={status}&to={quote(to, safe='')}"


@pytest.mark.over_http2
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_follows_get(client: Any, app_server: AppServer, status: int) -> None:
    url = redirect_to(app_server, "/echo?landed=1", status)
    response = await client.fetch(url)
    data = echoed(response)
    assert (response.code, data["method"], data["query"]) == (200, "GET", "landed=1")
    assert response.effective_url == app_server.http_url + "/echo?landed=1"
    assert response.request.url == url


@pytest.mark.over_http2
async def test_absolute_location(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(redirect_to(app_server, app_server.http_url + "/echo"))
    assert response.effective_url == app_server.http_url + "/echo"


@pytest.mark.over_http2
async def test_path_relative_location(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.http_url + "/redirect/sub?to=../echo%3Fr%3D1")
    assert response.effective_url == app_server.http_url + "/echo?r=1"


@pytest.mark.over_http2
async def test_chain_within_limit(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.http_url + "/chain/3", max_redirects=3)
    assert response.code == 200
    assert response.effective_url.startswith(app_server.http_url + "/chain/0")


@pytest.mark.over_http2
@pytest.mark.squall_only
async def test_max_redirects_exceeded(client: Any, app_server: AppServer) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(app_server.http_url + "/chain/4", max_redirects=2)
    # squall returns the last redirect as the response once the budget is spent.
    assert info.value.code == 302
    assert info.value.response is not None
    assert info.value.response.headers["Location"].startswith("/chain/1")
    assert info.value.too_many_redirects
    assert (info.value.url or "").startswith(app_server.http_url + "/chain/2")


@pytest.mark.over_http2
@pytest.mark.squall_only
async def test_an_unfollowed_redirect_is_not_too_many(client: Any, app_server: AppServer) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(app_server.http_url + "/chain/4", follow_redirects=False)
    assert info.value.code == 302 and not info.value.too_many_redirects
    within = await client.fetch(app_server.http_url + "/chain/2", max_redirects=2)
    assert not within.too_many_redirects


@pytest.mark.over_http2
async def test_follow_redirects_false(client: Any, app_server: AppServer) -> None:
    url = redirect_to(app_server, "/echo", 301)
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(url, follow_redirects=False)
    assert info.value.code == 301
    assert info.value.response is not None
    assert info.value.response.headers["Location"] == "/echo"
    response = await client.fetch(url, follow_redirects=False, raise_error=False)
    assert (response.code, response.effective_url) == (301, url)


@pytest.mark.over_http2
async def test_redirect_without_location_is_returned(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.http_url + "/no-location", raise_error=False)
    assert response.code == 302
    assert response.body == b"nowhere"


@pytest.mark.over_http2
@pytest.mark.parametrize("status", [301, 302, 303])
async def test_post_becomes_get(client: Any, app_server: AppServer, status: int) -> None:
    response = await client.fetch(
        redirect_to(app_server, "/echo", status), method="POST", body=b"form=1"
    )
    data = echoed(response)
    assert (data["method"], data["body"]) == ("GET", "")
    assert echoed_headers(data, "Content-Length") in ([], ["0"])


@pytest.mark.over_http2
@pytest.mark.parametrize("status", [307, 308])
async def test_method_and_body_kept(client: Any, app_server: AppServer, status: int) -> None:
    response = await client.fetch(
        redirect_to(app_server, "/echo", status), method="PUT", body=b"kept"
    )
    data = echoed(response)
    assert (data["method"], data["body"]) == ("PUT", "kept")


@pytest.mark.over_http2
async def test_credentials_kept_same_origin(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(
        redirect_to(app_server, "/echo"), headers={"Authorization": "Bearer t", "Cookie": "c=1"}
    )
    data = echoed(response)
    assert echoed_headers(data, "Authorization") == ["Bearer t"]
    assert echoed_headers(data, "Cookie") == ["c=1"]


@pytest.mark.over_http2
async def test_sensitive_headers_dropped_cross_origin(client: Any, app_server: AppServer) -> None:
    headers = {
        "Authorization": "Bearer secret",
        "Cookie": "session=secret",
        "Proxy-Authorization": "Basic c2VjcmV0",
        "X-Harmless": "kept",
    }
    response = await client.fetch(
        redirect_to(app_server, app_server.other_url + "/echo"), headers=headers
    )
    data = echoed(response)
    assert response.effective_url == app_server.other_url + "/echo"
    assert echoed_headers(data, "X-Harmless") == ["kept"]
    for name in ("Authorization", "Cookie", "Proxy-Authorization"):
        assert echoed_headers(data, name) == [], name


@pytest.mark.over_http2
async def test_auth_options_dropped_cross_origin(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(
        redirect_to(app_server, app_server.other_url + "/echo"),
        auth_username="user",
        auth_password="secret",
    )
    assert echoed_headers(echoed(response), "Authorization") == []


@pytest.mark.over_http2
async def test_url_credentials_dropped_cross_origin(client: Any, app_server: AppServer) -> None:
    url = redirect_to(app_server, app_server.other_url + "/echo")
    response = await client.fetch(url.replace("http://", "http://user:secret@"))
    assert echoed_headers(echoed(response), "Authorization") == []


@pytest.mark.over_http2
async def test_auth_options_kept_same_origin(client: Any, app_server: AppServer) -> None:
    url = redirect_to(app_server, "/auth?user=u&password=p")
    response = await client.fetch(url, auth_username="u", auth_password="p")
    assert response.body == b"authenticated"


@pytest.mark.over_http2
@pytest.mark.squall_only("curl")  # Tornado's curl client raises libcurl's CurlError instead
@pytest.mark.parametrize("target", ["ftp://127.0.0.1/file", "file:///etc/passwd", "h:5"])
@pytest.mark.parametrize("raise_error", [True, False])
async def test_redirect_to_another_scheme_fails(
    client: Any, app_server: AppServer, target: str, raise_error: bool
) -> None:
    # As Tornado 6.6: the redirect is followed, and the fetch fails with ValueError
    # (even with raise_error=False) rather than handing back the 3xx.
    with pytest.raises(ValueError, match="Unsupported url scheme"):
        await client.fetch(redirect_to(app_server, target), raise_error=raise_error)


@pytest.mark.over_http2
async def test_header_callback_sees_final_response_only(
    client: Any, app_server: AppServer, engine: str
) -> None:
    lines: list[str] = []
    chunks: list[bytes] = []
    await client.fetch(
        redirect_to(app_server, "/chunked?chunks=1&size=4"),
        header_callback=lines.append,
        streaming_callback=chunks.append,
    )
    status_lines = [line for line in lines if line.startswith("HTTP/")]
    assert len(status_lines) == 1 and " 200" in status_lines[0]
    assert b"".join(chunks) == b"aaaa"


@pytest.mark.over_http2
async def test_redirect_across_schemes_to_https(
    client: Any, app_server: AppServer, certs: Any
) -> None:
    response = await client.fetch(
        redirect_to(app_server, app_server.https_url + "/echo"),
        ca_certs=certs.ca,
        headers={"Authorization": "Bearer secret"},
    )
    assert response.effective_url == app_server.https_url + "/echo"
    # Another scheme (and port) is another origin: credentials stay behind.
    assert echoed_headers(echoed(response), "Authorization") == []


@pytest.mark.over_http2
async def test_head_stays_head_after_303(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(redirect_to(app_server, "/echo", 303), method="HEAD")
    assert (response.code, response.body) == (200, b"")
    assert response.effective_url == app_server.http_url + "/echo"
