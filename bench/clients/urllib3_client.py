"""urllib3 2: one PoolManager, sequential."""

import urllib3
from _common import run_sync


def setup(args):
    pool = (
        urllib3.PoolManager(maxsize=1, ca_certs=args.ca)
        if args.ca
        else urllib3.PoolManager(maxsize=1)
    )
    headers = {"Accept-Encoding": "gzip"} if args.gzip else {}
    url, method, body = args.url, args.method, args.body

    def fetch():
        resp = pool.request(method, url, body=body, headers=headers, decode_content=True)
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}")
        return len(resp.data)

    return fetch, pool.clear


if __name__ == "__main__":
    run_sync(setup)
