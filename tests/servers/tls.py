"""Test certificates: one trustme CA, a server certificate and a client certificate.

Everything is written as PEM files into one directory, because both engines
(and libcurl in particular) take certificates by path.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Certs:
    """Paths of the PEM files a test may need."""

    ca: str  # the CA certificate to trust (ca_certs=)
    server_cert: str  # server certificate chain, for 127.0.0.1, ::1 and localhost
    server_key: str
    client_cert: str  # client certificate chain, for mutual TLS (client_cert=)
    client_key: str
    other_ca: str  # a CA that signed nothing here: trusting it must fail verification

    def client_context(self) -> ssl.SSLContext:
        """An SSLContext that trusts the test CA (for ssl_options tests)."""
        return ssl.create_default_context(cafile=self.ca)


def make_certs(directory: Path) -> Certs:
    """Create the CA and certificates under ``directory`` and return their paths."""
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "::1", "localhost")
    client = ca.issue_cert("client@squall.test", "squall-client")
    other = trustme.CA()

    def write(name: str, blob: trustme.Blob) -> str:
        path = directory / name
        blob.write_to_path(str(path))
        return str(path)

    server_cert = directory / "server.pem"
    server_cert.write_bytes(b"".join(b.bytes() for b in server.cert_chain_pems))
    client_cert = directory / "client.pem"
    client_cert.write_bytes(b"".join(b.bytes() for b in client.cert_chain_pems))
    return Certs(
        ca=write("ca.pem", ca.cert_pem),
        server_cert=str(server_cert),
        server_key=write("server.key", server.private_key_pem),
        client_cert=str(client_cert),
        client_key=write("client.key", client.private_key_pem),
        other_ca=write("other-ca.pem", other.cert_pem),
    )
