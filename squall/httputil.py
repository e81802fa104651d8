"""HTTP utilities used with the client: headers, dates, URLs and status phrases.

The names Tornado code imports from ``tornado.httputil`` for client work.
"""

from __future__ import annotations

from http.client import responses

from squall._headers import HTTPHeaders, format_timestamp
from squall._urls import url_concat

__all__ = ["HTTPHeaders", "format_timestamp", "responses", "url_concat"]

HTTPHeaders.__module__ = __name__  # its public path, in reprs and help()
