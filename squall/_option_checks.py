"""The checks of HTTPRequest's options, each on the value of one option.

``HTTPRequest`` runs ``check_options`` on its ``__dict__`` once, at
construction: a table row per typed option (name, checker, accepted types,
wording), tried only when the option is not None (most are), then the rules on
one option's value (ranges, the enumerations, ``ssl_options``). Header text is
checked later, by ``HTTPRequest.resolved`` (``check_headers``): a request's
headers may change after it was built, and the client's defaults may add a
``user_agent``. Every message names the option, so a wrong value is found
where it was given.
"""

from __future__ import annotations

import datetime
import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any, cast

from squall._grammar import has_control, is_token, names_are_tokens, value_problem
from squall._headers import HTTPHeaders, format_timestamp
from squall._proxies import redacted

__all__ = [
    "SSL_OPTION_KEYS",
    "check_headers",
    "check_options",
    "check_ssl_options",
    "check_type",
    "check_user_agent",
    "http_date",
]

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


def check_type(name: str, value: object, kinds: type | tuple[type, ...], what: str) -> None:
    """A TypeError naming ``name`` unless ``value`` is None or one of ``kinds``."""
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
    check_type(name, value, numbers.Real, "a number of seconds")
    if value is not None and not 0 <= cast(float, value) < float("inf"):
        raise ValueError(f"{name} must be >= 0 and finite, got {value!r}")


def _check_callable(name: str, value: object, kinds: object = None, what: str = "") -> None:
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be callable or None, got {type(value).__name__}")


def _check_text(name: str, value: object, kinds: object = None, what: str = "") -> None:
    # A str option: NUL would truncate it in C (libcurl, the OS), and a lone
    # surrogate cannot be encoded when it is used.
    check_type(name, value, str, "a str")
    text = cast(str, value)
    if "\x00" in text:
        # Never a password in a message, nor proxy_host's credentials.
        shown = "" if "password" in name else f": {text!r}"
        if name == "proxy_host":
            shown = f": {redacted(text)!r}"
        raise ValueError(f"{name} contains a NUL character{shown}")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"{name} cannot be encoded as UTF-8: {exc.reason}") from None


def _check_proxy_host(name: str, value: object, kinds: object = None, what: str = "") -> None:
    _check_text(name, value)
    if _NOT_IN_HOST.search(cast(str, value)) is not None:
        raise ValueError(f"{name} contains white space or a control character: {value!r}")


def check_user_agent(name: str, value: object, kinds: object = None, what: str = "") -> None:
    """A TypeError or ValueError unless ``value`` is a str a header value may hold."""
    check_type(name, value, str, "a str")
    problem = value_problem(cast(str, value))
    if problem is not None:
        raise ValueError(f"{name} {problem}: {value!r}")


def check_headers(headers: HTTPHeaders) -> None:
    """A ValueError naming the first header whose name is no token or whose
    value could split the message or not be sent."""
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


def http_date(value: object) -> str:
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
    check_type("ssl_options check_hostname", get("check_hostname"), bool, "a bool")
    cert_reqs = get("cert_reqs")
    if cert_reqs is not None and (
        isinstance(cert_reqs, bool)
        or cert_reqs not in (ssl.CERT_NONE, ssl.CERT_OPTIONAL, ssl.CERT_REQUIRED)
    ):
        raise ValueError(f"ssl_options cert_reqs must be an ssl.CERT_* value, got {cert_reqs!r}")
    for key in ("minimum_version", "maximum_version"):
        check_type(f"ssl_options {key}", get(key), ssl.TLSVersion, "an ssl.TLSVersion")


_BOOL = (bool, "a bool")
# (option, checker, accepted types, wording) for every option that has a type.
_OPTION_CHECKS: tuple[tuple[str, Callable[..., None], Any, str], ...] = (
    *((n, _check_text, None, "") for n in ("auth_username", "auth_password", "ca_certs")),
    *((n, _check_text, None, "") for n in ("network_interface", "proxy_username")),
    *((n, _check_text, None, "") for n in ("proxy_password", "client_key", "client_cert")),
    ("proxy_host", _check_proxy_host, None, ""),
    ("user_agent", check_user_agent, None, ""),
    *((n, _check_seconds, None, "") for n in ("connect_timeout", "request_timeout")),
    *((n, check_type, *_BOOL) for n in ("follow_redirects", "decompress_response")),
    *((n, check_type, *_BOOL) for n in ("allow_nonstandard_methods", "validate_cert")),
    *((n, check_type, *_BOOL) for n in ("allow_ipv6", "expect_100_continue")),
    *((n, _check_callable, None, "") for n in ("streaming_callback", "header_callback")),
    *((n, _check_callable, None, "") for n in ("prepare_curl_callback", "body_producer")),
    ("max_redirects", check_type, int, "an int"),
    ("proxy_port", check_type, int, "an int"),
)


def check_options(options: Mapping[str, Any]) -> None:
    """Check every option of a request (its ``__dict__``) on its own value.

    Raises:
        TypeError: an option has the wrong type.
        ValueError: an option has a bad value.
    """
    # Most options are None: test that first, check the rest by table.
    for name, check, kinds, what in _OPTION_CHECKS:
        value = options[name]
        if value is not None:
            check(name, value, kinds, what)
    max_redirects = options["max_redirects"]
    if max_redirects is not None and max_redirects < 0:
        raise ValueError(f"max_redirects must be >= 0, got {max_redirects}")
    proxy_port = options["proxy_port"]
    if proxy_port is not None and not 0 < proxy_port < 65536:
        raise ValueError(f"proxy_port must be in 1..65535, got {proxy_port}")
    if options["auth_mode"] not in _AUTH_MODES:
        raise ValueError(f"unsupported auth_mode {options['auth_mode']!r} (basic or digest)")
    if options["proxy_auth_mode"] not in _AUTH_MODES:
        raise ValueError(
            f"unsupported proxy_auth_mode {options['proxy_auth_mode']!r} (basic or digest)"
        )
    if options["http_version"] not in _HTTP_VERSIONS:
        raise ValueError(
            f"unsupported http_version {options['http_version']!r} (None, '1.1', '2' or '3')"
        )
    ssl_options = options["ssl_options"]
    if ssl_options is not None:
        import ssl

        if isinstance(ssl_options, dict):
            check_ssl_options(ssl_options)
        elif not isinstance(ssl_options, ssl.SSLContext):
            raise TypeError(
                f"ssl_options must be an ssl.SSLContext or a dict, got {type(ssl_options).__name__}"
            )
