"""A body_producer's side of a transfer: libcurl's READFUNCTION and the ``write`` it is given.

libcurl pulls the body with ``on_read`` (from inside ``socket_action``); the
producer pushes it with ``write``, a coroutine. They meet through one pending
chunk: ``on_read`` returns ``READFUNC_PAUSE`` while there is none (libcurl then
stops asking), ``write`` stores one, resumes sending and waits until libcurl has
taken all of it. The pause bits are the transfer's (receiving may be paused too).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pycurl

from squall._errors import HTTPStreamClosedError

if TYPE_CHECKING:
    from squall._curl.transfer import Transfer

__all__ = ["Upload"]

_PAUSE_SEND: int = pycurl.PAUSE_SEND
_READFUNC_PAUSE: int = pycurl.READFUNC_PAUSE
_READFUNC_ABORT: int = pycurl.READFUNC_ABORT
_ENDED = "the transfer ended before the body was sent"


class Upload:
    """Feeds a body_producer's chunks to libcurl, one at a time (see the module docstring)."""

    __slots__ = ("_done", "_drained", "_out", "_pos", "_transfer")

    def __init__(self, transfer: Transfer) -> None:
        self._transfer = transfer
        self._out = b""
        self._pos = 0
        self._drained: asyncio.Future[None] | None = None
        self._done = False  # the producer returned: the next read is EOF

    def on_read(self, size: int) -> bytes | int:
        """READFUNCTION: up to ``size`` bytes of the pending chunk, b"" at the end."""
        out = self._out
        if out:
            pos = self._pos
            chunk = out[pos : pos + size]
            pos += len(chunk)
            if pos >= len(out):
                self._out, self._pos = b"", 0
                drained = self._drained
                if drained is not None and not drained.done():
                    drained.set_result(None)
            else:
                self._pos = pos
            return chunk
        if self._done:
            return b""
        transfer = self._transfer
        if transfer.error is not None:
            return _READFUNC_ABORT
        transfer.paused |= _PAUSE_SEND
        return _READFUNC_PAUSE

    async def write(self, chunk: bytes | str) -> None:
        """The ``write`` given to a body_producer: returns once libcurl took ``chunk``
        (a ``str`` is sent UTF-8 encoded, as on the simple engine)."""
        transfer = self._transfer
        if transfer.result is not None or transfer.error is not None:
            raise HTTPStreamClosedError(_ENDED)
        if not chunk:
            return
        self._out = chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
        self._pos = 0
        self._drained = drained = transfer.loop.create_future()
        if transfer.paused & _PAUSE_SEND:
            transfer.set_pause(transfer.paused & ~_PAUSE_SEND)
        await drained

    def producer_finished(self, task: asyncio.Task[Any]) -> None:
        """Done-callback of the body_producer task: EOF, or abort on its error."""
        if task.cancelled():
            return
        transfer = self._transfer
        exc = task.exception()
        if exc is not None:
            transfer.fail(exc)
            return
        self._done = True
        if transfer.result is None and transfer.paused & _PAUSE_SEND:
            transfer.set_pause(transfer.paused & ~_PAUSE_SEND)

    def transfer_ended(self) -> None:
        """The transfer is over: a ``write`` still waiting fails."""
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_exception(HTTPStreamClosedError(_ENDED))
