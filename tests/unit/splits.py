"""Ways to cut a byte string into the pieces a reader might get: for property tests."""

from __future__ import annotations

from hypothesis import strategies as st


def bytewise(data: bytes) -> list[bytes]:
    """``data`` one byte at a time."""
    return [data[i : i + 1] for i in range(len(data))]


@st.composite
def split(draw: st.DrawFn, data: bytes, whole: bool = True, max_cuts: int = 12) -> list[bytes]:
    """``data`` cut at up to ``max_cuts`` random places, in single bytes, or (if
    ``whole``) in one piece."""
    modes = ["random", "bytes", "whole"] if whole else ["random", "bytes"]
    mode = draw(st.sampled_from(modes))
    if mode == "whole" or len(data) < 2:
        return [data]
    if mode == "bytes":
        return bytewise(data)
    cuts = sorted(draw(st.sets(st.integers(1, len(data) - 1), min_size=1, max_size=max_cuts)))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
