"""squall's command lines: ``python -m squall.httpclient`` (the seed) and ``squall``.

Modules, one job each: ``arguments`` (flags, the two profiles), ``build``
(requests from flags), ``multipart`` (-F), ``run`` (fetching, retries, exit
statuses), ``output`` (streaming head and body), ``writeout`` (-w),
``progress``, ``timing`` and ``terminal`` (rich, optional), ``verbose`` (-v),
``exits`` (curl's exit codes), ``main`` (entry points).
"""

from squall._cli.main import main, squall_main

__all__ = ["main", "squall_main"]
