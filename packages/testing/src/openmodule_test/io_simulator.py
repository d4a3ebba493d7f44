"""``IoSimulator``: plays an IO service, emitting ``IoMessage``s for pin changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openmodule.models.base import Direction, Gateway
from openmodule.models.io import IoMessage, IoState, IoType

__all__ = ["IoSimulator", "generate_example_states"]

_KINDS = (("button", IoType.input), ("cloop", IoType.input), ("ploop", IoType.input), ("gate", IoType.output))


def _physical(value: int, inverted: bool) -> int:
    return 1 - value if inverted else value


def generate_example_states(count: int = 8) -> dict[str, IoState]:
    """``count`` pins, four per gate ``n`` (index // 4): inputs ``gate_<n>_button``, ``gate_<n>_cloop``,
    ``gate_<n>_ploop`` and the output ``gate_<n>_gate``; gateway ``gate_<n>`` with direction ``in`` for even
    and ``out`` for odd ``n``; all low and not inverted.

    Usage: ``IoSimulator(generate_example_states(8), emit=lambda m: client.send("io", m))``
    """
    states: dict[str, IoState] = {}
    for index in range(count):
        gate = index // 4
        kind, io_type = _KINDS[index % 4]
        pin = f"gate_{gate}_{kind}"
        gateway = Gateway(gate=f"gate_{gate}", direction=Direction.IN if gate % 2 == 0 else Direction.OUT)
        states[pin] = IoState(gateway=gateway, type=io_type, pin=pin, value=0, inverted=False, physical=0)
    return states


class IoSimulator:
    """Emits ``IoMessage``s through ``emit`` as an IO service would.

    The constructor emits the current state of every pin (``edge=1``); later calls change pins and emit the
    new state (``edge=1`` when the value changed, else ``0``). ``physical`` follows the value and inversion
    (the value, or its opposite when inverted).

    Usage::

        sim = IoSimulator(generate_example_states(), emit=lambda m: self.zmq_client.send("io", m))
        sim.set_pin_high("gate_0_button")
    """

    def __init__(self, states: dict[str, IoState], emit: Callable[[IoMessage], Any]) -> None:
        self.states = {pin: state.model_copy() for pin, state in states.items()}
        self.emit = emit
        for pin in self.states:
            self._emit(pin, edge=1)

    def get_pin_states(self) -> dict[str, IoState]:
        """The simulated state of every pin, in the order given to the constructor."""
        return self.states

    def _state(self, pin: str) -> IoState:
        try:
            return self.states[pin]
        except KeyError:
            raise KeyError(f"the simulator has no pin {pin!r} (pins: {', '.join(self.states)})") from None

    def _emit(self, pin: str, edge: int) -> IoMessage:
        state = self._state(pin)
        message = IoMessage(
            gateway=state.gateway,
            type=state.type,
            pin=state.pin,
            value=state.value,
            inverted=state.inverted,
            physical=state.physical,
            edge=edge,
        )
        self.emit(message)
        return message

    def _set(self, pin: str, value: int) -> IoMessage:
        state = self._state(pin)
        edge = 1 if state.value != value else 0
        state.value = value
        state.physical = _physical(value, state.inverted)
        return self._emit(pin, edge)

    def change_pin_state(self, pin: str) -> IoMessage:
        """Toggle ``pin`` (an edge)."""
        return self._set(pin, 1 - self._state(pin).value)

    #: The reference's spelling.
    change_pin_sate = change_pin_state

    def set_pin_high(self, pin: str) -> IoMessage:
        """Set ``pin`` to 1 (an edge only if it was 0)."""
        return self._set(pin, 1)

    def set_pin_low(self, pin: str) -> IoMessage:
        """Set ``pin`` to 0 (an edge only if it was 1)."""
        return self._set(pin, 0)

    def set_all_pins_high(self) -> None:
        for pin in self.states:
            self.set_pin_high(pin)

    def set_all_pins_low(self) -> None:
        for pin in self.states:
            self.set_pin_low(pin)

    def emit_current_pin_state(self, pin: str) -> IoMessage:
        """Repeat the state of ``pin`` (``edge=0``)."""
        return self._emit(pin, edge=0)

    def emit_custom_io_message(
        self,
        pin: str,
        value: int | None = None,
        physical: int | None = None,
        inverted: bool | None = None,
        edge: int | None = None,
    ) -> IoMessage:
        """Emit ``pin`` with the given fields (the others from its state) and keep them as its new state.

        ``edge`` defaults to 1 when the value changes, else 0; ``physical`` to what value and inversion imply.
        """
        state = self._state(pin)
        new_value = state.value if value is None else value
        new_inverted = state.inverted if inverted is None else inverted
        if edge is None:
            edge = 1 if new_value != state.value else 0
        state.value = new_value
        state.inverted = new_inverted
        state.physical = _physical(new_value, new_inverted) if physical is None else physical
        return self._emit(pin, edge)
