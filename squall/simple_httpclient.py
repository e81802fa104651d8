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

``http_version="2"`` speaks multiplexed HTTP/2 (ALPN over TLS, prior
knowledge in clear text) when the ``http2`` extra (jh2) is installed. Proxies
(HTTP, CONNECT, https://, SOCKS) and digest auth work as on the curl engine;
HTTP/3 needs ``CurlAsyncHTTPClient``.

This module is glue: ``squall._simple_engine.SimpleEngine`` sends each request
to ``squall._http1`` or ``squall._http2``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sized
from typing import Any, ClassVar

from squall._arguments import SIMPLE_ARGUMENTS, check_idle_timeout, check_per_host
from squall._errors import HTTPStreamClosedError, HTTPTimeoutError
from squall._simple_engine import SimpleEngine
from squall.httpclient import AsyncHTTPClient

__all__ = ["HTTPStreamClosedError", "HTTPTimeoutError", "SimpleAsyncHTTPClient"]

#: Default seconds an idle keep-alive connection is kept: below the 5 s idle
#: timeout common in servers (uvicorn, hypercorn, Node), so we usually close first.
IDLE_TIMEOUT = 4.0


class SimpleAsyncHTTPClient(AsyncHTTPClient):
    """HTTP/1.1 (and, asked for, HTTP/2) client in Python on asyncio, with connection reuse.

    Constructor arguments, besides AsyncHTTPClient's (``max_clients``,
    ``hostname_mapping``, ``max_buffer_size``, ``resolver``, ``defaults``,
    ``max_header_size``, ``max_body_size``):

    Args:
        max_connections_per_host: the most connections (open or opening) to
            one origin; further requests wait for one to be free. None (the
            default) means no limit beyond ``max_clients``.
        idle_timeout: seconds an idle connection is kept for reuse (4.0).
    """

    _ARGUMENT_CHECKS: ClassVar[Mapping[str, Callable[[Any], object]]] = SIMPLE_ARGUMENTS
    _engine: SimpleEngine

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
        check_per_host(max_connections_per_host)
        check_idle_timeout(idle_timeout)
        super().initialize(**kwargs)
        self._engine = SimpleEngine(
            self.loop, self.settings, max_connections_per_host, idle_timeout
        )

    @property
    def active(self) -> Sized:
        """The fetches running now (Tornado's attribute; here a sized view)."""
        return _Count(lambda: self._admission.active, "active")

    @property
    def queue(self) -> Sized:
        """The fetches waiting for one of ``max_clients`` slots (Tornado's attribute;
        here a sized view)."""
        return _Count(lambda: self._admission.queued, "queued")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._engine.pool!r}>"


class _Count(Sized):
    """A live count as a sized collection: ``len()`` and truth, as Tornado's
    ``active`` dict and ``queue`` deque give them."""

    __slots__ = ("_count", "_what")

    def __init__(self, count: Callable[[], int], what: str) -> None:
        self._count = count
        self._what = what

    def __len__(self) -> int:
        return self._count()

    def __repr__(self) -> str:
        return f"<{self._count()} {self._what}>"


if __name__ == "__main__":
    from squall._cli import main

    raise SystemExit(main(engine="simple"))
