"""trust_env=True: both engines take their proxy from the environment, the same way.

The "proxy" is a scripted server that answers every request itself, so which
requests went through it (absolute-form targets) and which went direct (to
the app) is plain to see.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tests.servers.app import AppServer
from tests.servers.helpers import echoed
from tests.servers.scripted import ScriptedServer, response
from tests.servers.tls import Certs

# Tornado's clients have no trust_env.
pytestmark = pytest.mark.squall_only

_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def _proxy(conn: socket.socket, server: ScriptedServer) -> None:
    while server.read_request(conn):
        conn.sendall(response(b"proxied"))


async def test_http_proxy_from_the_environment(
    make_client: Any, scripted: Any, clean_env: pytest.MonkeyPatch, app_server: AppServer
) -> None:
    proxy = scripted(_proxy)
    clean_env.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")
    client = make_client(trust_env=True)
    assert (await client.fetch("http://origin.test/via")).body == b"proxied"
    assert proxy.requests[0].startswith(b"GET http://origin.test/via HTTP/1.1\r\n")


async def test_no_proxy_goes_direct_and_explicit_proxy_wins(
    make_client: Any, scripted: Any, clean_env: pytest.MonkeyPatch, app_server: AppServer
) -> None:
    env_proxy, own_proxy = scripted(_proxy), scripted(_proxy)
    clean_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{env_proxy.port}")
    clean_env.setenv("no_proxy", "localhost, 127.0.0.0/8")
    client = make_client(trust_env=True)
    direct = await client.fetch(app_server.http_url + "/echo")
    assert echoed(direct)["path"] == "/echo"
    own = await client.fetch(
        "http://origin.test/", proxy_host="127.0.0.1", proxy_port=own_proxy.port
    )
    assert own.body == b"proxied"
    assert env_proxy.connections == 0 and own_proxy.connections == 1


async def test_a_redirect_into_no_proxy_goes_direct(
    make_client: Any, scripted: Any, clean_env: pytest.MonkeyPatch, app_server: AppServer
) -> None:
    def redirecting(conn: socket.socket, server: ScriptedServer) -> None:
        while server.read_request(conn):
            location = f"Location: {app_server.http_url}/echo"
            conn.sendall(response(b"", "302 Found", [location]))

    proxy = scripted(redirecting)
    clean_env.setenv("http_proxy", f"127.0.0.1:{proxy.port}")  # no scheme: http
    clean_env.setenv("no_proxy", "127.0.0.1")
    client = make_client(trust_env=True)
    reply = await client.fetch("http://origin.test/start")
    assert echoed(reply)["path"] == "/echo"
    assert len(proxy.requests) == 1


async def test_the_environment_is_ignored_by_default(
    make_client: Any, scripted: Any, clean_env: pytest.MonkeyPatch, app_server: AppServer
) -> None:
    proxy = scripted(_proxy)
    clean_env.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")
    clean_env.setenv("ALL_PROXY", f"http://127.0.0.1:{proxy.port}")
    client = make_client()
    assert echoed(await client.fetch(app_server.http_url + "/echo"))["path"] == "/echo"
    assert proxy.connections == 0


async def test_trust_env_must_be_a_bool(make_client: Any) -> None:
    with pytest.raises(TypeError, match="trust_env"):
        make_client(trust_env="yes")


@pytest.mark.parametrize("trust_env", [False, True])
async def test_no_proxy_never_bypasses_an_explicit_proxy_host(
    make_client: Any,
    scripted: Any,
    clean_env: pytest.MonkeyPatch,
    app_server: AppServer,
    trust_env: bool,
) -> None:
    # squall alone reads NO_PROXY (and only with trust_env): libcurl must not
    # read it again and send a request around the proxy it was given.
    own_proxy = scripted(_proxy)
    clean_env.setenv("NO_PROXY", "127.0.0.1,localhost")
    clean_env.setenv("no_proxy", "*")
    client = make_client(trust_env=trust_env)
    reply = await client.fetch(
        app_server.http_url + "/echo", proxy_host=f"http://127.0.0.1:{own_proxy.port}"
    )
    assert reply.body == b"proxied"
    assert own_proxy.connections == 1


async def test_a_proxy_chosen_from_the_environment_is_used(
    make_client: Any, scripted: Any, clean_env: pytest.MonkeyPatch
) -> None:
    # squall reads the environment once, as the client is made, and decides;
    # libcurl (which reads it at each transfer) must not second-guess that.
    proxy = scripted(_proxy)
    clean_env.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")
    client = make_client(trust_env=True)
    clean_env.setenv("no_proxy", "*")
    assert (await client.fetch("http://origin.test/via")).body == b"proxied"
    assert proxy.connections == 1


@pytest.mark.parametrize(
    "variable, scheme",
    [
        ("http_proxy", "http"),
        ("HTTP_PROXY", "http"),
        ("https_proxy", "https"),
        ("HTTPS_PROXY", "https"),
        ("all_proxy", "http"),
        ("ALL_PROXY", "https"),
    ],
)
async def test_a_dead_proxy_in_the_environment_is_ignored_by_default(
    make_client: Any,
    clean_env: pytest.MonkeyPatch,
    app_server: AppServer,
    certs: Certs,
    closed_port: int,
    variable: str,
    scheme: str,
) -> None:
    clean_env.setenv(variable, f"http://127.0.0.1:{closed_port}")
    client = make_client()
    url = (app_server.https_url if scheme == "https" else app_server.http_url) + "/echo"
    assert echoed(await client.fetch(url, ca_certs=certs.ca))["path"] == "/echo"
