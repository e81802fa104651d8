"""The command line's flags: one argparse parser, two profiles.

``SEED`` is ``python -m squall.httpclient`` as it always was: Tornado's flags
(spelt with ``_`` or ``-``, as ``--flag``, ``--no-flag`` or ``--flag=true``),
Tornado's defaults (redirects followed, 20 s timeouts, exit 1 on an HTTP error
status). ``SQUALL`` is the ``squall`` command: the same flags with curl's
defaults (no redirects without ``-L``, no timeout without ``-m``, a URL without
a scheme is ``http://``, exit 0 for any response unless ``--fail``).

A usage error is one line and a hint, as curl prints it, never the usage block.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, NoReturn

from squall import __version__
from squall._cli.exits import EPILOG, USAGE, Failure
from squall._configurable import ENGINES

__all__ = ["REMOTE_NAME", "SEED", "SQUALL", "Profile", "build_parser", "normalize", "parse"]

REMOTE_NAME = object()  # an -O in the list of outputs: the name comes from the URL


@dataclass(frozen=True)
class Profile:
    """What differs between the seed command and ``squall``."""

    prog: str
    follow_redirects: bool
    max_redirects: int | None  # None: the library's default
    status_error_exit: bool  # exit 1 on an HTTP error status, as the seed always did
    default_scheme: bool  # "example.com" means "http://example.com"
    decompress: bool | None  # None: the library's default (ask for compression)
    connect_timeout: float | None
    request_timeout: float | None
    trust_env: bool = False  # *_proxy and no_proxy from the environment, as curl reads them


SEED = Profile("python -m squall.httpclient", True, None, True, False, None, None, None)
# curl: no redirects, 50 with -L, no overall timeout, 300 s to connect.
SQUALL = Profile("squall", False, 50, False, True, False, 300.0, 0.0, trust_env=True)

BOOLEAN_FLAGS = frozenset(
    {"print-headers", "print-body", "follow-redirects", "validate-cert", "compressed"}
)
_BOOL_WORDS = {"true": True, "1": True, "yes": True, "on": True,
               "false": False, "0": False, "no": False, "off": False}  # fmt: skip


TORNADO_SPELLINGS = """\
Tornado's flags also take underscores and an explicit value, e.g.
--print_headers --print_body=false --follow_redirects=false.

"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # curl's shape: the problem, then where to look; not the usage block.
        raise Failure(USAGE, f"{message}\n{self.prog}: try '{self.prog} --help' for more")


class _Output(argparse.Action):
    """-o FILE and -O go into one list, in order: each is for the next URL (curl)."""

    def __call__(self, parser: Any, ns: Any, values: Any, option: str | None = None) -> None:
        outputs = list(getattr(ns, "outputs", None) or [])
        outputs.append(values if isinstance(values, str) else REMOTE_NAME)
        ns.outputs = outputs


def _add_tornado(p: argparse.ArgumentParser, profile: Profile) -> None:
    bool_flag = argparse.BooleanOptionalAction
    t = p.add_argument_group("Tornado's flags")
    # squall takes them too, without listing them: its help is curl's flags.
    shown = profile.status_error_exit

    def add(*names: str, help: str | None = None, **kw: Any) -> None:
        t.add_argument(*names, help=help if shown else argparse.SUPPRESS, **kw)

    add("--print-headers", action=bool_flag, default=False, help="print the headers")
    add("--print-body", action=bool_flag, default=True, help="print the body")
    add("--follow-redirects", action=bool_flag, default=profile.follow_redirects,
        help="follow 3xx")  # fmt: skip
    add("--validate-cert", action=bool_flag, default=True, help="check TLS certs")
    add("--proxy-host", help="proxy host")
    add("--proxy-port", type=int, help="proxy port")
    add("--logging", choices=["debug", "info", "warning", "error", "none"], help="log level")


