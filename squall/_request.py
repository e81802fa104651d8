"""HTTPRequest: every option of a fetch, typed and validated at construction.

An option left as ``None`` means "the client's default". Instead of Tornado's
``_RequestProxy`` (defaults looked up through ``__getattr__`` on every access),
the client calls ``resolved(defaults)`` once per fetch and hands the engine a
plain copy in which every default is filled in and every cross-option rule has
been checked. The caller's request object is never mutated.

The checks of single options live in ``_option_checks.py`` (a table of typed
options, run once at construction), the body's sources and rules in
``_request_body.py``; this module holds the class and what ties them together.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from squall._headers import HTTPHeaders
from squall._option_checks import (
    SSL_OPTION_KEYS,
    check_headers,
    check_options,
    check_ssl_options,
    check_type,
    check_user_agent,
    http_date,
)
from squall._payloads import FilesArg, FormArg, ParamsArg, encode_params
from squall._request_body import check_content_length, check_method_body, payload_for
from squall._retries import Retry, checked_retries
from squall._urls import parse_url

__all__ = ["DEFAULTS", "SSL_OPTION_KEYS", "HTTPRequest", "check_ssl_options"]

# Tornado's HTTPRequest._DEFAULTS plus the booleans whose None means a default.
DEFAULTS: dict[str, Any] = {
    "connect_timeout": 20.0,
    "request_timeout": 20.0,
    "follow_redirects": True,
    "max_redirects": 5,
    "decompress_response": True,
    "proxy_password": "",
    "allow_nonstandard_methods": False,
    "validate_cert": True,
    "allow_ipv6": True,
}

# Any return: an awaitable is awaited before more data is read, anything else
# (None, or the int of ``file.write``) is ignored.
StreamingCallback = Callable[[bytes], object]
HeaderCallback = Callable[[str], object]
BodyProducer = Callable[[Callable[[bytes], Awaitable[None]]], "Awaitable[None] | None"]


class HTTPRequest:
    """An HTTP client request: the URL and every option of one fetch.

    All parameters except ``url`` are optional. ``None`` means the client's
    default (see ``DEFAULTS`` and ``AsyncHTTPClient(defaults=...)``).

    Args:
        url: absolute ``http`` or ``https`` URL.
        method: HTTP method, ``"GET"`` by default.
        headers: dict or HTTPHeaders of extra request headers.
        body: request body, bytes or str (encoded as UTF-8).
        auth_username, auth_password: credentials for HTTP authentication.
        auth_mode: ``"basic"`` (default) or ``"digest"`` (curl engine only).
        connect_timeout: seconds for DNS, TCP and TLS setup; 0 means none.
        request_timeout: seconds for the whole exchange; 0 means none.
        if_modified_since: datetime (naive means UTC) or epoch seconds.
        follow_redirects: follow 301/302/303/307/308 responses.
        max_redirects: how many redirects to follow at most.
        user_agent: the User-Agent header.
        use_gzip: deprecated alias of decompress_response.
        network_interface: source address (simple: IP literal; curl: name too).
        streaming_callback: called with each body chunk instead of buffering;
            may be a coroutine function, awaited before more data is read.
        header_callback: called with each header line, as text with CRLF.
        prepare_curl_callback: curl engine: called with the pycurl handle.
        proxy_host, proxy_port: the proxy (curl engine).
        proxy_username, proxy_password, proxy_auth_mode: its credentials.
        allow_nonstandard_methods: allow other methods and body rules.
        validate_cert: verify the server certificate and host name.
        ca_certs: path of a CA bundle in PEM format.
        allow_ipv6: False restricts to IPv4.
        client_key, client_cert: paths of the client key and certificate.
        body_producer: ``async f(write)`` streaming the body; ``await
            write(chunk)`` waits for the connection to take it.
        expect_100_continue: send ``Expect: 100-continue`` and wait for it.
        decompress_response: ask for a compressed body and decode it.
        ssl_options: an ``ssl.SSLContext`` or a dict of ssl arguments.
        http_version: None (negotiate), ``"1.1"``, ``"2"`` or ``"3"``.
        json: (keyword-only) a value sent as compact UTF-8 JSON, with
            ``Content-Type: application/json`` unless one is given.
        params: (keyword-only) a mapping or list of pairs appended to the
            URL's query; a list or tuple value repeats the name.
        form: (keyword-only) fields sent urlencoded, or as the plain fields
            of a multipart body together with ``files``.
        files: (keyword-only) ``{name: path | binary file | (filename,
            path or file, content_type)}``, sent as ``multipart/form-data``
            streamed from disk (a ``body_producer``, with Content-Length when
            every size is known: paths are stat'ed as the request is built).
            One body source at most: ``body``,
            ``body_producer``, ``json``, ``form`` or ``files`` (+ ``form``).
            The method is not changed: use ``method="POST"``.
        retries: (keyword-only) an opt-in retry policy: a ``Retry``, or an
            int for ``Retry(total=n)``; see ``squall.httpclient.Retry``.

    Raises:
        TypeError: an option has the wrong type.
        ValueError: an option has a bad value (malformed URL, negative
            timeout, CR/LF in the method, both body and body_producer...).
    """

    def __init__(
        self,
        url: str,
        method: str = "GET",
        headers: Mapping[str, str] | HTTPHeaders | None = None,
        body: bytes | str | None = None,
        auth_username: str | None = None,
        auth_password: str | None = None,
        auth_mode: str | None = None,
        connect_timeout: float | None = None,
        request_timeout: float | None = None,
        if_modified_since: datetime.datetime | float | None = None,
        follow_redirects: bool | None = None,
        max_redirects: int | None = None,
        user_agent: str | None = None,
        use_gzip: bool | None = None,
        network_interface: str | None = None,
        streaming_callback: StreamingCallback | None = None,
        header_callback: HeaderCallback | None = None,
        prepare_curl_callback: Callable[[Any], None] | None = None,
        proxy_host: str | None = None,
        proxy_port: int | None = None,
        proxy_username: str | None = None,
        proxy_password: str | None = None,
        proxy_auth_mode: str | None = None,
        allow_nonstandard_methods: bool | None = None,
        validate_cert: bool | None = None,
        ca_certs: str | None = None,
        allow_ipv6: bool | None = None,
        client_key: str | None = None,
        client_cert: str | None = None,
        body_producer: BodyProducer | None = None,
        expect_100_continue: bool = False,
        decompress_response: bool | None = None,
        ssl_options: Any = None,
        http_version: str | None = None,
        *,
        json: Any = None,
        params: ParamsArg | None = None,
        form: FormArg | None = None,
        files: FilesArg | None = None,
        retries: int | Retry | None = None,
    ) -> None:
        if params is not None:
            url = encode_params(url, params) if isinstance(url, str) else url
        self.url = url
        if not isinstance(method, str) or not method:
            raise TypeError(f"method must be a non-empty str, got {method!r}")
        if not method.isascii() or not method.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"method must be an HTTP token, got {method!r}")
        self.method = method
        self.headers = headers
        if if_modified_since is not None:
            self.headers["If-Modified-Since"] = http_date(if_modified_since)
        self.body = body
        if body is not None and body_producer is not None:
            raise ValueError("body and body_producer are mutually exclusive")
        self.body_producer = body_producer
        if json is not None or form is not None or files is not None:
            built = payload_for(self.headers, body, body_producer, json, form, files)
            if built.body is not None:
                self.body = built.body
            else:
                self.body_producer = built.producer
        self.auth_username = auth_username
        self.auth_password = auth_password
        self.auth_mode = auth_mode
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        if use_gzip is not None:
            check_type("use_gzip", use_gzip, bool, "a bool")
        self.decompress_response = use_gzip if decompress_response is None else decompress_response
        self.network_interface = network_interface
        self.streaming_callback = streaming_callback
        self.header_callback = header_callback
        self.prepare_curl_callback = prepare_curl_callback
        self.proxy_host = proxy_host
        self.proxy_port = proxy_port
        self.proxy_username = proxy_username
        self.proxy_password = proxy_password
        self.proxy_auth_mode = proxy_auth_mode
        self.allow_nonstandard_methods = allow_nonstandard_methods
        self.validate_cert = validate_cert
        self.ca_certs = ca_certs
        self.allow_ipv6 = allow_ipv6
        self.client_key = client_key
        self.client_cert = client_cert
        self.expect_100_continue = expect_100_continue
        self.ssl_options = ssl_options
        self.http_version = http_version
        self.retries = checked_retries(retries)
        self.start_time = time.time()
        check_options(self.__dict__)

    # -- URL -----------------------------------------------------------------

    @property
    def url(self) -> str:
        """The absolute URL; setting it re-validates and re-splits it."""
        return self._url

    @url.setter
    def url(self, value: str) -> None:
        parsed = parse_url(value)
        self._url = value
        self.scheme = parsed.scheme
        self.host = parsed.host
        self.port = parsed.port
        self.target = parsed.target
        self.netloc = parsed.netloc
        self.url_username = parsed.username
        self.url_password = parsed.password

    # -- headers and body ------------------------------------------------------

    @property
    def headers(self) -> HTTPHeaders:
        """The request headers (an HTTPHeaders; setting a dict converts it)."""
        return self._headers

    @headers.setter
    def headers(self, value: Mapping[str, str] | HTTPHeaders | None) -> None:
        if value is None:
            self._headers = HTTPHeaders()
        elif isinstance(value, HTTPHeaders):
            self._headers = value
        elif isinstance(value, Mapping):
            self._headers = HTTPHeaders(value)
        else:
            raise TypeError(f"headers must be a mapping or None, got {type(value).__name__}")

    @property
    def body(self) -> bytes | None:
        """The request body as bytes (a str is encoded as UTF-8), or None."""
        return self._body

    @body.setter
    def body(self, value: bytes | bytearray | memoryview | str | None) -> None:
        if isinstance(value, str):
            try:
                self._body: bytes | None = value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError(f"body str cannot be encoded as UTF-8: {exc.reason}") from None
        elif isinstance(value, (bytearray, memoryview)):
            self._body = bytes(value)
        elif value is None or isinstance(value, bytes):
            self._body = value
        else:
            raise TypeError(f"body must be bytes, str or None, got {type(value).__name__}")

    # -- resolution ------------------------------------------------------------

    def resolved(self, defaults: Mapping[str, Any]) -> HTTPRequest:
        """Return a copy with every ``None`` option taken from ``defaults``.

        The copy has its own HTTPHeaders, and the rules that span options (or
        that defaults may break) are checked here: header text, Content-Length
        against the body, the method's body rules, options that need another.

        Raises:
            ValueError: a header name is not a token or a value has CR/LF/NUL,
                control characters or non-latin-1 text (user_agent included);
                Content-Length contradicts the body; the method/body combination
                is not allowed without ``allow_nonstandard_methods``; a proxy
                option without proxy_host, or client_key without client_cert.
        """
        request = object.__new__(HTTPRequest)
        fill = request.__dict__
        fill.update(self.__dict__)
        request._headers = HTTPHeaders(self._headers)
        for name, value in defaults.items():
            if fill.get(name, 0) is None:
                fill[name] = value
        headers = request._headers
        if headers:
            check_headers(headers)
            if request._body is not None and "Content-Length" in headers:
                check_content_length(headers, request._body)
        if request.user_agent is not None:
            check_user_agent("user_agent", request.user_agent)
        if not request.proxy_host and (
            request.proxy_port is not None
            or request.proxy_username is not None
            or request.proxy_password  # "" is the default
            or request.proxy_auth_mode is not None
        ):
            request._refuse_proxy_options()
        if request.client_key is not None and request.client_cert is None:
            raise ValueError("client_key needs client_cert (the certificate it belongs to)")
        if not request.allow_nonstandard_methods:
            has_body = request._body is not None or request.body_producer is not None
            check_method_body(request.method, has_body)
        return request

    def _refuse_proxy_options(self) -> None:
        given = [
            name
            for name in ("proxy_port", "proxy_username", "proxy_password", "proxy_auth_mode")
            if getattr(self, name)
        ]
        raise ValueError(f"{', '.join(given)} given without proxy_host")

    def __repr__(self) -> str:
        return f"HTTPRequest({self.method} {self._url})"
