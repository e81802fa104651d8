"""Running the jobs: one AsyncHTTPClient, sequential or ``-Z`` parallel, retries.

Every fetch streams (``streaming_callback``), so the client's body limit is
``--max-filesize`` or none at all, and no body is ever held by the library.
The exit status of a URL is decided here, once, from its response or error.
"""

from __future__ import annotations

import argparse
import asyncio
import email.message
import io
import sys
import urllib.request
from typing import IO, Any

from squall import _errors as errors
from squall._cli import verbose
from squall._cli.build import Job, tunnelled
from squall._cli.exits import (
    HTTP_FAILED,
    PARTIAL_FILE,
    TOO_MANY_REDIRECTS,
    TUNNEL_FAILED,
    USAGE,
    Failure,
    exit_status,
)
from squall._cli.output import Transfer, write_all, write_failure
from squall._cli.progress import Meter, make_meter
from squall._cli.terminal import Pretty, have_rich, is_tty
from squall._cli.timing import print_timing
from squall._cli.writeout import Result, write_out
from squall.httpclient import AsyncHTTPClient, HTTPResponse

__all__ = ["Runner"]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})  # curl's "transient" statuses
MAX_RETRY_DELAY = 600.0
# "No limit" in bytes: 4 EiB. (sys.maxsize would overflow the decoders' limit + 1.)
NO_LIMIT = 1 << 62


class _Headers:
    """What http.cookiejar wants of a response: ``info().get_all(name)``."""

    def __init__(self, result: Result) -> None:
        self.message = email.message.Message()
        for name, value in result.headers.get_all():
            self.message[name] = value

    def info(self) -> email.message.Message:
        return self.message


