"""squall._framing.check_head: the response-head rules both engines share."""

from __future__ import annotations

import re

import pytest

from squall._errors import RemoteProtocolError, ResponseTooLargeError
from squall._framing import (
    BOTH_LENGTH_AND_CODING,
    CHUNKED,
    NO_CONTENT_WITH_BODY,
    TOO_MANY_INFORMATIONAL,
    UNEXPECTED_101,
    UNTIL_CLOSE,
    check_head,
)
from squall._headers import HTTPHeaders


def fields(**pairs: str) -> HTTPHeaders:
    return HTTPHeaders({name.replace("_", "-"): value for name, value in pairs.items()})


@pytest.mark.parametrize(
    ("status", "headers", "head_request", "expected"),
    [
        (200, fields(Content_Length="12"), False, 12),
        (200, fields(Transfer_Encoding="chunked"), False, CHUNKED),
        (200, fields(Transfer_Encoding="Chunked "), False, CHUNKED),
        (200, fields(), False, UNTIL_CLOSE),
        (200, fields(Content_Length="12"), True, 0),
        (304, fields(Content_Length="12"), False, 0),
        (304, fields(Transfer_Encoding="gzip"), False, 0),
        (204, fields(), False, 0),
        (204, fields(Content_Length="0"), False, 0),
        (100, fields(), False, 0),
    ],
)
def test_how_the_body_is_delimited(
    status: int, headers: HTTPHeaders, head_request: bool, expected: int
) -> None:
    assert check_head(status, headers, head_request, 1, 100) == expected


@pytest.mark.parametrize(
    ("status", "headers", "informational", "message"),
    [
        (99, fields(), 0, "Invalid status code 99"),
        (101, fields(), 1, UNEXPECTED_101),
        (103, fields(), 11, TOO_MANY_INFORMATIONAL),
        (204, fields(Content_Length="5"), 0, NO_CONTENT_WITH_BODY),
        (204, fields(Transfer_Encoding="chunked"), 0, NO_CONTENT_WITH_BODY),
        (200, fields(Content_Length="5", Transfer_Encoding="chunked"), 0, BOTH_LENGTH_AND_CODING),
        (200, fields(Transfer_Encoding="gzip, chunked"), 0, "Unsupported Transfer-Encoding"),
        (200, fields(Transfer_Encoding="chunked, chunked"), 0, "Unsupported Transfer-Encoding"),
        (200, fields(Content_Length="-1"), 0, "Invalid character in Content-Length"),
    ],
)
def test_refusals(status: int, headers: HTTPHeaders, informational: int, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=re.escape(message)) as info:
        check_head(status, headers, False, informational)
    assert type(info.value) is RemoteProtocolError


def test_announced_length_against_the_limit() -> None:
    with pytest.raises(ResponseTooLargeError, match=r"Content-Length too long \(101 > max_body"):
        check_head(200, fields(Content_Length="101"), False, 0, 100)
    assert check_head(200, fields(Content_Length="100"), False, 0, 100) == 100
    assert check_head(200, fields(Content_Length="101"), False, 0, None) == 101
    assert check_head(200, fields(Content_Length="101"), True, 0, 100) == 0
