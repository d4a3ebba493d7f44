from __future__ import annotations

import logging
import threading
import typing
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import Any, TypeVar

import zmq
from pydantic import BaseModel

from openmodule.config import is_testing
from openmodule.dispatcher._drops import LOG_ERRORS, DropLog, invalid_input_summary, safe_repr
from openmodule.dispatcher._executor import (
    BoundedExecutor,
    DummyExecutor,
    QueueFullError,
    handler_queue_limit,
    is_multi_threaded,
)
from openmodule.dispatcher._schema_hook import schema_recorder
from openmodule.models.base import keeps_pydantic_validate

Filter = Callable[[dict[str, Any]], bool] | Mapping[str, Any]
# What a handler receives: an instance of the registered model class, or the raw dict (message_class=dict).
_Message = TypeVar("_Message", bound=BaseModel | dict[str, Any])


def _record_schema(
    topic: str, message_class: type[BaseModel], handler: Callable[..., object], filter: Filter | None
) -> None:
    # The schema documents are a higher layer: it installs its recorder when imported (schema_hook).
    recorder = schema_recorder()
    if recorder is None or "Mock" in str(handler) or not is_testing():
        return
    recorder.save_message(topic, message_class, handler, filter)


class MessageListener:
    """A registration: handle returned by ``register_handler`` and accepted by ``unregister_handler``."""

    __slots__ = ("direct_validate", "filter", "handler", "message_class", "raw", "topic", "type")

    def __init__(
        self,
        topic: str,
        message_class: type[Any],  # a BaseModel subclass, or dict (raw)
        handler: Callable[[Any], Any],
        filter: Filter | None,
        type: str | None,
    ) -> None:
        self.topic = topic
        self.message_class = message_class
        self.handler = handler
        self.type = type
        # message_class=dict: the handler gets the received dict as it is (it checks what it reads).
        self.raw = message_class is dict
        # A class that keeps pydantic's own model_validate() is validated by calling its validator
        # directly (same arguments, without model_validate's Python wrapper: hot receive path);
        # an overridden model_validate() is always honoured.
        self.direct_validate = keeps_pydantic_validate(message_class)
        if isinstance(filter, Mapping):
            expected = dict(filter)
            self.filter: Callable[[dict[str, Any]], bool] | None = lambda message: all(
                k in message and message[k] == v for k, v in expected.items()
            )
        else:
            self.filter = filter

    def matches(self, message: dict[str, Any]) -> bool:
        if self.type is not None and message.get("type") != self.type:
            return False
        return self.filter is None or bool(self.filter(message))

    def __repr__(self) -> str:
        return f"<MessageListener {self.topic!r} {self.message_class.__name__} -> {self.handler!r}>"


