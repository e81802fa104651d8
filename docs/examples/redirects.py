"""Redirects. Run: python redirects.py http://127.0.0.1:8000"""

import json
import sys

from squall.httpclient import HTTPClient, HTTPClientError

base = sys.argv[1]

with HTTPClient() as client:
    # Followed by default, up to max_redirects (5); effective_url is where it ended.
    response = client.fetch(f"{base}/chain/3")
    print(response.code, response.effective_url, f"{response.time_info['redirect']:.4f}s")

    # Not followed: the 3xx is the answer (an error unless raise_error=False).
    response = client.fetch(f"{base}/chain/3", follow_redirects=False, raise_error=False)
    print(response.code, response.headers["Location"])

    # Too many: the last 3xx is raised as a status error.
    try:
        client.fetch(f"{base}/chain/3", max_redirects=2)
    except HTTPClientError as e:
        print("gave up:", e.code)

    # 303 (and 301/302 after a POST) turn the request into a GET without a body.
    response = client.fetch(
        f"{base}/redirect?status=303&to=/echo", method="POST", body=b"form=data"
    )
    echo = json.loads(response.body)
    print(echo["method"], repr(echo["body"]))

    # Credentials are not sent to another origin.
    other = sys.argv[1].replace("127.0.0.1", "localhost")
    response = client.fetch(
        f"{base}/redirect?to={other}/echo", auth_username="ann", auth_password="secret"
    )
    print("authorization" in dict(json.loads(response.body)["headers"]))
