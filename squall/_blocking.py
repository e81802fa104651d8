"""The blocking ``HTTPClient``: an AsyncHTTPClient driven from any thread.

It is exported by (and documented in) ``squall.httpclient``; it lives apart
because nothing in the async client depends on it. The private event loop,
and the turns threads take running it, are ``squall._loop_driver``'s.
"""

from __future__ import annotations

import contextlib
import functools
from typing import TYPE_CHECKING, Any

from squall._configurable import _import_class
from squall._errors import CLIENT_CLOSED, HTTPStreamClosedError
from squall._loop_driver import ClosedDuringCall, LoopDriver
from squall._request import HTTPRequest
from squall._response import HTTPResponse

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from squall._options import BlockingFetchOptions
    from squall.httpclient import AsyncHTTPClient

__all__ = ["HTTPClient"]


class HTTPClient:
    """A blocking HTTP client: each ``fetch`` waits for its response.

    It runs an AsyncHTTPClient on a private event loop, which the calling
    thread runs itself for the duration of the call. It works from any thread,
    from several at once on one instance (they take turns running the loop,
    and their requests run concurrently), and from code that is itself running
    inside an event loop (a helper thread then runs the private loop).
    Connections are reused across calls.

    Example::

        with HTTPClient() as client:
            try:
                response = client.fetch("http://127.0.0.1:8000/")
                print(response.body)
            except HTTPError as e:
                print("Error:", e)

    Args:
        async_client_class: the engine, a subclass of AsyncHTTPClient or its
            dotted name (default: the configured one).
        **kwargs: constructor arguments of the async client.

    Raises:
        TypeError, ValueError: a bad argument (named in the message).
    """

    def __init__(
        self, async_client_class: type[AsyncHTTPClient] | str | None = None, **kwargs: Any
    ) -> None:
        self._closed = True
        cls = _checked_client_class(async_client_class)
        self._driver = LoopDriver()

        async def make() -> AsyncHTTPClient:
            # Made on the private loop, so that it belongs to it. Not the loop's
            # shared instance: that one's close() needs the per-loop weak cache,
            # which the garbage collector may clear before __del__ runs.
            return cls(**{"force_instance": True, **kwargs})

        try:
            self._async_client = self._driver.run(make)
        except BaseException:
            self._driver.close()
            raise
        self._closed = False

    def fetch(
        self, request: str | HTTPRequest, **kwargs: Unpack[BlockingFetchOptions]
    ) -> HTTPResponse:
        """Fetch and return the response.

        Args:
            request: a URL or an HTTPRequest.
            **kwargs: HTTPRequest options (with a URL), and ``raise_error``.

        Raises:
            HTTPClientError: a non-2xx status (unless ``raise_error=False``)
                or a failure without a response (code 599); a fetch running
                when another thread calls close() fails with
                ``HTTPStreamClosedError("The client was closed")``, as in the
                async API.
            RuntimeError: the client is closed.
        """
        if self._closed:
            raise RuntimeError("fetch() called on closed HTTPClient")
        # No coroutine of our own around the fetch's task: it would cost a loop iteration.
        try:
            return self._driver.run(functools.partial(self._async_client.fetch, request, **kwargs))
        except ClosedDuringCall:
            # The fetch outlived close()'s grace (it fails such fetches itself): the
            # same error as the fetches close() ended.
            raise HTTPStreamClosedError(CLIENT_CLOSED) from None

    def close(self) -> None:
        """Close the client and its private loop (idempotent)."""
        if self._closed:
            return
        self._driver.close(self._async_client.close)
        self._closed = True

    def __enter__(self) -> HTTPClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Quietly, even at interpreter exit (close() then never waits).
        with contextlib.suppress(Exception):
            self.close()


def _checked_client_class(cls: object) -> type[AsyncHTTPClient]:
    """HTTPClient's ``async_client_class``: None, an AsyncHTTPClient class or its dotted name."""
    # Imported here: squall.httpclient imports this module to export HTTPClient.
    from squall.httpclient import AsyncHTTPClient

    if cls is None:
        return AsyncHTTPClient
    if isinstance(cls, str):
        try:
            cls = _import_class(cls)
        except (ImportError, ValueError) as exc:
            raise ValueError(f"async_client_class: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, AsyncHTTPClient)):
        raise TypeError(
            "async_client_class must be AsyncHTTPClient, a subclass or its dotted name, "
            f"got {cls!r}"
        )
    return cls
