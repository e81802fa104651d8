"""The fuzz targets in the test suite: the committed seeds replay everywhere, and a
60-second coverage-guided run (all targets) where atheris imports.

Without atheris (no wheel for this platform: see the ``test`` extra) the run is
skipped, with the reason shown in pytest's summary: never a silent pass.
``./dev fuzz SECONDS`` runs the same, longer.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.run import CORPUS, ROOT
from tests.fuzz.targets import TARGETS

SEEDS = sorted(path for path in CORPUS.glob("*/*") if path.is_file())
FUZZ_SECONDS = float(os.environ.get("SQUALL_FUZZ_SECONDS", "60"))


def test_every_target_has_seeds() -> None:
    assert {path.parent.name for path in SEEDS} == set(TARGETS)


@pytest.mark.parametrize("target", list(TARGETS))
def test_corpus_replays(target: str) -> None:
    # The seeds, and the inputs earlier runs found new coverage with (merged in).
    for path in SEEDS:
        if path.parent.name == target:
            TARGETS[target](path.read_bytes())


@pytest.mark.timeout(FUZZ_SECONDS + 60)
def test_fuzz_run(tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris is not installed (no wheel here): no fuzz run")
    command = [sys.executable, "-m", "tests.fuzz.run", "--seconds", str(FUZZ_SECONDS)]
    command += ["--workdir", str(tmp_path)]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report[-8000:]
    counts = dict(re.findall(r"^fuzz (\w+) +([\d,]+) inputs +new corpus", report, re.MULTILINE))
    assert set(counts) == set(TARGETS), report
    assert all(int(count.replace(",", "")) > 0 for count in counts.values()), report
