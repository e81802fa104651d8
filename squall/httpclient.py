"""Blocking and non-blocking HTTP clients with one interface and two engines.

``AsyncHTTPClient`` runs on asyncio (uvloop too); ``HTTPClient`` is a thin
blocking layer over it that works from any thread, including one whose own
event loop is running. The engine behind both is chosen with
``AsyncHTTPClient.configure``:

- ``squall.simple_httpclient.SimpleAsyncHTTPClient`` (the default): HTTP/1.1
  in Python over asyncio, with keep-alive pooling. No extra dependency.
- ``squall.curl_httpclient.CurlAsyncHTTPClient``: libcurl through pycurl
  (``pip install 'squall[curl]'``), driven by the same event loop; adds
  proxies, digest auth and HTTP/2 and HTTP/3.

Example::

    from squall.httpclient import AsyncHTTPClient, HTTPClient

    async def main() -> None:
        client = AsyncHTTPClient()
        response = await client.fetch("http://127.0.0.1:8000/")
        print(response.code, response.body)

    with HTTPClient() as client:
        print(client.fetch("http://127.0.0.1:8000/").body)

The base class does everything both engines share exactly once: defaults,
validation, the ``max_clients`` queue, redirects, ``raise_error``, the
callback form and ``time_info["queue"]``/``["redirect"]``. Each hop goes to
the client's engine (``squall._engine.Engine``: ``fetch(request)`` for one
exchange, plus ``close()``), built from the checked, frozen
``ClientSettings``.
"""

from __future__ import annotations

import asyncio
import functools
import http.cookiejar
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from squall._admission import Admission
from squall._arguments import BASE_ARGUMENTS, MAX_BUFFER_SIZE, client_settings
from squall._blocking import HTTPClient
from squall._configurable import ConfigurableClient
from squall._engine import Engine
from squall._errors import (
    CLIENT_CLOSED,
    CurlError,
    HTTPCertificateError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPConnectionRefusedError,
    HTTPConnectionResetError,
    HTTPError,
    HTTPNameResolutionError,
    HTTPStreamClosedError,
    HTTPTimeoutError,
    HTTPTLSError,
    RemoteProtocolError,
    ResponseTooLargeError,
)
from squall._failure import failed_response
from squall._fetch_flow import (
    Hops,
    cancel_requested,
    hop_with_extras,
    outcome,
    queue_timeout,
    retrieve_when_done,
    run_callback,
)
from squall._frames import clear_own_frames
from squall._logging import app_log
from squall._redirects import REDIRECT_CODES, next_request, redirect_target, will_follow
from squall._request import HTTPRequest
from squall._response import HTTPResponse
from squall._retries import Retry

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from squall._options import RequestOptions

__all__ = [
    "AsyncHTTPClient",
    "CurlError",
    "HTTPCertificateError",
    "HTTPClient",
    "HTTPClientError",
    "HTTPConnectionError",
    "HTTPConnectionRefusedError",
    "HTTPConnectionResetError",
    "HTTPError",
    "HTTPNameResolutionError",
    "HTTPRequest",
    "HTTPResponse",
    "HTTPStreamClosedError",
    "HTTPTLSError",
    "HTTPTimeoutError",
    "RemoteProtocolError",
    "ResponseTooLargeError",
    "Retry",
    "main",
]

# Public names show their public path in reprs, tracebacks and help(), and
# pickle by it (httpcore's idea); they are defined in private modules.
for _public in (
    HTTPRequest,
    HTTPResponse,
    CurlError,
    HTTPCertificateError,
    HTTPClient,
    HTTPClientError,
    HTTPConnectionError,
    HTTPConnectionRefusedError,
    HTTPConnectionResetError,
    HTTPNameResolutionError,
    HTTPStreamClosedError,
    HTTPTLSError,
    HTTPTimeoutError,
    RemoteProtocolError,
    ResponseTooLargeError,
    Retry,
):
    _public.__module__ = __name__


