"""squall's two loggers, named after Tornado's, and the records both engines write.

``squall.general`` mirrors ``tornado.general`` (the peer's faults: a malformed
or refused response, logged at INFO, as Tornado's HTTP1Connection does) and
``squall.application`` mirrors ``tornado.application`` (the user's code: an
exception from a callback, logged at ERROR with its traceback). Nothing else is
logged at INFO or above in normal operation.
"""

from __future__ import annotations

import logging

from squall._errors import RemoteProtocolError

__all__ = ["app_log", "gen_log", "log_malformed"]

gen_log = logging.getLogger("squall.general")
app_log = logging.getLogger("squall.application")

_PREFIX = "Malformed HTTP response: "
_FROM_PEER = "Malformed HTTP response from "


def log_malformed(peer: str, exc: RemoteProtocolError) -> None:
    """Log a response refused as malformed or over a limit, as Tornado words it:
    ``Malformed HTTP message from <peer>: <reason>``.

    Args:
        peer: ``host:port`` of the server.
        exc: the refusal; its message, without our "Malformed HTTP response: "
            prefix, is the reason ("Content-Length too long (...)",
            "Multiple unequal Content-Lengths", ...).
    """
    reason = exc.message
    if reason.startswith(_PREFIX):
        reason = reason[len(_PREFIX) :]
    elif reason.startswith(_FROM_PEER) and ": " in reason:
        reason = reason.split(": ", 1)[1]  # "Malformed HTTP response from host:port: ..."
    gen_log.info("Malformed HTTP message from %s: %s", peer, reason)


# A library's loggers: records go to the application's handlers (propagation),
# and with none configured they are dropped rather than printed by Python's
# last-resort handler (the stdlib's advice for libraries).
logging.getLogger("squall").addHandler(logging.NullHandler())
