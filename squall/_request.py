"""HTTPRequest: every option of a fetch, typed and validated at construction.

An option left as ``None`` means "the client's default". Instead of Tornado's
``_RequestProxy`` (defaults looked up through ``__getattr__`` on every access),
the client calls ``resolved(defaults)`` once per fetch and hands the engine a
plain copy in which every default is filled in and every cross-option rule has
been checked. The caller's request object is never mutated.
"""

from __future__ import annotations

import datetime
import numbers
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from squall._grammar import has_control, is_token, names_are_tokens, value_problem
from squall._headers import HTTPHeaders, format_timestamp
from squall._payloads import FilesArg, FormArg, ParamsArg, encode_params, payload
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

STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
_BODY_REQUIRED = frozenset({"POST", "PUT", "PATCH"})
_HTTP_VERSIONS = (None, "1.1", "2", "3")
_AUTH_MODES = (None, "basic", "digest")
# A proxy host (with or without a scheme) has no white space or control character.
_NOT_IN_HOST = re.compile(r"[\x00-\x20\x7f]")
# HTTP-dates have four-digit years: 0001-01-01 to 9999-12-31 in epoch seconds.
_DATE_RANGE = (-62135596800, 253402300800)

#: The ``ssl_options`` dict keys both engines understand (``ssl.wrap_socket``
#: and ``SSLContext`` names).
SSL_OPTION_KEYS = frozenset(
    {
        "certfile",
        "keyfile",
        "password",
        "ca_certs",
        "cert_reqs",
        "check_hostname",
        "ciphers",
        "minimum_version",
        "maximum_version",
        "ssl_version",
        "server_side",
    }
)

# Any return: an awaitable is awaited before more data is read, anything else
# (None, or the int of ``file.write``) is ignored.
StreamingCallback = Callable[[bytes], object]
HeaderCallback = Callable[[str], object]
BodyProducer = Callable[[Callable[[bytes], Awaitable[None]]], "Awaitable[None] | None"]


def _check(name: str, value: object, kinds: type | tuple[type, ...], what: str) -> None:
    if value is None:
        return
    # bool is an int subclass: accept it only where a bool is asked for.
    ok = (
        isinstance(value, bool)
        if kinds is bool
        else (isinstance(value, kinds) and not isinstance(value, bool))
    )
    if not ok:
        raise TypeError(f"{name} must be {what} or None, got {type(value).__name__}: {value!r}")


def _check_seconds(name: str, value: object, kinds: object = None, what: str = "") -> None:
    _check(name, value, numbers.Real, "a number of seconds")
    if value is not None and not 0 <= cast(float, value) < float("inf"):
        raise ValueError(f"{name} must be >= 0 and finite, got {value!r}")


def _check_callable(name: str, value: object, kinds: object = None, what: str = "") -> None:
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be callable or None, got {type(value).__name__}")


def _check_text(name: str, value: object, kinds: object = None, what: str = "") -> None:
    # A str option: NUL would truncate it in C (libcurl, the OS), and a lone
    # surrogate cannot be encoded when it is used.
    _check(name, value, str, "a str")
    text = cast(str, value)
    if "\x00" in text:
        raise ValueError(f"{name} contains a NUL character: {text!r}")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"{name} cannot be encoded as UTF-8: {exc.reason}") from None


def _check_proxy_host(name: str, value: object, kinds: object = None, what: str = "") -> None:
    _check_text(name, value)
    if _NOT_IN_HOST.search(cast(str, value)) is not None:
        raise ValueError(f"{name} contains white space or a control character: {value!r}")


def _check_user_agent(name: str, value: object, kinds: object = None, what: str = "") -> None:
    _check(name, value, str, "a str")
    problem = value_problem(cast(str, value))
    if problem is not None:
        raise ValueError(f"{name} {problem}: {value!r}")


def _check_headers(headers: HTTPHeaders) -> None:
    # One match over the names and one search over the values for the common
    # case; the loop only runs to name the culprit.
    values = "".join([value for _, value in headers.get_all()])
    if names_are_tokens(headers) and value_problem(values) is None:
        return
    for name, value in headers.get_all():
        if has_control(name):
            raise ValueError(f"header name contains a CR, LF or NUL character: {name!r}")
        if not is_token(name):
            raise ValueError(f"invalid header name {name!r}: not an RFC 9110 token")
        problem = value_problem(value)
        if problem is not None:
            raise ValueError(f"value of header {name} {problem}: {value!r}")


