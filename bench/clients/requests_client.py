"""requests: one Session in its default configuration (urllib3 pool underneath), sequential.

requests asks for gzip and deflate by default and decodes the answer.
"""

import requests
from _common import run_sync


def setup(args):
    session = requests.Session()
    if args.ca:
        session.verify = args.ca
    url, method, body = args.url, args.method, args.body

    def fetch():
        resp = session.request(method, url, data=body)
        if resp.status_code != 200:
            raise RuntimeError(f"HTTP {resp.status_code}")
        return len(resp.content)

    return fetch, session.close


if __name__ == "__main__":
    run_sync(setup)
