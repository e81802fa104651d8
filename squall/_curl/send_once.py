"""The guard of a request that must not be sent twice: libcurl's PREREQFUNCTION
and SOCKOPTFUNCTION for one transfer.

A request that must not be sent twice (not idempotent, or a one-shot
body_producer) gets these two callbacks. libcurl sends a request again on a new
connection when a reused one closed with no byte of response (the simple engine
never does, once a byte was written: ``squall._resend``), and when it answers an authentication
challenge; only the first leaves no header line between the two sends. That one
is refused before it connects (``on_sockopt``) or, should libcurl pick another
kept-alive connection, before it sends (``on_prereq``). The refusal is the
transfer's ``error``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pycurl

from squall._errors import HTTPStreamClosedError
from squall._framing import CLOSED_WITHOUT_RESPONSE
from squall._resend import IDLE_CLOSES

if TYPE_CHECKING:
    from squall._curl.transfer import Transfer

__all__ = ["SendOnce"]

_PREREQFUNC_OK: int = pycurl.PREREQFUNC_OK
_PREREQFUNC_ABORT: int = pycurl.PREREQFUNC_ABORT
_SOCKOPT_OK: int = pycurl.SOCKOPT_OK
_SOCKOPT_ERROR: int = pycurl.SOCKOPT_ERROR


class SendOnce:
    """Refuses to send a transfer's request again (see the module docstring)."""

    __slots__ = ("_fd", "_sent_at", "_transfer")

    def __init__(self, transfer: Transfer) -> None:
        self._transfer = transfer
        # len(head.lines) when libcurl last sent the request (-1: not yet); see on_prereq.
        self._sent_at = -1
        self._fd = -1  # the socket on_sockopt saw, until on_prereq learns its address

    def on_prereq(self, primary_ip: str, local_ip: str, primary_port: int, local_port: int) -> int:
        """PREREQFUNCTION: libcurl is about to send the request on a connection."""
        if self._resending():
            return _PREREQFUNC_ABORT
        closed = False
        if self._fd >= 0:  # a new connection
            IDLE_CLOSES.new_connection(local_ip, local_port)
            self._fd = -1
        else:  # reused: libcurl skips its check if used in the last second (squall._resend)
            closed = IDLE_CLOSES.closed_before_reuse(local_ip, local_port)
        # Onto a connection whose peer had closed, the request goes unread: it may go again.
        self._sent_at = -1 if closed else len(self._transfer.head.lines)
        return _PREREQFUNC_OK

    def on_sockopt(self, fd: int, purpose: int) -> int:
        """SOCKOPTFUNCTION: libcurl opened a socket and is about to connect it."""
        if self._resending():
            return _SOCKOPT_ERROR
        self._fd = fd
        return _SOCKOPT_OK

    def _resending(self) -> bool:
        transfer = self._transfer
        if self._sent_at != len(transfer.head.lines):
            return False
        if transfer.error is None:
            transfer.error = HTTPStreamClosedError(CLOSED_WITHOUT_RESPONSE)
        return True
