"""The simple engine: each request to HTTP/1.1 or to HTTP/2, by its ``http_version``.

``SimpleEngine`` is what ``SimpleAsyncHTTPClient`` builds. ``http_version="2"``
goes to ``HTTP2Engine``, created on first use, so jh2 (the ``http2`` extra) is
imported only when HTTP/2 is asked for; everything else -- ``None`` included:
HTTP/1.1 is the faster protocol for this engine (see the README) -- goes to
``HTTP1Engine``, which refuses what neither can do ("3").
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

from squall._arguments import ClientSettings
from squall._http1.engine import HTTP1Engine
from squall._request import HTTPRequest
from squall._response import HTTPResponse

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing's own from Python 3.11

    from squall._engine import Engine
    from squall._http2.engine import HTTP2Engine

__all__ = ["EngineArguments", "SimpleEngine"]

#: What each of the simple engine's engines is built from: the client's loop,
#: its checked settings, ``max_connections_per_host`` and ``idle_timeout``.
EngineArguments = tuple[asyncio.AbstractEventLoop, ClientSettings, int | None, float]

MISSING_EXTRA = (
    "http_version '2' on SimpleAsyncHTTPClient needs the jh2 library: "
    "install the http2 extra (pip install 'squall[http2]')"
)


class SimpleEngine:
    """HTTP/1.1 and HTTP/2 behind one Engine (arguments as ``HTTP1Engine``'s).

    Attributes:
        http1: the HTTP/1.1 engine (its ``pool`` is the client's repr).
    """

    def __init__(self, *arguments: Unpack[EngineArguments]) -> None:
        # The HTTP/2 engine, made on first use, takes the very same arguments.
        self.arguments = arguments
        self.http1 = HTTP1Engine(*arguments)
        self.pool = self.http1.pool
        self._http2: HTTP2Engine | None = None
        self._fallback: type[Exception] = Exception

    async def fetch(self, request: HTTPRequest) -> HTTPResponse:
        """One exchange, over the protocol the request asks for."""
        if request.http_version != "2":
            return await self.http1.fetch(request)
        http2 = self._http2 or self._start_http2()
        try:
            return await http2.fetch(request)
        except self._fallback:
            # The origin chose http/1.1 by ALPN: what libcurl does for "2" too.
            downgraded = request.resolved({})
            downgraded.http_version = "1.1"
            return await self.http1.fetch(downgraded)

    def _start_http2(self) -> HTTP2Engine:
        try:
            from squall._http2 import engine
        except ImportError as exc:
            raise ValueError(MISSING_EXTRA) from exc
        self._fallback = engine.FallBack
        http2 = self._http2 = engine.HTTP2Engine(*self.arguments)
        return http2

    def close(self) -> None:
        """Close both engines' connections and fail what waits for one."""
        self.http1.close()
        if self._http2 is not None:
            self._http2.close()


if TYPE_CHECKING:
    _conforms: Engine = SimpleEngine(
        asyncio.new_event_loop(), cast("ClientSettings", None), None, 0.0
    )
