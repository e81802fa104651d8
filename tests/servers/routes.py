"""The ASGI test application served by ``app.AppServer`` (HTTP/1.1 and HTTP/2).

Every route answers from the query string alone, so a test states what it wants
in the URL and never has to reconfigure a shared server. Routes:

    /echo, /conn       method, target, headers (as [name, value] pairs), body
                       (latin-1 text), http_version and the client's (host, port)
                       as JSON. The client port identifies the TCP connection,
                       which is how keep-alive tests count connections.
    /status/<code>     that status; ?reason is ignored (ASGI cannot set one)
    /redirect          ?to=<Location>&status=302 (to may be relative or absolute)
    /no-location       a 302 without Location
    /chain/<n>         n redirects (?status=), ending at /echo
    /chunked           ?chunks=&size= streamed without Content-Length (chunked)
    /slow              ?delay= seconds before the response
    /large             ?size= bytes of b"0123456789..." with Content-Length
    /encoded           ?coding=gzip|deflate|br|zstd, applied when the request's
                       Accept-Encoding names it or ?force=1; X-Encoded says which
    /ims               304 when If-Modified-Since is at or after LAST_MODIFIED
    /auth              401 unless Basic credentials match ?user= and ?password=
    /cookies           two Set-Cookie and two X-Multi response headers
    /headers           each query pair becomes a response header (repeats allowed)
    /bigheader         ?size= bytes in one X-Big response header
    /inflight          ?key=&want=: waits (at most ?wait= s) until `want` requests
                       with that key are in flight; answers the most ever seen
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

from tests.servers.helpers import compress

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

LAST_MODIFIED = datetime(2020, 1, 1, tzinfo=timezone.utc)
ENCODED_TEXT = b"squall compressed body " * 200
PATTERN = b"0123456789abcdef" * 4096  # 64 KiB building block for /large


def _pattern(size: int) -> bytes:
    reps = size // len(PATTERN) + 1
    return (PATTERN * reps)[:size]


def large_body(size: int) -> bytes:
    """The exact body /large?size=N sends, for comparisons in tests."""
    return _pattern(size)


class Request:
    """What a route needs from one ASGI request."""

    def __init__(self, scope: Scope, body: bytes) -> None:
        self.scope = scope
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        self.args = dict(self.query)
        self.headers: Headers = list(scope["headers"])
        self.body = body

    def header(self, name: str) -> str | None:
        lname = name.lower().encode("latin-1")
        for key, value in self.headers:
            if key.lower() == lname:
                return value.decode("latin-1")
        return None


class Response:
    """A response to send: status, headers, and either a body or chunks to stream."""

    def __init__(
        self,
        status: int = 200,
        body: bytes = b"",
        headers: Headers | None = None,
        chunks: list[bytes] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.headers: Headers = headers if headers is not None else []
        self.chunks = chunks


def _json(data: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(data).encode(), [(b"content-type", b"application/json")])


def _text(text: str, status: int = 200, headers: Headers | None = None) -> Response:
    return Response(status, text.encode(), [(b"content-type", b"text/plain"), *(headers or [])])


def echo(req: Request) -> Response:
    client = req.scope.get("client") or ("", 0)
    return _json(
        {
            "method": req.method,
            "path": req.path,
            "query": req.scope["query_string"].decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in req.headers],
            "body": req.body.decode("latin-1"),
            "http_version": req.scope.get("http_version", ""),
            "client": [client[0], client[1]],
        }
    )


def status(req: Request) -> Response:
    code = int(req.path.rsplit("/", 1)[1])
    if code in (204, 304) or code < 200:
        return Response(code)
    return _text(f"status {code}", code)


def redirect(req: Request) -> Response:
    code = int(req.args.get("status", "302"))
    return _text("redirecting", code, [(b"location", req.args["to"].encode("latin-1"))])


def chain(req: Request) -> Response:
    left = int(req.path.rsplit("/", 1)[1])
    if left <= 0:
        return echo(req)
    code = req.args.get("status", "302")
    location = f"/chain/{left - 1}?status={code}".encode()
    return _text(f"hop {left}", int(code), [(b"location", location)])


def chunked(req: Request) -> Response:
    count, size = int(req.args.get("chunks", "4")), int(req.args.get("size", "10"))
    chunks = [bytes([ord("a") + i % 26]) * size for i in range(count)]
    return Response(200, headers=[(b"content-type", b"text/plain")], chunks=chunks)


def large(req: Request) -> Response:
    body = _pattern(int(req.args.get("size", "1048576")))
    step = len(PATTERN)
    chunks = [body[i : i + step] for i in range(0, len(body), step)]
    return Response(200, headers=[(b"content-length", str(len(body)).encode())], chunks=chunks)


def encoded(req: Request) -> Response:
    coding = req.args["coding"]
    accepted = [t.split(";")[0].strip() for t in (req.header("accept-encoding") or "").split(",")]
    if coding in accepted or req.args.get("force") == "1":
        body = compress(coding, ENCODED_TEXT)
        headers = [(b"content-encoding", coding.encode()), (b"x-encoded", coding.encode())]
        return Response(200, body, headers)
    return Response(200, ENCODED_TEXT, [(b"x-encoded", b"identity")])


def ims(req: Request) -> Response:
    since = req.header("if-modified-since")
    if since is not None:
        parsed = email.utils.parsedate_to_datetime(since)
        if parsed >= LAST_MODIFIED:
            return Response(304)
    modified = email.utils.format_datetime(LAST_MODIFIED, usegmt=True).encode()
    return _text("modified", headers=[(b"last-modified", modified)])


def auth(req: Request) -> Response:
    wanted = f"{req.args.get('user', '')}:{req.args.get('password', '')}".encode()
    given = req.header("authorization") or ""
    if given == "Basic " + base64.b64encode(wanted).decode():
        return _text("authenticated")
    return _text("who are you", 401, [(b"www-authenticate", b'Basic realm="squall"')])


def cookies(req: Request) -> Response:
    headers = [
        (b"set-cookie", b"a=1; Path=/"),
        (b"set-cookie", b"b=2; Path=/"),
        (b"x-multi", b"one"),
        (b"x-multi", b"two"),
    ]
    return _text("cookies", headers=headers)


def headers(req: Request) -> Response:
    return _text("headers", headers=[(k.encode(), v.encode()) for k, v in req.query])


def bigheader(req: Request) -> Response:
    return _text("big", headers=[(b"x-big", b"h" * int(req.args.get("size", "100000")))])


class App:
    """The ASGI callable. Holds the little state some routes need (in-flight counts)."""

    def __init__(self) -> None:
        self.inflight: dict[str, int] = {}
        #: Requests served by HTTP version ("1.1", "2", "3"): how a test run over
        #: HTTP/2 proves that nothing fell back to HTTP/1.1.
        self.served: Counter[str] = Counter()
        self.most_inflight: dict[str, int] = {}
        self.routes: dict[str, Callable[[Request], Response]] = {
            "echo": echo,
            "conn": echo,
            "status": status,
            "redirect": redirect,
            "no-location": lambda req: _text("nowhere", 302),
            "chain": chain,
            "chunked": chunked,
            "large": large,
            "encoded": encoded,
            "ims": ims,
            "auth": auth,
            "cookies": cookies,
            "headers": headers,
            "bigheader": bigheader,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.served[scope["http_version"]] += 1
        req = Request(scope, bytes(body))
        response = await self.dispatch(req)
        await _send_response(req, response, send)

    async def dispatch(self, req: Request) -> Response:
        first = req.path.strip("/").split("/", 1)[0]
        if first == "slow":
            await asyncio.sleep(float(req.args.get("delay", "5")))
            return _text("slow")
        if first == "inflight":
            return await self.track_inflight(req)
        route = self.routes.get(first)
        if route is None:
            return _text("no such route", 404)
        return route(req)

    async def track_inflight(self, req: Request) -> Response:
        key, want = req.args["key"], int(req.args.get("want", "2"))
        self.inflight[key] = self.inflight.get(key, 0) + 1
        most = max(self.most_inflight.get(key, 0), self.inflight[key])
        self.most_inflight[key] = most
        try:
            deadline = asyncio.get_running_loop().time() + float(req.args.get("wait", "2"))
            while self.inflight[key] < want and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)
        finally:
            self.inflight[key] -= 1
        return _text(str(self.most_inflight[key]))


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _send_response(req: Request, response: Response, send: Send) -> None:
    headers = list(response.headers)
    no_body = req.method == "HEAD" or response.status in (204, 304)
    # HEAD announces the length the GET body would have; 204/304 announce none.
    if response.chunks is None and (req.method == "HEAD" or not no_body):
        headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    if no_body:
        await send({"type": "http.response.body", "body": b""})
        return
    if response.chunks is None:
        await send({"type": "http.response.body", "body": response.body})
        return
    for chunk in response.chunks:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
