"""The benchmark driver: start nginx, run the matrix interleaved, write bench/results/.

Usage (through the entry script, which prepares bench/.env first):

    bash bench/run [--quick] [--only SCENARIO,...] [--clients NAME,...] [--reps N] [--duration S]
    bash bench/run --only post_1m --against HEAD~5      # this tree's squall beside HEAD~5's

Each cell is one fresh client process pinned to the client core with taskset, nginx being
pinned to the other one. Within a scenario the clients run in turn (A B C A B C ...) for every
repetition, so a slow phase of a shared machine hits all of them alike; the report takes medians.
A client that fails (exit status, timeout, errors) is recorded as an error, never stops the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import matrix
import report
import server

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
SERVER_CPU, CLIENT_CPU = "0", "1"


def pinned(cmd: list[str]) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", CLIENT_CPU, *cmd]
    return cmd


def url_for(srv: server.Server, sc: matrix.Scenario) -> str:
    return srv.tls_url(sc.path) if sc.tls else srv.url(sc.path)


def expected_bytes(srv: server.Server, sc: matrix.Scenario) -> int:
    if sc.method == "POST" or sc.gzip:
        return -1  # "ok\n" / a decoded JSON: checked by status only
    return srv.sizes[sc.path]


def wrk_cmd(srv: server.Server, sc: matrix.Scenario, duration: float) -> tuple[list[str], dict]:
    env = dict(os.environ, WRK_BODY_SIZE=str(sc.body_size), WRK_GZIP="1" if sc.gzip else "0")
    secs = max(1, round(duration))
    cmd = ["wrk", "-t1", f"-c{sc.concurrency}", f"-d{secs}s", "--timeout", "60s"]
    cmd += ["-s", os.path.join(HERE, "wrk.lua"), url_for(srv, sc)]
    return cmd, env


def client_cmd(srv, sc, client: matrix.Client, loop: str, opts) -> list[str]:
    duration = opts.duration * sc.duration_factor
    cmd = [sys.executable, os.path.join(HERE, "clients", client.script), *client.args]
    cmd += ["--url", url_for(srv, sc), "--concurrency", str(sc.concurrency)]
    cmd += ["--duration", str(duration), "--warmup", str(opts.warmup), "--loop", loop]
    cmd += ["--method", sc.method, "--expect-bytes", str(expected_bytes(srv, sc))]
    cmd += ["--http-version", sc.http_version]
    if sc.body_size:
        cmd += ["--body-size", str(sc.body_size)]
    if sc.gzip:
        cmd.append("--gzip")
    if sc.stream:
        cmd.append("--stream")
    if sc.tls:
        cmd += ["--ca", srv.ca]
    if sc.proxy:
        cmd += ["--proxy", srv.proxy_url]
    if sc.metric == "mbps":
        cmd += ["--min-requests", "2"]
    return cmd


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _last_json(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def run_cell(srv, sc, client: matrix.Client, loop: str, opts) -> dict:
    """Run one cell in a fresh process; always returns a dict (with "error" on failure)."""
    env = None
    if client.tree:
        env = dict(os.environ, PYTHONPATH=client.tree)
    if client.kind == "wrk":
        cmd, env = wrk_cmd(srv, sc, opts.duration * sc.duration_factor)
    else:
        cmd = client_cmd(srv, sc, client, loop, opts)
    # Generous for slow clients (their in-flight requests finish after the window), short
    # enough that a hung client costs little.
    # The warm-up completes one request per slot: 1000 of them take a slow client a while.
    limit = 3 * (opts.duration * sc.duration_factor + opts.warmup) + 20 + sc.concurrency / 20
    cpu0 = _children_cpu()
    try:
        proc = subprocess.run(
            pinned(cmd), capture_output=True, text=True, timeout=limit, env=env, cwd=HERE
        )
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else ""
        tail = err.strip().splitlines()[-1:] or ["no output"]
        return {"error": f"timeout after {limit:.0f} s (stderr: {tail[0][:150]})"}
    res = _last_json(proc.stdout)
    if res is None:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {proc.returncode}: {tail[0][:200]}"}
    if client.kind == "wrk":
        res = _finish_wrk(res, _children_cpu() - cpu0)
    if sc.method == "POST" and "requests" in res:
        res["mbps"] = res["requests"] * sc.body_size / res["seconds"] / 1e6
    if proc.returncode != 0 and "error" not in res:
        res["error"] = f"exit {proc.returncode}"
    return res


def _finish_wrk(res: dict, cpu: float) -> dict:
    n, secs = res["requests"], res["seconds"]
    res.update(
        rps=n / secs,
        mbps=res["bytes"] / secs / 1e6,
        cpu_s=cpu,
        cpu_per_1k=cpu / n * 1000 if n else None,
        maxrss_mb=None,  # not comparable: wrk's RSS is its C heap, reported by nobody else
    )
    bad = res.pop("errors") + res.pop("non2xx")
    if bad:
        res["error"] = f"{bad} failed requests"
    return res


def run_matrix(srv, opts) -> list[dict]:
    rows: list[dict] = []
    scenarios = [s for s in matrix.SCENARIOS if not opts.only or s.key in opts.only]
    total = sum(len(matrix.cells(s, opts.uvloop)) for s in scenarios) * opts.reps
    if opts.against_tree:
        total *= 2
    done, t_start = 0, time.monotonic()
    for sc in scenarios:
        cells = [
            (c, loop)
            for c, loop in matrix.cells(sc, opts.uvloop)
            if not opts.clients or c.name in opts.clients
        ]
        if opts.against_tree:
            cells = matrix.with_tree(cells, opts.against_tree, opts.against)
        for rep in range(opts.reps):
            for client, loop in cells:
                res = run_cell(srv, sc, client, loop, opts)
                done += 1
                name = matrix.label(client, loop)
                rows.append({"scenario": sc.key, "client": name, "rep": rep, **res})
                shown = res.get("error") or f"{res.get(sc.metric, 0):,.1f} {sc.metric}"
                elapsed = time.monotonic() - t_start
                print(f"[{done}/{total} {elapsed:4.0f}s] {sc.key:13} {name:26} {shown}", flush=True)
    return rows


def environment(opts) -> dict:
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    squid, binary = "", server.squid_binary()
    if binary is not None:
        out = subprocess.run([binary, "-v"], capture_output=True, text=True).stdout
        squid = out.splitlines()[0].replace("Squid Cache: Version ", "") if out else ""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "mode": "quick" if opts.quick else "full",
        "reps": opts.reps,
        "duration": opts.duration,
        "warmup": opts.warmup,
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "nginx": nginx.replace("nginx version: ", ""),
        "squid": squid,
        "uvloop": opts.uvloop,
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="1 repetition of 1 s cells (~3 min)")
    p.add_argument("--reps", type=int, default=None, help="repetitions (default 3, quick 1)")
    p.add_argument("--duration", type=float, default=None, help="measured s per cell")
    p.add_argument("--only", default="", help="comma-separated scenario keys")
    p.add_argument("--clients", default="", help="comma-separated client names")
    p.add_argument("--no-uvloop", dest="uvloop", action="store_false")
    p.add_argument("--out", default=RESULTS, help="results directory")
    p.add_argument("--report", metavar="JSON", help="only redo the table and chart from a JSON")
    p.add_argument(
        "--against",
        metavar="REV",
        help="a git revision whose squall runs beside this tree's (rows named '... @REV')",
    )
    opts = p.parse_args(argv)
    opts.reps = opts.reps or (1 if opts.quick else 3)
    opts.duration = opts.duration or (1.0 if opts.quick else 2.5)
    opts.warmup = 0.2 if opts.quick else 0.5
    opts.only = [s for s in opts.only.split(",") if s]
    opts.clients = [s for s in opts.clients.split(",") if s]
    opts.against_tree = ""
    return opts


def export_revision(rev: str, into: str) -> str:
    """squall's package at ``rev`` (git archive), unpacked under ``into``: a PYTHONPATH entry."""
    repo = os.path.dirname(HERE)
    archive = subprocess.run(
        ["git", "-C", repo, "archive", "--format=tar", rev, "squall"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return into


def write_results(env: dict, rows: list[dict], out: str) -> str:
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "latest.json"), "w") as f:
        json.dump({"environment": env, "runs": rows}, f, indent=1)
    md = report.markdown(env, rows)
    with open(os.path.join(out, "latest.md"), "w") as f:
        f.write(md)
    report.chart(env, rows, os.path.join(out, "latest.png"))
    return md


def main() -> None:
    opts = parse()
    if opts.report:
        with open(opts.report) as f:
            data = json.load(f)
        print(write_results(data["environment"], data["runs"], opts.out))
        return
    tmp = tempfile.mkdtemp(prefix="squall-bench-rev-")
    if opts.against:
        opts.against_tree = export_revision(opts.against, tmp)
    scenarios = [s for s in matrix.SCENARIOS if not opts.only or s.key in opts.only]
    srv = server.start(
        cpu=SERVER_CPU if (os.cpu_count() or 1) > 1 else None,
        proxy=any(s.proxy for s in scenarios),
    )
    try:
        env = environment(opts)
        env["against"] = opts.against or ""
        rows = run_matrix(srv, opts)
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(write_results(env, rows, opts.out))


if __name__ == "__main__":
    main()
