from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVarTuple

import zmq

Ts = TypeVarTuple("Ts")


class EventListener(list[Callable[..., Any]], Generic[*Ts]):
    """A list of callbacks; calling it calls each in order with the same arguments.

    Usage::

        on_message = EventListener(log=logger)
        on_message.append(print)
        core.messages.register_handler("topic", MessageClass, on_message)

    An exception of one callback is logged (``log.exception``) and the next one still runs, unless
    ``raise_exceptions``; ``zmq.ContextTerminated`` always propagates.
    """

    def __init__(
        self,
        *callbacks: Callable[..., Any],
        log: logging.Logger | None = None,
        raise_exceptions: bool = False,
    ) -> None:
        super().__init__(callbacks)
        self.log: Any = log or logging
        self.raise_exceptions = raise_exceptions

    def __call__(self, *args: *Ts) -> None:
        for callback in list(self):
            try:
                callback(*args)
            except zmq.ContextTerminated:
                raise
            except Exception:
                if self.raise_exceptions:
                    raise
                self.log.exception("error in event listener callback %r", callback)

    # A list compares by content; listeners are registered and removed by identity.
    __hash__ = object.__hash__  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EventListener({list.__repr__(self)})"
