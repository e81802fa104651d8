"""Open built pages of the site in headless Chromium; fail on console errors or missing assets.

Usage: ``python docs/_ext/browser_check.py SITE_DIR [PAGE ...]`` (``./dev docs --check``).

The site is served over HTTP on 127.0.0.1 (as a user's browser would get it,
not from ``file://``), each page is loaded until the network is idle, and the
check fails if the page logged a console error, threw an uncaught exception,
or requested anything that failed or answered 4xx/5xx. It also fails if the
page has no main content, so a blank page cannot pass.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``./dev docs``);
Playwright only drives it.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Response, sync_playwright

DEFAULT_PAGES = ("index.html", "api/httpclient.html")


@contextlib.contextmanager
def serving(site: Path) -> Iterator[str]:
    """Serve ``site`` on an ephemeral port of 127.0.0.1; yield its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def problems_of(page: Page, url: str) -> list[str]:
    """Load ``url`` in ``page``; return every problem seen (empty when the page is sound)."""
    found: list[str] = []

    def on_response(response: Response) -> None:
        if response.status >= 400:
            found.append(f"asset answered {response.status}: {response.url}")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            found.append(f"console error: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: found.append(f"uncaught exception: {exc}"))
    page.on("requestfailed", lambda r: found.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", on_response)
    page.goto(url, wait_until="networkidle")
    if not page.locator("article[role=main] h1").count():
        found.append("no main heading: the page did not render its content")
    return found


def chromium_path() -> str:
    """Debian's chromium binary (CHROMIUM overrides), or exit with a message."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if path is None:
        raise SystemExit("chromium not found (./dev docs --check installs Debian's package)")
    return path


def main(argv: list[str]) -> int:
    """Check each page; print what is wrong; return 0 only when every page is sound."""
    site, pages = Path(argv[0]), argv[1:] or list(DEFAULT_PAGES)
    failed = False
    with serving(site) as base, sync_playwright() as pw:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            for name in pages:
                page = browser.new_page()
                problems = problems_of(page, base + name)
                page.close()
                for problem in problems:
                    print(f"{name}: {problem}", file=sys.stderr)
                failed = failed or bool(problems)
                print(f"{name}: {'FAILED' if problems else 'ok'}")
        finally:
            browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
