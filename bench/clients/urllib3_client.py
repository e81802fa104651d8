"""urllib3 2: one PoolManager in its default configuration (one kept-alive connection per host,
which is all a sequential client needs), sequential.

urllib3 decodes a compressed answer by default but does not ask for one: the gzip scenario
asks with an Accept-Encoding header.
"""

import urllib3
from _common import run_sync


def setup(args):
    pool = urllib3.PoolManager(ca_certs=args.ca) if args.ca else urllib3.PoolManager()
    headers = {"Accept-Encoding": "gzip"} if args.gzip else None
    url, method, body = args.url, args.method, args.body

    def fetch():
        resp = pool.request(method, url, body=body, headers=headers)
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}")
        return len(resp.data)

    return fetch, pool.clear


if __name__ == "__main__":
    run_sync(setup)
