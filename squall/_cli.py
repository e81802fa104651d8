"""The command line: ``python -m squall.httpclient [options] URL [URL ...]``.

Fetches each URL with the blocking HTTPClient and writes the body to stdout,
as ``python -m tornado.httpclient`` does. It takes Tornado's flags (spelt with
``_`` or ``-``, as ``--flag``, ``--no-flag`` or ``--flag=true|false``) and the
curl flags people type (``-X``, ``-H``, ``-d``, ``-i``, ``-I``, ``-k``, ``-u``,
``-o``, ``-v``, ...), each mapped to an HTTPRequest option. Every usage error
is found before the first request is sent.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import re
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any, NamedTuple

from squall import _errors as errors
from squall._configurable import ENGINES
from squall._headers import HTTPHeaders
from squall.httpclient import AsyncHTTPClient, HTTPClient, HTTPRequest, HTTPResponse

__all__ = ["main"]


# curl's exit status where one means the same thing. Looked up along the
# exception's MRO, so the most specific class wins.
EXIT_CODES: dict[type[BaseException], int] = {
    errors.HTTPNameResolutionError: 6,
    errors.HTTPConnectionError: 7,
    errors.RemoteProtocolError: 8,
    errors.HTTPTimeoutError: 28,
    errors.HTTPTLSError: 35,
    errors.HTTPStreamClosedError: 56,
    errors.HTTPConnectionResetError: 56,
    errors.HTTPCertificateError: 60,
    errors.ResponseTooLargeError: 63,
    errors.HTTPClientError: 1,
}
USAGE, NO_CONNECTION, WRITE_FAILED, READ_FAILED, INTERRUPTED = 2, 7, 23, 26, 130

EPILOG = """\
Tornado's flags also take underscores and an explicit value, e.g.
--print_headers --print_body=false --follow_redirects=false --validate_cert=false.

exit status:
  0    every URL answered 2xx              23   could not write the output
  1    an HTTP error status (4xx, 5xx, or   26   could not read a -d @file
       a 3xx not followed); it is printed  28   timeout
  2    usage error (bad flag, URL, header,  35   TLS error
       unavailable engine)                 56   connection closed mid-response
  6    could not resolve the host          60   certificate verification failed
  7    could not connect                   63   response too large
  8    malformed HTTP response             130  interrupted
The curl engine's other failures exit with libcurl's error number. With several
URLs the exit status is that of the last one that failed.
"""

# Options copied from the parsed arguments to HTTPRequest under the same name.
PASSTHROUGH = (
    "follow_redirects", "max_redirects", "validate_cert", "connect_timeout", "request_timeout",
    "decompress_response", "user_agent", "ca_certs", "client_cert", "client_key",
    "http_version", "proxy_host", "proxy_port",
)  # fmt: skip
BOOLEAN_FLAGS = frozenset(
    {"print-headers", "print-body", "follow-redirects", "validate-cert", "compressed"}
)
_BOOL_WORDS = {"true": True, "1": True, "yes": True, "on": True,
               "false": False, "0": False, "no": False, "off": False}  # fmt: skip
_TIMES = ("namelookup", "connect", "appconnect", "pretransfer", "starttransfer", "redirect")
WRITE_OUT: dict[str, Callable[[HTTPResponse], object]] = {
    "http_code": lambda r: r.code,
    "response_code": lambda r: r.code,
    "size_download": lambda r: len(r.body),
    "url_effective": lambda r: r.effective_url,
    "content_type": lambda r: r.headers.get("Content-Type", ""),
    "time_total": lambda r: f"{r.time_info.get('total', r.request_time or 0.0):.6f}",
    **{f"time_{k}": (lambda r, k=k: f"{r.time_info.get(k, 0.0):.6f}") for k in _TIMES},  # type: ignore[misc]
}


class Failure(Exception):
    """An expected failure: one line for stderr and the exit status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Job(NamedTuple):
    request: HTTPRequest
    header_lines: list[str]  # filled by header_callback: the final response's raw header block


