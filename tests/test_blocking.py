"""The blocking HTTPClient: from threads, from inside a running loop, reuse, close."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from squall.httpclient import HTTPClient, HTTPClientError
from tests.conftest import import_object
from tests.servers.app import AppServer
from tests.servers.helpers import sockets_connected_to


def _client_port(client: HTTPClient, url: str) -> int:
    return int(json.loads(client.fetch(url + "/conn").body)["client"][1])


def test_fetch_and_status_error(blocking_client: HTTPClient, app_server: AppServer) -> None:
    response = blocking_client.fetch(app_server.http_url + "/echo")
    assert response.code == 200 and json.loads(response.body)["method"] == "GET"
    with pytest.raises(HTTPClientError) as info:
        blocking_client.fetch(app_server.http_url + "/status/404")
    assert info.value.code == 404 and info.value.response is not None
    assert blocking_client.fetch(app_server.http_url + "/status/404", raise_error=False).code == 404


def test_reuses_connections_across_calls(
    blocking_client: HTTPClient, app_server: AppServer
) -> None:
    ports = {_client_port(blocking_client, app_server.http_url) for _ in range(5)}
    assert len(ports) == 1


def test_many_threads_share_one_client(blocking_client: HTTPClient, app_server: AppServer) -> None:
    url = app_server.http_url + "/echo?thread="

    def work(i: int) -> str:
        body = json.loads(blocking_client.fetch(url + str(i)).body)
        return str(body["query"])

    with ThreadPoolExecutor(8) as pool:
        targets = list(pool.map(work, range(40)))
    assert targets == [f"thread={i}" for i in range(40)]


def test_works_inside_a_running_loop(engine: str, app_server: AppServer) -> None:
    async def main() -> int:
        # Tornado's blocking client cannot run here; squall's has a helper thread run its loop.
        with HTTPClient(async_client_class=import_object(engine)) as client:
            return client.fetch(app_server.http_url + "/echo").code

    assert asyncio.run(main()) == 200


def test_each_thread_may_own_a_client(engine: str, app_server: AppServer) -> None:
    codes: list[int] = []

    def work() -> None:
        with HTTPClient(async_client_class=import_object(engine)) as client:
            codes.append(client.fetch(app_server.http_url + "/echo").code)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert codes == [200] * 4


def test_close_frees_sockets_and_thread(engine: str, app_server: AppServer) -> None:
    before_threads = threading.active_count()
    client = HTTPClient(async_client_class=import_object(engine))
    for _ in range(3):
        client.fetch(app_server.http_url + "/echo")
    assert sockets_connected_to(app_server.http_port) == 1
    client.close()
    client.close()  # idempotent
    assert sockets_connected_to(app_server.http_port) == 0
    assert threading.active_count() == before_threads
    with pytest.raises(RuntimeError, match="closed"):
        client.fetch(app_server.http_url + "/echo")


def test_transport_error_is_599(blocking_client: HTTPClient, closed_port: int) -> None:
    with pytest.raises(ConnectionRefusedError) as info:
        blocking_client.fetch(f"http://127.0.0.1:{closed_port}/")
    assert isinstance(info.value, HTTPClientError) and info.value.code == 599


def test_kwargs_pass_through(blocking_client: HTTPClient, app_server: AppServer) -> None:
    kwargs: dict[str, Any] = {"method": "POST", "body": b"abc", "headers": {"X-T": "1"}}
    body = json.loads(blocking_client.fetch(app_server.http_url + "/echo", **kwargs).body)
    assert body["method"] == "POST" and body["body"] == "abc"


@pytest.mark.squall_only
def test_engine_by_dotted_name(engine: str, app_server: AppServer) -> None:
    with HTTPClient(async_client_class=engine) as client:
        assert type(client._async_client) is import_object(engine)
        assert client.fetch(app_server.http_url + "/echo").code == 200


@pytest.mark.squall_only
@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("no_dots", ValueError),
        ("squall.httpclient.NoSuchClient", ValueError),
        ("squall.no_such_module.Client", ValueError),
        ("squall.httpclient.HTTPClient", TypeError),  # a class, not an engine
    ],
)
def test_bad_engine_name_refused(name: str, error: type[Exception]) -> None:
    with pytest.raises(error, match="async_client_class"):
        HTTPClient(async_client_class=name)