class AsyncHTTPClient(ConfigurableClient):
    """A non-blocking HTTP client on asyncio.

    ``AsyncHTTPClient()`` returns the configured engine, one instance per
    event loop unless ``force_instance=True``.

    Args:
        force_instance: make a new instance instead of the loop's shared one.
        defaults: HTTPRequest option values used where a request leaves them
            None (checked like HTTPRequest's own arguments).
        max_clients: how many fetches run at once; the rest wait in a FIFO
            queue whose timeout is the smaller of the request's non-zero
            connect_timeout and request_timeout.
        hostname_mapping: maps a host (or ``(host, port)``) to another.
        resolver: an object with ``async resolve(host, port, family)``
            returning ``[(family, sockaddr), ...]``.
        max_buffer_size: the most body bytes buffered in memory (100 MiB).
        max_header_size: the most bytes of response headers (None: 64 KiB).
        max_body_size: the most decoded body bytes, streamed or not
            (None: max_buffer_size).
        cookies: an ``http.cookiejar.CookieJar`` (or True for a new one) that
            every hop reads and updates, redirects included; off by default.
        trust_env: use the proxies named by ``http_proxy``, ``https_proxy``,
            ``all_proxy`` and ``no_proxy`` (either case; read when the client
            is made) for requests without a ``proxy_host`` (off by default).

    Raises:
        TypeError, ValueError: a bad argument, named in the message (also
            from ``configure()``, which checks the arguments it is given).
    """

    #: initialize()'s arguments, each with the check it makes, for configure() to
    #: make them early. A class that defines initialize() declares its own table
    #: (an engine adds its arguments to its base's); see _check_arguments.
    _ARGUMENT_CHECKS: ClassVar[Mapping[str, Callable[[Any], object]]] = BASE_ARGUMENTS

    #: The engine doing this client's exchanges (set by the engine's initialize()).
    _engine: Engine | None = None
    #: Whether the class overrides fetch_once (then the base calls it instead of
    #: the engine's fetch; see __init_subclass__).
    _custom_fetch_once: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Decided once per class, not patched per instance: a subclass that
        # overrides fetch_once is honoured, and the engines' own classes save a
        # coroutine frame per hop by having the base await the engine directly.
        cls._custom_fetch_once = cls.fetch_once is not AsyncHTTPClient.fetch_once

    @classmethod
    def configurable_base(cls) -> type[ConfigurableClient]:
        """The class whose ``configure()`` settings every engine shares."""
        return AsyncHTTPClient

    @classmethod
    def _check_arguments(cls, kwargs: Mapping[str, Any]) -> None:
        """Check constructor arguments as ``initialize`` would (for ``configure()``).

        An unknown name is refused when the class whose ``initialize`` runs
        declared its table; a subclass with its own ``initialize`` and no table
        may take more arguments, which its constructor checks.
        """
        checks = cls._ARGUMENT_CHECKS
        owner = next(klass for klass in cls.__mro__ if "initialize" in vars(klass))
        closed = "_ARGUMENT_CHECKS" in vars(owner)
        for name, value in kwargs.items():
            check = checks.get(name)
            if check is not None:
                check(value)
            elif closed:
                raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}")

    def initialize(  # type: ignore[override]
        self,
        defaults: dict[str, Any] | None = None,
        max_clients: int = 10,
        hostname_mapping: dict[Any, Any] | None = None,
        resolver: Any = None,
        max_buffer_size: int = MAX_BUFFER_SIZE,
        max_header_size: int | None = None,
        max_body_size: int | None = None,
        cookies: http.cookiejar.CookieJar | bool | None = None,
        trust_env: bool = False,
    ) -> None:
        """Set up the client (called once per new instance; see _configurable).

        Raises:
            TypeError, ValueError: a bad argument (named in the message).
        """
        # Every argument is checked here, so that a bad one fails the constructor
        # rather than some fetch later (the same checks as _ARGUMENT_CHECKS).
        self.settings = settings = client_settings(
            defaults=defaults,
            max_clients=max_clients,
            hostname_mapping=hostname_mapping,
            resolver=resolver,
            max_buffer_size=max_buffer_size,
            max_header_size=max_header_size,
            max_body_size=max_body_size,
            cookies=cookies,
            trust_env=trust_env,
        )
        #: The opt-in cookie jar (``cookies=``), or None.
        self.cookies = settings.cookies
        self.defaults = dict(settings.defaults)
        self._admission = Admission(settings.max_clients)
        self.max_clients = settings.max_clients
        self.hostname_mapping = dict(settings.hostname_mapping)
        self.resolver = settings.resolver
        self.max_buffer_size = settings.max_buffer_size
        self.max_header_size = settings.max_header_size
        self.max_body_size = settings.max_body_size
        self._closed = False

    # -- the engine's part -----------------------------------------------------

    async def fetch_once(self, request: HTTPRequest) -> HTTPResponse:
        """One HTTP exchange for a resolved request: the engine's ``fetch``.

        A subclass may override it (to wrap or replace the engine); the base
        then calls the override for every hop.
        """
        engine = self._engine
        if engine is None:
            raise NotImplementedError(f"{type(self).__name__} has no engine")
        return await engine.fetch(request)

    def close(self) -> None:
        """Free every socket and handle. Idempotent; no fetch() afterwards."""
        if self._closed:
            return
        self._closed = True
        self._forget_instance()
        if self._engine is not None:
            self._engine.close()

    async def __aenter__(self) -> AsyncHTTPClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- fetch -------------------------------------------------------------------

    def fetch(
        self,
        request: str | HTTPRequest,
        callback: Callable[[HTTPResponse], Any] | None = None,
        raise_error: bool = True,
        **kwargs: Unpack[RequestOptions],
    ) -> asyncio.Future[HTTPResponse]:
        """Start a request; return a Future of its HTTPResponse.

        Args:
            request: a URL or an HTTPRequest.
            callback: if given, called with the response when it is done; the
                response's ``error`` is set on failure (``rethrow()`` raises
                it), and the Future then resolves to the response instead of
                raising.
            raise_error: if False, a non-2xx status does not raise (errors
                without a response always do).
            **kwargs: HTTPRequest options, when ``request`` is a URL.

        Returns:
            An ``asyncio.Future``; cancelling it stops the request.

        Raises:
            RuntimeError: the client is closed.
            TypeError: ``callback`` is not callable, ``raise_error`` not a
                bool, or an option has the wrong type.
            ValueError: kwargs given with an HTTPRequest, or a bad option.
        """
        if self._closed:
            raise RuntimeError("fetch() called on closed AsyncHTTPClient")
        # Two identity tests on the usual path; a bad value would otherwise only
        # be logged (callback) or read as a truth value (raise_error="no").
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
        if raise_error is not True and raise_error is not False:
            raise TypeError(
                f"raise_error must be a bool, got {type(raise_error).__name__}: {raise_error!r}"
            )
        if isinstance(request, HTTPRequest):
            if kwargs:
                raise ValueError("kwargs can't be used if request is an HTTPRequest object")
        else:
            request = HTTPRequest(url=request, **kwargs)
        # One coroutine per fetch, no nesting of our own: each level of
        # ``await`` is paid again on every resumption of the innermost frame.
        task = self.loop.create_task(self._fetch(request, raise_error, callback is not None))
        if callback is not None:
            task.add_done_callback(functools.partial(run_callback, callback))
        return task

    async def _fetch(
        self, original: HTTPRequest, raise_error: bool, deliver_errors: bool
    ) -> HTTPResponse:
        """Run a fetch to its end: admission, the engine's hops, redirects.

        Failures become a response with ``error`` set; that error is raised
        unless ``deliver_errors`` (the callback form), or it is a status error
        and ``raise_error`` is False.
        """
        started = time.perf_counter()
        try:
            request = original.resolved(self.defaults)
            queue_time = await self._admission.acquire(*queue_timeout(request))
        except Exception as exc:
            return outcome(
                failed_response(original, exc, None, started), raise_error, deliver_errors
            )
        hops = Hops(queue_time)
        hop = (
            self.fetch_once
            if self._custom_fetch_once or self._engine is None
            else self._engine.fetch
        )
        try:
            if self._closed:  # closed while this fetch waited in the queue
                raise HTTPStreamClosedError(CLIENT_CLOSED)
            env = self.settings.env_proxies  # trust_env: per hop, so NO_PROXY sees each host
            while True:
                sent = request if env is None else env.apply(request)
                if sent.retries is None and self.cookies is None:
                    response = await hop(sent)
                else:
                    response = await hop_with_extras(self.cookies, hop, sent, hops)
                if not will_follow(request, response.code, response.headers):
                    if response.code in REDIRECT_CODES and request.follow_redirects:
                        response.too_many_redirects = not request.max_redirects and (
                            redirect_target(request, response.headers) is not None
                        )
                    break
                hops.add(response)
                request = next_request(request, response.code, response.headers)
        except Exception as exc:
            if cancel_requested(exc):
                # The caller cancelled and then the fetch failed (a callback raised
                # on its way out, say): the Future stays cancelled, as in Tornado,
                # and the failure is logged, not left in a task nobody reads.
                app_log.error("Exception after Future was cancelled", exc_info=exc)
                raise asyncio.CancelledError from exc
            clear_own_frames(exc)  # the engine's frames would keep its objects, and exc, alive
            info: dict[str, float] | None = {"retries": hops.retries} if hops.retries else None
            response = failed_response(original, exc, hops.start_time, started, info)
        else:
            response = hops.finish(original, response)
        finally:
            self._admission.release()
        if self._closed and response.error is not None:
            retrieve_when_done()  # ended by close(): the caller may never look
        try:
            return outcome(response, raise_error, deliver_errors)
        finally:
            del response  # a raised error's traceback keeps this frame


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``python -m squall.httpclient URL ...``."""
    from squall._cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
