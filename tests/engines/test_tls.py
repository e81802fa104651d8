"""TLS options: validate_cert, ca_certs, client certificates, ssl_options."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from squall._errors import HTTPClientError, HTTPTLSError
from tests.servers.app import AppServer
from tests.servers.helpers import echoed
from tests.servers.tls import Certs


async def test_ca_certs(client: Any, app_server: AppServer, certs: Certs) -> None:
    response = await client.fetch(app_server.https_url + "/echo", ca_certs=certs.ca)
    assert echoed(response)["method"] == "GET"


async def test_validate_cert_false(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.https_url + "/echo", validate_cert=False)
    assert response.code == 200


async def test_wrong_ca_fails(client: Any, app_server: AppServer, certs: Certs) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(app_server.https_url + "/echo", ca_certs=certs.other_ca)
    assert info.value.code == 599
    assert isinstance(info.value, ssl.SSLCertVerificationError)


@pytest.mark.squall_only("curl")  # hostname_mapping: Tornado has it on its simple client only
async def test_hostname_mismatch_fails(
    make_client: Any, app_server: AppServer, certs: Certs
) -> None:
    # The certificate names 127.0.0.1 and localhost, not wrong.test.
    client = make_client(hostname_mapping={"wrong.test": "127.0.0.1"})
    url = f"https://wrong.test:{app_server.https_port}/echo"
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(url, ca_certs=certs.ca)
    assert info.value.code == 599
    assert isinstance(info.value, ssl.SSLCertVerificationError)
    response = await client.fetch(url, validate_cert=False)
    assert response.code == 200


async def test_localhost_name_verifies(client: Any, app_server: AppServer, certs: Certs) -> None:
    url = f"https://localhost:{app_server.https_port}/echo"
    response = await client.fetch(url, ca_certs=certs.ca, allow_ipv6=False)
    assert response.code == 200


async def test_client_certificate(client: Any, mtls_server: AppServer, certs: Certs) -> None:
    response = await client.fetch(
        mtls_server.https_url + "/echo",
        ca_certs=certs.ca,
        client_cert=certs.client_cert,
        client_key=certs.client_key,
    )
    assert response.code == 200


async def test_missing_client_certificate_fails(
    client: Any, mtls_server: AppServer, certs: Certs
) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(mtls_server.https_url + "/echo", ca_certs=certs.ca)
    assert info.value.code == 599


@pytest.mark.squall_only
async def test_missing_client_certificate_is_tls_error(
    client: Any, mtls_server: AppServer, certs: Certs
) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(mtls_server.https_url + "/echo", ca_certs=certs.ca)
    # TLS 1.3 reports the refusal after the handshake, as an alert: a TLS error
    # or, depending on timing, a reset connection.
    assert isinstance(info.value, HTTPTLSError | ConnectionError), repr(info.value)


def _tornado_curl(engine: str) -> bool:
    # Both curl clients refuse an SSLContext with ValueError: libcurl cannot take
    # a Python SSLContext, nor can all of its settings be read back from it.
    return "curl" in engine


async def test_ssl_options_context(
    client: Any, app_server: AppServer, certs: Certs, engine: str
) -> None:
    url = app_server.https_url + "/echo"
    if _tornado_curl(engine):
        with pytest.raises(ValueError):
            await client.fetch(url, ssl_options=certs.client_context())
        return
    response = await client.fetch(url, ssl_options=certs.client_context())
    assert response.code == 200


async def test_ssl_options_context_overrides_validation(
    client: Any, app_server: AppServer, certs: Certs, engine: str
) -> None:
    options: dict[str, Any] = {"ssl_options": ssl.create_default_context()}
    url = app_server.https_url + "/echo"
    if _tornado_curl(engine):
        with pytest.raises(ValueError):
            await client.fetch(url, validate_cert=False, **options)
        return
    # A default context does not trust the test CA, even though validate_cert is False.
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(url, validate_cert=False, **options)
    assert info.value.code == 599
    # The same context trusting the test CA succeeds: the failure was the trust store's.
    trusting = ssl.create_default_context(cafile=certs.ca)
    response = await client.fetch(url, validate_cert=False, ssl_options=trusting)
    assert response.code == 200
