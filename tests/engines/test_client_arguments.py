"""Client arguments: AsyncHTTPClient(...), fetch(), HTTPClient and configure() refuse a
bad argument with a TypeError/ValueError naming it (see tests/engines/validation.py)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import pytest

from squall.httpclient import AsyncHTTPClient, HTTPClient, HTTPRequest
from tests.conftest import simple_only
from tests.engines.validation import TIMEOUT

# Stricter than Tornado on purpose: these checks are squall's own.
pytestmark = pytest.mark.squall_only


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        *(({"max_clients": v}, ValueError) for v in (0, -1, "10", True, None, 2.0)),
        ({"max_client_count": 3}, TypeError),
    ],
)
async def test_bad_client_arguments_refused(
    make_client: Callable[..., Any], kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error, match=next(iter(kwargs))):
        make_client(**kwargs)


def test_blocking_fetch_bad_kwargs(blocking_client: Any, dead_url: str) -> None:
    url = dead_url
    with pytest.raises(TypeError, match="request_timout"):
        blocking_client.fetch(url, request_timout=TIMEOUT)
    with pytest.raises(TypeError, match="request_timeout"):
        blocking_client.fetch(url, request_timeout="2")
    with pytest.raises(ValueError, match="kwargs"):
        blocking_client.fetch(HTTPRequest(url), request_timeout=TIMEOUT)


# -- client constructor, fetch(), HTTPClient, configure() ----------------------------------
# (A comment next to a value says what it did before it was checked.)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"defaults": {"request_timeout": "5"}}, "request_timeout"),  # accepted, ignored
        ({"defaults": {"request_timeout": -1}}, "request_timeout"),  # simple: instant timeout
        ({"defaults": {"follow_redirects": "no"}}, "follow_redirects"),  # truthy: follows
        ({"defaults": {"auth_mode": "ntlm"}}, "auth_mode"),  # curl: KeyError at fetch
        ({"defaults": {"streaming_callback": 1}}, "streaming_callback"),  # TypeError mid-body
        ({"defaults": {"request_timout": 1}}, "request_timout"),  # typo, silently ignored
        ({"defaults": "abc"}, "defaults"),  # "dictionary update sequence element #0"
        ({"hostname_mapping": "abc"}, "hostname_mapping"),
        ({"hostname_mapping": {"a.test": 5}}, "hostname_mapping"),  # TypeError at fetch
        ({"hostname_mapping": {"a.test": ("b", 1, 2)}}, "hostname_mapping"),
        ({"hostname_mapping": {"a.test": ("127.0.0.1", "80")}}, "hostname_mapping"),
        ({"resolver": object()}, "resolver"),  # AttributeError / 599 at fetch
        ({"max_buffer_size": -1}, "max_buffer_size"),  # every body "too large"
        ({"max_buffer_size": "big"}, "max_buffer_size"),  # TypeError mid-body
        ({"max_buffer_size": None}, "max_buffer_size"),
        ({"max_body_size": -1}, "max_body_size"),
        ({"max_body_size": math.nan}, "max_body_size"),  # no limit at all
        ({"max_header_size": 0}, "max_header_size"),  # silently the 64 KiB default
        ({"max_header_size": -1}, "max_header_size"),  # simple ignores it, curl fails all
        ({"max_header_size": "x"}, "max_header_size"),
    ],
)
async def test_client_arguments_checked(
    make_client: Callable[..., Any], kwargs: dict[str, Any], named: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=named):
        make_client(**kwargs)


@simple_only
@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"max_connections_per_host": 0}, "max_connections_per_host"),  # says max_per_host
        ({"max_connections_per_host": "2"}, "max_connections_per_host"),
        ({"idle_timeout": -1}, "idle_timeout"),
        ({"idle_timeout": math.nan}, "idle_timeout"),
        ({"idle_timeout": "4"}, "idle_timeout"),  # TypeError after the first response
    ],
)
async def test_simple_arguments_checked(
    make_client: Callable[..., Any], kwargs: dict[str, Any], named: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=named):
        make_client(**kwargs)


@pytest.mark.parametrize(("option", "value"), [("callback", 5), ("raise_error", "no")])
async def test_fetch_arguments_checked(
    client: Any, dead_url: str, option: str, value: object
) -> None:
    future: asyncio.Future[Any] | None = None
    try:
        with pytest.raises(TypeError, match=option):
            future = client.fetch(dead_url, request_timeout=TIMEOUT, **{option: value})
    finally:
        if future is not None:
            future.cancel()


@pytest.mark.parametrize("cls", [5, str, HTTPClient])
def test_blocking_client_class_checked(cls: Any) -> None:
    made: HTTPClient | None = None
    try:
        with pytest.raises(TypeError, match="async_client_class"):
            made = HTTPClient(async_client_class=cls)
    finally:
        if made is not None:
            made.close()


@pytest.mark.parametrize(
    ("impl", "kwargs"),
    [
        (AsyncHTTPClient, {}),  # every fetch: bare NotImplementedError
        ("squall.httpclient.AsyncHTTPClient", {}),
        (None, {"max_clients": 0}),  # fails only at the next AsyncHTTPClient()
    ],
)
def test_configure_checked(impl: Any, kwargs: dict[str, Any]) -> None:
    try:
        with pytest.raises(ValueError):
            AsyncHTTPClient.configure(impl, **kwargs)
    finally:
        AsyncHTTPClient.configure(None)
