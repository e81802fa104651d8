"""docs/cli.md in step with the commands: every flag of ``--help`` documented,
the exit-status table the same as ``--help``'s, the page's commands run."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from squall._cli.exits import EPILOG
from tests.cli.helpers import SEED, SQUALL, TIMEOUT
from tests.servers.app import AppServer
from tests.servers.tls import Certs

PAGE = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()
SQUALL_SECTION, _, SEED_SECTION = PAGE.partition("## The seed command")
# An option line of argparse's help: "  -o FILE, --output FILE", "  --http1.1"...
_OPTION_LINE = re.compile(r"^  (-[-\w.]+.*?)(?:  |$)")
_FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z0-9][\w.-]*)")


def help_flags(argv: list[str]) -> set[str]:
    """The flags ``argv --help`` lists."""
    text = subprocess.run(
        [*argv, "--help"], capture_output=True, text=True, timeout=TIMEOUT, check=True
    ).stdout
    text = text.split("exit status", 1)[0]
    flags: set[str] = set()
    for line in text.splitlines():
        match = _OPTION_LINE.match(line)
        if match:
            flags.update(name for name in _FLAG.findall(match[1]) if name.startswith("-"))
    return flags


def documented(section: str) -> set[str]:
    """The flags written as code (in backquotes) in a part of the page."""
    flags: set[str] = set()
    prose = re.sub(r"```.*?```", "", section, flags=re.S)  # not the command blocks
    for code in re.findall(r"`([^`]+)`", prose):
        flags.update(_FLAG.findall(code))
    return flags


def test_the_help_parser_finds_the_flags() -> None:
    # The check below must be able to fail: it sees flags of each kind.
    flags = help_flags(SQUALL)
    assert {"-o", "--output", "-O", "--http1.1", "--proxy-digest", "--compressed"} <= flags
    assert "--no-compressed" in flags and "-h" in flags and "--print-headers" not in flags
    assert "--print-headers" in help_flags(SEED)
    assert "--no-such-flag" not in documented(SQUALL_SECTION)


def test_every_squall_flag_is_documented() -> None:
    assert help_flags(SQUALL) - documented(SQUALL_SECTION) == set()


def test_every_seed_flag_is_documented() -> None:
    # The seed section lists Tornado's flags; the curl ones are the squall section's.
    missing = help_flags(SEED) - documented(SEED_SECTION) - documented(SQUALL_SECTION)
    assert missing == set()
    tornado = help_flags(SEED) - help_flags(SQUALL)
    assert tornado and tornado - documented(SEED_SECTION) == set()


def _table_statuses(section: str, title: str) -> set[int]:
    """The statuses of the first table after ``title``."""
    table = re.search(r"(?:^\|.*\n)+", section.split(title, 1)[1], re.M)
    assert table is not None, title
    return {int(m) for m in re.findall(r"^\| (\d+) \|", table[0], re.M)}


def test_the_exit_tables_are_the_helps() -> None:
    listed = {int(n) for n in re.findall(r"(?:^  | {3,})(\d+) {2,}", EPILOG, re.M)}
    squall_table = _table_statuses(SQUALL_SECTION, "### Exit status")
    # The help's 1 is the seed's; squall's 1 is an unexpected error.
    assert squall_table == listed
    assert _table_statuses(SEED_SECTION, "### Seed exit status") == listed - {22}
    # What a body cut short exits with (curl's "partial file"), not 56.
    assert re.search(r"^\| 18 \| the connection closed in the body", PAGE, re.M)


def _commands() -> list[str]:
    block = SQUALL_SECTION.split("## Common commands", 1)[1].split("```sh\n", 1)[1]
    return [line for line in block.split("```", 1)[0].splitlines() if line.strip()]


@pytest.mark.parametrize("line", _commands())
def test_a_common_command_runs(
    line: str, app_server: AppServer, certs: Certs, tmp_path: Path
) -> None:
    line = line.replace("http://127.0.0.1:8000", app_server.http_url)
    line = line.replace("127.0.0.1:8000", app_server.http_url.removeprefix("http://"))
    line = line.replace("https://127.0.0.1:8443", app_server.https_url)
    args = shlex.split(line.replace(" ca.pem ", f" {certs.ca} "), comments=True)
    assert args[0] == "squall"
    proc = subprocess.run(
        [*SQUALL, *args[1:]], capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
