"""The curl engine's CONNECT tunnels: the proxy's refusal as the response, as on the simple engine.

libcurl reports a CONNECT answered with a non-2xx status as a connect failure
(``CURLE_COULDNT_CONNECT``, "CONNECT tunnel failed, response 407"), and the
proxy's response is gone. So for a request through a tunnel, the CONNECT
responses' header lines are kept apart (``ConnectHeads``): libcurl hands them
to HEADERFUNCTION (SUPPRESS_CONNECT_HEADERS off) between opening a socket
(SOCKOPTFUNCTION) and sending the request on the open tunnel
(PREREQFUNCTION); everything after that is the origin's and goes where it
would without a tunnel. A refused CONNECT then becomes the proxy's response
(``refused_response``): its status, reason and headers. libcurl reads and
drops the body of a CONNECT response, so it is empty here.

With ``proxy_auth_mode="digest"``, squall answers the proxy's challenges itself
(``ConnectDigest``, with ``squall._digest`` as the simple engine does): the
refusal is how it sees them, and the session it keeps signs later tunnels at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pycurl

from squall._authenticate import digest_challenge
from squall._curl.head import HeadReader
from squall._digest import DigestChallenge, DigestSession
from squall._headers import HTTPHeaders
from squall._proxies import Proxy
from squall._response import HTTPResponse
from squall._urls import bracket

if TYPE_CHECKING:
    from squall._curl.send_once import SendOnce
    from squall._curl.transfer import Transfer
    from squall._request import HTTPRequest

__all__ = [
    "SUPPRESS_CONNECT_HEADERS",
    "ConnectAuth",
    "ConnectDigest",
    "ConnectHeads",
    "tunnels",
]

PROXY_FIELD = "Proxy-Authenticate"

# CURLOPT_SUPPRESS_CONNECT_HEADERS (libcurl 7.54); pycurl 7.49 has no name for it.
SUPPRESS_CONNECT_HEADERS = 265

_HTTP_PROXIES = ("", "http", "https")

#: A refused CONNECT: the proxy's status, reason and headers.
Refusal = tuple[int, str | None, HTTPHeaders]


def tunnels(request: HTTPRequest) -> bool:
    """Whether libcurl sends ``request`` through a CONNECT tunnel: an https URL
    through an HTTP(S) proxy (plain http is forwarded; SOCKS has no CONNECT)."""
    proxy = request.proxy_host
    if not proxy or request.scheme != "https":
        return False
    scheme, sep, _ = proxy.partition("://")
    return (scheme.lower() if sep else "") in _HTTP_PROXIES


class ConnectHeads:
    """HEADERFUNCTION, SOCKOPTFUNCTION and PREREQFUNCTION of a tunnelled transfer.

    Args:
        transfer: the transfer that gets the origin's header lines.
        guard: the transfer's own socket and send callbacks apply (a request
            that must not be sent twice, see ``Transfer.on_prereq``).
        connect: the digest try this transfer is, which learns the lines of
            the CONNECT responses that opened the tunnel.
    """

    __slots__ = ("_connect", "_header", "_prereq", "_sockopt", "lines")

    def __init__(
        self, transfer: Transfer, guard: SendOnce | None, connect: ConnectAuth | None = None
    ) -> None:
        self._connect = connect
        #: The CONNECT response lines since the last new connection; None once
        #: the request went into the tunnel.
        self.lines: list[bytes] | None = []
        self._header: Callable[[bytes], int | None] = (
            transfer.head.lines.append
            if transfer.request.header_callback is None
            else transfer.on_header_line
        )
        self._prereq = None if guard is None else guard.on_prereq
        self._sockopt = None if guard is None else guard.on_sockopt

    def install(self, curl: Any) -> None:
        """Set the three callbacks on ``curl`` and let the CONNECT lines through."""
        curl.setopt(SUPPRESS_CONNECT_HEADERS, 0)
        curl.setopt(pycurl.HEADERFUNCTION, self.on_header)
        curl.setopt(pycurl.SOCKOPTFUNCTION, self.on_sockopt)
        curl.setopt(pycurl.PREREQFUNCTION, self.on_prereq)

    def on_header(self, line: bytes) -> int | None:
        lines = self.lines
        if lines is None:
            return self._header(line)
        lines.append(line)
        return None

    def on_sockopt(self, fd: int, purpose: int) -> int:
        # A new connection to the proxy: a new CONNECT comes first (libcurl may
        # open one after a 407 that closed the connection, or to answer an
        # origin's challenge).
        self.lines = []
        sockopt = self._sockopt
        return pycurl.SOCKOPT_OK if sockopt is None else sockopt(fd, purpose)

    def on_prereq(self, primary_ip: str, local_ip: str, primary_port: int, local_port: int) -> int:
        if self._connect is not None and self.lines is not None:
            self._connect.opened = self.lines
        self.lines = None  # the tunnel is open: what comes now is the origin's
        prereq = self._prereq
        if prereq is None:
            return int(pycurl.PREREQFUNC_OK)
        return prereq(primary_ip, local_ip, primary_port, local_port)

    def refused(self, curl: Any, request: HTTPRequest) -> Refusal | None:
        """The proxy's last CONNECT response, when it refused the tunnel; else None.

        Raises:
            RemoteProtocolError: the proxy's response head was malformed.
        """
        lines = self.lines
        code = curl.getinfo(pycurl.HTTP_CONNECTCODE)
        if not lines or not code or 200 <= code < 300:
            return None
        # Checked as the origin's heads are; no body is read, so no limit applies.
        reader = HeadReader(request, sum(map(len, lines)), 2**63 - 1)
        reader.lines = lines
        head = reader.read()
        if head is None or head.code != code:
            return None
        return head.code, head.reason, head.headers


class ConnectAuth:
    """One try of a digest-authenticated tunnel.

    ``authorization``: the Proxy-Authorization squall signed for the CONNECT, or
    None to let libcurl answer the proxy's challenge itself. Learned from the
    try: ``refused`` (the proxy refused the tunnel) and ``opened`` (the CONNECT
    response lines of the tunnel that opened).
    """

    __slots__ = ("authorization", "opened", "refused")

    def __init__(self, authorization: str | None) -> None:
        self.authorization = authorization
        self.refused = False
        self.opened: list[bytes] | None = None

    def install(self, curl: Any) -> None:
        """With a signed CONNECT, libcurl adds no answer of its own (CURLAUTH_NONE);
        the credentials stay set, as libcurl keeps tunnels apart by them."""
        if self.authorization is not None:
            curl.setopt(pycurl.PROXYAUTH, 0)
            curl.setopt(pycurl.HEADEROPT, pycurl.HEADER_SEPARATE)  # to the proxy only
            curl.setopt(pycurl.PROXYHEADER, [f"Proxy-Authorization: {self.authorization}"])

    def challenge(self) -> DigestChallenge | None:
        """The last Digest challenge libcurl answered before the tunnel opened."""
        for line in reversed(self.opened or ()):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "proxy-authenticate":
                headers = HTTPHeaders()
                headers.add(PROXY_FIELD, value.strip())
                challenge = digest_challenge(headers, PROXY_FIELD)
                if challenge is not None:
                    return challenge
        return None


Hop = Callable[..., Awaitable[HTTPResponse]]


class ConnectDigest:
    """The digest sessions of one client's CONNECT tunnels, per proxy and credentials.

    The first tunnel is libcurl's own: it answers the proxy's challenge on the
    same connection, and the challenge it answered becomes the session (its
    nonce count 1 spent). A known session signs later CONNECTs at once, with the
    next nonce count. A 407 to a signed CONNECT drops the session, and the tunnel
    is tried once more the first way; a 407 then is the response. A request with
    a ``body_producer`` always goes the first way, in one transfer.
    """

    __slots__ = ("_sessions",)

    def __init__(self) -> None:
        self._sessions: dict[Proxy, DigestSession] = {}

    async def fetch(self, hop: Hop, request: HTTPRequest, proxy: Proxy) -> HTTPResponse:
        """``hop(request, connect=ConnectAuth(...))`` once or twice; the last response."""
        assert proxy.username is not None
        # A body_producer runs as its transfer starts: never a second transfer for it.
        session = self._sessions.get(proxy) if request.body_producer is None else None
        if session is not None:
            authority = f"{bracket(request.host)}:{request.port}"
            connect = ConnectAuth(session.authorization("CONNECT", authority))
            response = await hop(request, connect=connect)
            if not (connect.refused and response.code == 407):
                return response
            del self._sessions[proxy]
        connect = ConnectAuth(None)
        response = await hop(request, connect=connect)
        challenge = connect.challenge()
        if challenge is not None and not connect.refused:
            pair = (proxy.username.encode("utf-8"), proxy.password.encode("utf-8"))
            session = self._sessions[proxy] = DigestSession(challenge, *pair)
            session.count = 1  # libcurl's answer used nonce count 1
        return response
