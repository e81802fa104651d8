"""Raw pycurl multi: the ceiling for a libcurl-based Python client (no event loop, no framework).

N easy handles are kept busy by one CurlMulti driven with select(); a finished handle is re-added
at once while the window lasts. Bodies are collected into a list and joined, like a real client.
libcurl's defaults stand (no timeout, signals allowed: the process has one thread), plus what a
scenario needs: the connection cache sized to the concurrency, the CA, the HTTP version (and
PIPEWAIT, so HTTP/2 requests share one connection), gzip asked for, the POST body.
"""

import sys
import time

import pycurl
from _common import Stats, _cpu, emit, emit_failure, parse_args, raise_fd_limit


def make_handle(args):
    c = pycurl.Curl()
    c.setopt(pycurl.URL, args.url)
    if args.ca:
        c.setopt(pycurl.CAINFO, args.ca)
    if args.http_version == "1.1":
        c.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
    elif args.http_version == "2":
        c.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2_0)
        c.setopt(pycurl.PIPEWAIT, 1)
    if args.gzip:
        c.setopt(pycurl.ACCEPT_ENCODING, "gzip")
    if args.method == "POST":
        c.setopt(pycurl.POST, 1)
        c.setopt(pycurl.POSTFIELDS, args.body)
    return c


def start(m, c):
    chunks = []
    c.chunks = chunks
    c.setopt(pycurl.WRITEFUNCTION, chunks.append)
    c.t0 = time.perf_counter()
    m.add_handle(c)


def finish(m, c, stats, err=None):
    m.remove_handle(c)
    if err is not None:
        stats.fail(err)
        return
    body = b"".join(c.chunks)
    code = c.getinfo(pycurl.RESPONSE_CODE)
    if code != 200:
        stats.fail(f"HTTP {code}")
    else:
        stats.ok(c.t0, len(body))


def window(m, handles, args, seconds):
    stats = Stats(args.expect_bytes)
    deadline = time.perf_counter() + seconds
    for c in handles:
        start(m, c)
    active = len(handles)
    while active:
        while True:
            ret, _ = m.perform()
            if ret != pycurl.E_CALL_MULTI_PERFORM:
                break
        while True:
            queued, ok, failed = m.info_read()
            for c in ok:
                finish(m, c, stats)
            for c, _errno, msg in failed:
                finish(m, c, stats, f"curl: {msg}")
            for c in [*ok, *(f[0] for f in failed)]:
                if time.perf_counter() < deadline:
                    start(m, c)
                else:
                    active -= 1
            if not queued:
                break
        if active:
            # libcurl's own timers (e.g. PIPEWAIT for HTTP/2 multiplexing) bound the wait.
            timeout = m.timeout()
            m.select(timeout / 1000 if 0 <= timeout < 1000 else 1.0)
    return stats


def main():
    args = parse_args()
    raise_fd_limit()
    try:
        m = pycurl.CurlMulti()
        m.setopt(pycurl.M_MAXCONNECTS, max(args.concurrency, 5))
        handles = [make_handle(args) for _ in range(args.concurrency)]
        window(m, handles, args, args.warmup)
        cpu0, t0 = _cpu(), time.perf_counter()
        stats = window(m, handles, args, args.duration)
        emit(stats, time.perf_counter() - t0, _cpu() - cpu0)
        for c in handles:
            c.close()
        m.close()
    except Exception as exc:
        emit_failure(exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
