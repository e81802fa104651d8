"""HTTPRequest -> libcurl options, one short function per option group.

Every handle comes out of ``CurlMultiBridge.acquire`` freshly ``reset()``, so
each function only sets what differs from libcurl's defaults; a request that
uses few options costs few ``setopt`` calls. ``configure`` is the entry point;
it raises ValueError for what libcurl cannot express, before any I/O.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pycurl

from squall._curl.tunnel import SUPPRESS_CONNECT_HEADERS, tunnels
from squall._grammar import has_control
from squall._request import check_ssl_options
from squall._request_defaults import DEFAULT_USER_AGENT, credentials, default_fields

if TYPE_CHECKING:
    from squall._request import HTTPRequest

__all__ = ["CONTEXT_REFUSED", "USER_AGENT", "configure", "ssl_options_to_curl", "tls_proxy"]

USER_AGENT = f"{DEFAULT_USER_AGENT} (libcurl)"


_HTTP_PROTOCOLS = pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS
_AUTH_MODES = {
    None: pycurl.HTTPAUTH_BASIC,
    "basic": pycurl.HTTPAUTH_BASIC,
    "digest": pycurl.HTTPAUTH_DIGEST,
}
_TLS_VERSIONS = {
    ssl.TLSVersion.MINIMUM_SUPPORTED: pycurl.SSLVERSION_DEFAULT,
    ssl.TLSVersion.TLSv1: pycurl.SSLVERSION_TLSv1_0,
    ssl.TLSVersion.TLSv1_1: pycurl.SSLVERSION_TLSv1_1,
    ssl.TLSVersion.TLSv1_2: pycurl.SSLVERSION_TLSv1_2,
    ssl.TLSVersion.TLSv1_3: pycurl.SSLVERSION_TLSv1_3,
}
_TLS_MAX_VERSIONS = {
    ssl.TLSVersion.MAXIMUM_SUPPORTED: 0,
    ssl.TLSVersion.TLSv1: pycurl.SSLVERSION_MAX_TLSv1_0,
    ssl.TLSVersion.TLSv1_1: pycurl.SSLVERSION_MAX_TLSv1_1,
    ssl.TLSVersion.TLSv1_2: pycurl.SSLVERSION_MAX_TLSv1_2,
    ssl.TLSVersion.TLSv1_3: pycurl.SSLVERSION_MAX_TLSv1_3,
}


_RECV_BUFFER = 2 * 1024 * 1024


def configure(curl: Any, request: HTTPRequest) -> None:
    """Set every option of ``request`` on a freshly reset easy handle.

    The transfer's callbacks, the routing (RESOLVE/CONNECT_TO) and
    ``prepare_curl_callback`` are the caller's business.

    Args:
        curl: a ``pycurl.Curl`` straight from the pool (reset).
        request: the resolved request of this hop.

    Raises:
        ValueError: an option libcurl cannot express, or CR/LF/NUL in headers.
    """
    setopt = curl.setopt
    url = request.url
    if not url.isascii():
        # pycurl takes ASCII only: the IDNA host and percent-encoded target. The
        # userinfo is left out; _set_auth gives libcurl the URL's credentials.
        url = f"{request.scheme}://{request.netloc}{request.target}"
    setopt(pycurl.URL, url)
    setopt(pycurl.PATH_AS_IS, 1)  # no dot-segment removal: the path as the simple engine sends it
    setopt(pycurl.NOSIGNAL, 1)
    setopt(pycurl.PROTOCOLS, _HTTP_PROTOCOLS)
    # squall alone reads the proxy environment (trust_env, squall._proxy_env) and
    # decides: libcurl must read neither *_proxy ("" = no proxy) nor no_proxy (""
    # = no host goes around the proxy it is given), at any transfer.
    setopt(pycurl.PROXY, "")
    setopt(pycurl.NOPROXY, "")
    # Fewer, larger body callbacks on big downloads (each costs a Python call and a bytes
    # object): 100 MiB measured 0.36x wrk at 128 KiB, 0.57x at 512 KiB, 0.62x from 2 MiB
    # up. Since libcurl 8.6 the receive buffer is one per multi handle, and only its
    # touched pages are resident: peak RSS at 1000 small requests in flight is unchanged.
    setopt(pycurl.BUFFERSIZE, _RECV_BUFFER)
    _set_method_and_body(setopt, request)
    setopt(pycurl.HTTPHEADER, _header_lines(request))
    _set_timeouts(setopt, request)
    _set_auth(setopt, request)
    if request.scheme == "https":
        _set_tls(setopt, request)
    if request.proxy_host:
        _set_proxy(setopt, request)
    if request.http_version is not None:
        _set_http_version(setopt, request)
    if request.http_version == "2" or (request.http_version is None and request.scheme == "https"):
        # The request may go over HTTP/2 (libcurl offers h2 in ALPN by
        # default): wait for a connection that is still being set up to say
        # whether it multiplexes, rather than opening one more per request.
        setopt(pycurl.PIPEWAIT, 1)
    if request.allow_ipv6 is False:
        setopt(pycurl.IPRESOLVE, pycurl.IPRESOLVE_V4)
    if request.network_interface:
        setopt(pycurl.INTERFACE, request.network_interface)


def _set_method_and_body(setopt: Callable[..., None], request: HTTPRequest) -> None:
    method = request.method
    body = request.body
    if method == "GET":
        if body is not None or request.body_producer is not None:
            raise ValueError("the curl engine cannot send a body with GET")
        return
    if method == "HEAD":
        setopt(pycurl.NOBODY, 1)
        if body is not None or request.body_producer is not None:
            raise ValueError("the curl engine cannot send a body with HEAD")
        return
    if method != "POST" or (body is None and request.body_producer is None):
        setopt(pycurl.CUSTOMREQUEST, method)
    if request.body_producer is not None:
        # POST mode reading from READFUNCTION (set by the transfer); size -1
        # makes libcurl send chunked unless the caller gave a Content-Length.
        setopt(pycurl.POST, 1)
        length = request.headers.get("Content-Length")
        setopt(pycurl.POSTFIELDSIZE_LARGE, int(length) if length else -1)
    elif body is not None:
        setopt(pycurl.POSTFIELDSIZE_LARGE, len(body))
        setopt(pycurl.POSTFIELDS, body)


# Header lists of requests without headers of their own (most GETs), keyed by
# what shapes them: building and checking them is a large part of configure().
_PLAIN_LINES: dict[tuple[Any, ...], list[str | bytes]] = {}


def _header_lines(request: HTTPRequest) -> list[str | bytes]:
    if request.headers:
        return _build_header_lines(request)
    key = (
        request.method,
        request.body is None,
        request.expect_100_continue,
        request.decompress_response,
        request.user_agent,
    )
    lines = _PLAIN_LINES.get(key)
    if lines is None:
        lines = _build_header_lines(request)  # raises before anything is cached
        if len(_PLAIN_LINES) < 64:
            _PLAIN_LINES[key] = lines
    return lines


def _build_header_lines(request: HTTPRequest) -> list[str | bytes]:
    headers = request.headers
    lines: list[str | bytes] = []
    for name, value in headers.get_all():
        # Whitespace around a value is not part of it (RFC 9110 §5.5); libcurl
        # would send it, and over HTTP/2 that is a malformed request (RFC 9113 §8.2.1).
        value = value.strip(" \t")
        # "Name:" would make libcurl *remove* the header; "Name;" sends it empty.
        lines.append(f"{name}: {value}" if value else f"{name};")
    # libcurl adds "Expect: 100-continue" on its own for big or unknown-size
    # bodies (and waits up to 1 s for it); we send it only when asked, and
    # then libcurl honours it. It also adds "Pragma: no-cache" to proxied
    # requests. A bare "Name:" removes a header libcurl would add.
    if request.expect_100_continue:
        if "Expect" not in headers:
            lines.append("Expect: 100-continue")
    elif "Expect" not in headers:
        lines.append("Expect:")
    if "Pragma" not in headers:
        lines.append("Pragma:")
    if request.method != "POST" and request.body is not None and "Content-Type" not in headers:
        # libcurl labels any body form-urlencoded; only POST gets that default.
        lines.append("Content-Type:")
    # Accept-Encoding is decoded by squall._decoding, not libcurl: a libcurl built
    # without zstd fails the whole transfer on a zstd body, and both engines must
    # offer the same codings.
    lines.extend([f"{name}: {value}" for name, value in default_fields(request, USER_AGENT)])
    text = "".join(str(line) for line in lines) + request.method
    if has_control(text):
        raise ValueError("request method or headers contain a CR, LF or NUL character")
    if not text.isascii():
        try:
            return [line.encode("latin-1") if isinstance(line, str) else line for line in lines]
        except UnicodeEncodeError as exc:
            raise ValueError(f"header text must be latin-1: {exc}") from None
    return lines


# The largest timeout every libcurl build holds (a C long of milliseconds, 32 bits on
# Windows): 24.8 days. A longer one is clamped to it, which is as good as no limit
# (0 would not do for CONNECTTIMEOUT_MS: there it means libcurl's default, 300 s).
_MAX_TIMEOUT_MS = 2**31 - 1
_MAX_TIMEOUT_S = _MAX_TIMEOUT_MS / 1000


def _set_timeouts(setopt: Callable[..., None], request: HTTPRequest) -> None:
    # One comparison in seconds: this runs for every request.
    timeout = request.connect_timeout
    if timeout:
        ms = max(1, int(1000 * timeout)) if timeout < _MAX_TIMEOUT_S else _MAX_TIMEOUT_MS
        setopt(pycurl.CONNECTTIMEOUT_MS, ms)
    timeout = request.request_timeout
    if timeout:
        ms = max(1, int(1000 * timeout)) if timeout < _MAX_TIMEOUT_S else _MAX_TIMEOUT_MS
        setopt(pycurl.TIMEOUT_MS, ms)


def _set_auth(setopt: Callable[..., None], request: HTTPRequest) -> None:
    pair = credentials(request)
    if pair is None:
        return
    setopt(pycurl.HTTPAUTH, _AUTH_MODES[request.auth_mode])
    setopt(pycurl.USERNAME, pair[0])
    setopt(pycurl.PASSWORD, pair[1])


def _set_tls(setopt: Callable[..., None], request: HTTPRequest) -> None:
    for option, value in _tls_options(request):
        setopt(option, value)


def _tls_options(request: HTTPRequest) -> list[tuple[int, Any]]:
    if request.ssl_options is not None:
        return ssl_options_to_curl(request.ssl_options)
    opts: list[tuple[int, Any]] = []
    if not request.validate_cert:
        opts += [(pycurl.SSL_VERIFYPEER, 0), (pycurl.SSL_VERIFYHOST, 0)]
    if request.ca_certs is not None:
        opts.append((pycurl.CAINFO, request.ca_certs))
    if request.client_cert is not None:
        opts.append((pycurl.SSLCERT, request.client_cert))
    if request.client_key is not None:
        opts.append((pycurl.SSLKEY, request.client_key))
    return opts


# Each TLS option of the origin's connection -> the same for an https:// proxy's.
_PROXY_TLS = {
    pycurl.SSL_VERIFYPEER: pycurl.PROXY_SSL_VERIFYPEER,
    pycurl.SSL_VERIFYHOST: pycurl.PROXY_SSL_VERIFYHOST,
    pycurl.CAINFO: pycurl.PROXY_CAINFO,
    pycurl.SSLCERT: pycurl.PROXY_SSLCERT,
    pycurl.SSLKEY: pycurl.PROXY_SSLKEY,
    pycurl.KEYPASSWD: pycurl.PROXY_KEYPASSWD,
    pycurl.SSL_CIPHER_LIST: pycurl.PROXY_SSL_CIPHER_LIST,
    pycurl.SSLVERSION: pycurl.PROXY_SSLVERSION,
}


def tls_proxy(request: HTTPRequest) -> bool:
    """Whether ``request`` goes through an https:// proxy (TLS to the proxy)."""
    return str(request.proxy_host)[:8].lower() == "https://"


