"""The tasks of the requests and httpx migration guides, with squall's blocking client.

Run: python migrate_blocking.py http://127.0.0.1:8000
"""

import json
import sys
from urllib.parse import urlencode

from squall.httpclient import HTTPClient, HTTPClientError
from squall.httputil import url_concat

base = sys.argv[1]

# [client]
client = HTTPClient(defaults={"request_timeout": 10})  # keeps connections alive
# [/client]

# [get]
response = client.fetch(url_concat(f"{base}/echo", {"q": "x"}), headers={"Accept": "text/plain"})
print(response.code, response.headers["Content-Type"], response.body[:20])
text = response.body.decode()  # requests: response.text
data = json.loads(response.body)  # requests: response.json()
# [/get]
assert data["query"] == "q=x"

# [post-json]
response = client.fetch(
    f"{base}/echo",
    method="POST",
    body=json.dumps({"a": 1}),
    headers={"Content-Type": "application/json"},
)
# [/post-json]
assert json.loads(json.loads(response.body)["body"]) == {"a": 1}

# [post-form]
response = client.fetch(f"{base}/echo", method="POST", body=urlencode({"a": "1", "b": "2"}))
# [/post-form]
assert json.loads(response.body)["body"] == "a=1&b=2"

# [errors]
try:
    client.fetch(f"{base}/status/404")  # raises: no raise_for_status() needed
except HTTPClientError as e:
    print(e.code)
response = client.fetch(f"{base}/status/404", raise_error=False)  # or look at the code
print(response.code)
# [/errors]

# [timeout]
try:
    client.fetch(f"{base}/slow?delay=2", connect_timeout=3, request_timeout=0.2)
except TimeoutError as e:  # HTTPTimeoutError is also the builtin TimeoutError
    print(e)
# [/timeout]

# [auth]
response = client.fetch(
    f"{base}/auth?user=ann&password=pw", auth_username="ann", auth_password="pw"
)
# [/auth]
assert response.code == 200

# [stream]
with open("/dev/null", "wb") as out:
    client.fetch(f"{base}/large?size=1000000", streaming_callback=out.write)
# [/stream]

# [close]
client.close()
# [/close]
