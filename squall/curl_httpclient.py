"""The libcurl engine: ``CurlAsyncHTTPClient``, driven by pycurl on the asyncio loop.

Pick it when you want libcurl's protocol coverage (HTTP/2 multiplexing,
HTTP/3, SOCKS and HTTPS proxies, digest auth) or its speed on many small
requests::

    from squall.httpclient import AsyncHTTPClient
    AsyncHTTPClient.configure("squall.curl_httpclient.CurlAsyncHTTPClient")

All fetches of one client share a single libcurl multi handle, so they share
its connection cache (keep-alive, HTTP/2 streams on one connection) and DNS
cache. The handle runs on the program's own event loop (asyncio or uvloop):
no thread, no polling (see ``squall/_curl/multi.py``).

Proxies: ``proxy_host`` is a host name for an HTTP proxy (https URLs go
through ``CONNECT``), or a URL-style ``scheme://host`` to choose the kind:
``socks5h://`` (the proxy resolves names), ``socks5://``, ``socks4a://``,
``socks4://``, or ``https://`` (TLS to the proxy).

Requires pycurl: ``pip install 'squall[curl]'``.
"""

from __future__ import annotations

try:
    import pycurl
except ImportError as _exc:  # pragma: no cover - exercised without pycurl only
    raise ImportError(
        "squall.curl_httpclient needs pycurl (libcurl's Python binding): pip install 'squall[curl]'"
    ) from _exc

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

from squall._curl.multi import CurlMultiBridge
from squall._curl.options import configure
from squall._curl.result import curl_error, time_info
from squall._curl.transfer import Transfer
from squall._errors import CurlError, HTTPNameResolutionError, translate_os_error
from squall._framing import IDEMPOTENT_METHODS
from squall._request import HTTPRequest
from squall._response import HTTPResponse
from squall.httpclient import AsyncHTTPClient

__all__ = ["CurlAsyncHTTPClient", "CurlError"]