class MessageDispatcher:
    """Routes received messages to handlers by exact topic, message type and optional filter.

    Usage::

        dispatcher = MessageDispatcher()
        handle = dispatcher.register_handler("topic", MyMessage, on_message)
        dispatcher.dispatch("topic", {"type": "my", "name": "x", "timestamp": 0})
        dispatcher.unregister_handler(handle)

    Handlers run through ``executor`` (default: synchronously, in the receiving thread). Validation errors
    and handler exceptions are logged (rate-limited), counted in ``drops.counts`` and dropped, unless the
    ``raise_*`` flags are set (tests).

    An executor holds at most ``queue_limit`` handler calls (queued or running; default: the
    ``HANDLER_QUEUE_LIMIT`` setting, 1000; 0: no limit): beyond that a message is counted as ``queue_full``
    and dropped. ``shutdown()`` cancels the calls that have not started.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        raise_validation_errors: bool = False,
        raise_handler_errors: bool = False,
        executor: Executor | None = None,
        queue_limit: int | None = None,
    ) -> None:
        assert executor is None or not (raise_validation_errors or raise_handler_errors), (
            "raise_validation_errors / raise_handler_errors cannot be combined with an executor"
        )
        self.name = name
        self.raise_validation_errors = raise_validation_errors
        self.raise_handler_errors = raise_handler_errors
        self.executor: Executor = executor or DummyExecutor()
        self.queue_limit = queue_limit
        # The executor behind its bound (made on first use: a dispatcher without a pool never needs one).
        self._bounded: BoundedExecutor | None = None
        self.log = logging.getLogger(f"openmodule.dispatcher.{name}" if name else "openmodule.dispatcher")
        self.drops = DropLog(self.log)
        # topic -> tuple of listeners; replaced (never mutated) so dispatch reads it without a lock.
        self._listeners: dict[str, tuple[MessageListener, ...]] = {}
        #: ``has_listeners_for(topic)``: does a handler listen on exactly ``topic``? A C-level call, cheap
        #: enough for a receive loop to ask per message (see ``drain_socket(wanted=...)``).
        self.has_listeners_for: Callable[[str], bool] = self._listeners.__contains__
        self._lock = threading.RLock()
        self._shutdown = False
        # Set by a receiving loop (MessageLoop) that calls flush_burst() before it blocks again.
        self._burst_thread: int | None = None
        self._burst: list[Callable[[], Any]] = []

    # -- registration -------------------------------------------------------------------------------
    def register_handler(
        self,
        topic: str,
        message_class: type[_Message],
        handler: Callable[[_Message], object],
        filter: Filter | None = None,
        match_type: bool = True,
        register_schema: bool = True,
        *,
        filter_: Filter | None = None,
    ) -> MessageListener:
        """Call ``handler(message_class instance)`` for each message on exactly ``topic``.

        ``message_class=dict`` hands over the received dict unvalidated (for hot paths that check the
        few keys they read themselves; ``match_type`` must then be False).
        ``match_type``: only messages whose ``type`` equals the class's ``type`` default (required).
        ``filter``: a callable on the raw dict, or a dict of key/values that must all be equal.
        Returns a handle for ``unregister_handler``.
        """
        assert isinstance(topic, str), f"topic must be a str, not {type(topic).__name__}"
        if filter is None:
            filter = filter_
        message_type: str | None = None
        if match_type:
            field = getattr(message_class, "model_fields", {}).get("type")
            message_type = getattr(field, "default", None) if field is not None else None
            assert message_type and isinstance(message_type, str), (
                f"{message_class.__name__} cannot be matched by type: its class definition does not set a "
                '`type` field (give it a default, e.g. `type: str = "my-type"`, or register with '
                "match_type=False to receive all types)"
            )
        if register_schema and message_class is not dict:  # a raw dict has no schema to record
            _record_schema(topic, typing.cast(type[BaseModel], message_class), handler, filter)
        listener = MessageListener(topic, message_class, handler, filter, message_type)
        with self._lock:
            current = self._listeners.get(topic, ())
            self._listeners[topic] = (*current, listener)
            if not current:
                self._subscribe(topic)
        return listener

    register = register_handler

    def unregister_handler(self, listener: MessageListener) -> None:
        """Remove a registration; the topic's subscription goes with its last handler."""
        with self._lock:
            for topic, listeners in list(self._listeners.items()):
                if listener in listeners:
                    remaining = tuple(x for x in listeners if x is not listener)
                    if remaining:
                        self._listeners[topic] = remaining
                    else:
                        del self._listeners[topic]
                        self._unsubscribe(topic)

    def _subscribe(self, topic: str) -> None:
        pass

    def _unsubscribe(self, topic: str) -> None:
        pass

    @property
    def topics(self) -> list[str]:
        """Topics with at least one handler."""
        return list(self._listeners)

    def listeners(self, topic: str) -> tuple[MessageListener, ...]:
        return self._listeners.get(topic, ())

    # -- dispatch -----------------------------------------------------------------------------------
    def dispatch(self, topic: str, message: dict[str, Any] | BaseModel) -> None:
        """Hand ``message`` to every matching handler of exactly ``topic`` (dropped after shutdown)."""
        listeners = self._listeners.get(topic)
        if not listeners or self._shutdown:
            return
        if type(message) is not dict and isinstance(message, BaseModel):
            message = message.model_dump(by_alias=True, exclude_none=True)
        for listener in listeners:
            # The type check of matches() inlined (it cannot raise): one call less per message.
            if listener.type is not None and message.get("type") != listener.type:
                continue
            message_filter = listener.filter
            if message_filter is not None:
                try:
                    matched = bool(message_filter(message))
                except zmq.ContextTerminated:
                    raise
                except Exception as exc:
                    self.drops.drop(
                        "filter_error",
                        topic,
                        f"filter of {safe_repr(listener)} raised {safe_repr(exc)}",
                        exc_info=True,
                    )
                    continue
                if not matched:
                    continue
            executor = self.executor
            if type(executor) is DummyExecutor:
                if executor._shutdown:  # the is_shutdown property, read without a call
                    return
                self.execute(listener, message)
            else:
                bounded = self._bounded
                if bounded is None or bounded.executor is not executor:
                    bounded = self._bound(executor)
                try:
                    bounded.submit(self.execute, listener, message)
                except QueueFullError as exc:
                    # The workers are that far behind: dropping here keeps memory bounded (an unbounded
                    # pool queue grew by 700 MB in seconds under a flood).
                    self.drops.drop("queue_full", topic, f"{exc}: handler call dropped (HANDLER_QUEUE_LIMIT)")
                except RuntimeError:  # executor shut down while we were receiving: drop quietly
                    return

    def execute(self, listener: MessageListener, message: dict[str, Any]) -> None:
        """Parse ``message`` into the listener's class and call its handler."""
        try:
            if listener.raw:
                parsed: Any = message
            elif listener.direct_validate:
                parsed = listener.message_class.__pydantic_validator__.validate_python(message)
            else:
                parsed = listener.message_class.model_validate(message)
        except Exception as exc:
            # Any failure to build the model is bad input, not only pydantic's ValidationError: a
            # custom validator may raise anything, and it must never end the receiving thread.
            if self.raise_validation_errors:
                raise
            # Where and why, never the values (they can hold personal data) and bounded in size.
            self.drops.drop(
                "validation_error",
                listener.topic,
                f"validation error: invalid message for {listener.message_class.__name__}: "
                f"{invalid_input_summary(exc, LOG_ERRORS)}",
            )
            return
        try:
            listener.handler(parsed)
        except zmq.ContextTerminated:
            raise
        except Exception as exc:
            if self.raise_handler_errors:
                raise
            self.drops.drop(
                "handler_error",
                listener.topic,
                f"handler {safe_repr(listener.handler)} raised {safe_repr(exc)}",
                exc_info=True,
            )

    # -- bursts -------------------------------------------------------------------------------------
    def after_burst(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` once the receiving thread has handled the messages waiting now.

        Usage (in a handler)::  ``dispatcher.after_burst(waiter.wake)``

        For handlers that wake other threads: a woken thread competes for the GIL with the receiving
        thread, so waking them together before the loop blocks again (instead of after each message)
        keeps a burst of replies from being handled one thread switch at a time. Outside a receiving
        loop's thread (no loop, or a handler on an executor) the callback runs at once.
        """
        if self._burst_thread is not None and self._burst_thread == threading.get_ident():
            self._burst.append(callback)
        else:
            callback()

    def begin_bursts(self) -> None:
        """Called by the receiving thread: from now on it calls ``flush_burst()`` after every burst."""
        self._burst_thread = threading.get_ident()

    def end_bursts(self) -> None:
        """Called by the receiving thread when it stops: run what is deferred, defer nothing more."""
        self._burst_thread = None
        self.flush_burst()

    def flush_burst(self) -> None:
        """Run the callbacks deferred by ``after_burst`` (a failing one is logged and counted)."""
        burst = self._burst
        while burst:
            callbacks = burst[:]
            burst.clear()
            for callback in callbacks:
                try:
                    callback()
                except Exception as exc:
                    self.drops.drop(
                        "handler_error",
                        "after_burst",
                        f"{safe_repr(callback)} raised {safe_repr(exc)}",
                        exc_info=True,
                    )

    # -- executor -----------------------------------------------------------------------------------
    def _bound(self, executor: Executor) -> BoundedExecutor:
        with self._lock:
            bounded = self._bounded
            if bounded is None or bounded.executor is not executor:
                limit = self.queue_limit if self.queue_limit is not None else handler_queue_limit()
                bounded = self._bounded = BoundedExecutor(executor, limit)
            return bounded

    @property
    def queued(self) -> int:
        """Handler calls submitted to the executor and not finished (0 without a pool)."""
        bounded = self._bounded
        return 0 if bounded is None else bounded.pending

    @property
    def is_multi_threaded(self) -> bool:
        return is_multi_threaded(self.executor)

    def shutdown(self, wait: bool = True) -> None:
        """Stop handing out messages and shut the executor down; calls not started yet are cancelled
        (a backlog is dropped, never worked through on the way out)."""
        self._shutdown = True
        bounded = self._bounded
        if bounded is not None and bounded.executor is self.executor:
            bounded.shutdown(wait=wait, cancel_futures=True)
        else:
            self.executor.shutdown(wait=wait)


class SubscribingMessageDispatcher(MessageDispatcher):
    """A dispatcher that calls ``subscribe(topic)`` when a topic gets its first handler and
    ``unsubscribe(topic)`` when it loses its last one.

    Usage::  ``SubscribingMessageDispatcher(lambda t: sock.subscribe(t), unsubscribe=lambda t: sock.unsubscribe(t))``
    """

    def __init__(
        self,
        subscribe: Callable[[str], Any],
        name: str | None = None,
        *,
        raise_validation_errors: bool = False,
        raise_handler_errors: bool = False,
        unsubscribe: Callable[[str], Any] | None = None,
        executor: Executor | None = None,
        queue_limit: int | None = None,
    ) -> None:
        super().__init__(
            name,
            raise_validation_errors=raise_validation_errors,
            raise_handler_errors=raise_handler_errors,
            executor=executor,
            queue_limit=queue_limit,
        )
        self._subscribe_cb = subscribe
        self._unsubscribe_cb = unsubscribe

    def _subscribe(self, topic: str) -> None:
        self._subscribe_cb(topic)

    def _unsubscribe(self, topic: str) -> None:
        if self._unsubscribe_cb is None:
            self.log.warning("no unsubscribe callable: topic %r stays subscribed", topic)
        else:
            self._unsubscribe_cb(topic)


class ZMQMessageDispatcher(SubscribingMessageDispatcher):
    """A dispatcher that (un)subscribes a SUB socket directly; use it only from the socket's thread.

    Usage::  ``dispatcher = ZMQMessageDispatcher(sub_socket)`` (``MessageLoop`` is the thread-safe form).
    """

    def __init__(
        self,
        sub_socket: zmq.Socket[Any],
        name: str | None = None,
        *,
        raise_validation_errors: bool = False,
        raise_handler_errors: bool = False,
        executor: Executor | None = None,
        queue_limit: int | None = None,
    ) -> None:
        super().__init__(
            lambda topic: sub_socket.setsockopt(zmq.SUBSCRIBE, topic.encode("utf-8")),
            name,
            raise_validation_errors=raise_validation_errors,
            raise_handler_errors=raise_handler_errors,
            unsubscribe=lambda topic: sub_socket.setsockopt(zmq.UNSUBSCRIBE, topic.encode("utf-8")),
            executor=executor,
            queue_limit=queue_limit,
        )
        self.sub_socket = sub_socket
