"""``python -m squall``: the ``squall`` command (curl's flags and defaults)."""

from squall._cli import squall_main

raise SystemExit(squall_main())
