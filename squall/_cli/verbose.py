"""-v: the request head as the engine sent it, then the response head, on stderr.

Each engine's own record is used, not a guess: the simple engine's header rule
(``request_headers``, the list it writes) and, on the curl engine, libcurl's
debug callback, which reports the head bytes it wrote. The curl engine loaded
pycurl already; its constants are read from there rather than imported, which
keeps pycurl out of everything but the curl engine's modules.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from squall.httpclient import AsyncHTTPClient, HTTPRequest

__all__ = ["curl_hook", "print_lines", "print_sent_head"]

_HEADER_OUT = 2  # libcurl's curl_infotype CURLINFO_HEADER_OUT


def print_lines(prefix: str, lines: list[str]) -> None:
    """Each line with its prefix (``>`` sent, ``<`` received, ``*`` ours)."""
    text = "".join(f"{prefix} {line.rstrip()}".rstrip() + "\n" for line in lines)
    sys.stderr.write(text)
    sys.stderr.flush()


def print_sent_head(client: AsyncHTTPClient, request: HTTPRequest) -> None:
    """The simple engine's head, from the rule it writes it with (before sending)."""
    from squall._http1.engine import request_headers

    resolved = request.resolved(client.defaults)
    fields = request_headers(resolved)
    # Written before the connection says which protocol it speaks: HTTP/2 when asked for
    # (over TLS a server without it still gets HTTP/1.1).
    version = "HTTP/2" if resolved.http_version == "2" else "HTTP/1.1"
    print_lines(">", [f"{resolved.method} {resolved.target} {version}"])
    print_lines(">", [f"{name}: {value}" for name, value in fields] + [""])


def curl_hook() -> Callable[[Any], None]:
    """A prepare_curl_callback that prints the head libcurl writes (for -v)."""

    def debug(kind: int, data: bytes) -> None:
        if kind == _HEADER_OUT:
            print_lines(">", data.decode("latin-1").split("\r\n")[:-1])

    def prepare(curl: Any) -> None:
        pycurl = sys.modules["pycurl"]
        curl.setopt(pycurl.VERBOSE, 1)
        curl.setopt(pycurl.DEBUGFUNCTION, debug)

    return prepare
