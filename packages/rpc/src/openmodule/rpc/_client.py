"""``RPCClient``: calls over ``rpc-req-<channel>`` with responses from ``rpc-rep-<channel>``."""

from __future__ import annotations

import _thread
import builtins
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from os import urandom
from typing import Any, TypeAlias, TypeVar
from uuid import UUID

import pydantic

from openmodule.config import settings
from openmodule.dispatcher import MessageDispatcher, RateLimitedLog
from openmodule.messaging import running_core, wait_for_connection
from openmodule.models.base import validate_as, wire_dict
from openmodule.models.rpc import RPCErrorResult, RPCResponse
from openmodule.models.rpc import RPCServerError as _Status
from openmodule.rpc import _errors
from openmodule.rpc._pending import LATE, PendingCalls
from openmodule.rpc._topics import channel_to_request_topic, channel_to_response_topic

log = logging.getLogger("openmodule.rpc.client")

T = TypeVar("T", bound=pydantic.BaseModel)

Publish = Callable[[Any, str], Any]

_ERRORS: dict[str, type[_errors.RPCClientException]] = {
    _Status.handler_error: _errors.ServerHandlerError,
    _Status.validation_error: _errors.ServerValidationError,
    _Status.filter_error: _errors.ServerFilterError,
}


_VARIANT = "89ab" * 4


def new_rpc_id() -> str:
    """A random (version 4) UUID in its canonical text form, as ``str(uuid4())`` but without the object."""
    h = urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16)]}{h[17:20]}-{h[20:]}"


def _canonical_id(rpc_id: Any) -> str | None:
    """The canonical text of a received rpc_id (servers echo ours unchanged; others may not), else None."""
    try:
        return str(rpc_id if isinstance(rpc_id, UUID) else UUID(rpc_id))
    except (TypeError, ValueError, AttributeError):
        return None


class _Malformed:
    """What a reply without a ``response`` object stores in its entry."""

    __slots__ = ("payload",)

    def __init__(self, payload: Any) -> None:
        self.payload = payload


#: How much of a malformed reply an error message or log line quotes (replies can be of any size).
_QUOTE = 200


def _quote(value: Any) -> str:
    """``repr(value)`` cut to ``_QUOTE`` characters."""
    text = repr(value)
    return text if len(text) <= _QUOTE else f"{text[:_QUOTE]}... ({len(text)} characters)"


def _parse_response(response: dict[str, Any], response_type: type[T]) -> T:
    if type(response) is not dict:
        payload = response.payload if isinstance(response, _Malformed) else response
        raise _errors.ServerUnknownError(f"the server's reply holds no response object: {_quote(payload)}")
    status = response.get("status", "ok")
    if status == "ok":
        if "status" in response:
            # The status key is the envelope's, not a field of the response model.
            response = {k: v for k, v in response.items() if k != "status"}
        try:
            return validate_as(response_type, response)
        except pydantic.ValidationError as exc:
            raise _errors.RPCValidationError.wrap(exc) from exc
    # A status that is not text (a list or an object is unhashable) is as unknown as a misspelt one.
    if type(status) is not str or status not in _Status.__members__:
        raise _errors.ServerUnknownError(
            f"the server answered with unknown status {_quote(status)}: {_quote(response)}"
        )
    try:
        error = RPCErrorResult.model_validate(response)
    except pydantic.ValidationError as exc:
        raise _errors.RPCValidationError.wrap(exc) from exc
    if error.status == _Status.error:
        raise _errors.RPCServerError(error.error or "")
    raise _ERRORS[error.status](error.exception or "")


class _Signal:
    """A one-shot event on a bare lock: set() wakes every waiter, later waits return at once.

    Cheaper than ``threading.Event`` (no Condition, no per-wait lock and waiter list): a caller thread
    waits on it for every blocking call, so its cost shows in calls/s with many caller threads.
    """

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = _thread.allocate_lock()
        self._lock.acquire()  # held = not set

    def set(self) -> None:
        try:
            self._lock.release()
        except RuntimeError:  # set already
            pass

    def is_set(self) -> bool:
        return not self._lock.locked()

    def wait(self, timeout: float | None = None) -> bool:
        if not self._lock.acquire(True, -1 if timeout is None else timeout):
            return False
        # Hand it on: the next waiter (or a later wait) passes, too.
        try:
            self._lock.release()
        except RuntimeError:  # a concurrent set() released it for us
            pass
        return True


