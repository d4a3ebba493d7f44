"""Models of access checks (RPC ``access_service``/``auth``) and parking sessions (topic ``session``).

Usage::

    from openmodule.models.access_service import AccessCheckRequest, AccessCheckResponse
    request = AccessCheckRequest(name="om_access_db_1", gate="gate_in", vehicle={"lpr": {"id": "GARIVO1"}})
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from dateutil import tz as _tz
from dateutil.rrule import rrule, rrulestr
from pydantic import Field, model_validator

from openmodule.models.base import Datetime, OpenModuleModel, ZMQMessage, utcnow
from openmodule.models.vehicle import LPRMedium, MakeModel, Medium

__all__ = [
    "AccessCategory",
    "AccessCheckAccess",
    "AccessCheckRejectReason",
    "AccessCheckRequest",
    "AccessCheckResponse",
    "AccessCheckResponseError",
    "AccessRequestVehicle",
    "AccessTime",
    "BaseSessionMessage",
    "SessionDeleteMessage",
    "SessionExitWithoutEntryMessage",
    "SessionFinishMessage",
    "SessionIncompleteMessage",
    "SessionStartMessage",
]


class AccessCategory(StrEnum):
    whitelist = "whitelist"
    booked = "booked"
    permanent = "permanent"
    shortterm = "shortterm"
    unknown = "unknown"


class AccessRequestVehicle(OpenModuleModel):
    lpr: LPRMedium | None = None
    qr: Medium | None = None
    pin: Medium | None = None
    nfc: Medium | None = None
    make_model: MakeModel | None = None


class AccessCheckRequest(OpenModuleModel):
    """Request of ``access_service``/``auth``: ``name`` is the asked access service, ``gate=None`` any gate."""

    name: str
    gate: str | None = None
    vehicle: AccessRequestVehicle
    timestamp: Datetime = Field(default_factory=utcnow)


class AccessCheckResponseError(StrEnum):
    offline = "offline"
    error = "error"


class AccessCheckRejectReason(StrEnum):
    wrong_gate = "wrong_gate"
    wrong_time = "wrong_time"
    anti_passback = "anti_passback"
    group_full = "group_full"
    limit_reached = "limit_reached"
    custom = "custom"


class AccessCheckAccess(OpenModuleModel):
    """One access found for the vehicle, accepted or with the reason it was rejected."""

    id: str
    group_id: str | None = None
    group_limit: int | None = None
    customer_id: str | None = None
    car_id: str | None = None
    source: str
    access_infos: dict[str, Any]
    parksettings_id: str | None = None
    clearing: str | None = None
    category: AccessCategory
    media: dict[str, Any]
    used_medium: Medium
    access_data: dict[str, Any]
    accepted: bool
    reject_reason: AccessCheckRejectReason | None = None
    decision_info: str | None = None


class AccessCheckResponse(OpenModuleModel):
    success: bool
    error: AccessCheckResponseError | None = None
    accesses: list[AccessCheckAccess] = []


# -- sessions ---------------------------------------------------------------------------------------


class BaseSessionMessage(ZMQMessage):
    """A parking-session event on topic ``session``; ``access_id`` is ``user_id`` on the wire.

    ``message.timestamp`` (Python access) is the event time (entry, exit or delete time); the wire keeps the
    send time of the ZMQ message.
    """

    id: str
    access_id: str = Field(alias="user_id")
    access_infos: dict[str, Any] | None = None
    group_id: str | None = None
    customer_id: str | None = None
    car_id: str | None = None
    parking_area_id: str | None = None

    def _event_time(self) -> datetime:
        return self.__dict__["timestamp"]  # type: ignore[no-any-return]


class SessionStartMessage(BaseSessionMessage):
    type: str = "start"
    cost_table: Any = None
    entry_time: Datetime
    entry_data: dict[str, Any]

    def _event_time(self) -> datetime:
        return self.entry_time


class SessionFinishMessage(BaseSessionMessage):
    type: str = "finish"
    entry_time: Datetime
    entry_data: dict[str, Any]
    exit_time: Datetime
    exit_data: dict[str, Any]

    def _event_time(self) -> datetime:
        return self.exit_time


class SessionDeleteMessage(BaseSessionMessage):
    type: str = "delete"
    reason: str
    delete_time: Datetime
    entry_time: Datetime | None = None
    entry_data: dict[str, Any] | None = None
    exit_time: Datetime | None = None
    exit_data: dict[str, Any] | None = None

    def _event_time(self) -> datetime:
        return self.delete_time


class SessionExitWithoutEntryMessage(BaseSessionMessage):
    type: str = "exit_without_entry"
    exit_time: Datetime
    exit_data: dict[str, Any]

    def _event_time(self) -> datetime:
        return self.exit_time


class SessionIncompleteMessage(BaseSessionMessage):
    type: str = "incomplete"
    related_session_id: str
    entry_time: Datetime
    entry_data: dict[str, Any]

    def _event_time(self) -> datetime:
        return self.entry_time


# Assigned after class creation: pydantic refuses an attribute that overrides a field in the class body.
# Field values live in the instance __dict__, so validation and model_dump() still see the send time.
BaseSessionMessage.timestamp = property(  # type: ignore[assignment]
    lambda self: self._event_time(), doc="The event time of the session message."
)


# -- access times -----------------------------------------------------------------------------------


def _zone(timezone: tzinfo | str) -> tzinfo:
    if isinstance(timezone, str):
        zone: tzinfo | None = _tz.gettz(timezone)
        if zone is None:
            raise ValueError(f"unknown timezone {timezone!r}")
        return zone
    return timezone


class AccessTime(OpenModuleModel):
    """When an access is valid: ``[start, end]`` (open ends allowed) and optionally a recurrence.

    ``recurrence`` is RFC 5545 text with a ``DTSTART`` line (UTC) and a rule line; it needs ``duration``
    (seconds), the length of each occurrence.

    Usage::

        t = AccessTime(recurrence="DTSTART:20240101T070000\\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU", duration=3600)
        t.is_valid_at(datetime(2024, 1, 8, 7, 30), "Europe/Vienna")
    """

    start: Datetime | None = None
    end: Datetime | None = None
    duration: int | None = None
    recurrence: str | None = None

    @model_validator(mode="after")
    def _check_recurrence(self) -> AccessTime:
        if self.recurrence is not None:
            if "DTSTART" not in self.recurrence or "\n" not in self.recurrence.strip():
                raise ValueError("recurrence needs a DTSTART line and a rule line separated by a newline")
            if self.duration is None:
                raise ValueError("recurrence requires duration (seconds)")
            try:
                rrulestr(self.recurrence)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"recurrence is not a valid RFC 5545 rule: {exc}") from None
        return self

    def is_valid_at(self, dt: datetime, timezone: tzinfo | str) -> bool:
        """Whether ``dt`` (naive = UTC) is within start/end and, with a recurrence, inside an occurrence
        evaluated in the local wall time of ``timezone``."""
        utc = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
        naive_utc = utc.replace(tzinfo=None)
        if self.start is not None and naive_utc < self.start:
            return False
        if self.end is not None and naive_utc > self.end:
            return False
        if self.recurrence is None:
            return True
        zone = _zone(timezone)
        local = utc.astimezone(zone).replace(tzinfo=None)
        rule = self._local_rule(zone)
        occurrence: datetime | None = rule.before(local, inc=True)  # dateutil is untyped
        if occurrence is None:
            return False
        window_end = occurrence + timedelta(seconds=self.duration or 0)
        # a DST change inside the window shifts wall time: widen the window by the offset difference
        before = zone.utcoffset(occurrence) or timedelta(0)
        after = zone.utcoffset(window_end) or timedelta(0)
        window_end += abs(after - before)
        return occurrence <= local < window_end

    def _local_rule(self, zone: tzinfo) -> rrule:
        assert self.recurrence is not None
        lines = [line.strip() for line in self.recurrence.strip().splitlines() if line.strip()]
        dtstart_lines = [line for line in lines if line.upper().startswith("DTSTART")]
        rule_lines = [line for line in lines if not line.upper().startswith("DTSTART")]
        parsed = rrulestr(dtstart_lines[0] + "\n" + rule_lines[0])
        start = parsed._dtstart
        start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
        local_start = start.astimezone(zone).replace(tzinfo=None)
        return rrulestr("\n".join(rule_lines), dtstart=local_start)
