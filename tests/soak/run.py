"""The soak test: many requests through each engine over a mix of good and faulty
responses, checking that every fetch ends exactly once with the outcome its
response calls for, that the server saw each request once, and that descriptors,
tasks and memory stay flat.

    python -m tests.soak.run [--requests 1000000] [--engine simple --engine curl]

(``./dev soak [REQUESTS]``; not part of CI: a million requests take minutes per
engine.) The server (``tests.soak.server``) runs in its own process. Prints one
line per sample and a results table; exits 1 if anything was lost, duplicated,
mixed up or unexpected.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from squall.httpclient import HTTPClientError, HTTPTimeoutError
from tests.soak.process import ServerProcess

ENGINES = {
    "simple": "squall.simple_httpclient.SimpleAsyncHTTPClient",
    "curl": "squall.curl_httpclient.CurlAsyncHTTPClient",
}
# The mix, in percent; each id's kind is fixed by the id, spread evenly.
MIX = {"ok": 70, "close": 8, "gzip": 8, "redirect": 5, "reset": 4, "malformed": 4, "stall": 1}
TABLE = [kind for kind, share in MIX.items() for _ in range(share)]
# What each kind must end as: a body naming its id, or one of these errors.
EXPECTED = {
    "ok": {"ok"},
    "close": {"ok"},
    "gzip": {"ok"},
    "redirect": {"ok"},
    "reset": {"HTTPConnectionResetError", "HTTPStreamClosedError"},
    "malformed": {"RemoteProtocolError"},
    "stall": {"HTTPTimeoutError(request)"},
}


def kind_of(ident: int) -> str:
    return TABLE[(ident * 37) % len(TABLE)]


@dataclass
class Sample:
    done: int
    fds: int
    tasks: int
    rss_mb: float


@dataclass
class Result:
    engine: str
    requests: int
    seconds: float
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    ended_twice: int = 0
    lost: int = 0
    samples: list[Sample] = field(default_factory=list)
    server: dict[str, Any] = field(default_factory=dict)
    fds_before: int = 0
    fds_after: int = 0

    @property
    def unexpected(self) -> Counter[tuple[str, str]]:
        return Counter(
            {key: n for key, n in self.outcomes.items() if key[1] not in EXPECTED[key[0]]}
        )

    @property
    def duplicated(self) -> int:
        return sum(int(entry["count"]) for entry in self.server.get("repeated", {}).values())

    @property
    def unseen(self) -> int:
        # Fetches the server never saw (each kind's table; a redirect's hop to /ok counted too).
        sent = Counter(kind_of(i) for i in range(self.requests))
        seen = self.server.get("seen", {})
        return sum(max(0, n - seen.get(kind, 0)) for kind, n in sent.items())


def _fds() -> int:
    return len(os.listdir("/proc/self/fd")) - 1


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def slope(samples: list[Sample], attribute: str) -> float:
    """Least-squares growth per 100,000 requests, the first sample (warm-up) left out."""
    points = [(s.done, float(getattr(s, attribute))) for s in samples[1:]]
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    var = sum((x - mean_x) ** 2 for x, _ in points)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return cov / var * 100_000 if var else 0.0


async def soak(engine: str, server: ServerProcess, args: argparse.Namespace) -> Result:
    from tests.conftest import import_object

    result = Result(engine, args.requests, 0.0, fds_before=_fds())
    client = import_object(ENGINES[engine])(force_instance=True, max_clients=args.max_clients)
    ended = bytearray(args.requests)
    every = max(1, args.requests // args.samples)
    state = {"next": 0, "done": 0}
    started = time.monotonic()

    async def worker() -> None:
        while state["next"] < args.requests:
            ident = state["next"]
            state["next"] += 1
            kind = kind_of(ident)
            try:
                response = await client.fetch(
                    f"{server.url}/{ident}/{kind}", request_timeout=args.timeout
                )
                body = response.body
                want = f"id={ident}".encode() * (20 if kind == "gzip" else 1)
                outcome = "ok" if body == want else "WRONG BODY"
            except HTTPTimeoutError as exc:
                outcome = f"HTTPTimeoutError({exc.phase})"
            except HTTPClientError as exc:
                outcome = type(exc).__name__
            except Exception as exc:  # not a documented error: reported as such
                outcome = f"UNDOCUMENTED {type(exc).__name__}: {exc}"
            if ended[ident]:
                result.ended_twice += 1
            ended[ident] = 1
            result.outcomes[(kind, outcome)] += 1
            state["done"] += 1
            # Sampled while the window is full: the drain at the end is no trend.
            if state["done"] % every == 0 and state["next"] < args.requests:
                _sample(result, state["done"], started, args.requests)

    workers = [asyncio.ensure_future(worker()) for _ in range(args.window)]
    await asyncio.gather(*workers)
    result.seconds = time.monotonic() - started
    result.lost = ended.count(0)
    client.close()
    del workers
    for _ in range(20):
        await asyncio.sleep(0.01)
    gc.collect()
    result.fds_after = _fds()
    result.server = server.stats()
    return result


def _sample(result: Result, done: int, started: float, total: int) -> None:
    sample = Sample(done, _fds(), len(asyncio.all_tasks()), _rss_mb())
    result.samples.append(sample)
    rate = done / (time.monotonic() - started)
    print(
        f"  {result.engine} {done:>9,}/{total:,}  {rate:>7,.0f} req/s  fds {sample.fds}"
        f"  tasks {sample.tasks}  rss {sample.rss_mb:.1f} MB",
        file=sys.stderr,
        flush=True,
    )


def report(results: list[Result]) -> str:
    """The results as a markdown table, and each unexpected outcome below it."""
    lines = [
        "| engine | requests | req/s | errors by class | lost | ended twice | duplicated"
        " | unexpected | fds /100k | tasks /100k | RSS MB /100k |",
        "| --- | --: | --: | --- | --: | --: | --: | --: | --: | --: | --: |",
    ]
    for r in results:
        errors: Counter[str] = Counter()
        for (_, outcome), n in r.outcomes.items():
            if outcome != "ok":
                errors[outcome] += n
        shown = ", ".join(f"{name} {n:,}" for name, n in errors.most_common())
        lines.append(
            f"| {r.engine} | {r.requests:,} | {r.requests / r.seconds:,.0f} | {shown}"
            f" | {r.lost + r.unseen} | {r.ended_twice} | {r.duplicated}"
            f" | {sum(r.unexpected.values())} | {slope(r.samples, 'fds'):+.2f}"
            f" | {slope(r.samples, 'tasks'):+.2f} | {slope(r.samples, 'rss_mb'):+.2f} |"
        )
    for r in results:
        for (kind, outcome), n in r.unexpected.most_common():
            lines.append(f"- {r.engine}: {n:,} `{kind}` fetches ended as {outcome}")
        if r.server.get("repeated"):
            lines.append(f"- {r.engine}: repeated requests {r.server['repeated']}")
        lines.append(
            f"- {r.engine}: {r.server.get('connections', 0):,} connections to the server;"
            f" descriptors {r.fds_before} before, {r.fds_after} after close"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000, help="per engine")
    parser.add_argument("--engine", action="append", choices=list(ENGINES))
    parser.add_argument("--window", type=int, default=500, help="fetches kept in flight")
    parser.add_argument("--max-clients", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=1.0, help="request_timeout (stalls)")
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args(argv)
    results = []
    for engine in args.engine or list(ENGINES):
        with ServerProcess(ids=args.requests, backlog=1024) as server:
            results.append(asyncio.run(soak(engine, server, args)))
    table = report(results)
    print(table)
    bad = any(r.lost or r.unseen or r.ended_twice or r.duplicated or r.unexpected for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
