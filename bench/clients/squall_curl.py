"""squall's libcurl engine through the async API (Tornado's AsyncHTTPClient)."""

from _common import run_async
from squall_simple import setup as simple_setup

ENGINE = "squall.curl_httpclient.CurlAsyncHTTPClient"


async def setup(args):
    return await simple_setup(args, ENGINE)


if __name__ == "__main__":
    run_async(setup)
