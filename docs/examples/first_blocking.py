"""The first blocking fetch. Run: python first_blocking.py http://127.0.0.1:8000"""

import sys

from squall.httpclient import HTTPClient, HTTPError

base = sys.argv[1]  # the server, e.g. http://127.0.0.1:8000

with HTTPClient() as client:
    response = client.fetch(f"{base}/echo")
    print(response.code, response.headers["Content-Type"], len(response.body))
    try:
        client.fetch(f"{base}/status/404")
    except HTTPError as e:  # a non-2xx status raises, with the response attached
        print("Error:", e, e.response.body if e.response else None)