def _add_request(c: argparse._ArgumentGroup, profile: Profile) -> None:
    alias: dict[str, Any] = {"default": argparse.SUPPRESS}  # keeps the Tornado flag's default
    add = c.add_argument
    add("-X", "--request", dest="method", help="request method")
    add("-H", "--header", action="append", default=[], help="'Name: value'; 'Name:' removes it")
    add("-d", "--data", dest="data", action="append", type=lambda v: ("data", v),
        help="body text, @file (newlines dropped) or @- (stdin); repeats join with &")  # fmt: skip
    add("--data-binary", dest="data", action="append", type=lambda v: ("binary", v),
        help="like -d, @file sent as is")  # fmt: skip
    add("--data-raw", dest="data", action="append", type=lambda v: ("raw", v), help="no @")
    add("--data-urlencode", dest="data", action="append", type=lambda v: ("urlencode", v),
        help="name=value, =value, name@file: URL-encoded")  # fmt: skip
    add("--json", action="append", help="JSON body (text, @file, @-): sets Content-Type, Accept")
    add("-F", "--form", action="append", default=[], help="name=value, name=@file[;type=...]")
    add("-G", "--get", action="store_true", help="send the -d data as the query string")
    add("-u", "--user", metavar="USER:PASSWORD", help="credentials (basic auth)")
    add("--digest", action="store_true", help="digest auth")
    add("-A", "--user-agent", metavar="TEXT", help="the User-Agent header")
    add("-e", "--referer", metavar="URL", help="the Referer header")
    add("-b", "--cookie", metavar="DATA|FILE", help="'a=1; b=2', or a cookie file to read")
    add("-c", "--cookie-jar", metavar="FILE", help="write the cookies to FILE afterwards")
    add("-I", "--head", action="store_true", help="HEAD request, print the headers")
    add("-L", "--location", dest="follow_redirects", action="store_true", **alias,
        help="follow redirects")  # fmt: skip
    add("--max-redirs", dest="max_redirects", type=int, metavar="N",
        default=profile.max_redirects, help="at most N redirects with -L (exit 47)")  # fmt: skip
    add("-k", "--insecure", dest="validate_cert", action="store_false", **alias,
        help="do not verify the server's certificate")  # fmt: skip
    add("--cacert", dest="ca_certs", metavar="FILE", help="CA bundle (PEM) to verify with")
    add("--cert", dest="client_cert", metavar="FILE", help="client certificate (PEM)")
    add("--key", dest="client_key", metavar="FILE", help="client key (PEM)")
    add("-x", "--proxy", metavar="[SCHEME://]HOST[:PORT]", help="http, https, socks5h...")
    add("-U", "--proxy-user", metavar="USER:PASSWORD", help="proxy credentials (basic auth)")
    add("--proxy-digest", action="store_true", help="digest auth to the proxy")
    add(
        "--noproxy",
        metavar="HOSTS",
        help="hosts reached directly, a comma list ('*': all; over no_proxy)",
    )
    add("-m", "--max-time", dest="request_timeout", type=float, metavar="SECONDS",
        default=profile.request_timeout, help="the whole transfer (exit 28)")  # fmt: skip
    add("--connect-timeout", type=float, metavar="SECONDS", default=profile.connect_timeout,
        help="DNS, TCP and TLS setup")  # fmt: skip
    add("--compressed", dest="decompress_response", action=argparse.BooleanOptionalAction,
        default=profile.decompress, help="ask for a compressed response and decode it")  # fmt: skip
    versions = (
        ("--http1.1", "1.1", "HTTP/1.1 only"),
        (
            "--http2",
            "2",
            "HTTP/2: by ALPN over TLS (HTTP/1.1 if the server lacks it); on"
            " http:// with prior knowledge (curl's --http2 would try an Upgrade)",
        ),
        ("--http2-prior-knowledge", "2", "HTTP/2 with prior knowledge on http:// (as --http2)"),
        ("--http3", "3", "HTTP/3 over QUIC only (curl engine)"),
    )
    for flag, version, text in versions:
        add(flag, dest="http_version", action="store_const", const=version,
            help=text)  # fmt: skip
    add("--retry", type=int, default=0, metavar="N", help="retry transient failures N times")
    add("--retry-delay", type=float, metavar="SECONDS", help="fixed delay (default 1, 2, 4...)")
    add("--retry-connrefused", action="store_true", help="also retry a refused connection")
    add("-Z", "--parallel", action="store_true", help="fetch the URLs concurrently")
    add("--parallel-max", type=int, default=50, metavar="N", help="at most N at once (50)")


