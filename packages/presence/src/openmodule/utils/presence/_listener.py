from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from openmodule.dispatcher import EventListener, MessageDispatcher
from openmodule.messaging import RPCCaller, running_core
from openmodule.models.base import Gateway
from openmodule.models.presence import (
    PresenceBackwardMessage,
    PresenceBaseData,
    PresenceBaseMessage,
    PresenceChangeMessage,
    PresenceEnterMessage,
    PresenceForwardMessage,
    PresenceLeaveMessage,
    PresenceRPCRequest,
    PresenceRPCResponse,
    vehicle_from_presence_message,
)
from openmodule.models.vehicle import Vehicle
from openmodule.utils.charset import CharsetConverter, legacy_lpr_charset

log = logging.getLogger("openmodule.utils.presence")

RETENTION = 3600.0
"""Seconds a left or dropped vehicle id, and the de-duplication data of a left vehicle, are remembered (late
forward/backward, later messages of dropped ids). A dropped vehicle whose leave never comes is forgotten after
this time too."""

MAX_LEFT_PER_GATE = 1_000
"""Upper bound of remembered left vehicles per gate (``last_vehicle_data``)."""

MAX_REMEMBERED = 10_000
"""Upper bound of remembered ids per kind, so a tracking service that never sends forward/backward cannot
grow the listener's memory."""

_clean = CharsetConverter(legacy_lpr_charset).clean


class _Expiring:
    """Vehicle ids with an expiry (monotonic seconds) and an optional note, oldest first; bounded in age and
    count."""

    def __init__(self, retention: float) -> None:
        self.retention = retention
        self._items: OrderedDict[int, tuple[float, Any]] = OrderedDict()

    def add(self, key: int, note: Any = None) -> None:
        self._items.pop(key, None)
        self._items[key] = (time.monotonic() + self.retention, note)
        while len(self._items) > MAX_REMEMBERED:
            self._items.popitem(last=False)

    def discard(self, key: int) -> None:
        self._items.pop(key, None)

    def note(self, key: int) -> Any:
        """The note stored with ``key`` (``None`` if there is none or the key is not remembered)."""
        self.prune()
        item = self._items.get(key)
        return None if item is None else item[1]

    def __contains__(self, key: object) -> bool:
        self.prune()
        return key in self._items

    def __iter__(self) -> Iterator[int]:
        self.prune()
        return iter(list(self._items))

    def __len__(self) -> int:
        self.prune()
        return len(self._items)

    def prune(self) -> None:
        now = time.monotonic()
        while self._items:
            key, (expiry, _note) = next(iter(self._items.items()))
            if expiry > now:
                break
            del self._items[key]


@dataclass
class _Present:
    vehicle: Vehicle
    gateway: Gateway
    area: str


@dataclass
class _Left:
    """What de-duplication remembers of a vehicle that left a gate (``last_vehicle_data[gate]``)."""

    area: str
    plate: str
    has_media: bool
    left_at: float  # monotonic seconds


# why a vehicle id is in the drop list
_DUPLICATE = "duplicate"  # seen by a second camera on arrival: a later change with new media is judged again
_REPLACED = "replaced"  # was present, then replaced by the other camera's view of it: dropped for good


