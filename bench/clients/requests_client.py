"""requests: one Session (urllib3 pool underneath), sequential."""

import requests
from _common import run_sync


def setup(args):
    session = requests.Session()
    verify = args.ca if args.ca else True
    headers = {"Accept-Encoding": "gzip"} if args.gzip else {}
    url, method, body = args.url, args.method, args.body

    def fetch():
        resp = session.request(method, url, data=body, headers=headers, verify=verify)
        if resp.status_code != 200:
            raise RuntimeError(f"HTTP {resp.status_code}")
        return len(resp.content)

    return fetch, session.close


if __name__ == "__main__":
    run_sync(setup)
