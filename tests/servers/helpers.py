"""Small helpers shared by the engine tests."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from typing import Any

# Credentials the http_proxy fixture (proxy.py) demands.
PROXY_USER, PROXY_PASSWORD = "proxyuser", "proxypass"


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
