"""Every TLS setting a caller gives is applied, or the request is refused: never dropped.

A client certificate and a cipher list are the settings the curl engine used to
lose from an ``ssl.SSLContext`` (a mutual-TLS server then reset the connection, and
a context limited to a cipher the server lacks still got a 200). libcurl cannot
read them back from a context, so the curl engine refuses contexts before any I/O
with a ValueError naming the alternatives; the simple engine applies them. The
dict form of ``ssl_options`` is applied by both.
"""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from squall._errors import HTTPClientError
from tests.servers.app import AppServer
from tests.servers.tls import Certs

pytestmark = pytest.mark.squall_only

# The test certificates have EC keys: a TLS 1.2 suite for RSA certificates is one
# this server lacks, an ECDSA one is one it has.
MISSING_CIPHER = "ECDHE-RSA-AES128-GCM-SHA256"
PRESENT_CIPHER = "ECDHE-ECDSA-AES128-GCM-SHA256"


def _is_curl(engine: str) -> bool:
    return "curl" in engine.lower()


async def _refused(fetch: Any) -> None:
    with pytest.raises(ValueError) as info:
        await fetch
    message = str(info.value)
    assert "client_cert/client_key" in message and "dict form of ssl_options" in message


async def _fails_tls(fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as info:
        await fetch
    # The handshake fails (a TLS error), or the server's alert arrives as a reset.
    assert isinstance(info.value, ssl.SSLError | ConnectionError), repr(info.value)


def _client_cert_context(certs: Certs) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certs.ca)
    context.load_cert_chain(certs.client_cert, certs.client_key)
    return context


def _cipher_context(certs: Certs, cipher: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certs.ca)
    context.maximum_version = ssl.TLSVersion.TLSv1_2  # set_ciphers governs TLS 1.2 only
    context.set_ciphers(cipher)
    return context


async def test_context_with_client_certificate(
    client: Any, mtls_server: AppServer, certs: Certs, engine: str
) -> None:
    fetch = client.fetch(mtls_server.https_url + "/echo", ssl_options=_client_cert_context(certs))
    if _is_curl(engine):
        await _refused(fetch)
        return
    assert (await fetch).code == 200


async def test_context_limited_to_a_missing_cipher(
    client: Any, app_server: AppServer, certs: Certs, engine: str
) -> None:
    url = app_server.https_url + "/echo"
    fetch = client.fetch(url, ssl_options=_cipher_context(certs, MISSING_CIPHER))
    if _is_curl(engine):
        await _refused(fetch)
        return
    await _fails_tls(fetch)
    assert (await client.fetch(url, ssl_options=_cipher_context(certs, PRESENT_CIPHER))).code == 200


async def test_context_is_refused_before_any_io(
    client: Any, engine: str, closed_port: int, certs: Certs
) -> None:
    if not _is_curl(engine):
        return  # the simple engine takes contexts: nothing to refuse
    url = f"https://127.0.0.1:{closed_port}/"
    await _refused(client.fetch(url, ssl_options=ssl.create_default_context(cafile=certs.ca)))


async def test_dict_with_client_certificate(
    client: Any, mtls_server: AppServer, certs: Certs
) -> None:
    options = {"ca_certs": certs.ca, "certfile": certs.client_cert, "keyfile": certs.client_key}
    response = await client.fetch(mtls_server.https_url + "/echo", ssl_options=options)
    assert response.code == 200
    await _fails_tls(
        client.fetch(mtls_server.https_url + "/echo", ssl_options={"ca_certs": certs.ca})
    )


async def test_dict_limited_to_a_missing_cipher(
    client: Any, app_server: AppServer, certs: Certs
) -> None:
    url = app_server.https_url + "/echo"
    tls12 = {"ca_certs": certs.ca, "maximum_version": ssl.TLSVersion.TLSv1_2}
    await _fails_tls(client.fetch(url, ssl_options={**tls12, "ciphers": MISSING_CIPHER}))
    assert (await client.fetch(url, ssl_options={**tls12, "ciphers": PRESENT_CIPHER})).code == 200


@pytest.mark.parametrize(
    "reqs", [ssl.CERT_OPTIONAL, ssl.CERT_REQUIRED], ids=["optional", "required"]
)
async def test_dict_cert_reqs_verify_the_server(
    client: Any, app_server: AppServer, certs: Certs, reqs: int
) -> None:
    # A client always gets the server's certificate: CERT_OPTIONAL verifies it too.
    options = {"ca_certs": certs.other_ca, "cert_reqs": reqs}
    with pytest.raises(ssl.SSLCertVerificationError):
        await client.fetch(app_server.https_url + "/echo", ssl_options=options)
