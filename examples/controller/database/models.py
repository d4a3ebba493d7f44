"""The controller's database models. env.py migrates everything reachable from ``Base``.

Datetime columns use TZDateTime (naive UTC): plain DateTime is rejected in DEBUG/TESTING because SQLite
drops the offset.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from openmodule.database import Base
from openmodule.database.custom_types import TZDateTime

__all__ = ["Base", "ParkingSession"]


class ParkingSession(Base):
    """One vehicle's stay: opened on the presence enter, closed on the leave."""

    __tablename__ = "parking_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[str] = mapped_column(String(32), index=True)
    # personal data: set to None when the vehicle is anonymized
    plate: Mapped[str | None] = mapped_column(String(20), nullable=True)
    gate: Mapped[str] = mapped_column(String(50))
    access: Mapped[bool] = mapped_column(Boolean)
    customer: Mapped[str | None] = mapped_column(String(50), nullable=True)
    entry: Mapped[datetime] = mapped_column(TZDateTime)
    exit: Mapped[datetime | None] = mapped_column(TZDateTime, nullable=True)
