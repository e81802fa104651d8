"""From parsed flags to requests: headers, bodies, auth, proxy, cookies, outputs.

Every usage error (a bad header, an unreadable @file, a malformed URL) is found
here, before the first request is sent.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from squall._cli.arguments import REMOTE_NAME
from squall._cli.exits import READ_FAILED, USAGE, WRITE_FAILED, Failure
from squall._cli.multipart import Form
from squall._headers import HTTPHeaders
from squall._proxy_env import EnvProxies, NoProxy
from squall.httpclient import HTTPRequest

__all__ = ["Job", "make_jobs", "request_options", "tunnelled"]

# Options copied from the parsed arguments to HTTPRequest under the same name.
PASSTHROUGH = (
    "follow_redirects", "max_redirects", "validate_cert", "connect_timeout", "request_timeout",
    "decompress_response", "user_agent", "ca_certs", "client_cert", "client_key",
    "http_version", "proxy_host", "proxy_port",
)  # fmt: skip


@dataclass
class Job:
    """One URL to fetch: its HTTPRequest options and where its body goes."""

    url: str
    options: dict[str, Any]
    output: str | None  # a file path; None is stdout
    cookies: http.cookiejar.CookieJar | None = None
    index: int = 0

    def request(self, **callbacks: Any) -> HTTPRequest:
        """A fresh HTTPRequest for one attempt (with that attempt's callbacks)."""
        options = dict(self.options)
        headers = HTTPHeaders(options.pop("headers"))
        if self.cookies is not None:
            probe = urllib.request.Request(self.url)
            self.cookies.add_cookie_header(probe)
            cookie = probe.get_header("Cookie")
            if cookie and "Cookie" not in headers:
                headers["Cookie"] = cookie
        return HTTPRequest(self.url, headers=headers, **options, **callbacks)


def _split_pair(text: str, what: str, colon: bool = False) -> tuple[str, str]:
    first, sep, second = text.partition(":")
    if not first.strip() or (colon and not sep and not first.endswith(";")):
        hint = " (expected 'Name: value')" if colon else ""
        raise Failure(USAGE, f"bad {what} {text!r}{hint}")
    return first.strip(), second.strip() if sep else ""


def _read(path: str, binary: bool = True) -> bytes:
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
    except OSError as exc:
        raise Failure(READ_FAILED, f"can't read {path}: {exc.strerror}") from None
    # curl's -d @file drops CR and LF (a file of form fields); --data-binary keeps them.
    return data if binary else data.replace(b"\r", b"").replace(b"\n", b"")


def _urlencode(value: str) -> bytes:
    name, eq, content = value.partition("=")
    if not eq and "@" in value:  # name@file: the file's content, encoded
        name, _, path = value.partition("@")
        encoded = urllib.parse.quote_plus(_read(path))
        return f"{name}={encoded}".encode() if name else encoded.encode()
    if not eq:
        return urllib.parse.quote_plus(value).encode()
    encoded = urllib.parse.quote_plus(content)
    return f"{name}={encoded}".encode() if name else encoded.encode()


def _data(entries: list[tuple[str, str]]) -> bytes:
    parts = []
    for kind, value in entries:
        if kind == "urlencode":
            parts.append(_urlencode(value))
        elif kind != "raw" and value.startswith("@"):
            parts.append(_read(value[1:], binary=kind == "binary"))
        else:
            parts.append(value.encode())
    return b"&".join(parts)  # curl joins repeated -d with '&'


def _proxy(text: str) -> dict[str, Any]:
    """-x [scheme://][user:password@]host[:port] as HTTPRequest's proxy options."""
    url = urllib.parse.urlsplit(text if "://" in text else "http://" + text)
    try:
        host, port = url.hostname, url.port
    except ValueError as exc:
        raise Failure(USAGE, f"bad proxy {text!r}: {exc}") from None
    if not host:
        raise Failure(USAGE, f"bad proxy {text!r}")
    scheme = url.scheme.lower()
    kw: dict[str, Any] = {
        "proxy_host": host if scheme == "http" else f"{scheme}://{host}",
        "proxy_port": port or (443 if scheme == "https" else 1080),  # curl's defaults
    }
    if url.username is not None:
        kw["proxy_username"] = urllib.parse.unquote(url.username)
        kw["proxy_password"] = urllib.parse.unquote(url.password or "")
    return kw


def _headers(args: argparse.Namespace) -> tuple[HTTPHeaders, set[str]]:
    headers = HTTPHeaders()
    removed: set[str] = set()
    for line in args.header:
        name, value = _split_pair(line, "header", colon=True)
        if name.endswith(";"):  # curl: "Name;" sends the header empty
            headers.add(name[:-1], "")
        elif not value and line.rstrip().endswith(":"):  # curl: "Name:" removes it
            removed.add(name.lower())
        else:
            headers.add(name, value)
    if args.referer:
        headers.setdefault("Referer", args.referer)
    return headers, removed


def _body(args: argparse.Namespace, headers: HTTPHeaders, kw: dict[str, Any]) -> bool:
    """Set the body options; True if the request has a body."""
    if args.json:
        kw["body"] = b"".join(_read(v[1:]) if v.startswith("@") else v.encode() for v in args.json)
        headers.setdefault("Content-Type", "application/json")
        headers.setdefault("Accept", "application/json")
        return True
    if args.form:
        form = Form(args.form)  # files checked now, read while sending
        kw["body_producer"] = form.produce
        headers["Content-Type"] = form.content_type
        headers["Content-Length"] = str(form.length)
        return True
    if args.data is not None and not args.get:
        kw["body"] = _data(args.data)
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return True
    return False


def request_options(args: argparse.Namespace) -> dict[str, Any]:
    """HTTPRequest keyword arguments from the parsed flags (None: the client's default)."""
    kw = {name: getattr(args, name) for name in PASSTHROUGH}
    headers, removed = _headers(args)
    has_body = _body(args, headers, kw)
    default_method = "HEAD" if args.head else "POST" if has_body else "GET"
    kw["method"] = args.method or default_method
    # An explicit -X is sent as given, as curl does, body or not.
    kw["allow_nonstandard_methods"] = True if args.method else None
    if args.user is not None:
        kw["auth_username"], kw["auth_password"] = _split_pair(args.user, "--user")
        kw["auth_mode"] = "digest" if args.digest else "basic"
    if args.proxy is not None:
        kw.update(_proxy(args.proxy))
    if args.proxy_user is not None:
        kw["proxy_username"], kw["proxy_password"] = _split_pair(args.proxy_user, "--proxy-user")
    if args.proxy_digest:
        kw["proxy_auth_mode"] = "digest"
    for name in removed:
        headers.pop(name, None)  # HTTPHeaders is case-insensitive; absent is fine
    kw["headers"] = headers
    return {name: value for name, value in kw.items() if value is not None}


def _url(args: argparse.Namespace, url: str, query: bytes | None) -> str:
    if args.profile.default_scheme and "://" not in url:
        url = "http://" + url  # curl's guess for a URL without a scheme
    if query:
        url += ("&" if "?" in url else "?") + query.decode("latin-1")
    return url


def _remote_name(url: str) -> str:
    name = os.path.basename(urllib.parse.urlsplit(url).path)
    if not name:
        raise Failure(WRITE_FAILED, f"no file name in {url} for -O (use -o FILE)")
    return urllib.parse.unquote(name)


def _check_writable(path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise Failure(WRITE_FAILED, f"can't write {path}: no writable directory {folder}")


def _cookie_jar(args: argparse.Namespace, headers: HTTPHeaders) -> Any:
    if args.cookie is None and args.cookie_jar is None:
        return None
    jar = http.cookiejar.MozillaCookieJar()
    if args.cookie is not None and "=" in args.cookie:
        headers["Cookie"] = args.cookie  # literal cookies, as curl takes them
    elif args.cookie is not None and os.path.exists(args.cookie):
        try:
            jar.load(args.cookie, ignore_discard=True, ignore_expires=True)
        except (OSError, http.cookiejar.LoadError) as exc:
            raise Failure(READ_FAILED, f"can't read cookies from {args.cookie}: {exc}") from None
    return jar


_PROXY_OPTIONS = ("proxy_host", "proxy_port", "proxy_username", "proxy_password", "proxy_auth_mode")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _environment(noproxy: str | None) -> EnvProxies | None:
    """The proxies the environment names (curl's variables and rules); --noproxy,
    given, replaces no_proxy/NO_PROXY, as it does for curl."""
    environ = dict(os.environ)
    if noproxy is not None:
        environ.pop("NO_PROXY", None)
        environ["no_proxy"] = noproxy
    return EnvProxies.from_environ(environ)


def _route(
    args: argparse.Namespace, env: EnvProxies | None, url: str, options: dict[str, Any]
) -> dict[str, Any]:
    """``options`` with the proxy ``url`` goes through: -x unless --noproxy lists
    the host (curl's list: names and their subdomains, addresses, CIDR ranges,
    ``*`` for all), else the environment's. -U and --proxy-digest apply to
    either; with no proxy they are dropped, as curl ignores them. It decides for
    the URL given; a redirect from it keeps that choice."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        return options  # a bad port: the request's own check names it
    host = parts.hostname or ""
    proxied = "proxy_host" in options
    if proxied and args.noproxy and NoProxy(args.noproxy).matches(host, port):
        proxied = False
    elif not proxied and env is not None:
        proxy = env.proxy_for(parts.scheme.lower(), host, port)
        if proxy is not None:
            # The variable's user:password@, unless -U gives them.
            options = {**_proxy(proxy), **options}
            proxied = True
    if proxied or not any(name in options for name in _PROXY_OPTIONS):
        return options
    return {name: value for name, value in options.items() if name not in _PROXY_OPTIONS}


def tunnelled(options: dict[str, Any], url: str) -> bool:
    """Whether the request opens a CONNECT tunnel: an https URL through an HTTP(S) proxy."""
    proxy = str(options.get("proxy_host", ""))
    scheme, sep, _ = proxy.partition("://")
    kind = scheme.lower() if sep else "http"
    return bool(proxy) and url.lower().startswith("https://") and kind in ("http", "https")


def make_jobs(args: argparse.Namespace) -> list[Job]:
    """One job per URL, each request checked as the client will check it."""
    options = request_options(args)
    jar = _cookie_jar(args, options["headers"])
    query = _data(args.data) if args.get and args.data else None
    env = _environment(args.noproxy) if args.profile.trust_env else None
    jobs = []
    for index, raw in enumerate(args.urls):
        url = _url(args, raw, query)
        output = args.outputs[index] if index < len(args.outputs) else None
        if output is REMOTE_NAME:
            output = _remote_name(url)
        if output == "-":
            output = None
        if output is not None:
            _check_writable(output)
        job = Job(url, _route(args, env, url, options), output, jar, index)
        try:
            job.request().resolved({})  # the method/body and header rules, before any I/O
        except (ValueError, TypeError) as exc:
            raise Failure(USAGE, str(exc)) from None
        jobs.append(job)
    return jobs
