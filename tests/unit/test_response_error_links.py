"""A response and its error refer to each other as in Tornado (``response.error.response
is response``) without a reference cycle: whichever one is kept, the other is reached
from it, with the same values, and both are freed by reference counting alone."""

from __future__ import annotations

import copy
import gc
import pickle
import time
import weakref
from collections.abc import Iterator
from io import BytesIO

import pytest

from squall._failure import failed_response as _failed
from squall.httpclient import HTTPClientError, HTTPRequest, HTTPResponse, HTTPTimeoutError


@pytest.fixture(autouse=True)
def _no_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def _status_response() -> HTTPResponse:
    return HTTPResponse(HTTPRequest("http://example.com/a"), 404, buffer=BytesIO(b"gone"))


def test_a_status_error_is_made_from_the_response() -> None:
    response = _status_response()
    error = response.error
    assert isinstance(error, HTTPClientError) and type(error) is HTTPClientError
    assert (error.code, error.message, str(error)) == (404, "Not Found", "HTTP 404: Not Found")
    assert error.args == (404, "Not Found", response)  # Tornado's args
    assert error.response is response and response.error is error
    assert error.url == "http://example.com/a"
    with pytest.raises(HTTPClientError) as raised:
        response.rethrow()
    assert raised.value is error
    assert "error=HTTP 404: Not Found" in repr(response)


def test_a_status_response_is_freed_without_the_collector() -> None:
    response = _status_response()
    assert response.error is not None
    assert response.buffer is not None
    refs = weakref.ref(response), weakref.ref(response.buffer)
    del response
    assert [ref() for ref in refs] == [None, None]


def test_a_kept_status_error_keeps_its_response() -> None:
    error = _status_response().error
    assert isinstance(error, HTTPClientError) and error.response is not None
    assert error.response.body == b"gone" and error.response.error is error
    ref = weakref.ref(error.response)
    del error
    assert ref() is None


def test_an_assigned_error_is_kept_as_given() -> None:
    response = _status_response()
    response.error = None
    assert response.error is None
    response.rethrow()  # nothing to raise
    other = HTTPClientError(500, response=response)
    response.error = other
    assert response.error is other and other.response is response  # the user's cycle


def test_no_error_on_success_and_unknown_names_still_fail() -> None:
    response = HTTPResponse(HTTPRequest("http://example.com/"), 200)
    assert response.error is None and vars(response)["error"] is None
    assert not hasattr(response, "nothing") and not hasattr(_status_response(), "nothing")
    assert not hasattr(HTTPTimeoutError(), "nothing")
    assert HTTPTimeoutError().response is None


def test_a_status_response_pickles_and_copies() -> None:
    for clone in (pickle.loads(pickle.dumps(_status_response())), copy.copy(_status_response())):
        assert clone.body == b"gone"
        error = clone.error
        assert isinstance(error, HTTPClientError) and error.code == 404
        assert error.response is clone


def _failure() -> tuple[HTTPRequest, HTTPResponse]:
    request = HTTPRequest("http://example.com/b")
    return request, _failed(request, HTTPTimeoutError("Timeout", phase="connect"), 12.5, 0.0)


def test_a_failure_without_a_response_links_both_ways() -> None:
    request, response = _failure()
    error = response.error
    assert isinstance(error, HTTPTimeoutError) and error.phase == "connect"
    assert error.response is response and response.code == error.code == 599
    assert response.request is request and error.url == "http://example.com/b"
    refs = weakref.ref(response), weakref.ref(error)
    del response, error
    assert [ref() for ref in refs] == [None, None]


def test_a_kept_failure_remakes_an_equal_response() -> None:
    request, response = _failure()
    error = response.error
    assert isinstance(error, HTTPTimeoutError)
    first = (response.request_time, response.start_time)
    del response  # only the error is kept, as when it was raised
    again = error.response
    assert again is not None and again.error is error and again is error.response
    assert (again.code, again.reason, again.request, again.body) == (599, "Unknown", request, b"")
    assert (again.request_time, again.start_time) == first
    assert again.effective_url == request.url and again.time_info == {}
    ref = weakref.ref(error)
    del error, again
    assert ref() is None


def test_a_linked_failure_pickles_and_copies() -> None:
    _, response = _failure()
    error = response.error
    assert isinstance(error, HTTPTimeoutError)
    for clone in (pickle.loads(pickle.dumps(error)), copy.copy(error)):
        assert type(clone) is HTTPTimeoutError and clone.phase == "connect"
        assert clone.response is not None and clone.response.code == 599
        assert clone.response.request.url == "http://example.com/b"


def test_an_error_given_a_response_holds_it() -> None:
    response = HTTPResponse(HTTPRequest("http://example.com/"), 599, error=ValueError("x"))
    error = HTTPTimeoutError("late", response=response)
    assert error.response is response
    del response
    assert error.response is not None and error.response.code == 599
    started = time.perf_counter()
    assert _failed(HTTPRequest("http://example.com/"), error, None, started).error is error
    assert error.response.code == 599  # already linked: kept


def test_the_error_fields_are_tornados() -> None:
    response = _status_response()
    error = response.error
    assert isinstance(error, HTTPClientError)
    assert vars(error) == {"code": 404, "message": "Not Found", "response": response}
