"""The libcurl engine: one multi handle on the asyncio loop, one easy handle per hop.

``CurlEngine.fetch`` does each hop of ``CurlAsyncHTTPClient``'s fetches:

1. open the TLS files a request names, once per engine, off the loop (libcurl
   would read them only after connecting; the simple engine fails first);
2. turn ``hostname_mapping`` and the resolver's answer into libcurl's
   CONNECT_TO/RESOLVE;
3. take a reset easy handle from the bridge, set the request's options
   (``options.configure``) and the transfer's callbacks (``transfer.Transfer``);
4. start it on the multi handle (``multi.CurlMultiBridge``) and await the end;
5. build the HTTPResponse (``result``), and give the handle back.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from io import BytesIO
from typing import TYPE_CHECKING, Any, cast

import pycurl

from squall._arguments import ClientSettings
from squall._authenticate import ORIGIN, PROXY, DigestAuthenticator
from squall._curl.multi import CurlMultiBridge
from squall._curl.options import CONTEXT_REFUSED, configure, tls_proxy
from squall._curl.result import curl_error, time_info
from squall._curl.send_once import SendOnce
from squall._curl.transfer import Transfer
from squall._curl.tunnel import ConnectAuth, ConnectDigest, ConnectHeads, tunnels
from squall._curl.upload import Upload
from squall._engine import Engine
from squall._errors import (
    CLIENT_CLOSED,
    HTTPNameResolutionError,
    HTTPStreamClosedError,
    HTTPTimeoutError,
    RemoteProtocolError,
    timeout_option,
    translate_os_error,
)
from squall._framing import IDEMPOTENT_METHODS
from squall._logging import log_malformed
from squall._proxies import request_proxy
from squall._request import HTTPRequest
from squall._resend import may_resend
from squall._response import HTTPResponse
from squall._urls import bracket as _bracket

__all__ = ["CurlEngine"]


class CurlEngine:
    """The libcurl engine behind CurlAsyncHTTPClient.

    Args:
        loop: the client's event loop.
        settings: the client's checked arguments (resolver, hostname_mapping,
            size limits).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, settings: ClientSettings) -> None:
        self.loop = loop
        self.settings = settings
        self.bridge = CurlMultiBridge(loop)
        self._readable: set[str] = set()  # TLS files known to open (see _check_tls_files)
        self._closed = False
        # Digest auth is squall's (squall._authenticate), as on the simple engine: libcurl's
        # lives on the easy handle, and a reset handle answers a fresh challenge each time.
        self._digest = DigestAuthenticator(ORIGIN)
        self._proxy_digest = DigestAuthenticator(PROXY)
        self._connect_digest = ConnectDigest()

    def close(self) -> None:
        """Free every easy handle, connection, reader and timer; idempotent."""
        self._closed = True
        self.bridge.close()

    async def fetch(self, request: HTTPRequest, connect: ConnectAuth | None = None) -> HTTPResponse:
        """One HTTP exchange through libcurl (no redirect following; see the base).

        ``connect``: set by ``ConnectDigest``, the try of a digest-authenticated tunnel.
        """
        if self._closed:
            raise HTTPStreamClosedError(CLIENT_CLOSED)
        # A body_producer's body could not be replayed (the producer runs as the transfer
        # starts): libcurl's own digest answers those, in one transfer.
        replayable = request.body_producer is None
        if request.auth_mode == "digest" and replayable:  # called back without it
            return await self._digest.fetch(self.fetch, request)
        if request.proxy_auth_mode == "digest" and connect is None and request.proxy_host:
            proxy = request_proxy(request)
            if proxy is not None and proxy.username is not None and proxy.speaks_http:
                if not proxy.forwards(request.scheme):
                    return await self._connect_digest.fetch(self.fetch, request, proxy)
                if replayable:
                    return await self._proxy_digest.fetch(self.fetch, request)
        if (request.scheme == "https" or (request.proxy_host and tls_proxy(request))) and (
            request.ca_certs or request.client_cert or request.ssl_options is not None
        ):
            if isinstance(request.ssl_options, ssl.SSLContext):
                raise ValueError(CONTEXT_REFUSED)  # before any I/O, as every bad option
            await self._check_tls_files(request)
        settings = self.settings
        route = (
            await self._route(request)
            if settings.resolver or settings.hostname_mapping or _resolved_for_socks(request)
            else None
        )
        loop = self.loop
        bridge = self.bridge
        curl = bridge.acquire()
        producer: asyncio.Task[None] | None = None
        transfer: Transfer | None = None
        try:
            transfer, tunnel = self._prepare(curl, request, route, connect)
            start_time = time.time()
            start = time.monotonic()  # not loop.time(): uvloop caches it at 1 ms resolution
            bridge.start(curl, transfer)
            upload = transfer.upload
            if upload is not None:
                assert request.body_producer is not None
                producer = loop.create_task(_produce(request.body_producer, upload.write))
                producer.add_done_callback(upload.producer_finished)
            await transfer.wait()
            error = transfer.error
            if error is None:
                assert transfer.result is not None
                errno, message = transfer.result
                if errno:
                    refused = tunnel.refused(curl, request) if tunnel is not None else None
                    if refused is not None:  # the proxy's answer is the response
                        code, reason, headers = refused
                        if connect is not None:
                            connect.refused = True
                        return HTTPResponse(
                            request,
                            code,
                            headers=headers,
                            buffer=BytesIO(),
                            effective_url=request.url,
                            request_time=time.monotonic() - start,
                            time_info=time_info(curl),
                            reason=reason,
                            start_time=start_time,
                        )
                    error = curl_error(curl, request, errno, message)
            if error is not None:
                if self._closed:  # close() ended it
                    raise HTTPStreamClosedError(CLIENT_CLOSED) from error
                if isinstance(error, RemoteProtocolError):
                    log_malformed(f"{request.host}:{request.port}", error)
                raise error
            buffer = transfer.body.buffer
            buffer.seek(0)
            return HTTPResponse(
                request,
                transfer.code or curl.getinfo(pycurl.RESPONSE_CODE),
                headers=transfer.headers,
                buffer=buffer,
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
            # curl_easy_reset keeps a handle's cookie store, HSTS and alt-svc caches
            # and share handle: state prepare_curl_callback may have turned on, which
            # would reach later, unrelated requests. Such a handle is not reused (the
            # connections stay: they belong to the multi handle).
            reuse = request.prepare_curl_callback is None
            bridge.release(curl, reuse and not (transfer is not None and transfer.poisoned))

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
        self,
        curl: Any,
        request: HTTPRequest,
        route: tuple[int, list[str]] | None,
        connect: ConnectAuth | None = None,
    ) -> tuple[Transfer, ConnectHeads | None]:
        configure(curl, request)
        settings = self.settings
        transfer = Transfer(
            self.loop, curl, request, settings.body_limit(request), settings.max_header_size
        )
        if request.header_callback is None:
            curl.setopt(pycurl.HEADERFUNCTION, transfer.head.lines.append)  # no Python frame
        else:
            curl.setopt(pycurl.HEADERFUNCTION, transfer.on_header_line)
        curl.setopt(pycurl.WRITEFUNCTION, transfer.on_body)
        if request.body_producer is not None:
            transfer.upload = upload = Upload(transfer)
            curl.setopt(pycurl.READFUNCTION, upload.on_read)
        h2 = request.http_version == "2" or (
            request.http_version is None and request.scheme == "https"
        )
        guard = not may_resend(written=True) and not (
            # Over HTTP/2 libcurl resends only a stream the server said it never
            # processed (GOAWAY above it, REFUSED_STREAM, HTTP_1_1_REQUIRED): safe
            # for an idempotent request, which the guard would otherwise fail.
            h2 and request.method in IDEMPOTENT_METHODS and request.body_producer is None
        )
        # libcurl would send it again after a kept-alive connection closed
        # unanswered; the simple engine does not, nor does this one.
        send_once = SendOnce(transfer) if guard else None
        tunnel = None
        if request.proxy_host and tunnels(request):
            # The CONNECT responses kept apart, for a refusal to be the response.
            tunnel = ConnectHeads(transfer, send_once, connect)
            tunnel.install(curl)
            if connect is not None:
                connect.install(curl)
        elif send_once is not None:
            curl.setopt(pycurl.PREREQFUNCTION, send_once.on_prereq)
            curl.setopt(pycurl.SOCKOPTFUNCTION, send_once.on_sockopt)
        if route is not None:
            curl.setopt(*route)
        if request.prepare_curl_callback is not None:
            request.prepare_curl_callback(curl)
        return transfer, tunnel

    async def _route(self, request: HTTPRequest) -> tuple[int, list[str]] | None:
        # hostname_mapping and the resolver become libcurl's CONNECT_TO
        # ("connect there instead") and RESOLVE ("this name has these
        # addresses"); the URL, Host header and TLS name stay the request's.
        host, port = request.host, request.port
        mapping = self.settings.hostname_mapping
        # socks5/socks4 without a resolver: the system's, as the simple engine's
        # (libcurl would answer "localhost" itself, ::1 first, and ask the
        # proxy for an address the simple engine does not).
        resolver = self.settings.resolver or (_SYSTEM if _resolved_for_socks(request) else None)
        mapped = mapping.get((host, port)) or mapping.get(host)
        to_host, to_port = host, port
        if isinstance(mapped, tuple):
            to_host, to_port = mapped
        elif mapped:
            to_host = mapped
        key = f"{_bracket(host)}:{port}"
        if resolver is None:
            if (to_host, to_port) == (host, port):
                return None
            return pycurl.CONNECT_TO, [f"{key}:{_bracket(to_host)}:{to_port}"]
        family = socket.AF_UNSPEC if request.allow_ipv6 else socket.AF_INET
        # libcurl's timeouts start after this: the resolver gets the deadline
        # the simple engine gives its resolving phase.
        option, limit = timeout_option("resolve", request.connect_timeout, request.request_timeout)
        try:
            addresses = await asyncio.wait_for(
                resolver.resolve(to_host, to_port, family), limit or None
            )
        except Exception as exc:
            if resolver is _SYSTEM:
                # libcurl resolves it again after dialling the proxy, so it fails
                # in the simple engine's order: a refused proxy, then the name.
                return None
            if isinstance(exc, asyncio.TimeoutError):
                message = f"Timeout while resolving {to_host}"
                error = HTTPTimeoutError(message, phase="resolve", option=option, limit=limit)
                raise error from exc
            raise translate_os_error(exc, to_host) from exc
        ips = [_bracket(str(sockaddr[0])) for _family, sockaddr in addresses]
        if not ips:
            raise HTTPNameResolutionError(f"Could not resolve {to_host}: no addresses")
        if to_port == port:
            # "+": the entry expires like a looked-up one; a plain RESOLVE entry
            # stays in the multi handle's DNS cache for the client's lifetime.
            return pycurl.RESOLVE, [f"+{key}:{','.join(ips)}"]
        return pycurl.CONNECT_TO, [f"{key}:{ips[0]}:{to_port}"]


class _SystemResolver:
    async def resolve(self, host: str, port: int, family: int) -> list[tuple[int, Any]]:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, family=family, type=socket.SOCK_STREAM
        )
        return [(info[0], info[4]) for info in infos]


_SYSTEM = _SystemResolver()


def _resolved_for_socks(request: HTTPRequest) -> bool:
    # A name the curl engine resolves itself for a socks5:// or socks4:// proxy.
    proxy_host = request.proxy_host
    if not proxy_host or proxy_host[:6].lower() not in ("socks5", "socks4"):
        return False
    proxy = request_proxy(request)
    if proxy is None or proxy.remote_dns:
        return False
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in request.host else socket.AF_INET, request.host)
    except OSError:
        return True
    return False


def _open_and_close(path: str) -> None:
    with open(path, "rb"):
        pass


async def _produce(
    producer: Callable[[Callable[[bytes], Awaitable[None]]], Awaitable[None] | None],
    write: Callable[[bytes | str], Awaitable[None]],
) -> None:
    result = producer(write)
    if result is not None:
        await result


if TYPE_CHECKING:
    _conforms: Engine = CurlEngine(asyncio.new_event_loop(), cast("ClientSettings", None))
