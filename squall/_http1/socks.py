"""SOCKS4, SOCKS4a and SOCKS5 handshakes on a connected socket (socksio framing).

socksio builds and parses the messages (sans-I/O); this module only moves
them over the socket, with ``loop.sock_sendall`` and ``loop.sock_recv``, before
the socket is handed to asyncio as a transport. The handshake is a few small
messages each way, read exactly to their length, so nothing of the tunnelled
stream is consumed here.
"""

from __future__ import annotations

import asyncio
import socket

from socksio import ProtocolError, SOCKSError
from socksio.socks4 import (
    SOCKS4ARequest,
    SOCKS4Command,
    SOCKS4Connection,
    SOCKS4ReplyCode,
    SOCKS4Request,
)
from socksio.socks5 import (
    SOCKS5AuthMethod,
    SOCKS5AuthMethodsRequest,
    SOCKS5AuthReply,
    SOCKS5Command,
    SOCKS5CommandRequest,
    SOCKS5Connection,
    SOCKS5ReplyCode,
    SOCKS5UsernamePasswordReply,
    SOCKS5UsernamePasswordRequest,
)

from squall._errors import (
    HTTPConnectionError,
    HTTPConnectionRefusedError,
    HTTPStreamClosedError,
    RemoteProtocolError,
)
from squall._proxies import SOCKS_WORDS, Proxy
from squall._urls import bracket

__all__ = ["socks_handshake"]

# SOCKS4 without a user name sends an empty user id, as curl and most clients do
# (socksio takes an empty one only on the request itself).
_ANONYMOUS = b""
# The SOCKS5 reply's address length by address type (a name has a length byte first).
_ADDRESS_LENGTHS = {1: 4, 4: 16}


async def socks_handshake(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, proxy: Proxy, host: str, port: int
) -> None:
    """Ask the SOCKS ``proxy`` (connected on ``sock``) for a tunnel to ``host:port``.

    ``host`` is a name for socks5h/socks4a (the proxy resolves it), else an IP.

    Raises:
        HTTPConnectionRefusedError: the proxy says the origin refused.
        HTTPConnectionError: the proxy refused the credentials or the request.
        RemoteProtocolError: the proxy broke SOCKS.
        HTTPStreamClosedError: the proxy closed during the handshake.
    """
    where = proxy.where
    try:
        if proxy.scheme.startswith("socks5"):
            await _socks5(loop, sock, proxy, host, port)
        else:
            await _socks4(loop, sock, proxy, host, port)
    except ProtocolError as exc:
        text = SOCKS_WORDS["malformed"].format(where=where, reason=exc)
        raise RemoteProtocolError(text) from exc
    except SOCKSError as exc:  # what the request cannot say in SOCKS (an IPv6 origin in SOCKS4)
        text = SOCKS_WORDS["cannot ask"].format(where=where, target=_target(host, port), reason=exc)
        raise HTTPConnectionError(text) from exc


def _target(host: str, port: int) -> str:
    return f"{bracket(host)}:{port}"


def _failed(proxy: Proxy, host: str, port: int, name: str) -> HTTPConnectionError:
    reason = name.lower().replace("_", " ")
    target, version = _target(host, port), proxy.socks_version
    text = SOCKS_WORDS["failed"].format(
        where=proxy.where, target=target, version=version, reason=reason
    )
    return HTTPConnectionError(text)


async def _socks5(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, proxy: Proxy, host: str, port: int
) -> None:
    where = proxy.where
    conn = SOCKS5Connection()
    methods = [SOCKS5AuthMethod.NO_AUTH_REQUIRED]
    if proxy.username is not None:
        methods.append(SOCKS5AuthMethod.USERNAME_PASSWORD)
    conn.send(SOCKS5AuthMethodsRequest(methods))
    await loop.sock_sendall(sock, conn.data_to_send())
    auth = conn.receive_data(await _recv_exactly(loop, sock, 2, where))
    assert isinstance(auth, SOCKS5AuthReply)
    if auth.method == SOCKS5AuthMethod.USERNAME_PASSWORD and proxy.username is not None:
        username, password = proxy.username.encode("utf-8"), proxy.password.encode("utf-8")
        if len(username) > 255 or len(password) > 255:  # RFC 1929: a length byte each
            raise HTTPConnectionError(SOCKS_WORDS["long credentials"].format(where=where))
        conn.send(SOCKS5UsernamePasswordRequest(username, password))
        await loop.sock_sendall(sock, conn.data_to_send())
        verdict = conn.receive_data(await _recv_exactly(loop, sock, 2, where))
        assert isinstance(verdict, SOCKS5UsernamePasswordReply)
        if not verdict.success:
            raise HTTPConnectionError(SOCKS_WORDS["credentials refused"].format(where=where))
    elif auth.method != SOCKS5AuthMethod.NO_AUTH_REQUIRED:
        raise HTTPConnectionError(SOCKS_WORDS["no method"].format(where=where))
    conn.send(SOCKS5CommandRequest.from_address(SOCKS5Command.CONNECT, (host, port)))
    await loop.sock_sendall(sock, conn.data_to_send())
    head = await _recv_exactly(loop, sock, 5, where)
    if head[3] in _ADDRESS_LENGTHS:
        rest = _ADDRESS_LENGTHS[head[3]] - 1 + 2
    elif head[3] == 3:
        rest = head[4] + 2
    else:
        reason = f"SOCKS5 address type {head[3]}"
        raise RemoteProtocolError(SOCKS_WORDS["malformed"].format(where=where, reason=reason))
    reply = conn.receive_data(head + await _recv_exactly(loop, sock, rest, where))
    code = getattr(reply, "reply_code", None)
    if code == SOCKS5ReplyCode.SUCCEEDED:
        return
    if code == SOCKS5ReplyCode.CONNECTION_REFUSED:
        text = SOCKS_WORDS["origin refused"].format(target=_target(host, port), where=where)
        raise HTTPConnectionRefusedError(text)
    raise _failed(proxy, host, port, code.name if code is not None else "unknown")


async def _socks4(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, proxy: Proxy, host: str, port: int
) -> None:
    where = proxy.where
    user_id = proxy.username.encode("utf-8") if proxy.username else _ANONYMOUS
    conn = SOCKS4Connection(user_id)
    try:
        socket.inet_aton(host)
        is_ip = True
    except OSError:
        is_ip = False
    if is_ip or proxy.scheme == "socks4":
        conn.send(SOCKS4Request.from_address(SOCKS4Command.CONNECT, (host, port), user_id))
    else:
        conn.send(SOCKS4ARequest.from_address(SOCKS4Command.CONNECT, (host, port), user_id))
    await loop.sock_sendall(sock, conn.data_to_send())
    reply = conn.receive_data(await _recv_exactly(loop, sock, 8, where))
    if reply.reply_code != SOCKS4ReplyCode.REQUEST_GRANTED:
        raise _failed(proxy, host, port, reply.reply_code.name)


async def _recv_exactly(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, size: int, where: str
) -> bytes:
    data = b""
    while len(data) < size:
        chunk = await loop.sock_recv(sock, size - len(data))
        if not chunk:
            raise HTTPStreamClosedError(SOCKS_WORDS["closed"].format(where=where))
        data += chunk
    return data