def _add_output(c: argparse._ArgumentGroup) -> None:
    add = c.add_argument
    add("-o", "--output", action=_Output, metavar="FILE", help="write the body to FILE")
    add("-O", "--remote-name", action=_Output, nargs=0, help="write to the URL's file name")
    add("-i", "--include", dest="print_headers", action="store_true", default=argparse.SUPPRESS,
        help="write the response head before the body")  # fmt: skip
    add("-D", "--dump-header", metavar="FILE", help="write the response head to FILE (- stdout)")
    add("-f", "--fail", action="store_true", help="exit 22 on a status >= 400, no body")
    add("--fail-with-body", action="store_true", help="exit 22 on a status >= 400")
    add("--max-filesize", type=int, metavar="BYTES", help="refuse a larger body (exit 63)")
    add("-s", "--silent", action="store_true", help="no progress bar, no error messages")
    add("-S", "--show-error", action="store_true", help="error messages despite -s")
    add("-v", "--verbose", action="store_true", help="request and response heads on stderr")
    add("-w", "--write-out", metavar="FORMAT", help="e.g. '%%{http_code}\\n'; @file reads it")
    add("--timing", action="store_true", help="a per-phase timing waterfall on stderr")
    add("--pretty", choices=["all", "colors", "format", "none"],
        help="colours and JSON formatting (default: all on a terminal, else none)")  # fmt: skip
    add("--debug", action="store_true", help="tracebacks for unexpected errors")


def build_parser(profile: Profile, engine: str | None = None) -> argparse.ArgumentParser:
    """The argument parser (long options spelt with dashes; see normalize())."""
    p = _Parser(
        prog=profile.prog,
        usage="%(prog)s [options] URL [URL ...]",
        description="Fetch each URL with squall and write the body to stdout.",
        epilog=(TORNADO_SPELLINGS if profile.status_error_exit else "") + EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("urls", nargs="+", metavar="URL")
    _add_tornado(p, profile)
    _add_request(p.add_argument_group("request (curl's flags)"), profile)
    _add_output(p.add_argument_group("output"))
    p.add_argument("--engine", choices=sorted(ENGINES), default=engine, help="default: configured")
    p.add_argument("-V", "--version", action="version", version=f"%(prog)s {__version__}")
    p.set_defaults(outputs=[])
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


def parse(profile: Profile, argv: list[str], engine: str | None = None) -> argparse.Namespace:
    """Parse and check the flags that need no I/O.

    Raises:
        Failure: a usage error (exit 2); SystemExit for --help.
    """
    args = build_parser(profile, engine).parse_args(normalize(argv))
    if len(args.outputs) > len(args.urls):
        raise Failure(USAGE, f"{len(args.outputs)} outputs (-o/-O) for {len(args.urls)} URLs")
    for name in ("retry", "parallel_max", "max_filesize"):
        value = getattr(args, name)
        if value is not None and value < (0 if name == "retry" else 1):
            raise Failure(USAGE, f"--{name.replace('_', '-')} must be positive, got {value}")
    if args.json and args.data:
        raise Failure(USAGE, "--json and -d/--data* cannot be combined")
    if args.form and (args.data or args.json):
        raise Failure(USAGE, "-F/--form cannot be combined with -d/--data* or --json")
    args.profile = profile
    return args
