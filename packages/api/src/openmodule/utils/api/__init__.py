"""Deprecated HTTP helper from the README: ``Api`` with basic/digest/header authentication and
``ApiException`` whose ``retry`` says whether trying again makes sense.

Usage::

    api = Api("https://backend.example.test", AuthMethod.basic, verify_ssl=True, user="u", password="p")
    try:
        res = api.post("some_url", payload=stuff)
    except ApiException as e:
        if e.retry:
            ...
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
import warnings
from enum import StrEnum
from typing import Any

__all__ = ["Api", "ApiException", "AuthMethod"]

_RETRY_STATUS = frozenset({503, 412, 500, 408})


class ApiException(Exception):
    """An HTTP call failed: ``status``, ``msg``, ``response`` (body bytes, if any) and ``retry`` (503, 412,
    500 and 408 are worth retrying). ``str()`` is ``Api Error <status>: <msg>``.

    Usage: ``raise ApiException(503, "maintenance")``
    """

    def __init__(
        self, status_code: int, msg: str = "", response: Any = None, *, _internal: bool = False
    ) -> None:
        if not _internal:
            warnings.warn(
                "openmodule.utils.api is deprecated: use an HTTP client library directly",
                DeprecationWarning,
                stacklevel=2,
            )
        super().__init__(status_code, msg)
        self.status = status_code
        self.msg = msg
        self.response = response
        self.retry = status_code in _RETRY_STATUS

    def __str__(self) -> str:
        return f"Api Error {self.status}: {self.msg}"


class AuthMethod(StrEnum):
    digest = "digest"
    basic = "basic"
    none = "none"
    header = "header"


class Api:
    """Deprecated: JSON over HTTP against ``host`` with one authentication method.

    ``get/post/put/delete(url, payload=None, json_response=True, **kwargs)`` send ``payload`` as JSON to
    ``host/url`` and return the parsed JSON (or the raw bytes with ``json_response=False``). kwargs:
    ``params`` (query dict), ``headers`` (extra headers), ``timeout``. Subclasses may override
    ``_common_headers()``.

    Usage: ``Api("http://127.0.0.1:8080", AuthMethod.header, False, user="X-Token", password="t").get("x")``
    """

    def __init__(
        self,
        host: str,
        auth_type: AuthMethod | str,
        verify_ssl: bool,
        user: str = "user",
        password: str = "password",
        timeout: float = 10,
    ) -> None:
        warnings.warn(
            "openmodule.utils.api.Api is deprecated: use an HTTP client library directly",
            DeprecationWarning,
            stacklevel=2,
        )
        self.host = host.rstrip("/")
        self.auth_type = AuthMethod(auth_type)
        self.verify_ssl = verify_ssl
        self.user = user
        self.password = password
        self.timeout = timeout
        handlers: list[urllib.request.BaseHandler] = [
            urllib.request.HTTPSHandler(context=None if verify_ssl else ssl._create_unverified_context())
        ]
        if self.auth_type is AuthMethod.digest:
            manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            manager.add_password(None, self.host, user, password)
            handlers.append(urllib.request.HTTPDigestAuthHandler(manager))
        self._opener = urllib.request.build_opener(*handlers)

    def _common_headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.auth_type is AuthMethod.basic:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        elif self.auth_type is AuthMethod.header:
            headers[self.user] = self.password
        return headers

    def _url(self, url: str) -> str:
        return f"{self.host}/{url}"

    def _call(
        self,
        method: str,
        url: str,
        payload: Any = None,
        json_response: bool = True,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        full = self._url(url)
        if params:
            full += ("&" if "?" in full else "?") + urllib.parse.urlencode(params, doseq=True)
        all_headers = {**self._common_headers(), **(headers or {})}
        data = None
        if payload is not None:
            data = json.dumps(payload).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        request = urllib.request.Request(full, data=data, headers=all_headers, method=method)
        try:
            with self._opener.open(request, timeout=self.timeout if timeout is None else timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise ApiException(exc.code, "Server error", exc.read(), _internal=True) from exc
        except TimeoutError as exc:
            raise ApiException(408, f"timeout: {exc}", _internal=True) from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                raise ApiException(408, f"timeout: {exc.reason}", _internal=True) from exc
            raise ApiException(400, f"request failed: {exc.reason}", _internal=True) from exc
        except (OSError, ValueError) as exc:
            raise ApiException(400, f"request failed: {exc}", _internal=True) from exc
        if not json_response:
            return body
        try:
            return json.loads(body) if body else None
        except ValueError as exc:
            raise ApiException(400, f"response is not JSON: {exc}", body, _internal=True) from exc

    def get(self, url: str, payload: Any = None, json_response: bool = True, **kwargs: Any) -> Any:
        return self._call("GET", url, payload, json_response, **kwargs)

    def post(self, url: str, payload: Any = None, json_response: bool = True, **kwargs: Any) -> Any:
        return self._call("POST", url, payload, json_response, **kwargs)

    def put(self, url: str, payload: Any = None, json_response: bool = True, **kwargs: Any) -> Any:
        return self._call("PUT", url, payload, json_response, **kwargs)

    def delete(self, url: str, payload: Any = None, json_response: bool = True, **kwargs: Any) -> Any:
        return self._call("DELETE", url, payload, json_response, **kwargs)