# An SSLContext cannot be read back whole: a client certificate loaded with
# load_cert_chain, a capath, ALPN or curve settings leave no trace in Python, so
# translating what can be read would silently drop the rest (the client
# certificate, at least). Refused instead, as Tornado's curl client does.
CONTEXT_REFUSED = (
    "ssl_options: the curl engine cannot take an ssl.SSLContext (libcurl cannot read"
    " its client certificate, trust store and cipher settings back from it, and would"
    " silently drop them); use client_cert/client_key, ca_certs and validate_cert, or"
    " the dict form of ssl_options (certfile, keyfile, password, ca_certs, cert_reqs,"
    " check_hostname, ciphers, minimum_version, maximum_version)"
)


def ssl_options_to_curl(ssl_options: ssl.SSLContext | dict[str, Any]) -> list[tuple[int, Any]]:
    """Translate ``ssl_options`` into libcurl options.

    A dict may use ``certfile``, ``keyfile``, ``password``, ``ca_certs``,
    ``cert_reqs``, ``check_hostname``, ``ciphers``, ``minimum_version``,
    ``maximum_version`` and ``ssl_version`` (``PROTOCOL_TLS``/``_CLIENT``); each
    key means what it means to the simple engine's ``ssl`` module. An SSLContext
    is refused (``CONTEXT_REFUSED`` says why).

    Raises:
        ValueError: an SSLContext, or a key or setting libcurl cannot express.
        TypeError: a value of the wrong type.
    """
    if isinstance(ssl_options, ssl.SSLContext):
        raise ValueError(CONTEXT_REFUSED)
    # HTTPRequest checked it when it was built; the dict may have changed since.
    check_ssl_options(ssl_options)
    opts: list[tuple[int, Any]] = []
    get = ssl_options.get
    version = get("ssl_version")
    if version not in (None, ssl.PROTOCOL_TLS, ssl.PROTOCOL_TLS_CLIENT):
        raise ValueError(f"ssl_options ssl_version {version!r} cannot be expressed with libcurl")
    for key, option in (
        ("certfile", pycurl.SSLCERT),
        ("keyfile", pycurl.SSLKEY),
        ("password", pycurl.KEYPASSWD),
        ("ca_certs", pycurl.CAINFO),
        ("ciphers", pycurl.SSL_CIPHER_LIST),
    ):
        if get(key) is not None:
            opts.append((option, get(key)))
    if get("cert_reqs") == ssl.CERT_NONE:
        opts += [(pycurl.SSL_VERIFYPEER, 0), (pycurl.SSL_VERIFYHOST, 0)]
    elif get("check_hostname") is False:
        # CERT_OPTIONAL verifies the server as CERT_REQUIRED does: a client always
        # gets the server's certificate (the ssl module documents the same).
        opts.append((pycurl.SSL_VERIFYHOST, 0))
    opts += _version_range(get("minimum_version"), get("maximum_version"))
    return opts


