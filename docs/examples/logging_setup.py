"""Logging. Run: python logging_setup.py http://127.0.0.1:8000"""

import asyncio
import logging
import sys

from squall.httpclient import AsyncHTTPClient, HTTPResponse

base = sys.argv[1]
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s %(message)s")


def broken_callback(response: HTTPResponse) -> None:
    raise RuntimeError("bug in my callback")


async def main() -> None:
    client = AsyncHTTPClient()
    done = asyncio.Event()
    # An exception in a callback is logged to "squall.application", with its traceback.
    client.fetch(f"{base}/echo", callback=broken_callback).add_done_callback(lambda _: done.set())
    await done.wait()
    await asyncio.sleep(0)  # the callback runs right after the fetch completes
    client.close()


asyncio.run(main())
