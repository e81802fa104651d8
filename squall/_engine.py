"""The seam between the base client and an engine.

``AsyncHTTPClient`` does everything both engines share (defaults, validation,
the ``max_clients`` queue, redirects, callbacks, timings) and hands each hop
of a fetch to its engine: ``squall._simple_engine.SimpleEngine`` (over
``HTTP1Engine`` and ``HTTP2Engine``) behind ``SimpleAsyncHTTPClient``,
``squall._curl.engine.CurlEngine`` behind ``CurlAsyncHTTPClient``. An engine
is built from the event loop and the client's ``ClientSettings`` (plus
arguments of its own) and does exactly two things. Each engine module ends in
a TYPE_CHECKING line that has mypy prove it conforms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from squall._request import HTTPRequest
    from squall._response import HTTPResponse

__all__ = ["Engine"]


class Engine(Protocol):
    """One client's engine: one exchange per call, and closing."""

    async def fetch(self, request: HTTPRequest) -> HTTPResponse:
        """One HTTP exchange for a resolved request; no redirect following.

        Raises:
            HTTPClientError: a failure without a usable response (599 family).
            ValueError, NotImplementedError: an option the engine cannot honour,
                before any I/O.
        """
        ...

    def close(self) -> None:
        """Free every socket, handle and timer, and fail fetches still in flight.

        Idempotent.
        """
        ...
