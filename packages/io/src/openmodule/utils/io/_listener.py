from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import zmq

from openmodule.dispatcher import MessageDispatcher
from openmodule.models.base import Gateway
from openmodule.models.io import IO_TOPIC, IoMessage, IoState

log = logging.getLogger("openmodule.utils.io")

IoCallback = Callable[[IoState], Any]


class _Edge(Enum):
    rising = "rising"
    falling = "falling"
    any = "any"
    none = "none"

    def matches(self, edge: int, value: int) -> bool:
        if self is _Edge.none:
            return edge == 0
        if edge != 1:
            return False
        if self is _Edge.rising:
            return value == 1
        if self is _Edge.falling:
            return value == 0
        return True


@dataclass(frozen=True)
class _Registration:
    edge: _Edge
    listen_to: str | Gateway
    io_type: str | None
    callback: IoCallback

    def wants(self, state: IoState) -> bool:
        if self.io_type is not None and state.type != self.io_type:
            return False
        if isinstance(self.listen_to, Gateway):
            # Only the gate counts: an IO board reports the direction it was configured with, which
            # need not be the one a service thinks of.
            return state.gateway.gate == self.listen_to.gate
        return state.pin == self.listen_to


@dataclass
class _Pin:
    state: IoState
    received: float  # time.monotonic() of the last message


