"""HTTP Digest access authentication (RFC 7616), sans I/O.

``parse_challenges`` reads ``WWW-Authenticate``/``Proxy-Authenticate`` values
(RFC 9110 §11.6.1: several challenges may share one field);
``DigestChallenge.from_params`` keeps a Digest one this module can answer, and
``DigestSession`` answers it, counting the nonce uses (``nc``) so that a
session can be reused for later requests without a new challenge.

Supported: algorithms MD5, SHA-256 and SHA-512-256 (when hashlib has it), each
with its ``-sess`` variant; ``qop=auth`` (and no qop, RFC 2069's form, for old
servers); ``userhash``; ``opaque``; non-ASCII user names sent as ``username*``
(RFC 8187). Not supported: ``qop=auth-int`` alone (a challenge offering only it
is not answered).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["DigestChallenge", "DigestSession", "parse_challenges"]

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_SCHEME = re.compile(rf"[\s,]*({_TOKEN})(?=\s|,|$)\s*")
_PARAM = re.compile(rf'({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))\s*(?:,\s*|$)')
_ESCAPE = re.compile(r"\\(.)")


def _hasher(name: str) -> Callable[[bytes], str] | None:
    try:
        hashlib.new(name)
    except ValueError:
        return None
    return lambda data: hashlib.new(name, data).hexdigest()


_ALGORITHMS: dict[str, Callable[[bytes], str]] = {
    name: hasher
    for name, hasher in (
        ("MD5", _hasher("md5")),
        ("SHA-256", _hasher("sha256")),
        ("SHA-512-256", _hasher("sha512_256")),
    )
    if hasher is not None
}


def parse_challenges(value: str) -> list[tuple[str, dict[str, str]]]:
    """The challenges in one header field value: ``(scheme in lower case, params)``.

    Parameter names are lower-cased and quoted values unescaped. A token68
    challenge (``Negotiate abc==``) ends the parse: nothing here answers one.
    """
    challenges: list[tuple[str, dict[str, str]]] = []
    pos = 0
    while pos < len(value):
        scheme = _SCHEME.match(value, pos)
        if scheme is None:
            break
        pos = scheme.end()
        params: dict[str, str] = {}
        while (param := _PARAM.match(value, pos)) is not None:
            quoted, token = param.group(2), param.group(3)
            params[param.group(1).lower()] = (
                _ESCAPE.sub(r"\1", quoted) if quoted is not None else token
            )
            pos = param.end()
        challenges.append((scheme.group(1).lower(), params))
    return challenges


@dataclass(frozen=True, slots=True)
class DigestChallenge:
    """A Digest challenge this module can answer."""

    realm: str
    nonce: str
    algorithm: str  # as given, e.g. "SHA-256-sess"
    qop: str | None  # "auth", or None (RFC 2069)
    opaque: str | None
    stale: bool
    userhash: bool

    @classmethod
    def from_params(cls, params: dict[str, str]) -> DigestChallenge | None:
        """The challenge from a Digest challenge's params, or None if unanswerable."""
        realm, nonce = params.get("realm"), params.get("nonce")
        if realm is None or not nonce:
            return None
        algorithm = params.get("algorithm", "MD5")
        base = algorithm[:-5] if algorithm.upper().endswith("-SESS") else algorithm
        if base.upper() not in _ALGORITHMS:
            return None
        qop: str | None = None
        if "qop" in params:
            offered = [item.strip().lower() for item in params["qop"].split(",")]
            if "auth" not in offered:
                return None  # auth-int only: the body would have to be hashed
            qop = "auth"
        return cls(
            realm=realm,
            nonce=nonce,
            algorithm=algorithm,
            qop=qop,
            opaque=params.get("opaque"),
            stale=params.get("stale", "").lower() == "true",
            userhash=params.get("userhash", "").lower() == "true",
        )


class DigestSession:
    """Answers one challenge, for as many requests as the server accepts its nonce.

    Args:
        challenge: what the server asked.
        username, password: the credentials (UTF-8 bytes, NFC-normalised).
        cnonce: the client nonce (random unless given: tests pin it).
    """

    __slots__ = ("_cnonce", "_hash", "_password", "_sess", "_username", "challenge", "count")

    def __init__(
        self,
        challenge: DigestChallenge,
        username: bytes,
        password: bytes,
        cnonce: str | None = None,
    ) -> None:
        self.challenge = challenge
        self._username = username
        self._password = password
        algorithm = challenge.algorithm.upper()
        self._sess = algorithm.endswith("-SESS")
        self._hash = _ALGORITHMS[algorithm[:-5] if self._sess else algorithm]
        self._cnonce = cnonce or secrets.token_hex(16)
        self.count = 0

    def authorization(self, method: str, uri: str) -> str:
        """The next Authorization (or Proxy-Authorization) value for ``method uri``."""
        c, h = self.challenge, self._hash
        self.count += 1
        nc = f"{self.count:08x}"
        realm = c.realm.encode("utf-8")
        ha1 = h(self._username + b":" + realm + b":" + self._password)
        if self._sess:
            ha1 = h(f"{ha1}:{c.nonce}:{self._cnonce}".encode())
        ha2 = h(f"{method}:{uri}".encode())
        if c.qop is None:
            response = h(f"{ha1}:{c.nonce}:{ha2}".encode())
        else:
            response = h(f"{ha1}:{c.nonce}:{nc}:{self._cnonce}:{c.qop}:{ha2}".encode())
        parts = [self._user_param(), f"realm={_quoted(c.realm)}", f"uri={_quoted(uri)}"]
        parts += [f"algorithm={c.algorithm}", f"nonce={_quoted(c.nonce)}"]
        if c.qop is not None:
            parts += [f"nc={nc}", f"cnonce={_quoted(self._cnonce)}", f"qop={c.qop}"]
        parts.append(f'response="{response}"')
        if c.opaque is not None:
            parts.append(f"opaque={_quoted(c.opaque)}")
        if c.userhash:
            parts.append("userhash=true")
        return "Digest " + ", ".join(parts)

    def _user_param(self) -> str:
        if self.challenge.userhash:
            hashed = self._hash(self._username + b":" + self.challenge.realm.encode("utf-8"))
            return f'username="{hashed}"'
        try:
            name = self._username.decode("ascii")
        except UnicodeDecodeError:
            # RFC 7616 §3.4.4: a name that is not ASCII goes in username* (RFC 8187).
            return "username*=UTF-8''" + quote(self._username, safe="")
        if '"' in name or "\\" in name:
            return "username*=UTF-8''" + quote(self._username, safe="")
        return f'username="{name}"'


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
