"""The final memory of a large response body: allocated once, or grown no further
than the body size limit (both engines).

A body whose size is known ahead (Content-Length, no content coding) is
received straight into memory of exactly that size: no growth, no join and no
copy at the end. ``bytes(n)`` is calloc'd (untouched zero pages); ``BytesIO``
adopts it without a copy while it holds the only reference (a name for the
bytes would make ``getbuffer()`` copy them); ``getbuffer()`` gives the view the
engine writes through. Once that view is released, ``getvalue()`` returns the
same object.

A body of unknown length grows in a ``BytesIO``, which over-allocates by an
eighth as it grows: a body refused at the limit would have held up to 12.5%
more than the limit. ``cap_at_limit`` gives the buffer the limit as its exact
capacity once the body nears it, so that no growth passes it.
"""

from __future__ import annotations

from io import BytesIO

from squall._hugepages import HUGE_PAGES_MIN, advise_huge_pages

__all__ = ["BodyBuffer", "cap_at_limit", "near_limit", "presized_body"]


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


def near_limit(size: int, limit: int) -> bool:
    """Whether a growing body of ``size`` bytes is close enough to ``limit`` for
    ``cap_at_limit`` (the last fifth): from there on, one growth could pass it."""
    return size > limit - limit // 5


def cap_at_limit(buffer: BytesIO, size: int, limit: int) -> bool:
    """Give ``buffer`` (holding ``size`` bytes, positioned at its end) a capacity of
    exactly ``limit`` bytes, so that writes up to the limit never grow it again.

    CPython's ``BytesIO`` grows by an eighth when a write needs a little more
    room, but to the exact size asked when it needs more than that. So the
    buffer is trimmed to its content (``getvalue()`` does that, in place, while
    no other reference holds the result), then asked for ``limit`` bytes at
    once, then truncated back to its content: truncating keeps the capacity
    unless it falls under half of it, which ``near_limit`` rules out.

    Returns:
        True once the capacity is the limit; False if it cannot be made so
        (the content is already within an eighth of the limit, or the memory
        cannot hold the limit: the buffer then just grows as it needs).
    """
    if not limit // 2 < size < limit - limit // 8:
        return False
    buffer.getvalue()  # trimmed to ``size``; the value itself is dropped at once
    try:
        buffer.seek(limit - 1)
        buffer.write(b"\0")
    except MemoryError:
        return False
    finally:
        buffer.truncate(size)
        buffer.seek(size)
    return True


class BodyBuffer:
    """A buffered body as it arrives, in pieces the caller has checked against the
    limit: written in place when its length is known, else grown up to the limit.

    A large body of known length goes straight into its final memory
    (``presized_body``: sized once, with huge pages, kept by the ``BytesIO`` as
    is, so no growth and no final copy); should more come than announced, plain
    writes take over. Plain writes are capped at the limit (``cap_at_limit``).
    Call ``finish`` before reading ``buffer``.

    Args:
        limit: the most body bytes accepted.
    """

    __slots__ = ("_capped", "_limit", "_view", "buffer", "size")

    def __init__(self, limit: int) -> None:
        self.buffer = BytesIO()
        self.size = 0
        self._limit = limit
        self._view: memoryview | None = None  # the final memory, while written in place
        self._capped = False

    def write(self, data: bytes, length: int) -> None:
        """Append ``data``; ``length`` is the whole body's announced size, or -1."""
        size = self.size + len(data)
        view = self._view
        if view is None and not self.size and HUGE_PAGES_MIN <= length <= self._limit:
            presized = presized_body(length)
            if presized is not None:
                self.buffer, view = presized
                self._view = view
        if view is not None and size <= len(view):
            view[self.size : size] = data
        else:
            self.finish()
            self.buffer.write(data)
            if not self._capped and near_limit(size, self._limit):
                # A body refused at the limit then held no more than the limit.
                self._capped = cap_at_limit(self.buffer, size, self._limit)
        self.size = size

    def finish(self) -> None:
        """End in-place writing: the buffer keeps what was written, positioned at its
        end; with no view left, ``getvalue()`` returns the buffer itself (no copy)."""
        view = self._view
        if view is not None:
            self._view = None
            view.release()
            self.buffer.truncate(self.size)
            self.buffer.seek(self.size)
