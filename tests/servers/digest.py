"""A tiny ASGI app that demands HTTP Digest authentication (RFC 7616, MD5, qop=auth).

It checks the client's digest the way a server must: the nonce must be one it
issued, and the response hash must match the method, URI and credentials. It
answers either as an origin (``401``/``WWW-Authenticate``/``Authorization``)
or, with ``proxy=True``, as a forward proxy that answers proxied requests
itself (``407``/``Proxy-Authenticate``/``Proxy-Authorization``): neither
proxy.py nor pproxy implements digest proxy authentication.

``DigestServer`` runs it with hypercorn like ``AppServer`` runs the main app.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from typing import Any

from tests.servers.app import AppServer
from tests.servers.tls import Certs

DIGEST_USER, DIGEST_PASSWORD, DIGEST_REALM = "digestuser", "digest pass", "squall-tests"

_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def parse_digest(value: str) -> dict[str, str] | None:
    """The parameters of a ``Digest ...`` credentials header value, or None."""
    scheme, _, rest = value.partition(" ")
    if scheme.lower() != "digest":
        return None
    return {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _PARAM.finditer(rest)}


class DigestApp:
    """The ASGI app; ``challenges`` and ``accepted`` count what it did."""

    def __init__(self, proxy: bool = False) -> None:
        self.proxy = proxy
        self.nonces: set[str] = set()
        self.challenges = 0
        self.accepted = 0

    def check(self, method: str, target: str, value: str) -> str | None:
        """The authenticated user name, or None when ``value`` does not prove it."""
        params = parse_digest(value)
        if params is None or params.get("nonce") not in self.nonces:
            return None
        if params.get("username") != DIGEST_USER or params.get("realm") != DIGEST_REALM:
            return None
        uri = params.get("uri", "")
        # A proxied request's target is absolute ("http://host/path?q"); clients
        # put either that or its path and query in uri= (libcurl: the latter).
        _scheme, sep, rest = target.partition("://")
        origin_form = "/" + rest.partition("/")[2] if sep else target
        if uri not in (target, origin_form) or params.get("qop") != "auth":
            return None
        ha1 = _md5(f"{DIGEST_USER}:{DIGEST_REALM}:{DIGEST_PASSWORD}")
        ha2 = _md5(f"{method}:{uri}")
        parts = (ha1, params["nonce"], params.get("nc", ""), params.get("cnonce", ""), "auth", ha2)
        return DIGEST_USER if params.get("response") == _md5(":".join(parts)) else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        header = b"proxy-authorization" if self.proxy else b"authorization"
        value = next((v.decode("latin-1") for k, v in scope["headers"] if k == header), "")
        target = scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        user = self.check(scope["method"], target, value)
        if user is None:
            await self._challenge(send)
            return
        self.accepted += 1
        data = {"user": user, "method": scope["method"], "target": target, "body": body.decode()}
        await _send(send, 200, [], json.dumps(data).encode())

    async def _challenge(self, send: Any) -> None:
        self.challenges += 1
        nonce = secrets.token_hex(16)
        self.nonces.add(nonce)
        challenge = f'Digest realm="{DIGEST_REALM}", qop="auth", nonce="{nonce}", algorithm=MD5'
        name = b"proxy-authenticate" if self.proxy else b"www-authenticate"
        await _send(send, 407 if self.proxy else 401, [(name, challenge.encode())], b"denied")


async def _send(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class DigestServer(AppServer):
    """hypercorn serving a DigestApp on AppServer's three sockets."""

    def __init__(self, certs: Certs, proxy: bool = False) -> None:
        super().__init__(certs)
        self.digest = DigestApp(proxy=proxy)
        self.app = self.digest  # type: ignore[assignment]