class Runner:
    """Fetches the jobs with one client and reports each one.

    Args:
        args: the parsed flags.
        engine: the AsyncHTTPClient class to use.
        complain: prints one error line (honours -s/-S).
    """

    def __init__(self, args: argparse.Namespace, engine: type[AsyncHTTPClient], complain: Any):
        self.args = args
        self.engine = engine
        self.complain = complain
        self.stdout: IO[bytes] = sys.stdout.buffer
        self.pretty = Pretty(args.pretty, is_tty(sys.stdout))
        self.write_format = _format(args.write_out)
        # curl's: no binary body onto the terminal unless "-o -" says so (not the seed's way).
        self.guard_binary = (
            not args.profile.status_error_exit and "-" not in args.outputs and is_tty(sys.stdout)
        )
        self.dump: IO[bytes] | None = None
        self.meter: Meter = Meter()
        self.results: list[Result] = []
        self.lock = asyncio.Lock()

    async def run(self, jobs: list[Job]) -> int:
        """Fetch every job; returns the exit status (the last failure's)."""
        args = self.args
        to_terminal = any(job.output is None for job in jobs) and is_tty(sys.stdout)
        self.meter = make_meter(args.silent, to_terminal)
        self.client = self.engine(
            force_instance=True,
            max_clients=args.parallel_max if args.parallel else 1,
            # Bodies stream to their output: no buffer to protect, only the cap asked for.
            max_body_size=args.max_filesize or NO_LIMIT,
        )
        try:
            self.dump = _open_dump(args.dump_header, self.stdout)
            if args.parallel:
                statuses = await asyncio.gather(*(self.fetch(job) for job in jobs))
            else:
                statuses = [await self.fetch(job) for job in jobs]
        finally:
            self.meter.close()
            self.client.close()
            if self.dump is not None and self.dump is not self.stdout:
                self.dump.close()
        if args.timing:
            colors = is_tty(sys.stderr) and have_rich() and args.pretty not in ("none", "format")
            print_timing(sorted(self.results, key=lambda r: r.index), colors)
        self._save_cookies(jobs)
        return next((s for s in reversed(statuses) if s), 0)

    # -- one URL -----------------------------------------------------------------------

    async def fetch(self, job: Job) -> int:
        """Fetch one job, with its retries; print what it asks for; its exit status."""
        args = self.args
        task = self.meter.task(job.output or job.url)
        stdout = io.BytesIO() if args.parallel else self.stdout
        attempt = 0
        while True:
            retrying = attempt < args.retry
            retried = RETRY_STATUSES if retrying else frozenset()
            transfer = Transfer(
                job.output, stdout, args, self.pretty, task,
                retry_status=retried.__contains__, dump=self.dump,
                guard_binary=self.guard_binary and job.output is None,
            )  # fmt: skip
            response, error = await self._attempt(job, transfer)
            delay = self._retry_delay(attempt, response, error) if retrying else None
            if delay is None:
                break
            transfer.discard()
            if isinstance(stdout, io.BytesIO):  # -Z: what this attempt held back
                stdout.seek(0)
                stdout.truncate()
            task.restart()
            attempt += 1
            what = str(error) if error is not None else f"HTTP {response.code if response else 0}"
            left = args.retry - attempt
            self.complain(f"transient problem ({what}); retrying in {delay:g} s, {left} left")
            await asyncio.sleep(delay)
        result = self._result(job, transfer, response, attempt)
        status, message = self._status(job, transfer, response, error)
        if status == 0:
            transfer.ensure_file()
        transfer.finish()
        if transfer.write_error is not None and status == 0:
            status, message = transfer.write_error.status, str(transfer.write_error)
        result.exitcode, result.errormsg = status, message
        async with self.lock:
            failed = self._report(job, result, transfer, stdout)
        if failed is not None and status == 0:
            status, message = failed.status, str(failed)
        if message:
            prefix = f"{job.url}: " if len(self.args.urls) > 1 else ""
            # curl's number, but not on the seed's own status 1 (an HTTP error status).
            code = f"({status}) " if status != 1 or not args.profile.status_error_exit else ""
            self.complain(f"{prefix}{code}{message}")
        return status

    async def _attempt(
        self, job: Job, transfer: Transfer
    ) -> tuple[HTTPResponse | None, Exception | None]:
        args = self.args
        callbacks: dict[str, Any] = {
            "header_callback": transfer.on_header,
            "streaming_callback": transfer.on_chunk,
        }
        curl = "curl" in self.engine.__name__.lower()
        if args.verbose and curl:
            callbacks["prepare_curl_callback"] = verbose.curl_hook()
        request = job.request(**callbacks)
        try:
            if args.verbose and not curl:
                verbose.print_sent_head(self.client, request)
            response = await self.client.fetch(request, raise_error=False)
        except errors.HTTPClientError as exc:
            if isinstance(exc.__cause__, Failure):
                return None, exc.__cause__  # the output failed under a callback
            return exc.response, exc
        except Failure as exc:  # the output failed under a callback
            return None, exc
        except (ValueError, TypeError, NotImplementedError) as exc:
            # An option this engine refuses (a proxy, digest, HTTP/2 on simple): as it says.
            hint = ""
            # The simple engine's refusals name it (or are NotImplementedError).
            named = "SimpleAsyncHTTPClient" in str(exc) or "CurlAsyncHTTPClient" in str(exc)
            if not curl and (isinstance(exc, NotImplementedError) or named):
                hint = " (try --engine curl)"
            raise Failure(USAGE, f"{exc}{hint}") from None
        if _refused_tunnel(job, transfer, response):
            # curl's: the proxy's head shows with -i/-v (and -D), and the URL failed (56).
            transfer.on_connect_refusal(response.code, response.reason, response.headers)
            if args.verbose:
                verbose.print_lines("<", transfer.lines)
            failure = Failure(TUNNEL_FAILED, f"CONNECT tunnel failed, response {response.code}")
            return response, failure
        if args.verbose:
            verbose.print_lines("<", transfer.lines)
            times = " ".join(f"{k}={v:.6f}" for k, v in response.time_info.items())
            verbose.print_lines(
                "*", [f"{response.code} in {response.request_time or 0:.6f}s; {times}"]
            )
        return response, None

    def _retry_delay(
        self, attempt: int, response: HTTPResponse | None, error: Exception | None
    ) -> float | None:
        """Seconds to wait before the next attempt, or None: not a transient failure."""
        args = self.args
        if error is not None:
            transient = isinstance(error, errors.HTTPTimeoutError) or (
                args.retry_connrefused and isinstance(error, errors.HTTPConnectionRefusedError)
            )
            if not transient:
                return None
        elif response is None or response.code not in RETRY_STATUSES:
            return None
        if args.retry_delay is not None:
            return float(args.retry_delay)
        after = response.headers.get("Retry-After", "") if response is not None else ""
        if after.isdigit():
            return min(float(after), MAX_RETRY_DELAY)
        return min(2.0**attempt, MAX_RETRY_DELAY)  # curl: 1 s, doubling

    def _status(
        self, job: Job, transfer: Transfer, response: HTTPResponse | None, error: Exception | None
    ) -> tuple[int, str]:
        """The exit status and the error line of a finished URL."""
        args = self.args
        if isinstance(error, Failure):
            return error.status, str(error)
        if isinstance(error, errors.HTTPClientError) and error.code == errors.NO_RESPONSE:
            closed = type(error) in (errors.HTTPStreamClosedError, errors.HTTPConnectionResetError)
            if closed and transfer.head_done:  # curl's "transfer closed with bytes remaining"
                return PARTIAL_FILE, str(error)
            if isinstance(error, errors.ResponseTooLargeError) and error.option == "max_body_size":
                return exit_status(error), "Maximum file size exceeded"  # curl's words
            return exit_status(error), str(error)
        if response is None:
            return 1, str(error)
        code = response.code
        follow = job.options.get("follow_redirects", True)
        if follow and code in REDIRECTS and "Location" in response.headers:
            limit = job.options.get("max_redirects", 5)
            return TOO_MANY_REDIRECTS, f"Maximum ({limit}) redirects followed"
        if args.profile.status_error_exit:
            return (1, str(response.error)) if response.error is not None else (0, "")
        if (args.fail or args.fail_with_body) and code >= 400:
            return HTTP_FAILED, f"The requested URL returned error: {code}"
        return 0, ""

    # -- reporting -------------------------------------------------------------------

    def _result(
        self, job: Job, transfer: Transfer, response: HTTPResponse | None, retries: int
    ) -> Result:
        result = Result(job.url, job.index, str(job.options.get("method", "GET")))
        result.filename, result.num_retries = job.output or "", retries
        result.size_download, result.size_header = transfer.size, transfer.header_size
        result.status_line = transfer.status_line
        if transfer.connect_code:  # curl: no response (000), the proxy's status apart
            result.http_connect = transfer.connect_code
            result.time_info = dict(response.time_info) if response is not None else {}
        elif response is not None and response.code != errors.NO_RESPONSE:
            result.code, result.headers = response.code, response.headers
            result.effective_url = response.effective_url
            result.time_info = dict(response.time_info)
            if job.cookies is not None:
                probe = urllib.request.Request(response.effective_url)
                job.cookies.extract_cookies(_Headers(result), probe)  # type: ignore[arg-type]
        elif response is not None:
            result.time_info = dict(response.time_info)
        self.results.append(result)
        return result

    def _report(
        self, job: Job, result: Result, transfer: Transfer, stdout: IO[bytes]
    ) -> Failure | None:
        """Write what follows the body (-Z's held body, -w); the failure if stdout failed."""
        try:
            if isinstance(stdout, io.BytesIO):  # -Z: the whole body at once, not interleaved
                write_all(self.stdout, stdout.getvalue())
            if self.write_format is not None:
                write_out(self.write_format, result, self.stdout)
            self.stdout.flush()
        except OSError as exc:
            return write_failure(exc, "stdout")
        return None

    def _save_cookies(self, jobs: list[Job]) -> None:
        path = self.args.cookie_jar
        jar = jobs[0].cookies if jobs else None
        if path is None or jar is None:
            return
        try:
            jar.save(path, ignore_discard=True, ignore_expires=True)  # type: ignore[attr-defined]
        except OSError as exc:
            self.complain(f"can't write cookies to {path}: {exc.strerror}")


def _refused_tunnel(job: Job, transfer: Transfer, response: HTTPResponse) -> bool:
    """Whether ``response`` is the proxy's refusal of CONNECT, not the origin's answer.

    Both engines return the proxy's answer as the response, but only the origin's
    heads reach header_callback: a response whose head the transfer never saw,
    on a request that asked for a tunnel, is the proxy's.
    """
    if response.code == errors.NO_RESPONSE or not tunnelled(job.options, response.effective_url):
        return False
    return not transfer.head_done or transfer.status != response.code


def _format(write_out: str | None) -> str | None:
    """-w FORMAT, or @file / @- to read it from there."""
    if write_out is None or not write_out.startswith("@"):
        return write_out
    path = write_out[1:]
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise Failure(26, f"can't read {path}: {exc.strerror}") from None


def _open_dump(path: str | None, stdout: IO[bytes]) -> IO[bytes] | None:
    if path is None:
        return None
    if path == "-":
        return stdout
    try:
        return open(path, "wb")
    except OSError as exc:
        raise Failure(23, f"can't write {path}: {exc.strerror}") from None
