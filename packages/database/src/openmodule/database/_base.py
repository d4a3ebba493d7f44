from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, DeclarativeMeta

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


def allow_legacy_annotations() -> None:
    """Let models declared 1.4-style on SQLAlchemy's legacy ``declarative_base()`` map under SQLAlchemy 2.

    SQLAlchemy 1.4 ignored plain annotations (``children: List["Child"] = relationship(...)``); 2.0 refuses
    them unless the class or a base sets ``__allow_unmapped__``. Services and their tests written for the
    1.4 line declare exactly such models on ``sqlalchemy.orm.declarative_base()``, so the flag is set on
    the metaclass of those legacy bases (``DeclarativeMeta``): a class attribute of the same name on a base
    or model still wins, and 2.0-style ``DeclarativeBase`` classes (``Base`` here) keep rejecting a plain
    annotation, which there is a mistake. Applied when ``openmodule.database`` is imported and when the
    ``openmodule_test`` pytest plugin loads; calling it again is harmless.

    Usage: ``allow_legacy_annotations()`` before importing 1.4-style models without importing openmodule.database
    """
    if "__allow_unmapped__" not in DeclarativeMeta.__dict__:
        # a metaclass attribute is what getattr(model, "__allow_unmapped__") falls back to when no class in
        # the model's MRO defines it, so explicit settings on a base or model are left untouched
        DeclarativeMeta.__allow_unmapped__ = True  # type: ignore[attr-defined]
