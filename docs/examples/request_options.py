"""Building requests. Run: python request_options.py http://127.0.0.1:8000"""

import json
import sys

from squall.httpclient import HTTPClient, HTTPRequest
from squall.httputil import url_concat

base = sys.argv[1]

request = HTTPRequest(
    url_concat(f"{base}/echo", {"q": "squall", "page": "2"}),  # adds ?q=squall&page=2
    method="PUT",
    headers={"Content-Type": "application/json", "X-Trace": "abc"},
    body=json.dumps({"name": "value"}),  # a str body is sent as UTF-8
    connect_timeout=5,
    request_timeout=30,
    user_agent="my-app/1.0",
)

# defaults= fills every option a request leaves as None.
with HTTPClient(defaults={"request_timeout": 10, "user_agent": "my-app/1.0"}) as client:
    echo = json.loads(client.fetch(request).body)
    print(echo["method"], echo["query"], echo["body"])
    headers = dict(echo["headers"])
    assert headers["x-trace"] == "abc" and headers["user-agent"] == "my-app/1.0"

    # Keyword options straight on fetch() when the request is a URL:
    auth = client.fetch(
        f"{base}/auth?user=ann&password=secret", auth_username="ann", auth_password="secret"
    )
    print(auth.code, auth.body)

    # A bad option fails before anything is sent, naming the option.
    try:
        HTTPRequest(f"{base}/echo", request_timeout=-1)
    except ValueError as e:
        print("ValueError:", e)
