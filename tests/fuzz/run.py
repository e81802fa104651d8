"""Run the fuzz targets with atheris (libFuzzer, coverage-guided over squall's code).

    python -m tests.fuzz.run [--seconds 60] [--target NAME ...] [--workdir DIR]

The time is shared out between the targets, run one after the other, each in
its own process (libFuzzer owns the process it runs in, and instrumentation
applies to modules imported after it starts). Each starts from its committed
seeds in ``tests/fuzz/corpus/<target>/``, which are only read: the inputs it
finds and any crash go to the work directory (a fresh temporary one by default).

Prints one line per target (inputs executed, the inputs it added to the work
directory's corpus -- the committed seeds not counted --, crashes) and a
total; exits 1 if any target crashed, naming the input file to replay: a
crash becomes a regular test in ``tests/fuzz/test_found.py``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
ROOT = HERE.parent.parent
# What a target may use per input: bigger inputs only slow the search, and the
# memory limit catches an input that makes squall allocate without bound.
MAX_LEN = 4096
RSS_LIMIT_MB = 1024
INPUT_TIMEOUT_S = 10
# Start-up of one target's process (import, instrumentation, seed loading), budgeted.
STARTUP_S = 1.5


@dataclass
class Result:
    target: str
    executions: int
    corpus: int
    crashes: list[Path]
    returncode: int


def _child(target: str, seconds: int, workdir: Path) -> None:
    import atheris

    with atheris.instrument_imports(include=["squall"]):
        from tests.fuzz.targets import TARGETS

    found = workdir / "corpus" / target
    found.mkdir(parents=True, exist_ok=True)
    seeds = CORPUS / target
    args = [sys.argv[0], str(found)]
    if seeds.is_dir():
        args.append(str(seeds))
    args += [
        f"-max_total_time={seconds}",
        f"-max_len={MAX_LEN}",
        f"-rss_limit_mb={RSS_LIMIT_MB}",
        f"-timeout={INPUT_TIMEOUT_S}",
        f"-artifact_prefix={workdir / target}-",
        "-print_final_stats=1",
    ]
    atheris.Setup(args, TARGETS[target])
    atheris.Fuzz()


_EXECUTED = re.compile(rb"stat::number_of_executed_units:\s*(\d+)")


def _run_target(target: str, seconds: int, workdir: Path, verbose: bool) -> Result:
    command = [sys.executable, "-m", "tests.fuzz.run", "--child", target]
    command += ["--seconds", str(seconds), "--workdir", str(workdir)]
    log = workdir / f"{target}.log"
    with log.open("wb") as out:
        proc = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False)
    text = log.read_bytes()
    if verbose or proc.returncode:
        sys.stdout.write(text.decode("utf-8", "replace")[-6000:])
    executed = _EXECUTED.search(text)
    crashes = sorted(workdir.glob(f"{target}-*"))
    corpus = len(list((workdir / "corpus" / target).iterdir()))
    return Result(target, int(executed[1]) if executed else 0, corpus, crashes, proc.returncode)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="total time, all targets")
    parser.add_argument("--target", action="append", help="run only this target (repeatable)")
    parser.add_argument("--workdir", type=Path, help="where found inputs and crashes go")
    parser.add_argument("--verbose", action="store_true", help="print libFuzzer's output")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="squall-fuzz-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.child:
        _child(args.child, int(args.seconds), workdir)
        return 0
    from tests.fuzz.targets import TARGETS

    targets = args.target or list(TARGETS)
    unknown = set(targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown target(s) {sorted(unknown)}; known: {list(TARGETS)}")
    deadline = time.monotonic() + args.seconds
    results = []
    for index, target in enumerate(targets):
        share = (deadline - time.monotonic()) / (len(targets) - index) - STARTUP_S
        result = _run_target(target, max(1, int(share)), workdir, args.verbose)
        results.append(result)
        status = "ok" if not result.crashes and not result.returncode else "CRASH"
        print(
            f"fuzz {target:15} {result.executions:>9,} inputs  new corpus {result.corpus:>5}  "
            f"{status} {' '.join(map(str, result.crashes))}",
            flush=True,
        )
    total = sum(result.executions for result in results)
    crashed = [result for result in results if result.crashes or result.returncode]
    print(f"fuzz total {total:,} inputs, {len(crashed)} target(s) crashed; work dir {workdir}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
