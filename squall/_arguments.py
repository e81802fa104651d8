"""The client's constructor arguments: every check, in one place, and the
frozen settings the engines receive.

``initialize()`` and ``configure()`` (which checks the arguments it is given at
once) both use the tables here: each check raises TypeError or ValueError naming
the argument, so that a bad one fails where it is given rather than in some
fetch later. ``client_settings`` checks the base arguments and returns them as
one typed, immutable ``ClientSettings``: engines read their limits, resolver and
host mapping from it, never from the client object.
"""

from __future__ import annotations

import functools
import http.cookiejar
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

from squall._cookies import checked_jar
from squall._proxy_env import EnvProxies
from squall._request import DEFAULTS, HTTPRequest

__all__ = [
    "BASE_ARGUMENTS",
    "MAX_BUFFER_SIZE",
    "MAX_HEADER_SIZE",
    "SIMPLE_ARGUMENTS",
    "ClientSettings",
    "check_address",
    "check_idle_timeout",
    "check_limit",
    "check_max_clients",
    "check_per_host",
    "check_resolver",
    "check_trust_env",
    "checked_defaults",
    "checked_mapping",
    "client_settings",
]

MAX_BUFFER_SIZE: Final = 100 * 1024 * 1024
MAX_HEADER_SIZE: Final = 64 * 1024

# Never fetched: a request to it only carries the client's defaults through HTTPRequest's checks.
_DEFAULTS_PROBE_URL = "http://defaults.invalid/"


def checked_defaults(defaults: object) -> dict[str, Any]:
    """``DEFAULTS`` updated with ``defaults``, each value checked as its HTTPRequest option."""
    merged = dict(DEFAULTS)
    if defaults is None:
        return merged
    if not isinstance(defaults, Mapping):
        raise TypeError(
            "defaults must be a mapping of HTTPRequest options or None, "
            f"got {type(defaults).__name__}: {defaults!r}"
        )
    for name in defaults:
        if not isinstance(name, str):
            raise TypeError(f"defaults: option names must be str, got {name!r}")
    # HTTPRequest checks every option's type and value and refuses unknown
    # names: one throw-away request checks the defaults exactly as a fetch would.
    try:
        HTTPRequest(_DEFAULTS_PROBE_URL, **defaults)
    except (TypeError, ValueError) as exc:
        kind = TypeError if isinstance(exc, TypeError) else ValueError
        raise kind(f"defaults: {exc}") from exc
    merged.update(defaults)
    return merged


def check_address(what: str, address: object) -> None:
    """A host (non-empty str) or a ``(host, port)`` tuple with an int port in 1..65535."""
    if isinstance(address, str):
        host: object = address
    elif isinstance(address, tuple) and len(address) == 2:
        host, port = address
        if not isinstance(port, int) or isinstance(port, bool):
            raise TypeError(f"{what}: the port must be an int, got {port!r}")
        if not 0 < port < 65536:
            raise ValueError(f"{what}: the port must be in 1..65535, got {port!r}")
    else:
        raise TypeError(f"{what} must be a host (str) or a (host, port) tuple, got {address!r}")
    if not isinstance(host, str) or not host:
        raise ValueError(f"{what}: the host must be a non-empty str, got {host!r}")


def checked_mapping(mapping: object) -> dict[Any, Any]:
    """A copy of ``hostname_mapping``: host or (host, port) -> host or (host, port)."""
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise TypeError(
            f"hostname_mapping must be a mapping or None, got {type(mapping).__name__}: {mapping!r}"
        )
    for key, value in mapping.items():
        check_address("a hostname_mapping key", key)
        check_address(f"hostname_mapping[{key!r}]", value)
    return dict(mapping)


def check_resolver(resolver: object) -> None:
    if resolver is not None and not callable(getattr(resolver, "resolve", None)):
        raise TypeError(
            "resolver must have an async resolve(host, port, family) method or be None, "
            f"got {type(resolver).__name__}"
        )


def check_limit(name: str, value: object, optional: bool = False) -> None:
    """A byte limit: a positive int, or None where None means the default."""
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        none = " or None" if optional else ""
        raise TypeError(
            f"{name} must be a positive int (bytes){none}, got {type(value).__name__}: {value!r}"
        )
    if value < 1:
        raise ValueError(f"{name} must be a positive int (bytes), got {value!r}")


def check_max_clients(max_clients: object) -> None:
    """Raise ValueError unless ``max_clients`` is a positive int (not a bool)."""
    if not isinstance(max_clients, int) or isinstance(max_clients, bool) or max_clients < 1:
        raise ValueError(f"max_clients must be a positive int, got {max_clients!r}")


