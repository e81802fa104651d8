"""Shared pieces of the validation tests (test_url_validation, test_option_validation,
test_client_arguments): a bad option or argument is a clear TypeError/ValueError naming
it, raised before any I/O, the same on both engines.

"Before any I/O" is checked by fetching from a closed port (the ``dead_url`` fixture):
an option checked too late shows up as a connection error instead of the expected one.
Tests marked ``xfail(strict=True)`` pin gaps that exist today (the reason names the
gap); they start failing, on purpose, once the gap is fixed.
"""

from __future__ import annotations

import pytest

from tests.conftest import ENGINES
from tests.servers.scripted import reply_each, response

TIMEOUT = 2.0  # every fetch here is refused or answered at once; this only bounds a bug


def gap(reason: str) -> pytest.MarkDecorator:
    """A strict xfail: the test pins a gap that exists today."""
    return pytest.mark.xfail(strict=True, reason=reason)


def engines(*failing: str, reason: str) -> pytest.MarkDecorator:
    """Run on both engines, with a strict xfail on the engines (by kind) that have the gap."""
    xfail = gap(reason)
    return pytest.mark.parametrize(
        "engine",
        [
            pytest.param(dotted, id=name, marks=[xfail] if name.endswith(failing) else [])
            for name, dotted in ENGINES.items()
        ],
    )


# A scripted server's handler: "ok" to every request on the connection.
answer = reply_each(response(b"ok"))
