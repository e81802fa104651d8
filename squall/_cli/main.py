"""The two entry points: the seed command and ``squall``.

Both parse, build every request (so usage errors come before any I/O), then
run the jobs on a fresh event loop. An expected failure is one line on stderr
(a bad flag two: the problem and a pointer to --help, as curl prints them);
anything else too, unless ``--debug`` asks for the traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys

from squall._cli.arguments import SEED, SQUALL, Profile, parse
from squall._cli.build import make_jobs
from squall._cli.exits import INTERRUPTED, USAGE, Failure
from squall._cli.run import Runner
from squall._configurable import ENGINES
from squall.httpclient import AsyncHTTPClient

__all__ = ["main", "squall_main"]


def engine_class(name: str | None) -> type[AsyncHTTPClient]:
    """The engine named by --engine, else the configured one."""
    try:
        if name is None:
            return AsyncHTTPClient.configured_class()  # type: ignore[return-value]
        module_name, _, class_name = ENGINES[name].rpartition(".")
        cls: type[AsyncHTTPClient] = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, ValueError) as exc:
        raise Failure(USAGE, f"the {name or 'configured'} engine is unavailable: {exc}") from None
    return cls


class _Complainer:
    """Prints ``squall: message`` on stderr unless -s (and not -S)."""

    def __init__(self) -> None:
        self.args: argparse.Namespace | None = None

    def __call__(self, message: str) -> None:
        args = self.args
        if args is None or not args.silent or args.show_error:
            sys.stderr.write(f"squall: {message}\n")
            sys.stderr.flush()


def _run(profile: Profile, argv: list[str] | None, engine: str | None) -> int:
    complain = _Complainer()
    try:
        args = parse(profile, sys.argv[1:] if argv is None else argv, engine)
        complain.args = args
        if args.logging and args.logging != "none":
            logging.basicConfig(level=args.logging.upper(), stream=sys.stderr)
        jobs = make_jobs(args)
        runner = Runner(args, engine_class(args.engine), complain)
        return asyncio.run(runner.run(jobs))
    except SystemExit as exc:  # argparse: --help
        return exc.code if isinstance(exc.code, int) else USAGE
    except Failure as exc:
        # curl's number, as after a fetch; not on a usage error (curl gives none).
        complain(str(exc) if exc.status == USAGE else f"({exc.status}) {exc}")
        return exc.status
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as exc:
        if complain.args is not None and complain.args.debug:
            raise
        complain(f"unexpected {type(exc).__name__}: {exc} (--debug shows where)")
        return 1


def main(argv: list[str] | None = None, engine: str | None = None) -> int:
    """Run the seed command line, ``python -m squall.httpclient``; returns the exit status.

    Args:
        argv: the arguments (default ``sys.argv[1:]``).
        engine: the engine used when ``--engine`` is not given (``"simple"``
            or ``"curl"``); None means the configured one.
    """
    return _run(SEED, argv, engine)


def squall_main(argv: list[str] | None = None) -> int:
    """Run the ``squall`` command (curl's flags and defaults); returns the exit status."""
    return _run(SQUALL, argv, None)
