"""The ``squall`` command builds the request curl would: flags against /echo, both engines."""

from __future__ import annotations

import base64
import json
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path

import pytest

from tests.cli.helpers import echoed, header, squall
from tests.servers.app import AppServer

ENGINES = ["simple", "curl"]


@pytest.fixture(params=ENGINES)
def cli_engine(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def run(engine: str, *args: str, stdin: bytes = b"") -> dict[str, object]:
    return echoed(squall("--engine", engine, *args, stdin=stdin))


def test_get_and_scheme_less_url(app_server: AppServer, cli_engine: str) -> None:
    url = app_server.http_url.removeprefix("http://") + "/echo?a=1"
    got = run(cli_engine, url)
    assert (got["method"], got["path"], got["query"]) == ("GET", "/echo", "a=1")


def test_headers_add_replace_and_empty(app_server: AppServer, cli_engine: str) -> None:
    got = run(cli_engine, "-H", "X-One: 1", "-H", "X-Empty;", "-A", "agent/1", "-e", "http://r/",
              "-H", "X-Gone: 1", "-H", "X-Gone:", app_server.http_url + "/echo")  # fmt: skip
    assert header(got, "x-one") == ["1"] and header(got, "x-empty") == [""]
    assert header(got, "user-agent") == ["agent/1"] and header(got, "referer") == ["http://r/"]
    assert header(got, "x-gone") == []


def test_name_colon_removes_a_default_header(app_server: AppServer, cli_engine: str) -> None:
    # --json adds Accept; "Accept:" takes it away again, as curl's -H does. (What the
    # engine adds on its own stays: libcurl's "Accept: */*", the User-Agent.)
    got = run(cli_engine, "--json", "{}", "-H", "Accept:", app_server.http_url + "/echo")
    assert header(got, "accept") in ([], ["*/*"])
    assert header(got, "content-type") == ["application/json"]
    # A header the command did not add: nothing to remove (it crashed with a KeyError).
    got = run(cli_engine, "-H", "X-Absent:", app_server.http_url + "/echo")
    assert header(got, "x-absent") == []


def test_data_variants(app_server: AppServer, cli_engine: str, tmp_path: Path) -> None:
    form = tmp_path / "form.txt"
    form.write_bytes(b"a=1\r\n&b=2\n")
    url = app_server.http_url + "/echo"
    got = run(cli_engine, "-d", f"@{form}", "-d", "c=3", url)
    assert (got["method"], got["body"]) == ("POST", "a=1&b=2&c=3")  # newlines dropped, & joined
    assert header(got, "content-type") == ["application/x-www-form-urlencoded"]
    got = run(cli_engine, "--data-binary", f"@{form}", url)
    assert got["body"] == "a=1\r\n&b=2\n"
    got = run(cli_engine, "--data-raw", "@literal", "--data-urlencode", "q=a b&c", url)
    assert got["body"] == "@literal&q=a+b%26c"
    got = run(cli_engine, "-X", "PUT", "-d", "@-", url, stdin=b"from stdin")
    assert (got["method"], got["body"]) == ("PUT", "from stdin")


def test_get_puts_data_in_the_query(app_server: AppServer, cli_engine: str) -> None:
    got = run(
        cli_engine,
        "-G",
        "-d",
        "a=1",
        "--data-urlencode",
        "b=x y",
        app_server.http_url + "/echo?z=0",
    )
    assert (got["method"], got["query"], got["body"]) == ("GET", "z=0&a=1&b=x+y", "")


def test_json_body(app_server: AppServer, cli_engine: str, tmp_path: Path) -> None:
    doc = tmp_path / "doc.json"
    doc.write_text('{\n  "pretty": [1, 2]\n}\n')
    got = run(cli_engine, "--json", f"@{doc}", app_server.http_url + "/echo")
    assert got["method"] == "POST" and json.loads(str(got["body"])) == {"pretty": [1, 2]}
    assert header(got, "content-type") == ["application/json"]
    assert header(got, "accept") == ["application/json"]


def test_multipart_form_streams_a_file(
    app_server: AppServer, cli_engine: str, tmp_path: Path
) -> None:
    upload = tmp_path / "photo.png"
    content = bytes(range(256)) * 4096  # 1 MiB, every byte value
    upload.write_bytes(content)
    note = tmp_path / "note.txt"
    note.write_text("from a file")
    got = run(cli_engine, "-F", "name=squall", "-F", f"file=@{upload}", "-F", f"note=<{note}",
              "-F", f"raw=@{note};type=text/x-note", app_server.http_url + "/echo")  # fmt: skip
    assert got["method"] == "POST"
    (ctype,) = header(got, "content-type")
    assert ctype.startswith("multipart/form-data; boundary=")
    body = str(got["body"]).encode("latin-1")
    assert header(got, "content-length") == [str(len(body))]
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body)
    parts = {
        part.get_param("name", header="content-disposition"): part for part in message.iter_parts()
    }
    assert parts["name"].get_content() == "squall"
    assert parts["file"].get_filename() == "photo.png"
    assert parts["file"].get_content_type() == "image/png"
    assert parts["file"].get_payload(decode=True) == content
    assert parts["note"].get_content() == "from a file" and parts["note"].get_filename() is None
    assert parts["raw"].get_content_type() == "text/x-note"


def test_basic_auth_and_method(app_server: AppServer, cli_engine: str) -> None:
    got = run(cli_engine, "-u", "alice:s3cr:et", "-X", "DELETE", app_server.http_url + "/echo")
    assert got["method"] == "DELETE"
    assert header(got, "authorization") == ["Basic " + base64.b64encode(b"alice:s3cr:et").decode()]


def test_head_request(app_server: AppServer, cli_engine: str) -> None:
    result = squall("--engine", cli_engine, "-I", app_server.http_url + "/echo")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"HTTP/1.1 200") and result.stdout.endswith(b"\r\n\r\n")


def test_cookie_string_and_cookie_files(
    app_server: AppServer, cli_engine: str, tmp_path: Path
) -> None:
    got = run(cli_engine, "-b", "a=1; b=2", app_server.http_url + "/echo")
    assert header(got, "cookie") == ["a=1; b=2"]
    jar = tmp_path / "jar.txt"
    result = squall("--engine", cli_engine, "-c", str(jar), app_server.http_url + "/cookies")
    assert (result.returncode, result.stdout) == (0, b"cookies")
    saved = jar.read_text()
    assert "\ta\t1" in saved and "\tb\t2" in saved  # Netscape cookie file lines
    got = run(cli_engine, "-b", str(jar), app_server.http_url + "/echo")
    assert sorted(header(got, "cookie")[0].split("; ")) == ["a=1", "b=2"]


def test_compressed(app_server: AppServer, cli_engine: str) -> None:
    url = app_server.http_url + "/encoded?coding=gzip"
    plain = squall("--engine", cli_engine, "-i", url)
    assert b"X-Encoded: identity" in plain.stdout or b"x-encoded: identity" in plain.stdout
    result = squall("--engine", cli_engine, "--compressed", url)
    assert result.returncode == 0 and result.stdout == b"squall compressed body " * 200


def test_redirects_only_with_location(app_server: AppServer, cli_engine: str) -> None:
    url = app_server.http_url + "/redirect?to=/echo"
    result = squall("--engine", cli_engine, url)
    assert (result.returncode, result.stdout) == (0, b"redirecting")  # curl: no -L, no follow
    got = run(cli_engine, "-L", url)
    assert got["path"] == "/echo"
