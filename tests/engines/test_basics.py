"""Basic request/response behaviour, once per engine, against the hypercorn app."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from squall.httpclient import HTTPClientError, HTTPRequest, HTTPResponse
from tests.servers.app import AppServer
from tests.servers.helpers import echoed, echoed_headers
from tests.servers.routes import LAST_MODIFIED

TIME_INFO_KEYS = {
    "queue",
    "namelookup",
    "connect",
    "appconnect",
    "pretransfer",
    "starttransfer",
    "total",
    "redirect",
}


@pytest.mark.over_http2
@pytest.mark.parametrize("method", ["GET", "DELETE", "OPTIONS"])
async def test_bodyless_methods(client: Any, app_server: AppServer, method: str) -> None:
    response = await client.fetch(app_server.http_url + "/echo?a=1", method=method)
    data = echoed(response)
    assert response.code == 200
    assert (data["method"], data["path"], data["query"]) == (method, "/echo", "a=1")
    assert data["body"] == ""


@pytest.mark.over_http2
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
async def test_methods_with_body(client: Any, app_server: AppServer, method: str) -> None:
    response = await client.fetch(app_server.http_url + "/echo", method=method, body=b"payload")
    data = echoed(response)
    assert (data["method"], data["body"]) == (method, "payload")
    assert echoed_headers(data, "Content-Length") == ["7"]


@pytest.mark.over_http2
async def test_head_has_headers_but_no_body(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.http_url + "/echo", method="HEAD")
    assert response.code == 200
    assert response.body == b""
    assert int(response.headers["Content-Length"]) > 0


@pytest.mark.over_http2
async def test_str_body_is_sent_as_utf8(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.http_url + "/echo", method="POST", body="héllo ☃")
    assert echoed(response)["body"].encode("latin-1") == "héllo ☃".encode()


@pytest.mark.over_http2
async def test_large_request_body(client: Any, app_server: AppServer) -> None:
    body = b"x" * (3 * 1024 * 1024 + 7)
    response = await client.fetch(app_server.http_url + "/echo", method="PUT", body=body)
    assert len(echoed(response)["body"]) == len(body)


@pytest.mark.over_http2
async def test_request_headers_are_sent(client: Any, app_server: AppServer) -> None:
    from squall.httputil import HTTPHeaders

    headers = HTTPHeaders({"X-Single": "one", "X-Latin": "caf\xe9"})
    headers.add("X-Multi", "a")
    headers.add("X-Multi", "b")
    response = await client.fetch(app_server.http_url + "/echo", headers=headers)
    data = echoed(response)
    assert echoed_headers(data, "X-Single") == ["one"]
    assert echoed_headers(data, "X-Latin") == ["caf\xe9"]
    assert ",".join(echoed_headers(data, "X-Multi")).replace(" ", "") == "a,b"
    assert echoed_headers(data, "Host") == [app_server.http_url.removeprefix("http://")]


@pytest.mark.over_http2
@pytest.mark.squall_only
async def test_default_request_headers_are_the_same_on_both_engines(
    client: Any, app_server: AppServer
) -> None:
    response = await client.fetch(app_server.http_url + "/echo")
    data = echoed(response)
    assert echoed_headers(data, "Accept") == ["*/*"]
    assert echoed_headers(data, "User-Agent")[0].startswith("squall/")
    mine = await client.fetch(
        app_server.http_url + "/echo", headers={"Accept": "text/plain", "Accept-Encoding": "br"}
    )
    assert echoed_headers(echoed(mine), "Accept") == ["text/plain"]
    assert echoed_headers(echoed(mine), "Accept-Encoding") == ["br"]


@pytest.mark.over_http2
async def test_plain_dict_headers_and_bytes_values(client: Any, app_server: AppServer) -> None:
    headers = {"X-Bytes": b"raw-value", "X-Str": "text"}
    response = await client.fetch(app_server.http_url + "/echo", headers=headers)
    data = echoed(response)
    assert echoed_headers(data, "X-Bytes") == ["raw-value"]
    assert echoed_headers(data, "X-Str") == ["text"]


@pytest.mark.over_http2
async def test_caller_headers_are_not_mutated(client: Any, app_server: AppServer) -> None:
    headers = {"X-Mine": "1"}
    await client.fetch(app_server.http_url + "/echo", headers=headers)
    assert headers == {"X-Mine": "1"}


@pytest.mark.over_http2
async def test_response_headers_multi_valued(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.http_url + "/cookies")
    assert response.headers.get_list("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert response.headers.get_list("x-multi") == ["one", "two"]
    assert response.headers["Content-Type"] == "text/plain"


@pytest.mark.over_http2
async def test_status_error_raises_with_response(client: Any, app_server: AppServer) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(app_server.http_url + "/status/404")
    assert info.value.code == 404
    assert info.value.response is not None
    assert info.value.response.code == 404
    assert info.value.response.body == b"status 404"
    assert str(info.value) == "HTTP 404: Not Found"


@pytest.mark.over_http2
async def test_raise_error_false_returns_error_response(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.http_url + "/status/503", raise_error=False)
    assert response.code == 503
    assert isinstance(response.error, HTTPClientError)
    assert response.error.code == 503
    assert response.body == b"status 503"
    with pytest.raises(HTTPClientError):
        response.rethrow()


@pytest.mark.over_http2
async def test_success_has_no_error(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.http_url + "/status/204")
    assert (response.code, response.error, response.body) == (204, None, b"")
    response.rethrow()


@pytest.mark.over_http2
async def test_reason_defaults_to_standard_phrase(client: Any, app_server: AppServer) -> None:
    # hypercorn sends an empty reason phrase; the standard one is used then.
    response = await client.fetch(app_server.http_url + "/status/202")
    assert response.reason == "Accepted"


@pytest.mark.over_http2
async def test_effective_url_and_request(client: Any, app_server: AppServer) -> None:
    url = app_server.http_url + "/echo?x=1"
    request = HTTPRequest(url)
    response = await client.fetch(request)
    assert response.effective_url == url
    assert response.request is request


@pytest.mark.over_http2
@pytest.mark.squall_only
async def test_timing_fields_on_success(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.http_url + "/echo")
    _check_timing(response)


@pytest.mark.over_http2
@pytest.mark.squall_only
async def test_timing_fields_on_status_error(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.http_url + "/status/500", raise_error=False)
    _check_timing(response)


def _check_timing(response: HTTPResponse) -> None:
    assert response.request_time is not None and response.request_time >= 0
    assert response.start_time is not None and response.start_time > 1e9
    assert set(response.time_info) >= TIME_INFO_KEYS
    assert all(value >= 0 for value in response.time_info.values())


@pytest.mark.over_http2
@pytest.mark.squall_only
async def test_callback_form_success(client: Any, app_server: AppServer) -> None:
    got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    client.fetch(app_server.http_url + "/echo", got.set_result)
    response = await asyncio.wait_for(got, 10)
    assert response.code == 200 and response.error is None


@pytest.mark.over_http2
@pytest.mark.squall_only
async def test_callback_form_gets_error_in_response(client: Any, app_server: AppServer) -> None:
    got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    client.fetch(app_server.http_url + "/status/404", callback=got.set_result)
    response = await asyncio.wait_for(got, 10)
    assert response.code == 404
    assert isinstance(response.error, HTTPClientError)
    with pytest.raises(HTTPClientError):
        response.rethrow()


@pytest.mark.squall_only
async def test_callback_form_transport_error(client: Any, closed_port: int) -> None:
    got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    client.fetch(f"http://127.0.0.1:{closed_port}/", callback=got.set_result)
    response = await asyncio.wait_for(got, 10)
    assert response.code == 599
    assert isinstance(response.error, HTTPClientError)


@pytest.mark.over_http2
async def test_basic_auth(client: Any, app_server: AppServer) -> None:
    url = app_server.http_url + "/auth?user=alice&password=s3cr%C3%A9t"
    response = await client.fetch(url, auth_username="alice", auth_password="s3crét")
    assert response.body == b"authenticated"


@pytest.mark.over_http2
async def test_basic_auth_from_url_userinfo(client: Any, app_server: AppServer) -> None:
    url = app_server.http_url.replace("//", "//bob:pw%3A1@") + "/auth?user=bob&password=pw:1"
    response = await client.fetch(url)
    assert response.body == b"authenticated"


@pytest.mark.over_http2
async def test_wrong_credentials_give_401(client: Any, app_server: AppServer) -> None:
    url = app_server.http_url + "/auth?user=alice&password=right"
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(url, auth_username="alice", auth_password="wrong")
    assert info.value.code == 401


@pytest.mark.over_http2
async def test_user_agent(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.http_url + "/echo", user_agent="squall-test/1")
    assert echoed_headers(echoed(response), "User-Agent") == ["squall-test/1"]


@pytest.mark.over_http2
async def test_default_user_agent_present(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.http_url + "/echo")
    assert echoed_headers(echoed(response), "User-Agent") != []


@pytest.mark.over_http2
async def test_if_modified_since_not_modified(client: Any, app_server: AppServer) -> None:
    later = LAST_MODIFIED + timedelta(days=1)
    response = await client.fetch(
        app_server.http_url + "/ims", if_modified_since=later, raise_error=False
    )
    assert response.code == 304
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(app_server.http_url + "/ims", if_modified_since=later)
    assert info.value.code == 304


@pytest.mark.over_http2
async def test_if_modified_since_modified(client: Any, app_server: AppServer) -> None:
    earlier = datetime(2019, 6, 1, tzinfo=timezone.utc)
    response = await client.fetch(app_server.http_url + "/ims", if_modified_since=earlier)
    assert response.code == 200
    assert "Last-Modified" in response.headers


@pytest.mark.over_http2
async def test_nonstandard_method_allowed(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(
        app_server.http_url + "/echo", method="PROPFIND", allow_nonstandard_methods=True
    )
    assert echoed(response)["method"] == "PROPFIND"


@pytest.mark.over_http2
async def test_nonstandard_method_refused(client: Any, app_server: AppServer) -> None:
    with pytest.raises((ValueError, KeyError)):
        await client.fetch(app_server.http_url + "/echo", method="PROPFIND")


@pytest.mark.over_http2
async def test_post_without_body_refused(client: Any, app_server: AppServer) -> None:
    with pytest.raises(ValueError):
        await client.fetch(app_server.http_url + "/echo", method="POST")


@pytest.mark.over_http2
async def test_post_without_body_allowed_nonstandard(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(
        app_server.http_url + "/echo", method="POST", allow_nonstandard_methods=True
    )
    assert echoed(response)["method"] == "POST"


@pytest.mark.over_http2
@pytest.mark.parametrize(
    "headers",
    [{"X-Bad": "a\r\nX-Injected: 1"}, {"X-Bad": "a\nb"}, {"X-Bad\r\nX-Evil": "1"}],
    ids=["crlf-value", "lf-value", "crlf-name"],
)
async def test_header_injection_refused(
    client: Any, app_server: AppServer, headers: dict[str, str]
) -> None:
    with pytest.raises(ValueError):
        await client.fetch(app_server.http_url + "/echo", headers=headers)


@pytest.mark.squall_only
async def test_http_version_2(client: Any, app_server: AppServer) -> None:
    url = app_server.https_url + "/echo"
    response = await client.fetch(url, http_version="2", validate_cert=False)
    assert echoed(response)["http_version"] == "2"


@pytest.mark.squall_only
async def test_http_version_1_1_over_tls(client: Any, app_server: AppServer) -> None:
    url = app_server.https_url + "/echo"
    response = await client.fetch(url, http_version="1.1", validate_cert=False)
    assert echoed(response)["http_version"] == "1.1"


def test_blocking_client_fetch(blocking_client: Any, app_server: AppServer) -> None:
    response = blocking_client.fetch(app_server.http_url + "/echo", method="POST", body=b"hi")
    assert echoed(response)["body"] == "hi"
    with pytest.raises(HTTPClientError) as info:
        blocking_client.fetch(app_server.http_url + "/status/500")
    assert info.value.code == 500