def build_parser(engine: str | None) -> argparse.ArgumentParser:
    """The argument parser (long options spelt with dashes; see normalize())."""
    p = argparse.ArgumentParser(
        prog="python -m squall.httpclient",
        description="Fetch each URL with squall's blocking HTTPClient and print the body.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("urls", nargs="+", metavar="URL")
    bool_flag = argparse.BooleanOptionalAction
    t = p.add_argument_group("Tornado's flags")
    t.add_argument("--print-headers", action=bool_flag, default=False, help="print the headers")
    t.add_argument("--print-body", action=bool_flag, default=True, help="print the body")
    t.add_argument("--follow-redirects", action=bool_flag, default=True, help="follow 3xx")
    t.add_argument("--validate-cert", action=bool_flag, default=True, help="check TLS certs")
    t.add_argument("--proxy-host", help="proxy host (curl engine)")
    t.add_argument("--proxy-port", type=int, help="proxy port (curl engine)")
    t.add_argument("--logging", choices=["debug", "info", "warning", "error", "none"])
    # curl aliases share Tornado's destinations; SUPPRESS keeps Tornado's defaults.
    alias: dict[str, Any] = {"default": argparse.SUPPRESS}
    c = p.add_argument_group("curl's flags")
    c.add_argument("-X", "--request", dest="method", help="request method")
    c.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    c.add_argument("-d", "--data", action="append", help="request body, @file or @- (stdin)")
    c.add_argument("-i", "--include", dest="print_headers", action="store_true", **alias)
    c.add_argument("-I", "--head", action="store_true", help="HEAD request, print headers")
    c.add_argument("-L", "--location", dest="follow_redirects", action="store_true", **alias)
    c.add_argument("--max-redirs", dest="max_redirects", type=int, metavar="N")
    c.add_argument("-k", "--insecure", dest="validate_cert", action="store_false", **alias)
    c.add_argument("-u", "--user", metavar="USER:PASSWORD", help="basic auth credentials")
    c.add_argument("--digest", action="store_true", help="digest auth (curl engine)")
    c.add_argument("-A", "--user-agent")
    c.add_argument("-m", "--max-time", dest="request_timeout", type=float, metavar="SECONDS")
    c.add_argument("--connect-timeout", type=float, metavar="SECONDS")
    c.add_argument("--compressed", dest="decompress_response", action=bool_flag)
    c.add_argument("--cacert", dest="ca_certs", metavar="FILE")
    c.add_argument("--cert", dest="client_cert", metavar="FILE")
    c.add_argument("--key", dest="client_key", metavar="FILE")
    c.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    c.add_argument("-s", "--silent", action="store_true", help="no error messages")
    c.add_argument("-S", "--show-error", action="store_true", help="error messages despite -s")
    c.add_argument("-v", "--verbose", action="store_true", help="request and timings to stderr")
    c.add_argument("-w", "--write-out", metavar="FORMAT", help="e.g. '%%{http_code}\\n'")
    for flag, version in (("--http1.1", "1.1"), ("--http2", "2"), ("--http3", "3")):
        c.add_argument(flag, dest="http_version", action="store_const", const=version)
    c.add_argument("-x", "--proxy", metavar="HOST:PORT", help="proxy (curl engine)")
    c.add_argument("--proxy-user", metavar="USER:PASSWORD")
    p.add_argument("--engine", choices=sorted(ENGINES), default=engine, help="default: configured")
    return p


def normalize(argv: list[str]) -> list[str]:
    """Tornado spellings to argparse ones: ``--print_body=false`` -> ``--no-print-body``."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return out + argv[i:]
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            name = name.replace("_", "-")
            if eq and name in BOOLEAN_FLAGS:
                if value.lower() not in _BOOL_WORDS:
                    raise Failure(USAGE, f"--{name} takes true or false, not {value!r}")
                name, eq, value = ("" if _BOOL_WORDS[value.lower()] else "no-") + name, "", ""
            arg = f"--{name}{eq}{value}"
        out.append(arg)
    return out


def _split_pair(text: str, what: str, colon: bool = False) -> tuple[str, str]:
    first, sep, second = text.partition(":")
    if not first.strip() or (colon and not sep):
        hint = " (expected 'Name: value')" if colon else ""
        raise Failure(USAGE, f"bad {what} {text!r}{hint}")
    return first.strip(), second.strip() if sep else ""


def _read_body(values: list[str]) -> bytes:
    parts = []
    for value in values:
        if not value.startswith("@"):
            parts.append(value.encode())
            continue
        try:
            if value == "@-":
                parts.append(sys.stdin.buffer.read())
            else:
                with open(value[1:], "rb") as f:
                    parts.append(f.read())
        except OSError as exc:
            raise Failure(READ_FAILED, f"can't read {value[1:]}: {exc.strerror}") from None
    return b"&".join(parts)  # curl joins repeated -d with '&'


def _proxy_address(text: str) -> tuple[str, int]:
    address = text.split("://")[-1].rstrip("/")  # curl takes a URL or host[:port]
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        host, port = address, "1080"  # curl's default proxy port
    return host.strip("[]"), int(port)


def request_options(args: argparse.Namespace) -> dict[str, Any]:
    """HTTPRequest keyword arguments from the parsed flags (None: the client's default)."""
    kw = {name: getattr(args, name) for name in PASSTHROUGH}
    headers = HTTPHeaders()
    for line in args.header:
        headers.add(*_split_pair(line, "header", colon=True))
    kw["headers"] = headers
    if args.data is not None:
        kw["body"] = _read_body(args.data)
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    default_method = "HEAD" if args.head else "POST" if args.data is not None else "GET"
    kw["method"] = args.method or default_method
    # An explicit -X is sent as given, as curl does, body or not.
    kw["allow_nonstandard_methods"] = True if args.method else None
    if args.user is not None:
        kw["auth_username"], kw["auth_password"] = _split_pair(args.user, "--user")
        kw["auth_mode"] = "digest" if args.digest else "basic"
    if args.proxy is not None:
        kw["proxy_host"], kw["proxy_port"] = _proxy_address(args.proxy)
    if args.proxy_user is not None:
        kw["proxy_username"], kw["proxy_password"] = _split_pair(args.proxy_user, "--proxy-user")
    return {name: value for name, value in kw.items() if value is not None}


def make_jobs(args: argparse.Namespace) -> list[Job]:
    """One request per URL, each checked as the client will check it."""
    options = request_options(args)
    jobs = []
    for url in args.urls:
        lines: list[str] = []
        try:
            request = HTTPRequest(url, header_callback=lines.append, **options)
            request.resolved({})  # the method/body and header rules, before any I/O
        except (ValueError, TypeError) as exc:
            raise Failure(USAGE, str(exc)) from None
        jobs.append(Job(request, lines))
    return jobs


def engine_class(name: str | None) -> type[AsyncHTTPClient]:
    """The engine named by --engine, else the configured one."""
    try:
        if name is None:
            return AsyncHTTPClient.configured_class()  # type: ignore[return-value]
        module_name, _, class_name = ENGINES[name].rpartition(".")
        cls: type[AsyncHTTPClient] = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, ValueError) as exc:
        raise Failure(USAGE, f"the {name or 'configured'} engine is unavailable: {exc}") from None
    return cls


def exit_status(exc: errors.HTTPClientError) -> int:
    """The exit status for a failed fetch (see EPILOG)."""
    if isinstance(exc, errors.CurlError) and 0 < exc.errno < 256:
        return exc.errno
    status = next(EXIT_CODES[k] for k in type(exc).__mro__ if k in EXIT_CODES)
    return NO_CONNECTION if status == 1 and exc.code == errors.NO_RESPONSE else status


def write_out(fmt: str, response: HTTPResponse) -> bytes:
    """-w: curl's ``%{variable}`` and backslash escapes; unknown variables stay as typed."""
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    text = re.sub(r"\\([ntr\\])", lambda m: escapes[m[1]], fmt)
    value = lambda m: str(WRITE_OUT[m[1]](response)) if m[1] in WRITE_OUT else m[0]  # noqa: E731
    return re.sub(r"%\{(\w+)\}", value, text).encode()


def print_response(
    job: Job, response: HTTPResponse, args: argparse.Namespace, out: IO[bytes]
) -> None:
    """Write what was asked for: the header block, the body, the -w line."""
    parts = []
    if args.print_headers or args.head:
        block = "".join(job.header_lines) or (
            f"HTTP/1.1 {response.code} {response.reason}\r\n{response.headers}\r\n"
        )
        parts.append(block.encode("latin-1", "replace"))
    if args.print_body:
        parts.append(response.body)
    if args.write_out is not None:
        parts.append(write_out(args.write_out, response))
    try:
        out.write(b"".join(parts))
        out.flush()
    except OSError as exc:  # a closed pipe, a full disk
        raise Failure(WRITE_FAILED, f"write failed: {exc.strerror or exc}") from None


def print_verbose(job: Job, response: HTTPResponse | None) -> None:
    """-v: the request as built and the response's timings, on stderr."""
    request = job.request
    lines = [f"> {request.method} {request.url}"]
    lines += [f"> {name}: {value}" for name, value in request.headers.get_all()]
    if response is not None:
        lines += [f"< {line.rstrip()}" for line in job.header_lines if line.strip()]
        times = " ".join(f"{k}={v:.6f}" for k, v in response.time_info.items())
        lines.append(f"* {response.code} in {response.request_time or 0.0:.6f}s; {times}")
    print("\n".join(lines), file=sys.stderr)


def fetch_one(client: HTTPClient, job: Job, args: argparse.Namespace, out: IO[bytes]) -> int:
    """Fetch one URL and print it; returns its exit status."""
    try:
        response = client.fetch(job.request)
    except errors.HTTPClientError as exc:
        # Like Tornado, a status error still prints the response that came with it.
        if exc.response is not None and exc.code != errors.NO_RESPONSE:
            print_response(job, exc.response, args, out)
        if args.verbose:
            print_verbose(job, exc.response)
        complain(args, str(exc) if len(args.urls) == 1 else f"{job.request.url}: {exc}")
        return exit_status(exc)
    except NotImplementedError as exc:  # an option this engine lacks (proxies on simple)
        complain(args, f"{exc}" + ("" if args.engine == "curl" else " (try --engine curl)"))
        return USAGE
    except (ValueError, TypeError) as exc:
        complain(args, str(exc))
        return USAGE
    print_response(job, response, args, out)
    if args.verbose:
        print_verbose(job, response)
    return 0


def complain(args: argparse.Namespace | None, message: str) -> None:
    if args is None or not args.silent or args.show_error:
        print(f"squall: {message}", file=sys.stderr)


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[IO[bytes]]:
    if path is None or path == "-":
        yield sys.stdout.buffer
        return
    try:
        f = open(path, "wb")  # noqa: SIM115 (closed below; the error needs its own status)
    except OSError as exc:
        raise Failure(WRITE_FAILED, f"can't write {path}: {exc.strerror}") from None
    with f:
        yield f


def main(argv: list[str] | None = None, engine: str | None = None) -> int:
    """Run the command line; returns the exit status (see ``--help``).

    Args:
        argv: the arguments (default ``sys.argv[1:]``).
        engine: the engine used when ``--engine`` is not given (``"simple"``
            or ``"curl"``); None means the configured one.
    """
    parser = build_parser(engine)
    args = None
    try:
        args = parser.parse_args(normalize(sys.argv[1:] if argv is None else argv))
        if args.logging and args.logging != "none":
            logging.basicConfig(level=args.logging.upper(), stream=sys.stderr)
        jobs = make_jobs(args)
        cls = engine_class(args.engine)
        status = 0
        with open_output(args.output) as out, HTTPClient(cls) as client:
            for job in jobs:
                status = fetch_one(client, job, args, out) or status
        return status
    except SystemExit as exc:  # argparse: --help, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else USAGE
    except Failure as exc:
        complain(args, str(exc))
        return exc.status
    except KeyboardInterrupt:
        return INTERRUPTED