class PresenceListener:
    """Tracks the vehicle present at each gate from ``presence`` messages and calls the event listeners.

    ``dispatcher``: a single-threaded dispatcher (``core.messages``; ordering matters). ``gate``: only this
    gate (``None``: all gates). ``rpc_client``: used by :meth:`init_present_vehicles` (``core.rpc_client``).
    Callbacks get ``(vehicle, gateway)``.

    De-duplication (lanes watched by several cameras, each its own present area): a vehicle from a second area
    of a gate while another is present is dropped, unless it has media and the present one has none (then the
    present one leaves and is dropped from then on); after a leave, a vehicle from another area without media
    or with the same plate (legacy charset) within ``deduplication_timeout`` is dropped. Every later message of
    a dropped vehicle is dropped, except a ``change`` of one dropped on arrival, which is judged again with
    its new media. ``drop_list`` holds the dropped ids, ``last_vehicle_data[gate]`` the left vehicles; both
    forget after :data:`RETENTION`.

    Usage::

        presence = PresenceListener(core.messages, gate="gate_in", rpc_client=core.rpc_client)
        presence.on_enter.append(lambda vehicle, gateway: ...)
        presence.init_present_vehicles()
    """

    def __init__(
        self,
        dispatcher: MessageDispatcher,
        gate: str | None = None,
        deduplication_timeout: timedelta = timedelta(seconds=10),
        *,
        rpc_client: RPCCaller | None = None,
    ) -> None:
        assert not getattr(dispatcher, "is_multi_threaded", False), (
            "PresenceListener needs a single-threaded dispatcher: presence messages must be handled in order"
        )
        self.dispatcher = dispatcher
        self.gate = gate
        self.deduplication_timeout = deduplication_timeout
        self.rpc_client = rpc_client
        self.log = log
        self.on_enter: EventListener[Vehicle, Gateway] = EventListener(log=log)
        self.on_forward: EventListener[Vehicle, Gateway] = EventListener(log=log)
        self.on_backward: EventListener[Vehicle, Gateway] = EventListener(log=log)
        self.on_leave: EventListener[Vehicle, Gateway] = EventListener(log=log)
        self.on_change: EventListener[Vehicle, Gateway] = EventListener(log=log)
        self.present_vehicles: dict[str, Vehicle] = {}
        self._present: dict[str, _Present] = {}  # gateway and area of the vehicles in present_vehicles
        self._gateways: dict[str, Gateway] = {}  # the last gateway seen per gate
        self.last_vehicle_data: dict[str, list[_Left]] = {}
        # per instance and expiring (the reference shared one never-pruned set between all listeners)
        self.waiting_for_forward_backward = _Expiring(RETENTION)
        self.drop_list = _Expiring(RETENTION)
        self._left_ids = _Expiring(RETENTION)  # recognizes late duplicate leaves
        self._lock = threading.RLock()  # init_present_vehicles may run beside the message thread
        self._handles = [
            dispatcher.register_handler("presence", PresenceEnterMessage, self._on_enter_message),
            dispatcher.register_handler("presence", PresenceLeaveMessage, self._on_leave_message),
            dispatcher.register_handler("presence", PresenceForwardMessage, self._on_forward_message),
            dispatcher.register_handler("presence", PresenceBackwardMessage, self._on_backward_message),
            dispatcher.register_handler("presence", PresenceChangeMessage, self._on_change_message),
        ]

    def close(self) -> None:
        """Unregister the handlers."""
        for handle in self._handles:
            self.dispatcher.unregister_handler(handle)
        self._handles = []

    @property
    def dropped_vehicles(self) -> _Expiring:
        """The ids of de-duplicated vehicles (an alias of ``drop_list``)."""
        return self.drop_list

    @property
    def present_vehicle(self) -> Vehicle | None:
        """The vehicle at this listener's gate (only with a fixed ``gate``)."""
        assert self.gate is not None, (
            "present_vehicle needs a PresenceListener with a fixed gate: without one please access the present "
            "vehicle per gate, present_vehicles[gate]"
        )
        return self.present_vehicles.get(self.gate)

    def init_present_vehicles(
        self, rpc_client: RPCCaller | None = None, timeout: float | None = None
    ) -> None:
        """Ask the tracking service (``tracking``/``get-present``) who is present; the first is an enter.

        The client is ``rpc_client``, else the one given to the constructor, else the running core's
        ``rpc_client``. Errors are logged; the listener then starts empty.
        """
        assert self.gate is not None, (
            "init_present_vehicles only works if the gate is set: PresenceListener(dispatcher, gate=...)"
        )
        client = rpc_client or self.rpc_client
        if client is None:
            client = running_core("PresenceListener.init_present_vehicles() without an rpc_client").rpc_client
        try:
            response = client.rpc(
                "tracking",
                "get-present",
                PresenceRPCRequest(gate=self.gate),
                PresenceRPCResponse,
                timeout=timeout,
            )
        except Exception:
            self.log.exception("could not get the present vehicles of gate %s from tracking", self.gate)
            return
        if response.presents:
            self._process_enter(response.presents[0], "init")

    # -- message handlers ---------------------------------------------------------------------------

    def _accepts(self, message: PresenceBaseMessage) -> bool:
        if self.gate is not None and message.gateway.gate != self.gate:
            self.log.debug(
                "ignoring %s of gate %r (listening to %r)", message.type, message.gateway.gate, self.gate
            )
            return False
        return True

    def _on_enter_message(self, message: PresenceEnterMessage) -> None:
        """A vehicle entered the presence area of a gate."""
        if self._accepts(message):
            self._process_enter(message, "enter")

    def _on_leave_message(self, message: PresenceLeaveMessage) -> None:
        """The present vehicle left the presence area of a gate."""
        if not self._accepts(message):
            return
        with self._lock:
            if self._drop(message, "leave"):
                return
            present = self._current(message.gateway.gate)
            if present is None:
                self.log.error(
                    "leave of vehicle %s at gate %s, but no vehicle is present. The leave will be ignored.",
                    message.vehicle_id,
                    message.gateway.gate,
                )
                return
            if present.vehicle.id != message.vehicle_id:
                if message.vehicle_id in self._left_ids:
                    self.log.warning(
                        "late leave of vehicle %s, which already left gate %s: ignored",
                        message.vehicle_id,
                        message.gateway.gate,
                    )
                    return
                # the reference emitted on_leave with the leaving vehicle; keep the enter/leave pairs intact
                self.log.error(
                    "leave of vehicle %s at gate %s where %s is present. We are fake-leaving the currently "
                    "present vehicle.",
                    message.vehicle_id,
                    message.gateway.gate,
                    present.vehicle,
                )
            self._leave(message.gateway.gate)

    def _on_forward_message(self, message: PresenceForwardMessage) -> None:
        """A vehicle passed the gate in its direction."""
        self._process_direction(message, self.on_forward)

    def _on_backward_message(self, message: PresenceBackwardMessage) -> None:
        """A vehicle backed out of the gate."""
        self._process_direction(message, self.on_backward)

    def _on_change_message(self, message: PresenceChangeMessage) -> None:
        """The media of the present vehicle changed."""
        if not self._accepts(message):
            return
        with self._lock:
            if self._drop(message, "change"):
                return
            gate = message.gateway.gate
            vehicle = vehicle_from_presence_message(message)
            present = self._current(gate)
            if present is not None and present.vehicle.id != message.vehicle_id:
                self._leave(gate)
                present = None
            self._store(message, vehicle)
            if present is not None:
                self.on_change(vehicle, message.gateway)
            else:
                self.log.warning(
                    "change of vehicle %s at gate %s which was not present: treated as enter",
                    message.vehicle_id,
                    gate,
                )
                self.on_enter(vehicle, message.gateway)

    # -- processing ---------------------------------------------------------------------------------

    def _process_enter(self, message: PresenceBaseData, kind: str) -> None:
        with self._lock:
            if self._drop(message, kind):
                return
            gate = message.gateway.gate
            if self._current(gate) is not None:
                # an enter while a vehicle is present: its leave never came, synthesize it first
                self.log.warning(
                    "%s of vehicle %s at gate %s while %s is present. A leave will be faked for it first.",
                    kind,
                    message.vehicle_id,
                    gate,
                    self.present_vehicles[gate],
                )
                self._leave(gate)
            vehicle = vehicle_from_presence_message(message)
            self._store(message, vehicle)
            self.on_enter(vehicle, message.gateway)

    def _process_direction(
        self,
        message: PresenceForwardMessage | PresenceBackwardMessage,
        event: EventListener[Vehicle, Gateway],
    ) -> None:
        if not self._accepts(message):
            return
        with self._lock:
            if message.vehicle_id in self.drop_list:
                # forward/backward is the last message of a vehicle: nothing of it is left to drop
                self.drop_list.discard(message.vehicle_id)
                self.log.debug("dropping %s of deduplicated vehicle %s", message.type, message.vehicle_id)
                return
            present = self._current(message.gateway.gate)
            if present is not None and present.vehicle.id == message.vehicle_id:
                self._leave(message.gateway.gate)  # forward/backward before the leave: leave first
            self.waiting_for_forward_backward.discard(message.vehicle_id)
            event(vehicle_from_presence_message(message), message.gateway)

    def _current(self, gate: str) -> _Present | None:
        """The present vehicle of ``gate``. ``present_vehicles`` is what counts: a test or service may reset
        or edit it (``listener.present_vehicles = {}``), and the listener follows."""
        vehicle = self.present_vehicles.get(gate)
        present = self._present.get(gate)
        if vehicle is None:
            if present is not None:
                del self._present[gate]
            return None
        if present is None or present.vehicle is not vehicle:
            # put there from outside: no present area known, the gate's last gateway stands in
            gateway = present.gateway if present is not None else self._gateways.get(gate, Gateway(gate=gate))
            present = self._present[gate] = _Present(vehicle, gateway, "")
        return present

    def _store(self, message: PresenceBaseData, vehicle: Vehicle) -> None:
        gate = message.gateway.gate
        self._gateways[gate] = message.gateway
        self._present[gate] = _Present(vehicle, message.gateway, message.present_area_name)
        self.present_vehicles[gate] = vehicle

    def _leave(self, gate: str) -> None:
        """The single leave path (real and synthesized): state, bookkeeping, then ``on_leave``."""
        present = self._current(gate)
        assert present is not None
        self._present.pop(gate, None)
        self.present_vehicles.pop(gate, None)
        self.waiting_for_forward_backward.add(present.vehicle.id)
        self._left_ids.add(present.vehicle.id)
        now = time.monotonic()
        keep = max(RETENTION, self.deduplication_timeout.total_seconds())
        left = [entry for entry in self.last_vehicle_data.get(gate, []) if now - entry.left_at < keep]
        left.append(
            _Left(
                present.area,
                _clean(present.vehicle.lpr.id) if present.vehicle.lpr else "",
                present.vehicle.has_media(),
                now,
            )
        )
        self.last_vehicle_data[gate] = left[-MAX_LEFT_PER_GATE:]
        self.on_leave(present.vehicle, present.gateway)

    def _drop(self, message: PresenceBaseData, kind: str) -> bool:
        """De-duplication across the present areas of one gate; True if ``message`` is to be dropped."""
        vehicle_id = message.vehicle_id
        gate, area = message.gateway.gate, message.present_area_name
        present = self._current(gate)
        if present is not None and present.vehicle.id == vehicle_id:
            return False
        if vehicle_id in self.drop_list:
            if kind != "change" or self.drop_list.note(vehicle_id) != _DUPLICATE:
                self.log.debug("dropping %s of deduplicated vehicle %s", kind, vehicle_id)
                self.drop_list.add(
                    vehicle_id, self.drop_list.note(vehicle_id)
                )  # still around: remember longer
                return True
            # dropped on arrival, and now it has other media: it may be another vehicle after all
            self.drop_list.discard(vehicle_id)
        if kind not in ("enter", "change", "init"):
            return False
        vehicle = vehicle_from_presence_message(message)
        if present is not None and present.area and present.area != area:  # "": put there from outside
            if vehicle.has_media() and not present.vehicle.has_media():
                self.log.info(
                    "vehicle %s of area %s replaces %s without media at gate %s",
                    vehicle,
                    area,
                    present.vehicle,
                    gate,
                )
                replaced = present.vehicle.id
                self._leave(gate)
                # the other camera's view of the same vehicle: nothing more of it may reach the listeners
                self.waiting_for_forward_backward.discard(replaced)
                self.drop_list.add(replaced, _REPLACED)
                return False
            return self._remember_drop(
                vehicle_id,
                f"{kind} of {vehicle} at gate {gate} from area {area}: "
                f"{present.vehicle} of area {present.area} is present",
            )
        now = time.monotonic()
        timeout = self.deduplication_timeout.total_seconds()
        plate = _clean(vehicle.lpr.id) if vehicle.lpr else ""
        for entry in self.last_vehicle_data.get(gate, []):
            if now - entry.left_at > timeout or entry.area == area:
                continue
            if not vehicle.has_media() or (plate and plate == entry.plate):
                return self._remember_drop(
                    vehicle_id,
                    f"{kind} of {vehicle} at gate {gate} from area {area}: "
                    f"the same vehicle just left area {entry.area}",
                )
        return False

    def _remember_drop(self, vehicle_id: int, reason: str) -> bool:
        self.drop_list.add(vehicle_id, _DUPLICATE)
        self.log.info("deduplicated %s", reason)
        return True
