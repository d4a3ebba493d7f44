"""The database models of this service. env.py migrates everything reachable from ``Base``: import every
module that defines models here (or in env.py).

Datetime columns must use TZDateTime (naive UTC); plain DateTime is rejected in DEBUG/TESTING.
"""

from __future__ import annotations

from openmodule.database import Base

__all__ = ["Base"]

# Example:
#
# from sqlalchemy import String
# from sqlalchemy.orm import Mapped, mapped_column
# from openmodule.database.custom_types import TZDateTime
#
# class Vehicle(Base):
#     __tablename__ = "vehicle"
#     id: Mapped[int] = mapped_column(primary_key=True)
#     plate: Mapped[str] = mapped_column(String(20))
#     seen = mapped_column(TZDateTime, nullable=True)
