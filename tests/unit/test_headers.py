"""HTTPHeaders: case-insensitive, multi-valued, Tornado-compatible."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from squall._headers import HTTPHeaders, format_timestamp
from squall.httputil import url_concat


def test_multi_values_and_case() -> None:
    h = HTTPHeaders()
    h.add("set-cookie", "a=1")
    h.add("Set-Cookie", "b=2")
    h["content-type"] = "text/plain"
    assert h["SET-COOKIE"] == "a=1,b=2"
    assert h.get_list("set-cookie") == ["a=1", "b=2"]
    assert list(h.get_all()) == [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Content-Type", "text/plain"),
    ]
    assert "content-TYPE" in h and len(h) == 2
    h["Set-Cookie"] = "c=3"
    assert h.get_list("Set-Cookie") == ["c=3"]
    del h["set-cookie"]
    assert "Set-Cookie" not in h and h.get_list("Set-Cookie") == []


def test_parse_block_and_continuation() -> None:
    h = HTTPHeaders.parse("Content-Type: text/html\r\nX-Long: a\r\n b\r\nX-M: 1\r\nX-M: 2\r\n")
    assert h["X-Long"] == "a b"
    assert h.get_list("x-m") == ["1", "2"]


def test_parse_line_takes_crlf_and_the_empty_final_line() -> None:
    h = HTTPHeaders()
    for line in ["Content-Type: text/html\r\n", "X-A: 1\n", "X-B: 2", "\r\n", "\n"]:
        h.parse_line(line)
    assert list(h.get_all()) == [("Content-Type", "text/html"), ("X-A", "1"), ("X-B", "2")]


@pytest.mark.parametrize("line", ["no colon here", " leading space first"])
def test_parse_line_rejects(line: str) -> None:
    with pytest.raises(ValueError):
        HTTPHeaders().parse_line(line)


def test_bytes_values_are_latin1() -> None:
    h = HTTPHeaders()
    h.add("X", b"caf\xe9")
    assert h["X"] == "café"


def test_copy_and_pickle_keep_repeats() -> None:
    h = HTTPHeaders.from_pairs([("A", "1"), ("A", "2")])
    for clone in (h.copy(), copy.copy(h), pickle.loads(pickle.dumps(h))):
        assert clone.get_list("a") == ["1", "2"]
        assert clone == h and clone is not h


def test_equality_with_dict() -> None:
    assert HTTPHeaders({"content-type": "x"}) == {"Content-Type": "x"}


def test_format_timestamp() -> None:
    assert format_timestamp(0) == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_url_concat() -> None:
    assert url_concat("http://e.com/p?a=b", {"c": "d"}) == "http://e.com/p?a=b&c=d"
    assert url_concat("http://e.com/p", [("x", "1"), ("x", "2")]) == "http://e.com/p?x=1&x=2"
    assert url_concat("http://e.com/p", None) == "http://e.com/p"


@pytest.mark.parametrize("name", [1, None, b"X-A", ("X", "A"), ["X-A"]])
def test_non_str_header_name_is_a_type_error(name: Any) -> None:
    with pytest.raises(TypeError, match="header name must be a str"):
        HTTPHeaders().add(name, "a")
    with pytest.raises(TypeError, match="header name must be a str"):
        HTTPHeaders().get_list(name)
    assert name not in HTTPHeaders({"X-A": "a"})
