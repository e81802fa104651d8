"""json=, params=, form=, files= and the response's .json()/.text, on both engines."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from squall.httpclient import HTTPRequest
from tests.servers.app import AppServer
from tests.servers.helpers import echoed, echoed_headers

pytestmark = pytest.mark.squall_only


def _parts(data: dict[str, Any]) -> list[Any]:
    """The parts of an echoed multipart body, parsed by the stdlib's MIME parser."""
    content_type = echoed_headers(data, "Content-Type")[0]
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + data["body"].encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    return list(message.iter_parts())


@pytest.mark.over_http2
async def test_json_body(client: Any, app_server: AppServer) -> None:
    value = {"name": "caf\xe9", "n": [1, 2.5, None, True]}
    response = await client.fetch(app_server.http_url + "/echo", method="POST", json=value)
    data = echoed(response)
    assert echoed_headers(data, "Content-Type") == ["application/json"]
    body = data["body"].encode("latin-1")
    assert body == '{"name":"café","n":[1,2.5,null,true]}'.encode()
    assert json.loads(body) == value
    assert response.json() == data  # the response side: .json() of the echo


@pytest.mark.over_http2
async def test_params_merge_with_the_query(client: Any, app_server: AppServer) -> None:
    url = app_server.http_url + "/echo?a=1#frag"
    response = await client.fetch(url, params={"b": "x y", "c": ["1", "2"], "d": 3})
    assert echoed(response)["query"] == "a=1&b=x+y&c=1&c=2&d=3"
    pairs = await client.fetch(app_server.http_url + "/echo", params=[("k", "v"), ("k", "w")])
    assert echoed(pairs)["query"] == "k=v&k=w"


@pytest.mark.over_http2
async def test_form_body(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(
        app_server.http_url + "/echo", method="POST", form={"q": "a&b", "r": ["1", "2"]}
    )
    data = echoed(response)
    assert echoed_headers(data, "Content-Type") == ["application/x-www-form-urlencoded"]
    assert data["body"] == "q=a%26b&r=1&r=2"


@pytest.mark.over_http2
async def test_files_streamed_with_a_length(
    client: Any, app_server: AppServer, tmp_path: Path
) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n" * 50_000)
    # Building the request stats the files (for Content-Length): off the loop.
    request = await asyncio.to_thread(
        HTTPRequest,
        app_server.http_url + "/echo",
        method="POST",
        form={"title": "T"},
        files={
            "upload": str(path),
            "memo": ("memo.txt", io.BytesIO(b"hello"), "text/plain"),
        },
    )
    response = await client.fetch(request)
    data = echoed(response)
    body = data["body"].encode("latin-1")
    assert echoed_headers(data, "Content-Length") == [str(len(body))]
    title, upload, memo = _parts(data)
    assert title.get_param("name", header="content-disposition") == "title"
    assert title.get_content() == "T"
    assert upload.get_filename() == "report.csv"
    assert upload.get_content_type() == "text/csv"
    assert upload.get_payload(decode=True) == path.read_bytes()
    assert memo.get_filename() == "memo.txt"
    assert memo.get_content() == "hello"


@pytest.mark.over_http2
async def test_a_filename_cannot_inject_a_header(client: Any, app_server: AppServer) -> None:
    evil = 'x"\r\nX-Injected: 1\r\n\r\n.txt'
    response = await client.fetch(
        app_server.http_url + "/echo",
        method="POST",
        files={"f": (evil, io.BytesIO(b"data"), "text/plain")},
    )
    (part,) = _parts(echoed(response))
    assert "X-Injected" not in part
    assert part.get_filename() == "x%22%0D%0AX-Injected: 1%0D%0A%0D%0A.txt"
    with pytest.raises(ValueError, match="content type"):
        HTTPRequest("http://x/", method="POST", files={"f": ("a", io.BytesIO(b""), "a\r\nB: c")})


def test_one_body_source_at_most() -> None:
    with pytest.raises(ValueError, match="one body source at most, got body and json"):
        HTTPRequest("http://x/", method="POST", body=b"x", json={})
    with pytest.raises(ValueError, match="json and form"):
        HTTPRequest("http://x/", method="POST", json=1, form={"a": "b"})
    with pytest.raises(TypeError, match="json"):
        HTTPRequest("http://x/", method="POST", json=object())
    with pytest.raises(TypeError, match=r"params\['a'\]"):
        HTTPRequest("http://x/", params={"a": object()})


@pytest.mark.over_http2
async def test_text_uses_the_charset(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.http_url + "/echo", method="POST", body="caf\xe9")
    assert "caf" in response.text
    # The JSON echo is UTF-8 without a charset parameter: .text decodes UTF-8.
    assert response.text == response.body.decode("utf-8")
