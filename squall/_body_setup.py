"""What a response head decides about its body, for both of the simple engine's protocols.

The HTTP/1.1 exchange and the HTTP/2 stream apply the same rule once a final
response head has arrived (and is not a redirect being followed): pick the
content decoder, rewriting the headers as Tornado does, and refuse at once a
body whose announced length is over the limit.
"""

from __future__ import annotations

from squall._decoding import Decoder, make_decoder
from squall._errors import ResponseTooLargeError
from squall._framing import length_too_long
from squall._headers import HTTPHeaders
from squall._request import HTTPRequest

__all__ = ["body_decoder"]


def body_decoder(
    request: HTTPRequest, status_code: int, headers: HTTPHeaders, limit: int
) -> Decoder | None:
    """The decoder for the body this head announces (None: take the bytes as they come).

    With ``decompress_response`` and a Content-Encoding squall can undo, the
    coding moves to ``X-Consumed-Content-Encoding`` (Tornado's convention: the
    body is no longer encoded). Without a decoder, a Content-Length over
    ``limit`` is refused before any body byte is read; a decoded body is
    counted by its decoder instead.

    Raises:
        ResponseTooLargeError: the announced length is over ``limit``.
    """
    decoder = None
    if request.decompress_response and "Content-Encoding" in headers:
        coding = headers["Content-Encoding"]
        decoder = make_decoder(coding, limit)
        if decoder is not None:
            headers.add("X-Consumed-Content-Encoding", coding)
            del headers["Content-Encoding"]
    length = headers.get("Content-Length")
    if decoder is None and length is not None and length.isdigit():
        has_body = request.method != "HEAD" and status_code not in (204, 304)
        if has_body and int(length) > limit:
            raise ResponseTooLargeError(
                length_too_long(length, limit), option="max_body_size", limit=limit
            )
    return decoder
