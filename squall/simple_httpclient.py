"""The pure-Python engine: HTTP/1.1 over asyncio, with keep-alive pooling.

``SimpleAsyncHTTPClient`` is the default ``AsyncHTTPClient``. It needs no
extra dependency (httptools parses the responses, in C) and, unlike Tornado's
client of the same name, keeps connections alive and reuses them.

Example::

    from squall.httpclient import AsyncHTTPClient

    AsyncHTTPClient.configure(
        "squall.simple_httpclient.SimpleAsyncHTTPClient",
        max_connections_per_host=20,
    )

What it does not do (use ``CurlAsyncHTTPClient``): proxies, digest auth,
HTTP/2 and HTTP/3.

This module is glue: the engine lives in ``squall._http1``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from squall._errors import HTTPStreamClosedError, HTTPTimeoutError
from squall._http1.fetch import Engine
from squall._request import HTTPRequest
from squall._response import HTTPResponse
from squall.httpclient import AsyncHTTPClient

__all__ = ["HTTPStreamClosedError", "HTTPTimeoutError", "SimpleAsyncHTTPClient"]

#: Default seconds an idle keep-alive connection is kept: below the 5 s idle
#: timeout common in servers (uvicorn, hypercorn, Node), so we usually close first.
IDLE_TIMEOUT = 4.0


def _check_per_host(value: object) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(
            "max_connections_per_host must be a positive int or None, "
            f"got {type(value).__name__}: {value!r}"
        )
    if value < 1:
        raise ValueError(f"max_connections_per_host must be a positive int or None, got {value!r}")


def _check_idle_timeout(value: object) -> None:
    # int or float: the loop's timers add it to float times (a Decimal would fail there).
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(
            f"idle_timeout must be a number of seconds, got {type(value).__name__}: {value!r}"
        )
    if not 0 <= value < math.inf:
        raise ValueError(f"idle_timeout must be >= 0 and finite, got {value!r}")


class SimpleAsyncHTTPClient(AsyncHTTPClient):
    """HTTP/1.1 client in Python on asyncio, with connection reuse.

    Constructor arguments, besides AsyncHTTPClient's (``max_clients``,
    ``hostname_mapping``, ``max_buffer_size``, ``resolver``, ``defaults``,
    ``max_header_size``, ``max_body_size``):

    Args:
        max_connections_per_host: the most connections (open or opening) to
            one origin; further requests wait for one to be free. None (the
            default) means no limit beyond ``max_clients``.
        idle_timeout: seconds an idle connection is kept for reuse (4.0).
    """

    _ARGUMENT_CHECKS: ClassVar[Mapping[str, Callable[[Any], object]]] = {
        **AsyncHTTPClient._ARGUMENT_CHECKS,
        "max_connections_per_host": _check_per_host,
        "idle_timeout": _check_idle_timeout,
    }

    def initialize(  # type: ignore[override]
        self,
        max_connections_per_host: int | None = None,
        idle_timeout: float = IDLE_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        """Set up the client (called once per new instance).

        Raises:
            TypeError, ValueError: a bad argument (named in the message).
        """
        _check_per_host(max_connections_per_host)
        _check_idle_timeout(idle_timeout)
        super().initialize(**kwargs)
        self._engine = Engine(self, max_connections_per_host, idle_timeout)
        # The base awaits ``self.fetch_once(...)``: binding the engine's coroutine
        # function here saves a coroutine frame, paid on every resumption.
        self.fetch_once = self._engine.fetch  # type: ignore[method-assign]

    async def fetch_once(self, request: HTTPRequest) -> HTTPResponse:
        """One HTTP/1.1 exchange for a resolved request (see AsyncHTTPClient)."""
        return await self._engine.fetch(request)

    def close(self) -> None:
        """Close every connection; idempotent."""
        super().close()
        self._engine.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._engine.pool!r}>"


if __name__ == "__main__":
    from squall._cli import main

    raise SystemExit(main(engine="simple"))
