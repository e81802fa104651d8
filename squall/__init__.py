"""squall: a fast HTTP client with Tornado's httpclient interface.

The public modules are ``squall.httpclient`` (the clients, request, response
and errors), ``squall.httputil``, ``squall.simple_httpclient`` and
``squall.curl_httpclient``.
"""

from squall._version import __version__

__all__ = ["__version__"]
