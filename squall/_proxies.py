"""Which proxy a request goes through, read once from its options.

``proxy_host`` takes the form libcurl takes: a host, or ``scheme://host`` with
an optional ``:port`` and ``user:password@`` (percent-decoded, as in any URL).
The schemes are ``http`` (the default), ``https`` (TLS to the proxy),
``socks5`` (names resolved here), ``socks5h`` (names resolved by the proxy),
``socks4`` (resolved here, IPv4 only) and ``socks4a`` (resolved by the proxy).
``proxy_port``, ``proxy_username`` and ``proxy_password`` win over the parts
of ``proxy_host``; the default port is libcurl's: 443 for https, else 1080.

Pure (no I/O): the simple engine dials what ``Proxy`` says; the error
messages of both engines name the proxy with ``Proxy.where``.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from squall._urls import bracket

if TYPE_CHECKING:
    from squall._request import HTTPRequest

__all__ = ["PROXY_SCHEMES", "SOCKS_WORDS", "Proxy", "redacted", "request_proxy"]

#: Proxy schemes and whether the proxy speaks HTTP (else SOCKS).
PROXY_SCHEMES = {
    "http": True,
    "https": True,
    "socks5": False,
    "socks5h": False,
    "socks4": False,
    "socks4a": False,
}


#: How both engines word a SOCKS handshake's failures (``where`` is ``Proxy.where``,
#: ``target`` the ``host:port`` asked for, ``version`` "SOCKS5" or "SOCKS4").
SOCKS_WORDS = {
    "closed": "{where} closed the connection during the handshake",
    "credentials refused": "{where} refused the SOCKS5 user name and password",
    "no method": "{where} accepts none of our SOCKS5 authentication methods",
    "long credentials": "SOCKS5 credentials for {where} over 255 bytes",
    "origin refused": "Connection refused by {target} (through {where})",
    "failed": "{where} could not connect to {target}: {version} {reason}",
    "malformed": "Malformed SOCKS reply from {where}: {reason}",
    "cannot ask": "Cannot ask {where} for {target}: {reason}",
}


@dataclass(frozen=True, slots=True)
class Proxy:
    """One proxy: where it is and how to authenticate to it.

    Attributes:
        scheme: one of ``PROXY_SCHEMES``.
        host: host name or IP literal (without brackets).
        port: the port to dial.
        username, password: credentials for the proxy, or None and "".
        auth_mode: ``"basic"`` or ``"digest"`` (HTTP proxies only).
    """

    scheme: str
    host: str
    port: int
    username: str | None
    password: str
    auth_mode: str

    @property
    def speaks_http(self) -> bool:
        """True for an HTTP(S) proxy, False for SOCKS."""
        return PROXY_SCHEMES[self.scheme]

    @property
    def remote_dns(self) -> bool:
        """True when the proxy resolves the origin's name (socks5h, socks4a, HTTP)."""
        return self.scheme not in ("socks5", "socks4")

    @property
    def where(self) -> str:
        """``proxy host:port``, for error messages (never the credentials)."""
        return f"proxy {bracket(self.host)}:{self.port}"

    @property
    def socks_version(self) -> str:
        """``"SOCKS5"`` or ``"SOCKS4"``, for error messages."""
        return "SOCKS5" if self.scheme.startswith("socks5") else "SOCKS4"

    def forwards(self, scheme: str) -> bool:
        """True when a request of ``scheme`` is sent to the proxy as it is, with
        an absolute-form target (plain http through an HTTP proxy); False when it
        goes through a tunnel (CONNECT or SOCKS)."""
        return scheme == "http" and self.speaks_http


def redacted(text: str) -> str:
    """``proxy_host`` as an error message may show it: its credentials as ``***``."""
    scheme, sep, rest = text.rpartition("://")
    _userinfo, at, location = rest.rpartition("@")
    return f"{scheme}{sep}***@{location}" if at else text


def request_proxy(request: HTTPRequest) -> Proxy | None:
    """The proxy of a resolved request, or None without ``proxy_host``.

    Raises:
        ValueError: an unknown scheme, a malformed host or port in ``proxy_host``.
    """
    text = request.proxy_host
    if not text:
        return None
    # Parsed a few times per request (checks, pool key, dialling): cached by its inputs.
    return _proxy(
        text,
        request.proxy_port,
        request.proxy_username,
        request.proxy_password or "",
        request.proxy_auth_mode,
    )


@functools.lru_cache(maxsize=256)
def _proxy(
    text: str, port_option: int | None, username: str | None, password: str, mode: str | None
) -> Proxy:
    scheme, sep, rest = text.rpartition("://")
    scheme = scheme.lower() if sep else "http"
    if scheme not in PROXY_SCHEMES:
        known = ", ".join(PROXY_SCHEMES)
        raise ValueError(f"unsupported proxy scheme {scheme!r} in proxy_host ({known})")
    try:
        parts = urlsplit(f"{scheme}://{rest}")
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"malformed proxy_host {redacted(text)!r}: {exc}") from None
    host = parts.hostname or ""
    if not host or parts.path not in ("", "/") or parts.query or parts.fragment:
        shown = redacted(text)
        raise ValueError(f"malformed proxy_host {shown!r}: expected [scheme://]host[:port]")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            shown = redacted(text)
            raise ValueError(f"malformed proxy_host {shown!r}: bad IPv6 address") from None
    if username is None and parts.username is not None:
        username, password = unquote(parts.username), unquote(parts.password or "")
    return Proxy(
        scheme=scheme,
        host=host,
        port=port_option or port or (443 if scheme == "https" else 1080),
        username=username,
        password=password,
        auth_mode=mode or "basic",
    )
