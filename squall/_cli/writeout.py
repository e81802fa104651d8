"""-w/--write-out: curl's ``%{variable}`` format, written to stdout after each URL.

Variables have curl's names and meanings; ``%{json}`` is all of them as one
JSON object, ``%header{name}`` a response header, ``%{stderr}``/``%{stdout}``
switch the stream, ``%{onerror}`` drops the rest unless the transfer failed.
An unknown variable stays as typed.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from squall._headers import HTTPHeaders

__all__ = ["Result", "variables", "write_out"]

_TIMES = ("queue", "namelookup", "connect", "appconnect", "pretransfer", "starttransfer",
          "redirect", "total")  # fmt: skip
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
_TOKEN = re.compile(r"%\{(\w+)\}|%header\{([^}]*)\}|%%")


@dataclass
class Result:
    """What one URL ended with, for -w and for the summary of several."""

    url: str
    index: int
    method: str
    code: int = 0
    headers: HTTPHeaders = field(default_factory=HTTPHeaders)
    status_line: str = ""
    effective_url: str = ""
    time_info: dict[str, float] = field(default_factory=dict)
    size_download: int = 0
    size_header: int = 0
    filename: str = ""
    exitcode: int = 0
    errormsg: str = ""
    num_retries: int = 0
    http_connect: int = 0  # the proxy's answer to CONNECT, when it refused the tunnel


def _http_version(status_line: str) -> str:
    version = status_line.split(" ", 1)[0]
    return version[5:] if version.startswith("HTTP/") else "0"


def _redirect_url(r: Result) -> str:
    location = r.headers.get("Location")
    if location is None or not 300 <= r.code < 400:
        return ""
    return urllib.parse.urljoin(r.effective_url or r.url, location)


_VARIABLES: dict[str, Callable[[Result], object]] = {
    "content_type": lambda r: r.headers.get("Content-Type", ""),
    "errormsg": lambda r: r.errormsg,
    "exitcode": lambda r: r.exitcode,
    "filename_effective": lambda r: r.filename,
    "http_code": lambda r: f"{r.code:03d}",  # curl's 000 for no response
    "response_code": lambda r: f"{r.code:03d}",
    "http_connect": lambda r: f"{r.http_connect:03d}",
    "http_version": lambda r: _http_version(r.status_line),
    "method": lambda r: r.method,
    "num_headers": lambda r: len(list(r.headers.get_all())),
    "num_retries": lambda r: r.num_retries,
    "redirect_url": _redirect_url,
    "scheme": lambda r: urllib.parse.urlsplit(r.effective_url or r.url).scheme,
    "size_download": lambda r: r.size_download,
    "size_header": lambda r: r.size_header,
    "speed_download": lambda r: (
        round(r.size_download / r.time_info["total"]) if r.time_info.get("total") else 0
    ),
    "url": lambda r: r.url,
    "url_effective": lambda r: r.effective_url or r.url,
    "urlnum": lambda r: r.index,
}


_CODES = frozenset({"http_code", "response_code", "http_connect"})


def _seconds(key: str) -> Callable[[Result], object]:
    return lambda r: f"{r.time_info.get(key, 0.0):.6f}"


_VARIABLES.update({f"time_{name}": _seconds(name) for name in _TIMES})


def variables(result: Result) -> dict[str, Any]:
    """Every variable's value (``%{json}``): numbers as numbers, as curl writes them."""
    values: dict[str, Any] = {}
    for name, get in _VARIABLES.items():
        value = get(result)
        if name.startswith("time_"):
            value = float(str(value))
        elif name in _CODES:
            value = int(str(value))
        values[name] = value
    return values


def _header_json(result: Result) -> str:
    grouped: dict[str, list[str]] = {}
    for name, value in result.headers.get_all():
        grouped.setdefault(name.lower(), []).append(value)
    return json.dumps(grouped)


def write_out(fmt: str, result: Result, stdout: IO[bytes]) -> None:
    """Expand ``fmt`` for ``result``; the text goes to ``stdout`` (or stderr on %{stderr})."""
    fmt = re.sub(r"\\([ntr\\])", lambda m: _ESCAPES[m[1]], fmt)
    stream: IO[bytes] = stdout
    position = 0
    for match in _TOKEN.finditer(fmt):
        stream.write(fmt[position : match.start()].encode())
        position = match.end()
        name, header = match[1], match[2]
        if match[0] == "%%":
            text = "%"
        elif header is not None:
            text = ", ".join(v for _, v in result.headers.get_all() if _.lower() == header.lower())
        elif name == "stderr" or name == "stdout":
            stream.flush()
            stream = sys.stderr.buffer if name == "stderr" else stdout
            continue
        elif name == "onerror":
            if result.exitcode == 0:
                return
            continue
        elif name == "json":
            text = json.dumps(variables(result))
        elif name == "header_json":
            text = _header_json(result)
        elif name in _VARIABLES:
            text = str(_VARIABLES[name](result))
        else:
            text = match[0]
        stream.write(text.encode("utf-8", "replace"))
    stream.write(fmt[position:].encode())
    stream.flush()
