"""The final memory of a large response body, allocated once (both engines).

A body whose size is known ahead (Content-Length, no content coding) is
received straight into memory of exactly that size: no growth, no join and no
copy at the end. ``bytes(n)`` is calloc'd (untouched zero pages); ``BytesIO``
adopts it without a copy while it holds the only reference (a name for the
bytes would make ``getbuffer()`` copy them); ``getbuffer()`` gives the view the
engine writes through. Once that view is released, ``getvalue()`` returns the
same object.
"""

from __future__ import annotations

from io import BytesIO

from squall._hugepages import HUGE_PAGES_MIN, advise_huge_pages

__all__ = ["presized_body"]


def presized_body(size: int) -> tuple[BytesIO, memoryview] | None:
    """A buffer for a body of ``size`` bytes and a writable view of all of it.

    From ``HUGE_PAGES_MIN`` bytes on, the memory asks for transparent huge pages
    (see ``advise_huge_pages``). The caller writes through the view, then
    releases it (or drops its last reference) before reading the buffer.

    Args:
        size: the body's exact size in bytes.

    Returns:
        ``(buffer, view)``, or None when no allocation can hold ``size`` bytes
        (an announced length with the limits lifted: the caller lets the body
        grow as it arrives instead, so that only a read that truly runs out of
        memory fails).
    """
    try:
        buffer = BytesIO(bytes(size))
    except (OverflowError, MemoryError):
        return None
    view = buffer.getbuffer()
    if size >= HUGE_PAGES_MIN:
        advise_huge_pages(view)
    return buffer, view