class RPCEntry:
    """One sent call: wait for it with ``result()``, poll with ``done()``, give up with ``cancel()``.

    Usage::

        entry = core().rpc_client.rpc_non_blocking("backend", "auth", request)
        ...
        response = entry.result(AccessResponse)
    """

    __slots__ = (
        "_client",
        "_expect",
        "_id",
        "_parsed",
        "_start",
        "cancelled",
        "channel",
        "deadline",
        "ready",
        "response",
        "timeout",
        "timestamp",
        "type",
    )

    def __init__(
        self,
        timeout: float,
        rpc_id: UUID | None = None,
        *,
        channel: str = "",
        type: str = "",
        client: RPCClient | None = None,
    ) -> None:
        self.timestamp = time.time()  # send time (wall clock, informational)
        self._start = time.monotonic()
        self.timeout = float(timeout)
        self.deadline = self._start + self.timeout
        # The id as sent: canonical text, the pending table's key (``rpc_id`` makes the UUID on demand).
        self._id = new_rpc_id() if rpc_id is None else str(rpc_id)
        self.channel = channel
        self.type = type
        self.response: dict[str, Any] | None = None
        self.ready = _Signal()
        self.cancelled = False
        self._client = client
        # Blocking calls know their response type when sending: the receiving thread parses the reply
        # while it handles its burst, so the woken caller only returns (less GIL traffic per call).
        self._expect: builtins.type[pydantic.BaseModel] | None = None  # the parameter `type` shadows it
        self._parsed: tuple[Any, BaseException | None] | None = None

    @property
    def rpc_id(self) -> UUID:
        return UUID(self._id)

    def _set_response(
        self, response: Any, wake_later: Callable[[Callable[[], Any]], Any] | None = None
    ) -> None:
        """Store the reply, parse it for a blocking caller, and wake the waiters (at once, or through
        ``wake_later``, the dispatcher's ``after_burst``)."""
        self.response = response
        self._parse_ahead()
        if wake_later is None:
            self.ready.set()
        else:
            wake_later(self.ready.set)

    def done(self) -> bool:
        """True once a response was received."""
        return self.response is not None

    def cancel(self) -> None:
        """Give up on the call: waiters wake up and ``result()`` raises ``CancelError``."""
        self.cancelled = True
        if self._client is not None:
            self._client._pending.discard(self._id)
        self.ready.set()

    def result(self, response_type: type[T], timeout: float | None = None) -> T:
        """The response parsed as ``response_type``; raises an ``RPCClient.Exception`` subclass otherwise.

        ``timeout`` counts from the send time and can only shorten the call's timeout: a larger value
        warns and is limited (the response would be discarded by then anyway).
        """
        limit = self.timeout
        if timeout is not None:
            if timeout > self.timeout:
                warnings.warn(
                    f"cannot extend the timeout of an RPC after it was sent: waiting at most the original "
                    f"{self.timeout} s instead of {timeout} s",
                    UserWarning,
                    stacklevel=2,
                )
            else:
                limit = timeout
        if self.response is None and not self.cancelled:
            remaining = self._start + limit - time.monotonic()
            if remaining > 0:
                self.ready.wait(remaining)
        if self.cancelled:
            raise _errors.CancelError(f"RPC {self.channel}/{self.type} ({self.rpc_id}) was cancelled")
        response = self.response
        if response is None:
            raise _errors.RPCTimeoutError(
                f"RPC {self.channel}/{self.type} ({self.rpc_id}) got no response within {limit} s"
            )
        parsed = self._parsed
        if parsed is not None and self._expect is response_type:
            value, error = parsed
            if error is not None:
                raise error
            return value  # type: ignore[no-any-return]
        return _parse_response(response, response_type)

    def _parse_ahead(self) -> None:
        """Parse the response as the type the blocking caller waits for (in the receiving thread)."""
        expect = self._expect
        if expect is not None and self.response is not None:
            try:
                self._parsed = (_parse_response(self.response, expect), None)
            except _errors.RPCClientException as exc:
                self._parsed = (None, exc)
            except Exception as exc:
                # Never raise here: the waiting caller must be woken whatever the reply holds (an
                # exception escaping to the receiving thread left it waiting out its whole timeout).
                error = _errors.ServerUnknownError(f"the server's reply could not be read: {_quote(exc)}")
                self._parsed = (None, error)


class _Channel:
    __slots__ = ("handle", "ready")

    def __init__(self) -> None:
        self.handle: Any = None
        self.ready = threading.Event()


def _publish_through_running_core(message: Any, topic: str) -> None:
    running_core("an RPCClient built without publish=").publish(message, topic)


