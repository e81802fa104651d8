"""What the benchmark runs: the clients and the scenarios, as plain data.

A scenario says which URL to fetch and how (concurrency, method, body, TLS, HTTP version) and
which kinds of client take part; the driver (run.py) turns each (scenario, client) cell into a
command line. Kinds: "wrk" (the C ceiling), "multi" (raw pycurl multi), "async" (an asyncio
client, run on asyncio and, where the scenario asks, on uvloop too) and "sync" (a blocking client,
sequential, so only in the concurrency-1 scenarios).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MIB = 1024 * 1024


@dataclass(frozen=True)
class Client:
    name: str
    kind: str  # wrk | multi | async | sync
    script: str = ""  # file under bench/clients/
    args: tuple[str, ...] = ()
    tree: str = ""  # another squall source tree to import (a regression check: run.py --against)


CLIENTS = [
    Client("wrk", "wrk"),
    Client("pycurl multi", "multi", "pycurl_multi.py"),
    Client("aiohttp", "async", "aiohttp_client.py"),
    Client("httpx", "async", "httpx_client.py"),
    Client("tornado simple", "async", "tornado_simple.py"),
    Client("tornado curl", "async", "tornado_curl.py"),
    Client("squall simple", "async", "squall_simple.py"),
    Client("squall curl", "async", "squall_curl.py"),
    Client("requests", "sync", "requests_client.py"),
    Client("urllib3", "sync", "urllib3_client.py"),
    Client("squall blocking simple", "sync", "squall_blocking.py", ("--engine", "simple")),
    Client("squall blocking curl", "sync", "squall_blocking.py", ("--engine", "curl")),
]

# The reference every ratio column is computed against.
BASELINE = "aiohttp"
CEILING = "wrk"


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    path: str  # file served by nginx (see server.BODIES)
    concurrency: int = 1
    kinds: tuple[str, ...] = ("wrk", "multi", "async")
    uvloop: bool = False  # also run the async clients on uvloop
    metric: str = "rps"  # the headline column: rps (requests/s) or mbps (MB/s)
    tls: bool = False
    http_version: str = "auto"
    method: str = "GET"
    body_size: int = 0
    gzip: bool = False
    only: tuple[str, ...] = ()  # restrict to these client names
    stream: bool = False  # consume the body in chunks (memory must stay flat)
    duration_factor: float = 1.0
    proxy: bool = False  # through the benchmark's squid (server.start_squid)
    extra: dict[str, str] = field(default_factory=dict)


SCENARIOS = [
    Scenario(
        "get_c1",
        "Small GET (100 B), sequential (1 in flight)",
        "100b.bin",
        1,
        kinds=("wrk", "multi", "async", "sync"),
    ),
    Scenario("get_c10", "Small GET (100 B), 10 in flight", "100b.bin", 10, uvloop=True),
    Scenario("get_c100", "Small GET (100 B), 100 in flight", "100b.bin", 100, uvloop=True),
    Scenario(
        "get_c1000",
        "Small GET (100 B), 1000 in flight (peak memory: max RSS)",
        "100b.bin",
        1000,
    ),
    Scenario(
        "download_100m",
        "Download 100 MiB, sequential (MB/s)",
        "100m.bin",
        1,
        kinds=("wrk", "multi", "async", "sync"),
        metric="mbps",
        duration_factor=1.5,
    ),
    Scenario(
        "download_100m_stream",
        "Download 100 MiB, body consumed in chunks (MB/s; max RSS must stay flat)",
        "100m.bin",
        1,
        kinds=("async",),
        metric="mbps",
        stream=True,
        only=("aiohttp", "squall simple", "squall curl"),
        duration_factor=1.5,
    ),
    Scenario(
        "post_1m",
        "POST 1 MiB bodies, sequential (upload MB/s)",
        "post",
        1,
        kinds=("wrk", "multi", "async", "sync"),
        method="POST",
        body_size=MIB,
        metric="mbps",
    ),
    Scenario(
        "https_c10",
        "HTTPS small GET (1 KiB), HTTP/1.1, 10 in flight, connections reused",
        "1k.bin",
        10,
        tls=True,
        http_version="1.1",
    ),
    Scenario(
        "h2_c10",
        "HTTPS small GET (1 KiB) over HTTP/2, 10 in flight on one connection",
        "1k.bin",
        10,
        kinds=("multi", "async"),
        tls=True,
        http_version="2",
        only=("pycurl multi", "tornado curl", "squall curl", "squall simple", "httpx"),
    ),
    Scenario(
        "h2_c100",
        "HTTPS small GET (1 KiB) over HTTP/2, 100 in flight on one connection",
        "1k.bin",
        100,
        kinds=("multi", "async"),
        tls=True,
        http_version="2",
        only=("pycurl multi", "squall curl", "squall simple", "httpx"),
    ),
    Scenario(
        "download_100m_tls",
        "Download 100 MiB over HTTPS with HTTP/1.1, sequential (MB/s)",
        "100m.bin",
        1,
        kinds=("async",),
        metric="mbps",
        tls=True,
        http_version="1.1",
        only=("squall simple", "squall curl", "httpx"),
        duration_factor=1.5,
    ),
    Scenario(
        "download_100m_h2",
        "Download 100 MiB over HTTP/2, sequential (MB/s)",
        "100m.bin",
        1,
        kinds=("async",),
        metric="mbps",
        tls=True,
        http_version="2",
        only=("squall simple", "squall curl", "httpx"),
        duration_factor=1.5,
    ),
    Scenario(
        "proxy_http_c10",
        "Small GET (100 B) through an HTTP proxy (squid), 10 in flight",
        "100b.bin",
        10,
        kinds=("async",),
        proxy=True,
        only=("aiohttp", "squall simple", "squall curl"),
    ),
    Scenario(
        "proxy_connect_c10",
        "HTTPS small GET (1 KiB) through a CONNECT tunnel (squid), HTTP/1.1, 10 in flight",
        "1k.bin",
        10,
        kinds=("async",),
        tls=True,
        http_version="1.1",
        proxy=True,
        only=("aiohttp", "squall simple", "squall curl"),
    ),
    Scenario(
        "gzip_c10",
        "GET gzip-compressed JSON (33 KB, decoded by the client), 10 in flight",
        "data.json",
        10,
        gzip=True,
    ),
]


def cells(scenario: Scenario, with_uvloop: bool) -> list[tuple[Client, str]]:
    """The (client, loop) pairs of a scenario, in the fixed order used for interleaving."""
    out: list[tuple[Client, str]] = []
    for c in CLIENTS:
        if c.kind not in scenario.kinds or (scenario.only and c.name not in scenario.only):
            continue
        out.append((c, "asyncio"))
        if c.kind == "async" and scenario.uvloop and with_uvloop:
            out.append((c, "uvloop"))
    return out


def with_tree(cells_: list[tuple[Client, str]], tree: str, rev: str) -> list[tuple[Client, str]]:
    """Each squall cell followed by its twin that imports squall from ``tree`` (named "... @rev"),
    so both versions run interleaved in one run."""
    out: list[tuple[Client, str]] = []
    for c, loop in cells_:
        out.append((c, loop))
        if c.name.startswith("squall"):
            out.append((Client(f"{c.name} @{rev}", c.kind, c.script, c.args, tree), loop))
    return out


def label(client: Client, loop: str) -> str:
    return client.name + (" +uvloop" if loop == "uvloop" else "")
