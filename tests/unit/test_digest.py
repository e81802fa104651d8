"""squall._digest against RFC 7616's worked examples, and its challenge parser."""

from __future__ import annotations

import hashlib

import pytest

from squall._digest import DigestChallenge, DigestSession, parse_challenges

# RFC 7616 §3.9.1.
_RFC = {
    "realm": "http-auth@example.org",
    "qop": "auth, auth-int",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
}
_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


@pytest.mark.parametrize(
    "algorithm, expected",
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc_7616_examples(algorithm: str, expected: str) -> None:
    challenge = DigestChallenge.from_params({**_RFC, "algorithm": algorithm})
    assert challenge is not None
    session = DigestSession(challenge, b"Mufasa", b"Circle of Life", cnonce=_CNONCE)
    value = session.authorization("GET", "/dir/index.html")
    assert f'response="{expected}"' in value
    assert 'username="Mufasa"' in value and "nc=00000001" in value and "qop=auth" in value
    assert f'opaque="{_RFC["opaque"]}"' in value
    assert "nc=00000002" in session.authorization("GET", "/dir/index.html")


def test_rfc_2069_form_without_qop() -> None:
    challenge = DigestChallenge.from_params({"realm": "r", "nonce": "n"})
    assert challenge is not None
    value = DigestSession(challenge, b"u", b"p").authorization("GET", "/")

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    assert f'response="{md5(md5("u:r:p") + ":n:" + md5("GET:/"))}"' in value
    assert "nc=" not in value and "qop" not in value


def test_non_ascii_user_name_goes_in_username_star() -> None:
    challenge = DigestChallenge.from_params({"realm": "r", "nonce": "n", "qop": "auth"})
    assert challenge is not None
    value = DigestSession(challenge, "Jäsøn".encode(), b"p").authorization("GET", "/")
    assert "username*=UTF-8''J%C3%A4s%C3%B8n" in value


@pytest.mark.parametrize(
    "params",
    [
        {"realm": "r", "nonce": "n", "qop": "auth-int"},  # would need the body hashed
        {"realm": "r", "nonce": "n", "algorithm": "SHA-1"},
        {"realm": "r"},
        {"nonce": "n"},
    ],
)
def test_unanswerable_challenges(params: dict[str, str]) -> None:
    assert DigestChallenge.from_params(params) is None


def test_parse_challenges() -> None:
    value = (
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", '
        'Digest realm="a, b", nonce="x", stale=TRUE, Basic realm="simple"'
    )
    assert parse_challenges(value) == [
        ("newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}),
        ("digest", {"realm": "a, b", "nonce": "x", "stale": "TRUE"}),
        ("basic", {"realm": "simple"}),
    ]
    stale = DigestChallenge.from_params(parse_challenges(value)[1][1])
    assert stale is not None and stale.stale
    assert parse_challenges("Negotiate abc==") == [("negotiate", {})]
    assert parse_challenges("") == []