class IoListener:
    """Keeps the last state of every pin reported on ``io`` and calls callbacks on edges.

    ``dispatcher`` must be single-threaded (``core.messages``): edges are derived from the order of the
    messages. Callbacks get the pin's new :class:`IoState`. A message whose value or inversion differs from
    the known state, and the first message of a pin, count as an edge (``edge=1``) even if the sender said
    ``edge=0``, so a missed message never hides a change.

    Usage::

        io = IoListener(core.messages)
        io.add_listener_edge_rising("gate_1_button", lambda state: open_gate())
        io.add_listener_edge_any(Gateway(gate="gate_1"), on_any_pin_of_gate_1, io_type="input")
        io.get_pin_state("gate_1_cloop").value

    A callback that raises is logged and the others still run (``raise_handler_errors=True`` lets the
    exception through to the dispatcher instead, for tests). Messages that do not validate (an empty or
    missing pin, a value that is not a number) are logged and counted by the dispatcher
    (``dispatcher.drops``) and change no state.
    """

    def __init__(self, dispatcher: MessageDispatcher, raise_handler_errors: bool = False) -> None:
        assert not getattr(dispatcher, "is_multi_threaded", False), (
            "IoListener needs a single-threaded dispatcher: IO messages must be handled in order"
        )
        self.dispatcher = dispatcher
        self.raise_handler_errors = raise_handler_errors
        self.log = log
        # Per instance (the reference kept these on the class, so two listeners shared one state).
        self._pins: dict[str, _Pin] = {}
        self._registrations: tuple[_Registration, ...] = ()
        self._lock = threading.Lock()
        self._handle = dispatcher.register_handler(IO_TOPIC, IoMessage, self._on_message, match_type=False)

    # -- listeners ----------------------------------------------------------------------------------
    def add_listener_edge_rising(
        self, listen_to: str | Gateway, callback: IoCallback, io_type: str | None = None
    ) -> None:
        """Call ``callback(state)`` when the pin (or any pin of the gate ``listen_to``) changes to 1."""
        self._add(_Edge.rising, listen_to, callback, io_type)

    def add_listener_edge_falling(
        self, listen_to: str | Gateway, callback: IoCallback, io_type: str | None = None
    ) -> None:
        """Call ``callback(state)`` when the pin (or any pin of the gate ``listen_to``) changes to 0."""
        self._add(_Edge.falling, listen_to, callback, io_type)

    def add_listener_edge_any(
        self, listen_to: str | Gateway, callback: IoCallback, io_type: str | None = None
    ) -> None:
        """Call ``callback(state)`` on every change of the pin (or of any pin of the gate ``listen_to``)."""
        self._add(_Edge.any, listen_to, callback, io_type)

    def add_listener_edge_none(
        self, listen_to: str | Gateway, callback: IoCallback, io_type: str | None = None
    ) -> None:
        """Call ``callback(state)`` on every message that repeats the known state (no change)."""
        self._add(_Edge.none, listen_to, callback, io_type)

    def remove_listener(self, callback: IoCallback) -> None:
        """Remove every registration of ``callback``."""
        with self._lock:
            self._registrations = tuple(r for r in self._registrations if r.callback is not callback)

    def _add(self, edge: _Edge, listen_to: str | Gateway, callback: IoCallback, io_type: str | None) -> None:
        if not isinstance(listen_to, str | Gateway):
            raise TypeError(f"listen_to must be a pin name or a Gateway, not {type(listen_to).__name__}")
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {callback!r}")
        registration = _Registration(edge, listen_to, None if io_type is None else str(io_type), callback)
        with self._lock:
            self._registrations = (*self._registrations, registration)

    # -- queries ------------------------------------------------------------------------------------
    def get_pin_state(self, pin: str) -> IoState:
        """The last known state of ``pin``; the all-zero default state if it was never reported."""
        with self._lock:
            known = self._pins.get(pin)
            return known.state.model_copy() if known else IoState()

    def is_pin_valid(self, pin: str, timeout: float = 5) -> bool:
        """Was ``pin`` reported within the last ``timeout`` seconds (time of receipt)?"""
        with self._lock:
            known = self._pins.get(pin)
            return known is not None and time.monotonic() - known.received <= timeout

    def get_gateway_states(self, gateway: Gateway) -> list[IoState]:
        """The states of every pin of ``gateway``'s gate in the order they were first reported
        (``[IoState()]``, one default state, if the gate has no pins)."""
        with self._lock:
            states = [
                p.state.model_copy() for p in self._pins.values() if p.state.gateway.gate == gateway.gate
            ]
        return states or [IoState()]

    def is_gateway_valid(self, gateway: Gateway, timeout: float = 5) -> bool:
        """Was any pin of ``gateway``'s gate reported within the last ``timeout`` seconds?"""
        now = time.monotonic()
        with self._lock:
            return any(
                now - p.received <= timeout
                for p in self._pins.values()
                if p.state.gateway.gate == gateway.gate
            )

    @property
    def pins(self) -> list[str]:
        """Every pin reported so far."""
        with self._lock:
            return list(self._pins)

    def shutdown(self) -> None:
        """Stop listening (unregisters the ``io`` handler)."""
        self.dispatcher.unregister_handler(self._handle)

    # -- message handling ---------------------------------------------------------------------------
    def _on_message(self, message: IoMessage) -> None:
        """The state of an IO pin, published by IO services when it changes or to refresh it."""
        with self._lock:
            known = self._pins.get(message.pin)
            changed = (
                known is None
                or known.state.value != message.value
                or known.state.inverted != message.inverted
            )
            edge = 1 if changed else message.edge
            physical = message.physical
            if physical is None:  # derive it only when the sender did not say
                physical = 1 - message.value if message.inverted else message.value
            state = IoState(
                gateway=message.gateway,
                type=message.type,
                pin=message.pin,
                value=message.value,
                inverted=message.inverted,
                physical=physical,
                last_timestamp=message.timestamp,
            )
            self._pins[message.pin] = _Pin(state, time.monotonic())
            registrations = self._registrations
        for registration in registrations:
            if registration.wants(state) and registration.edge.matches(edge, state.value):
                self._call(registration.callback, state)

    def _call(self, callback: IoCallback, state: IoState) -> None:
        try:
            callback(state.model_copy())
        except zmq.ContextTerminated:
            raise
        except Exception:
            if self.raise_handler_errors:
                raise
            self.log.exception("IO callback %r failed for pin %s", callback, state.pin)
