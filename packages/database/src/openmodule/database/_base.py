from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

#: constraint names SQLite batch migrations can find again (unnamed constraints cannot be dropped/altered)
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def declarative_base(**kwargs: Any) -> Any:
    """A new declarative base class with its own ``MetaData`` using ``NAMING_CONVENTION``.

    Usage::

        Base = declarative_base()

        class Vehicle(Base):
            __tablename__ = "vehicle"
            id: Mapped[int] = mapped_column(primary_key=True)
    """
    metadata = kwargs.pop("metadata", None) or MetaData(naming_convention=NAMING_CONVENTION)
    return type("Base", (DeclarativeBase,), {"metadata": metadata, "__abstract__": True, **kwargs})


class Base(DeclarativeBase):
    """The declarative base of a service's models (one per service process; use ``declarative_base()`` for
    more independent model sets, e.g. in tests).

    Usage: ``class Vehicle(Base): ...`` and ``run_env_py([Base])`` in env.py
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
