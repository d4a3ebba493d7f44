"""``RPCServer``: answers requests on ``rpc-req-<channel>`` with responses on ``rpc-rep-<channel>``."""

from __future__ import annotations

import builtins
import functools
import inspect
import json
import logging
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pydantic
import zmq

from openmodule.config import ServiceConfig, is_testing, settings
from openmodule.dispatcher import (
    BoundedExecutor,
    QueueFullError,
    RateLimitedLog,
    clip,
    handler_queue_limit,
    invalid_input_summary,
    safe_repr,
    schema_recorder,
)
from openmodule.messaging import Publisher, ReceiveLoop, find_publisher
from openmodule.models.base import validate_as, wire_dict
from openmodule.models.rpc import RPCRequest, RPCServerError
from openmodule.rpc._filters import FilterEntry, RPCFilter, should_process
from openmodule.rpc._topics import REQUEST_PREFIX, RESPONSE_PREFIX, channel_to_request_topic

log = logging.getLogger("openmodule.rpc.server")

_POLL_MS = 1000
_PREFIX_LENGTH = len(REQUEST_PREFIX)


@dataclass(frozen=True, slots=True)
class RPCHandler:
    """A registered handler: what filters receive as ``handler=``."""

    channel: str
    type: str
    # builtins.type: the field `type` above shadows the builtin in the class body.
    request_class: builtins.type[pydantic.BaseModel]
    response_class: builtins.type[pydantic.BaseModel]
    handler: Callable[..., Any]
    # README handlers take only the request; the reference always passes (request, message).
    takes_message: bool = True


def _takes_message(handler: Callable[..., Any]) -> bool:
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):
        return True
    positional = 0
    for param in signature.parameters.values():
        if param.kind is param.VAR_POSITIONAL:
            return True
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            positional += 1
    return positional != 1


def _check_docstring(handler: Callable[..., Any]) -> None:
    target = handler
    while isinstance(target, functools.partial):
        target = target.func
    if "Mock" in str(target):
        return
    assert getattr(target, "__doc__", None), (
        f"You need to describe the RPC handler {target!r} with a docstring: it becomes the description "
        "in the generated schema (or register it with register_schema=False)"
    )


def _record_schema(
    channel: str,
    type: str,
    request_class: builtins.type[pydantic.BaseModel],
    response_class: builtins.type[pydantic.BaseModel],
    handler: Callable[..., Any],
) -> None:
    """In TESTING, record the RPC for the schema docs (the recorder ``openmodule.utils.schema`` installs when
    it is imported), or without one at least insist on the docstring the schema would need."""
    if not is_testing():
        return
    recorder = schema_recorder()
    if recorder is not None:
        recorder.save_rpc(channel, type, request_class, response_class, handler)
    else:
        _check_docstring(handler)


#: Characters of a request's own text (type, resource) that a log line quotes.
_QUOTE = 64
#: Validation errors a log line lists (a validation_error reply lists up to 10).
_LOG_ERRORS = 3


def _is_canonical_id(value: Any) -> bool:
    """True for text that is exactly ``str(UUID(value))`` (called after the envelope validated)."""
    return (
        type(value) is str
        and len(value) == 36
        and value[8] == value[13] == value[18] == value[23] == "-"
        and value == value.lower()
    )


def _readable_id(value: Any) -> str | None:
    """The canonical text of a request's rpc_id if it is a UUID, else None (for a failed envelope)."""
    if _is_canonical_id(value):
        return value  # type: ignore[no-any-return]
    if type(value) is str and len(value) <= 45:  # the longest spelling UUID() reads ("urn:uuid:" + 36)
        try:
            return str(UUID(value))
        except ValueError:
            return None
    return None


class _PublishFrames:
    """``send_multipart([topic, body])`` on top of a ``publish(message, topic)`` callable."""

    def __init__(self, publish: Callable[[Any, str], Any]) -> None:
        self._publish = publish

    def send_multipart(self, frames: Any) -> None:
        topic, body = frames
        self._publish(json.loads(body), bytes(topic).decode("utf-8"))


