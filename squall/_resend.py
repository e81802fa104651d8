"""When a request may be sent again: the one resend rule both engines apply.

At most once, as far as a client can know. A kept-alive connection can be
closed by the server at any moment; what the client may then do depends on
what the server can have seen:

1. The close arrived while the connection was idle in the pool. The client
   has noticed it before reuse (the simple engine: asyncio's ``eof_received``
   or ``connection_lost`` marks the connection closed as soon as the loop reads
   the FIN or reset, for free; libcurl: its own liveness check on checkout),
   so the connection is never used and the request goes to another one.
   Nothing was sent: this is not a resend. libcurl does not check a connection
   it used less than a second ago, so the curl engine notes an idle socket that
   became readable (``IdleCloses``); a request libcurl writes onto that
   connection cannot have been read by a server that closed it (an HTTP server
   that sent its FIN answers nothing more), so libcurl's resend of it is let
   through.
2. The close came between the pool's choice and the write, so no byte of the
   request reached the connection: it is sent, once, on a new connection.
3. Any byte of the request was written: it is never sent again, whatever its
   method, and the fetch fails with ``HTTPStreamClosedError``. A server that
   read the request and closed without answering may have acted on it; RFC
   9110 section 9.2.2 allows a client to retry an idempotent request, but a GET
   whose handler has a side effect (a worker that exits once it has taken
   ``GET /?exit=0``) would then run twice. Tornado's client never reuses
   connections, so its users never see a request twice; neither do ours.

What this costs: a server that closes an idle connection at the instant the
client writes on it (the close not yet read by the loop) fails that request
instead of retrying it. The simple engine keeps idle connections for 4 s, below
the 5 s idle timeout common in servers, so that it usually closes first.
"""

from __future__ import annotations

import socket

__all__ = ["IDLE_CLOSES", "IdleCloses", "may_resend"]

_TCP_INFO: int | None = getattr(socket, "TCP_INFO", None)  # Linux


def may_resend(written: bool) -> bool:
    """Whether a request whose kept-alive connection closed without a byte of
    response may be sent again on a new connection (rule 2 above).

    Args:
        written: whether any byte of the request reached the connection. libcurl
            resends only a request it wrote (it checks a connection before
            reusing it), so the curl engine asks with ``written=True``.
    """
    return not written


class IdleCloses:
    """Local addresses of libcurl's connections whose peer closed while they were idle.

    libcurl does not check a connection it used in the last second before
    reusing it, and pycurl allows no getinfo inside a callback; but the curl
    engine's bridge sees an idle ("parked") socket become readable, for free, as
    the loop reads the close. If the kernel says the peer closed it (Linux's
    TCP_INFO; one getsockopt, only then), its local address is noted here; the
    PREREQFUNCTION names a reused connection by that address, and a request
    libcurl then writes onto it went unread, so its resend is let through. An
    entry is dropped when a new connection from the same address appears, so it
    never speaks for another connection.
    """

    def __init__(self) -> None:
        self._closed: set[tuple[str, int]] = set()

    def readable(self, fd: int) -> None:
        """The idle socket ``fd`` became readable: noted if its peer closed it (not if
        it only wrote: a response can arrive while libcurl is between two wants)."""
        if _TCP_INFO is None:
            return
        try:
            sock = socket.socket(fileno=fd)
        except OSError:
            return
        try:
            # TCP_INFO starts with the state: the peer's FIN arrived in CLOSE_WAIT,
            # LAST_ACK or CLOSE (include/net/tcp_states.h).
            if sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, 1)[0] not in (7, 8, 9):
                return
            address = sock.getsockname()
        except OSError:
            return
        finally:
            sock.detach()
        if len(self._closed) > 4096:
            self._closed.clear()  # forgetting only means no resend: the safe side
        self._closed.add((str(address[0]), int(address[1])))

    def new_connection(self, local_ip: str, local_port: int) -> None:
        """libcurl is about to send on a connection it has just opened from there."""
        self._closed.discard((local_ip, local_port))

    def closed_before_reuse(self, local_ip: str, local_port: int) -> bool:
        """Whether the idle connection from there that libcurl is about to reuse was
        closed by its peer (then what is written on it goes unread)."""
        key = (local_ip, local_port)
        if key in self._closed:
            self._closed.discard(key)
            return True
        return False


#: Process-wide, as local addresses are.
IDLE_CLOSES = IdleCloses()
