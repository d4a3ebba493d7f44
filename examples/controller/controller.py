"""Controller service: turns presence events into parking sessions.

* listens to ``presence`` (``PresenceListener``): on enter it asks the gate (RPC ``gate``/``access_check``),
  opens a session in its SQLite database (``database/``, migrated by alembic) and announces it on ``session``;
  on leave it closes the session;
* raises the alert ``unknown_vehicle`` while a vehicle without access stands at the gate, clears it when it
  leaves;
* answers health pings with the number of open sessions;
* on a ``demo``/``finish`` message: writes a CSV export of the closed sessions (``openmodule.utils.csv_export``)
  and anonymizes them (``AnonymizeMessage`` on ``privacy``; its own handler deletes the plates).

Run it (configured from the environment: NAME, BROKER_SUB, BROKER_PUB, DATABASE_FOLDER, EXPORT_DIR)::

    python examples/controller/controller.py
"""

from __future__ import annotations

import os
import sys
import time
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # database/ (models + migrations) sits next to this file

from database.models import ParkingSession  # noqa: E402
from sqlalchemy import select  # noqa: E402

from openmodule.alert import AlertHandleType, AlertStatus  # noqa: E402
from openmodule.config import settings  # noqa: E402
from openmodule.core import OpenModuleCore, init_openmodule, shutdown_openmodule  # noqa: E402
from openmodule.database import Database  # noqa: E402
from openmodule.health import HealthResult, health_ok  # noqa: E402
from openmodule.models.base import Gateway, OpenModuleModel, ZMQMessage  # noqa: E402
from openmodule.models.privacy import AnonymizeMessage  # noqa: E402
from openmodule.models.vehicle import Vehicle  # noqa: E402
from openmodule.rpc import RPCClient  # noqa: E402
from openmodule.utils.csv_export import ColumnDefinition, CsvFormatType, render  # noqa: E402
from openmodule.utils.presence import PresenceListener  # noqa: E402
from openmodule.utils.privacy import register_anonymize_handler  # noqa: E402

ALEMBIC_PATH = str(HERE / "database")


# The gate's RPC models. Services share models by copying them (or through a small shared package): the
# wire format is the contract, not the Python class.
class AccessCheckRequest(OpenModuleModel):
    plate: str
    country: str = "A"
    gate: str = ""


class AccessCheckResponse(OpenModuleModel):
    access: bool
    matched_plate: str | None = None
    customer: str | None = None


class SessionMessage(ZMQMessage):
    """Published on topic ``session``: ``started``, ``finished``, ``exported``, ``anonymized``."""

    vehicle_id: str | None = None
    access: bool | None = None
    customer: str | None = None
    rpc_ms: float | None = None
    seconds: float | None = None
    rows: int | None = None
    path: str | None = None
    records: int | None = None


class FinishMessage(ZMQMessage):
    """``demo``/``finish``: export and anonymize the closed sessions."""

    type: str = "finish"


EXPORT_COLUMNS = [
    ColumnDefinition("Garage", "", CsvFormatType.static_text, default_value="Demo garage"),
    ColumnDefinition("Session", "id", CsvFormatType.number),
    ColumnDefinition("Gate", "gate", CsvFormatType.string),
    ColumnDefinition("Entry", "entry", CsvFormatType.datetime),
    ColumnDefinition("Exit", "exit", CsvFormatType.datetime),
    ColumnDefinition("Parked", "parked", CsvFormatType.duration),
    ColumnDefinition("Access", "access", CsvFormatType.string),
    ColumnDefinition("Customer", "customer", CsvFormatType.string, default_value="-"),
]


def utcnow() -> datetime:
    """Naive UTC, as TZDateTime columns want it."""
    return datetime.now(UTC).replace(tzinfo=None)


