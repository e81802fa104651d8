"""The header fields and credentials both engines add to a request.

The simple engine writes them into the head it serialises; the curl engine
turns them into libcurl header lines and options. Each field is added only
where the request does not carry it (``user_agent`` wins over a User-Agent
header, as in Tornado).
"""

from __future__ import annotations

import base64
import unicodedata
from typing import TYPE_CHECKING, Final

from squall._decoding import ACCEPT_ENCODING
from squall._version import __version__

if TYPE_CHECKING:
    from squall._request import HTTPRequest

__all__ = ["DEFAULT_USER_AGENT", "basic_authorization", "credentials", "default_fields"]

DEFAULT_USER_AGENT: Final = f"squall/{__version__}"


def default_fields(request: HTTPRequest, user_agent: str) -> list[tuple[str, str]]:
    """User-Agent, Accept and Accept-Encoding, where the request leaves them out.

    Args:
        request: the resolved request.
        user_agent: the engine's default User-Agent.
    """
    given = request.headers
    fields: list[tuple[str, str]] = []
    if request.user_agent:
        fields.append(("User-Agent", request.user_agent))
    elif "User-Agent" not in given:
        fields.append(("User-Agent", user_agent))
    if "Accept" not in given:
        # What curl, httpx, requests and aiohttp send: any type will do.
        fields.append(("Accept", "*/*"))
    if request.decompress_response and "Accept-Encoding" not in given:
        # The codings squall._decoding decodes (br and zstd only when installed).
        fields.append(("Accept-Encoding", ACCEPT_ENCODING))
    return fields


def credentials(request: HTTPRequest) -> tuple[bytes, bytes] | None:
    """The user name and password to authenticate with, or None.

    Credentials in the URL win over ``auth_username``/``auth_password``. Both
    are NFC-normalised and UTF-8 encoded, as Tornado's
    ``encode_username_password`` does.
    """
    if request.url_username is not None:
        username, password = request.url_username, request.url_password or ""
    elif request.auth_username is not None:
        username, password = request.auth_username, request.auth_password or ""
    else:
        return None
    return (
        unicodedata.normalize("NFC", username).encode("utf-8"),
        unicodedata.normalize("NFC", password).encode("utf-8"),
    )


def basic_authorization(username: bytes, password: bytes) -> str:
    """The Authorization field value of basic auth (RFC 7617)."""
    return "Basic " + base64.b64encode(username + b":" + password).decode("ascii")
