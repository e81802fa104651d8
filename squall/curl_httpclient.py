"""The libcurl engine: ``CurlAsyncHTTPClient``, driven by pycurl on the asyncio loop.

Pick it when you want libcurl's protocol coverage (HTTP/2 multiplexing,
HTTP/3, SOCKS and HTTPS proxies, digest auth) or its speed on many small
requests::

    from squall.httpclient import AsyncHTTPClient
    AsyncHTTPClient.configure("squall.curl_httpclient.CurlAsyncHTTPClient")

All fetches of one client share a single libcurl multi handle, so they share
its connection cache (keep-alive, HTTP/2 streams on one connection) and DNS
cache. The handle runs on the program's own event loop (asyncio or uvloop):
no thread, no polling (see ``squall/_curl/multi.py``).

Proxies: ``proxy_host`` is a host name for an HTTP proxy (https URLs go
through ``CONNECT``), or a URL-style ``scheme://host`` to choose the kind:
``socks5h://`` (the proxy resolves names), ``socks5://``, ``socks4a://``,
``socks4://``, or ``https://`` (TLS to the proxy).

Requires pycurl: ``pip install 'squall[curl]'``.
"""

from __future__ import annotations

try:
    import pycurl  # noqa: F401  (only to name the missing extra)
except ImportError as _exc:  # pragma: no cover - exercised without pycurl only
    raise ImportError(
        "squall.curl_httpclient needs pycurl (libcurl's Python binding): pip install 'squall[curl]'"
    ) from _exc

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from squall._arguments import BASE_ARGUMENTS
from squall._curl.engine import CurlEngine
from squall._errors import CurlError
from squall.httpclient import AsyncHTTPClient

__all__ = ["CurlAsyncHTTPClient", "CurlError"]


class CurlAsyncHTTPClient(AsyncHTTPClient):
    """An AsyncHTTPClient whose HTTP work is done by libcurl.

    Takes the same constructor arguments as ``AsyncHTTPClient``. Every
    HTTPRequest option is supported; ``ssl_options`` in its dict form is
    translated to libcurl options (see ``squall._curl.options.ssl_options_to_curl``),
    and an ``ssl.SSLContext`` is refused with ValueError, as Tornado's curl client
    does: libcurl cannot read its client certificate and other settings back.
    """

    # initialize() takes exactly the base's arguments (configure() checks them with this).
    _ARGUMENT_CHECKS: ClassVar[Mapping[str, Callable[[Any], object]]] = BASE_ARGUMENTS
    _engine: CurlEngine

    def initialize(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Set up the client and its libcurl multi handle (see AsyncHTTPClient)."""
        super().initialize(**kwargs)
        self._engine = CurlEngine(self.loop, self.settings)


if __name__ == "__main__":
    from squall._cli import main

    raise SystemExit(main(engine="curl"))
