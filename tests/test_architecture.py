"""The project's layering rules (README, "Design"), checked on the import statements themselves."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "squall"

# Module (relative path) -> names it must not import (prefix match on the dotted name).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "_http1/protocol.py": ("asyncio", "socket", "ssl", "pycurl", "squall._curl"),
    "_http1/protocol_state.py": ("asyncio", "socket", "ssl", "pycurl", "squall._curl"),
    "_http1/body_framing.py": ("asyncio", "socket", "ssl", "pycurl", "squall._curl"),
    "_http1/reparse.py": ("asyncio", "socket", "ssl", "pycurl", "squall._curl"),
    "_curl/head.py": ("asyncio", "socket", "ssl", "pycurl", "squall._http1", "squall.httpclient"),
    "_http1/leniency.py": ("asyncio", "socket", "ssl", "pycurl", "squall._curl"),
    "_errors.py": ("squall._request", "squall.httpclient", "squall._http1", "squall._curl"),
    "_headers.py": ("squall.",),
    "_urls.py": ("squall.",),
    "_framing.py": (
        "asyncio",
        "socket",
        "pycurl",
        "squall._http1",
        "squall._curl",
        "squall.httpclient",
    ),
    "_decoding.py": ("asyncio", "squall._http1", "squall._curl", "squall.httpclient", "pycurl"),
    "_request.py": ("squall._response", "squall.httpclient", "squall._http1", "squall._curl"),
    "_option_checks.py": ("squall._response", "squall.httpclient", "squall._http1", "squall._curl"),
    "_request_body.py": ("squall._response", "squall.httpclient", "squall._http1", "squall._curl"),
    "_response.py": ("squall.httpclient", "squall._http1", "squall._curl"),
    "_redirects.py": ("squall.httpclient", "squall._http1", "squall._curl"),
    "_admission.py": ("squall.httpclient", "squall._http1", "squall._curl"),
    "httpclient.py": ("squall._http1", "squall._curl", "squall.simple_httpclient", "pycurl"),
    # The blocking client and the fetch's steps sit beside the interface, on no engine.
    "_blocking.py": (
        "squall._http1",
        "squall._http2",
        "squall._curl",
        "squall.simple_httpclient",
        "squall.curl_httpclient",
        "pycurl",
    ),
    "_fetch_flow.py": (
        "squall.httpclient",
        "squall._http1",
        "squall._http2",
        "squall._curl",
        "pycurl",
    ),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_layering(module: str) -> None:
    path = ROOT / module
    if not path.exists():
        pytest.fail(f"{module} is missing")
    bad = {
        name
        for name in _imports(path)
        for prefix in FORBIDDEN[module]
        if name == prefix.rstrip(".") or name.startswith(prefix)
    }
    assert not bad, f"{module} imports {sorted(bad)}"


def test_engine_packages_point_down() -> None:
    # The engines sit below the interface: never the public client module nor
    # the package root (whose __init__ may re-export it); the version is a leaf.
    for path in [*ROOT.glob("_http1/*.py"), *ROOT.glob("_curl/*.py")]:
        names = _imports(path)
        # "from squall import x" shows as "squall" and "squall.x".
        bad = {n for n in names if n == "squall" or n.startswith("squall.httpclient")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_engines_are_independent_and_pycurl_is_confined() -> None:
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        names = _imports(path)
        if rel.startswith("_http1/"):
            assert not any(n.startswith(("squall._curl", "pycurl")) for n in names), rel
        if rel.startswith("_curl/"):
            assert not any(n.startswith("squall._http1") for n in names), rel
        if not (rel.startswith("_curl/") or rel == "curl_httpclient.py"):
            assert "pycurl" not in names, f"{rel} imports pycurl"


def test_http2_points_down_and_jh2_is_confined() -> None:
    # _http2 builds on _http1 (dialling, the HTTP/1.1 engine it falls back to),
    # never on curl or the public modules; jh2 (an optional extra) is imported
    # by the modules that drive it alone, so without it squall still imports.
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        names = _imports(path)
        if rel.startswith("_http2/"):
            bad = {
                n
                for n in names
                if n == "squall" or n.startswith(("squall.httpclient", "squall._curl", "pycurl"))
            }
            assert not bad, f"{rel} imports {sorted(bad)}"
        if rel not in ("_http2/connection.py", "_http2/connection_base.py", "_http2/engine.py"):
            assert not any(n == "jh2" or n.startswith("jh2.") for n in names), f"{rel} imports jh2"


def test_public_names() -> None:
    import squall.httpclient
    import squall.httputil

    assert set(squall.httpclient.__all__) == {
        "AsyncHTTPClient",
        "CurlError",
        "HTTPCertificateError",
        "HTTPClient",
        "HTTPClientError",
        "HTTPConnectionError",
        "HTTPConnectionRefusedError",
        "HTTPConnectionResetError",
        "HTTPError",
        "HTTPNameResolutionError",
        "HTTPRequest",
        "HTTPResponse",
        "HTTPStreamClosedError",
        "HTTPTLSError",
        "HTTPTimeoutError",
        "RemoteProtocolError",
        "ResponseTooLargeError",
        "Retry",
        "main",
    }
    assert set(squall.httputil.__all__) == {
        "HTTPHeaders",
        "format_timestamp",
        "responses",
        "url_concat",
    }
    for name in squall.httpclient.__all__:
        assert hasattr(squall.httpclient, name)
        if isinstance(getattr(squall.httpclient, name), type):
            assert getattr(squall.httpclient, name).__module__ == "squall.httpclient", name
    assert squall.httputil.HTTPHeaders.__module__ == "squall.httputil"


def test_every_name_the_readme_documents_imports() -> None:
    import re

    import squall.httpclient

    readme = (ROOT.parent / "README.md").read_text()
    # Class names in backticks in the error table and the prose.
    documented = set(
        re.findall(r"`((?:HTTP|Remote|Response|Curl)[A-Za-z]*(?:Error|Client))`", readme)
    )
    assert {"RemoteProtocolError", "HTTPTimeoutError"} <= documented
    import squall.curl_httpclient
    import squall.simple_httpclient

    modules = (squall.httpclient, squall.simple_httpclient, squall.curl_httpclient)
    missing = sorted(n for n in documented if not any(hasattr(m, n) for m in modules))
    assert not missing, f"README names {missing}, not importable from squall.httpclient"


def test_import_without_pycurl() -> None:
    # A meta-path blocker makes "import pycurl" fail as if it were not installed.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'pycurl': raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import squall.httpclient, squall.simple_httpclient\n"
        "assert 'pycurl' not in sys.modules\n"
        "try:\n"
        "    import squall.curl_httpclient\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install" in out.stdout and "squall[curl]" in out.stdout
