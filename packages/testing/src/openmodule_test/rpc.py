"""RPC test helpers: ``RPCServerTestMixin`` and ``MockRPCClient``."""

from __future__ import annotations

import random
import string
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from openmodule.models.base import OpenModuleModel
from openmodule.rpc import RPCClient, RPCEntry
from openmodule_test.zeromq import ZMQTestMixin

__all__ = ["MockRPCClient", "RPCServerTestMixin"]

_Response = TypeVar("_Response", bound=BaseModel)


class _Ping(OpenModuleModel):
    pass


class RPCServerTestMixin(ZMQTestMixin):
    """Helpers to wait until an ``RPCServer`` answers.

    Usage::

        class ServerTest(RPCServerTestMixin):
            rpc_channels = ["backend"]
            def setUp(self):
                super().setUp()
                self.server = RPCServer(context=self.zmq_context())
                self.server.register_handler("backend", "auth", AccessRequest, AccessResponse, self.on_auth)
                self.server.run_as_thread()
                self.addCleanup(self.server.shutdown)
                self.wait_for_rpc_server(self.server)
    """

    def wait_for_rpc_response(
        self, channel: str, type: str, request: Any, response_type: type, attempts: int = 20
    ) -> Any:
        """Retry ``rpc`` (0.1 s timeout each) until the server answers; only timeouts are retried."""
        for _ in range(attempts):
            try:
                return self.rpc(channel, type, request, response_type, timeout=0.1)
            except RPCClient.TimeoutError:
                time.sleep(0.05)
        raise AssertionError(f"no response from {channel}/{type} after {attempts} attempts")

    def wait_for_rpc_server(self, server: Any, timeout: float = 5) -> None:
        """Register a private ping handler on ``server`` and call it until it runs."""
        assert server.handlers, "register the server's handlers before waiting for it"
        channel = "_test" + "".join(random.choices(string.ascii_lowercase, k=10))
        called = threading.Event()

        def ping(request: _Ping, message: Any) -> None:
            """test ping"""
            called.set()

        server.register_handler(channel, "ping", _Ping, _Ping, ping, register_schema=False)
        deadline = time.monotonic() + timeout
        while not called.is_set():
            if time.monotonic() > deadline:
                raise AssertionError(f"the RPC server did not answer within {timeout}s")
            self.rpc_no_response(channel, "ping", {})
            called.wait(0.05)


class MockRPCClient:
    """A drop-in for ``core().rpc_client`` in unit tests: answers from callbacks or fixed responses.

    Keys are ``(channel, type)``. ``callbacks`` run at ``result()`` time as ``callback(request, None)``
    (an exception becomes a ``handler_error``); ``immediate_callbacks`` run at call time; ``responses``
    hold fixed response models; anything else times out.

    Usage::

        client = MockRPCClient(responses={("backend", "auth"): AccessResponse(success=True)})
        core.rpc_client = client
    """

    def __init__(
        self,
        callbacks: dict[tuple[str, str], Callable[[Any, Any], Any]] | None = None,
        responses: dict[tuple[str, str], Any] | None = None,
        immediate_callbacks: dict[tuple[str, str], Callable[[Any, Any], Any]] | None = None,
        default_timeout: float = 1.0,
    ) -> None:
        self.callbacks = callbacks if callbacks is not None else {}
        self.responses = responses if responses is not None else {}
        self.immediate_callbacks = immediate_callbacks if immediate_callbacks is not None else {}
        self.default_timeout = default_timeout
        self.last_request: dict[tuple[str, str], Any] = {}

    @staticmethod
    def _as_payload(value: Any) -> dict[str, Any]:
        if value is None:
            value = {}
        elif hasattr(value, "model_dump"):
            value = value.model_dump(by_alias=True, exclude_none=True, mode="json")
        if "status" not in value:
            value = {"status": "ok", **value}
        payload: dict[str, Any] = value
        return payload

    def rpc_non_blocking(
        self,
        channel: str,
        type: str,
        request: BaseModel | dict[str, Any] | None,
        timeout: float | None = None,
    ) -> RPCEntry:
        key = (channel, type)
        self.last_request[key] = request
        entry = RPCEntry(self.default_timeout if timeout is None else timeout, channel=channel, type=type)
        if key in self.callbacks:
            callback = self.callbacks[key]

            def answer() -> None:
                try:
                    entry._set_response(self._as_payload(callback(request, None)))
                except Exception as exc:
                    entry._set_response({"status": "handler_error", "exception": str(exc)})

            threading.Thread(target=answer, daemon=True, name=f"mock-rpc-{channel}-{type}").start()
        elif key in self.immediate_callbacks:
            entry._set_response(self._as_payload(self.immediate_callbacks[key](request, None)))
        elif key in self.responses:
            entry._set_response(self._as_payload(self.responses[key]))
        return entry

    def rpc(
        self,
        channel: str,
        type: str,
        request: BaseModel | dict[str, Any] | None,
        response_type: type[_Response],
        timeout: float | None = None,
    ) -> _Response:
        return self.rpc_non_blocking(channel, type, request, timeout).result(response_type)