class Controller:
    """The controller's logic on top of a running core and an open database.

    Usage: ``Controller(init_openmodule(settings), database, export_dir="/tmp/exports")``
    """

    def __init__(self, om: OpenModuleCore, database: Database, export_dir: str) -> None:
        self.core = om
        self.database = database
        self.export_dir = Path(export_dir)
        self.denied_present: set[str] = set()
        self.alert_id = om.alerts.get_or_add_alert_id("unknown_vehicle", AlertHandleType.state_change)
        # The listener keeps the per-gate state (dedup, synthesized leaves); we only get clean events.
        self.presence = PresenceListener(om.messages, rpc_client=om.rpc_client)
        self.presence.on_enter.append(self.on_enter)
        self.presence.on_leave.append(self.on_leave)
        self.anonymizer = register_anonymize_handler(om.messages, self.anonymize)
        om.messages.register_handler("demo", FinishMessage, self.on_finish)

    def _announce(self, type: str, **fields: Any) -> None:
        self.core.publish(SessionMessage(name=settings.NAME, type=type, **fields), "session")

    def on_enter(self, vehicle: Vehicle, gateway: Gateway) -> None:
        """A vehicle arrived: ask the gate, open a session."""
        plate = vehicle.lpr.id if vehicle.lpr else ""
        started = time.monotonic()
        try:
            answer = self.core.rpc_client.rpc(
                "gate",
                "access_check",
                AccessCheckRequest(plate=plate, gate=gateway.gate),
                AccessCheckResponse,
                timeout=5,
            )
        except RPCClient.Exception as exc:  # gate down or broken: deny, but keep the session
            self.core.alerts.send("gate_unreachable", AlertHandleType.state_change, meta={"error": str(exc)})
            answer = AccessCheckResponse(access=False)
        rpc_ms = (time.monotonic() - started) * 1000
        with self.database as session:
            session.add(
                ParkingSession(
                    vehicle_id=str(vehicle.id),
                    plate=plate,
                    gate=gateway.gate,
                    access=answer.access,
                    customer=answer.customer,
                    entry=utcnow(),
                )
            )
        if not answer.access:
            self.denied_present.add(str(vehicle.id))
            self.core.alerts.send_with_alert_id(
                self.alert_id, AlertStatus.error, {"vehicle_id": str(vehicle.id)}
            )
        self._announce(
            "started",
            vehicle_id=str(vehicle.id),
            access=answer.access,
            customer=answer.customer,
            rpc_ms=round(rpc_ms, 2),
        )

    def on_leave(self, vehicle: Vehicle, gateway: Gateway) -> None:
        """The vehicle left: close its session; clear the alert when the stranger is gone."""
        with self.database as session:
            row = session.scalars(
                select(ParkingSession).where(
                    ParkingSession.vehicle_id == str(vehicle.id), ParkingSession.exit.is_(None)
                )
            ).first()
            seconds = None
            if row is not None:
                row.exit = utcnow()
                seconds = (row.exit - row.entry).total_seconds()
        if str(vehicle.id) in self.denied_present:
            self.denied_present.discard(str(vehicle.id))
            if not self.denied_present:
                self.core.alerts.send_with_alert_id(
                    self.alert_id, AlertStatus.ok, {"vehicle_id": str(vehicle.id)}
                )
        self._announce("finished", vehicle_id=str(vehicle.id), seconds=seconds)

    def export(self) -> tuple[Path, int]:
        """Write the closed sessions to ``<export_dir>/sessions-<date>.csv``; returns (path, rows)."""
        self.export_dir.mkdir(parents=True, exist_ok=True)
        path = self.export_dir / f"sessions-{utcnow():%Y-%m-%d}.csv"
        with self.database as session:
            rows = [
                dict(
                    id=r.id,
                    gate=r.gate,
                    entry=r.entry,
                    exit=r.exit,
                    parked=r.exit - r.entry,
                    access="yes" if r.access else "no",
                    customer=r.customer,
                )
                for r in session.scalars(select(ParkingSession).where(ParkingSession.exit.is_not(None)))
            ]
        with open(path, "wb") as f:
            render(f, rows, EXPORT_COLUMNS, timezone="Europe/Vienna")
        return path, len(rows)

    def anonymize(self, message: AnonymizeMessage) -> int:
        """Deletes the plates of anonymized vehicles; returns how many sessions changed."""
        with self.database as session:
            rows = session.scalars(
                select(ParkingSession).where(
                    ParkingSession.vehicle_id.in_(message.vehicle_ids), ParkingSession.plate.is_not(None)
                )
            ).all()
            for row in rows:
                row.plate = None
        self._announce("anonymized", records=len(rows))
        return len(rows)

    def on_finish(self, message: FinishMessage) -> None:
        """Export, then trigger the anonymization of every closed session (flow 1 of docs/privacy.md)."""
        path, rows = self.export()
        self._announce("exported", rows=rows, path=str(path))
        with self.database as session:
            vehicle_ids = list(
                session.scalars(select(ParkingSession.vehicle_id).where(ParkingSession.exit.is_not(None)))
            )
        self.core.publish(AnonymizeMessage(name=settings.NAME, vehicle_ids=vehicle_ids), "privacy")

    def open_sessions(self) -> int:
        with self.database as session:
            return len(session.scalars(select(ParkingSession.id).where(ParkingSession.exit.is_(None))).all())

    def health(self) -> HealthResult:
        """Reported with every health pong."""
        return health_ok(meta={"open_sessions": self.open_sessions()})


def main() -> None:
    if not settings.configured:
        settings.configure(types.ModuleType("config"))  # everything from the environment
    om = init_openmodule(settings, dsgvo=False, sentry=False)
    database = None
    try:  # from here on SIGTERM arrives as KeyboardInterrupt
        database = Database(settings.DATABASE_FOLDER, settings.NAME, alembic_path=ALEMBIC_PATH)
        controller = Controller(om, database, os.environ.get("EXPORT_DIR", settings.DATABASE_FOLDER))
        om.health.health_handler = controller.health
        print(f"READY {settings.NAME} pid={os.getpid()}", flush=True)
        while True:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        shutdown_openmodule()  # stops the loops first: no handler touches the database afterwards
        if database is not None:
            database.shutdown()


if __name__ == "__main__":
    main()
