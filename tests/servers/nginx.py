"""nginx from Debian's packages: a second, independent HTTP/2 server for the engine tests.

hypercorn (``app.py``) answers from Python; nginx is the C server much of the
web runs on, with its own HTTP/2 and HPACK, flow control and framing. One
``NginxServer`` runs in the foreground (``daemon off``, no master process) from
a generated config in a temporary directory, on three ports of 127.0.0.1:

- ``h1_url``:  cleartext HTTP/1.1,
- ``h2c_url``: cleartext HTTP/2 with prior knowledge only (``listen ... http2``
  without ssl: nginx 1.22 serves no HTTP/1.1 there),
- ``tls_url``: TLS with ALPN offering h2 and http/1.1, the test certificate.

What it serves (``ROUTES`` below): static files, with gzip for text; redirects;
``/info``, a line naming the protocol nginx served (``$server_protocol``), the
method and the ``X-Mine`` request header; ``/discard``, which answers without
reading the request body; ``/trailed.txt``, a file followed by trailer fields
(``add_trailer``: HEADERS after the DATA over HTTP/2, a chunked trailer section
over HTTP/1.1); ``/spaced``, a header whose value ends in a space.

``./dev test`` installs Debian's ``nginx-light`` (it has the http_v2 module)
when nginx is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.servers.routes import ENCODED_TEXT, large_body
from tests.servers.tls import Certs

START_TIMEOUT = 10.0

#: The files under the document root, by name.
FILES = {
    "hello.txt": b"hello from nginx\n",
    "text.txt": ENCODED_TEXT,  # gzip'd on the way when the client accepts it
    "large.bin": large_body(3 * 1024 * 1024 + 5),  # many stream windows' worth
    "trailed.txt": b"a body with trailers after it\n",
}

#: The trailer fields nginx sends after ``/trailed.txt``.
TRAILERS = {"X-Checksum": "c0ffee", "X-Trailer-Note": "after the body"}

ROUTES = """
        location = /info {{
            return 200 "$server_protocol $request_method [$http_x_mine]\\n";
        }}
        location = /redirect {{
            return 302 /hello.txt;
        }}
        location = /redirect-to-info {{
            return 307 /info;
        }}
        location = /redirect-loop {{
            return 302 /redirect-loop;
        }}
        location = /discard {{
            client_max_body_size 64m;
            return 200 "discarded\\n";
        }}
        location = /trailed.txt {{
            add_trailer X-Checksum "c0ffee";
            add_trailer X-Trailer-Note "after the body";
        }}
        location = /spaced {{
            add_header X-Spaced "value " always;
            return 200 "spaced\\n";
        }}
        location = /slow.bin {{
            alias {root}/www/large.bin;
            limit_rate 16k;
        }}
"""

CONFIG = """
daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{
    worker_connections 256;
}}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    types {{
        text/plain txt;
        application/octet-stream bin;
    }}
    default_type text/plain;
    gzip on;
    gzip_types text/plain;
    gzip_min_length 64;
    keepalive_timeout 60s;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    server {{
        listen 127.0.0.1:{h1_port};
        root {root}/www;
{routes}
    }}
    server {{
        listen 127.0.0.1:{h2c_port} http2;
        root {root}/www;
{routes}
    }}
    server {{
        listen 127.0.0.1:{tls_port} ssl http2;
        root {root}/www;
{routes}
    }}
}}
"""


def nginx_binary() -> str:
    """The nginx to run; a clear error when Debian's package is not installed."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise RuntimeError(
            "nginx is not installed: ./dev test installs it (apt-get install nginx-light)"
        )
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class NginxServer:
    """A private nginx (see the module docstring); ``start()`` then ``stop()``, or ``with``."""

    def __init__(self, certs: Certs) -> None:
        self.certs = certs
        self.root = ""
        self.h1_port = self.h2c_port = self.tls_port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def h1_url(self) -> str:
        return f"http://127.0.0.1:{self.h1_port}"

    @property
    def h2c_url(self) -> str:
        return f"http://127.0.0.1:{self.h2c_port}"

    @property
    def tls_url(self) -> str:
        return f"https://127.0.0.1:{self.tls_port}"

    def start(self) -> NginxServer:
        binary = nginx_binary()
        self.root = tempfile.mkdtemp(prefix="squall-nginx-")
        root = Path(self.root)
        # Run as root, nginx's worker code may still drop to "nobody": the tree is readable.
        root.chmod(0o755)
        (root / "www").mkdir(mode=0o755)
        (root / "tmp").mkdir(mode=0o777)
        for name, data in FILES.items():
            (root / "www" / name).write_bytes(data)
            (root / "www" / name).chmod(0o644)
        self.h1_port, self.h2c_port, self.tls_port = _free_port(), _free_port(), _free_port()
        fields: dict[str, Any] = {
            "root": self.root,
            "cert": self.certs.server_cert,
            "key": self.certs.server_key,
        }
        routes = ROUTES.format(**fields)
        config = CONFIG.format(
            routes=routes, h1_port=self.h1_port, h2c_port=self.h2c_port,
            tls_port=self.tls_port, **fields,
        )  # fmt: skip
        (root / "nginx.conf").write_text(config)
        args = [binary, "-p", self.root, "-e", str(root / "error.log"), "-c", "nginx.conf"]
        self._proc = subprocess.Popen(
            args, cwd=self.root, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            for port in (self.h1_port, self.h2c_port, self.tls_port):
                self._wait_listening(port)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_listening(self, port: int) -> None:
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log = Path(self.root, "error.log")
                told = log.read_text() if log.exists() else ""
                stderr = proc.stderr.read().decode() if proc.stderr is not None else ""
                raise RuntimeError(f"nginx exited: {stderr}{told}"[-2000:])
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not listen on {port} within {START_TIMEOUT} s")

    def stop(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc is not None and proc.stderr is not None:
            proc.stderr.close()
        if self.root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> NginxServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
