"""Catching errors. Run: python errors.py http://127.0.0.1:8000"""

import sys

from squall.httpclient import HTTPClient, HTTPClientError, HTTPTimeoutError

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
        print(type(e).__name__, e.phase, "-", e)

    # Misuse is not in the tree: a TypeError or ValueError before any I/O.
    try:
        client.fetch(f"{base}/echo", headers={"X-Bad": "line\r\nInjected: yes"})
    except ValueError as e:
        print("ValueError:", e)
