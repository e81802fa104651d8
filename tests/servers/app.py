"""A real HTTP server for the engine tests: hypercorn serving ``routes.App``.

One ``AppServer`` listens on four sockets on 127.0.0.1, all served by the same
app on one background thread with its own asyncio loop:

- ``http_url``:   cleartext HTTP/1.1 (and HTTP/2 with prior knowledge, h2c),
- ``other_url``:  a second cleartext port: another origin, for cross-origin redirects,
- ``https_url``:  TLS with ALPN offering h2 and http/1.1,
- ``h3_url``:     HTTP/3 (QUIC over UDP, same certificate); nothing listens on
                  TCP at that port, so a request that gets an answer there went
                  over QUIC.

Why hypercorn: it is a maintained, spec-following server that gives HTTP/1.1
(h11), HTTP/2 over TLS and h2c from one ASGI app, so the engines are tested
against someone else's implementation of HTTP rather than against our own.

The listening sockets are bound and listening before the thread starts (their
fds are handed to hypercorn as ``fd://N``), so the URLs are usable at once and
there is no startup race.

The QUIC socket is served by a second hypercorn ``serve()`` on the same loop
with its own config: hypercorn adds an ``alt-svc`` header to every response of
a config that has a QUIC socket, and the TCP responses should stay as they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config

from tests.servers.routes import App
from tests.servers.tls import Certs

STOP_TIMEOUT = 5.0


def listening_socket(host: str = "127.0.0.1") -> socket.socket:
    """A TCP socket bound to an ephemeral port on ``host``, already listening."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    return sock


class AppServer:
    """hypercorn on a daemon thread; ``start()`` then ``stop()`` (or use as a context manager).

    Args:
        certs: the test certificates (the TLS socket uses the server certificate).
        require_client_cert: demand a client certificate signed by the test CA
            (mutual TLS) on the TLS socket; such a server has no QUIC socket
            (``h3_port`` stays 0).
    """

    def __init__(self, certs: Certs, require_client_cert: bool = False) -> None:
        self.app = App()
        self.certs = certs
        self.require_client_cert = require_client_cert
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self.http_port = self.other_port = self.https_port = self.h3_port = 0

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def other_url(self) -> str:
        return f"http://127.0.0.1:{self.other_port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def h3_url(self) -> str:
        return f"https://127.0.0.1:{self.h3_port}"

    def _config(self, fds: list[int]) -> Config:
        """The config for the TCP sockets ``fds`` (http, other, https)."""
        config = self._base_config()
        config.bind = [f"fd://{fds[2]}"]
        config.insecure_bind = [f"fd://{fds[0]}", f"fd://{fds[1]}"]
        return config

    def _quic_config(self, fd: int) -> Config:
        """The config for the UDP socket ``fd`` alone (HTTP/3)."""
        config = self._base_config()
        config.bind = []
        config.quic_bind = [f"fd://{fd}"]
        return config

    def _base_config(self) -> Config:
        config = Config()
        config.certfile = self.certs.server_cert
        config.keyfile = self.certs.server_key
        config.graceful_timeout = 0.5
        config.keep_alive_timeout = 30
        config.accesslog = None
        config.errorlog = None
        config.h11_max_incomplete_size = 1024 * 1024
        if self.require_client_cert:
            config.ca_certs = self.certs.ca
            config.verify_mode = ssl.CERT_REQUIRED
        return config

    def start(self) -> AppServer:
        socks = [listening_socket() for _ in range(3)]
        self.http_port, self.other_port, self.https_port = (s.getsockname()[1] for s in socks)
        configs = [self._config([s.detach() for s in socks])]
        if not self.require_client_cert:
            # hypercorn's QUIC server never asks for a client certificate, so an
            # mTLS server gets no QUIC socket rather than one that lets anyone in.
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind(("127.0.0.1", 0))
            self.h3_port = udp.getsockname()[1]
            configs.append(self._quic_config(udp.detach()))
        self._thread = threading.Thread(
            target=self._run, args=(configs,), name="app-server", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(STOP_TIMEOUT):
            raise RuntimeError("hypercorn did not start")
        return self

    def _run(self, configs: list[Config]) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            await asyncio.gather(
                *(
                    serve(self.app, config, shutdown_trigger=self._stop.wait)  # type: ignore[arg-type]
                    for config in configs
                )
            )

        asyncio.run(main())

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            # The loop may already be gone if hypercorn crashed; nothing to stop then.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
