"""The ``squall`` command through proxies, both engines: a refused CONNECT (curl's
exit 56), the proxy environment (curl's variables, -x and --noproxy winning),
digest auth to the proxy (--proxy-digest, squid).

proxy.py (the ``http_proxy`` fixture) demands basic proxy auth: without
credentials it answers 407, which shows whether a request went through it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.cli.helpers import SEED, echoed, squall
from tests.servers.app import AppServer
from tests.servers.helpers import PROXY_PASSWORD, PROXY_USER
from tests.servers.squid import SQUID_PASSWORD, SQUID_USER, Squid, squid_binary
from tests.servers.tls import Certs

ENGINES = ["simple", "curl"]
REFUSED = b"squall: (56) CONNECT tunnel failed, response 407\n"
WRITE_CODES = ["-s", "-o", "/dev/null", "-w", "%{http_code} %{http_connect} %{exitcode}"]
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def _environ(**variables: str) -> dict[str, str]:
    """This process's environment without proxy variables, plus ``variables``."""
    names = {*_PROXY_VARIABLES, *(name.upper() for name in _PROXY_VARIABLES)}
    env = {k: v for k, v in os.environ.items() if k not in names}
    return {**env, **variables}


@pytest.fixture(scope="module")
def squid() -> Iterator[Squid]:
    """squid demanding digest proxy auth (SQUID_USER, SQUID_PASSWORD)."""
    if squid_binary() is None:
        if os.geteuid() == 0:  # ./dev installs it as root (as in CI): never a silent skip there
            pytest.fail("squid is missing: ./dev test installs it (apt-get install squid)")
        pytest.skip("squid is not installed and cannot be without root (apt-get install squid)")
    with Squid({SQUID_USER: SQUID_PASSWORD}) as server:
        yield server


@pytest.mark.parametrize("engine", ENGINES)
def test_a_refused_connect_is_56_as_curl(
    app_server: AppServer, http_proxy: tuple[str, int], certs: Certs, engine: str
) -> None:
    host, port = http_proxy
    args = ["--engine", engine, "--cacert", certs.ca, "-x", f"{host}:{port}"]
    url = app_server.https_url + "/echo"
    result = squall(*args, url)
    assert (result.returncode, result.stdout, result.stderr) == (56, b"", REFUSED)
    # -i: the proxy's head on stdout, as curl prints it; -v: on stderr.
    result = squall(*args, "-sS", "-i", url)
    assert result.returncode == 56 and result.stderr == REFUSED
    assert result.stdout.startswith(b"HTTP/1.1 407 ") and result.stdout.endswith(b"\r\n\r\n")
    assert b"\r\nProxy-Authenticate: Basic" in result.stdout
    result = squall(*args, "-v", url)
    assert result.returncode == 56 and b"\n< HTTP/1.1 407 " in result.stderr
    # -s alone: nothing said, the status still 56; -w: no response (000), curl's http_connect.
    assert squall(*args, "-s", url).stderr == b""
    result = squall(*args, *WRITE_CODES, url)
    assert (result.returncode, result.stdout) == (56, b"000 407 56")


@pytest.mark.parametrize("engine", ENGINES)
def test_the_origins_407_is_a_response(
    app_server: AppServer, http_proxy: tuple[str, int], certs: Certs, engine: str
) -> None:
    # The same status from the origin, inside an open tunnel: exit 0 with its body.
    host, port = http_proxy
    args = ["--engine", engine, "--cacert", certs.ca, "-x", f"{host}:{port}"]
    args += ["-U", f"{PROXY_USER}:{PROXY_PASSWORD}", app_server.https_url + "/status/407"]
    result = squall(*args)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"status 407", b"")
    assert squall(*WRITE_CODES, *args).stdout == b"407 000 0"


@pytest.mark.parametrize("engine", ENGINES)
def test_the_environments_proxies(
    app_server: AppServer, http_proxy: tuple[str, int], certs: Certs, engine: str
) -> None:
    host, port = http_proxy
    proxy = f"http://{host}:{port}"
    authed = f"http://{PROXY_USER}:{PROXY_PASSWORD}@{host}:{port}"
    url = app_server.http_url + "/echo"

    def code(env: dict[str, str], *args: str, target: str = url) -> bytes:
        options = ["--engine", engine, "--cacert", certs.ca, *WRITE_CODES, *args]
        return bytes(squall(*options, target, env=env).stdout)

    # 407: through proxy.py (without credentials); 200: direct.
    assert code(_environ()) == b"200 000 0"
    assert code(_environ(http_proxy=proxy)) == b"407 000 0"
    assert code(_environ(HTTP_PROXY=proxy)) == b"407 000 0"
    assert code(_environ(ALL_PROXY=proxy)) == b"407 000 0"
    assert code(_environ(https_proxy=proxy)) == b"200 000 0"  # not for an http URL
    assert code(_environ(HTTPS_PROXY=proxy), target=app_server.https_url + "/echo") == (
        b"000 407 56"
    )
    # NO_PROXY as curl reads it; --noproxy replaces it; -x wins over the variables.
    assert code(_environ(http_proxy=proxy, NO_PROXY="example.com,127.0.0.1")) == b"200 000 0"
    assert code(_environ(http_proxy=proxy, no_proxy="127.0.0.0/8")) == b"200 000 0"
    assert code(_environ(http_proxy=proxy, no_proxy="*"), "--noproxy", "") == b"407 000 0"
    assert code(_environ(http_proxy=proxy), "--noproxy", "127.0.0.1") == b"200 000 0"
    assert code(_environ(http_proxy="http://127.0.0.1:1"), "-x", proxy) == b"407 000 0"
    # The variable's credentials, or -U's.
    got = echoed(squall("--engine", engine, url, env=_environ(http_proxy=authed)))
    assert got["path"] == "/echo"
    creds = ["-U", f"{PROXY_USER}:{PROXY_PASSWORD}"]
    assert code(_environ(http_proxy=proxy), *creds) == b"200 000 0"
    # -U without any proxy for this URL is ignored, as curl does.
    assert code(_environ(http_proxy=proxy, no_proxy="127.0.0.1"), *creds) == b"200 000 0"


@pytest.mark.parametrize("engine", ENGINES)
def test_the_seed_command_ignores_the_environment(app_server: AppServer, engine: str) -> None:
    # As python -m tornado.httpclient: a proxy variable pointing nowhere changes nothing.
    env = _environ(http_proxy="http://127.0.0.1:1", ALL_PROXY="http://127.0.0.1:1")
    result = subprocess.run(
        [*SEED, "--engine", engine, app_server.http_url + "/echo"],
        capture_output=True, timeout=60, env=env,
    )  # fmt: skip
    assert echoed(result)["path"] == "/echo"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("origin", ["http", "https"])
def test_proxy_digest(
    app_server: AppServer, squid: Squid, certs: Certs, engine: str, origin: str
) -> None:
    host, port = squid.address
    url = (app_server.https_url if origin == "https" else app_server.http_url) + "/echo"
    args = ["--engine", engine, "--cacert", certs.ca, "-x", f"{host}:{port}"]
    user = ["-U", f"{SQUID_USER}:{SQUID_PASSWORD}"]
    got = echoed(squall(*args, *user, "--proxy-digest", url))
    assert got["path"] == "/echo"
    # Basic credentials are refused by a digest-only proxy.
    result = squall(*args, *user, *WRITE_CODES, url)
    expected = b"407 000 0" if origin == "http" else b"000 407 56"
    assert result.stdout == expected, result.stderr
