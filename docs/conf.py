"""Sphinx configuration of the documentation site (``./dev docs``).

Pages are Markdown (MyST); the API reference is autodoc over the public
modules' Google-style docstrings (napoleon). The build runs with ``-W -n``:
every warning, including a reference that resolves to nothing, fails it.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE / "_ext")]

import squall  # noqa: E402  (after the path is set, for a build from a plain checkout)

project = "squall"
release = version = squall.__version__
copyright = "the squall authors"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "squall_docs",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_ext", "examples"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"squall {release}"
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autodoc_typehints_format = "short"
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    # Members from squall's private bases (AsyncHTTPClient.configure), not
    # those of the standard library's.
    "inherited-members": ", ".join(
        ("object", "MutableMapping", "Mapping", "Exception", "BaseException", "OSError", "SSLError")
    ),
}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True

# Offline build: no intersphinx inventories, so names from the standard
# library and other packages cannot resolve. They are the only references
# allowed to dangle; every squall name must resolve.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(asyncio|collections|concurrent|datetime|io|numbers|socket|ssl|typing|types)\b.*"),
    (r"py:.*", r"(Any|Awaitable|Callable|Mapping|Iterator|Future|BytesIO|TracebackType)"),
    (r"py:.*", r"(bool|bytes|dict|float|int|list|object|str|tuple|type|None|Exception)"),
    (r"py:.*", r"(TimeoutError|ConnectionError|ConnectionRefusedError|ConnectionResetError)"),
    (r"py:.*", r"(SSLError|SSLCertVerificationError|gaierror|ClassVar|pycurl\..*)"),
    (r"py:.*", r"(_asyncio|time)\..*"),
    # Private bases, shown by show-inheritance: not part of the API.
    (r"py:class", r"squall\._errors\._NoResponseError|squall\._configurable\..*"),
    # Private type aliases and a TypeVar in signatures (their meaning is in the docstrings).
    (r"py:class", r"C|StreamingCallback|HeaderCallback|BodyProducer"),
    (r"py:class", r"RequestOptions|BlockingFetchOptions|ParamsArg|FormArg|FilesArg|Unpack"),
    (r"py:class", r"http\.cookiejar\..*|CookieJar"),
]
smartquotes = False  # "--serve" stays two hyphens
