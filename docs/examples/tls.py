"""TLS. Run: python tls.py http://127.0.0.1:8000 https://127.0.0.1:8443 ca.pem"""

import ssl
import sys

from squall.httpclient import HTTPClient, HTTPClientError

https_url, ca_file = sys.argv[2], sys.argv[3]  # a server and the CA that signed its certificate

with HTTPClient() as client:
    # Verified against the CA bundle given (default: the system's trust store).
    print(client.fetch(f"{https_url}/echo", ca_certs=ca_file).code)

    # A certificate nobody we trust signed: HTTPCertificateError, code 599.
    try:
        client.fetch(f"{https_url}/echo")
    except ssl.SSLCertVerificationError as e:
        assert isinstance(e, HTTPClientError) and e.code == 599
        print(type(e).__name__, e)

    # An SSLContext of your own (or a dict of ssl arguments) for full control.
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    print(client.fetch(f"{https_url}/echo", ssl_options=context).code)
    tls12 = {"ca_certs": ca_file, "maximum_version": ssl.TLSVersion.TLSv1_2}
    print(client.fetch(f"{https_url}/echo", ssl_options=tls12).code)

    # validate_cert=False: no verification at all (test setups only).
    print(client.fetch(f"{https_url}/echo", validate_cert=False).code)