def _version_range(minimum: Any, maximum: Any) -> list[tuple[int, Any]]:
    if minimum is None and maximum is None:
        return []
    try:
        low = _TLS_VERSIONS[minimum] if minimum is not None else pycurl.SSLVERSION_DEFAULT
        high = _TLS_MAX_VERSIONS[maximum] if maximum is not None else 0
    except KeyError as exc:
        raise ValueError(f"TLS version {exc.args[0]!r} cannot be expressed with libcurl") from None
    if low == pycurl.SSLVERSION_DEFAULT and high == 0:
        return []
    if low == pycurl.SSLVERSION_DEFAULT:
        low = pycurl.SSLVERSION_TLSv1_0  # a maximum needs an explicit minimum
    return [(pycurl.SSLVERSION, low | high)]


def _set_proxy(setopt: Callable[..., None], request: HTTPRequest) -> None:
    # proxy_host may carry a scheme: "socks5h://host" (names resolved by the
    # proxy), "socks5://", "socks4a://", "socks4://", "https://" (TLS to the
    # proxy) or "http://" (the default). libcurl reads the scheme itself.
    setopt(pycurl.PROXY, request.proxy_host)
    if request.proxy_port:
        setopt(pycurl.PROXYPORT, request.proxy_port)
    # A proxy's CONNECT responses stay out of the header callback, so the heads
    # parsed are the origin's; a tunnel's are kept apart instead (tunnel.ConnectHeads).
    setopt(SUPPRESS_CONNECT_HEADERS, 1)
    if tunnels(request):
        # libcurl's CONNECT carries CURLOPT_USERAGENT (PycURL's own without it),
        # the origin's request the User-Agent of our header list: the CONNECT
        # gets the one the simple engine sends.
        setopt(pycurl.USERAGENT, request.user_agent or DEFAULT_USER_AGENT)
    if tls_proxy(request):
        # The request's TLS settings check the proxy too, as on the simple engine
        # (its ca_certs, validate_cert, client certificate, versions).
        for option, value in _tls_options(request):
            setopt(_PROXY_TLS[option], value)
    if request.proxy_username:
        setopt(pycurl.PROXYUSERNAME, request.proxy_username)
        setopt(pycurl.PROXYPASSWORD, request.proxy_password or "")
        setopt(pycurl.PROXYAUTH, _AUTH_MODES[request.proxy_auth_mode])


def _set_http_version(setopt: Callable[..., None], request: HTTPRequest) -> None:
    version = request.http_version
    if version == "1.1":
        setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
    elif version == "2":
        tls = request.scheme == "https"
        # Over TLS, ALPN picks h2; in clear text there is no negotiation, so
        # "2" means HTTP/2 with prior knowledge (RFC 9113 section 3.3).
        setopt(
            pycurl.HTTP_VERSION,
            pycurl.CURL_HTTP_VERSION_2_0 if tls else pycurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE,
        )
    elif version == "3":
        if request.scheme != "https":
            raise ValueError("http_version '3' (QUIC) needs an https URL")
        if not pycurl.version_info()[4] & pycurl.VERSION_HTTP3:
            raise ValueError("this libcurl was built without HTTP/3 support")
        # HTTP/3 only: CURL_HTTP_VERSION_3 would race TCP and quietly answer
        # over HTTP/2 when QUIC fails; a caller asking for "3" gets 3 or an error.
        setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_3ONLY)
    else:
        raise ValueError(f"unsupported http_version {version!r} (None, '1.1', '2' or '3')")
