"""What each engine sends to a proxy, seen by scripted proxies (both engines).

Each scripted server here plays a proxy at the socket level and records what
it receives: the absolute-form target and Proxy-Authorization of a forwarded
request, the CONNECT request and the TLS inside the tunnel (a certificate for
a name that does not resolve, so only a check against the origin's name can
pass); the SOCKS handshakes are in test_socks_wire.py.
"""

from __future__ import annotations

import base64
import secrets
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme

from squall._errors import HTTPClientError, HTTPTimeoutError
from tests.servers.digest import DIGEST_PASSWORD, DIGEST_REALM, DIGEST_USER, DigestApp
from tests.servers.scripted import ScriptedServer, response
from tests.servers.tls import Certs

# squall's own contract on the wire (Tornado's simple client has no proxies at all).
pytestmark = pytest.mark.squall_only

ORIGIN = "origin.squall.test"  # never resolved: only the proxy is dialled
OTHER = "other.squall.test"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _fields(head: bytes) -> list[tuple[str, str]]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return [(k.strip().lower(), v.strip()) for k, _, v in (line.partition(":") for line in lines)]


def _values(head: bytes, name: str) -> list[str]:
    return [value for key, value in _fields(head) if key == name]


def _forwarding_proxy(conn: socket.socket, server: ScriptedServer) -> None:
    while server.read_request(conn):
        conn.sendall(response(b"from the proxy"))


async def test_plain_http_is_forwarded_with_absolute_target_and_basic_auth(
    client: Any, scripted: Any
) -> None:
    server = scripted(_forwarding_proxy)
    options: dict[str, Any] = {
        "proxy_host": "127.0.0.1",
        "proxy_port": server.port,
        "proxy_username": "pu",
        "proxy_password": "pp",
    }
    first = await client.fetch(f"http://{ORIGIN}:8080/a?x=1", **options)
    second = await client.fetch(f"http://{ORIGIN}/b", **options)
    assert first.body == second.body == b"from the proxy"
    one, two = server.requests
    assert one.startswith(f"GET http://{ORIGIN}:8080/a?x=1 HTTP/1.1\r\n".encode())
    assert two.startswith(f"GET http://{ORIGIN}/b HTTP/1.1\r\n".encode())
    assert _values(one, "host") == [f"{ORIGIN}:8080"]
    # The credentials go with every request, the reused connection's too.
    assert _values(one, "proxy-authorization") == [_basic("pu", "pp")]
    assert _values(two, "proxy-authorization") == [_basic("pu", "pp")]
    assert server.connections == 1  # kept alive, across origins, to the same proxy


async def test_forwarded_connections_are_pooled_per_credentials(client: Any, scripted: Any) -> None:
    server = scripted(_forwarding_proxy)
    for user in ("alice", "bob", "alice"):
        await client.fetch(
            f"http://{ORIGIN}/",
            proxy_host="127.0.0.1",
            proxy_port=server.port,
            proxy_username=user,
            proxy_password="pw",
        )
    users = [_values(head, "proxy-authorization") for head in server.requests]
    assert users == [[_basic("alice", "pw")], [_basic("bob", "pw")], [_basic("alice", "pw")]]
    assert server.connections == 2  # bob never gets alice's connection


# -- CONNECT tunnels -----------------------------------------------------------------


@pytest.fixture(scope="module")
def origin_ca() -> trustme.CA:
    return trustme.CA()


