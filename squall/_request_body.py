"""A request's body: where it comes from, and the rules it must meet.

A request has one body source at most: ``body`` (bytes, or a str sent as
UTF-8), ``body_producer``, or a body built from ``json``, ``form`` or ``files``
(``_payloads.py``; ``form`` with ``files`` is one multipart body), which also
gives the Content-Type and, when it is known, the Content-Length. Once a
request is resolved against the client's defaults, a Content-Length header
must agree with its ``body``, and its method must be one Tornado knows, with a
body where the method needs one and none elsewhere, unless
``allow_nonstandard_methods`` lifts both rules.
"""

from __future__ import annotations

from squall._headers import HTTPHeaders
from squall._payloads import FilesArg, FormArg, Payload, payload

__all__ = ["STANDARD_METHODS", "check_content_length", "check_method_body", "payload_for"]

STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
_BODY_REQUIRED = frozenset({"POST", "PUT", "PATCH"})


def payload_for(
    headers: HTTPHeaders,
    body: object,
    body_producer: object,
    json: object,
    form: FormArg | None,
    files: FilesArg | None,
) -> Payload:
    """The body built from ``json``, ``form`` or ``files``, with its Content-Type
    (and Content-Length, for a streamed body of known size) added to ``headers``
    where they are not given.

    Raises:
        ValueError: more than one body source.
    """
    given = [
        name
        for name, value in (
            ("body", body),
            ("body_producer", body_producer),
            ("json", json),
            ("form", form if files is None else None),  # form + files: one multipart
            ("files", files),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise ValueError(f"one body source at most, got {' and '.join(given)}")
    built = payload(json, form, files)
    if "Content-Type" not in headers:
        headers["Content-Type"] = built.content_type
    if built.body is None and built.length is not None and "Content-Length" not in headers:
        headers["Content-Length"] = str(built.length)
    return built


def check_content_length(headers: HTTPHeaders, body: bytes) -> None:
    """A ValueError unless the Content-Length header gives the body's size."""
    # Both engines frame the body by its length; a header saying otherwise
    # would desynchronise the connection (or be silently replaced).
    length = headers["Content-Length"]
    if length != str(len(body)) and not (length.isdigit() and int(length) == len(body)):
        raise ValueError(
            f"Content-Length header {length!r} contradicts the body ({len(body)} bytes)"
        )


def check_method_body(method: str, has_body: bool) -> None:
    """A ValueError unless ``method`` is standard and has a body where it needs one
    (and none where it takes none); for requests without ``allow_nonstandard_methods``."""
    if method not in STANDARD_METHODS:
        raise ValueError(f"unknown method {method} (set allow_nonstandard_methods=True to send it)")
    if method in _BODY_REQUIRED and not has_body:
        raise ValueError(
            f"Body must not be None for method {method} (unless allow_nonstandard_methods is true)"
        )
    if method not in _BODY_REQUIRED and has_body:
        raise ValueError(
            f"Body must be None for method {method} (unless allow_nonstandard_methods is true)"
        )
