"""Streaming a download. Run: python streaming_download.py http://127.0.0.1:8000"""

import asyncio
import hashlib
import sys

from squall.httpclient import AsyncHTTPClient

base = sys.argv[1]


async def main() -> None:
    client = AsyncHTTPClient()
    digest = hashlib.sha256()
    # Each chunk goes to the callback instead of the buffer: memory stays flat.
    response = await client.fetch(f"{base}/large?size=5000000", streaming_callback=digest.update)
    print(response.code, len(response.body), digest.hexdigest()[:16])  # the body stays empty

    # header_callback sees each header line as received, CRLF included.
    lines: list[str] = []
    await client.fetch(f"{base}/echo", header_callback=lines.append)
    print(lines[0].strip(), len(lines))

    # A coroutine function is awaited before more is read: back-pressure.
    queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=4)
    received = 0

    async def consume() -> None:
        nonlocal received
        while chunk := await queue.get():
            received += len(chunk)
            await asyncio.sleep(0)  # a slow consumer (disk, another socket...)

    consumer = asyncio.create_task(consume())
    await client.fetch(f"{base}/large?size=5000000", streaming_callback=queue.put)
    await queue.put(b"")  # the end
    await consumer
    print("received", received)
    assert received == 5_000_000

    client.close()


asyncio.run(main())