def _tunnel_proxy(origin_ca: trustme.CA) -> Any:
    """A CONNECT proxy that is also the origin: it answers 200, then speaks TLS with
    a certificate for ORIGIN only and records the SNI it was sent."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    origin_ca.issue_cert(ORIGIN).configure_cert(context)
    names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        if not server.read_head(conn):
            return
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        with context.wrap_socket(conn, server_side=True) as tls:
            while server.read_request(tls):
                tls.sendall(response(b"through the tunnel"))

    handler.names = names  # type: ignore[attr-defined]
    return handler


async def test_connect_tunnel_checks_the_origin_name_and_keeps_credentials_out(
    client: Any, scripted: Any, origin_ca: trustme.CA, tmp_path: Any
) -> None:
    handler = _tunnel_proxy(origin_ca)
    server = scripted(handler)
    ca = tmp_path / "origin-ca.pem"
    origin_ca.cert_pem.write_to_path(str(ca))
    options: dict[str, Any] = {
        "proxy_host": "127.0.0.1",
        "proxy_port": server.port,
        "proxy_username": "pu",
        "proxy_password": "pp",
        "ca_certs": str(ca),
    }
    for path in ("/one", "/two"):
        reply = await client.fetch(f"https://{ORIGIN}{path}", **options)
        assert reply.body == b"through the tunnel"
    connect, one, two = server.requests
    assert connect.startswith(f"CONNECT {ORIGIN}:443 HTTP/1.1\r\n".encode())
    assert _values(connect, "proxy-authorization") == [_basic("pu", "pp")]
    # SNI and the certificate check name the origin, never the proxy (127.0.0.1).
    assert handler.names == [ORIGIN]
    # Inside the tunnel: an origin-form request, without the proxy's credentials.
    assert one.startswith(b"GET /one HTTP/1.1\r\n") and two.startswith(b"GET /two HTTP/1.1\r\n")
    assert _values(one, "host") == [ORIGIN]
    assert _values(one, "proxy-authorization") == _values(two, "proxy-authorization") == []
    assert server.connections == 1  # the tunnel is kept alive
    client.close()  # ends the TLS handler's read now (the server cannot close its socket)


def _tls_in_tls_proxy(certs: Certs, origin_ca: trustme.CA) -> Any:
    """An https:// proxy (the test certificate) that is also the origin inside its
    tunnel (a certificate for ORIGIN only): TLS in TLS, the inner one over memory BIOs."""
    outer_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    outer_context.load_cert_chain(certs.server_cert, certs.server_key)
    inner_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    origin_ca.issue_cert(ORIGIN).configure_cert(inner_context)
    names: list[str | None] = []
    inner_context.sni_callback = lambda _sock, name, _ctx: names.append(name)

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        with outer_context.wrap_socket(conn, server_side=True) as outer:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = outer.recv(65536)
                if not chunk:
                    return
                head += chunk
            server.requests.append(head)
            outer.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            inner = inner_context.wrap_bio(incoming, outgoing, server_side=True)

            def pump(step: Callable[[], Any]) -> Any:
                while True:
                    try:
                        result = step()
                    except ssl.SSLWantReadError:
                        outer.sendall(outgoing.read())
                        chunk = outer.recv(65536)
                        if not chunk:
                            raise EOFError("the client closed") from None
                        incoming.write(chunk)
                        continue
                    outer.sendall(outgoing.read())
                    return result

            try:
                pump(inner.do_handshake)
            except (EOFError, ssl.SSLError):
                return  # the client refused the origin's certificate
            request = b""
            while b"\r\n\r\n" not in request:
                request += pump(lambda: inner.read(65536))
            server.requests.append(request)
            inner.write(response(b"tls in tls", headers=["Connection: close"]))
            outer.sendall(outgoing.read())

    handler.names = names  # type: ignore[attr-defined]
    return handler


async def test_tls_in_tls_checks_each_name(
    client: Any,
    scripted: Any,
    origin_ca: trustme.CA,
    certs: Certs,
    tmp_path: Any,
) -> None:
    handler = _tls_in_tls_proxy(certs, origin_ca)
    server = scripted(handler)
    both = tmp_path / "both-cas.pem"  # the proxy's CA and the origin's
    both.write_bytes(Path(certs.ca).read_bytes() + origin_ca.cert_pem.bytes())
    reply = await client.fetch(
        f"https://{ORIGIN}/inner",
        ca_certs=str(both),
        proxy_host=f"https://127.0.0.1:{server.port}",
        proxy_username="pu",
        proxy_password="pp",
    )
    assert reply.body == b"tls in tls"
    connect, inner = server.requests
    assert connect.startswith(f"CONNECT {ORIGIN}:443 HTTP/1.1\r\n".encode())
    assert _values(connect, "proxy-authorization") == [_basic("pu", "pp")]
    assert handler.names == [ORIGIN]  # the inner handshake named the origin
    assert inner.startswith(b"GET /inner HTTP/1.1\r\n")
    assert _values(inner, "proxy-authorization") == []


async def test_tunnels_are_pooled_per_tls_setting(
    client: Any, scripted: Any, origin_ca: trustme.CA, tmp_path: Any
) -> None:
    server = scripted(_tunnel_proxy(origin_ca))
    ca = tmp_path / "origin-ca.pem"
    origin_ca.cert_pem.write_to_path(str(ca))
    proxy: dict[str, Any] = {"proxy_host": "127.0.0.1", "proxy_port": server.port}
    try:
        await client.fetch(f"https://{ORIGIN}/", ca_certs=str(ca), **proxy)
        await client.fetch(f"https://{ORIGIN}/", ca_certs=str(ca), **proxy)
        await client.fetch(f"https://{ORIGIN}/", validate_cert=False, **proxy)
        assert server.connections == 2  # the unverified request never gets the verified tunnel
    finally:
        client.close()  # ends the TLS handlers' reads now


async def test_a_proxy_that_never_answers_connect_times_out(client: Any, scripted: Any) -> None:
    def silent(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_head(conn)
        server.wait()  # holds the connection open, unanswered

    server = scripted(silent)
    with pytest.raises(HTTPTimeoutError) as info:
        await client.fetch(
            f"https://{ORIGIN}/",
            proxy_host="127.0.0.1",
            proxy_port=server.port,
            connect_timeout=0.3,
        )
    assert info.value.phase == "connect"  # never a hang, never a "request" timeout


def _refusing(conn: socket.socket, server: ScriptedServer) -> None:
    server.read_head(conn)
    conn.sendall(
        response(
            b"no entry",
            "407 Proxy Authentication Required",
            ['Proxy-Authenticate: Basic realm="p"', "X-Proxy: scripted"],
        )
    )


async def test_connect_refused_is_the_proxy_response(client: Any, scripted: Any) -> None:
    server = scripted(_refusing)
    reply = await client.fetch(
        f"https://{ORIGIN}/", proxy_host="127.0.0.1", proxy_port=server.port, raise_error=False
    )
    assert (reply.code, reply.reason) == (407, "Proxy Authentication Required")
    assert reply.headers["Proxy-Authenticate"] == 'Basic realm="p"'
    assert reply.headers["X-Proxy"] == "scripted"


@pytest.mark.known_gap("curl", reason="libcurl reads and drops a refused CONNECT's body")
async def test_connect_refused_keeps_the_proxy_body(client: Any, scripted: Any) -> None:
    server = scripted(_refusing)
    reply = await client.fetch(
        f"https://{ORIGIN}/", proxy_host="127.0.0.1", proxy_port=server.port, raise_error=False
    )
    assert reply.body == b"no entry"


def _digest_tunnel_proxy(origin_ca: trustme.CA, app: DigestApp) -> Any:
    """A CONNECT proxy demanding digest auth (checked by ``app``), keeping the
    connection open after its 407, then the origin inside the tunnel."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    origin_ca.issue_cert(ORIGIN, OTHER).configure_cert(context)

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        while head := server.read_head(conn):
            target = head.split(b" ")[1].decode()
            values = _values(head, "proxy-authorization")
            if values and app.check("CONNECT", target, values[0]):
                break
            nonce = secrets.token_hex(8)
            app.nonces.add(nonce)
            challenge = f'Digest realm="{DIGEST_REALM}", qop="auth", nonce="{nonce}"'
            conn.sendall(
                response(
                    b"denied",
                    "407 Proxy Authentication Required",
                    [f"Proxy-Authenticate: {challenge}"],
                )
            )
        else:
            return
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        with context.wrap_socket(conn, server_side=True) as tls:
            while head := server.read_request(tls):
                tls.sendall(response(b"authenticated tunnel"))

    return handler


