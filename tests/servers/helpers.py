"""Small helpers shared by the engine tests."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import socket
import zlib
from typing import Any

# Credentials the http_proxy fixture (proxy.py) demands.
PROXY_USER, PROXY_PASSWORD = "proxyuser", "proxypass"


def compress(coding: str, data: bytes, level: int | None = None) -> bytes:
    """``data`` in a content coding ("raw-deflate": deflate without the zlib
    wrapper, as some servers send it), at the coder's default level or ``level``."""
    if coding == "gzip":
        return gzip.compress(data, compresslevel=9 if level is None else level)
    if coding == "deflate":
        return zlib.compress(data, -1 if level is None else level)
    if coding == "raw-deflate":
        obj = zlib.compressobj(-1 if level is None else level, wbits=-zlib.MAX_WBITS)
        return obj.compress(data) + obj.flush()
    if coding == "br":
        import brotli

        return bytes(brotli.compress(data, quality=11 if level is None else level))
    if coding == "zstd":
        import zstandard

        return bytes(zstandard.ZstdCompressor(level=3 if level is None else level).compress(data))
    raise ValueError(f"unknown coding {coding!r}")


def echoed(response: Any) -> dict[str, Any]:
    """The JSON an /echo (or /conn) route sent back."""
    data: dict[str, Any] = json.loads(response.body)
    return data


def echoed_headers(data: dict[str, Any], name: str) -> list[str]:
    """Every value the server received for request header ``name`` (case-insensitive)."""
    return [value for key, value in data["headers"] if key.lower() == name.lower()]


def client_port(response: Any) -> int:
    """The client-side port of the connection that carried an /echo request."""
    return int(echoed(response)["client"][1])


def sockets_connected_to(port: int) -> int:
    """How many of this process's file descriptors are TCP sockets whose peer is ``port``.

    Server-side sockets (whose local port is ``port``) are not counted, so this
    sees only the client's connections even when the server runs in-process.
    """
    count = 0
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                continue
            sock = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue  # the fd was closed meanwhile (e.g. listdir's own fd)
        with contextlib.closing(sock):
            try:
                peer = sock.getpeername()
            except OSError:
                continue  # not connected, or not an inet socket
            if isinstance(peer, tuple) and len(peer) >= 2 and peer[1] == port:
                count += 1
    return count


# An address a FixedResolver answers: (family, host) on the port asked for, or
# (family, (host, port)) on another port.
Address = tuple[int, str | tuple[str, int]]


class FixedResolver:
    """The one resolver double (the ``resolver`` option): it answers every name with
    the given addresses, in order, leaving out those of another family than the one
    asked for, and records each call in ``calls`` as (host, port, family).

    ``addresses`` may be changed between fetches.
    """

    def __init__(self, *addresses: Address) -> None:
        self.addresses = addresses
        self.calls: list[tuple[str, int, int]] = []

    async def resolve(
        self, host: str, port: int, family: int = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        self.calls.append((host, port, family))
        answers: list[tuple[int, Any]] = []
        for fam, where in self.addresses:
            addr, addr_port = (where, port) if isinstance(where, str) else where
            if family in (socket.AF_UNSPEC, fam):
                six = fam == socket.AF_INET6
                answers.append((fam, (addr, addr_port, 0, 0) if six else (addr, addr_port)))
        return answers
