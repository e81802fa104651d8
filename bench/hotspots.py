"""Profile squall's engines on small GETs with 10 in flight, with py-spy, and summarise hot spots.

    bash bench/run --profile [--duration 5] [--native] [--clients "squall simple,squall curl"]

Each client runs under `py-spy record` (a sampling profiler outside the process, so the figures
are not skewed by tracing); the collapsed stacks are reduced to the functions with the most
self time (the frame on top of the stack) and the most total time (anywhere on the stack), as a
share of the event loop's samples. Idle samples (waiting in epoll/select) are included so that
time spent waiting on the server shows too. Written to bench/results/profile-<client>.md.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter

import matrix
import run
import server

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^():]*)(?::\d+)?\)$")


def _short(frame: str) -> str:
    """'fetch (squall/httpclient.py:123)' -> 'fetch (squall/httpclient.py)': merge line numbers."""
    m = FRAME.match(frame)
    if not m:
        return frame
    path = m["file"]
    for marker in ("site-packages/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{m['func']} ({path})"


def summarise(collapsed: str, top: int = 25) -> tuple[int, list, list]:
    self_c: Counter[str] = Counter()
    total_c: Counter[str] = Counter()
    samples = 0
    with open(collapsed) as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            if not stack or not n.isdigit():
                continue
            # Only the event loop's samples: imports and setup before it are not the engine's.
            if "run_forever (" not in stack:
                continue
            count = int(n)
            samples += count
            frames = [_short(fr) for fr in stack.split(";")]
            self_c[frames[-1]] += count
            for fr in set(frames):
                total_c[fr] += count
    return samples, self_c.most_common(top), total_c.most_common(top)


def _section(title: str, rows: list, samples: int) -> list[str]:
    out = [f"### {title}", "", "| % of samples | function (file) |", "|--:|---|"]
    out += [f"| {n / samples * 100:.1f} | `{name}` |" for name, n in rows]
    return [*out, ""]


def profile_one(srv, client: matrix.Client, opts) -> str:
    sc = next(s for s in matrix.SCENARIOS if s.key == "get_c10")
    args = argparse.Namespace(duration=opts.duration, warmup=0.5)
    cmd = run.client_cmd(srv, sc, client, "asyncio", args)
    with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as tmp:
        collapsed = tmp.name
    spy = [os.path.join(os.path.dirname(sys.executable), "py-spy"), "record", "--idle"]
    spy += ["-r", str(opts.rate), "-f", "raw", "-o", collapsed]
    if opts.native:
        spy.append("--native")
    # py-spy itself is left unpinned so that its sampling does not steal the client's core.
    proc = subprocess.run([*spy, "--", *run.pinned(cmd)], capture_output=True, text=True)
    result = run._last_json(proc.stdout) or {"error": proc.stderr.strip()[-300:]}
    samples, self_rows, total_rows = summarise(collapsed)
    os.unlink(collapsed)
    rps = result.get("rps")
    lines = [
        f"# Profile: {client.name}, small GETs (100 B), 10 in flight",
        "",
        f"py-spy {opts.rate} Hz{' --native' if opts.native else ''}, idle included, "
        f"{opts.duration} s measured after 0.5 s warm-up; {samples} samples of the event loop "
        "(imports and setup left out). "
        + (f"Throughput while profiled: {rps:,.0f} req/s." if rps else f"Error: {result}"),
        "",
        *_section("Self time (top of stack)", self_rows, samples or 1),
        *_section("Total time (anywhere on the stack)", total_rows, samples or 1),
    ]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--rate", type=int, default=250, help="samples per second")
    p.add_argument("--native", action="store_true", help="include C frames")
    p.add_argument("--clients", default="squall simple,squall curl")
    p.add_argument("--out", default=run.RESULTS)
    opts = p.parse_args()
    wanted = [c.strip() for c in opts.clients.split(",") if c.strip()]
    srv = server.start(cpu=run.SERVER_CPU if (os.cpu_count() or 1) > 1 else None)
    try:
        os.makedirs(opts.out, exist_ok=True)
        for client in (c for c in matrix.CLIENTS if c.name in wanted):
            text = profile_one(srv, client, opts)
            name = client.name.replace(" ", "-")
            with open(os.path.join(opts.out, f"profile-{name}.md"), "w") as f:
                f.write(text + "\n")
            print(text, "\n", flush=True)
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