class RPCClient:
    """Calls RPCs of other services; the core builds one as ``core().rpc_client``.

    Usage::

        response = core().rpc_client.rpc("backend", "auth", AccessRequest(...), AccessResponse, timeout=5)

    The client is given the ``dispatcher`` that receives ``rpc-rep-<channel>`` (served by another thread)
    and ``publish(message, topic)`` that sends requests. All methods are thread-safe.
    """

    Exception = _errors.RPCClientException
    CancelError = _errors.CancelError
    ValidationError = _errors.RPCValidationError
    TimeoutError = _errors.RPCTimeoutError
    ServerHandlerError = _errors.ServerHandlerError
    ServerFilterError = _errors.ServerFilterError
    ServerValidationError = _errors.ServerValidationError
    RPCServerError = _errors.RPCServerError
    ServerUnknownError = _errors.ServerUnknownError
    RPCEntry: TypeAlias = RPCEntry

    def __init__(
        self,
        dispatcher: MessageDispatcher,
        publish: Publish | Iterable[str] | None = None,
        channels: Iterable[str] | None = None,
        default_timeout: float = 3.0,
        _warn: bool = True,
    ) -> None:
        if publish is not None and not callable(publish):
            # 12.x signature: RPCClient(dispatcher, channels, ...)
            channels, publish = publish, None
        if _warn:
            warnings.warn(
                "constructing an RPCClient yourself is deprecated: use core().rpc_client",
                DeprecationWarning,
                stacklevel=2,
            )
        if publish is None:
            # 12.x form RPCClient(dispatcher, channels=...): requests go out through the running core.
            publish = _publish_through_running_core
        self.dispatcher = dispatcher
        self._publish: Publish = publish
        self.default_timeout = default_timeout
        self._pending: PendingCalls[str, RPCEntry] = PendingCalls()
        self._channels: dict[str, _Channel] = {}
        # Channels whose subscription is set up: one set lookup per call instead of an Event check.
        self._ready_channels: set[str] = set()
        # The caller wakes when the loop has handled the burst its reply came in (see after_burst).
        self._wake_later: Callable[[Callable[[], Any]], Any] | None = getattr(dispatcher, "after_burst", None)
        self._lock = threading.Lock()
        self._late_log = RateLimitedLog(log, logging.ERROR)
        self.late_responses = 0
        for channel in channels or ():
            self.register_channel(channel)

    # -- channels -----------------------------------------------------------------------------------
    @property
    def channels(self) -> list[str]:
        """Channels whose responses this client receives."""
        return list(self._channels)

    def register_channel(self, channel: str, timeout: float | None = None) -> None:
        """Receive responses of ``channel`` and wait (up to ``timeout``) until the subscription is live."""
        self._ensure_channel(
            channel, time.monotonic() + (timeout if timeout is not None else self.default_timeout)
        )

    def _ensure_channel(self, channel: str, deadline: float) -> None:
        state = self._channels.get(channel)
        if state is not None:
            if not state.ready.is_set():
                state.ready.wait(max(0.0, deadline - time.monotonic()))
            return
        with self._lock:
            state = self._channels.get(channel)
            owner = state is None
            if state is None:
                state = self._channels[channel] = _Channel()
        if not owner:
            state.ready.wait(max(0.0, deadline - time.monotonic()))
            return
        topic = channel_to_response_topic(channel)
        try:
            # Our own dispatcher hands over the received dict: receive() checks the few keys it reads
            # and the caller validates the payload, so the envelope is not parsed into a model first.
            if isinstance(self.dispatcher, MessageDispatcher):
                state.handle = self.dispatcher.register_handler(
                    topic, dict, self.receive, match_type=False, register_schema=False
                )
            else:
                state.handle = self.dispatcher.register_handler(
                    topic, RPCResponse, self.receive, match_type=False
                )
            # Subscriptions propagate asynchronously: a ping through the broker proves ours is live, so
            # the first response cannot be lost. Bounded by the call's own timeout.
            wait_for_connection(self._publish, self.dispatcher, max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            log.warning("the subscription of %s was not confirmed in time; sending anyway", topic)
        except BaseException:
            with self._lock:
                self._channels.pop(channel, None)
            if state.handle is not None:
                self.dispatcher.unregister_handler(state.handle)
            raise
        finally:
            if channel in self._channels:
                self._ready_channels.add(channel)
            state.ready.set()

    def unregister_channel(self, channel: str) -> None:
        """Stop receiving responses of ``channel`` (removes the dispatcher handler, too)."""
        with self._lock:
            state = self._channels.pop(channel, None)
            self._ready_channels.discard(channel)
        if state is not None and state.handle is not None:
            self.dispatcher.unregister_handler(state.handle)

    def shutdown(self) -> None:
        """Unregister every channel and cancel the calls still waiting (they raise ``CancelError``)."""
        for channel in list(self._channels):
            self.unregister_channel(channel)
        for entry in self._pending.drain():
            entry.cancelled = True
            entry.ready.set()

    # -- calls --------------------------------------------------------------------------------------
    def rpc_non_blocking(
        self,
        channel: str,
        type: str,
        request: pydantic.BaseModel | dict[str, Any] | None,
        timeout: float | None = None,
    ) -> RPCEntry:
        """Send a request and return its ``RPCEntry`` at once. Usage: ``entry = client.rpc_non_blocking(...)``."""
        return self._send(channel, type, request, timeout, 3)

    def _send(
        self,
        channel: str,
        type: str,
        request: pydantic.BaseModel | dict[str, Any] | None,
        timeout: float | None,
        stacklevel: int,
        expect: type[pydantic.BaseModel] | None = None,
    ) -> RPCEntry:
        assert isinstance(channel, str), f"RPC channels must be str, got {channel!r}"
        assert isinstance(type, str), f"RPC types must be str, got {type!r}"
        if isinstance(request, dict):
            warnings.warn(
                "RPC requests should be models; dict requests are deprecated",
                DeprecationWarning,
                stacklevel=stacklevel,
            )
            payload: dict[str, Any] | None = request
        elif request is None:
            payload = None
        else:
            payload = wire_dict(request)
        entry = RPCEntry(
            self.default_timeout if timeout is None else timeout, channel=channel, type=type, client=self
        )
        if channel not in self._ready_channels:
            self._ensure_channel(channel, entry.deadline)
        entry._expect = expect
        # Tracked before sending, so a fast response always finds its entry.
        self._pending.add(entry._id, entry)
        # The RPCRequest wire form, built directly: these values are ours and need no validation.
        message: dict[str, Any] = {
            "timestamp": entry.timestamp,
            "name": settings.NAME,
            "type": type,
            "rpc_id": entry._id,
        }
        if payload is not None:
            message["request"] = payload
        try:
            self._publish(message, channel_to_request_topic(channel))
        except BaseException:
            self._pending.discard(entry._id)
            raise
        return entry

    def rpc(
        self,
        channel: str,
        type: str,
        request: pydantic.BaseModel | dict[str, Any] | None,
        response_type: type[T],
        timeout: float | None = None,
    ) -> T:
        """Call and wait: the response parsed as ``response_type``.

        Usage: ``client.rpc("backend", "auth", AccessRequest(...), AccessResponse)``. Raises
        ``RPCClient.TimeoutError``, ``ServerHandlerError``, ... (all ``RPCClient.Exception``).
        """
        return self._send(channel, type, request, timeout, 3, response_type).result(
            response_type, timeout=timeout
        )

    def receive(self, response: RPCResponse | dict[str, Any]) -> None:
        """Stores an RPC response in the waiting call with the same rpc_id (others are ignored).

        Takes the ``RPCResponse`` or the received dict. A reply without a ``response`` object is logged
        and fails its call at once with ``ServerUnknownError`` (instead of a timeout).
        """
        if type(response) is dict:
            rpc_id = response.get("rpc_id")
            payload = response.get("response")
            kind, name = response.get("type"), response.get("name")
        else:
            rpc_id = response.rpc_id  # type: ignore[union-attr]
            payload = response.response  # type: ignore[union-attr]
            kind, name = response.type, response.name  # type: ignore[union-attr]
        if rpc_id is None:
            return
        # Our ids go out in canonical form and come back unchanged: one lookup, no parsing.
        key = rpc_id if type(rpc_id) is str else None
        entry = self._pending.pop(key) if key is not None else None
        if entry is None:
            canonical = _canonical_id(rpc_id)
            if canonical is None:
                return  # not an id of ours
            if canonical != key:
                key = canonical
                entry = self._pending.pop(key)
        if entry is None:
            return  # a response to another client on the same channel
        if entry is LATE:
            self.late_responses += 1
            self._late_log.log(
                "late RPC response dropped: %s %s (%s) arrived after its timeout",
                _quote(kind),
                key,
                _quote(name),
            )
            return
        if type(payload) is not dict:
            self._late_log.log(
                "malformed RPC response: %s %s (%s) has no response object: %s",
                _quote(kind),
                key,
                _quote(name),
                _quote(payload),
                key="malformed",
            )
            payload = _Malformed(payload)  # the caller gets a clear error now instead of a timeout
        entry._set_response(payload, self._wake_later)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"<RPCClient channels={self.channels} pending={len(self._pending)}>"
