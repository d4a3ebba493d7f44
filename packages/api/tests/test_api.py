from __future__ import annotations

import socket
import warnings

import pytest

from openmodule.utils.api import Api, ApiException, AuthMethod


def make(url, auth=AuthMethod.none, **kwargs):
    with pytest.warns(DeprecationWarning, match="deprecated"):
        return Api(url + "/", auth, False, **kwargs)


def test_methods_send_json_and_parse_json(http_server):
    api = make(http_server.url)
    assert api.get("echo") == {
        "method": "GET",
        "path": "/echo",
        "json": None,
        "content_type": None,
        "token": None,
    }
    for method in ("post", "put", "delete"):
        result = getattr(api, method)("echo", payload={"a": [1, 2]}, params={"q": "x y"})
        assert result == {
            "method": method.upper(),
            "path": "/echo?q=x+y",
            "json": {"a": [1, 2]},
            "content_type": "application/json",
            "token": None,
        }
    assert api.get("raw", json_response=False) == b"\x00binary"


def test_auth_methods(http_server):
    assert make(http_server.url, AuthMethod.basic, user="u", password="p").get("basic") == {"ok": True}
    assert make(http_server.url, AuthMethod.header, user="X-Token", password="t").get("echo")["token"] == "t"
    assert make(http_server.url, "digest", user="u", password="p").get("digest") == {"digest": True}
    with pytest.raises(ApiException) as info:
        make(http_server.url, AuthMethod.basic, user="u", password="wrong").get("basic")
    assert (info.value.status, info.value.retry) == (401, False)


@pytest.mark.parametrize(
    ("status", "retry"), [(500, True), (503, True), (412, True), (404, False), (400, False)]
)
def test_server_errors(http_server, status, retry):
    with pytest.raises(ApiException) as info:
        make(http_server.url).get(f"status?code={status}")
    assert (info.value.status, info.value.msg, info.value.retry) == (status, "Server error", retry)
    assert info.value.response == b'{"error": "x"}'
    assert str(info.value) == f"Api Error {status}: Server error"


def test_timeout_is_408_and_retry(http_server):
    with pytest.raises(ApiException) as info:
        make(http_server.url, timeout=0.2).get("slow")
    assert (info.value.status, info.value.retry) == (408, True)


def test_connection_error_is_400():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(ApiException) as info:
        make(f"http://127.0.0.1:{port}").get("x")
    assert (info.value.status, info.value.retry) == (400, False)


def test_api_exception_direct_use_warns():
    with pytest.warns(DeprecationWarning):
        exc = ApiException(503, "down")
    assert (exc.status, exc.msg, exc.response, exc.retry, str(exc)) == (
        503,
        "down",
        None,
        True,
        "Api Error 503: down",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert AuthMethod("header") is AuthMethod.header


def test_common_headers_can_be_overridden(http_server):
    class TokenApi(Api):
        def _common_headers(self):
            return {"X-Token": "from-subclass"}

    with pytest.warns(DeprecationWarning):
        api = TokenApi(http_server.url, AuthMethod.none, True)
    assert api.get("echo")["token"] == "from-subclass"
