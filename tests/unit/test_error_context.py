"""Which option a timeout names (``timeout_option``), and the context's defaults."""

from __future__ import annotations

import pickle

import pytest

from squall import _errors as e


@pytest.mark.parametrize(
    ("phase", "connect", "total", "expected"),
    [
        ("request", 5.0, 2.0, ("request_timeout", 2.0)),
        ("request", 1.0, 0.0, (None, None)),  # 0: no request timeout
        ("request", None, None, (None, None)),
        ("connect", 1.0, 2.0, ("connect_timeout", 1.0)),
        ("connect", 3.0, 2.0, ("request_timeout", 2.0)),  # the smaller bounds the connect
        ("connect", 2.0, 2.0, ("connect_timeout", 2.0)),  # a tie: the phase's own option
        ("tls", 0.0, 2.0, ("request_timeout", 2.0)),
        ("resolve", 1.0, None, ("connect_timeout", 1.0)),
        ("queue", 0.0, 0.0, (None, None)),
    ],
)
def test_timeout_option(
    phase: str, connect: float | None, total: float | None, expected: tuple[object, object]
) -> None:
    assert e.timeout_option(phase, connect, total) == expected


@pytest.mark.parametrize(
    "error",
    [
        e.HTTPClientError(404),
        e.HTTPConnectionRefusedError(),
        e.HTTPTimeoutError("Timeout with 127.0.0.1:1"),  # the system's, no option's
        e.ResponseTooLargeError(),
        e.CurlError(7, "Failed to connect"),
    ],
)
def test_no_context_by_default(error: e.HTTPClientError) -> None:
    assert (error.option, error.limit) == (None, None)


def test_context_is_kept_by_copies() -> None:
    error = e.ResponseTooLargeError("too big", option="max_body_size", limit=10)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.option, copy.limit, copy.message) == ("max_body_size", 10, "too big")
    timeout = e.HTTPTimeoutError("late", phase="request", option="request_timeout", limit=0.5)
    copy = pickle.loads(pickle.dumps(timeout))
    assert (copy.option, copy.limit, copy.phase) == ("request_timeout", 0.5, "request")
