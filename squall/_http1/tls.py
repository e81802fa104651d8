"""TLS client contexts from a request's options, built once per distinct setting.

SSL contexts are expensive (loading a CA bundle takes milliseconds): ``TLSContexts``
builds one per distinct setting (``tls_key``) and keeps it for the life of the
client. A caller's own ``ssl.SSLContext`` is used as it is.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from squall._request import HTTPRequest

__all__ = ["TLSContexts", "tls_key"]

_T = TypeVar("_T")


def tls_key(request: HTTPRequest) -> Hashable:
    """Everything in ``request`` that changes the TLS context (a pool key part)."""
    options = request.ssl_options
    if isinstance(options, ssl.SSLContext):
        return options  # hashed by identity: the caller's own context
    if isinstance(options, dict):
        return ("dict", tuple(sorted((k, repr(v)) for k, v in options.items())))
    return (request.validate_cert, request.ca_certs, request.client_cert, request.client_key)


class TLSContexts:
    """The SSL contexts of one client, one per distinct ``tls_key``."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[Hashable, ssl.SSLContext] = {}

    def context(self, request: HTTPRequest) -> ssl.SSLContext:
        """The (cached) SSL context for the request's TLS options.

        Raises:
            ValueError: a TLS file cannot be loaded (the option and path named).
        """
        options = request.ssl_options
        if isinstance(options, ssl.SSLContext):
            return options
        key = tls_key(request)
        context = self._cache.get(key)
        if context is None:
            if isinstance(options, dict):
                context = _context_from_dict(options)
            else:
                context = _context_from_options(request)
            self._cache[key] = context
        return context


def _load(option: str, path: str, load: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``load(*args, **kwargs)``, which reads ``path``; a failure names the option and the path
    (ssl's own errors say neither: a bare ``[Errno 2] No such file or directory``)."""
    try:
        return load(*args, **kwargs)
    except OSError as exc:  # ssl.SSLError too: a file that is not PEM
        raise ValueError(f"{option}: cannot load {path!r}: {exc}") from exc


def _context_from_options(request: HTTPRequest) -> ssl.SSLContext:
    ca_certs = request.ca_certs
    if ca_certs is None:
        context = ssl.create_default_context()
    else:
        context = _load("ca_certs", ca_certs, ssl.create_default_context, cafile=ca_certs)
    if not request.validate_cert:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    cert = request.client_cert
    if cert:
        _load("client_cert", cert, context.load_cert_chain, cert, request.client_key)
    context.set_alpn_protocols(["http/1.1"])
    return context


def _context_from_dict(options: dict[str, Any]) -> ssl.SSLContext:
    """Tornado's ``ssl_options`` dict (``ssl.wrap_socket`` arguments) as a context.

    The keys and value types were checked by ``HTTPRequest`` (``check_ssl_options``).
    """
    get = options.get
    version = get("ssl_version")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT if version is None else version)
    certfile = get("certfile")
    if certfile is not None:
        load = context.load_cert_chain
        _load("ssl_options certfile", certfile, load, certfile, get("keyfile"), get("password"))
    cert_reqs = get("cert_reqs")
    if cert_reqs is not None:
        if cert_reqs == ssl.CERT_NONE:
            context.check_hostname = False
        context.verify_mode = cert_reqs
    if get("check_hostname") is False:
        context.check_hostname = False
    ca_certs = get("ca_certs")
    if ca_certs is not None:
        _load("ssl_options ca_certs", ca_certs, context.load_verify_locations, ca_certs)
    elif context.verify_mode != ssl.CERT_NONE:
        context.load_default_certs()
    ciphers, minimum, maximum = get("ciphers"), get("minimum_version"), get("maximum_version")
    if ciphers is not None:
        context.set_ciphers(ciphers)
    if minimum is not None:
        context.minimum_version = minimum
    if maximum is not None:
        context.maximum_version = maximum
    context.options |= ssl.OP_NO_COMPRESSION
    context.set_alpn_protocols(["http/1.1"])
    return context
