"""Checks of AsyncHTTPClient's constructor arguments, shared by ``initialize()``
and ``configure()`` (which checks the arguments it is given at once): each raises
TypeError or ValueError naming the argument, so that a bad one fails where it is
given rather than in some fetch later."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from squall._request import DEFAULTS, HTTPRequest

__all__ = ["check_address", "check_limit", "check_resolver", "checked_defaults", "checked_mapping"]

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
