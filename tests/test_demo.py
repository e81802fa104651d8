"""``python -m squall._demo`` (``./dev demo``) runs cleanly with both clients and engines."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_and_reports_both_clients_on_both_engines() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "squall._demo"], capture_output=True, text=True, timeout=120
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "FAILED" not in out and "every fetch OK" in out
    # One section per engine: "engine NAME (Class...)" then its steps.
    sections = {chunk.split()[0]: chunk for chunk in out.split("\nengine ")[1:]}
    assert set(sections) == {"simple", "curl"}, out
    for text in sections.values():
        assert "HTTPClient GET /hello" in text and "200" in text, text
        assert "AsyncHTTPClient 10 x GET /slow" in text and "requests/s" in text, text
