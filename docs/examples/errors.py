"""Catching errors. Run: python errors.py http://127.0.0.1:8000"""

import sys

from squall.httpclient import (
    HTTPClient,
    HTTPClientError,
    HTTPTimeoutError,
    ResponseTooLargeError,
)

base = sys.argv[1]

with HTTPClient() as client:
    # A status error: the real code, and the response with its body.
    try:
        client.fetch(f"{base}/status/503")
    except HTTPClientError as e:
        print(e.code, e.message, e.response.body if e.response else b"")

    # No response at all: code 599, and also the builtin exception for the cause.
    try:
        client.fetch("http://127.0.0.1:1/")  # nothing listens on port 1
    except ConnectionRefusedError as e:
        assert isinstance(e, HTTPClientError) and e.code == 599
        print(type(e).__name__, "-", e)

    try:
        client.fetch(f"{base}/slow?delay=2", request_timeout=0.2)
    except TimeoutError as e:
        assert isinstance(e, HTTPTimeoutError)
        # Which option's deadline passed, and its value: the message stays Tornado's.
        assert (e.option, e.limit) == ("request_timeout", 0.2)
        print(type(e).__name__, e.phase, e.option, e.limit, "-", e)

    # Misuse is not in the tree: a TypeError or ValueError before any I/O.
    try:
        client.fetch(f"{base}/echo", headers={"X-Bad": "line\r\nInjected: yes"})
    except ValueError as e:
        print("ValueError:", e)

# A size limit names itself the same way, in bytes.
with HTTPClient(max_body_size=1000) as small:
    try:
        small.fetch(f"{base}/large?size=5000")
    except ResponseTooLargeError as e:
        assert (e.option, e.limit) == ("max_body_size", 1000)
        print(type(e).__name__, e.option, e.limit, "-", e.message)
