"""The proxy environment (``trust_env=True``): *_PROXY and NO_PROXY, one parser for both engines.

Read once, when the client is made (``EnvProxies.from_environ``), and applied
to each hop (``EnvProxies.apply``), so a redirect to a host in NO_PROXY goes
direct. A request's own ``proxy_host`` always wins.

Variables, as libcurl reads them: ``http_proxy`` for http URLs, ``https_proxy``
for https URLs, ``all_proxy`` for both when the other is unset, ``no_proxy``;
each in lower or upper case, the lower case winning. ``HTTP_PROXY`` is ignored
when ``REQUEST_METHOD`` is set: in a CGI program it can come from a request's
``Proxy:`` header ("httpoxy").

NO_PROXY follows libcurl's rules: a comma-separated list, spaces around entries
ignored, empty entries ignored (never a wildcard); ``*`` alone matches every
host; a name matches itself and its subdomains, with or without a leading dot
(``.example.com`` and ``example.com`` alike), while ``*.example.com`` matches
subdomains only; an entry may carry a port (``example.com:8080``, ``[::1]:8080``);
IPv4 and IPv6 addresses match exactly or as CIDR ranges (``10.0.0.0/8``,
``fd00::/8``), bracketed or not.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from squall._request import HTTPRequest

__all__ = ["EnvProxies", "NoProxy"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _variable(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name.lower())
    if value is None and not (name == "HTTP_PROXY" and "REQUEST_METHOD" in environ):
        value = environ.get(name.upper())
    value = value.strip() if value is not None else None
    return value or None


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str | None  # a host name (lower case, no leading dot), or None for an address
    network: _Network | None
    port: int | None
    subdomains_only: bool


class NoProxy:
    """A parsed NO_PROXY list.

    Args:
        value: the variable's value.
    """

    __slots__ = ("_entries", "everything")

    def __init__(self, value: str) -> None:
        self.everything = False
        self._entries: list[_Entry] = []
        for raw in value.split(","):
            text = raw.strip().lower()
            if not text:
                continue
            if text == "*":
                self.everything = True
                continue
            entry = _parse_entry(text)
            if entry is not None:
                self._entries.append(entry)

    def matches(self, host: str, port: int) -> bool:
        """True when a request to ``host:port`` must not use the proxy."""
        if self.everything:
            return True
        host = host.lower().rstrip(".")
        try:
            address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
            address = ipaddress.ip_address(host.strip("[]").partition("%")[0])
        except ValueError:
            address = None
        for entry in self._entries:
            if entry.port is not None and entry.port != port:
                continue
            network = entry.network
            if network is not None:
                # (an address of the other family is never "in" a network)
                if address is not None and address in network:
                    return True
                continue
            name = entry.name
            assert name is not None
            if host.endswith("." + name) or (host == name and not entry.subdomains_only):
                return True
        return False


def _parse_entry(text: str) -> _Entry | None:
    port: int | None = None
    if text.startswith("["):  # [v6] or [v6]:port or [v6]/prefix
        inside, _, rest = text[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
        elif rest.startswith("/"):
            inside += rest
        text = inside
    elif text.count(":") == 1:  # name:port or v4:port (a bare v6 has several colons)
        name, _, number = text.partition(":")
        if not number.isdigit():
            return None
        text, port = name, int(number)
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        pass
    else:
        return _Entry(None, network, port, False)
    subdomains_only = text.startswith("*.")
    name = text[2:] if subdomains_only else text.lstrip(".")
    name = name.rstrip(".")
    if not name or "*" in name or "/" in name:
        return None
    return _Entry(name, None, port, subdomains_only)


@dataclass(frozen=True, slots=True)
class EnvProxies:
    """The proxies the environment names, and the hosts that go direct."""

    http: str | None
    https: str | None
    no_proxy: NoProxy

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> EnvProxies | None:
        """The environment's proxies, or None when it names none."""
        fallback = _variable(environ, "ALL_PROXY")
        http = _variable(environ, "HTTP_PROXY") or fallback
        https = _variable(environ, "HTTPS_PROXY") or fallback
        if http is None and https is None:
            return None
        return cls(http, https, NoProxy(_variable(environ, "NO_PROXY") or ""))

    def proxy_for(self, scheme: str, host: str, port: int) -> str | None:
        """The proxy URL for a request, or None to go direct."""
        proxy = self.https if scheme == "https" else self.http
        if proxy is None or self.no_proxy.matches(host, port):
            return None
        return proxy

    def apply(self, request: HTTPRequest) -> HTTPRequest:
        """``request``, or a copy going through the environment's proxy.

        A request with its own ``proxy_host`` is returned as it is.
        """
        if request.proxy_host:
            return request
        proxy = self.proxy_for(request.scheme, request.host, request.port)
        if proxy is None:
            return request
        copy = HTTPRequest.__new__(HTTPRequest)
        copy.__dict__.update(request.__dict__)
        copy.proxy_host = proxy
        return copy
