"""``auth_mode="digest"`` on the simple engine: the round trips around squall._digest.

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

from collections.abc import Awaitable, Callable
from typing import Any

from squall._digest import DigestChallenge, DigestSession, parse_challenges
from squall._headers import HTTPHeaders
from squall._request import HTTPRequest
from squall._request_defaults import credentials
from squall._response import HTTPResponse

__all__ = ["DigestAuthenticator"]

Hop = Callable[[HTTPRequest], Awaitable[HTTPResponse]]


class DigestAuthenticator:
    """The digest sessions of one client, by origin (scheme, host, port) and credentials."""

    __slots__ = ("_sessions",)

    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str, int, bytes, bytes], DigestSession] = {}

    async def fetch(self, hop: Hop, request: HTTPRequest) -> HTTPResponse:
        """Run ``request`` through ``hop``, answering Digest challenges.

        ``hop`` gets copies of ``request`` without ``auth_mode`` and credentials,
        carrying the Authorization field instead.
        """
        pair = credentials(request)
        attempt = _Attempts(request)
        if pair is None:
            return await hop(attempt.plain(probe=False))
        # Per origin and credentials: a session never signs for other credentials.
        origin = (request.scheme, request.host, request.port, *pair)
        session = self._sessions.get(origin)
        if session is not None:
            response = await hop(attempt.signed(session))
        else:
            response = await hop(attempt.plain(probe=True))
        answered = stale_retried = False
        while response.code == 401 and not attempt.body_spent:
            challenge = _digest_challenge(response.headers)
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
        if response.code == 401:
            self._sessions.pop(origin, None)
        return response


class _Attempts:
    """Copies of one request for each try, and whether its body_producer ran."""

    def __init__(self, request: HTTPRequest) -> None:
        self.request = request
        self.body_spent = False

    def plain(self, probe: bool) -> HTTPRequest:
        copy = self._copy()
        if probe and self.request.body_producer is not None:
            copy.expect_100_continue = True
        return copy

    def signed(self, session: DigestSession) -> HTTPRequest:
        copy = self._copy()
        copy.headers["Authorization"] = session.authorization(copy.method, copy.target)
        return copy

    def _copy(self) -> HTTPRequest:
        request = self.request
        copy = HTTPRequest.__new__(HTTPRequest)
        copy.__dict__.update(request.__dict__)
        copy.headers = HTTPHeaders(request.headers)
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


def _digest_challenge(headers: HTTPHeaders) -> DigestChallenge | None:
    for value in headers.get_list("WWW-Authenticate"):
        for scheme, params in parse_challenges(value):
            if scheme == "digest":
                challenge = DigestChallenge.from_params(params)
                if challenge is not None:
                    return challenge
    return None
