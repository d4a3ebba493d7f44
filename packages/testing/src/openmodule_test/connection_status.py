"""``ConnectionStatusMocker``: a stand-in for ``core().connection_listener`` driven by the test."""

from __future__ import annotations

import threading

from openmodule.connection_status import BridgeStatus, ConnectionRPCResponse, ConnectionStatus

__all__ = ["ConnectionStatusMocker"]


class ConnectionStatusMocker:
    """Reports whatever the test sets with ``change_status``.

    Usage::

        mocker = ConnectionStatusMocker(ConnectionRPCResponse(connected=ConnectionStatus.online))
        core.connection_listener = mocker
        mocker.change_status(ConnectionRPCResponse(connected=ConnectionStatus.offline))
    """

    def __init__(self, initial_status: ConnectionRPCResponse) -> None:
        self._cond = threading.Condition()
        self._current = initial_status
        self._previous = ConnectionRPCResponse(connected=ConnectionStatus.shutdown)
        self._changes = 0

    def get(self) -> ConnectionStatus:
        return self._current.connected

    def get_bridge(self) -> BridgeStatus | None:
        return self._current.bridge_status

    @property
    def previous(self) -> ConnectionStatus:
        return self._previous.connected

    @property
    def previous_bridge(self) -> BridgeStatus | None:
        return self._previous.bridge_status

    def change_status(self, status: ConnectionRPCResponse) -> None:
        """Make ``status`` current (the current one becomes ``previous``) and wake every waiter."""
        with self._cond:
            self._previous, self._current = self._current, status
            self._changes += 1
            self._cond.notify_all()

    def wait_for_change(self, timeout: float | None = None) -> bool:
        with self._cond:
            start = self._changes
            return self._cond.wait_for(lambda: self._changes != start, timeout)

    def check_timeout(self) -> None:
        """No-op: the mock never times out."""
