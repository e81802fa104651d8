"""``squall URL | head -c 10``: standard output closes before the body ends.

curl(1) then stops the transfer, prints ``curl: (23) Failure writing output to
destination`` and exits 23; both engines do the same, with nothing else on
stderr (no traceback, no "Exception ignored" from the interpreter's exit).
"""

from __future__ import annotations

import contextlib
import fcntl
import socket
import subprocess
import termios
import time
from collections.abc import Callable
from typing import IO

import pytest

from tests.cli.helpers import SEED, SQUALL, TIMEOUT
from tests.servers.scripted import ScriptedServer

FIRST = b"x" * 100  # what the reader gets before it closes the pipe
MANY = b"y" * (4 * 1024 * 1024)  # far more than a pipe holds: many writes after the close
ONE_READ = b"z" * (100 * 1024)  # more than a pipe holds, and one read for the simple engine
FAILED = "Failure writing output to destination"  # curl's words for CURLE_WRITE_ERROR


def _send(rest: bytes, after_close: bool) -> Callable[[socket.socket, ScriptedServer], None]:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_request(conn)
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(FIRST) + len(rest)}\r\n\r\n"
        # Before the close: FIRST alone, or all of it in one piece (one read).
        before, after = (FIRST, rest) if after_close else (FIRST + rest, b"")
        conn.sendall(head.encode() + before)
        server.event("closed").wait(TIMEOUT)
        with contextlib.suppress(OSError):  # the client may drop the connection mid-way
            conn.sendall(after)

    return handler


def _wait_until_full(pipe: IO[bytes]) -> None:
    # The writer is blocked in a write once the pipe holds more than FIRST: a
    # body larger than the pipe cannot have been written whole.
    capacity = fcntl.fcntl(pipe.fileno(), 1032)  # F_GETPIPE_SZ
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        held = bytearray(4)
        fcntl.ioctl(pipe.fileno(), termios.FIONREAD, held)
        if int.from_bytes(held, "little") >= capacity // 2:
            return
        time.sleep(0.01)
    raise AssertionError("the command never filled the pipe")


def _run_into_a_closed_pipe(
    argv: list[str], server: ScriptedServer, wait_full: bool = False
) -> tuple[int, str]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        assert proc.stdout.read(10) == FIRST[:10]
        if wait_full:
            _wait_until_full(proc.stdout)
        proc.stdout.close()  # as `head -c 10` exits
        server.event("closed").set()
        err = proc.stderr.read().decode()
        return proc.wait(TIMEOUT), err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("engine", ["simple", "curl"])
def test_broken_pipe_is_23_as_curl(engine: str, scripted: Callable[..., ScriptedServer]) -> None:
    server = scripted(_send(MANY, after_close=True))
    status, err = _run_into_a_closed_pipe([*SQUALL, "--engine", engine, server.url + "/"], server)
    assert (status, err) == (23, f"squall: (23) {FAILED}\n")


@pytest.mark.parametrize("engine", ["simple", "curl"])
def test_write_cut_short_by_the_close_is_23(
    engine: str, scripted: Callable[..., ScriptedServer]
) -> None:
    # The pipe closes while the last write is blocked: the write returns short
    # (no error), and only the next one would fail; the rest of it must not
    # be dropped silently (the simple engine exited 0 here).
    server = scripted(_send(ONE_READ, after_close=False))
    argv = [*SQUALL, "--engine", engine, server.url + "/"]
    status, err = _run_into_a_closed_pipe(argv, server, wait_full=True)
    assert (status, err) == (23, f"squall: (23) {FAILED}\n")


@pytest.mark.parametrize("engine", ["simple", "curl"])
def test_broken_pipe_with_write_out(engine: str, scripted: Callable[..., ScriptedServer]) -> None:
    # -w writes after the body: it must not turn the failure into a traceback.
    server = scripted(_send(MANY, after_close=True))
    argv = [*SQUALL, "--engine", engine, "-w", "%{http_code}\n", server.url + "/"]
    status, err = _run_into_a_closed_pipe(argv, server)
    assert (status, err) == (23, f"squall: (23) {FAILED}\n")


@pytest.mark.parametrize("engine", ["simple", "curl"])
def test_broken_pipe_on_the_seed_command(
    engine: str, scripted: Callable[..., ScriptedServer]
) -> None:
    # The seed command gives curl's number too (all but its own status 1).
    server = scripted(_send(MANY, after_close=True))
    status, err = _run_into_a_closed_pipe([*SEED, "--engine", engine, server.url + "/"], server)
    assert (status, err) == (23, f"squall: (23) {FAILED}\n")


def _small_chunks(conn: socket.socket, server: ScriptedServer) -> None:
    server.read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + FIRST + b"\r\n")
    server.event("closed").wait(TIMEOUT)
    with contextlib.suppress(OSError):
        for _ in range(2000):  # small pieces: each one waits in the output's buffer
            conn.sendall(b"64\r\n" + FIRST + b"\r\n")
        conn.sendall(b"0\r\n\r\n")


@pytest.mark.parametrize("engine", ["simple", "curl"])
def test_broken_pipe_with_small_writes(
    engine: str, scripted: Callable[..., ScriptedServer]
) -> None:
    # What is left in stdout's buffer must not fail again at the interpreter's
    # exit ("Exception ignored ... BrokenPipeError", exit 120).
    server = scripted(_small_chunks)
    status, err = _run_into_a_closed_pipe([*SQUALL, "--engine", engine, server.url + "/"], server)
    assert (status, err) == (23, f"squall: (23) {FAILED}\n")
