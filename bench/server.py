"""The benchmark's server: a private nginx on 127.0.0.1 with generated bodies and a TLS listener.

Everything lives in a temporary directory made at startup (bodies, certificate, config, logs), so
nothing large is committed and two runs never share state. nginx runs in the foreground as our
child, pinned to one core with taskset so the client under test gets the other core alone. For
the proxy scenarios a squid (Debian's) runs the same way in front of it, on the same core: a
forward proxy with no auth and no cache, forwarding http and tunnelling CONNECT.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

KIB = 1024
MIB = 1024 * 1024

# name -> size of the static bodies served from the document root.
BODIES = {
    "100b.bin": 100,
    "1k.bin": KIB,
    "64k.bin": 64 * KIB,
    "10m.bin": 10 * MIB,
    "100m.bin": 100 * MIB,
}

NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
worker_rlimit_nofile 65536;
events {{
    worker_connections 16384;
    multi_accept on;
}}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    # Keep-alive with a request limit no scenario reaches: reconnects would measure the handshake.
    keepalive_requests 100000000;
    keepalive_timeout 600s;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    types {{
        application/json json;
        application/octet-stream bin;
    }}
    default_type application/octet-stream;
    gzip on;
    gzip_types application/json;
    gzip_min_length 256;
    gzip_comp_level 1;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {root}/www;
        location = /post {{
            # The body is read (and dropped) by nginx; the client pays for sending all of it.
            client_max_body_size 16m;
            client_body_buffer_size 2m;
            return 200 "ok\\n";
        }}
    }}
    server {{
        listen 127.0.0.1:{tls_port} ssl http2 backlog=4096;
        ssl_certificate {root}/server.pem;
        ssl_certificate_key {root}/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:1m;
        http2_max_concurrent_streams 1024;
        root {root}/www;
    }}
}}
"""


# squid as a plain forward proxy: no auth, nothing cached or logged, no helpers, one process.
SQUID_CONF = """\
http_port 127.0.0.1:{port}
{user}
http_access allow all
cache deny all
cache_mem 0 MB
access_log none
cache_store_log none
cache_log {root}/cache.log
pid_filename {root}/squid.pid
coredump_dir {root}
netdb_filename none
pinger_enable off
max_filedescriptors 65536
shutdown_lifetime 0 seconds
"""


def squid_binary() -> str | None:
    """Debian's squid, or None when it is not installed."""
    return shutil.which("squid") or shutil.which("squid", path="/usr/sbin")


def free_port() -> int:
    """A port that is free on 127.0.0.1 right now (nginx binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_bodies(www: str) -> None:
    # Random-ish but cheap: a repeated pseudo-random block; nginx serves it with sendfile.
    block = os.urandom(MIB)
    for name, size in BODIES.items():
        with open(os.path.join(www, name), "wb") as f:
            left = size
            while left:
                n = min(left, len(block))
                f.write(block[:n])
                left -= n
    items = [
        {"id": i, "name": f"item-{i}", "tags": ["alpha", "beta", "gamma"], "price": i * 1.25}
        for i in range(400)
    ]
    with open(os.path.join(www, "data.json"), "w") as f:
        json.dump({"items": items}, f)


def _write_cert(root: str) -> None:
    """Self-signed CA plus a server certificate for 127.0.0.1 and localhost (via trustme)."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(os.path.join(root, "server.key"))
    cert.cert_chain_pems[0].write_to_path(os.path.join(root, "server.pem"))
    ca.cert_pem.write_to_path(os.path.join(root, "ca.pem"))


@dataclass
class Server:
    """A running nginx; `url(path)` and `tls_url(path)` build the addresses clients fetch."""

    root: str
    port: int
    tls_port: int
    proc: subprocess.Popen[bytes] | None = None
    sizes: dict[str, int] = field(default_factory=dict)
    proxy_port: int = 0
    squid: subprocess.Popen[bytes] | None = None

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def ca(self) -> str:
        return os.path.join(self.root, "ca.pem")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def tls_url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.tls_port}/{path}"

    def stop(self) -> None:
        for proc in (self.squid, self.proc):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _wait_listening(
    port: int, proc: subprocess.Popen[bytes], root: str, log: str = "error.log"
) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(os.path.join(root, log)) as f:
                raise RuntimeError(f"{log} says: {f.read()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start listening within 10 s")


def start_squid(srv: Server, cpu: str | None) -> None:
    """squid in front of nginx, in the foreground (-N), pinned to `cpu` as nginx is."""
    binary = squid_binary()
    if binary is None:
        raise RuntimeError("the proxy scenarios need squid (apt-get install squid)")
    root = os.path.join(srv.root, "squid")
    os.makedirs(root)
    user = ""
    if os.geteuid() == 0:
        # squid will not run as root: it drops to Debian's "proxy", which writes its own files.
        import pwd

        proxy = pwd.getpwnam("proxy")
        os.chown(root, proxy.pw_uid, proxy.pw_gid)
        user = "cache_effective_user proxy"
    srv.proxy_port = free_port()
    conf = os.path.join(root, "squid.conf")
    with open(conf, "w") as f:
        f.write(SQUID_CONF.format(root=root, port=srv.proxy_port, user=user))
    open(os.path.join(root, "cache.log"), "a").close()
    if os.geteuid() == 0:
        os.chown(os.path.join(root, "cache.log"), proxy.pw_uid, proxy.pw_gid)
    cmd = [binary, "-N", "-f", conf]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", cpu, *cmd]
    srv.squid = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    _wait_listening(srv.proxy_port, srv.squid, root, "cache.log")


def start(nginx: str = "nginx", cpu: str | None = "0", proxy: bool = False) -> Server:
    """Generate the content and config in a temp dir and start nginx pinned to `cpu`
    (and squid in front of it, with `proxy`)."""
    root = tempfile.mkdtemp(prefix="squall-bench-")
    # nginx workers drop to an unprivileged user when started as root: they must read the tree.
    os.chmod(root, 0o755)
    www = os.path.join(root, "www")
    os.makedirs(www)
    os.makedirs(os.path.join(root, "tmp"))
    _write_bodies(www)
    _write_cert(root)
    for name in os.listdir(www):
        os.chmod(os.path.join(www, name), 0o644)
    srv = Server(root=root, port=free_port(), tls_port=free_port())
    srv.sizes = {name: os.path.getsize(os.path.join(www, name)) for name in os.listdir(www)}
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(root=root, port=srv.port, tls_port=srv.tls_port))
    cmd = [nginx, "-p", root, "-e", os.path.join(root, "error.log"), "-c", conf]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", cpu, *cmd]
    srv.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    try:
        _wait_listening(srv.port, srv.proc, root)
        _wait_listening(srv.tls_port, srv.proc, root)
        if proxy:
            start_squid(srv, cpu)
    except BaseException:
        srv.stop()
        raise
    return srv
