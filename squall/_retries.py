"""The opt-in retry policy: ``retries=`` on a request, or in the client's defaults.

``Retry`` is an immutable value (urllib3's idea): how many retries, which
statuses, which methods, how long to wait. A fetch with a policy runs each
attempt as its own hop, so each attempt has the whole ``request_timeout``
(and ``connect_timeout``) to itself; the waits between attempts are not
counted against them. ``time_info["retries"]`` tells how many were made (on a
failure's 599 response too).

What is retried:
- a failure to connect (refused, name not resolved, a timeout while resolving
  or connecting): nothing was sent, so it is safe for every method;
- a status in ``statuses`` (429, 502, 503, 504 by default), and any other
  failure without a response (reset, closed, a timeout mid-request), for the
  methods in ``methods`` only (the idempotent ones, RFC 9110 §9.2.2, unless
  told otherwise), and never for a one-shot ``body_producer``.

Waits: ``backoff * 2**n`` seconds before retry n+1 (n from 0), capped by
``max_backoff``, with full jitter (a random fraction of it) so that many
clients do not retry in step; a ``Retry-After`` header (seconds or an
HTTP-date) is honoured when ``respect_retry_after`` is set and it is at most
``max_retry_after`` seconds (a longer one ends the retries: the response is
returned). The one transparent retry of a request on a pooled connection the
server had closed is the engine's and not counted here.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from squall._errors import (
    HTTPClientError,
    HTTPConnectionRefusedError,
    HTTPNameResolutionError,
    HTTPTimeoutError,
)
from squall._framing import IDEMPOTENT_METHODS

if TYPE_CHECKING:
    from squall._headers import HTTPHeaders
    from squall._request import HTTPRequest

__all__ = ["Retry", "checked_retries"]


@dataclass(frozen=True, slots=True)
class Retry:
    """An immutable retry policy (see the module docstring for the rules).

    Attributes:
        total: retries after the first attempt (3: at most 4 attempts).
        backoff: base seconds of the exponential wait.
        max_backoff: the longest wait computed from ``backoff``.
        statuses: response codes that are retried.
        methods: the methods retried after a status or a failure mid-request
            (connect failures are retried for every method); None means all.
        respect_retry_after: honour a Retry-After header.
        max_retry_after: the longest Retry-After honoured, in seconds.
    """

    total: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0
    statuses: frozenset[int] = field(default=frozenset({429, 502, 503, 504}))
    methods: frozenset[str] | None = IDEMPOTENT_METHODS
    respect_retry_after: bool = True
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if not isinstance(self.total, int) or isinstance(self.total, bool) or self.total < 0:
            raise ValueError(f"Retry.total must be an int >= 0, got {self.total!r}")
        for name in ("backoff", "max_backoff", "max_retry_after"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Retry.{name} must be seconds >= 0, got {value!r}")
        object.__setattr__(self, "statuses", frozenset(self.statuses))
        if self.methods is not None:
            object.__setattr__(self, "methods", frozenset(m.upper() for m in self.methods))

    def _method_ok(self, request: HTTPRequest) -> bool:
        if request.body_producer is not None:
            return False  # its body cannot be sent again
        return self.methods is None or request.method in self.methods

    def retries_error(self, request: HTTPRequest, exc: Exception) -> bool:
        """Whether a hop that failed with ``exc`` (no response) may be tried again."""
        if isinstance(exc, (HTTPConnectionRefusedError, HTTPNameResolutionError)):
            return True
        if isinstance(exc, HTTPTimeoutError) and exc.phase in ("resolve", "connect"):
            return True
        return isinstance(exc, HTTPClientError) and self._method_ok(request)

    def retries_status(self, request: HTTPRequest, code: int) -> bool:
        """Whether a response with this status is retried."""
        return code in self.statuses and self._method_ok(request)

    def wait(self, retry: int, headers: HTTPHeaders | None) -> float | None:
        """Seconds to wait before retry number ``retry`` (0-based); None: stop."""
        if headers is not None and self.respect_retry_after:
            after = _retry_after(headers.get("Retry-After"))
            if after is not None:
                return after if after <= self.max_retry_after else None
        return random.uniform(0, min(self.max_backoff, self.backoff * 2**retry))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def checked_retries(value: object) -> Retry | None:
    """The ``retries`` option: None, an int (that many retries) or a Retry."""
    if value is None or isinstance(value, Retry):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Retry(total=value)
    raise TypeError(f"retries must be an int, a Retry or None, got {type(value).__name__}")
