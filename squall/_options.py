"""The keyword options of ``fetch()``, typed, so that mypy catches a misspelt
or mistyped option (``request_timout=5``, ``request_timeout="5"``) where
``**kwargs: Any`` let it through.

``RequestOptions`` lists exactly HTTPRequest's keyword parameters (a test
compares the two); at run time HTTPRequest still checks every value.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any, TypedDict

from squall._headers import HTTPHeaders
from squall._payloads import FilesArg, FormArg, ParamsArg
from squall._request import BodyProducer, HeaderCallback, StreamingCallback
from squall._retries import Retry

__all__ = ["RequestOptions"]


class RequestOptions(TypedDict, total=False):
    """HTTPRequest's options, for ``fetch(url, **options)``; see HTTPRequest."""

    method: str
    headers: Mapping[str, str] | HTTPHeaders | None
    body: bytes | str | None
    auth_username: str | None
    auth_password: str | None
    auth_mode: str | None
    connect_timeout: float | None
    request_timeout: float | None
    if_modified_since: datetime.datetime | float | None
    follow_redirects: bool | None
    max_redirects: int | None
    user_agent: str | None
    use_gzip: bool | None
    network_interface: str | None
    streaming_callback: StreamingCallback | None
    header_callback: HeaderCallback | None
    prepare_curl_callback: Callable[[Any], None] | None
    proxy_host: str | None
    proxy_port: int | None
    proxy_username: str | None
    proxy_password: str | None
    proxy_auth_mode: str | None
    allow_nonstandard_methods: bool | None
    validate_cert: bool | None
    ca_certs: str | None
    allow_ipv6: bool | None
    client_key: str | None
    client_cert: str | None
    body_producer: BodyProducer | None
    expect_100_continue: bool
    decompress_response: bool | None
    ssl_options: Any
    http_version: str | None
    json: Any
    params: ParamsArg | None
    form: FormArg | None
    files: FilesArg | None
    retries: int | Retry | None


class BlockingFetchOptions(RequestOptions, total=False):
    """``HTTPClient.fetch``'s options: HTTPRequest's and ``raise_error``."""

    raise_error: bool