class RPCServer:
    """Serves RPCs registered with ``register_handler`` on its own SUB socket and thread.

    Usage::

        rpc = RPCServer(context=core.context)                  # or RPCServer(context, publish=core.publish)
        rpc.add_filter(backend_filter, "backend", "auth")
        rpc.register_handler("backend", "auth", AccessRequest, AccessResponse, handler)
        rpc.run_as_thread()                                     # or rpc.run() (blocking)
        ...
        rpc.shutdown()

    Handlers are called as ``handler(request, message)`` (or ``handler(request)`` if they take one
    argument) and return the response model, a dict or None. With an ``executor`` at most
    ``HANDLER_QUEUE_LIMIT`` requests (setting, default 1000) wait for or run on it; further ones are
    counted as ``counts["queue_full"]`` and dropped, and ``shutdown()`` cancels those not started.
    """

    def __init__(
        self,
        context: zmq.Context[Any],
        config: ServiceConfig | None = None,
        *,
        filter_resource: bool = True,
        executor: Executor | None = None,
        publish: Callable[[Any, str], Any] | None = None,
    ) -> None:
        if config:
            warnings.warn(
                "RPCServer(config=...) is deprecated: the server reads openmodule.config.settings",
                DeprecationWarning,
                stacklevel=2,
            )
        self.config = config if config else None
        self.context = context
        self.filter_resource = filter_resource
        self.executor = executor
        # At most HANDLER_QUEUE_LIMIT requests wait for (or run on) the executor; the rest are dropped.
        self._bounded = (
            BoundedExecutor(executor, handler_queue_limit(self._config)) if executor is not None else None
        )
        self.handlers: dict[tuple[str, str], RPCHandler] = {}
        self.filters: list[FilterEntry] = []
        self.registered_channels: set[str] = set()
        # Request topics of registered channels: the receive loop skips longer topics unread (ZeroMQ
        # subscriptions are prefixes: "rpc-req-ab" also delivers "rpc-req-abc").
        self._request_topics: set[str] = set()
        self.counts: Counter[str] = Counter()
        self._bad_input = RateLimitedLog(log, logging.WARNING)
        self._errors = RateLimitedLog(log, logging.ERROR)
        self._lock = threading.Lock()
        self._own_publisher: Publisher | None = None
        if publish is None:
            self._own_publisher = Publisher(context, self._config)
            publish = self._own_publisher.publish
        self._publish = publish
        # The caller subscribes its reply topic just before its first request: the publisher must take
        # that subscription in before the reply goes out, or the reply is dropped (see refresh_subscriptions).
        self._reply_publisher = self._own_publisher or find_publisher(publish)
        # The request loop: its own SUB socket and thread (the one receive loop of openmodule.messaging).
        self._receiver = ReceiveLoop(
            context,
            self._config,
            self._handle,
            name="rpc-server",
            wanted=self._request_topics.__contains__,
            # A timeout as in the reference: the stop flag is seen even if a wake-up were lost.
            poll_timeout_ms=_POLL_MS,
            on_context_terminated=self._context_terminated,
        )
        self.socket = self._receiver.socket
        if filter_resource and not self._setting("RESOURCE"):
            log.error(
                "RPC server filters by resource but RESOURCE is empty: all RPC requests will be processed"
            )

    @property
    def pub(self) -> Any:
        """What the server publishes its responses with, usable like the 12.x server's PUB socket.

        ``message.publish_on_topic(server.pub, "topic")`` / ``server.pub.send_multipart([topic, body])``
        work from any thread.
        """
        if self._own_publisher is not None:
            return self._own_publisher
        return _PublishFrames(self._publish)

    @property
    def _config(self) -> Any:
        return self.config if self.config is not None else settings

    def _setting(self, name: str) -> Any:
        return getattr(self._config, name, None)

    # -- registration -------------------------------------------------------------------------------
    def register_handler(
        self,
        channel: str,
        type: str,
        request_class: type[pydantic.BaseModel],
        response_class: type[pydantic.BaseModel],
        handler: Callable[..., Any],
        register_schema: bool = True,
    ) -> None:
        """Serve ``type`` on ``channel``; a second handler for the same pair raises ``ValueError``.

        Usage: ``server.register_handler("backend", "auth", AccessRequest, AccessResponse, on_auth)``
        """
        assert isinstance(channel, str), f"RPC channels must be str, got {channel!r}"
        assert isinstance(type, str), f"RPC types must be str, got {type!r}"
        with self._lock:
            if (channel, type) in self.handlers:
                raise ValueError(
                    f"an RPC handler for channel {channel!r} type {type!r} is already registered"
                )
            if register_schema:
                _record_schema(channel, type, request_class, response_class, handler)
            self.handlers[(channel, type)] = RPCHandler(
                channel, type, request_class, response_class, handler, _takes_message(handler)
            )
            if channel not in self.registered_channels:
                self.registered_channels.add(channel)
                topic = channel_to_request_topic(channel)
                self._request_topics.add(topic)
                self._receiver.subscribe(topic)

    def add_filter(self, filter: RPCFilter, channel: str | None = None, type: str | None = None) -> None:
        """Add a filter for ``channel``/``type`` (``None`` = any).

        A request is processed if any applicable filter returns truthy, or if no filter applies.
        Filters are called as ``filter(request=..., message=..., handler=...)``.
        Usage: ``server.add_filter(lambda request, **_: request.gate == "in", "backend", "auth")``
        """
        self.filters.append(FilterEntry(filter, channel, type))

    def find_handler(self, channel: str, type: str) -> RPCHandler | None:
        """The handler registered for ``channel``/``type``, or None."""
        return self.handlers.get((channel, type))

    # -- processing ---------------------------------------------------------------------------------
    def _respond(self, channel: str, type: str, rpc_id: Any, response: dict[str, Any]) -> None:
        # The RPCResponse wire form, built directly: these values are ours and need no validation.
        config = self.config
        name = getattr(config, "NAME", None) if config is not None else None
        message: dict[str, Any] = {"timestamp": time.time(), "name": name or settings.NAME, "type": type}
        if rpc_id is not None:
            message["rpc_id"] = rpc_id if isinstance(rpc_id, str) else str(rpc_id)
        message["response"] = response
        if self._reply_publisher is not None:
            self._reply_publisher.refresh_subscriptions()
        self._publish(message, RESPONSE_PREFIX + channel)

    def _error(self, channel: str, type: str, rpc_id: Any, status: RPCServerError, exception: str) -> None:
        self.counts[status.value] += 1
        self._respond(channel, type, rpc_id, {"status": status.value, "exception": exception})

    def process_rpc(self, channel: str, message: dict[str, Any]) -> None:
        """Handle one request dict received on ``rpc-req-<channel>``; never raises."""
        try:
            self._process(channel, message)
        except zmq.ContextTerminated:
            raise
        except Exception as exc:
            self.counts["error"] += 1
            self._errors.log(
                "RPC on channel %s failed, no answer sent: %s",
                channel,
                safe_repr(exc),
                key="unexpected",
                exc_info=True,
            )

    def _process(self, channel: str, message: dict[str, Any]) -> None:
        # Each step answers (or drops) a request it cannot pass on, and then returns None.
        request = self._envelope(channel, message)
        if request is None or self._for_another_resource(channel, request):
            return
        # The id is echoed as text: the request's own text when it is canonical (the common case),
        # else the UUID's canonical form.
        raw_id = message.get("rpc_id")
        rpc_id: Any = raw_id if _is_canonical_id(raw_id) else request.rpc_id
        entry = self._handler_for(channel, request)
        if entry is None:
            return
        payload = self._payload(channel, request, entry, rpc_id)
        if payload is None:
            return
        if self.filters and not self._accepted(channel, request, entry, payload, rpc_id):
            return
        if log.isEnabledFor(logging.DEBUG):  # per request: DEBUG only, and never the payload
            log.debug("received RPC %s/%s", channel, request.type)
        response = self._call(channel, request, entry, payload, rpc_id)
        if response is not None:
            response["status"] = "ok"
            self.counts["ok"] += 1
            self._respond(channel, request.type, rpc_id, response)

    def _envelope(self, channel: str, message: dict[str, Any]) -> RPCRequest | None:
        """The request envelope, or None after answering ``validation_error``."""
        try:
            return validate_as(RPCRequest, message)
        except Exception as exc:  # any conversion failure is the caller's bad input, not ours
            # Reply and log say where and why, never the values (personal data, any size).
            self._bad_input.log(
                "invalid RPC request envelope on channel %s: %s",
                channel,
                invalid_input_summary(exc, _LOG_ERRORS),
                key="envelope",
            )
            # The caller's id when it is readable (an out-of-range timestamp spoils the envelope, not the
            # id): its call fails at once instead of timing out.
            reply_id = _readable_id(message.get("rpc_id"))
            self._error(
                channel, "unknown", reply_id, RPCServerError.validation_error, invalid_input_summary(exc)
            )
            return None

    def _for_another_resource(self, channel: str, request: RPCRequest) -> bool:
        """True (counted, not answered) for a request to another device's resource."""
        if not (self.filter_resource and request.resource):
            return False
        resource = self._setting("RESOURCE")
        if not resource or request.resource == resource:
            return False
        log.debug(
            "ignoring RPC %s/%s for resource %s",
            channel,
            clip(request.type, _QUOTE),
            clip(request.resource, _QUOTE),
        )
        self.counts["other_resource"] += 1
        return True

    def _handler_for(self, channel: str, request: RPCRequest) -> RPCHandler | None:
        """The handler of the request's type, or None (counted, logged, not answered)."""
        entry = self.handlers.get((channel, request.type))
        if entry is None:
            self.counts["no_handler"] += 1
            self._bad_input.log(
                "no RPC handler for channel %s type %s",
                channel,
                clip(request.type, _QUOTE),
                key=f"nohandler:{channel}",
            )
        return entry

    def _payload(
        self, channel: str, request: RPCRequest, entry: RPCHandler, rpc_id: Any
    ) -> pydantic.BaseModel | None:
        """The request as the handler's request class, or None after answering ``validation_error``."""
        try:
            # A missing or null payload is an empty request (12.x crashed on it and never answered).
            return validate_as(entry.request_class, request.request or {}, by_alias=True, by_name=True)
        except Exception as exc:
            self._bad_input.log(
                "invalid RPC request %s/%s: %s",
                channel,
                request.type,
                invalid_input_summary(exc, _LOG_ERRORS),
                key=f"request:{channel}",
            )
            self._error(
                channel, request.type, rpc_id, RPCServerError.validation_error, invalid_input_summary(exc)
            )
            return None

    def _accepted(
        self, channel: str, request: RPCRequest, entry: RPCHandler, payload: pydantic.BaseModel, rpc_id: Any
    ) -> bool:
        """Whether the filters let the request through; a raising filter is answered ``filter_error``."""
        try:
            accepted = should_process(
                self.filters, channel, request.type, request=payload, message=request, handler=entry
            )
        except Exception as exc:
            self._errors.log(
                "RPC filter raised for %s/%s",
                channel,
                request.type,
                key=f"filter:{channel}",
                exc_info=True,
            )
            self._error(channel, request.type, rpc_id, RPCServerError.filter_error, clip(exc))
            return False
        if not accepted:
            self.counts["filtered"] += 1
            log.debug("RPC %s/%s rejected by the filters", channel, request.type)
        return accepted

    def _call(
        self, channel: str, request: RPCRequest, entry: RPCHandler, payload: pydantic.BaseModel, rpc_id: Any
    ) -> dict[str, Any] | None:
        """The handler's response in wire form, or None after answering ``handler_error``."""
        try:
            if entry.takes_message:
                result = entry.handler(payload, request)
            else:
                result = entry.handler(payload)
            response_class = entry.response_class
            if not isinstance(result, response_class):
                result = validate_as(response_class, {} if result is None else result)
            response = wire_dict(result)
            if "status" in response:
                raise ValueError(
                    f"the response of RPC {channel}/{request.type} has a top-level 'status' field, which is "
                    "reserved for the RPC status: rename the field"
                )
            return response
        except zmq.ContextTerminated:
            raise
        except Exception as exc:
            self._errors.log(
                "RPC handler %s/%s raised", channel, request.type, key=f"handler:{channel}", exc_info=True
            )
            # A response that failed its model is described like invalid input (it may hold personal data).
            text = invalid_input_summary(exc) if isinstance(exc, pydantic.ValidationError) else clip(exc)
            self._error(channel, request.type, rpc_id, RPCServerError.handler_error, text)
            return None

    def _handle(self, topic: str, message: dict[str, Any]) -> None:
        # Subscriptions are prefix matches: "rpc-req-ab" also delivers "rpc-req-abc" (the receive loop
        # skips those unread with the same set; this guards every other way in).
        if topic not in self._request_topics:
            return
        channel = topic[_PREFIX_LENGTH:]
        bounded = self._bounded
        if bounded is None:
            self.process_rpc(channel, message)
            return
        try:
            bounded.submit(self.process_rpc, channel, message)
        except QueueFullError as exc:
            # The workers are that far behind: a request more would only grow memory (an unbounded
            # queue took 700 MB in seconds under a flood). The caller times out as it would on a lost one.
            self.counts["queue_full"] += 1
            self._bad_input.log(
                "RPC request on channel %s dropped: %s (HANDLER_QUEUE_LIMIT)", channel, exc, key="queue_full"
            )
        except RuntimeError:
            self.counts["after_shutdown"] += 1
            log.debug("RPC on %s dropped: the server is shutting down", channel)

    # -- loop ---------------------------------------------------------------------------------------
    def run(self) -> None:
        """Serve requests in the calling thread until ``shutdown()``."""
        self._receiver.run()

    def _context_terminated(self) -> None:
        # The context is being terminated (the process or a test broker is stopping without calling
        # shutdown()): nothing can be sent any more, and an open socket would block the termination.
        if self._own_publisher is not None:
            self._own_publisher.close(0)

    def run_as_thread(self) -> threading.Thread:
        """Start ``run()`` in a daemon thread (only once) and return the thread."""
        assert self._receiver.thread is None, "the RPC server runs already"
        return self._receiver.start()

    def shutdown(self, timeout: float = 10) -> None:
        """Stop serving: cancel the requests still waiting for the executor, wait for the running ones,
        join the thread, close sockets."""
        self._receiver.request_stop()
        if self._bounded is not None:
            # A backlog is dropped, never worked through on the way out.
            self._bounded.shutdown(wait=True, cancel_futures=True)
        self._receiver.join(timeout)
        if self._own_publisher is not None:
            self._own_publisher.close()