async def test_connect_with_digest_proxy_auth(
    make_client: Any, scripted: Any, origin_ca: trustme.CA, tmp_path: Any
) -> None:
    app = DigestApp(proxy=True)
    server = scripted(_digest_tunnel_proxy(origin_ca, app))
    ca = tmp_path / "origin-ca.pem"
    origin_ca.cert_pem.write_to_path(str(ca))
    options: dict[str, Any] = {
        "proxy_host": "127.0.0.1",
        "proxy_port": server.port,
        "proxy_username": DIGEST_USER,
        "proxy_password": DIGEST_PASSWORD,
        "proxy_auth_mode": "digest",
        "ca_certs": str(ca),
    }
    client = make_client()
    reply = await client.fetch(f"https://{ORIGIN}/", **options)
    assert reply.body == b"authenticated tunnel"
    connects = [head for head in server.requests if head.startswith(b"CONNECT")]
    assert len(connects) == 2 and server.connections == 1  # answered on the same connection
    assert _values(connects[0], "proxy-authorization") == []
    client.close()  # ends the TLS handler's read now


async def test_connect_digest_session_signs_the_next_tunnel_at_once(
    make_client: Any,
    scripted: Any,
    origin_ca: trustme.CA,
    tmp_path: Any,
) -> None:
    server = scripted(_digest_tunnel_proxy(origin_ca, DigestApp(proxy=True)))
    ca = tmp_path / "origin-ca.pem"
    origin_ca.cert_pem.write_to_path(str(ca))
    client = make_client()
    try:
        for host in (ORIGIN, OTHER):  # another origin: another tunnel
            reply = await client.fetch(
                f"https://{host}/",
                proxy_host="127.0.0.1",
                proxy_port=server.port,
                proxy_username=DIGEST_USER,
                proxy_password=DIGEST_PASSWORD,
                proxy_auth_mode="digest",
                ca_certs=str(ca),
            )
            assert reply.body == b"authenticated tunnel"
        connects = [head for head in server.requests if head.startswith(b"CONNECT")]
        assert len(connects) == 3  # challenged once, then signed at once
        assert _values(connects[2], "proxy-authorization") != []
    finally:
        client.close()  # ends the TLS handlers' reads now


async def test_connect_with_wrong_digest_credentials_is_407(
    make_client: Any,
    scripted: Any,
    origin_ca: trustme.CA,
) -> None:
    server = scripted(_digest_tunnel_proxy(origin_ca, DigestApp(proxy=True)))
    with pytest.raises(HTTPClientError) as info:
        await make_client().fetch(
            f"https://{ORIGIN}/",
            proxy_host="127.0.0.1",
            proxy_port=server.port,
            proxy_username=DIGEST_USER,
            proxy_password="wrong",
            proxy_auth_mode="digest",
        )
    assert info.value.code == 407
    connects = [head for head in server.requests if head.startswith(b"CONNECT")]
    assert len(connects) == 2  # the challenge was answered once, then the 407 is the answer
