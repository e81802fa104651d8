"""Debian's squid as a forward proxy on 127.0.0.1, run in the foreground by the tests.

Each ``Squid`` has its own directory with a generated configuration, password
file, pid file, logs and no cache, and never touches the system's squid
service. With ``users`` it demands digest proxy auth (squid's
``digest_file_auth`` helper); ``access_log()`` reads squid's access log, one
line per finished transaction (a CONNECT tunnel's when the tunnel closes).
``./dev`` installs squid (as root); ``squid_binary()`` is None when it is
missing, and the tests that need it then skip.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DIGEST_HELPER = "/usr/lib/squid/digest_file_auth"
REALM = "squall-squid"
SQUID_USER, SQUID_PASSWORD = "squiduser", "squid pass"

_CONFIG = """\
http_port 127.0.0.1:{port}
pid_filename {dir}/squid.pid
cache_log {dir}/cache.log
access_log stdio:{dir}/access.log squid
cache_store_log none
coredump_dir {dir}
netdb_filename none
logfile_rotate 0
cache deny all
cache_mem 8 MB
shutdown_lifetime 0 seconds
{user}
{auth}
"""

_DIGEST = """\
auth_param digest program {helper} {dir}/passwd
auth_param digest children 2 startup=1
auth_param digest realm {realm}
acl authed proxy_auth REQUIRED
http_access allow authed
http_access deny all
"""


def squid_binary() -> str | None:
    """Where squid is, or None when it is not installed (or lacks the digest helper)."""
    binary = shutil.which("squid") or shutil.which("squid", path="/usr/sbin")
    if binary is None or not os.path.exists(DIGEST_HELPER):
        return None
    return binary


class Squid:
    """One squid process; ``with Squid(...) as squid:`` starts and stops it."""

    def __init__(self, users: dict[str, str] | None = None, port: int = 0) -> None:
        binary = squid_binary()
        if binary is None:
            raise RuntimeError("squid is not installed (./dev installs it as root)")
        self.binary = binary
        self.users = users
        self.port = port or _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="squall-squid-"))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def start(self) -> Squid:
        user = ""
        if os.geteuid() == 0:
            # squid refuses to run as root: it drops to Debian's "proxy" user,
            # which must be able to write its own directory.
            user = "cache_effective_user proxy"
            proxy = pwd.getpwnam("proxy")
            os.chown(self.dir, proxy.pw_uid, proxy.pw_gid)
        auth = "http_access allow all\n"
        if self.users is not None:
            lines = "".join(f"{name}:{password}\n" for name, password in self.users.items())
            (self.dir / "passwd").write_text(lines)
            (self.dir / "passwd").chmod(0o644)
            auth = _DIGEST.format(helper=DIGEST_HELPER, dir=self.dir, realm=REALM)
        config = self.dir / "squid.conf"
        config.write_text(_CONFIG.format(port=self.port, dir=self.dir, user=user, auth=auth))
        # -N: in the foreground, one process, no daemon; -f: only our configuration.
        args = [self.binary, "-N", "-f", str(config)]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_until_listening(time.monotonic() + 20)
        return self

    def _wait_until_listening(self, deadline: float) -> None:
        assert self._proc is not None
        while time.monotonic() < deadline and self._proc.poll() is None:
            try:
                socket.create_connection(self.address, 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        log = self.dir / "cache.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        self.stop()
        raise RuntimeError(f"squid did not start on port {self.port}:\n{tail}")

    def access_log(self) -> list[str]:
        """The access log's lines so far."""
        path = self.dir / "access.log"
        return path.read_text().splitlines() if path.exists() else []

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
            self._proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Squid:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