def _check_content_length(headers: HTTPHeaders, body: bytes) -> None:
    # Both engines frame the body by its length; a header saying otherwise
    # would desynchronise the connection (or be silently replaced).
    length = headers["Content-Length"]
    if length != str(len(body)) and not (length.isdigit() and int(length) == len(body)):
        raise ValueError(
            f"Content-Length header {length!r} contradicts the body ({len(body)} bytes)"
        )


def _http_date(value: object) -> str:
    """``if_modified_since`` as an HTTP-date, or a ValueError/TypeError naming it."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, datetime.datetime, tuple)):
        raise TypeError(
            "if_modified_since must be a datetime or epoch seconds, "
            f"got {type(value).__name__}: {value!r}"
        )
    if isinstance(value, numbers.Real):
        low, high = _DATE_RANGE
        if not low <= float(value) < high:  # NaN fails too
            raise ValueError(f"if_modified_since must be a time in years 1-9999, got {value!r}")
    try:
        return format_timestamp(cast(float, value))
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"if_modified_since {value!r} is not a valid time: {exc}") from None


def check_ssl_options(options: Mapping[str, Any]) -> None:
    """Check an ``ssl_options`` dict: known keys, values of the right type.

    Raises:
        ValueError: a key neither engine understands, ``server_side``, or a
            value out of range.
        TypeError: a value of the wrong type.
    """
    import ssl

    unknown = set(options) - SSL_OPTION_KEYS
    if unknown:
        raise ValueError(f"ssl_options keys not supported: {', '.join(sorted(unknown))}")
    get = options.get
    if get("server_side"):
        raise ValueError("ssl_options server_side=True makes no sense for a client")
    for key in ("certfile", "keyfile", "ca_certs", "ciphers"):
        if get(key) is not None:
            _check_text(f"ssl_options {key}", get(key))
    password = get("password")
    if password is not None and not isinstance(password, (str, bytes)):
        raise TypeError(f"ssl_options password must be a str or bytes, got {password!r}")
    _check("ssl_options check_hostname", get("check_hostname"), bool, "a bool")
    cert_reqs = get("cert_reqs")
    if cert_reqs is not None and (
        isinstance(cert_reqs, bool)
        or cert_reqs not in (ssl.CERT_NONE, ssl.CERT_OPTIONAL, ssl.CERT_REQUIRED)
    ):
        raise ValueError(f"ssl_options cert_reqs must be an ssl.CERT_* value, got {cert_reqs!r}")
    for key in ("minimum_version", "maximum_version"):
        _check(f"ssl_options {key}", get(key), ssl.TLSVersion, "an ssl.TLSVersion")


_BOOL = (bool, "a bool")
# (option, checker, accepted types, wording) for every option that has a type.
_OPTION_CHECKS: tuple[tuple[str, Callable[..., None], Any, str], ...] = (
    *((n, _check_text, None, "") for n in ("auth_username", "auth_password", "ca_certs")),
    *((n, _check_text, None, "") for n in ("network_interface", "proxy_username")),
    *((n, _check_text, None, "") for n in ("proxy_password", "client_key", "client_cert")),
    ("proxy_host", _check_proxy_host, None, ""),
    ("user_agent", _check_user_agent, None, ""),
    *((n, _check_seconds, None, "") for n in ("connect_timeout", "request_timeout")),
    *((n, _check, *_BOOL) for n in ("follow_redirects", "decompress_response")),
    *((n, _check, *_BOOL) for n in ("allow_nonstandard_methods", "validate_cert")),
    *((n, _check, *_BOOL) for n in ("allow_ipv6", "expect_100_continue")),
    *((n, _check_callable, None, "") for n in ("streaming_callback", "header_callback")),
    *((n, _check_callable, None, "") for n in ("prepare_curl_callback", "body_producer")),
    ("max_redirects", _check, int, "an int"),
    ("proxy_port", _check, int, "an int"),
)


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
            self.headers["If-Modified-Since"] = _http_date(if_modified_since)
        self.body = body
        if body is not None and body_producer is not None:
            raise ValueError("body and body_producer are mutually exclusive")
        self.body_producer = body_producer
        if json is not None or form is not None or files is not None:
            self._set_payload(body, body_producer, json, form, files)
        self.auth_username = auth_username
        self.auth_password = auth_password
        self.auth_mode = auth_mode
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        if use_gzip is not None:
            _check("use_gzip", use_gzip, bool, "a bool")
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
        self._validate_options()

    def _validate_options(self) -> None:
        # Most options are None: test that first, check the rest by table.
        options = self.__dict__
        for name, check, kinds, what in _OPTION_CHECKS:
            value = options[name]
            if value is not None:
                check(name, value, kinds, what)
        if self.max_redirects is not None and self.max_redirects < 0:
            raise ValueError(f"max_redirects must be >= 0, got {self.max_redirects}")
        if self.proxy_port is not None and not 0 < self.proxy_port < 65536:
            raise ValueError(f"proxy_port must be in 1..65535, got {self.proxy_port}")
        if self.auth_mode not in _AUTH_MODES:
            raise ValueError(f"unsupported auth_mode {self.auth_mode!r} (basic or digest)")
        if self.proxy_auth_mode not in _AUTH_MODES:
            raise ValueError(
                f"unsupported proxy_auth_mode {self.proxy_auth_mode!r} (basic or digest)"
            )
        if self.http_version not in _HTTP_VERSIONS:
            raise ValueError(
                f"unsupported http_version {self.http_version!r} (None, '1.1', '2' or '3')"
            )
        if self.ssl_options is not None:
            import ssl

            if isinstance(self.ssl_options, dict):
                check_ssl_options(self.ssl_options)
            elif not isinstance(self.ssl_options, ssl.SSLContext):
                raise TypeError(
                    "ssl_options must be an ssl.SSLContext or a dict, "
                    f"got {type(self.ssl_options).__name__}"
                )

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
            _check_headers(headers)
            if request._body is not None and "Content-Length" in headers:
                _check_content_length(headers, request._body)
        if request.user_agent is not None:
            _check_user_agent("user_agent", request.user_agent)
        if not request.proxy_host and (
            request.proxy_port is not None
            or request.proxy_username is not None
            or request.proxy_password  # "" is the default
            or request.proxy_auth_mode is not None
        ):
            request._refuse_proxy_options()
        if request.client_key is not None and request.client_cert is None:
            raise ValueError("client_key needs client_cert (the certificate it belongs to)")
        request._check_method_body()
        return request

    def _set_payload(
        self,
        body: object,
        body_producer: object,
        json: object,
        form: FormArg | None,
        files: FilesArg | None,
    ) -> None:
        given = [
            name
            for name, value in (
                ("body", body),
                ("body_producer", body_producer),
                ("json", json),
                ("form", form if files is None else None),  # form + files: one multipart
                ("files", files),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise ValueError(f"one body source at most, got {' and '.join(given)}")
        built = payload(json, form, files)
        if "Content-Type" not in self.headers:
            self.headers["Content-Type"] = built.content_type
        if built.body is not None:
            self.body = built.body
        else:
            self.body_producer = built.producer
            if built.length is not None and "Content-Length" not in self.headers:
                self.headers["Content-Length"] = str(built.length)

    def _refuse_proxy_options(self) -> None:
        given = [
            name
            for name in ("proxy_port", "proxy_username", "proxy_password", "proxy_auth_mode")
            if getattr(self, name)
        ]
        raise ValueError(f"{', '.join(given)} given without proxy_host")

    def _check_method_body(self) -> None:
        if self.allow_nonstandard_methods:
            return
        method = self.method
        if method not in STANDARD_METHODS:
            raise ValueError(
                f"unknown method {method} (set allow_nonstandard_methods=True to send it)"
            )
        has_body = self._body is not None or self.body_producer is not None
        if method in _BODY_REQUIRED and not has_body:
            raise ValueError(
                f"Body must not be None for method {method} "
                "(unless allow_nonstandard_methods is true)"
            )
        if method not in _BODY_REQUIRED and has_body:
            raise ValueError(
                f"Body must be None for method {method} (unless allow_nonstandard_methods is true)"
            )

    def __repr__(self) -> str:
        return f"HTTPRequest({self.method} {self._url})"
