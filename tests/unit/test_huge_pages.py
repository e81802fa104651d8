"""advise_huge_pages: the advice reaches the kernel (the VMA gets the "hg" flag), and the
body is unchanged when it is received into advised memory."""

from __future__ import annotations

import ctypes
import mmap
import os
import sys
from io import BytesIO

import pytest

from squall._hugepages import HUGE_PAGES_MIN, advise_huge_pages


def _vm_flags(address: int) -> list[str]:
    flags: list[str] = []
    inside = False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            first = line.split(maxsplit=1)[0]
            if "-" in first and not first.endswith(":"):
                low, high = (int(x, 16) for x in first.split("-"))
                inside = low <= address < high
            elif inside and first == "VmFlags:":
                flags = line.split()[1:]
    return flags


@pytest.mark.skipif(
    not sys.platform.startswith("linux")
    or not os.path.exists("/sys/kernel/mm/transparent_hugepage/enabled"),
    reason="transparent huge pages are a Linux feature",
)
def test_advice_marks_the_memory() -> None:
    # A mapping of its own: once the process has freed a large buffer, malloc serves large
    # ones from the heap, which an earlier test's advice may already have marked.
    with mmap.mmap(-1, HUGE_PAGES_MIN * 2) as memory:
        view = memoryview(memory)
        middle = ctypes.addressof(ctypes.c_char.from_buffer(view)) + HUGE_PAGES_MIN
        assert "hg" not in _vm_flags(middle)
        advise_huge_pages(view)
        assert "hg" in _vm_flags(middle)
        view.release()


def test_advised_body_buffer_keeps_its_bytes() -> None:
    buffer = BytesIO(bytes(HUGE_PAGES_MIN * 2))
    view = buffer.getbuffer()
    advise_huge_pages(view)
    view[:3] = b"abc"
    view[-1:] = b"z"
    view.release()
    value = buffer.getvalue()
    assert value[:4] == b"abc\0"
    assert value[-2:] == b"\0z"
    assert len(value) == HUGE_PAGES_MIN * 2


def test_any_view_is_accepted() -> None:
    for size in (1, 4095, 4096, 3 * 4096 + 7):
        data = bytearray(size)
        advise_huge_pages(memoryview(data))
        assert data == bytes(size)
