"""Shared pieces of the validation tests (test_url_validation, test_option_validation,
test_client_arguments): a bad option or argument is a clear TypeError/ValueError naming
it, raised before any I/O, the same on both engines.

"Before any I/O" is checked by fetching from a closed port (the ``dead_url`` fixture):
an option checked too late shows up as a connection error instead of the expected one.
A gap that exists today is pinned with the ``known_gap`` marker (see tests/README.md).
"""

from __future__ import annotations

from tests.servers.scripted import reply_each, response

TIMEOUT = 2.0  # every fetch here is refused or answered at once; this only bounds a bug


# A scripted server's handler: "ok" to every request on the connection.
answer = reply_each(response(b"ok"))
