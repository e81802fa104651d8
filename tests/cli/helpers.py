"""Running the command lines as subprocesses: without a terminal, and through a pty."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from typing import Any

SQUALL = [sys.executable, "-m", "squall"]
SEED = [sys.executable, "-m", "squall.httpclient"]
TIMEOUT = 60
# Runs the command with rich unimportable, as if the cli extra were not installed.
WITHOUT_RICH = (
    "import sys; sys.modules['rich'] = None; from squall._cli import squall_main;"
    " raise SystemExit(squall_main())"
)


def squall(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> Any:
    """``squall ARGS`` with pipes (no terminal): a CompletedProcess of bytes."""
    return subprocess.run(
        [*SQUALL, *args], input=stdin, capture_output=True, timeout=TIMEOUT, env=env
    )


def assert_short_error(result: Any, lines: int = 1) -> str:
    """stderr is ``lines`` lines starting with "squall: ", with no traceback."""
    err: str = result.stderr.decode()
    assert "Traceback" not in err, err
    assert err.startswith("squall: ") and err.count("\n") == lines, err
    return err


def echoed(result: Any) -> dict[str, Any]:
    """The /echo route's JSON from a successful run."""
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def header(data: dict[str, Any], name: str) -> list[str]:
    """The values of an echoed request header."""
    return [v for k, v in data["headers"] if k.lower() == name.lower()]


def in_pty(argv: list[str], columns: int = 120) -> tuple[int, bytes]:
    """Run ``argv`` with stdin, stdout and stderr on a new pseudo-terminal.

    Returns the exit status and everything written to the terminal.
    """
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": "40"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the last writer closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        status = proc.wait(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return status, bytes(out)