def check_per_host(value: object) -> None:
    """``max_connections_per_host`` (simple engine): a positive int or None."""
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(
            "max_connections_per_host must be a positive int or None, "
            f"got {type(value).__name__}: {value!r}"
        )
    if value < 1:
        raise ValueError(f"max_connections_per_host must be a positive int or None, got {value!r}")


def check_idle_timeout(value: object) -> None:
    """``idle_timeout`` (simple engine): finite seconds >= 0."""
    # int or float: the loop's timers add it to float times (a Decimal would fail there).
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(
            f"idle_timeout must be a number of seconds, got {type(value).__name__}: {value!r}"
        )
    if not 0 <= value < math.inf:
        raise ValueError(f"idle_timeout must be >= 0 and finite, got {value!r}")


def check_trust_env(value: object) -> None:
    """``trust_env``: a bool (a truthy string would read the environment by mistake)."""
    if not isinstance(value, bool):
        raise TypeError(f"trust_env must be a bool, got {type(value).__name__}: {value!r}")


ArgumentChecks = Mapping[str, Callable[[Any], object]]

#: AsyncHTTPClient's arguments, each with its check (configure() checks with it).
BASE_ARGUMENTS: Final[ArgumentChecks] = {
    "defaults": checked_defaults,
    "max_clients": check_max_clients,
    "hostname_mapping": checked_mapping,
    "resolver": check_resolver,
    "max_buffer_size": functools.partial(check_limit, "max_buffer_size"),
    "max_header_size": functools.partial(check_limit, "max_header_size", optional=True),
    "max_body_size": functools.partial(check_limit, "max_body_size", optional=True),
    "cookies": checked_jar,
    "trust_env": check_trust_env,
}

#: SimpleAsyncHTTPClient's arguments: the base's and its pool's.
SIMPLE_ARGUMENTS: Final[ArgumentChecks] = {
    **BASE_ARGUMENTS,
    "max_connections_per_host": check_per_host,
    "idle_timeout": check_idle_timeout,
}


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """What an engine needs of the client's arguments, checked once, immutable.

    Attributes:
        defaults: HTTPRequest option values for options a request leaves None.
        max_clients: fetches running at once (the rest queue in the base).
        hostname_mapping: host or (host, port) -> host or (host, port).
        resolver: an object with ``async resolve(host, port, family)``, or None.
        max_buffer_size: the most bytes buffered for one read (Tornado's
            IOStream bound); the default of ``max_body_size``.
        max_header_size: the most bytes of one response head.
        max_body_size: the most decoded body bytes, streamed or not.
        cookies: the opt-in cookie jar the base client keeps, or None.
        env_proxies: the environment's proxies (``trust_env=True``), or None.
    """

    defaults: Mapping[str, Any]
    max_clients: int
    hostname_mapping: Mapping[Any, Any]
    resolver: Any
    max_buffer_size: int
    max_header_size: int
    max_body_size: int
    cookies: http.cookiejar.CookieJar | None = None
    env_proxies: EnvProxies | None = None

    def body_limit(self, request: HTTPRequest) -> int:
        """The most body bytes one response may bring: the one rule both engines apply.

        Tornado's: ``max_body_size`` bounds the whole (decoded) body, streamed or
        buffered; ``max_buffer_size`` bounds what is buffered for one read, not
        the body, and only through ``max_body_size``'s default (which it is).
        """
        return self.max_body_size


def client_settings(
    defaults: object = None,
    max_clients: object = 10,
    hostname_mapping: object = None,
    resolver: object = None,
    max_buffer_size: object = MAX_BUFFER_SIZE,
    max_header_size: object = None,
    max_body_size: object = None,
    cookies: object = None,
    trust_env: object = False,
) -> ClientSettings:
    """Check AsyncHTTPClient's arguments and return them as ``ClientSettings``.

    Raises:
        TypeError, ValueError: a bad argument, named in the message.
    """
    merged = checked_defaults(defaults)
    check_max_clients(max_clients)
    mapping = checked_mapping(hostname_mapping)
    check_resolver(resolver)
    check_limit("max_buffer_size", max_buffer_size)
    check_limit("max_header_size", max_header_size, optional=True)
    check_limit("max_body_size", max_body_size, optional=True)
    # The checks above guarantee these; the casts tell mypy.
    buffer_size = cast(int, max_buffer_size)
    check_trust_env(trust_env)
    return ClientSettings(
        defaults=merged,
        max_clients=cast(int, max_clients),
        hostname_mapping=mapping,
        resolver=resolver,
        max_buffer_size=buffer_size,
        max_header_size=MAX_HEADER_SIZE if max_header_size is None else cast(int, max_header_size),
        max_body_size=buffer_size if max_body_size is None else cast(int, max_body_size),
        cookies=checked_jar(cookies),
        env_proxies=EnvProxies.from_environ(os.environ) if trust_env else None,
    )
