"""What a response holds. Run: python responses.py http://127.0.0.1:8000"""

import sys

from squall.httpclient import HTTPClient

base = sys.argv[1]

with HTTPClient() as client:
    response = client.fetch(f"{base}/cookies")
    print(response.code, response.reason)  # 200 OK
    print(response.headers["Content-Type"])  # case-insensitive
    print(response.headers.get_list("Set-Cookie"))  # every value of a repeated header
    print(response.body)  # bytes; response.buffer is the same as a BytesIO
    print(response.effective_url)  # the URL after redirects
    print(response.request.url, response.request_time)
    for phase, seconds in response.time_info.items():
        print(f"{phase:>13} {seconds:.6f}")
    assert set(response.time_info) >= {"queue", "connect", "starttransfer", "total", "redirect"}

    # raise_error=False: a non-2xx status is returned, with .error set.
    missing = client.fetch(f"{base}/status/404", raise_error=False)
    print(missing.code, missing.error)
    try:
        missing.rethrow()
    except Exception as e:
        print("rethrow:", type(e).__name__)