class CurlAsyncHTTPClient(AsyncHTTPClient):
    """An AsyncHTTPClient whose HTTP work is done by libcurl.

    Takes the same constructor arguments as ``AsyncHTTPClient``. Every
    HTTPRequest option is supported; ``ssl_options`` is translated to libcurl
    options where it can be (see ``squall._curl.options.ssl_options_to_curl``)
    and refused with ValueError where it cannot.
    """

    # initialize() takes exactly the base's arguments (configure() checks them with this).
    _ARGUMENT_CHECKS: ClassVar[Mapping[str, Callable[[Any], object]]] = (
        AsyncHTTPClient._ARGUMENT_CHECKS
    )

    def initialize(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Set up the client and its libcurl multi handle (see AsyncHTTPClient)."""
        super().initialize(**kwargs)
        self._bridge = CurlMultiBridge(self.loop)
        self._readable: set[str] = set()  # TLS files known to open (see _check_tls_files)

    def close(self) -> None:
        """Free every easy handle, connection, reader and timer; idempotent."""
        super().close()
        self._bridge.close()

    async def fetch_once(self, request: HTTPRequest) -> HTTPResponse:
        """One HTTP exchange through libcurl (no redirect following; see the base)."""
        if request.scheme == "https" and (
            request.ca_certs or request.client_cert or isinstance(request.ssl_options, dict)
        ):
            await self._check_tls_files(request)
        route = await self._route(request) if self.resolver or self.hostname_mapping else None
        loop = self.loop
        bridge = self._bridge
        curl = bridge.acquire()
        producer: asyncio.Task[None] | None = None
        transfer: Transfer | None = None
        try:
            transfer = self._prepare(curl, request, route)
            start_time = time.time()
            start = time.monotonic()  # not loop.time(): uvloop caches it at 1 ms resolution
            bridge.start(curl, transfer)
            if request.body_producer is not None:
                producer = loop.create_task(_produce(request.body_producer, transfer.write))
                producer.add_done_callback(transfer.producer_finished)
            await transfer.wait()
            if transfer.error is not None:
                raise transfer.error
            assert transfer.result is not None
            errno, message = transfer.result
            if errno:
                raise curl_error(curl, request, errno, message)
            transfer.buffer.seek(0)
            return HTTPResponse(
                request,
                transfer.code or curl.getinfo(pycurl.RESPONSE_CODE),
                headers=transfer.headers,
                buffer=transfer.buffer,
                effective_url=request.url,
                request_time=time.monotonic() - start,
                time_info=time_info(curl),
                reason=transfer.reason,
                start_time=start_time,
            )
        finally:
            if producer is not None and not producer.done():
                producer.cancel()
            if transfer is not None:
                transfer.discard()
            bridge.release(curl)

    async def _check_tls_files(self, request: HTTPRequest) -> None:
        # libcurl reads these files only once it has connected; the simple engine's
        # ssl module reads them first. So that a bad path fails the same way on both,
        # before any I/O, each is opened once per client, off the loop.
        options = request.ssl_options if isinstance(request.ssl_options, dict) else {}
        files = [
            ("ca_certs", request.ca_certs),
            ("client_cert", request.client_cert),
            ("client_key", request.client_key),
            *(
                (f"ssl_options {key}", options.get(key))
                for key in ("ca_certs", "certfile", "keyfile")
            ),
        ]
        for option, path in files:
            if path and path not in self._readable:
                try:
                    await self.loop.run_in_executor(None, _open_and_close, path)
                except OSError as exc:
                    raise ValueError(f"{option}: cannot load {path!r}: {exc}") from exc
                self._readable.add(path)

    def _prepare(
        self, curl: Any, request: HTTPRequest, route: tuple[int, list[str]] | None
    ) -> Transfer:
        configure(curl, request)
        if request.streaming_callback is None:
            body_limit = min(self.max_buffer_size, self.max_body_size)
        else:
            body_limit = self.max_body_size
        transfer = Transfer(self.loop, curl, request, body_limit, self.max_header_size)
        curl.setopt(pycurl.HEADERFUNCTION, transfer.header_lines.append)
        curl.setopt(pycurl.WRITEFUNCTION, transfer.on_body)
        if request.body_producer is not None:
            curl.setopt(pycurl.READFUNCTION, transfer.on_read)
        if request.body_producer is not None or request.method not in IDEMPOTENT_METHODS:
            # libcurl would send it again after a kept-alive connection closed
            # unanswered; the simple engine does not, nor does this one.
            curl.setopt(pycurl.PREREQFUNCTION, transfer.on_prereq)
            curl.setopt(pycurl.SOCKOPTFUNCTION, transfer.on_sockopt)
        if route is not None:
            curl.setopt(*route)
        if request.prepare_curl_callback is not None:
            request.prepare_curl_callback(curl)
        return transfer

    async def _route(self, request: HTTPRequest) -> tuple[int, list[str]] | None:
        # hostname_mapping and the resolver become libcurl's CONNECT_TO
        # ("connect there instead") and RESOLVE ("this name has these
        # addresses"); the URL, Host header and TLS name stay the request's.
        host, port = request.host, request.port
        mapped = self.hostname_mapping.get((host, port)) or self.hostname_mapping.get(host)
        to_host, to_port = host, port
        if isinstance(mapped, tuple):
            to_host, to_port = mapped
        elif mapped:
            to_host = mapped
        key = f"{_bracket(host)}:{port}"
        if self.resolver is None:
            if (to_host, to_port) == (host, port):
                return None
            return pycurl.CONNECT_TO, [f"{key}:{_bracket(to_host)}:{to_port}"]
        family = socket.AF_UNSPEC if request.allow_ipv6 else socket.AF_INET
        try:
            addresses = await self.resolver.resolve(to_host, to_port, family)
        except Exception as exc:
            raise translate_os_error(exc, to_host) from exc
        ips = [_bracket(str(sockaddr[0])) for _family, sockaddr in addresses]
        if not ips:
            raise HTTPNameResolutionError(f"Could not resolve {to_host}: no addresses")
        if to_port == port:
            # "+": the entry expires like a looked-up one; a plain RESOLVE entry
            # stays in the multi handle's DNS cache for the client's lifetime.
            return pycurl.RESOLVE, [f"+{key}:{','.join(ips)}"]
        return pycurl.CONNECT_TO, [f"{key}:{ips[0]}:{to_port}"]


def _open_and_close(path: str) -> None:
    with open(path, "rb"):
        pass


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def _produce(
    producer: Callable[[Callable[[bytes], Awaitable[None]]], Awaitable[None] | None],
    write: Callable[[bytes], Awaitable[None]],
) -> None:
    result = producer(write)
    if result is not None:
        await result


if __name__ == "__main__":
    from squall._cli import main

    raise SystemExit(main(engine="curl"))
