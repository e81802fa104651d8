"""Digest auth on both engines: the round trips around squall._digest.

For origins (``auth_mode="digest"``: 401, WWW-Authenticate, Authorization)
and for plain http forwarded to an HTTP proxy (``proxy_auth_mode="digest"``:
407, Proxy-Authenticate, Proxy-Authorization; a CONNECT is answered in
``_http1/tunnel.py`` and ``_curl/tunnel.py``). Each engine's ``fetch`` is the
hop: libcurl's own digest (which a reset handle forgets, so it would answer a
fresh challenge every time) is not used.

``DigestAuthenticator.fetch`` wraps one hop. The first request to an origin
goes without credentials; a ``401`` with a Digest challenge is answered once,
and a later ``401`` whose challenge says ``stale=true`` (the nonce expired, the
credentials were fine) once more. The session is kept per origin and credentials, so
later requests there are signed at once (the next nonce count), without a
second round trip; a ``401`` to a signed request drops it.

A ``body_producer`` cannot be replayed: the unsigned first request then asks
``Expect: 100-continue``, so a server that challenges before reading the body
gets no body, and the producer runs only for the signed request. If the
producer did run for a request that was then challenged, that ``401`` is the
response. A bytes body is simply sent again.
"""

from __future__ import annotations

import inspect
import io
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from squall._digest import DigestChallenge, DigestSession, parse_challenges
from squall._headers import HTTPHeaders
from squall._proxies import request_proxy
from squall._request import HTTPRequest
from squall._request_defaults import credentials
from squall._response import HTTPResponse
from squall._urls import bracket

__all__ = ["ORIGIN", "PROXY", "DigestAuthenticator", "digest_challenge"]

Hop = Callable[[HTTPRequest], Awaitable[HTTPResponse]]


@dataclass(frozen=True, slots=True)
class _Role:
    """Who asks: the status, the field it challenges with, the field that answers."""

    code: int
    challenge_field: str
    answer_field: str
    proxy: bool


ORIGIN = _Role(401, "WWW-Authenticate", "Authorization", proxy=False)
PROXY = _Role(407, "Proxy-Authenticate", "Proxy-Authorization", proxy=True)


class DigestAuthenticator:
    """The digest sessions of one client for one role, by origin (or proxy) and credentials.

    Args:
        role: ``ORIGIN`` or ``PROXY``.
    """

    __slots__ = ("_role", "_sessions")

    def __init__(self, role: _Role = ORIGIN) -> None:
        self._role = role
        self._sessions: dict[Hashable, DigestSession] = {}

    async def fetch(self, hop: Hop, request: HTTPRequest) -> HTTPResponse:
        """Run ``request`` through ``hop``, answering Digest challenges.

        ``hop`` gets copies of ``request`` without the digest mode and its
        credentials, carrying the Authorization (Proxy-Authorization) field instead.
        """
        role = self._role
        attempt = _Attempts(request, role)
        if role.proxy:
            proxy = request_proxy(request)
            assert proxy is not None
            name = (proxy.username or "").encode("utf-8")
            pair: tuple[bytes, bytes] | None = (name, proxy.password.encode("utf-8"))
            key: Hashable = (proxy, request.scheme)
        else:
            pair = credentials(request)
            # Per origin and credentials: a session never signs for other credentials.
            key = (request.scheme, request.host, request.port, pair)
        if pair is None:
            return await _deliver(request, await hop(attempt.plain(probe=False)))
        origin = key
        session = self._sessions.get(origin)
        if session is not None:
            response = await hop(attempt.signed(session))
        else:
            response = await hop(attempt.plain(probe=True))
        answered = stale_retried = False
        while response.code == role.code and not attempt.body_spent:
            challenge = digest_challenge(response.headers, role.challenge_field)
            if challenge is None:
                break
            if answered:
                if not challenge.stale or stale_retried:
                    break
                stale_retried = True
            answered = True
            session = DigestSession(challenge, *pair)
            self._sessions[origin] = session
            response = await hop(attempt.signed(session))
        if response.code == role.code:
            self._sessions.pop(origin, None)
        return await _deliver(request, response)


async def _deliver(request: HTTPRequest, response: HTTPResponse) -> HTTPResponse:
    """Give the final response to the request's callbacks, as a plain fetch would:
    its header lines, then its body (which the response then no longer holds)."""
    if request.header_callback is not None:
        reason = f" {response.reason}" if response.reason else ""
        request.header_callback(f"HTTP/1.1 {response.code}{reason}\r\n")
        for name, value in response.headers.get_all():
            request.header_callback(f"{name}: {value}\r\n")
        request.header_callback("\r\n")
    streaming = request.streaming_callback
    if streaming is not None and response.body:
        result = streaming(response.body)
        if inspect.isawaitable(result):
            await result
        response.buffer = io.BytesIO()
        response._body = None
    return response


class _Attempts:
    """Copies of one request for each try, and whether its body_producer ran."""

    def __init__(self, request: HTTPRequest, role: _Role) -> None:
        self.request = request
        self.role = role
        self.body_spent = False

    def plain(self, probe: bool) -> HTTPRequest:
        copy = self._copy()
        if probe and self.request.body_producer is not None:
            copy.expect_100_continue = True
        return copy

    def signed(self, session: DigestSession) -> HTTPRequest:
        copy = self._copy()
        request = self.request
        # A proxy's request-target is absolute (RFC 9112 §3.2.2), and so is the uri.
        uri = f"http://{request.netloc}{request.target}" if self.role.proxy else request.target
        copy.headers[self.role.answer_field] = session.authorization(copy.method, uri)
        return copy

    def _copy(self) -> HTTPRequest:
        request = self.request
        copy = HTTPRequest.__new__(HTTPRequest)
        copy.__dict__.update(request.__dict__)
        copy.headers = HTTPHeaders(request.headers)
        # A challenge's 401/407 is not the answer: no attempt feeds the callbacks;
        # the final response is handed to them once it is known (_deliver).
        copy.header_callback = copy.streaming_callback = None
        if self.role.proxy:
            proxy = request_proxy(request)
            assert proxy is not None
            # Without credentials (userinfo in proxy_host included): the field carries them.
            copy.proxy_host = f"{proxy.scheme}://{bracket(proxy.host)}:{proxy.port}"
            copy.proxy_auth_mode = copy.proxy_username = None
            copy.proxy_password = ""
        else:
            copy.auth_mode = None
            copy.auth_username = copy.auth_password = None
            copy.url_username = copy.url_password = None
        producer = request.body_producer
        if producer is not None:

            def once(write: Callable[[bytes], Awaitable[None]]) -> Any:
                self.body_spent = True
                return producer(write)

            copy.body_producer = once
        return copy


def digest_challenge(headers: HTTPHeaders, field: str) -> DigestChallenge | None:
    """The first Digest challenge in ``field`` this module can answer, or None."""
    for value in headers.get_list(field):
        for scheme, params in parse_challenges(value):
            if scheme == "digest":
                challenge = DigestChallenge.from_params(params)
                if challenge is not None:
                    return challenge
    return None
